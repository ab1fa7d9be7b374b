//! `baton watch` on a non-TTY: one line per change, found by diffing snapshots, as a runner
//! (another store handle) starts and ends jobs.

use super::watch;
use baton_core::request::{AssignmentUpdate, JobDefaults, NewAssignment, NewJob};
use baton_core::retry::RetryPolicy;
use baton_core::store::{AttemptResult, Claim, EnginePolicy};
use baton_core::{Actor, AssignmentDetail, AssignmentStatus, JobType, Store};
use std::future::Future;
use std::io::Write;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

const NS: &str = "testns";

/// Fails the test instead of hanging when the awaited state never comes.
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut).await.expect("timed out waiting")
}

fn person() -> Actor {
    Actor::Person("tester".into())
}

fn defaults() -> JobDefaults {
    JobDefaults { pm_harness: "claude".into(), max_attempts: 3, host_gone_ms: 600_000 }
}

fn policy() -> EnginePolicy {
    EnginePolicy {
        pm: defaults(),
        max_lost_leases: 3,
        retry: RetryPolicy { retry_base_ms: 0, retry_on_timeout: false },
        host_gone_ms: 600_000,
        takeover: false,
        spend: Default::default(),
    }
}

/// Creates an assignment the way `baton create --first implement` does.
async fn create(store: &dyn Store, north_star: &str) -> AssignmentDetail {
    let first_job = NewJob {
        job_type: JobType::Implement,
        harness: "claude".into(),
        context: "do the thing".into(),
        max_attempts: 3,
        after: None,
        for_job_id: None,
        session: None,
        model: None,
        effort: None,
    };
    let new = NewAssignment {
        after: Vec::new(),
        namespace: NS.into(),
        north_star: north_star.into(),
        max_jobs: 50,
        budget_usd: None,
        budget_tokens: None,
        origin_root: None,
        base_ref: None,
        base_branch: None,
        context: String::new(),
        first_job: Some(first_job),
    };
    store.create_assignment(new, &person()).await.expect("create")
}

/// A new assignment that waits for `parent`.
fn new_after(parent: &str) -> NewAssignment {
    NewAssignment {
        after: vec![parent.to_string()],
        namespace: NS.into(),
        north_star: "After it".into(),
        max_jobs: 50,
        budget_usd: None,
        budget_tokens: None,
        origin_root: None,
        base_ref: None,
        base_branch: None,
        context: String::new(),
        first_job: None,
    }
}

/// Claims the next ready job as runner `r1`.
async fn claim(store: &dyn Store) -> Claim {
    store.claim_next(NS, "r1", 60_000, &policy()).await.expect("claim").expect("a job is ready")
}

/// Records a successful end of the claimed attempt.
async fn succeed(store: &dyn Store, claim: &Claim) {
    let result = AttemptResult {
        released: false,
        result: Some("done".into()),
        success: Some(true),
        error: None,
        error_kind: None,
        exit_code: Some(0),
        session_id: None,
        tokens_in: Some(10),
        tokens_out: Some(5),
        cache_read_tokens: None,
        cache_write_tokens: None,
        cost_usd: Some(0.25),
        transcript_truncated: false,
        transcript_error: None,
        transcript_tail: Vec::new(),
        git_head_after: None,
        diff_stat: None,
        session_mode: None,
        session_fallback_reason: None,
        session_host: None,
        model: None,
    };
    store.finish_attempt(&claim.job.id, claim.token, result, &policy()).await.expect("finish").expect("lease held");
}

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
        watch(store, NS, out, false, async move {
            let _ = stop_rx.await;
        })
        .await
    });

    let first = line_with(&mut rx, &["watching namespace testns"]).await;
    assert!(first.ends_with("0 active, 0 blocked assignments; 0 running, 0 pending jobs"), "{first}");
    let stamp = first.split(' ').next().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(stamp).is_ok() && stamp.ends_with('Z'), "{first}");

    let a = create(runner.as_ref(), "Watch me").await;
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
            &AssignmentUpdate {
                status: Some(AssignmentStatus::Blocked),
                reason: Some("needs a product decision".into()),
                ..Default::default()
            },
            &defaults(),
            &person(),
        )
        .await
        .unwrap();
    line_with(&mut rx, &["assignment", aid, "blocked: needs a product decision"]).await;

    // An assignment created after it waits in view, and its start is told.
    let child = runner.create_assignment(new_after(aid), &person()).await.unwrap().assignment.id;
    line_with(&mut rx, &["assignment", &child, "deferred"]).await;
    let complete = AssignmentUpdate { status: Some(AssignmentStatus::Complete), ..Default::default() };
    runner.update_assignment(NS, aid, &complete, &defaults(), &person()).await.unwrap();
    line_with(&mut rx, &["assignment", &child, "started: its parents are complete"]).await;

    stop_tx.send(()).unwrap();
    within(watcher).await.unwrap().unwrap();
}
