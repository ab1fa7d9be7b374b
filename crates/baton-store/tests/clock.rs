//! The SQLite store judges leases and back-offs by the clock it was opened with: a test moves a
//! [`ManualClock`] instead of waiting for real time to pass.

use baton_core::lifecycle::AssignmentUpdate;
use baton_core::retry::RetryPolicy;
use baton_core::store::{AttemptResult, EnginePolicy, JobDefaults, Lease, NewAssignment, NewJob, RunnerStore};
use baton_core::time::{Clock, ManualClock};
use baton_core::{Actor, AssignmentStatus, ErrorKind, JobStatus, JobType, Store};
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

fn defaults() -> JobDefaults {
    policy(0).pm
}

/// An assignment of namespace [`NS`] whose first job is a pending implement job.
fn new_assignment() -> NewAssignment {
    NewAssignment {
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
    }
}

/// A store on a clock standing at `T0`, holding one assignment with one pending job.
async fn store_with_a_job() -> (SqliteStore, Arc<ManualClock>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = SqliteStore::open_with_clock(dir.path().join("baton.db"), clock.clone()).await.unwrap();
    let new = new_assignment();
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
        transcript_tail: Vec::new(),
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
    assert_eq!(store.next_deadline(NS, clock.now()).await.unwrap(), Some(not_before));

    clock.set(not_before - 1);
    assert!(store.claim_next(NS, "r1", 10_000, &policy).await.unwrap().is_none());
    clock.set(not_before);
    let again = store.claim_next(NS, "r1", 10_000, &policy).await.unwrap().unwrap();
    assert_eq!((again.job.id.as_str(), again.attempt), (job.as_str(), 2));
}

/// A successful attempt that reported `cost` dollars.
fn done_costing(cost: f64) -> AttemptResult {
    AttemptResult { success: Some(true), result: Some("done".into()), cost_usd: Some(cost), ..AttemptResult::default() }
}

#[tokio::test]
async fn the_next_utc_day_resumes_what_the_daily_cap_blocked_exactly_once() {
    let (store, clock, job, _dir) = store_with_a_job().await;
    let mut capped = policy(0);
    capped.spend.daily_usd = Some(0.02);
    let person = Actor::Person("ada".into());
    let second = NewAssignment { north_star: "keep more time".into(), ..new_assignment() };
    let b = store.create_assignment(second, &person).await.unwrap().assignment.id;
    let third = NewAssignment { north_star: "wait for a person".into(), ..new_assignment() };
    let c = store.create_assignment(third, &person).await.unwrap().assignment.id;
    let wait = AssignmentUpdate {
        status: Some(AssignmentStatus::Blocked),
        reason: Some("waiting for the design".into()),
        ..AssignmentUpdate::default()
    };
    store.update_assignment(NS, &c, &wait, &defaults(), &person).await.unwrap();

    // The first job spends the day's budget; every other start today blocks on the cap.
    let a = store.job(NS, &job).await.unwrap().assignment_id;
    let claim = store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().unwrap();
    store.finish_attempt(&claim.job.id, claim.token, done_costing(0.03), &capped).await.unwrap().unwrap();
    assert!(store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().is_none());
    let status = |detail: &baton_core::AssignmentDetail| (detail.assignment.status, detail.assignment.reason.clone());
    for id in [&a, &b] {
        let (s, reason) = status(&store.assignment(NS, id).await.unwrap());
        assert_eq!(s, AssignmentStatus::Blocked, "{id}");
        assert!(reason.unwrap_or_default().contains("on 2027-01-15, UTC"), "the reason names the day");
    }

    // Still the same UTC day at its last millisecond: nothing resumes.
    let midnight = T0 - T0.rem_euclid(86_400_000) + 86_400_000;
    clock.set(midnight - 1);
    assert!(store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().is_none());
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.status, AssignmentStatus::Blocked);

    // At 00:00 UTC the runners' next claims resume both and start their jobs, once each.
    clock.set(midnight);
    let first = store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().unwrap();
    let next = store.claim_next(NS, "r2", 60_000, &capped).await.unwrap().unwrap();
    let mut started = vec![first.job.assignment_id, next.job.assignment_id];
    started.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(started, expected);
    assert!(store.claim_next(NS, "r3", 60_000, &capped).await.unwrap().is_none());
    for id in [&a, &b] {
        let d = store.assignment(NS, id).await.unwrap();
        assert_eq!(status(&d), (AssignmentStatus::Active, None), "{id}");
        let lifted: Vec<_> = d
            .history
            .iter()
            .filter(|h| h.action == "status blocked → active")
            .map(|h| (h.at, h.actor.clone(), h.reason.clone().unwrap_or_default()))
            .collect();
        assert_eq!(lifted.len(), 1, "exactly once: {lifted:?}");
        assert_eq!((lifted[0].0, &lifted[0].1), (midnight, &Actor::Engine));
        assert!(lifted[0].2.contains("a new UTC day began") && lifted[0].2.contains("daily_usd"), "{lifted:?}");
    }
    // A block for any other reason waits for a person.
    let (s, reason) = status(&store.assignment(NS, &c).await.unwrap());
    assert_eq!((s, reason.as_deref()), (AssignmentStatus::Blocked, Some("waiting for the design")));
}
