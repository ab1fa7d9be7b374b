//! The chain page of the live view (Enter on an assignment): its facts, why it waits when it
//! does, and its jobs in chain order — each with status, time, cost and its result or error on
//! a second row — one of them selected, for `l` to follow.

use super::idle::IDLE_TEXT;
use super::paint::{one_line, wrap, Line, Page, BOLD, DIM, GREEN, RED, SELECTED, YELLOW};
use super::view::View;
use crate::output::format::money;
use baton_core::time::{human_duration, Millis};
use baton_core::{AssignmentDetail, AssignmentStatus, Job, JobStatus};

/// The chain page and the job ids it lists, in chain order.
pub(crate) struct ChainPage {
    pub page: Page,
    pub jobs: Vec<String>,
}

pub(crate) fn chain_page(d: &AssignmentDetail, now: Millis, view: &View, width: usize, height: usize) -> ChainPage {
    let a = &d.assignment;
    let mut rows: Vec<Line> = vec![vec![
        ("baton watch".to_string(), BOLD),
        (format!("  assignment {}  ", a.id), None),
        (a.status.as_str().to_string(), if a.status == AssignmentStatus::Blocked { YELLOW } else { GREEN }),
    ]];
    rows.extend(wrap(&a.north_star, width, 3).into_iter().map(|l| vec![(l, BOLD)]));
    let mut facts = vec![format!("jobs {}/{}", a.job_count, a.max_jobs), cost_text(a.cost_usd, a.budget_usd)];
    if let Some(branch) = &a.branch {
        facts.push(format!("branch {branch}"));
    }
    if let Some(base) = a.base_branch.as_ref().or(a.base_ref.as_ref()) {
        facts.push(format!("base {base}"));
    }
    rows.extend(wrap(&facts.join(" · "), width, 2).into_iter().map(|l| vec![(l, DIM)]));
    if let Some(worktree) = &a.worktree {
        rows.extend(wrap(&format!("worktree {worktree}"), width, 2).into_iter().map(|l| vec![(l, DIM)]));
    }
    let open = d.jobs.iter().any(|j| matches!(j.status, JobStatus::Pending | JobStatus::Running));
    let waits = match a.status {
        AssignmentStatus::Blocked => Some(format!("blocked: {}", a.reason.as_deref().unwrap_or("no reason given"))),
        AssignmentStatus::Active if !open => Some(IDLE_TEXT.to_string()),
        _ => None,
    };
    if let Some(why) = waits {
        rows.extend(wrap(&why, width, 4).into_iter().map(|l| vec![(l, YELLOW)]));
    }
    rows.push(Vec::new());
    rows.push(vec![(
        format!("{:>3}  {:<10}{:<10}{:<10}{:<9}{:<9}HARNESS", "#", "JOB", "TYPE", "STATUS", "TIME", "COST"),
        DIM,
    )]);

    let jobs: Vec<String> = d.jobs.iter().map(|j| j.id.clone()).collect();
    let at = view.selected_job.as_ref().and_then(|s| jobs.iter().position(|j| j == s)).unwrap_or(0);
    // Two rows a job; the window scrolls so the selected job stays on screen.
    let fit = (height.saturating_sub(rows.len() + 2) / 2).max(1);
    let start = if at >= fit { at + 1 - fit } else { 0 };
    if start > 0 {
        rows.push(vec![(format!("  … {start} earlier jobs"), DIM)]);
    }
    for (i, job) in d.jobs.iter().enumerate().skip(start) {
        let (main, detail) = job_rows(job, now, width);
        rows.push(if i == at { main.into_iter().map(|(t, _)| (t, SELECTED)).collect() } else { main });
        if let Some(detail) = detail {
            rows.push(detail);
        }
    }
    if d.jobs.is_empty() {
        rows.push(vec![("  no jobs yet: baton insert-job".to_string(), DIM)]);
    }
    let footer = vec![("↑↓/jk select job · Enter/l transcript · Esc back · q quit".to_string(), DIM)];
    ChainPage { page: Page { rows, footer }, jobs }
}

fn cost_text(cost: Option<f64>, budget: Option<f64>) -> String {
    match (cost, budget) {
        (c, Some(b)) => format!("cost {} of {}", money(c.unwrap_or(0.0)), money(b)),
        (Some(c), None) => format!("cost {}", money(c)),
        (None, None) => "no cost yet".to_string(),
    }
}

/// A job's row, and a second row with what it said (its result, error or PM decision).
fn job_rows(job: &Job, now: Millis, width: usize) -> (Line, Option<Line>) {
    let style = match job.status {
        JobStatus::Running => GREEN,
        JobStatus::Failed => RED,
        JobStatus::Cancelled => DIM,
        _ => None,
    };
    let time = match (job.status, job.started_at, job.duration_ms) {
        (JobStatus::Running, Some(t), _) => format!("▶ {}", human_duration(now - t)),
        (_, _, Some(ms)) => human_duration(ms),
        _ => "-".to_string(),
    };
    let cost = job.cost_usd.map(money).unwrap_or_else(|| "-".into());
    let main = vec![
        (format!("{:>3}  {:<10}{:<10}", job.position, job.id, job.job_type.as_str()), None),
        (format!("{:<10}", job.status.as_str()), style),
        (format!("{time:<9}{cost:<9}{}", job.harness), None),
    ];
    let said = job
        .error
        .as_deref()
        .map(|e| (e, RED))
        .or_else(|| job.decision.as_deref().map(|d| (d, YELLOW)))
        .or_else(|| job.result.as_deref().map(|r| (r, DIM)));
    let detail = said.map(|(text, style)| vec![(format!("     {}", one_line(text, width.saturating_sub(5))), style)]);
    (main, detail)
}
