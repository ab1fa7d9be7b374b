//! The change feed: `LISTEN baton_changes` on a dedicated connection, turned into [`Changes`].
//!
//! Every write transaction that changed something sends `NOTIFY baton_changes, 'q'` (queue) or
//! `'e'` (transcript events only) before it commits, so a notification arrives exactly when the
//! change becomes visible. A task per subscription owns the listening connection and merges the
//! notifications into a pending [`Changes`] that [`ChangeFeed::changed`] takes.
//!
//! Notifications sent while the connection is down are lost, so whenever the listener
//! (re)connects, it reports everything as changed and the caller does a full fetch. That
//! includes the first connection: a write between `subscribe()` and the `LISTEN` would otherwise
//! go unheard. A lost connection is retried with exponential back-off; `changed()` never fails
//! because of it (the runner would stop on an error), it just stays quiet until the database is
//! back.

use super::{sql_message, CHANNEL, CONNECT_TIMEOUT};
use async_trait::async_trait;
use baton_core::store::{ChangeFeed, Changes};
use baton_core::{Error, Result};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// The first wait before reconnecting; doubled after each failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What a (re)connection reports: anything may have changed while nobody listened.
const EVERYTHING: Changes = Changes { queue: true, events: true };

/// Starts listening on a task of the current tokio runtime and returns the feed reading from it.
pub(super) fn subscribe(options: PgConnectOptions) -> Result<Box<dyn ChangeFeed>> {
    let runtime =
        tokio::runtime::Handle::try_current().map_err(|e| Error::database("subscribing to database changes", e))?;
    let shared = Arc::new(Shared::default());
    let task = runtime.spawn(listen(options, shared.clone())).abort_handle();
    Ok(Box::new(PgFeed { shared, task }))
}

/// Changes heard but not yet taken, and the wake-up of a waiting `changed()`.
#[derive(Default)]
struct Shared {
    pending: Mutex<Changes>,
    wake: Notify,
}

impl Shared {
    fn report(&self, changes: Changes) {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            pending.queue |= changes.queue;
            pending.events |= changes.events;
        }
        // notify_one keeps a permit when nobody waits, so a report between two `changed()`
        // calls is not lost.
        self.wake.notify_one();
    }

    fn take(&self) -> Option<Changes> {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let changes = std::mem::take(&mut *pending);
        (changes.queue || changes.events).then_some(changes)
    }
}

/// A subscription; dropping it stops the listening task and closes its connection.
struct PgFeed {
    shared: Arc<Shared>,
    task: AbortHandle,
}

impl Drop for PgFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[async_trait]
impl ChangeFeed for PgFeed {
    async fn changed(&self) -> Result<Changes> {
        // Cancel-safe: the pending changes live in `shared`, not in this future.
        loop {
            if let Some(changes) = self.shared.take() {
                return Ok(changes);
            }
            self.shared.wake.notified().await;
        }
    }
}

/// The payload of one notification.
fn parse(payload: &str) -> Changes {
    match payload {
        "e" => Changes { queue: false, events: true },
        _ => Changes { queue: true, events: false },
    }
}

/// Listens until aborted, reconnecting with back-off whenever the connection is lost.
async fn listen(options: PgConnectOptions, shared: Arc<Shared>) {
    // A pool of one connection that never expires on its own: PgListener reconnects through it.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_lazy_with(options);
    let mut backoff = MIN_BACKOFF;
    let mut failures = 0u32;
    loop {
        match start(&pool).await {
            Ok(mut listener) => {
                if failures > 0 {
                    tracing::info!("change feed reconnected to the database");
                }
                backoff = MIN_BACKOFF;
                failures = 0;
                shared.report(EVERYTHING);
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => shared.report(parse(notification.payload())),
                        // The connection dropped and PgListener already re-established it
                        // (eager reconnect): whatever was sent in between is lost.
                        Ok(None) => shared.report(EVERYTHING),
                        Err(e) => {
                            tracing::warn!(
                                "change feed lost its database connection: {}; reconnecting",
                                sql_message(&e)
                            );
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                failures += 1;
                // The first failure is worth a warning; the retries of a long outage are not.
                if failures == 1 {
                    tracing::warn!("change feed cannot reach the database: {}; retrying", sql_message(&e));
                } else {
                    tracing::debug!("change feed reconnect {failures} failed: {}", sql_message(&e));
                }
            }
        }
        // Jittered, so the runners of a team do not reconnect in lock-step after a restart.
        let jitter = Duration::from_millis(rand::random::<u64>() % (backoff.as_millis() as u64 / 2 + 1));
        tokio::time::sleep(backoff + jitter).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn start(pool: &PgPool) -> std::result::Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
