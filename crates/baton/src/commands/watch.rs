//! `baton watch`: the namespace live — a redrawn view on a terminal, one line per change
//! otherwise (for logs and scripts).

use crate::context::Context;
use crate::error::CliResult;
use std::io::IsTerminal;
use tokio::signal::unix::{signal, SignalKind};

pub async fn run(ctx: &mut Context) -> CliResult {
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|e| baton_core::Error::io("installing signal handlers", e))?;
    let store = ctx.store().await?;
    let stdout = std::io::stdout();
    let tty = stdout.is_terminal();
    let shutdown = async move {
        interrupt.recv().await;
    };
    crate::watch::watch(store, ctx.ns(), stdout.lock(), tty, shutdown).await?;
    Ok(())
}
