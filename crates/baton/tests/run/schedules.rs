//! Schedules fired by real runners: several `baton run` processes share one database and a slot
//! made due now (through `schedule next-fire`, not by waiting a minute) creates exactly one
//! assignment; while it is open the next slot is skipped (`--overlap skip`) and says so; after
//! downtime the missed period fires once and the next slot is in the future. The same story runs
//! on SQLite and on PostgreSQL.

use crate::harness::Bench;
use serde_json::Value;
use std::process::Child;

/// A slot `minutes_ago` minutes before now, on the minute, as RFC 3339.
fn slot_ago(minutes_ago: i64) -> String {
    let at = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
    at.format("%Y-%m-%dT%H:%M:00Z").to_string()
}

fn schedule(bench: &Bench, id: &str) -> Value {
    bench.json(&["schedule", "show", id])
}

fn assignments(bench: &Bench) -> Vec<Value> {
    bench.json(&["assignments"]).as_array().cloned().unwrap_or_default()
}

fn stop(runners: Vec<Child>) {
    for mut runner in runners {
        let _ = runner.kill();
        let _ = runner.wait();
    }
}

fn next_fire_is_ahead(s: &Value) -> bool {
    let next = chrono::DateTime::parse_from_rfc3339(s["next_fire_at"].as_str().unwrap_or_default()).unwrap();
    next > chrono::Utc::now()
}

pub(crate) fn slots_fire_once_across_runners(bench: &Bench) {
    // Once a year, so no real slot comes up during the test: only the slots it moves fire.
    let sid =
        bench.json(&["schedule", "add", "0 0 1 1 *", "Sweep the TODO comments"])["id"].as_str().unwrap().to_string();
    let runners: Vec<Child> = (0..3).map(|_| bench.spawn_runner(&[])).collect();
    bench.wait_for("three runners", || bench.json(&["queue"])["runners"].as_array().is_some_and(|r| r.len() == 3));

    // Due now: one of the three runners creates the assignment, the others nothing.
    bench.ok(&["schedule", "next-fire", &sid, &slot_ago(1)]);
    bench.wait_for("the slot to fire", || schedule(bench, &sid)["runs_total"] == 1);
    let s = schedule(bench, &sid);
    let created = assignments(bench);
    assert_eq!(created.len(), 1, "one assignment per slot: {created:#?}");
    let aid = created[0]["id"].as_str().unwrap().to_string();
    assert_eq!(s["runs"][0]["assignment_id"], aid.as_str());
    assert!(s["runs"][0]["by"].as_str().unwrap_or_default().starts_with("runner r"), "{s:#}");
    assert!(next_fire_is_ahead(&s), "{s:#}");
    assert_eq!(s["last_assignment_id"], aid.as_str());
    let detail = bench.detail(&aid);
    assert_eq!(detail["north_star"], "Sweep the TODO comments");
    let history = detail["history"].as_array().unwrap();
    let line = history.iter().find(|h| h["action"] == "scheduled").expect("the history names the schedule");
    assert!(line["reason"].as_str().unwrap_or_default().contains(&sid), "{line:#}");

    // The assignment is still open: with --overlap skip the next slot is skipped, and says why.
    bench.ok(&["schedule", "next-fire", &sid, &slot_ago(1)]);
    bench.wait_for("the skipped slot", || schedule(bench, &sid)["runs_total"] == 2);
    let s = schedule(bench, &sid);
    let skipped = s["runs"][0]["skipped"].as_str().unwrap_or_default().to_string();
    assert!(skipped.contains(&aid) && skipped.contains("active"), "{s:#}");
    assert_eq!(assignments(bench).len(), 1);
    assert!(next_fire_is_ahead(&s));
    let history = bench.ok(&["schedule", "show", &sid]);
    assert!(
        history.contains(&format!("created {aid}")) && history.contains("skipped: the previous assignment"),
        "{history}"
    );

    // Downtime: no runner while three hours of slots pass; the first runner back fires once.
    stop(runners);
    bench.ok(&["update-assignment", &aid, "--status", "complete"]);
    bench.ok(&["schedule", "next-fire", &sid, &slot_ago(180)]);
    let runners: Vec<Child> = (0..2).map(|_| bench.spawn_runner(&[])).collect();
    bench.wait_for("the missed period to fire", || schedule(bench, &sid)["runs_total"] == 3);
    let s = schedule(bench, &sid);
    assert!(s["runs"][0]["assignment_id"].is_string(), "{s:#}");
    assert!(next_fire_is_ahead(&s), "the next slot is after now, not the next missed one: {s:#}");
    assert_eq!(assignments(bench).len(), 2);
    stop(runners);
    assert_eq!(schedule(bench, &sid)["runs_total"], 3, "one fire for the missed period");
}

#[test]
fn several_runners_fire_each_slot_once_on_sqlite() {
    slots_fire_once_across_runners(&Bench::new());
}

#[test]
fn a_runner_wakes_for_a_new_schedule_and_its_first_job_runs() {
    let bench = Bench::new();
    let mut runner = bench.spawn_runner(&[]);
    bench.wait_for("the runner", || bench.json(&["queue"])["runners"].as_array().is_some_and(|r| r.len() == 1));
    let sid = bench.json(&[
        "schedule",
        "add",
        "0 0 1 1 *",
        "Scheduled work @flow implement",
        "--first",
        "implement",
        "--context",
        "@write scheduled.txt done",
        "--overlap",
        "queue",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    bench.ok(&["schedule", "next-fire", &sid, &slot_ago(1)]);
    bench.wait_for("the assignment to complete", || {
        assignments(&bench).first().is_some_and(|a| a["status"] == "complete")
    });
    let aid = assignments(&bench)[0]["id"].as_str().unwrap().to_string();
    let detail = bench.detail(&aid);
    assert_eq!(detail["jobs"][0]["type"], "implement");
    assert_eq!(detail["context"], "@write scheduled.txt done");
    let _ = runner.kill();
    let _ = runner.wait();
}
