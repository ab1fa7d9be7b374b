//! The SQLite store judges leases and back-offs by the clock it was opened with: a test moves a
//! [`ManualClock`] instead of waiting for real time to pass.

use baton_core::retry::RetryPolicy;
use baton_core::store::{AttemptResult, EnginePolicy, JobDefaults, Lease, NewAssignment, NewJob, RunnerStore};
use baton_core::time::{Clock, ManualClock};
use baton_core::{Actor, ErrorKind, JobStatus, JobType, Store};
use baton_store::sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;

const NS: &str = "clocked";
const T0: i64 = 1_800_000_000_000;

fn policy(retry_base_ms: u64) -> EnginePolicy {
    EnginePolicy {
        pm: JobDefaults { pm_harness: "claude".into(), max_attempts: 3, host_gone_ms: 600_000 },
        max_lost_leases: 3,
        retry: RetryPolicy { retry_base_ms, retry_on_timeout: false },
        host_gone_ms: 600_000,
        takeover: false,
        spend: Default::default(),
    }
}

/// A store on a clock standing at `T0`, holding one assignment with one pending job.
async fn store_with_a_job() -> (SqliteStore, Arc<ManualClock>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = SqliteStore::open_with_clock(dir.path().join("baton.db"), clock.clone()).await.unwrap();
    let new = NewAssignment {
        after: Vec::new(),
        namespace: NS.into(),
        north_star: "keep time".into(),
        max_jobs: 10,
        budget_usd: None,
        budget_tokens: None,
        origin_root: None,
        base_ref: None,
        base_branch: None,
        context: String::new(),
        first_job: Some(NewJob {
            job_type: JobType::Implement,
            harness: "claude".into(),
            context: "tick".into(),
            max_attempts: 3,
            after: None,
            for_job_id: None,
            session: None,
            model: None,
            effort: None,
        }),
    };
    let detail = store.create_assignment(new, &Actor::Person("ada".into())).await.unwrap();
    assert_eq!(detail.assignment.created_at, T0);
    let job = detail.jobs[0].id.clone();
    (store, clock, job, dir)
}

#[tokio::test]
async fn a_lease_expires_by_the_stores_clock() {
    let (store, clock, job, _dir) = store_with_a_job().await;
    let first = store.claim_next(NS, "r-first", 1_000, &policy(0)).await.unwrap().unwrap();
    assert_eq!((first.job.id.as_str(), first.lease_expires_at), (job.as_str(), T0 + 1_000));

    clock.advance(Duration::from_millis(999));
    assert!(store.claim_next(NS, "r-second", 1_000, &policy(0)).await.unwrap().is_none());
    assert_eq!(store.renew_lease(&job, first.token, 1_000).await.unwrap(), Lease::Held { expires_at: T0 + 1_999 });

    // Renewed, the lease outlives its first term; it ends exactly when the renewal said.
    clock.advance(Duration::from_millis(999));
    assert!(store.claim_next(NS, "r-second", 1_000, &policy(0)).await.unwrap().is_none());
    clock.advance(Duration::from_millis(1));
    let second = store.claim_next(NS, "r-second", 1_000, &policy(0)).await.unwrap().unwrap();
    assert_eq!((second.job.id.as_str(), second.attempt), (job.as_str(), 2));
    assert_eq!(store.renew_lease(&job, first.token, 1_000).await.unwrap(), Lease::Gone);
    assert_eq!(store.job(NS, &job).await.unwrap().lost_attempts, 1);
}

#[tokio::test]
async fn a_back_off_ends_by_the_stores_clock() {
    let (store, clock, job, _dir) = store_with_a_job().await;
    let policy = policy(60_000);
    let claim = store.claim_next(NS, "r1", 10_000, &policy).await.unwrap().unwrap();
    clock.advance(Duration::from_millis(500));
    let failed = AttemptResult {
        released: false,
        result: None,
        success: Some(false),
        error: Some("the network went away".into()),
        error_kind: Some(ErrorKind::Transient),
        exit_code: Some(1),
        session_id: None,
        tokens_in: None,
        tokens_out: None,
        cache_read_tokens: None,
        cache_write_tokens: None,
        cost_usd: None,
        transcript_truncated: false,
        transcript_error: None,
        git_head_after: None,
        diff_stat: None,
        session_mode: None,
        session_fallback_reason: None,
        session_host: None,
        model: None,
    };
    let recorded = store.finish_attempt(&job, claim.token, failed, &policy).await.unwrap().unwrap();
    assert_eq!(recorded.status, JobStatus::Pending);
    let not_before = recorded.not_before.expect("a transient failure waits out a back-off");
    assert!(not_before > clock.now(), "the back-off starts at the store's time");
    assert_eq!(store.next_deadline(NS).await.unwrap(), Some(not_before));

    clock.set(not_before - 1);
    assert!(store.claim_next(NS, "r1", 10_000, &policy).await.unwrap().is_none());
    clock.set(not_before);
    let again = store.claim_next(NS, "r1", 10_000, &policy).await.unwrap().unwrap();
    assert_eq!((again.job.id.as_str(), again.attempt), (job.as_str(), 2));
}
