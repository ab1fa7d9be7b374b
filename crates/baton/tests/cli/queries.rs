//! `create`, `insert-job` and the read commands: JSON shapes, chain order, filters and the human
//! views.

use crate::common::{id, ids, Sandbox};
use serde_json::Value;

const ASSIGNMENT_FIELDS: &[&str] = &[
    "id",
    "namespace",
    "north_star",
    "status",
    "reason",
    "created_at",
    "updated_at",
    "max_jobs",
    "budget_usd",
    "cost_usd",
    "jobs",
    "history",
];

const JOB_FIELDS: &[&str] = &[
    "id",
    "assignment_id",
    "type",
    "harness",
    "context",
    "status",
    "attempts",
    "max_attempts",
    "not_before",
    "created_at",
    "started_at",
    "finished_at",
    "duration_ms",
    "result",
    "success",
    "error",
    "error_kind",
    "exit_code",
    "session_id",
    "tokens_in",
    "tokens_out",
    "cost_usd",
    "for_job_id",
    "runner",
    "attempt_history",
];

fn assert_fields(v: &Value, fields: &[&str]) {
    let obj = v.as_object().unwrap_or_else(|| panic!("object: {v}"));
    for f in fields {
        assert!(obj.contains_key(*f), "missing `{f}` in {v}");
    }
}

fn write_config(s: &Sandbox, text: &str) {
    std::fs::create_dir_all(s.repo().join(".baton")).unwrap();
    std::fs::write(s.repo().join(".baton/config.toml"), text).unwrap();
}

#[test]
fn create_prints_the_assignment_with_its_first_job() {
    let s = Sandbox::new();
    let a = s.json(&[
        "create",
        "Add OAuth login",
        "--first",
        "plan",
        "--context",
        "Google and GitHub",
        "--budget-usd",
        "5",
        "--max-jobs",
        "30",
    ]);
    assert_fields(&a, ASSIGNMENT_FIELDS);
    assert_eq!(a["namespace"], "repo");
    assert_eq!(a["north_star"], "Add OAuth login");
    assert_eq!(a["status"], "active");
    assert_eq!(a["reason"], Value::Null);
    assert_eq!(a["max_jobs"], 30);
    assert_eq!(a["budget_usd"], 5.0);
    assert_eq!(a["cost_usd"], Value::Null);
    let jobs = a["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_fields(job, JOB_FIELDS);
    assert_eq!(job["type"], "plan");
    assert_eq!(job["harness"], "claude");
    assert_eq!(job["context"], "Google and GitHub");
    assert_eq!(job["status"], "pending");
    assert_eq!(job["attempts"], 0);
    assert_eq!(job["max_attempts"], 3);
    assert_eq!(job["assignment_id"], a["id"]);
    assert_eq!(a["history"][0]["actor"], "person:tester");
    // RFC 3339 timestamps.
    assert!(a["created_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn create_defaults_come_from_config() {
    let s = Sandbox::new();
    write_config(
        &s,
        "namespace = \"web\"\nmax_attempts = 4\nmax_jobs_per_assignment = 7\n\
         [harness_defaults]\nimplement = \"codex\"\n",
    );
    let a = s.json(&["create", "Ship it", "--first", "implement"]);
    assert_eq!(a["namespace"], "web");
    assert_eq!(a["max_jobs"], 7);
    assert_eq!(a["budget_usd"], Value::Null);
    assert_eq!(a["jobs"][0]["harness"], "codex");
    assert_eq!(a["jobs"][0]["max_attempts"], 4);
    assert_eq!(a["jobs"][0]["context"], "", "--first without --context");
    let aid = id(&a);
    let plan = s.json(&["insert-job", &aid, "--type", "plan"]);
    assert_eq!(plan["harness"], "claude", "default for other types");
    let review = s.json(&["insert-job", &aid, "--type", "review", "--harness", "gemini"]);
    assert_eq!(review["harness"], "gemini");
    // An environment variable beats the file.
    let out =
        s.cmd().env("BATON_MAX_ATTEMPTS", "9").args(["insert-job", &aid, "--type", "uat", "--json"]).output().unwrap();
    let uat: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(uat["max_attempts"], 9);
}

#[test]
fn insert_job_prints_the_job() {
    let s = Sandbox::new();
    let aid = s.create("North", &[]);
    let job = s.json(&["insert-job", &aid, "--type", "implement", "--harness", "claude", "--context", "Step 1"]);
    assert_fields(&job, JOB_FIELDS);
    assert_eq!(job["type"], "implement");
    assert_eq!(job["context"], "Step 1");
    assert_eq!(job["status"], "pending");
    assert_eq!(job["assignment_id"], aid.as_str());
    assert_eq!(job["for_job_id"], Value::Null);
    assert_eq!(job["attempt_history"], serde_json::json!([]));

    let out = s.ok(&["insert-job", &aid, "--type", "review"]);
    assert!(out.starts_with("queued job j"), "{out}");
    assert!(out.contains(&aid), "{out}");
}

#[test]
fn after_places_the_job_in_chain_order() {
    let s = Sandbox::new();
    let aid = s.create("Chain", &[]);
    let a = s.insert(&aid, "plan", &[]);
    let b = s.insert(&aid, "implement", &[]);
    let c = s.insert(&aid, "review", &[]);
    let d = s.insert(&aid, "uat", &["--after", &a]);
    let e = s.insert(&aid, "document", &["--after", &c]);

    let detail = s.json(&["assignment", &aid]);
    assert_eq!(ids(&detail["jobs"]), vec![a.clone(), d.clone(), b.clone(), c.clone(), e.clone()]);
    let positions: Vec<u64> =
        detail["jobs"].as_array().unwrap().iter().map(|j| j["position"].as_u64().unwrap()).collect();
    assert_eq!(positions, vec![1, 2, 3, 4, 5]);
    // `jobs --assignment` lists the same chain order.
    let jobs = s.json(&["jobs", "--assignment", &aid]);
    assert_eq!(ids(&jobs), vec![a.clone(), d.clone(), b, c, e]);

    // The human chain shows them in that order too.
    let text = s.ok(&["assignment", &aid]);
    let pos_a = text.find(&a).unwrap();
    let pos_d = text.find(&d).unwrap();
    assert!(pos_a < pos_d, "{text}");
}

#[test]
fn assignment_detail_shows_header_chain_and_history() {
    let s = Sandbox::new();
    let aid = s.create("Add OAuth login", &["--first", "plan", "--context", "first step", "--budget-usd", "5"]);
    s.ok(&["update-assignment", &aid, "--status", "blocked", "--reason", "needs a product decision"]);
    let text = s.ok(&["assignment", &aid]);
    for want in [
        aid.as_str(),
        "blocked",
        "needs a product decision",
        "Add OAuth login",
        "$5.00",
        "1 of 50",
        "chain (1)",
        "plan",
        "pending",
        "first step",
        "history",
        "person:tester",
        "status active → blocked",
    ] {
        assert!(text.contains(want), "`{want}` in:\n{text}");
    }
    // No colour codes when stdout is not a terminal.
    assert!(!text.contains('\x1b'));

    let detail = s.json(&["assignment", &aid]);
    assert_fields(&detail, ASSIGNMENT_FIELDS);
    assert_eq!(detail["reason"], "needs a product decision");
    let history = detail["history"].as_array().unwrap();
    assert!(history.len() >= 2);
    for h in history {
        assert!(h["at"].is_string() && h["actor"].is_string() && h["action"].is_string());
    }
}

#[test]
fn assignments_lists_newest_first_with_filters() {
    let s = Sandbox::new();
    let first = s.create("One", &[]);
    let second = s.create("Two", &[]);
    let third = s.create("Three", &[]);
    s.ok(&["update-assignment", &second, "--status", "cancelled"]);

    let all = s.json(&["assignments"]);
    let list = all.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for a in list {
        for f in ["id", "namespace", "north_star", "status", "reason", "max_jobs"] {
            assert!(a.get(f).is_some(), "{f} in {a}");
        }
    }
    let mut got = ids(&all);
    got.sort();
    let mut want = vec![first.clone(), second.clone(), third.clone()];
    want.sort();
    assert_eq!(got, want);

    assert_eq!(ids(&s.json(&["assignments", "--status", "cancelled"])), vec![second]);
    assert_eq!(s.json(&["assignments", "--status", "blocked"]), serde_json::json!([]));
    assert_eq!(s.json(&["assignments", "--limit", "2"]).as_array().unwrap().len(), 2);

    let text = s.ok(&["assignments"]);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("ID") && header.contains("STATUS") && header.contains("NORTH STAR"));
    assert_eq!(text.lines().count(), 4, "{text}");
    let text = s.ok(&["assignments", "--status", "blocked"]);
    assert!(text.contains("no blocked assignments in namespace repo"), "{text}");
}

#[test]
fn jobs_and_job() {
    let s = Sandbox::new();
    let a1 = s.create("One", &["--first", "plan"]);
    let a2 = s.create("Two", &[]);
    let j2 = s.insert(&a2, "implement", &["--context", "do the thing"]);
    let j3 = s.insert(&a2, "review", &[]);
    s.ok(&["cancel-job", &j3]);

    let all = s.json(&["jobs"]);
    assert_eq!(all.as_array().unwrap().len(), 3);
    for j in all.as_array().unwrap() {
        assert_fields(j, JOB_FIELDS);
    }
    assert_eq!(ids(&s.json(&["jobs", "--status", "cancelled"])), vec![j3.clone()]);
    assert_eq!(ids(&s.json(&["jobs", "--assignment", &a2])), vec![j2.clone(), j3.clone()]);
    assert_eq!(s.json(&["jobs", "--assignment", &a1]).as_array().unwrap().len(), 1);
    assert_eq!(s.json(&["jobs", "--limit", "1"]).as_array().unwrap().len(), 1);
    assert_eq!(s.json(&["jobs", "--status", "running"]), serde_json::json!([]));

    let job = s.json(&["job", &j2]);
    assert_fields(&job, JOB_FIELDS);
    assert_eq!(job["id"], j2.as_str());
    assert_eq!(job["context"], "do the thing");

    let text = s.ok(&["job", &j2]);
    for want in [j2.as_str(), "pending", a2.as_str(), "implement", "claude", "0 of 3", "do the thing"] {
        assert!(text.contains(want), "`{want}` in:\n{text}");
    }
    let text = s.ok(&["jobs"]);
    assert!(text.lines().next().unwrap().starts_with("ID"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
    let text = s.ok(&["jobs", "--status", "failed"]);
    assert!(text.contains("no failed jobs in namespace repo"), "{text}");
}

#[test]
fn queue_shows_counts_ready_and_blocked() {
    let s = Sandbox::new();
    let a1 = s.create("Ready one", &["--first", "plan", "--context", "ctx one"]);
    let j1 = s.json(&["jobs", "--assignment", &a1])[0]["id"].as_str().unwrap().to_string();
    let a2 = s.create("Blocked one", &["--first", "implement"]);
    s.ok(&["update-assignment", &a2, "--status", "blocked", "--reason", "waiting for keys"]);

    let q = s.json(&["queue"]);
    assert_eq!(q["namespace"], "repo");
    assert_eq!(q["assignments"]["active"], 1);
    assert_eq!(q["assignments"]["blocked"], 1);
    assert_eq!(q["assignments"]["complete"], 0);
    assert_eq!(q["jobs"]["pending"], 2);
    assert_eq!(q["jobs"]["running"], 0);
    assert_eq!(ids(&q["ready"]), vec![j1.clone()]);
    assert_eq!(q["waiting"], serde_json::json!([]));
    assert_eq!(q["running"], serde_json::json!([]));
    assert_eq!(ids(&q["blocked"]), vec![a2.clone()]);
    assert_eq!(q["blocked"][0]["reason"], "waiting for keys");

    let text = s.ok(&["queue"]);
    for want in [
        "namespace repo",
        "active 1",
        "blocked 1",
        "pending 2",
        "ready (1)",
        j1.as_str(),
        "ctx one",
        "waiting (0)",
        "running (0)",
        "needs you (1)",
        a2.as_str(),
        "blocked: waiting for keys",
    ] {
        assert!(text.contains(want), "`{want}` in:\n{text}");
    }
}

#[test]
fn an_idle_assignment_is_listed_under_needs_you() {
    let s = Sandbox::new();
    let idle = s.create("Nothing queued yet", &[]);
    let busy = s.create("Planned", &["--first", "plan"]);
    let q = s.json(&["queue"]);
    assert_eq!(ids(&q["idle"]), vec![idle.clone()]);
    assert_eq!(q["idle_total"], 1);
    let text = s.ok(&["queue"]);
    let line = text.lines().find(|l| l.contains(&idle)).unwrap_or_else(|| panic!("{idle} in:\n{text}"));
    assert!(line.contains("idle: nothing queued — insert a job or complete it"), "{line}");
    assert!(text.contains("needs you (1)"), "{text}");
    assert!(!text.lines().any(|l| l.contains(&busy) && l.contains("idle")), "{text}");
    // Queueing a job takes it off the list.
    s.insert(&idle, "plan", &[]);
    assert_eq!(s.json(&["queue"])["idle_total"], 0);
}

#[test]
fn inside_a_job_reads_work_and_changes_need_the_jobs_claim() {
    let s = Sandbox::new();
    let aid = s.create("North", &[]);
    let before = s.json(&["assignment", &aid]);
    let inside = |args: &[&str]| {
        s.cmd().env("BATON_JOB_ID", "jpm123456").env("BATON_JOB_TOKEN", "7").args(args).output().unwrap()
    };
    // Reading is fine from inside a job.
    assert!(inside(&["assignment", &aid, "--json"]).status.success());
    // A change made as a job that holds no claim is refused, with the reason, and changes nothing.
    let out = inside(&["insert-job", &aid, "--type", "implement"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: BATON_JOB_ID=jpm123456 is not a job in namespace repo"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
    assert_eq!(s.json(&["assignment", &aid]), before);

    // Without USER, LOGNAME names the person.
    let out = s.cmd().env_remove("USER").env("LOGNAME", "ada").args(["create", "By ada", "--json"]).output().unwrap();
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["history"][0]["actor"], "person:ada");

    // BATON_ACTOR names the person before USER.
    let out = s.cmd().env("BATON_ACTOR", "grace").args(["create", "By grace", "--json"]).output().unwrap();
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["history"][0]["actor"], "person:grace");

    // A root shell or a container without USER or LOGNAME: the user database names the uid.
    let login = std::process::Command::new("id").arg("-un").output().unwrap();
    let login = String::from_utf8(login.stdout).unwrap().trim().to_string();
    let out = s.cmd().env_remove("USER").args(["create", "By whoever runs", "--json"]).output().unwrap();
    let a: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["history"][0]["actor"], format!("person:{login}").as_str());
    assert_ne!(a["history"][0]["actor"], "person:unknown");
}

#[test]
fn namespaces_are_listed_and_an_empty_one_names_the_others() {
    let s = Sandbox::new();
    // A new database: nothing to list, and no hint.
    assert!(s.json(&["namespaces"]).as_array().unwrap().is_empty());
    s.ok(&["assignments"]);
    let aid = s.create("Mine", &["--first", "plan"]);
    s.insert(&aid, "review", &[]);
    s.ok(&["create", "Theirs", "--namespace", "web"]);
    let list = s.json(&["namespaces"]);
    assert_eq!(
        list,
        serde_json::json!([
            {"namespace": "repo", "assignments": 1, "jobs": 2},
            {"namespace": "web", "assignments": 1, "jobs": 0}
        ])
    );
    let text = s.ok(&["namespaces"]);
    assert!(text.lines().any(|l| l.starts_with("repo (current)") && l.ends_with('2')), "{text}");
    // A mistyped namespace: the list is empty, exit 0, and stderr names the real ones.
    for args in [
        &["assignments", "--namespace", "rpeo"][..],
        &["jobs", "--namespace", "rpeo"][..],
        &["queue", "--namespace", "rpeo"][..],
    ] {
        let run = s.run(args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.contains("namespace rpeo"), "{}", run.stdout);
        assert!(run.stderr.starts_with("hint: namespace rpeo holds nothing"), "{}", run.stderr);
        assert!(run.stderr.contains("repo (1 assignment), web (1 assignment)"), "{}", run.stderr);
    }
    // JSON stays one value on stdout; the hint is on stderr.
    let run = s.run(&["assignments", "--namespace", "rpeo", "--json"]);
    assert_eq!(run.stdout.trim(), "[]");
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn namespaces_are_isolated() {
    let s = Sandbox::new();
    let mine = s.create("Mine", &["--first", "plan"]);
    let theirs = s.create("Theirs", &["--namespace", "other", "--first", "plan"]);
    assert_eq!(ids(&s.json(&["assignments"])), vec![mine.clone()]);
    assert_eq!(ids(&s.json(&["assignments", "--namespace", "other"])), vec![theirs.clone()]);
    assert_eq!(s.json(&["jobs"]).as_array().unwrap().len(), 1);
    // BATON_NAMESPACE acts like --namespace.
    let out = s.cmd().env("BATON_NAMESPACE", "other").args(["assignments", "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids(&v), vec![theirs.clone()]);
    // --namespace beats BATON_NAMESPACE.
    let out = s
        .cmd()
        .env("BATON_NAMESPACE", "other")
        .args(["assignments", "--json", "--namespace", "repo"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids(&v), vec![mine]);
}

#[test]
fn assignments_shows_the_newest_hundred_and_says_how_many_more() {
    let s = Sandbox::new();
    let created: Vec<String> = (0..102).map(|i| s.create(&format!("task {i}"), &[])).collect();
    let text = s.ok(&["assignments"]);
    let rows = text.lines().filter(|l| l.starts_with('a')).count();
    assert_eq!(rows, 100, "{text}");
    assert!(text.contains(&created[101]) && !text.contains(&created[0]), "the newest first: {text}");
    assert!(text.contains("… and 2 more: `baton assignments --all` lists them"), "{text}");
    let all = s.ok(&["assignments", "--all"]);
    assert_eq!(all.lines().filter(|l| l.starts_with('a')).count(), 102, "{all}");
    assert!(!all.contains("more"), "{all}");
    let limited = s.ok(&["assignments", "--limit", "3"]);
    assert_eq!(limited.lines().filter(|l| l.starts_with('a')).count(), 3, "{limited}");
    assert!(!limited.contains("more"), "--limit asked for a number: {limited}");
    let active = s.ok(&["assignments", "--status", "active"]);
    assert!(active.contains("… and more: `baton assignments --status active --all` lists them"), "{active}");
    // A script gets every one unless it asks for fewer.
    assert_eq!(s.json(&["assignments"]).as_array().map(Vec::len), Some(102));
    s.fails(&["assignments", "--all", "--limit", "3"], 2);
}
