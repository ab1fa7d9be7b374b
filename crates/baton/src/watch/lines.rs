//! The non-TTY output of `baton watch`: one line per change, found by diffing two snapshots —
//! assignments created, blocked, resumed, finished; jobs queued, started, retried, finished.

use super::paint::one_line;
use super::snapshot::Snapshot;
use crate::output::format::money;
use baton_core::time::human_duration;
use baton_core::{Assignment, AssignmentStatus, Job, JobStatus};

/// The first line: what is there when watching starts.
pub(crate) fn summary(ns: &str, s: &Snapshot) -> String {
    let count = |map: &std::collections::BTreeMap<String, u64>, k: &str| map.get(k).copied().unwrap_or(0);
    format!(
        "watching namespace {ns}: {} active, {} blocked assignments; {} running, {} pending jobs",
        count(&s.queue.assignments, "active"),
        count(&s.queue.assignments, "blocked"),
        count(&s.queue.jobs, "running"),
        count(&s.queue.jobs, "pending"),
    )
}

/// What changed from `prev` to `next`, in the order a person reads it: new assignments, then
/// jobs by creation, then assignment status changes.
pub(crate) fn diff(prev: &Snapshot, next: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let before = |id: &str| prev.assignments.iter().find(|a| a.id == id);
    let mut created: Vec<&Assignment> = next.assignments.iter().filter(|a| before(&a.id).is_none()).collect();
    created.sort_by_key(|a| a.created_at);
    for a in &created {
        out.push(format!("assignment {} created: {}", a.id, one_line(&a.north_star, 100)));
    }

    let mut jobs: Vec<&Job> = next.jobs.values().collect();
    jobs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.position.cmp(&b.position)));
    for job in jobs {
        match prev.jobs.get(&job.id) {
            Some(old) => job_change(old, job, &mut out),
            // A job older than the previous snapshot's window is not new, only newly visible.
            None if job.created_at < oldest(prev) => {}
            None => {
                let pm = job.for_job_id.as_deref().map(|f| format!(" after {f}")).unwrap_or_default();
                out.push(format!("{} queued in assignment {}{pm}", name(job), job.assignment_id));
                if job.status != JobStatus::Pending {
                    let pending = Job { status: JobStatus::Pending, ..job.clone() };
                    job_change(&pending, job, &mut out);
                }
            }
        }
    }

    let mut changed: Vec<(&Assignment, &Assignment)> =
        next.assignments.iter().filter_map(|a| before(&a.id).map(|old| (old, a))).collect();
    changed.sort_by_key(|(_, a)| a.updated_at);
    for a in created {
        if a.status != AssignmentStatus::Active {
            out.push(assignment_status(a, None));
        }
    }
    for (old, a) in changed {
        if old.status != a.status || (a.status == AssignmentStatus::Blocked && old.reason != a.reason) {
            out.push(assignment_status(a, Some(old.status)));
        }
    }
    out
}

/// The creation time of the oldest job a snapshot saw (jobs older than it were not in view).
fn oldest(s: &Snapshot) -> i64 {
    s.jobs.values().map(|j| j.created_at).min().unwrap_or(i64::MIN)
}

fn name(job: &Job) -> String {
    format!("job {} ({})", job.id, job.job_type)
}

fn job_change(old: &Job, job: &Job, out: &mut Vec<String>) {
    use JobStatus::*;
    let n = name(job);
    match (old.status, job.status) {
        (Pending, Running) => {
            let runner = job.runner.as_deref().map(|r| format!(" on runner {r}")).unwrap_or_default();
            out.push(format!("{n} started (attempt {}/{}{runner})", job.attempts, job.max_attempts));
        }
        (Running, Running) if job.attempts != old.attempts => {
            out.push(format!("{n} restarted (attempt {}/{})", job.attempts, job.max_attempts));
        }
        (Running, Pending) => {
            let why = job.error.as_deref().map(|e| one_line(e, 120)).unwrap_or_else(|| "interrupted".into());
            out.push(format!("{n} back to pending: {why}"));
        }
        (from, Complete) if from != Complete => {
            let mut text = format!("{n} complete");
            if let Some(ms) = job.duration_ms {
                text.push_str(&format!(" in {}", human_duration(ms)));
            }
            if let Some(cost) = job.cost_usd {
                text.push_str(&format!(", {}", money(cost)));
            }
            out.push(text);
        }
        (from, Failed) if from != Failed => {
            let why = job.error.as_deref().map(|e| format!(": {}", one_line(e, 120))).unwrap_or_default();
            out.push(format!("{n} failed{why}"));
        }
        (from, Cancelled) if from != Cancelled => out.push(format!("{n} cancelled")),
        _ => {}
    }
}

fn assignment_status(a: &Assignment, from: Option<AssignmentStatus>) -> String {
    match a.status {
        AssignmentStatus::Blocked => {
            let reason = a.reason.as_deref().map(|r| one_line(r, 160)).unwrap_or_else(|| "no reason given".into());
            format!("assignment {} blocked: {reason}", a.id)
        }
        AssignmentStatus::Active if from == Some(AssignmentStatus::Blocked) => format!("assignment {} resumed", a.id),
        AssignmentStatus::Active if from == Some(AssignmentStatus::Deferred) => {
            format!("assignment {} started: its parents are complete", a.id)
        }
        status => format!("assignment {} {status}", a.id),
    }
}
