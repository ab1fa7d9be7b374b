//! `baton serve`: the HTTP API, server-sent events and the dashboard for this namespace
//! (see crates/baton-server/API.md). Ctrl-C stops it gracefully.

use crate::cli::ServeArgs;
use crate::context::Context;
use crate::error::CliResult;
use baton_core::Error;
use std::sync::Arc;
use tokio::signal::unix::{signal, SignalKind};

pub async fn run(ctx: &mut Context, args: ServeArgs) -> CliResult {
    // Registered before anything else, so an early Ctrl-C still stops the server gracefully.
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| Error::io("installing signal handlers", e))?;
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| Error::io("installing signal handlers", e))?;
    let token = args.token.filter(|t| !t.is_empty());
    baton_server::check_bind(args.bind, token.as_deref()).map_err(Error::invalid)?;
    let listener = tokio::net::TcpListener::bind(args.bind).await.map_err(|e| {
        Error::io(format!("listening on {} (is another server using it? try --bind 127.0.0.1:0)", args.bind), e)
    })?;
    let bound = listener.local_addr().map_err(|e| Error::io("reading the bound address", e))?;
    let store = ctx.store().await?;
    let app = baton_server::AppState {
        store,
        namespace: ctx.ns().to_string(),
        config: Arc::new(ctx.config.clone()),
        token: token.clone(),
        bound,
    };
    eprintln!("baton serve: namespace {} on {}", ctx.ns(), baton_server::dashboard_url(bound, token.as_deref()));
    let shutdown = async move {
        tokio::select! { _ = interrupt.recv() => {}, _ = terminate.recv() => {} }
    };
    baton_server::serve(listener, app, shutdown).await.map_err(|e| Error::io("serving", e))?;
    Ok(())
}
