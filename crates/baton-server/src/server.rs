//! [`serve`]: the HTTP server as a library function (mini-redis style): it takes a bound listener
//! and a shutdown future, so `baton serve` and the tests run the same code, the tests in-process
//! on port 0.

use crate::hub::Hub;
use crate::security::{check_bind, guard};
use crate::state::{AppState, Ctx};
use crate::{api, dashboard};
use axum::middleware::from_fn_with_state;
use axum::Router;
use std::future::Future;
use std::io;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves the API, the event streams and the dashboard on `listener` until `shutdown` resolves,
/// then stops accepting, ends the event streams and waits for requests in flight.
///
/// Refuses to start (`InvalidInput`) on a non-loopback address without a token, or with a token
/// too weak to guard it (see [`check_bind`]).
pub async fn serve(
    listener: TcpListener,
    mut app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    // The listener is the truth: with port 0 only it knows the port, and Host checks need it.
    app.bound = listener.local_addr()?;
    app.token = app.token.filter(|t| !t.is_empty());
    check_bind(app.bound, app.token.as_deref()).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let (hub, hub_task) = Hub::start(app.store.clone(), app.namespace.clone(), stop_rx)
        .map_err(|e| io::Error::other(format!("cannot watch the database for changes: {e}")))?;
    let ctx = Ctx { app: Arc::new(app), hub };
    let router = router(ctx);

    let signal = async move {
        shutdown.await;
        // Ends the hub and with it every event stream; graceful shutdown waits for those.
        let _ = stop_tx.send(true);
    };
    let served = axum::serve(listener, router).with_graceful_shutdown(signal).await;
    hub_task.abort();
    served
}

/// Every route behind the security guard.
fn router(ctx: Ctx) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(dashboard::routes())
        .route("/metrics", axum::routing::get(crate::metrics::metrics))
        .route("/api/{*rest}", axum::routing::any(api::not_found))
        .fallback(dashboard::not_found)
        .method_not_allowed_fallback(api::wrong_method)
        .layer(from_fn_with_state(ctx.clone(), guard))
        .with_state(ctx)
}
