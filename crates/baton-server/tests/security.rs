//! The guards of a remote-code-execution surface: the bind rule, the token (header and cookie),
//! Host and Origin checks, JSON-only mutations, and no secret in any answer.

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_required_on_every_api_call_and_stream() {
    let server = TestServer::start(Some(TOKEN)).await;
    let c = server.client();
    let anon = common::http::Client::new(server.addr, None);

    for path in [
        "/api/info",
        "/api/queue",
        "/api/assignments",
        "/api/jobs",
        "/api/runners",
        "/api/namespaces",
        "/api/jobs/jx/events",
    ] {
        let r = anon.get(path).await;
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert!(r.error().contains("needs its token"), "{}", r.error());
        assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Bearer")));
    }
    let r = anon.post("/api/assignments", json!({"north_star": "x"})).await;
    assert_eq!(r.status, 401);
    let events = anon.request("GET", "/api/events").events().await;
    assert_eq!(events.status, 401);
    let stream = anon.request("GET", "/api/jobs/jx/stream").events().await;
    assert_eq!(stream.status, 401);

    let wrong = anon.request("GET", "/api/info").header("Authorization", "Bearer s3cret-token-0123456788").send().await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.error().contains("wrong"), "{}", wrong.error());
    let basic = anon.request("GET", "/api/info").header("Authorization", &format!("Basic {TOKEN}")).send().await;
    assert_eq!(basic.status, 401);

    assert_eq!(c.get("/api/info").await.status, 200);
    let r = c.post("/api/assignments", json!({"north_star": "with a token"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut events = c.request("GET", "/api/events").events().await;
    assert_eq!(events.status, 200);
    assert!(within(events.next_of("snapshot")).await.is_some());

    // The page never needs the token, and holds no data.
    let page = anon.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<title>baton</title>"));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_trades_the_token_for_a_strict_cookie() {
    let server = TestServer::start(Some(TOKEN)).await;
    let anon = common::http::Client::new(server.addr, None);
    let r = anon.get(&format!("/?token={TOKEN}")).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/"), "the token leaves the address bar");
    let cookie = r.header("set-cookie").expect("a cookie").to_string();
    let name = format!("baton_token_{}", server.addr.port());
    assert!(cookie.starts_with(&format!("{name}={TOKEN};")), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "{cookie}");

    let with_cookie =
        anon.request("GET", "/api/info").header("Cookie", &format!("theme=dark; {name}={TOKEN}")).send().await;
    assert_eq!(with_cookie.status, 200, "{}", with_cookie.body);
    // Another server's cookie (another port) is not this one's.
    let other_port = anon.request("GET", "/api/info").header("Cookie", &format!("baton_token_1={TOKEN}")).send().await;
    assert_eq!(other_port.status, 401);
    let bad = anon.get("/?token=nope").await;
    assert_eq!(bad.status, 401);
    assert!(bad.header("set-cookie").is_none());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_hosts_and_origins_are_refused_even_on_loopback() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let port = server.addr.port();

    // DNS rebinding: the attacker's name arrives in Host.
    for host in ["evil.example:".to_string() + &port.to_string(), format!("127.0.0.1:{}", port + 1), String::new()] {
        let r = c.request("GET", "/api/assignments").header("Host", &host).send().await;
        assert_eq!(r.status, 403, "Host {host:?}: {}", r.body);
        assert!(r.error().contains("DNS rebinding"), "{}", r.error());
    }
    let page = c.request("GET", "/").header("Host", "evil.example").send().await;
    assert_eq!(page.status, 403);
    let ok = c.request("GET", "/api/assignments").header("Host", &format!("localhost:{port}")).send().await;
    assert_eq!(ok.status, 200);

    // Cross-site: a page elsewhere posting to the API.
    let r = c
        .request("POST", "/api/assignments")
        .header("Origin", "http://evil.example")
        .json(json!({"north_star": "run this"}))
        .send()
        .await;
    assert_eq!(r.status, 403);
    assert!(r.error().contains("cross-site"), "{}", r.error());
    let r = c.request("GET", "/api/events").header("Origin", "null").send().await;
    assert_eq!(r.status, 403);
    let same = c
        .request("POST", "/api/assignments")
        .header("Origin", &format!("http://{}", server.addr))
        .json(json!({"north_star": "same origin"}))
        .send()
        .await;
    assert_eq!(same.status, 201, "{}", same.body);
    let listed = c.get("/api/assignments").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing refused was written");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_accept_only_json() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let form = c
        .request("POST", "/api/assignments")
        .body("north_star=run+this", "application/x-www-form-urlencoded")
        .send()
        .await;
    assert_eq!(form.status, 415);
    assert!(form.error().contains("Content-Type: application/json"), "{}", form.error());
    let text = c.request("POST", "/api/assignments").body(r#"{"north_star":"x"}"#, "text/plain").send().await;
    assert_eq!(text.status, 415);
    let multipart =
        c.request("PATCH", "/api/assignments/ax").body("--b--", "multipart/form-data; boundary=b").send().await;
    assert_eq!(multipart.status, 415);
    let none = c.request("POST", "/api/jobs/jx/cancel").send().await;
    assert_eq!(none.status, 415);
    let charset = c
        .request("POST", "/api/assignments")
        .body(r#"{"north_star":"x"}"#, "application/json; charset=utf-8")
        .send()
        .await;
    assert_eq!(charset.status, 201, "{}", charset.body);
    assert_eq!(c.get("/api/assignments").await.json().as_array().unwrap().len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_a_public_address_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = baton_store::open(&url).await.unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let bound = listener.local_addr().unwrap();
    let app = baton_server::AppState {
        store,
        config: Arc::new(config(dir.path(), &url)),
        namespace: NS.into(),
        token: None,
        bound,
    };
    let err = within(baton_server::serve(listener, app, std::future::pending())).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("without a token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_answer() {
    let server = TestServer::start(Some(TOKEN)).await;
    let c = server.client();
    let r = c.post("/api/assignments", json!({"north_star": "Secrets", "first": "plan"})).await;
    let aid = r.json()["id"].as_str().unwrap().to_string();
    let job = r.json()["jobs"][0]["id"].as_str().unwrap().to_string();
    let mut answers = Vec::new();
    for path in [
        "/".to_string(),
        "/js/app.js".to_string(),
        "/api/info".to_string(),
        "/api/queue".to_string(),
        "/api/runners".to_string(),
        "/api/assignments".to_string(),
        format!("/api/assignments/{aid}"),
        "/api/jobs".to_string(),
        format!("/api/jobs/{job}"),
        format!("/api/jobs/{job}/events"),
        "/api/nothing".to_string(),
    ] {
        let r = c.get(&path).await;
        answers.push(format!("{path}: {:?} {}", r.headers, r.body));
    }
    let mut events = c.request("GET", "/api/events").events().await;
    answers.push(within(events.next_of("snapshot")).await.unwrap().data);
    for answer in answers {
        assert!(!answer.contains(TOKEN), "the token leaked: {answer}");
        assert!(!answer.contains(&server.url), "the database URL leaked: {answer}");
    }
    server.stop().await.unwrap();
}
