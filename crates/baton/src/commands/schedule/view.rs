//! A schedule for people: one summary line group, and its run history.

use crate::output::format::{one_line, opt_time, time};
use baton_core::engine::schedule::wall_clock;
use baton_core::Schedule;

/// What it creates, when, and what it did last.
pub fn summary(s: &Schedule) -> String {
    let state = if s.paused { "paused" } else { "next" };
    // The slot as the zone's wall clock says it, which is how the person wrote the pattern.
    let next = match wall_clock(s.next_fire_at, &s.timezone) {
        Some(local) if s.timezone != "UTC" => format!("{} ({local})", time(s.next_fire_at)),
        _ => time(s.next_fire_at),
    };
    let mut text = format!(
        "  {} ({}) → {}\n  {state}: {next}  overlap: {}  last fired: {}  runs: {}\n",
        s.cron,
        s.timezone,
        one_line(&s.north_star),
        s.overlap,
        opt_time(s.last_fired_at),
        s.runs_total
    );
    if let Some(first) = s.creates.first {
        text.push_str(&format!(
            "  first job: {first}{}\n",
            s.creates.harness.as_deref().map(|h| format!(" on {h}")).unwrap_or_default()
        ));
    }
    text
}

/// The run history, newest first.
pub fn runs(s: &Schedule) -> String {
    if s.runs.is_empty() {
        return "  no runs yet\n".to_string();
    }
    let mut text = format!("runs (newest first, {} of {}):\n", s.runs.len(), s.runs_total);
    for run in &s.runs {
        let slot = run.slot_at.map_or_else(|| "on demand".to_string(), |t| format!("slot {}", time(t)));
        let what = match (&run.assignment_id, &run.skipped) {
            (Some(aid), _) => format!("created {aid}"),
            (None, Some(why)) => format!("skipped: {}", one_line(why)),
            (None, None) => "nothing".to_string(),
        };
        text.push_str(&format!("  {} {slot} by {}: {what}\n", time(run.fired_at), run.by));
    }
    text
}
