//! The runner's hourly upkeep: apply the retention policy a person set, and measure the disk use
//! of the namespace's worktrees on this host and of the database, so `baton queue` can show it
//! without walking any tree itself.
//!
//! Worktrees live on the host that made them, so each host does its own upkeep, and only one
//! runner per namespace and host at a time: the one holding the upkeep lease in the database.
//! The lease outlives one interval, so its holder renews it on each pass and another runner
//! takes over only after the holder stopped.

use baton_core::store::AssignmentFilter;
use baton_core::time::Clock;
use baton_core::{Config, Result, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How often a pass runs: hourly, unless `BATON_GC_INTERVAL_MS` (for tests) says otherwise.
pub fn interval() -> Duration {
    let ms = std::env::var("BATON_GC_INTERVAL_MS").ok().and_then(|v| v.parse::<u64>().ok()).filter(|&ms| ms > 0);
    Duration::from_millis(ms.unwrap_or(60 * 60 * 1000))
}

/// What one pass did, for the runner's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Another runner on this host holds the upkeep.
    NotOurs,
    /// Measured, and (with a policy) applied it; `removed` worktrees went.
    Done { removed: usize, worktrees_bytes: u64 },
}

/// One pass for namespace `ns` on `host`, as runner `holder`.
pub async fn pass(
    store: &dyn Store,
    config: &Config,
    clock: &dyn Clock,
    ns: &str,
    host: &str,
    holder: &str,
    every: Duration,
) -> Result<Pass> {
    let ttl = u64::try_from(every.as_millis().saturating_mul(3) / 2).unwrap_or(u64::MAX);
    if !store.claim_maintenance(ns, host, holder, ttl).await? {
        return Ok(Pass::NotOurs);
    }
    // Nothing is removed unless a person set a policy; measuring removes nothing.
    let removed = if config.retention.is_set() {
        let report = crate::gc::run(store, config, ns, clock.now(), false).await?;
        report.worktrees.iter().filter(|w| w.cleaned.done).count()
    } else {
        0
    };
    let trees: Vec<String> = store
        .assignments(ns, &AssignmentFilter::default())
        .await?
        .into_iter()
        .filter(|a| a.host.as_deref() == Some(host))
        .filter_map(|a| a.worktree)
        .collect();
    let worktrees_bytes = tokio::task::spawn_blocking(move || {
        trees.iter().filter_map(|t| crate::gc::disk_use(Path::new(t))).fold(0u64, u64::saturating_add)
    })
    .await
    .unwrap_or(0);
    store.record_disk_use(ns, host, worktrees_bytes).await?;
    Ok(Pass::Done { removed, worktrees_bytes })
}

/// Hands `holder`'s upkeep lease back: a claim of no length ends at once.
pub async fn release(store: &dyn Store, ns: &str, host: &str, holder: &str) -> Result<()> {
    store.claim_maintenance(ns, host, holder, 0).await.map(drop)
}

/// Runs a pass now and then every [`interval`] until the task is dropped; failures are logged
/// and the next pass tries again.
pub async fn run(
    store: Arc<dyn Store>,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    ns: String,
    host: String,
    holder: String,
) {
    let every = interval();
    loop {
        match pass(store.as_ref(), &config, clock.as_ref(), &ns, &host, &holder, every).await {
            Ok(Pass::Done { removed, worktrees_bytes }) => {
                tracing::debug!(removed, worktrees_bytes, "upkeep pass done");
            }
            Ok(Pass::NotOurs) => tracing::debug!("another runner on this host does the upkeep"),
            Err(e) => tracing::warn!("upkeep pass failed: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}
