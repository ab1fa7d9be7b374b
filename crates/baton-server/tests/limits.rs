//! The server's limits on what a client sends: headers in time, bodies up to 8 MiB (refused as
//! JSON past that), no query parameter an endpoint does not know, no NUL byte anywhere.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (or fails it); what it sent, if anything.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_dropped() {
    let server = TestServer::start(None).await;
    let bound = baton_server::HEADER_TIMEOUT + Duration::from_secs(5);

    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let mut trickle = TcpStream::connect(server.addr).await.unwrap();
    trickle
        .write_all(format!("GET /api/info HTTP/1.1\r\nHost: {}\r\nX-Slow: a", server.addr).as_bytes())
        .await
        .unwrap();
    let dropped = async {
        tokio::join!(until_closed(&mut silent), async {
            // A byte now and then keeps a naive server waiting for ever.
            loop {
                tokio::select! {
                    _ = until_closed(&mut trickle) => break,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {
                        if trickle.write_all(b"a").await.is_err() {
                            break;
                        }
                    }
                }
            }
        })
    };
    tokio::time::timeout(bound, dropped).await.expect("the server dropped both connections");

    // A well-behaved client is still served.
    assert_eq!(server.client().get("/api/info").await.status, 200);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_up_to_8_mib_are_taken_and_larger_ones_refused_as_json() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let a = c.post("/api/assignments", json!({"north_star": "Big"})).await.json();
    let id = a["id"].as_str().unwrap().to_string();

    // The largest context there is, in characters JSON escapes to six bytes each: ~6 MiB of body.
    let context = "\u{1}".repeat(1 << 20);
    let r = c.post(&format!("/api/assignments/{id}/jobs"), json!({"type": "plan", "context": context})).await;
    assert_eq!(r.status, 201, "{}", &r.body[..r.body.len().min(300)]);

    // Over the limit: refused from the length alone, in the API's error shape.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/assignments/{id}/jobs HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr,
        (8 << 20) + 1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = String::from_utf8_lossy(&within(until_closed(&mut stream)).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert!(error["error"].as_str().unwrap().contains("over the limit of 8 MiB"), "{error}");
    assert_eq!(server.store.assignment(NS, &id).await.unwrap().jobs.len(), 1, "nothing more stored");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_query_parameters_are_refused_on_every_endpoint() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let d = create(server.store.as_ref(), "Queries", Some(baton_core::JobType::Plan)).await;
    let (aid, jid) = (d.assignment.id.clone(), d.jobs[0].id.clone());
    let reads = [
        "/api/info".to_string(),
        "/api/queue".to_string(),
        "/api/runners".to_string(),
        "/api/events".to_string(),
        "/api/assignments".to_string(),
        format!("/api/assignments/{aid}"),
        "/api/jobs".to_string(),
        format!("/api/jobs/{jid}"),
        format!("/api/jobs/{jid}/events"),
        format!("/api/jobs/{jid}/prompt"),
        format!("/api/jobs/{jid}/stream"),
    ];
    for path in &reads {
        let r = c.get(&format!("{path}?bogus=1")).await;
        assert_eq!(r.status, 400, "GET {path}?bogus=1: {}", r.body);
        assert!(r.error().contains("unknown query parameter `bogus`"), "{path}: {}", r.error());
    }
    let before = server.store.assignment(NS, &aid).await.unwrap();
    let changes = [
        ("POST", "/api/assignments".to_string(), json!({"north_star": "X"})),
        ("PATCH", format!("/api/assignments/{aid}"), json!({"max_jobs": 9})),
        ("POST", format!("/api/assignments/{aid}/update"), json!({"max_jobs": 9})),
        ("POST", format!("/api/assignments/{aid}/jobs"), json!({"type": "plan"})),
        ("POST", format!("/api/jobs/{jid}/cancel"), json!({})),
        ("POST", format!("/api/jobs/{jid}/retry"), json!({})),
    ];
    for (method, path, body) in &changes {
        let r = c.send_json(method, &format!("{path}?dry_run=1"), body.clone()).await;
        assert_eq!(r.status, 400, "{method} {path}?dry_run=1: {}", r.body);
        assert!(r.error().contains("unknown query parameter `dry_run`"), "{path}: {}", r.error());
    }
    assert_eq!(server.store.assignment(NS, &aid).await.unwrap(), before, "nothing changed");
    assert_eq!(server.store.assignments(NS, &Default::default()).await.unwrap().len(), 1);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_are_refused_in_addresses_and_bodies() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let d = create(server.store.as_ref(), "Nul", None).await;
    let aid = d.assignment.id.clone();
    for path in ["/api/jobs/j%00x".to_string(), "/api/jobs?assignment=a%00".to_string()] {
        let r = c.get(&path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(r.error().contains("NUL"), "{path}: {}", r.error());
    }
    for body in [
        json!({"type": "plan", "harness": "cla\u{0}ude"}),
        json!({"type": "plan", "after": "j\u{0}"}),
        json!({"type": "plan", "context": "a\u{0}b"}),
    ] {
        let r = c.post(&format!("/api/assignments/{aid}/jobs"), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.error().contains("NUL byte"), "{body}: {}", r.error());
    }
    let r = c.post("/api/assignments", json!({"north_star": "x", "base": "ma\u{0}in"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(server.store.assignments(NS, &Default::default()).await.unwrap().len(), 1);
    assert!(server.store.assignment(NS, &aid).await.unwrap().jobs.is_empty());
    server.stop().await.unwrap();
}
