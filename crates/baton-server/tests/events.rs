//! Server-sent events: the namespace stream reports a write made by another process's store
//! handle; the transcript stream replays, follows, resumes after `Last-Event-ID`, and ends with
//! its job; shutdown ends every open stream.

mod common;

use baton_core::JobType;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_namespace_stream_reports_writes_by_another_handle() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let mut events = c.request("GET", "/api/events").events().await;
    assert_eq!(events.status, 200);
    assert!(events.headers.iter().any(|(k, v)| k == "content-type" && v.starts_with("text/event-stream")));
    let first = within(events.next_of("snapshot")).await.expect("a first snapshot");
    assert_eq!(first.json()["assignments"], serde_json::json!([]));
    assert_eq!(first.json()["queue"]["namespace"], NS);

    // Another process (the CLI) writes through its own handle.
    let other = server.other_handle().await;
    let created = create(other.as_ref(), "Seen live", Some(JobType::Plan)).await;
    let next = within(events.next_of("snapshot")).await.expect("a snapshot after the write");
    let snap = next.json();
    assert_eq!(snap["assignments"][0]["id"], created.assignment.id.as_str());
    assert_eq!(snap["queue"]["jobs"]["pending"], 1);

    // A runner starts the job: the next snapshot shows it running.
    let claim = claim(other.as_ref()).await;
    let running = loop {
        let snap = within(events.next_of("snapshot")).await.expect("a snapshot").json();
        if snap["queue"]["running"].as_array().is_some_and(|r| !r.is_empty()) {
            break snap;
        }
    };
    assert_eq!(running["queue"]["running"][0]["id"], claim.job.id.as_str());
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_streams_live_and_ends_with_its_job() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let runner = server.other_handle().await;
    let a = create(runner.as_ref(), "Talkative", Some(JobType::Implement)).await;
    let job_id = a.jobs[0].id.clone();
    let claim = claim(runner.as_ref()).await;
    say(runner.as_ref(), &claim, &["one", "two"]).await;

    let mut stream = c.request("GET", &format!("/api/jobs/{job_id}/stream")).events().await;
    assert_eq!(stream.status, 200);
    let job = within(stream.next()).await.expect("the job first");
    assert_eq!(job.event, "job");
    assert_eq!(job.json()["status"], "running");
    for (seq, text) in [(1, "one"), (2, "two")] {
        let e = within(stream.next_of("transcript")).await.expect("a stored line");
        assert_eq!(e.id.as_deref(), Some(seq.to_string().as_str()));
        assert_eq!(e.json()["text"], text);
        assert_eq!(e.json()["seq"], seq);
    }

    // New lines arrive as the runner stores them.
    say(runner.as_ref(), &claim, &["three"]).await;
    let e = within(stream.next_of("transcript")).await.expect("a live line");
    assert_eq!((e.id.as_deref(), e.json()["text"].as_str()), (Some("3"), Some("three")));

    // The job ends: the stream sends the final job and closes.
    succeed(runner.as_ref(), &claim).await;
    let end = within(stream.next_of("end")).await.expect("an end event");
    assert_eq!(end.json()["status"], "complete");
    assert!(within(stream.next()).await.is_none(), "the stream closes after `end`");

    // A reconnect with Last-Event-ID gets only what it missed, then `end` at once.
    let mut resumed =
        c.request("GET", &format!("/api/jobs/{job_id}/stream")).header("Last-Event-ID", "2").events().await;
    let e = within(resumed.next_of("transcript")).await.expect("the missed line");
    assert_eq!(e.id.as_deref(), Some("3"));
    assert!(within(resumed.next_of("end")).await.is_some());
    // `?after=` does the same for a first connection.
    let mut after = c.request("GET", &format!("/api/jobs/{job_id}/stream?after=3")).events().await;
    let e = within(after.next()).await.expect("an event");
    assert_eq!(e.event, "job");
    assert_eq!(within(after.next()).await.expect("an event").event, "end");

    let missing = c.get("/api/jobs/jnope/stream").await;
    assert_eq!(missing.status, 404);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let a = create(server.store.as_ref(), "Pending forever", Some(JobType::Plan)).await;
    let mut namespace = c.request("GET", "/api/events").events().await;
    within(namespace.next_of("snapshot")).await.expect("a snapshot");
    let mut job = c.request("GET", &format!("/api/jobs/{}/stream", a.jobs[0].id)).events().await;
    within(job.next_of("job")).await.expect("the job");
    // `stop` waits for `serve` to return, which needs both streams to end.
    server.stop().await.expect("serve returns cleanly");
    // Events already sent may still be read; then each stream ends.
    for stream in [&mut namespace, &mut job] {
        let mut drained = 0;
        while within(stream.next()).await.is_some() {
            drained += 1;
            assert!(drained < 10, "the stream did not end after shutdown");
        }
    }
}
