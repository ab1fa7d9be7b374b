//! `update-assignment`, `cancel-job`, `retry-job` and the guards.

use crate::common::{ids, Sandbox};
use serde_json::Value;

fn statuses(detail: &Value) -> Vec<String> {
    detail["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap().to_string()).collect()
}

#[test]
fn completing_cancels_pending_jobs() {
    let s = Sandbox::new();
    let aid = s.create("Done soon", &["--first", "plan"]);
    s.insert(&aid, "implement", &[]);
    let detail = s.json(&["update-assignment", &aid, "--status", "complete"]);
    assert_eq!(detail["status"], "complete");
    assert_eq!(detail["reason"], Value::Null);
    assert_eq!(statuses(&detail), vec!["cancelled", "cancelled"]);
    assert_eq!(s.json(&["queue"])["jobs"]["pending"], 0);
}

#[test]
fn cancelling_prints_the_result_for_people() {
    let s = Sandbox::new();
    let aid = s.create("Abandon", &["--first", "plan"]);
    let out = s.ok(&["update-assignment", &aid, "--status", "cancelled"]);
    assert!(out.contains(&format!("assignment {aid} is cancelled")), "{out}");
    assert!(out.contains("1 open job(s) cancelled"), "{out}");
}

#[test]
fn block_and_resume_with_a_note_queues_a_pm_job() {
    let s = Sandbox::new();
    let aid = s.create("Needs a human", &[]);
    let blocked = s.json(&["update-assignment", &aid, "--status", "blocked", "--reason", "needs a product decision"]);
    assert_eq!(blocked["status"], "blocked");
    assert_eq!(blocked["reason"], "needs a product decision");

    let resumed = s.json(&["update-assignment", &aid, "--status", "active", "--note", "use the v2 API"]);
    assert_eq!(resumed["status"], "active");
    assert_eq!(resumed["reason"], Value::Null);
    let jobs = resumed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["type"], "pm");
    assert_eq!(jobs[0]["status"], "pending");
    assert!(jobs[0]["context"].as_str().unwrap().contains("use the v2 API"), "{}", jobs[0]["context"]);
    let history = resumed["history"].as_array().unwrap();
    assert!(history
        .iter()
        .any(|h| h["reason"] == "use the v2 API" || h["action"].as_str().unwrap().contains("blocked → active")));
}

#[test]
fn resume_for_people_names_the_pm_job() {
    let s = Sandbox::new();
    let aid = s.create("Needs a human", &[]);
    s.ok(&["update-assignment", &aid, "--status", "blocked", "--reason", "why"]);
    let out = s.ok(&["update-assignment", &aid, "--status", "active"]);
    assert!(out.contains("is active") && out.contains("(pm)"), "{out}");
}

#[test]
fn guards_can_be_raised() {
    let s = Sandbox::new();
    let aid = s.create("Guarded", &["--budget-usd", "5", "--max-jobs", "30"]);
    let detail = s.json(&["update-assignment", &aid, "--budget-usd", "10", "--max-jobs", "60"]);
    assert_eq!(detail["budget_usd"], 10.0);
    assert_eq!(detail["max_jobs"], 60);
    assert_eq!(detail["status"], "active");
    let out = s.ok(&["update-assignment", &aid, "--max-jobs", "70"]);
    assert!(out.contains("job limit 70"), "{out}");
    // The token guard binds any harness; people write large counts grouped.
    let detail = s.json(&["update-assignment", &aid, "--budget-tokens", "2_000_000"]);
    assert_eq!((detail["budget_tokens"].clone(), detail["tokens_spent"].clone()), (2_000_000.into(), Value::Null));
    let out = s.ok(&["update-assignment", &aid, "--budget-tokens", "3,000,000"]);
    assert!(out.contains("token budget 3000000 (0 used)"), "{out}");
    let shown = s.ok(&["assignment", &aid]);
    assert!(shown.contains("-/3000000 (input + output + cache-write tokens)"), "{shown}");
}

#[test]
fn the_job_limit_blocks_the_assignment() {
    let s = Sandbox::new();
    let aid = s.create("Small", &["--max-jobs", "2", "--first", "plan"]);
    s.insert(&aid, "implement", &[]);
    let err = s.fails(&["insert-job", &aid, "--type", "review"], 1);
    assert!(err.contains("job limit"), "{err}");
    let detail = s.json(&["assignment", &aid]);
    assert_eq!(detail["status"], "blocked");
    assert_eq!(detail["reason"], "job limit 2 reached");
    assert_eq!(detail["jobs"].as_array().unwrap().len(), 2);
}

#[test]
fn cancel_and_retry_a_job() {
    let s = Sandbox::new();
    let aid = s.create("Retry me", &[]);
    let first = s.insert(&aid, "implement", &["--context", "the work"]);
    let last = s.insert(&aid, "review", &[]);

    let cancelled = s.json(&["cancel-job", &first]);
    assert_eq!(cancelled["id"], first.as_str());
    assert_eq!(cancelled["status"], "cancelled");

    let copy = s.json(&["retry-job", &first]);
    assert_ne!(copy["id"], first.as_str());
    assert_eq!(copy["status"], "pending");
    assert_eq!(copy["type"], "implement");
    assert_eq!(copy["context"], "the work");
    let copy_id = copy["id"].as_str().unwrap().to_string();
    // The copy sits right after the original.
    let chain = s.json(&["jobs", "--assignment", &aid]);
    assert_eq!(ids(&chain), vec![first.clone(), copy_id, last.clone()]);

    // Final jobs cannot be cancelled again; pending ones cannot be retried.
    let err = s.fails(&["cancel-job", &first], 1);
    assert!(err.contains("cancelled"), "{err}");
    let err = s.fails(&["retry-job", &last], 1);
    assert!(err.contains("pending"), "{err}");

    let out = s.ok(&["cancel-job", &last]);
    assert!(out.starts_with(&format!("cancelled job {last}")), "{out}");
    let out = s.ok(&["retry-job", &last]);
    assert!(out.contains(&format!("a copy of {last}")), "{out}");
}

#[test]
fn cancel_and_retry_say_what_happens_next() {
    let s = Sandbox::new();
    let aid = s.create("Say what next", &[]);
    let first = s.insert(&aid, "implement", &[]);
    let second = s.insert(&aid, "review", &[]);
    let out = s.ok(&["cancel-job", &first]);
    assert!(out.contains(&format!("next: job {second} (review) runs next")), "{out}");
    // Cancelling a pending job queues no PM; with nothing left the assignment is idle.
    let out = s.ok(&["cancel-job", &second]);
    assert!(out.contains("idle: nothing queued — insert a job or complete it"), "{out}");
    assert_eq!(s.json(&["jobs", "--assignment", &aid]).as_array().unwrap().len(), 2, "no PM job");
    let out = s.ok(&["retry-job", &first]);
    assert!(out.contains("it runs next"), "{out}");
    // The copy of a job, when the assignment is blocked, waits for a person's resume.
    s.ok(&["update-assignment", &aid, "--status", "blocked", "--reason", "think"]);
    let out = s.ok(&["retry-job", &second]);
    assert!(
        out.contains(&format!(
            "it runs once a person resumes the assignment: baton update-assignment {aid} --status active"
        )),
        "{out}"
    );
    // Each copy goes after the last job no longer pending: what ran stays first, in order.
    let chain = s.json(&["jobs", "--assignment", &aid]);
    let statuses: Vec<&str> = chain.as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["cancelled", "cancelled", "pending", "pending"]);
}
