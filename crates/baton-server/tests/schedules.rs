//! `/api/schedules`: schedules added and listed with the CLI's checks and messages, and the
//! webhook that fires one on demand — creating an assignment, or saying why `overlap = skip`
//! did not — behind the same token as every other API call.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_are_added_listed_and_fired_on_demand() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let r = c
        .post(
            "/api/schedules",
            json!({"cron": "0 9 * * 1", "north_star": "Update the dependencies", "timezone": "Europe/Berlin",
                   "first": "implement", "context": "minor versions only", "max_jobs": 9}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!((s["timezone"].as_str(), s["overlap"].as_str()), (Some("Europe/Berlin"), Some("skip")));
    assert_eq!(s["created_by"], "person:dashboard");
    assert_eq!(c.get("/api/schedules").await.json().as_array().unwrap().len(), 1);
    let next = s["next_fire_at"].clone();

    let r = c.post(&format!("/api/schedules/{id}/fire"), json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let fired = r.json();
    assert_eq!(fired["outcome"], "fired");
    let aid = fired["assignment_id"].as_str().unwrap().to_string();
    let a = c.get(&format!("/api/assignments/{aid}")).await.json();
    assert_eq!((a["north_star"].as_str(), a["max_jobs"].as_i64()), (Some("Update the dependencies"), Some(9)));
    assert_eq!(
        (a["jobs"][0]["type"].as_str(), a["context"].as_str()),
        (Some("implement"), Some("minor versions only"))
    );
    let shown = c.get(&format!("/api/schedules/{id}")).await.json();
    assert_eq!(shown["next_fire_at"], next, "on demand leaves the next slot alone");
    assert_eq!(
        (shown["runs"][0]["slot_at"].clone(), shown["runs"][0]["by"].clone()),
        (json!(null), json!("api (person:dashboard)"))
    );

    // The assignment is still open: overlap skip creates nothing, and the answer says why.
    let r =
        c.request("POST", &format!("/api/schedules/{id}/fire")).header("Content-Type", "application/json").send().await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["outcome"], "skipped");
    assert!(r.json()["reason"].as_str().unwrap().contains(&aid), "{}", r.body);
    assert_eq!(c.get("/api/assignments").await.json().as_array().unwrap().len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schedules_are_refused_with_the_clis_messages_and_nothing_stored() {
    let server = TestServer::start(None).await;
    let c = server.client();
    for (body, says) in [
        (json!({"cron": "61 * * * *", "north_star": "x"}), "invalid cron expression `61 * * * *`"),
        (json!({"cron": "@daily", "north_star": "x", "timezone": "Europe/Berln"}), "unknown time zone `Europe/Berln`"),
        (json!({"north_star": "x"}), "`cron` is required"),
        (json!({"cron": "@daily", "north_star": "x", "overlap": "maybe"}), "unknown overlap `maybe`"),
        (json!({"cron": "@daily", "north_star": "x", "when": "now"}), "unknown field `when`"),
        (json!({"cron": "@daily", "north_star": "x", "first": "plan", "harness": "nope"}), "unknown harness `nope`"),
    ] {
        let r = c.post("/api/schedules", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.error().contains(says), "{body}: {}", r.error());
    }
    assert_eq!(c.get("/api/schedules").await.json(), json!([]));
    // The webhook takes no fields: one it does not know is refused, and nothing fires.
    let r = c.post("/api/schedules", json!({"cron": "@weekly", "north_star": "x"})).await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = c.post(&format!("/api/schedules/{id}/fire"), json!({"dry_run": true})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.error().contains("unknown field `dry_run`"), "{}", r.error());
    assert_eq!(c.get("/api/assignments").await.json(), json!([]), "nothing fired");
    assert_eq!(c.get(&format!("/api/schedules/{id}")).await.json()["runs_total"], 0);
    let r = c.post("/api/schedules/snope/fire", json!({})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.error().contains("no schedule snope"), "{}", r.error());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fire_webhook_needs_the_token() {
    let server = TestServer::start(Some(TOKEN)).await;
    let c = server.client();
    let anon = common::http::Client::new(server.addr, None);
    let r = c.post("/api/schedules", json!({"cron": "@weekly", "north_star": "x"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(anon.get("/api/schedules").await.status, 401);
    assert_eq!(anon.post("/api/schedules", json!({"cron": "@weekly", "north_star": "y"})).await.status, 401);
    let r = anon.post(&format!("/api/schedules/{id}/fire"), json!({})).await;
    assert_eq!(r.status, 401);
    assert!(c.get("/api/assignments").await.json().as_array().unwrap().is_empty(), "nothing fired");
    assert_eq!(c.post(&format!("/api/schedules/{id}/fire"), json!({})).await.status, 201);
    server.stop().await.unwrap();
}
