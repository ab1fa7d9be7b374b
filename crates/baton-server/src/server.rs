//! [`serve`]: the HTTP server as a library function (mini-redis style): it takes a bound listener
//! and a shutdown future, so `baton serve` and the tests run the same code, the tests in-process
//! on port 0.

use crate::hub::Hub;
use crate::security::{check_bind, guard};
use crate::state::{AppState, Ctx};
use crate::{api, dashboard};
use axum::middleware::from_fn_with_state;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves the API, the event streams and the dashboard on `listener` until `shutdown` resolves,
/// then stops accepting, ends the event streams and waits for requests in flight.
///
/// Refuses to start (`InvalidInput`) on a non-loopback address without a token, or with a token
/// too weak to guard it (see [`check_bind`]).
pub async fn serve(
    listener: TcpListener,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_routes(listener, app, shutdown, router).await
}

/// Serves only `GET /metrics` (`baton run --metrics`): a runner without a dashboard reports the
/// same figures as `baton serve`, read from the same database, behind the same token and
/// `Host` rules — and nothing else, since a runner's operator asked for a scrape target only.
pub async fn serve_metrics(
    listener: TcpListener,
    app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_routes(listener, app, shutdown, metrics_router).await
}

async fn serve_routes(
    listener: TcpListener,
    mut app: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    routes: fn(Ctx) -> Router,
) -> io::Result<()> {
    // The listener is the truth: with port 0 only it knows the port, and Host checks need it.
    app.bound = listener.local_addr()?;
    app.token = app.token.filter(|t| !t.is_empty());
    check_bind(app.bound, app.token.as_deref()).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let (hub, hub_task) = Hub::start(app.store.clone(), app.namespace.clone(), stop_rx)
        .map_err(|e| io::Error::other(format!("cannot watch the database for changes: {e}")))?;
    let ctx = Ctx { app: Arc::new(app), hub };
    let router = routes(ctx);

    let (conn_stop_tx, conn_stop) = watch::channel(false);
    let signal = async move {
        shutdown.await;
        // Ends the hub and with it every event stream; graceful shutdown waits for those.
        let _ = stop_tx.send(true);
        let _ = conn_stop_tx.send(true);
    };
    accept_loop(listener, router, signal, conn_stop).await;
    hub_task.abort();
    Ok(())
}

/// How long a client may take to send a request's complete headers (on a new connection, or
/// between requests on a kept-alive one) before it is dropped: a client that trickles a header a
/// byte at a time would otherwise hold its connection, and a task, for ever (slowloris).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections until `signal` resolves, then asks every connection to finish its
/// request in flight and waits until all have.
async fn accept_loop(
    listener: TcpListener,
    router: Router,
    signal: impl Future<Output = ()>,
    stop: watch::Receiver<bool>,
) {
    // Every connection task holds a receiver; `closed()` resolves once all of them are gone.
    let (all_done_tx, all_done_rx) = watch::channel(());
    tokio::pin!(signal);
    loop {
        let stream = tokio::select! {
            _ = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::debug!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(router.clone());
        let (mut stop, done) = (stop.clone(), all_done_rx.clone());
        tokio::spawn(async move {
            let builder = {
                let mut b = http1::Builder::new();
                b.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
                b
            };
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!("connection ended: {e}");
                        }
                        break;
                    }
                    _ = stop.wait_for(|stopped| *stopped), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(done);
        });
    }
    drop(listener);
    drop(all_done_rx);
    all_done_tx.closed().await;
}

/// `/metrics` alone, behind the security guard.
fn metrics_router(ctx: Ctx) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(crate::metrics::metrics))
        .fallback(crate::metrics::only_metrics)
        .layer(from_fn_with_state(ctx.clone(), guard))
        .with_state(ctx)
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
