//! Schedules, decided once for every backend: reading a cron pattern in a time zone, the next
//! slot after a fire, and whether a slot creates an assignment or is skipped.
//!
//! Patterns are read by `croner` (five fields, or `@hourly`, `@daily`, `@weekly`, `@monthly`,
//! `@yearly`) in an IANA zone from `chrono-tz`, so "09:00 Europe/Berlin" stays 09:00 local time
//! across daylight-saving changes: a time that does not exist on the spring-forward day fires at
//! the first minute after the gap, and a time that exists twice in autumn fires once.
//!
//! **After downtime a schedule fires once, not once per missed slot.** The slot after a fire is
//! the first one after *now*, not after the slot that fired: a runner that was down for a week
//! creates one assignment for the week, and its next slot is in the future.

use crate::error::{Error, Result};
use crate::model::{Actor, AssignmentStatus, Overlap};
use crate::time::Millis;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// A parsed pattern and its zone: everything needed to compute slots.
#[derive(Debug, Clone)]
pub struct CronSpec {
    cron: Cron,
    zone: Tz,
    /// The pattern as stored and shown: its fields separated by single spaces.
    pattern: String,
}

/// The zone a schedule is read in when none is given.
pub const DEFAULT_TIMEZONE: &str = "UTC";

/// Reads `pattern` in `timezone`; the error names whichever is wrong and what is accepted.
pub fn parse(pattern: &str, timezone: &str) -> Result<CronSpec> {
    // Line breaks and tabs between fields are spaces to cron; folded here, so that what is
    // stored, listed and named in an error stays on one line.
    let one_line = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let zone: Tz = timezone.trim().parse().map_err(|_| {
        Error::invalid(format!(
            "unknown time zone `{}`; give an IANA name such as Europe/Berlin, America/New_York or UTC",
            one_line(timezone)
        ))
    })?;
    let pattern = one_line(pattern);
    let trimmed = pattern.as_str();
    let fields = trimmed.split_whitespace().count();
    let bad = |why: String| {
        Error::invalid(format!(
            "invalid cron expression `{pattern}`: {why}; give five fields (minute hour day-of-month month \
             day-of-week, e.g. `0 9 * * 1`) or @hourly, @daily, @weekly"
        ))
    };
    if !trimmed.starts_with('@') && fields != 5 {
        return Err(bad(format!("it has {fields} fields")));
    }
    let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
    let cron = parser.parse(trimmed).map_err(|e| bad(e.to_string().trim_end_matches('.').to_string()))?;
    let spec = CronSpec { cron, zone, pattern: pattern.clone() };
    // A pattern that never matches (`0 0 31 2 *`) would leave the schedule without a slot.
    spec.next_after(Utc::now().timestamp_millis()).map_err(|_| bad("it matches no time".to_string()))?;
    Ok(spec)
}

impl CronSpec {
    /// The pattern, its fields separated by single spaces (`0 9 * * 1`).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The first slot strictly after `after` (slots fall on whole minutes).
    pub fn next_after(&self, after: Millis) -> Result<Millis> {
        // Searched from the whole second: croner keeps the start's fraction in what it returns.
        let start = DateTime::<Utc>::from_timestamp_millis(after.div_euclid(1000) * 1000)
            .ok_or_else(|| Error::invalid(format!("time {after} is out of range")))?
            .with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&start, false)
            .map(|t| t.timestamp_millis())
            .map_err(|e| Error::invalid(format!("no next time for this schedule: {e}")))
    }

    /// The slot after a fire at `now`: the first one after now, so that missed slots are not
    /// fired one by one after downtime.
    pub fn next_after_fire(&self, slot: Millis, now: Millis) -> Result<Millis> {
        self.next_after(slot.max(now))
    }
}

/// `ms` on the wall clock of `timezone` (`2026-12-07 09:00 CET`), for people; `None` for a zone
/// that does not parse.
pub fn wall_clock(ms: Millis, timezone: &str) -> Option<String> {
    let zone: Tz = timezone.trim().parse().ok()?;
    let at = DateTime::<Utc>::from_timestamp_millis(ms)?.with_timezone(&zone);
    Some(at.format("%Y-%m-%d %H:%M %Z").to_string())
}

/// What a due slot (or a fire on demand) does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fire {
    /// Create the assignment.
    Create,
    /// Create nothing; the run history records this reason.
    Skip(String),
}

/// Decides a fire: with `overlap = skip`, nothing is created while the schedule's previous
/// assignment (`previous`: its id and status, if it still exists) is not final.
pub fn decide(overlap: Overlap, previous: Option<(&str, AssignmentStatus)>) -> Fire {
    match (overlap, previous) {
        (Overlap::Skip, Some((id, status))) if !status.is_final() => Fire::Skip(format!(
            "the previous assignment {id} is {status}; with --overlap skip a new one is created once it is complete \
             or cancelled"
        )),
        _ => Fire::Create,
    }
}

/// Schedules create assignments, which agents never do: only people (and the API) manage them.
pub fn check_actor(actor: &Actor) -> Result<()> {
    match actor {
        Actor::Job { id, .. } => Err(Error::Scope {
            refusal: format!(
                "job {id} may not manage schedules: they create assignments, which is a person's decision; \
                 run `baton schedule` outside a job"
            ),
        }),
        Actor::Person(_) | Actor::Engine => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(zone: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        zone.with_ymd_and_hms(y, mo, d, h, mi, 0).earliest().map(|t| t.timestamp_millis()).unwrap_or_default()
    }

    fn utc(ms: Millis) -> String {
        crate::time::rfc3339(ms)
    }

    #[test]
    fn five_fields_and_nicknames_give_the_next_slot() {
        let spec = parse("*/15 * * * *", "UTC").unwrap();
        assert_eq!(utc(spec.next_after(at(Tz::UTC, 2026, 1, 5, 10, 7)).unwrap()), "2026-01-05T10:15:00.000Z");
        let within_a_second = at(Tz::UTC, 2026, 1, 5, 10, 7) + 218;
        assert_eq!(utc(spec.next_after(within_a_second).unwrap()), "2026-01-05T10:15:00.000Z", "whole minutes");
        let on_a_slot = at(Tz::UTC, 2026, 1, 5, 10, 15);
        assert_eq!(utc(spec.next_after(on_a_slot).unwrap()), "2026-01-05T10:30:00.000Z", "strictly after");
        let hourly = parse("@hourly", "UTC").unwrap();
        assert_eq!(utc(hourly.next_after(at(Tz::UTC, 2026, 1, 5, 10, 0)).unwrap()), "2026-01-05T11:00:00.000Z");
        let daily = parse("@daily", "UTC").unwrap();
        assert_eq!(utc(daily.next_after(at(Tz::UTC, 2026, 1, 5, 10, 0)).unwrap()), "2026-01-06T00:00:00.000Z");
        // 2026-01-05 is a Monday: @weekly is Sunday midnight.
        let weekly = parse("@weekly", "UTC").unwrap();
        assert_eq!(utc(weekly.next_after(at(Tz::UTC, 2026, 1, 5, 10, 0)).unwrap()), "2026-01-11T00:00:00.000Z");
    }

    #[test]
    fn monday_nine_in_berlin_follows_daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        let spec = parse("0 9 * * 1", "Europe/Berlin").unwrap();
        // Before the spring change (CET, UTC+1) 09:00 is 08:00 UTC ...
        let before = spec.next_after(at(berlin, 2026, 3, 20, 12, 0)).unwrap();
        assert_eq!(utc(before), "2026-03-23T08:00:00.000Z");
        // ... after 29 March (CEST, UTC+2) it is 07:00 UTC: still 09:00 on the wall.
        let after = spec.next_after(before).unwrap();
        assert_eq!(utc(after), "2026-03-30T07:00:00.000Z");
    }

    #[test]
    fn slots_are_shown_on_the_zones_wall_clock() {
        let winter = at(Tz::UTC, 2026, 12, 7, 8, 0);
        assert_eq!(wall_clock(winter, "Europe/Berlin").as_deref(), Some("2026-12-07 09:00 CET"));
        assert_eq!(wall_clock(winter, "Nowhere/Else"), None);
    }

    #[test]
    fn a_time_in_the_spring_gap_fires_after_it_and_an_autumn_repeat_fires_once() {
        let berlin = chrono_tz::Europe::Berlin;
        // 02:30 does not exist on 29 March 2026 in Berlin (02:00 → 03:00).
        let spec = parse("30 2 * * *", "Europe/Berlin").unwrap();
        let gap_day = spec.next_after(at(berlin, 2026, 3, 29, 0, 0)).unwrap();
        assert_eq!(utc(gap_day), "2026-03-29T01:00:00.000Z", "03:00 CEST, the first minute after the gap");
        // 02:30 exists twice on 25 October 2026 (03:00 CEST → 02:00 CET): one slot that day.
        let first = spec.next_after(at(berlin, 2026, 10, 25, 0, 0)).unwrap();
        let next = spec.next_after(first).unwrap();
        assert_eq!(utc(first), "2026-10-25T00:30:00.000Z");
        assert_eq!(utc(next), "2026-10-26T01:30:00.000Z", "the repeated hour fires once");
    }

    #[test]
    fn after_downtime_the_next_slot_is_after_now() {
        let spec = parse("* * * * *", "UTC").unwrap();
        let slot = at(Tz::UTC, 2026, 1, 5, 10, 0);
        let now = slot + 3 * 60 * 60 * 1000 + 5_000;
        let next = spec.next_after_fire(slot, now).unwrap();
        assert!(next > now, "one fire for the missed period, then the future");
        assert_eq!(utc(next), "2026-01-05T13:01:00.000Z");
    }

    #[test]
    fn bad_patterns_and_zones_are_named() {
        for bad in ["* * * *", "61 * * * *", "0 0 * * * *", "@sometimes", "", "0 0 31 2 *"] {
            let err = parse(bad, "UTC").unwrap_err().to_string();
            assert!(err.contains("invalid cron expression"), "{bad}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
        let err = parse("0 9 * * 1", "Europe/Berln").unwrap_err().to_string();
        assert!(err.contains("unknown time zone `Europe/Berln`"), "{err}");
        // A line break in what was typed does not break the one-line error, nor what is stored.
        let err = parse("61\n* * * *", "UTC").unwrap_err().to_string();
        assert!(err.contains("invalid cron expression `61 * * * *`") && !err.contains('\n'), "{err}");
        let err = parse("@daily", "Europe/\nBerln").unwrap_err().to_string();
        assert!(err.contains("unknown time zone `Europe/ Berln`") && !err.contains('\n'), "{err}");
        assert_eq!(parse(" 0  9\t*\n* 1 ", "UTC").unwrap().pattern(), "0 9 * * 1");
    }

    #[test]
    fn overlap_skip_waits_for_an_open_previous_assignment() {
        use AssignmentStatus::*;
        for open in [Active, Blocked, Deferred] {
            let Fire::Skip(reason) = decide(Overlap::Skip, Some(("a1", open))) else { panic!("{open} skips") };
            assert!(reason.contains("a1 is"), "{reason}");
            assert_eq!(decide(Overlap::Queue, Some(("a1", open))), Fire::Create);
        }
        for done in [Complete, Cancelled] {
            assert_eq!(decide(Overlap::Skip, Some(("a1", done))), Fire::Create);
        }
        assert_eq!(decide(Overlap::Skip, None), Fire::Create);
    }

    #[test]
    fn agents_may_not_manage_schedules() {
        assert!(check_actor(&Actor::job("j1")).is_err());
        assert!(check_actor(&Actor::Person("ann".into())).is_ok());
    }
}
