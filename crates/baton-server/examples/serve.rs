//! Runs [`baton_server::serve`] for the repository in the current directory, as `baton serve`
//! does (and a reference for wiring it): the config is loaded as the CLI loads it, the token
//! comes from `BATON_TOKEN`.
//!
//! ```text
//! cargo run -p baton-server --example serve -- [127.0.0.1:7777]
//! ```

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Registered first: `ctrl_c()` would only register when first polled, and a Ctrl-C before
    // that would be lost (or kill the process without a graceful shutdown).
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7777".into());
    let config = baton_core::Config::load(&std::env::current_dir()?, &|k| std::env::var(k).ok())?;
    let token = std::env::var("BATON_TOKEN").ok().filter(|t| !t.is_empty());
    let addr: std::net::SocketAddr = bind.parse()?;
    // Checked before binding, so a refused address says why instead of listening first.
    baton_server::check_bind(addr, token.as_deref())?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let store = baton_store::open(&config.database_url).await?;
    let app = baton_server::AppState {
        store,
        namespace: config.namespace.clone(),
        config: Arc::new(config),
        token: token.clone(),
        bound,
    };
    println!("dashboard: {}", baton_server::dashboard_url(bound, token.as_deref()));
    let ctrl_c = async move {
        interrupt.recv().await;
    };
    baton_server::serve(listener, app, ctrl_c).await?;
    Ok(())
}
