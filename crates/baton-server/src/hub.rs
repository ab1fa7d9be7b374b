//! One change feed per server, fanned out to every event stream.
//!
//! The store's [`ChangeFeed`](baton_core::store::ChangeFeed) costs a socket per subscription; the
//! hub holds exactly one and republishes it on `watch` channels: a [`Pulse`] (counters that any
//! stream compares with what it has seen) and the namespace [`snapshot`](Hub::snapshot), computed
//! once per queue change and published only when it differs, so runner heartbeats and lease
//! renewals do not reach browsers. When the server stops, the hub ends and every stream with it.

use baton_core::store::{AssignmentFilter, QueueSummary};
use baton_core::time::now_ms;
use baton_core::{Assignment, Store};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Assignments carried in a snapshot (the newest).
const SNAPSHOT_ASSIGNMENTS: u32 = 200;
/// Wait before subscribing again after the feed failed.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// Counters of the changes seen so far; a stream re-reads when one moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pulse {
    /// Assignments, jobs or runners changed.
    pub queue: u64,
    /// Transcript events were appended.
    pub events: u64,
}

/// The receiving ends handed to request handlers.
#[derive(Clone)]
pub(crate) struct Hub {
    pulses: watch::Receiver<Pulse>,
    snapshot: watch::Receiver<Option<Arc<str>>>,
    stop: watch::Receiver<bool>,
}

/// The namespace state `/api/events` sends: the queue summary and the newest assignments.
#[derive(Debug, Serialize)]
struct Snapshot {
    queue: QueueSummary,
    assignments: Vec<Assignment>,
}

impl Hub {
    /// Subscribes to the store and starts the fan-out task; it ends when `stop` turns true.
    pub fn start(
        store: Arc<dyn Store>,
        namespace: String,
        stop: watch::Receiver<bool>,
    ) -> baton_core::Result<(Hub, JoinHandle<()>)> {
        let feed = store.subscribe()?;
        let (pulse_tx, pulses) = watch::channel(Pulse::default());
        let (snapshot_tx, snapshot) = watch::channel(None);
        let task = tokio::spawn(run(store, namespace, feed, pulse_tx, snapshot_tx, stop.clone()));
        Ok((Hub { pulses, snapshot, stop }, task))
    }

    /// Change counters; `changed()` fails once the server stops.
    pub fn pulses(&self) -> watch::Receiver<Pulse> {
        self.pulses.clone()
    }

    /// The latest namespace snapshot as JSON (`None` until the first one is read).
    pub fn snapshot(&self) -> watch::Receiver<Option<Arc<str>>> {
        self.snapshot.clone()
    }

    /// Turns true when the server shuts down: long-lived streams end so shutdown is not held up.
    pub fn stop(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }
}

/// Resolves once `stop` is true (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    namespace: String,
    mut feed: Box<dyn baton_core::store::ChangeFeed>,
    pulse_tx: watch::Sender<Pulse>,
    snapshot_tx: watch::Sender<Option<Arc<str>>>,
    mut stop: watch::Receiver<bool>,
) {
    refresh(store.as_ref(), &namespace, &snapshot_tx).await;
    loop {
        let changes = tokio::select! {
            _ = stopped(&mut stop) => return,
            changed = feed.changed() => changed,
        };
        match changes {
            Ok(c) => {
                pulse_tx.send_modify(|p| {
                    p.queue += u64::from(c.queue);
                    p.events += u64::from(c.events);
                });
                if c.queue {
                    refresh(store.as_ref(), &namespace, &snapshot_tx).await;
                }
            }
            Err(e) => {
                tracing::warn!("change feed failed: {e}; subscribing again");
                tokio::select! {
                    _ = stopped(&mut stop) => return,
                    _ = tokio::time::sleep(RESUBSCRIBE_AFTER) => {}
                }
                match store.subscribe() {
                    Ok(f) => feed = f,
                    Err(e) => {
                        tracing::warn!("cannot subscribe to changes: {e}");
                        continue;
                    }
                }
                // Changes may have been missed meanwhile: every stream re-reads.
                pulse_tx.send_modify(|p| {
                    p.queue += 1;
                    p.events += 1;
                });
                refresh(store.as_ref(), &namespace, &snapshot_tx).await;
            }
        }
    }
}

/// Reads the namespace and publishes it if it changed.
async fn refresh(store: &dyn Store, namespace: &str, tx: &watch::Sender<Option<Arc<str>>>) {
    match read_snapshot(store, namespace).await {
        Ok(json) => {
            tx.send_if_modified(|current| {
                if current.as_deref() == Some(json.as_str()) {
                    return false;
                }
                *current = Some(json.into());
                true
            });
        }
        Err(e) => tracing::warn!("cannot read namespace {namespace} for the event stream: {e}"),
    }
}

async fn read_snapshot(store: &dyn Store, namespace: &str) -> baton_core::Result<String> {
    let mut queue = store.queue(namespace, now_ms()).await?;
    // Lease renewals change nothing a person watches; without them a renewal is not a change.
    for job in queue.running.iter_mut() {
        job.lease_expires_at = None;
    }
    let filter = AssignmentFilter { status: None, limit: Some(SNAPSHOT_ASSIGNMENTS) };
    let assignments = store.assignments(namespace, &filter).await?;
    serde_json::to_string(&Snapshot { queue, assignments })
        .map_err(|e| baton_core::Error::invalid(format!("cannot encode the namespace snapshot: {e}")))
}
