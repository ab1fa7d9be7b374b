//! The JSON API in-process: every endpoint, the CLI's validation and messages with the right
//! statuses, and nothing secret in any answer.

mod common;

use baton_core::request::RequestError;
use baton_core::{Error, JobType};
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_are_created_listed_shown_and_updated() {
    let server = TestServer::start(None).await;
    let c = server.client();

    let r = c.post("/api/assignments", json!({"north_star": "  Add OAuth login ", "first": "plan", "context": "Google first", "budget_usd": 5, "max_jobs": 7})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["north_star"], "Add OAuth login");
    assert_eq!(created["max_jobs"], 7);
    assert_eq!(created["budget_usd"], 5.0);
    assert_eq!(created["jobs"][0]["type"], "plan");
    assert_eq!(created["jobs"][0]["harness"], "claude", "the configured default harness");
    assert_eq!(created["jobs"][0]["context"], "Google first");
    assert_eq!(created["history"][0]["actor"], "person:dashboard");

    let r = c.post("/api/assignments", json!({"north_star": "Second"})).await;
    assert_eq!(r.status, 201);

    let list = c.get("/api/assignments").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json().as_array().unwrap().len(), 2);
    assert_eq!(c.get("/api/assignments?limit=1").await.json().as_array().unwrap().len(), 1);
    assert_eq!(c.get("/api/assignments?status=blocked").await.json().as_array().unwrap().len(), 0);

    let shown = c.get(&format!("/api/assignments/{id}")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json()["jobs"].as_array().unwrap().len(), 1);

    // Block, then resume with a note: the resume queues a PM job carrying the note.
    let r = c
        .patch(&format!("/api/assignments/{id}"), json!({"status": "blocked", "reason": "needs a product decision"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "blocked");
    assert_eq!(r.json()["reason"], "needs a product decision");
    assert_eq!(c.get("/api/assignments?status=blocked").await.json().as_array().unwrap().len(), 1);
    // The POST spelling of the same change.
    let r = c
        .post(
            &format!("/api/assignments/{id}/update"),
            json!({"max_jobs": 9, "budget_usd": 8.5, "budget_tokens": 90000}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["max_jobs"].clone(), r.json()["budget_usd"].clone()), (json!(9), json!(8.5)));
    assert_eq!(r.json()["budget_tokens"], 90000);
    // Cancel the pending plan job so the resume has nothing pending and queues a PM job.
    let plan = created["jobs"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(c.post(&format!("/api/jobs/{plan}/cancel"), json!({})).await.status, 200);
    let r = c.patch(&format!("/api/assignments/{id}"), json!({"status": "active", "note": "use the v2 API"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let detail = r.json();
    assert_eq!(detail["status"], "active");
    let pm = detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "pm").expect("a pm job");
    assert!(pm["context"].as_str().unwrap().contains("use the v2 API"));

    let r = c.patch(&format!("/api/assignments/{id}"), json!({"status": "complete"})).await;
    assert_eq!(r.status, 200);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_inserted_listed_cancelled_and_retried() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let a = create(server.store.as_ref(), "Ship it", Some(JobType::Plan)).await;
    let aid = a.assignment.id.clone();
    let plan = a.jobs[0].id.clone();

    let r = c.post(&format!("/api/assignments/{aid}/jobs"), json!({"type": "review", "context": "look hard"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let review = r.json();
    assert_eq!(
        (review["type"].clone(), review["position"].clone(), review["harness"].clone()),
        (json!("review"), json!(2), json!("claude"))
    );
    let r = c
        .post(&format!("/api/assignments/{aid}/jobs"), json!({"type": "implement", "harness": "codex", "after": plan}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["position"], 2);
    assert_eq!(r.json()["harness"], "codex");

    let jobs = c.get(&format!("/api/jobs?assignment={aid}")).await.json();
    let types: Vec<&str> = jobs.as_array().unwrap().iter().map(|j| j["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["plan", "implement", "review"]);
    assert_eq!(c.get("/api/jobs?status=pending&limit=2").await.json().as_array().unwrap().len(), 2);
    assert_eq!(c.get("/api/jobs?status=running").await.json().as_array().unwrap().len(), 0);

    let job = c.get(&format!("/api/jobs/{plan}")).await;
    assert_eq!(job.status, 200);
    assert_eq!(job.json()["id"], plan.as_str());
    let events = c.get(&format!("/api/jobs/{plan}/events")).await;
    assert_eq!((events.status, events.json()), (200, json!([])));

    // Cancel needs no body at all; retry queues a copy right after the original.
    let r =
        c.request("POST", &format!("/api/jobs/{plan}/cancel")).header("Content-Type", "application/json").send().await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "cancelled");
    let r = c.post(&format!("/api/jobs/{plan}/retry"), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!((r.json()["type"].clone(), r.json()["position"].clone()), (json!("plan"), json!(2)));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_queue_runners_and_info() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let other = server.other_handle().await;
    let a = create(other.as_ref(), "Talk", Some(JobType::Implement)).await;
    let claim = claim(other.as_ref()).await;
    say(other.as_ref(), &claim, &["first line", "second line", "third line"]).await;
    let job = &a.jobs[0].id;

    let events = c.get(&format!("/api/jobs/{job}/events")).await.json();
    let texts: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["first line", "second line", "third line"]);
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["event"]["kind"], "assistant_text");
    let after = c.get(&format!("/api/jobs/{job}/events?after=1&limit=1")).await.json();
    assert_eq!(after.as_array().unwrap().len(), 1);
    assert_eq!(after[0]["seq"], 2);

    let q = c.get("/api/queue").await;
    assert_eq!(q.status, 200);
    assert_eq!(q.json()["namespace"], NS);
    assert_eq!(q.json()["running"][0]["id"], job.as_str());
    let runners = c.get("/api/runners").await;
    assert_eq!((runners.status, runners.json().is_array()), (200, true));
    let namespaces = c.get("/api/namespaces").await;
    assert_eq!(namespaces.status, 200);
    let mine = namespaces.json().as_array().unwrap().iter().find(|n| n["namespace"] == NS).cloned().unwrap();
    assert!(mine["assignments"].as_u64().unwrap() >= 1 && mine["jobs"].as_u64().unwrap() >= 1, "{mine}");

    let info = c.get("/api/info").await;
    assert_eq!(info.status, 200);
    let info = info.json();
    assert_eq!(info["namespace"], NS);
    assert!(info["harnesses"].as_array().unwrap().contains(&json!("codex")));
    assert_eq!(info["default_harness"]["pm"], "claude");
    assert!(!info.to_string().contains("sqlite://"), "the database location stays on the server: {info}");
    server.stop().await.unwrap();
}

/// Every refusal carries the CLI's own message (baton_core's Display) and the status of its kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_messages_naming_its_fields_and_statuses() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let a = create(server.store.as_ref(), "Guarded", Some(JobType::Plan)).await;
    let aid = a.assignment.id.clone();
    let plan = a.jobs[0].id.clone();

    let check = |r: common::http::Response, status: u16, message: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.error(), message);
    };

    check(
        c.post("/api/assignments", json!({"north_star": "   "})).await,
        400,
        &RequestError::EmptyNorthStar.to_string(),
    );
    check(c.post("/api/assignments", json!({})).await, 400, &RequestError::EmptyNorthStar.to_string());
    check(
        c.post("/api/assignments", json!({"north_star": "x", "first": "deploy"})).await,
        400,
        "unknown job type `deploy`; valid values: plan, implement, review, uat, document, pm, chat",
    );
    check(
        c.post("/api/assignments", json!({"north_star": "x", "budget_usd": 0})).await,
        400,
        "budget_usd must be a positive amount in dollars, e.g. 5 or 12.50",
    );
    check(
        c.post("/api/assignments", json!({"north_star": "x", "budget_tokens": -1})).await,
        400,
        "budget_tokens must be a whole number of tokens above 0, e.g. 2000000",
    );
    check(
        c.post("/api/assignments", json!({"north_star": "x", "max_jobs": 0})).await,
        400,
        "max_jobs must be at least 1",
    );
    check(
        c.patch(&format!("/api/assignments/{aid}"), json!({"max_jobs": -3})).await,
        400,
        "max_jobs must be at least 1",
    );
    let r = c.post(&format!("/api/assignments/{aid}/jobs"), json!({"type": "plan", "harness": "nope"})).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("unknown harness `nope`; valid values: "), "{}", r.error());
    let r = c.post(&format!("/api/assignments/{aid}/jobs"), json!({"context": "x"})).await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("`type` is required"), "{}", r.error());

    check(
        c.get("/api/assignments/anope").await,
        404,
        &Error::AssignmentNotFound { namespace: NS.into(), id: "anope".into() }.to_string(),
    );
    check(
        c.get("/api/jobs/jnope").await,
        404,
        &Error::JobNotFound { namespace: NS.into(), id: "jnope".into() }.to_string(),
    );
    check(
        c.get("/api/jobs/jnope/events").await,
        404,
        &Error::JobNotFound { namespace: NS.into(), id: "jnope".into() }.to_string(),
    );
    let r = c.get("/api/jobs?assignment=anope").await;
    assert_eq!(r.status, 404, "an empty list must not hide a mistyped id");
    check(
        c.get("/api/assignments?status=stuck").await,
        400,
        "unknown assignment status `stuck`; valid values: active, deferred, complete, blocked, cancelled",
    );
    check(
        c.get("/api/jobs?status=done").await,
        400,
        "unknown job status `done`; valid values: pending, running, complete, failed, cancelled",
    );
    let r = c.get("/api/assignments?limit=0").await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("--limit"), "{}", r.error());
    let r = c.get("/api/assignments?stauts=blocked").await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("unknown query parameter `stauts`"), "{}", r.error());
    let r = c.post("/api/assignments", json!({"north_star": "x", "max_job": 3})).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("unknown field `max_job`"), "{}", r.error());
    let r = c.request("POST", "/api/assignments").body("{not json", "application/json").send().await;
    assert_eq!(r.status, 400);
    assert!(r.error().starts_with("invalid JSON body"), "{}", r.error());

    check(
        c.patch(&format!("/api/assignments/{aid}"), json!({"status": "blocked"})).await,
        400,
        &RequestError::ReasonRequired.to_string(),
    );
    check(
        c.patch(&format!("/api/assignments/{aid}"), json!({})).await,
        400,
        "nothing to update; pass status, max_jobs, budget_usd or budget_tokens",
    );
    check(
        c.patch(&format!("/api/assignments/{aid}"), json!({"status": "active"})).await,
        400,
        &format!("assignment {aid} is already active"),
    );

    // Lifecycle refusals are conflicts.
    let r = c.post(&format!("/api/jobs/{plan}/retry"), json!({})).await;
    assert_eq!(r.status, 409);
    assert!(
        r.error().starts_with(&format!("job {plan} is pending: only a failed or cancelled job can be retried")),
        "{}",
        r.error()
    );
    assert_eq!(c.patch(&format!("/api/assignments/{aid}"), json!({"status": "cancelled"})).await.status, 200);
    let r = c.post(&format!("/api/jobs/{plan}/cancel"), json!({})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.error(), format!("job {plan} is cancelled: only a pending or running job can be cancelled"));
    let r = c.post(&format!("/api/assignments/{aid}/jobs"), json!({"type": "plan"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.error(), format!("assignment {aid} is cancelled, which is final; create a new assignment instead"));
    let r = c.patch(&format!("/api/assignments/{aid}"), json!({"status": "active"})).await;
    assert_eq!(r.status, 409);

    // Unknown endpoints and methods answer in JSON too.
    let r = c.get("/api/nothing-here").await;
    assert_eq!(r.status, 404);
    assert!(r.error().contains("API.md"));
    let r =
        c.request("DELETE", &format!("/api/assignments/{aid}")).header("Content-Type", "application/json").send().await;
    assert_eq!(r.status, 405);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_limit_blocks_and_a_guarded_resume_is_refused() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let r = c.post("/api/assignments", json!({"north_star": "Small", "first": "plan", "max_jobs": 1})).await;
    let aid = r.json()["id"].as_str().unwrap().to_string();
    let r = c.post(&format!("/api/assignments/{aid}/jobs"), json!({"type": "implement"})).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("reached its job limit (1 jobs)"), "{}", r.error());
    let detail = c.get(&format!("/api/assignments/{aid}")).await.json();
    assert_eq!(detail["status"], "blocked");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_reports_what_the_retention_policy_would_remove_and_never_removes() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let r = c.get("/api/gc").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("pass dry_run=true"), "{}", r.body);
    let r = c.get("/api/gc?dry_run=true").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("no retention policy is set"), "{}", r.body);
    server.stop().await.expect("server stops");

    let server = TestServer::start_with(None, |c| c.retention.transcripts_after_ms = Some(86_400_000)).await;
    let r = server.client().get("/api/gc?dry_run=true").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!((v["dry_run"].as_bool(), v["transcripts_dropped"].as_u64()), (Some(true), Some(0)), "{v}");
    assert_eq!((v["worktrees"].clone(), v["bytes_freed"].clone()), (serde_json::json!([]), serde_json::json!(0)));
    server.stop().await.expect("server stops");
}
