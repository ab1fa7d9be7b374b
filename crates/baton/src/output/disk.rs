//! What `baton queue` says about disk use: the sizes the runners' upkeep last measured (never
//! measured here: walking worktrees on every `queue` would be slow), their age, a warning when
//! worktrees exceed `[retention] warn_worktrees_gib`, and a hint when finished assignments keep
//! worktrees and no retention policy would ever remove them.

use crate::output::format::relative;
use crate::output::style::{Style, RED};
use baton_core::store::{DiskUse, QueueSummary};
use baton_core::time::Millis;
use baton_core::{Config, Result, Store};
use baton_runner::gc::human_bytes;
use serde::Serialize;

/// `baton queue --json`: the summary's fields, and `disk_use`.
#[derive(Serialize)]
pub struct QueueJson<'a> {
    #[serde(flatten)]
    pub summary: &'a QueueSummary,
    pub disk_use: &'a DiskReport,
}

/// The disk part of `baton queue --json` (`disk_use`).
#[derive(Debug, Serialize)]
pub struct DiskReport {
    /// The newest measurement of each host, by host.
    pub hosts: Vec<DiskUse>,
    /// Worktree bytes over every host.
    pub worktrees_bytes: u64,
    pub warn_worktrees_bytes: u64,
    pub worktrees_over_limit: bool,
    /// Finished assignments keeping a worktree while no retention policy removes worktrees.
    pub finished_worktrees_without_policy: u64,
}

pub async fn report(store: &dyn Store, config: &Config, ns: &str) -> Result<DiskReport> {
    let hosts = store.disk_use(ns).await?;
    let worktrees_bytes = hosts.iter().map(|h| h.worktrees_bytes).fold(0u64, u64::saturating_add);
    let warn_worktrees_bytes = config.retention.warn_worktrees_bytes();
    let finished_worktrees_without_policy =
        if config.retention.worktrees_set() { 0 } else { store.finished_worktrees(ns).await? };
    Ok(DiskReport {
        hosts,
        worktrees_bytes,
        warn_worktrees_bytes,
        worktrees_over_limit: worktrees_bytes > warn_worktrees_bytes,
        finished_worktrees_without_policy,
    })
}

/// The text lines (empty when nothing was measured and there is nothing to hint).
pub fn render(r: &DiskReport, style: &Style, now: Millis) -> String {
    let mut text = String::new();
    for h in &r.hosts {
        let db = h.database_bytes.map(|b| format!(", database {}", human_bytes(b))).unwrap_or_default();
        text.push_str(&format!(
            "disk         {}: worktrees {}{db} (measured {})\n",
            h.host,
            human_bytes(h.worktrees_bytes),
            relative(h.measured_at, now)
        ));
    }
    if r.worktrees_over_limit {
        let warning = format!(
            "warning: worktrees hold {}, over the {} set by [retention] warn_worktrees_gib: `baton gc --dry-run` shows what a policy would remove",
            human_bytes(r.worktrees_bytes),
            human_bytes(r.warn_worktrees_bytes)
        );
        text.push_str(&style.paint(Some(RED), &warning));
        text.push('\n');
    }
    if r.finished_worktrees_without_policy > 0 {
        text.push_str(&style.dim(&format!(
            "hint: {} finished assignment(s) keep their worktrees and no [retention] policy removes them: add worktrees = \"merged\" or finished_after = \"14d\"",
            r.finished_worktrees_without_policy
        )));
        text.push('\n');
    }
    text
}
