//! `baton watch` on a non-TTY: one line per change, found by diffing snapshots, as a runner
//! (another store handle) starts and ends jobs.

mod common;

use baton_core::JobType;
use common::*;
use std::io::Write;
use tokio::sync::{mpsc, oneshot};

/// A `Write` that hands every line to the test as it is written.
struct Lines {
    partial: String,
    tx: mpsc::UnboundedSender<String>,
}

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.partial.push_str(&String::from_utf8_lossy(buf));
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            let _ = self.tx.send(line.trim_end().to_string());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Waits for a line containing every one of `parts`, returning it.
async fn line_with(rx: &mut mpsc::UnboundedReceiver<String>, parts: &[&str]) -> String {
    within(async {
        loop {
            let line = rx.recv().await.expect("watch is still writing");
            if parts.iter().all(|p| line.contains(p)) {
                return line;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_a_line_when_a_job_starts_and_ends() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    let store = baton_store::open(&url).await.unwrap();
    let runner = baton_store::open(&url).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let out = Lines { partial: String::new(), tx };
    let watcher = tokio::spawn(async move {
        baton_server::watch(store, NS, out, false, async move {
            let _ = stop_rx.await;
        })
        .await
    });

    let first = line_with(&mut rx, &["watching namespace testns"]).await;
    assert!(first.ends_with("0 active, 0 blocked assignments; 0 running, 0 pending jobs"), "{first}");
    let stamp = first.split(' ').next().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with('Z'), "{first}");

    let a = create(runner.as_ref(), "Watch me", Some(JobType::Implement)).await;
    let aid = &a.assignment.id;
    let job = &a.jobs[0].id;
    line_with(&mut rx, &["assignment", aid, "created: Watch me"]).await;
    line_with(&mut rx, &["job", job, "(implement) queued"]).await;

    let claim = claim(runner.as_ref()).await;
    let started = line_with(&mut rx, &["job", job, "(implement) started"]).await;
    assert!(started.contains("attempt 1/3 on runner r1"), "{started}");

    succeed(runner.as_ref(), &claim).await;
    let done = line_with(&mut rx, &["job", job, "(implement) complete"]).await;
    assert!(done.contains("$0.25"), "{done}");
    // The PM shadow job the store queued right after it.
    line_with(&mut rx, &["(pm) queued", &format!("after {job}")]).await;

    runner
        .update_assignment(
            NS,
            aid,
            &baton_core::lifecycle::AssignmentUpdate {
                status: Some(baton_core::AssignmentStatus::Blocked),
                reason: Some("needs a product decision".into()),
                ..Default::default()
            },
            &defaults(),
            &person(),
        )
        .await
        .unwrap();
    line_with(&mut rx, &["assignment", aid, "blocked: needs a product decision"]).await;

    stop_tx.send(()).unwrap();
    within(watcher).await.unwrap().unwrap();
}
