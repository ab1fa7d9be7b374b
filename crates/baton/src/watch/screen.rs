//! The list page of the live view, as a pure function of a snapshot and the view state: what
//! needs a person (blocked and idle assignments, with why), then a table of the open
//! assignments and as many recently finished ones as the screen has room for.
//!
//! The table fits the screen: the north star keeps at least [`MIN_NORTH_STAR`] characters, and
//! when it would get fewer the other columns are dropped, least important first.

use super::idle::{is_idle, IDLE_TEXT};
use super::paint::{
    one_line, plain, restyle, wrap, Line, Page, Style, BLOCKED, BOLD, DIM, GREEN, RED, SELECTED, YELLOW,
};
use super::snapshot::Snapshot;
use super::view::{Target, View};
use crate::output::format::money;
use baton_core::time::{human_duration, Millis};
use baton_core::{Assignment, AssignmentStatus, Job, JobStatus};
use chrono::{DateTime, Local};

/// The fewest characters of a north star the table shows.
pub(crate) const MIN_NORTH_STAR: usize = 30;

/// The table's columns before the north star, with their widths (a space included).
const COLUMNS: [(&str, usize); 5] = [("ID", 10), ("STATUS", 10), ("JOBS", 7), ("COST", 14), ("CURRENT JOB", 28)];
/// Which columns go, first to last, when the north star would be too narrow: the job count,
/// then the cost, then the current job; the id and status always stay.
const DROP_ORDER: [usize; 3] = [2, 3, 4];
/// Needs-you entries shown before the rest are counted, at most: fewer on a short screen, so
/// the table keeps most of it.
const NEEDS_SHOWN: usize = 5;

/// The columns shown at `width`, and the room left for the north star.
pub(crate) fn fit(width: usize) -> ([bool; 5], usize) {
    let mut shown = [true; 5];
    let used = |shown: &[bool; 5]| COLUMNS.iter().zip(shown).filter(|(_, s)| **s).map(|((_, w), _)| w).sum::<usize>();
    for drop in DROP_ORDER {
        if width.saturating_sub(used(&shown)) >= MIN_NORTH_STAR {
            break;
        }
        shown[drop] = false;
    }
    (shown, width.saturating_sub(used(&shown)).max(10))
}

/// The list page and its selectable rows, in the order drawn.
pub(crate) struct ListPage {
    pub page: Page,
    pub targets: Vec<Target>,
}

pub(crate) fn list_page(ns: &str, s: &Snapshot, now: Millis, view: &View, width: usize, height: usize) -> ListPage {
    let mut rows = vec![header(ns, now, view), summary(s, width), Vec::new()];
    let shown: Vec<&Assignment> = s.assignments.iter().filter(|a| matches(s, a, &view.filter)).collect();
    let needs: Vec<&Assignment> =
        shown.iter().copied().filter(|a| a.status == AssignmentStatus::Blocked || is_idle(s, a)).collect();

    if !needs.is_empty() {
        rows.push(vec![(format!("NEEDS YOU ({})", needs.len()), BOLD)]);
        let shown_needs = NEEDS_SHOWN.min((height / 8).max(1));
        for a in needs.iter().take(shown_needs) {
            rows.push(vec![(format!(" {} ", a.id), BLOCKED), (format!(" {}", one_line(&a.north_star, width)), BOLD)]);
            // Why it waits gets rows of its own: it is what the person must read.
            let why = match a.status {
                AssignmentStatus::Blocked => format!("blocked: {}", a.reason.as_deref().unwrap_or("no reason given")),
                _ => IDLE_TEXT.to_string(),
            };
            for line in wrap(&why, width.saturating_sub(3), 2) {
                rows.push(vec![(format!("   {line}"), YELLOW)]);
            }
        }
        if needs.len() > shown_needs {
            rows.push(vec![(format!("   … {} more (b lists only these)", needs.len() - shown_needs), DIM)]);
        }
        rows.push(Vec::new());
    }

    let (columns, north_star) = fit(width);
    let mut head: String =
        COLUMNS.iter().zip(columns).filter(|(_, s)| *s).map(|((t, w), _)| format!("{t:<w$}")).collect();
    head.push_str("NORTH STAR");
    rows.push(vec![(head, DIM)]);

    let open: Vec<&Assignment> =
        if view.needs_only { needs.clone() } else { shown.iter().copied().filter(|a| !a.status.is_final()).collect() };
    let finished: Vec<&Assignment> =
        if view.needs_only { Vec::new() } else { shown.iter().copied().filter(|a| a.status.is_final()).collect() };
    // Room for finished rows: what is left above the footer, less one row to count the rest.
    let room = height.saturating_sub(rows.len() + open.len() + 2);
    let finished_shown = finished.len().min(room);
    let finished_total = match (view.needs_only, view.filter.is_empty()) {
        (true, _) => 0,
        (false, true) => finished_count(s).max(finished.len()),
        (false, false) => finished.len(),
    };

    let listed: Vec<&Assignment> = open.iter().chain(&finished[..finished_shown]).copied().collect();
    let at = view.selected.as_ref().and_then(|id| listed.iter().position(|a| &a.id == id)).unwrap_or(0);
    // More open assignments than rows: the table scrolls so the selected one stays in view,
    // with a row saying how many are above and below.
    let count_row = usize::from(finished_total > finished_shown);
    let room = height.saturating_sub(rows.len() + 1 + count_row).max(3);
    let (start, end) = if listed.len() <= room {
        (0, listed.len())
    } else {
        let fit = room - 1;
        let start = (at + 1).saturating_sub(fit).min(listed.len() - fit);
        (start, start + fit)
    };
    for (i, a) in listed.iter().enumerate().take(end).skip(start) {
        let row = assignment_row(s, a, now, columns, north_star);
        rows.push(if i == at { restyle(row, SELECTED) } else { row });
    }
    if (start, end) != (0, listed.len()) {
        rows.push(vec![(format!("… {start} above, {} below (↑↓ scroll)", listed.len() - end), DIM)]);
    }
    let targets: Vec<Target> = listed
        .iter()
        .map(|a| Target { assignment: a.id.clone(), job: followed_job(s, &a.id).map(|j| j.id.clone()) })
        .collect();
    if finished_total > finished_shown {
        let rest = finished_total - finished_shown;
        let what = if finished_shown == 0 { "finished" } else { "more finished" };
        rows.push(vec![(format!("… {rest} {what} not shown (baton assignments lists them)"), DIM)]);
    }
    if s.assignments.is_empty() {
        rows.push(vec![("no assignments yet: baton create \"…\"".to_string(), DIM)]);
    } else if targets.is_empty() {
        rows.push(vec![("nothing matches (Esc clears the filter, b shows everything again)".to_string(), DIM)]);
    }
    ListPage { page: Page { rows, footer: footer(view) }, targets }
}

fn header(ns: &str, now: Millis, view: &View) -> Line {
    let clock = DateTime::from_timestamp_millis(now).map(|t| t.with_timezone(&Local).format("%H:%M:%S").to_string());
    let mut row =
        vec![("baton watch".to_string(), BOLD), (format!("  namespace {ns}  {}", clock.unwrap_or_default()), None)];
    if !view.filter.is_empty() {
        row.push((format!("  filter “{}”", view.filter), YELLOW));
    }
    if view.needs_only {
        row.push(("  blocked/idle only".to_string(), YELLOW));
    }
    row
}

fn summary(s: &Snapshot, width: usize) -> Line {
    let count = |map: &std::collections::BTreeMap<String, u64>, k: &str| map.get(k).copied().unwrap_or(0);
    let q = &s.queue;
    let idle = s.assignments.iter().filter(|a| is_idle(s, a)).count();
    let mut text = format!(
        "{} active · {} blocked · {idle} idle   jobs: {} running, {} pending",
        count(&q.assignments, "active"),
        count(&q.assignments, "blocked"),
        count(&q.jobs, "running"),
        count(&q.jobs, "pending"),
    );
    let more = format!(" ({} ready, {} waiting out a retry)", q.ready_total, q.waiting_total);
    if text.chars().count() + more.chars().count() <= width {
        text.push_str(&more);
    }
    plain(text)
}

fn footer(view: &View) -> Line {
    if view.typing {
        return vec![
            ("filter: ".to_string(), BOLD),
            (format!("{}▏", view.filter), None),
            ("  Enter keeps it · Esc clears it".to_string(), DIM),
        ];
    }
    vec![("↑↓/jk select · Enter chain · l transcript · / filter · b blocked/idle · q quit".to_string(), DIM)]
}

/// Finished assignments in the namespace, from the queue's counts.
fn finished_count(s: &Snapshot) -> usize {
    let q = &s.queue.assignments;
    let n: u64 = ["complete", "cancelled"].iter().map(|k| q.get(*k).copied().unwrap_or(0)).sum();
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Whether `a` contains the filter text (case ignored) in its id, status, north star, reason or
/// current job.
fn matches(s: &Snapshot, a: &Assignment, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let needle = filter.to_lowercase();
    let job = s.current_job(&a.id).map(|j| format!("{} {} {}", j.id, j.job_type, j.harness)).unwrap_or_default();
    let idle = if is_idle(s, a) { "idle" } else { "" };
    let hay = format!("{} {} {} {} {job} {idle}", a.id, a.status, a.north_star, a.reason.as_deref().unwrap_or(""));
    hay.to_lowercase().contains(&needle)
}

/// The job `l` follows for an assignment: the one it is on, else its latest.
fn followed_job<'a>(s: &'a Snapshot, assignment_id: &str) -> Option<&'a Job> {
    s.current_job(assignment_id).or_else(|| {
        s.jobs
            .values()
            .filter(|j| j.assignment_id == assignment_id && j.status != JobStatus::Pending)
            .max_by_key(|j| (j.started_at.unwrap_or(j.created_at), j.position))
    })
}

fn assignment_row(s: &Snapshot, a: &Assignment, now: Millis, columns: [bool; 5], north_star: usize) -> Line {
    let status_style = match a.status {
        AssignmentStatus::Active => GREEN,
        AssignmentStatus::Blocked => YELLOW,
        AssignmentStatus::Complete => None,
        AssignmentStatus::Cancelled | AssignmentStatus::Deferred => DIM,
    };
    let cost = match (a.cost_usd, a.budget_usd) {
        (c, Some(b)) => format!("{}/{}", money(c.unwrap_or(0.0)), money(b)),
        (Some(c), None) => money(c),
        (None, None) => "-".to_string(),
    };
    let (current, current_style) = match s.current_job(&a.id) {
        Some(job) => current_job(job, now),
        None if is_idle(s, a) => ("idle: nothing queued".to_string(), YELLOW),
        None => ("-".to_string(), DIM),
    };
    let row_style = if a.status.is_final() { DIM } else { None };
    let cells = [
        (a.id.clone(), row_style),
        (a.status.as_str().to_string(), status_style),
        (format!("{}/{}", a.job_count, a.max_jobs), row_style),
        (cost, row_style),
        (current, current_style),
    ];
    let mut row: Line = cells
        .into_iter()
        .zip(COLUMNS)
        .zip(columns)
        .filter(|(_, shown)| *shown)
        .map(|(((text, style), (_, w)), _)| (format!("{:<w$}", one_line(&text, w - 1)), style))
        .collect();
    row.push((one_line(&a.north_star, north_star), row_style));
    row
}

/// "j4f8hw2cx implement ▶ 1m05s" for a running job, "… next" / "… retry in 40s" for pending ones.
fn current_job(job: &Job, now: Millis) -> (String, Style) {
    let head = format!("{} {}", job.id, job.job_type);
    match job.status {
        JobStatus::Running => {
            let elapsed = job.started_at.map(|t| human_duration(now - t)).unwrap_or_default();
            (format!("{head} ▶ {elapsed}"), GREEN)
        }
        _ => match job.not_before.filter(|t| *t > now) {
            Some(t) => (format!("{head} retry in {}", human_duration(t - now)), RED),
            None => (format!("{head} next"), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_drop_in_order_and_the_north_star_keeps_its_room() {
        let (shown, room) = fit(200);
        assert_eq!((shown, room), ([true; 5], 131));
        let (shown, room) = fit(80);
        assert_eq!(shown, [true, true, false, false, true], "the job count goes, then the cost");
        assert!(room >= MIN_NORTH_STAR, "{room}");
        let (shown, room) = fit(95);
        assert_eq!(shown, [true, true, false, true, true]);
        assert!(room >= MIN_NORTH_STAR, "{room}");
        let (shown, _) = fit(40);
        assert_eq!(shown, [true, true, false, false, false], "id and status always stay");
    }
}
