//! The live view of `baton watch` as a pure function of a snapshot: a list of styled lines, then
//! painted without flicker — cursor home, each row followed by clear-to-end-of-line, the rest of
//! the screen cleared — so a redraw overwrites in place instead of blanking the screen.

use super::lines::one_line;
use super::snapshot::{Snapshot, RECENT_FINISHED};
use baton_core::time::{human_duration, Millis};
use baton_core::{Assignment, AssignmentStatus, Job, JobStatus};
use chrono::{DateTime, Local};

/// A styling of a run of text (an SGR sequence), or none.
pub(crate) type Style = Option<&'static str>;

pub(crate) const BOLD: Style = Some("\x1b[1m");
pub(crate) const DIM: Style = Some("\x1b[2m");
pub(crate) const GREEN: Style = Some("\x1b[32m");
pub(crate) const RED: Style = Some("\x1b[31m");
pub(crate) const BLOCKED: Style = Some("\x1b[1;30;43m");
pub(crate) const YELLOW: Style = Some("\x1b[33m");
const RESET: &str = "\x1b[0m";

/// Enter the alternate screen and hide the cursor.
pub(crate) const ENTER: &str = "\x1b[?1049h\x1b[?25l";
/// Show the cursor and leave the alternate screen (the shell's screen comes back as it was).
pub(crate) const LEAVE: &str = "\x1b[?25h\x1b[?1049l";

/// One screen row: styled runs of text.
pub(crate) type Line = Vec<(String, Style)>;

fn plain(text: impl Into<String>) -> Line {
    vec![(text.into(), None)]
}

/// The rows of the live view.
pub(crate) fn frame(ns: &str, s: &Snapshot, now: Millis) -> Vec<Line> {
    let mut rows = Vec::new();
    let clock = DateTime::from_timestamp_millis(now).map(|t| t.with_timezone(&Local).format("%H:%M:%S").to_string());
    rows.push(vec![
        ("baton watch".to_string(), BOLD),
        (format!("  namespace {ns}  {}", clock.unwrap_or_default()), None),
        ("   q to quit".to_string(), DIM),
    ]);
    let count = |map: &std::collections::BTreeMap<String, u64>, k: &str| map.get(k).copied().unwrap_or(0);
    let q = &s.queue;
    rows.push(plain(format!(
        "assignments: {} active, {} blocked   jobs: {} running, {} ready, {} waiting, {} pending",
        count(&q.assignments, "active"),
        count(&q.assignments, "blocked"),
        count(&q.jobs, "running"),
        q.ready.len(),
        q.waiting.len(),
        count(&q.jobs, "pending"),
    )));
    rows.push(Vec::new());

    let blocked: Vec<&Assignment> = s.assignments.iter().filter(|a| a.status == AssignmentStatus::Blocked).collect();
    if !blocked.is_empty() {
        rows.push(vec![(format!("NEEDS YOU ({})", blocked.len()), BOLD)]);
        for a in blocked {
            let reason = a.reason.as_deref().map(|r| one_line(r, 200)).unwrap_or_else(|| "no reason given".into());
            // The reason gets a row of its own: it is what the person must read.
            rows.push(vec![(format!(" {} ", a.id), BLOCKED), (format!(" {}", one_line(&a.north_star, 200)), BOLD)]);
            rows.push(vec![("   blocked: ".to_string(), YELLOW), (reason, YELLOW)]);
        }
        rows.push(Vec::new());
    }

    rows.push(vec![(
        format!("{:<11}{:<10}{:<7}{:<16}{:<34}{}", "ID", "STATUS", "JOBS", "COST", "CURRENT JOB", "NORTH STAR"),
        DIM,
    )]);
    let open = s.assignments.iter().filter(|a| !a.status.is_final());
    let finished = s.assignments.iter().filter(|a| a.status.is_final()).take(RECENT_FINISHED);
    for a in open.chain(finished) {
        rows.push(assignment_row(s, a, now));
    }
    if s.assignments.is_empty() {
        rows.push(vec![("no assignments yet: baton create \"…\"".to_string(), DIM)]);
    }
    rows
}

fn assignment_row(s: &Snapshot, a: &Assignment, now: Millis) -> Line {
    let status_style = match a.status {
        AssignmentStatus::Active => GREEN,
        AssignmentStatus::Blocked => YELLOW,
        AssignmentStatus::Complete => None,
        AssignmentStatus::Cancelled => DIM,
        AssignmentStatus::Deferred => DIM,
    };
    let cost = match (a.cost_usd, a.budget_usd) {
        (Some(c), Some(b)) => format!("${c:.2}/${b:.2}"),
        (None, Some(b)) => format!("$0.00/${b:.2}"),
        (Some(c), None) => format!("${c:.2}"),
        (None, None) => "-".to_string(),
    };
    let (current, current_style) = match s.current_job(&a.id) {
        Some(job) => current_job(job, now),
        None => ("-".to_string(), DIM),
    };
    let row_style = if a.status.is_final() { DIM } else { None };
    vec![
        (format!("{:<11}", a.id), row_style),
        (format!("{:<10}", a.status.as_str()), status_style),
        (format!("{:<7}", format!("{}/{}", a.job_count, a.max_jobs)), row_style),
        (format!("{cost:<16}"), row_style),
        (format!("{:<34}", one_line(&current, 33)), current_style),
        (one_line(&a.north_star, 200), row_style),
    ]
}

/// "j4f8hw2c implement 1m05s" for a running job, "… next" / "… retry 07:45:10" for pending ones.
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

/// The escape sequences that draw `rows` over the previous frame on a `width`×`height` screen.
pub(crate) fn paint(rows: &[Line], width: usize, height: usize) -> String {
    let mut out = String::from("\x1b[H");
    let shown = rows.len().min(height.max(1));
    for (i, row) in rows.iter().take(shown).enumerate() {
        let more = rows.len() - shown;
        if i + 1 == shown && more > 0 {
            let note: Line = vec![(format!("… {} more rows (enlarge the window)", more + 1), DIM)];
            push_row(&mut out, &note, width);
        } else {
            push_row(&mut out, row, width);
        }
        if i + 1 < shown {
            out.push_str("\r\n");
        }
    }
    out.push_str("\x1b[J");
    out
}

/// One row cut to the screen width (so it never wraps), then clear to the end of the line.
fn push_row(out: &mut String, row: &Line, width: usize) {
    let mut left = width;
    for (text, style) in row {
        if left == 0 {
            break;
        }
        let piece: String = text.chars().take(left).collect();
        left -= piece.chars().count();
        match style {
            Some(code) => {
                out.push_str(code);
                out.push_str(&piece);
                out.push_str(RESET);
            }
            None => out.push_str(&piece),
        }
    }
    out.push_str("\x1b[K");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_cut_to_the_width_and_clear_their_line() {
        let rows = vec![plain("abcdefghij"), vec![("xy".into(), BOLD), ("z".into(), None)]];
        let painted = paint(&rows, 4, 10);
        assert_eq!(painted, "\x1b[Habcd\x1b[K\r\n\x1b[1mxy\x1b[0mz\x1b[K\x1b[J");
    }

    #[test]
    fn rows_past_the_height_are_counted() {
        let rows: Vec<Line> = (0..5).map(|i| plain(format!("row {i}"))).collect();
        let painted = paint(&rows, 80, 3);
        assert!(painted.contains("row 1") && !painted.contains("row 2"));
        assert!(painted.contains("… 3 more rows"), "{painted:?}");
    }
}
