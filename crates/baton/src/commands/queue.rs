//! `baton queue`: the state of the namespace at a glance — counts by status, the jobs a runner
//! would start now, those waiting out a retry back-off, those running, and the assignments that
//! need a person ("needs you": blocked ones with their reasons, and idle ones — active with
//! nothing queued), the runners with their hosts, and — once work spans hosts — where each
//! assignment lives and whether its branch is on the `[sync]` remote; then the disk use the
//! runners last measured.

use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::{one_line, opt_time, relative, time, truncate};
use crate::output::style::{assignment_status_code, job_status_code, Style, RED, YELLOW_BOLD};
use crate::output::table::{Cell, Table};
use crate::output::views;
use crate::output::UNLIMITED;
use baton_core::engine::IDLE_REASON;
use baton_core::store::QueueSummary;
use baton_core::time::now_ms;
use baton_core::{AssignmentStatus, JobStatus};

/// Characters of the north star shown next to a blocked reason.
const NORTH_STAR_GLIMPSE: usize = 32;

pub async fn run(ctx: &mut Context) -> CliResult {
    let store = ctx.store().await?;
    let now = now_ms();
    let summary = store.queue(ctx.ns(), now).await?;
    if summary.assignments.values().all(|n| *n == 0) {
        super::namespaces::hint_if_empty(ctx).await?;
    }
    // Measured by the runners' upkeep, never here: walking worktrees would make `queue` slow.
    let disk = crate::output::disk::report(store.as_ref(), &ctx.config, ctx.ns()).await?;
    if ctx.out.json {
        return ctx.out.json(&crate::output::disk::QueueJson { summary: &summary, disk_use: &disk });
    }
    let mut text = render(&summary, &ctx.out.style, ctx.out.width, now);
    text.push_str(&crate::output::disk::render(&disk, &ctx.out.style, now));
    ctx.out.text(&text)
}

fn render(q: &QueueSummary, style: &Style, width: usize, now: i64) -> String {
    let mut text = format!("namespace {}\n", style.bold(&q.namespace));
    let counts = |map: &std::collections::BTreeMap<String, u64>, names: Vec<(&'static str, Option<&'static str>)>| {
        names
            .into_iter()
            .map(|(name, code)| {
                let n = map.get(name).copied().unwrap_or(0);
                // Only non-zero counts get their colour, so the eye goes to what is there.
                let code = if n > 0 { code } else { None };
                style.paint(code, &format!("{name} {n}"))
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    text.push_str(&format!(
        "assignments  {}\n",
        counts(
            &q.assignments,
            AssignmentStatus::ALL.iter().map(|s| (s.as_str(), Some(assignment_status_code(*s)))).collect()
        )
    ));
    text.push_str(&format!(
        "jobs         {}\n",
        counts(&q.jobs, JobStatus::ALL.iter().map(|s| (s.as_str(), job_status_code(*s))).collect())
    ));

    section(&mut text, style, "ready", q.ready_total as usize);
    // An assignment pinned to a host (its worktree lives there) runs only on that host's runners.
    let host = |aid: &str| q.hosts.get(aid).map(|h| format!("only {h}")).unwrap_or_else(|| "any".to_string());
    let mut t = Table::new(&["JOB", "TYPE", "HARNESS", "ASSIGNMENT", "ATTEMPTS", "HOST", "CONTEXT"]).indent(2).flex(6);
    for job in &q.ready {
        t.row(vec![
            job.id.as_str().into(),
            job.job_type.as_str().into(),
            job.harness.as_str().into(),
            job.assignment_id.as_str().into(),
            views::attempts(job).into(),
            host(&job.assignment_id).into(),
            one_line(&job.context).into(),
        ]);
    }
    table_or_none(&mut text, &t, style, width);

    more(&mut text, style, q.ready_total, q.ready.len(), "baton jobs --status pending");
    section(&mut text, style, "waiting", q.waiting_total as usize);
    let mut t =
        Table::new(&["JOB", "TYPE", "HARNESS", "ASSIGNMENT", "ATTEMPTS", "NOT BEFORE", "LAST ERROR"]).indent(2).flex(6);
    for job in &q.waiting {
        let not_before =
            job.not_before.map(|t| format!("{} ({})", time(t), relative(t, now))).unwrap_or_else(|| opt_time(None));
        t.row(vec![
            job.id.as_str().into(),
            job.job_type.as_str().into(),
            job.harness.as_str().into(),
            job.assignment_id.as_str().into(),
            views::attempts(job).into(),
            not_before.into(),
            views::job_summary(job),
        ]);
    }
    table_or_none(&mut text, &t, style, width);

    more(&mut text, style, q.waiting_total, q.waiting.len(), "baton jobs --status pending");
    section(&mut text, style, "running", q.running.len());
    let mut t = Table::new(&["JOB", "TYPE", "HARNESS", "ASSIGNMENT", "ATTEMPTS", "RUNNER", "STARTED"]).indent(2);
    for job in &q.running {
        let started =
            job.started_at.map(|t| format!("{} ({})", time(t), relative(t, now))).unwrap_or_else(|| opt_time(None));
        t.row(vec![
            job.id.as_str().into(),
            job.job_type.as_str().into(),
            job.harness.as_str().into(),
            job.assignment_id.as_str().into(),
            views::attempts(job).into(),
            job.runner.clone().unwrap_or_default().into(),
            started.into(),
        ]);
    }
    table_or_none(&mut text, &t, style, width);
    stopping(&mut text, style, q);

    // Blocked and idle assignments both wait for a person: one list, the reason in full.
    section(&mut text, style, "needs you", (q.blocked_total + q.idle_total) as usize);
    let mut t = Table::new(&["ASSIGNMENT", "SINCE", "NORTH STAR", "REASON"]).indent(2).flex(3);
    for a in &q.blocked {
        t.row(vec![
            a.id.as_str().into(),
            time(a.updated_at).into(),
            glimpse(&a.north_star, width).into(),
            Cell::painted(
                format!("blocked: {}", one_line(a.reason.as_deref().unwrap_or_default())),
                Some(assignment_status_code(AssignmentStatus::Blocked)),
            ),
        ]);
    }
    for a in &q.idle {
        t.row(vec![
            a.id.as_str().into(),
            time(a.updated_at).into(),
            glimpse(&a.north_star, width).into(),
            Cell::painted(IDLE_REASON, Some(YELLOW_BOLD)),
        ]);
    }
    table_or_none(&mut text, &t, style, width);

    more(&mut text, style, q.blocked_total, q.blocked.len(), "baton assignments --status blocked --all");
    more(&mut text, style, q.idle_total, q.idle.len(), "baton assignments --status active --all");
    section(&mut text, style, "runners", q.runners.len());
    if q.runners.is_empty() && (!q.ready.is_empty() || !q.waiting.is_empty()) {
        text.push_str(&style.dim("  none: nothing will run until you start one with `baton run`"));
        text.push('\n');
    }
    let mut t = Table::new(&["RUNNER", "HOST", "PID", "STARTED", "HEARTBEAT", "CONTAINMENT", "JOBS", "STATE"])
        .indent(2)
        .flex(6);
    for r in &q.runners {
        let state = if r.lost {
            Cell::painted("lost (stopped heartbeating)", Some(RED))
        } else {
            Cell::new(format!("live, up to {} at once", r.concurrency))
        };
        t.row(vec![
            r.id.as_str().into(),
            r.host.as_str().into(),
            r.pid.to_string().into(),
            time(r.started_at).into(),
            relative(r.heartbeat_at, now).into(),
            r.containment.as_deref().unwrap_or("-").into(),
            if r.jobs.is_empty() { "-".to_string() } else { r.jobs.join(", ") }.into(),
            state,
        ]);
    }
    table_or_none(&mut text, &t, style, width);
    hosts_section(&mut text, q, style, width);
    text
}

/// The north star next to a reason: a glimpse on a terminal, whole when nothing may be cut.
fn glimpse(north_star: &str, width: usize) -> String {
    let line = one_line(north_star);
    if width == UNLIMITED {
        line
    } else {
        truncate(&line, NORTH_STAR_GLIMPSE)
    }
}

/// Where each open assignment's worktree lives and whether its branch is on the `[sync]` remote
/// (so another host could continue it): shown once work spans hosts or is synced.
fn hosts_section(text: &mut String, q: &QueueSummary, style: &Style, width: usize) {
    let hosts: std::collections::BTreeSet<&str> = q.runners.iter().map(|r| r.host.as_str()).collect();
    let synced = q.sync.values().any(|s| s.pushed.is_some());
    if q.hosts.is_empty() || (hosts.len() < 2 && !synced) {
        return;
    }
    section(text, style, "assignment hosts", q.hosts.len());
    let short = |c: &Option<String>| -> String {
        c.as_deref().map(|c| c.chars().take(12).collect()).unwrap_or_else(|| "-".to_string())
    };
    let mut t = Table::new(&["ASSIGNMENT", "HOST", "BRANCH"]).indent(2).flex(2);
    for (aid, host) in &q.hosts {
        let branch = match q.sync.get(aid) {
            Some(s) if s.in_sync => Cell::new(format!("in sync with the remote at {}", short(&s.head))),
            Some(s) if s.pushed.is_none() => Cell::painted(format!("not pushed (at {})", short(&s.head)), Some(RED)),
            Some(s) => Cell::painted(format!("at {}, remote at {}", short(&s.head), short(&s.pushed)), Some(RED)),
            None => Cell::new("-"),
        };
        t.row(vec![aid.as_str().into(), host.as_str().into(), branch]);
    }
    table_or_none(text, &t, style, width);
}

/// Says how many a capped list left out, and where to see them all.
fn more(text: &mut String, style: &Style, total: u64, shown: usize, command: &str) {
    if total > shown as u64 {
        text.push_str(&style.dim(&format!("  … and {} more: `{command}` lists them", total - shown as u64)));
        text.push('\n');
    }
}

fn section(text: &mut String, style: &Style, title: &str, n: usize) {
    text.push('\n');
    text.push_str(&style.bold(&format!("{title} ({n})")));
    text.push('\n');
}

fn table_or_none(text: &mut String, t: &Table, style: &Style, width: usize) {
    if !t.is_empty() {
        text.push_str(&t.render(style, width));
    }
}

/// Jobs cancelled while running whose agent is still being stopped: their assignments wait for
/// it (the PM that follows the cancel is not ready yet). Listed only while there are any.
fn stopping(text: &mut String, style: &Style, q: &QueueSummary) {
    if q.stopping.is_empty() {
        return;
    }
    section(text, style, "stopping", q.stopping.len());
    for job in &q.stopping {
        text.push_str(&format!(
            "  {} ({} of {}): cancelled; runner {} is stopping its agent, the assignment waits for it\n",
            job.id,
            job.job_type,
            job.assignment_id,
            job.runner.as_deref().unwrap_or("-")
        ));
    }
}
