//! `baton schedule`: adding, showing, pausing and removing schedules as people see them, and bad
//! patterns, zones and options refused with one line and nothing stored.

use crate::common::Sandbox;

#[test]
fn a_schedule_is_added_shown_paused_resumed_and_removed() {
    let s = Sandbox::new();
    let out = s.ok(&["schedule", "add", "0 9 * * 1", "Update the dependencies", "--timezone", "Europe/Berlin"]);
    assert!(out.starts_with("added schedule s"), "{out}");
    let list = s.json(&["schedule", "list"]);
    let sched = &list[0];
    let id = sched["id"].as_str().unwrap().to_string();
    for key in ["id", "cron", "timezone", "north_star", "overlap", "paused", "next_fire_at", "last_fired_at", "runs"] {
        assert!(sched.get(key).is_some(), "{key} in {sched:#}");
    }
    assert_eq!((sched["cron"].as_str(), sched["timezone"].as_str()), (Some("0 9 * * 1"), Some("Europe/Berlin")));
    assert_eq!((sched["overlap"].as_str(), sched["paused"].as_bool()), (Some("skip"), Some(false)));
    // Monday 09:00 in Berlin is 08:00 UTC in winter or 07:00 UTC in summer, on the minute.
    let next = sched["next_fire_at"].as_str().unwrap();
    assert!(next.ends_with(":00:00.000Z") && (next.contains("T08:") || next.contains("T07:")), "{next}");
    assert!(sched["last_fired_at"].is_null() && sched["runs"].as_array().unwrap().is_empty());

    let shown = s.ok(&["schedule", "show", &id]);
    assert!(shown.contains("0 9 * * 1 (Europe/Berlin) → Update the dependencies") && shown.contains("no runs yet"));
    assert!(shown.contains(" 09:00 CET)") || shown.contains(" 09:00 CEST)"), "the zone's wall clock: {shown}");
    assert_eq!(s.json(&["schedule", "pause", &id])["paused"], true);
    assert_eq!(s.json(&["schedule", "resume", &id])["paused"], false);
    assert!(s.ok(&["schedule", "remove", &id]).contains(&format!("removed schedule {id}")));
    assert_eq!(s.json(&["schedule", "list"]), serde_json::json!([]));
    let err = s.fails(&["schedule", "show", &id], 1);
    assert!(err.contains(&format!("no schedule {id}")), "{err}");
}

#[test]
fn bad_cron_zones_and_options_are_refused_with_one_line_and_nothing_stored() {
    let s = Sandbox::new();
    let before = s.json(&["schedule", "list"]);
    for (args, says) in [
        (&["schedule", "add", "61 * * * *", "x"][..], "invalid cron expression `61 * * * *`"),
        (&["schedule", "add", "* * * *", "x"][..], "invalid cron expression `* * * *`: it has 4 fields"),
        (&["schedule", "add", "@sometimes", "x"][..], "invalid cron expression `@sometimes`"),
        (&["schedule", "add", "@daily", "x", "--timezone", "Europe/Berln"][..], "unknown time zone `Europe/Berln`"),
        (&["schedule", "add", "@daily", "  "][..], "north star"),
        (&["schedule", "add", "@daily", "x", "--first", "plan", "--harness", "nope"][..], "unknown harness `nope`"),
    ] {
        let err = s.fails(args, 1);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let usage = s.fails(&["schedule", "add", "@daily", "x", "--overlap", "maybe"], 2);
    assert!(usage.contains("skip, queue"), "{usage}");
    assert_eq!(s.json(&["schedule", "list"]), before, "nothing stored");
}
