//! `POST /api/assignments` with `after`: a deferred assignment, listed by `?status=deferred`,
//! and the parents refused with the CLI's statuses and messages.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_created_after_another_waits_for_it() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let r = c.post("/api/assignments", json!({"north_star": "The API", "first": "plan"})).await;
    let parent = r.json()["id"].as_str().unwrap().to_string();
    let plan = r.json()["jobs"][0]["id"].as_str().unwrap().to_string();

    let r = c.post("/api/assignments", json!({"north_star": "The docs", "after": [parent]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let child = r.json();
    assert_eq!(child["status"], "deferred");
    assert_eq!(child["parents"][0]["id"], parent.as_str());
    let listed = c.get("/api/assignments?status=deferred").await.json();
    assert_eq!(listed[0]["id"], child["id"]);

    let r = c.post("/api/assignments", json!({"north_star": "x", "after": [plan]})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("needs an assignment id"), "{}", r.body);
    let r = c.post("/api/assignments", json!({"north_star": "x", "after": ["anowhere1"]})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(c.get("/api/assignments").await.json().as_array().unwrap().len(), 2, "refusals store nothing");
}
