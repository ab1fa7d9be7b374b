//! Test support: a store in a temp dir, the server run in-process on port 0, a second store handle
//! standing in for another process (the CLI, a runner), and a minimal HTTP/1.1 + SSE client over
//! a raw TCP stream, so the tests send exactly the headers they mean to (Host, Origin, …).

#![allow(dead_code)]

pub mod git;
pub mod http;

use baton_core::config::RepoLocation;
use baton_core::retry::RetryPolicy;
use baton_core::store::{AttemptResult, Claim, EnginePolicy, JobDefaults, NewAssignment, NewEvent, NewJob};
use baton_core::{Actor, AssignmentDetail, Config, JobType, Store};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const NS: &str = "testns";
pub const TOKEN: &str = "s3cret-token-0123456789";

/// Fails the test if `fut` takes longer than a generous bound (waits are on signals, not sleeps).
pub async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), fut).await.expect("timed out waiting")
}

/// The configuration a repository at `root` with this database would resolve to.
pub fn config(root: &std::path::Path, url: &str) -> Config {
    let url = url.to_string();
    let env = move |key: &str| match key {
        "BATON_DATABASE_URL" => Some(url.clone()),
        "BATON_NAMESPACE" => Some(NS.to_string()),
        _ => None,
    };
    let location = RepoLocation { root: root.to_path_buf(), config_file: None };
    Config::resolve(location, &[], &env).expect("config resolves")
}

/// A running server and its database.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub url: String,
    /// The server's own store handle.
    pub store: Arc<dyn Store>,
    pub addr: SocketAddr,
    pub token: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(token: Option<&str>) -> TestServer {
        TestServer::start_with(token, |_| {}).await
    }

    /// A server whose configuration `adjust` changed first.
    pub async fn start_with(token: Option<&str>, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("baton.db").display());
        let store = baton_store::open(&url).await.expect("store opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = baton_server::AppState {
            store: store.clone(),
            config: Arc::new({
                let mut c = config(dir.path(), &url);
                adjust(&mut c);
                c
            }),
            namespace: NS.to_string(),
            token: token.map(str::to_string),
            bound: addr,
        };
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(baton_server::serve(listener, app, async move {
            let _ = rx.await;
        }));
        TestServer { dir, url, store, addr, token: token.map(str::to_string), shutdown: Some(tx), task: Some(task) }
    }

    /// Another handle on the same database, as a separate process would have.
    pub async fn other_handle(&self) -> Arc<dyn Store> {
        baton_store::open(&self.url).await.expect("second handle opens")
    }

    pub fn client(&self) -> http::Client {
        http::Client::new(self.addr, self.token.clone())
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => within(task).await.expect("serve task joins"),
            None => Ok(()),
        }
    }
}

pub fn person() -> Actor {
    Actor::Person("tester".into())
}

pub fn defaults() -> JobDefaults {
    JobDefaults { pm_harness: "claude".into(), max_attempts: 3, host_gone_ms: 600_000 }
}

pub fn policy() -> EnginePolicy {
    EnginePolicy {
        pm: defaults(),
        max_lost_leases: 3,
        retry: RetryPolicy { retry_base_ms: 0, retry_on_timeout: false },
        host_gone_ms: 600_000,
        takeover: false,
        spend: Default::default(),
    }
}

/// Creates an assignment the way `baton create --first TYPE` does.
pub async fn create(store: &dyn Store, north_star: &str, first: Option<JobType>) -> AssignmentDetail {
    let first_job = first.map(|job_type| NewJob {
        job_type,
        harness: "claude".into(),
        context: "do the thing".into(),
        max_attempts: 3,
        after: None,
        for_job_id: None,
        session: None,
        model: None,
        effort: None,
    });
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
        first_job,
    };
    store.create_assignment(new, &person()).await.expect("create")
}

/// Claims the next ready job as runner `r1`.
pub async fn claim(store: &dyn Store) -> Claim {
    store.claim_next(NS, "r1", 60_000, &policy()).await.expect("claim").expect("a job is ready")
}

/// Appends assistant-text events to a claimed job's transcript.
pub async fn say(store: &dyn Store, claim: &Claim, lines: &[&str]) {
    let events = lines
        .iter()
        .map(|text| NewEvent {
            at: baton_core::time::now_ms(),
            event: serde_json::json!({"kind": "assistant_text", "text": text}),
        })
        .collect();
    assert!(store.append_events(&claim.job.id, claim.token, claim.attempt, events).await.expect("append"));
}

/// Records a successful end of the claimed attempt.
pub async fn succeed(store: &dyn Store, claim: &Claim) {
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
