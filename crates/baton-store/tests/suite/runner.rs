//! Store stories of the runner's half: claims, leases, fencing, results, the PM flow, retries.

use super::*;
use baton_core::retry::RetryPolicy;
use baton_core::store::{AttemptResult, EnginePolicy, Lease, NewEvent, RunnerInfo};
use baton_core::ErrorKind;

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

pub fn success(text: &str) -> AttemptResult {
    AttemptResult {
        released: false,
        result: Some(text.into()),
        success: Some(true),
        error: None,
        error_kind: None,
        exit_code: Some(0),
        session_id: Some("sess-1".into()),
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
    }
}

pub fn failure(kind: ErrorKind, message: &str) -> AttemptResult {
    AttemptResult {
        released: false,
        result: None,
        success: Some(false),
        error: Some(message.into()),
        error_kind: Some(kind),
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
    }
}

pub async fn assignment_with(store: &Shared, types: &[JobType]) -> (String, Vec<String>) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let mut ids = Vec::new();
    for t in types {
        ids.push(store.insert_job(NS, &a.id, job(*t), &person()).await.unwrap().id);
    }
    (a.id, ids)
}

async fn claim(store: &Shared) -> Option<baton_core::store::Claim> {
    store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap()
}

/// Claims `job_id`, waiting (polling the store, at most 5 s) until it is the one claimed: on
/// PostgreSQL a claim skips an assignment row another transaction still holds.
async fn claim_job(store: &Shared, job_id: &str) -> baton_core::store::Claim {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(c) = claim(store).await {
            assert_eq!(c.job.id, job_id, "claimed another job");
            return c;
        }
        assert!(std::time::Instant::now() < deadline, "job {job_id} never became claimable");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

async fn chain_types(store: &Shared, aid: &str) -> Vec<(JobType, JobStatus)> {
    store.assignment(NS, aid).await.unwrap().jobs.iter().map(|j| (j.job_type, j.status)).collect()
}

pub async fn claims_one_job_per_assignment(store: Shared) {
    let (a, a_jobs) = assignment_with(&store, &[JobType::Plan, JobType::Implement]).await;
    let (_b, b_jobs) = assignment_with(&store, &[JobType::Plan]).await;
    let c1 = claim(&store).await.unwrap();
    assert_eq!(c1.job.id, a_jobs[0]);
    assert_eq!((c1.attempt, c1.job.status, c1.job.runner.as_deref()), (1, JobStatus::Running, Some("r1")));
    let c2 = claim(&store).await.unwrap();
    assert_eq!(c2.job.id, b_jobs[0]);
    assert!(claim(&store).await.is_none(), "a's second job must wait for its first");
    assert!(!store.is_idle(NS).await.unwrap());
    assert_eq!(c1.job.attempt_history.len(), 1);
    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!(q.running.len(), 2);
    let _ = a;
}

pub async fn a_finished_job_gets_its_pm_right_after(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement, JobType::Review]).await;
    let c = claim(&store).await.unwrap();
    let done = store.finish_attempt(&c.job.id, c.token, success("did it"), &policy()).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Complete);
    assert_eq!((done.result.as_deref(), done.success, done.cost_usd), (Some("did it"), Some(true), Some(0.25)));
    assert!(done.finished_at.is_some() && done.duration_ms.is_some());
    assert_eq!(done.attempt_history[0].outcome, baton_core::AttemptOutcome::Complete);
    let d = store.assignment(NS, &a).await.unwrap();
    assert_eq!(d.jobs.len(), 3);
    assert_eq!(d.jobs[1].job_type, JobType::Pm);
    assert_eq!(d.jobs[1].for_job_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(d.assignment.cost_usd, Some(0.25));
    // The PM runs before the review queued earlier.
    assert_eq!(claim(&store).await.unwrap().job.id, d.jobs[1].id);
}

pub async fn a_pm_that_decides_nothing_blocks(store: Shared) {
    let (a, _) = assignment_with(&store, &[JobType::Pm]).await;
    let c = claim(&store).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, success("thinking…"), &policy()).await.unwrap().unwrap();
    let d = store.assignment(NS, &a).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Blocked);
    assert!(d.assignment.reason.unwrap().contains("made no decision"));
    assert_eq!(d.jobs.len(), 1, "no PM follows a PM");
}

pub async fn a_pm_whose_decision_took_effect_is_complete(store: Shared) {
    let (a, _) = assignment_with(&store, &[JobType::Pm]).await;
    let c = claim(&store).await.unwrap();
    let agent = Actor::Job { id: c.job.id.clone(), token: Some(c.token) };
    store.insert_job(NS, &a, job(JobType::Review), &agent).await.unwrap();
    let r = store
        .finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "overloaded"), &policy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, JobStatus::Complete, "never re-run a PM whose decision took effect");
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.status, AssignmentStatus::Active);
}

pub async fn a_failed_pm_blocks_with_its_error(store: Shared) {
    let (a, _) = assignment_with(&store, &[JobType::Pm]).await;
    let c = claim(&store).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Permanent, "auth failed"), &policy()).await.unwrap();
    let d = store.assignment(NS, &a).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Blocked);
    assert!(d.assignment.reason.unwrap().contains("auth failed"));
}

pub async fn transient_failures_retry_then_fail(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let twice = NewJob { max_attempts: 2, ..job(JobType::Implement) };
    let ids = [store.insert_job(NS, &a, twice, &person()).await.unwrap().id];
    let c = claim(&store).await.unwrap();
    let r = store
        .finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "429"), &policy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, JobStatus::Pending);
    assert!(r.not_before.is_some());
    assert_eq!(r.attempt_history[0].outcome, baton_core::AttemptOutcome::Retrying);
    assert_eq!(chain_types(&store, &a).await.len(), 1, "no PM while a retry is pending");
    let c = claim(&store).await.unwrap();
    assert_eq!((c.job.id.as_str(), c.attempt), (ids[0].as_str(), 2));
    let r = store
        .finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "429"), &policy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.status, r.attempts, r.error_kind), (JobStatus::Failed, 2, Some(ErrorKind::Transient)));
    assert_eq!(
        chain_types(&store, &a).await,
        vec![(JobType::Implement, JobStatus::Failed), (JobType::Pm, JobStatus::Pending)]
    );
}

pub async fn permanent_failures_fail_at_once(store: Shared) {
    let (a, _) = assignment_with(&store, &[JobType::Implement]).await;
    let c = claim(&store).await.unwrap();
    let r = store
        .finish_attempt(&c.job.id, c.token, failure(ErrorKind::Permanent, "bad key"), &policy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.status, r.attempts), (JobStatus::Failed, 1));
    assert_eq!(r.error.as_deref(), Some("bad key"));
    assert_eq!(chain_types(&store, &a).await[1], (JobType::Pm, JobStatus::Pending));
}

pub async fn stale_tokens_write_nothing(store: Shared) {
    let (_a, _) = assignment_with(&store, &[JobType::Implement]).await;
    let c = claim(&store).await.unwrap();
    let wrong = c.token.wrapping_add(1);
    assert_eq!(store.renew_lease(&c.job.id, wrong, 1000).await.unwrap(), Lease::Gone);
    let event = NewEvent { at: 1, event: serde_json::json!({"kind": "text", "line": "x"}) };
    assert!(!store.append_events(&c.job.id, wrong, 1, vec![event.clone()]).await.unwrap());
    assert!(store.finish_attempt(&c.job.id, wrong, success("no"), &policy()).await.unwrap().is_none());
    assert!(matches!(store.renew_lease(&c.job.id, c.token, 1000).await.unwrap(), Lease::Held { .. }));
    assert!(store.append_events(&c.job.id, c.token, 1, vec![event.clone(), event]).await.unwrap());
    let events = store.job_events(NS, &c.job.id, 0, 100).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(store.job_events(NS, &c.job.id, 1, 100).await.unwrap().len(), 1);
    assert!(store.job_events("repo-b", &c.job.id, 0, 100).await.is_err());
    assert_eq!(store.job(NS, &c.job.id).await.unwrap().transcript_events, 2);
}

/// The last transcript events travel with the result: stored in its transaction after those
/// appended during the attempt, under the attempt's number; under a lost lease, neither is.
pub async fn the_transcript_tail_is_stored_with_the_result(store: Shared) {
    let (_a, _) = assignment_with(&store, &[JobType::Implement, JobType::Implement]).await;
    let event = |line: &str| NewEvent { at: 1, event: serde_json::json!({"kind": "text", "line": line}) };
    let c = claim(&store).await.unwrap();
    assert!(store.append_events(&c.job.id, c.token, c.attempt, vec![event("during")]).await.unwrap());
    let stale = AttemptResult { transcript_tail: vec![event("stale")], ..success("no") };
    assert!(store.finish_attempt(&c.job.id, c.token.wrapping_add(1), stale, &policy()).await.unwrap().is_none());
    let result = AttemptResult { transcript_tail: vec![event("last"), event("verdict")], ..success("done") };
    let job = store.finish_attempt(&c.job.id, c.token, result, &policy()).await.unwrap().expect("lease held");
    assert_eq!(job.status, JobStatus::Complete);
    assert_eq!(job.transcript_events, 3);
    let events = store.job_events(NS, &c.job.id, 0, 100).await.unwrap();
    let lines: Vec<(i64, u32, &str)> =
        events.iter().map(|e| (e.seq, e.attempt, e.event["line"].as_str().unwrap())).collect();
    assert_eq!(lines, vec![(1, 1, "during"), (2, 1, "last"), (3, 1, "verdict")]);
}

pub async fn cancelling_a_running_job_revokes_its_lease(store: Shared) {
    let (a, _) = assignment_with(&store, &[JobType::Implement]).await;
    let c = claim(&store).await.unwrap();
    let cancelled = store.cancel_job(NS, &c.job.id, &defaults(), &person()).await.unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert_eq!(cancelled.attempt_history[0].outcome, baton_core::AttemptOutcome::Cancelled);
    assert_eq!(store.renew_lease(&c.job.id, c.token, 1000).await.unwrap(), Lease::Gone);
    assert!(store.held_leases("r1").await.unwrap().is_empty());
    assert!(store.finish_attempt(&c.job.id, c.token, success("late"), &policy()).await.unwrap().is_none());
    // The person stopped work in the middle: a PM decides what next.
    let detail = store.assignment(NS, &a).await.unwrap();
    assert_eq!(
        detail.jobs.iter().map(|j| (j.job_type, j.status)).collect::<Vec<_>>(),
        vec![(JobType::Implement, JobStatus::Cancelled), (JobType::Pm, JobStatus::Pending)]
    );
    assert_eq!(detail.jobs[1].for_job_id.as_deref(), Some(c.job.id.as_str()));
}

/// Only a running non-PM job of an active assignment is followed by a PM when cancelled.
pub async fn cancels_that_queue_no_pm(store: Shared) {
    // A pending job: the plan only loses a step.
    let (a, ids) = assignment_with(&store, &[JobType::Plan, JobType::Implement]).await;
    store.cancel_job(NS, &ids[1], &defaults(), &person()).await.unwrap();
    assert_eq!(chain_types(&store, &a).await.len(), 2, "no PM after a pending job's cancel");
    // A running PM job: the person takes the decision away.
    let c = claim(&store).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, success("planned"), &policy()).await.unwrap();
    let pm = claim(&store).await.unwrap();
    assert_eq!(pm.job.job_type, JobType::Pm);
    store.cancel_job(NS, &pm.job.id, &defaults(), &person()).await.unwrap();
    assert_eq!(chain_types(&store, &a).await.len(), 3, "no PM after a PM's cancel");
    // While its agent is being stopped the assignment is busy, not idle.
    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!((q.idle.len(), q.idle_total, q.stopping.len()), (0, 0, 1), "stopping, not idle");
    assert!(store.release_stopped(&pm.job.id, pm.token).await.unwrap());
    // Now nothing is queued: the queue lists it as idle, for a person.
    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!(q.idle.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), vec![a.as_str()]);
    assert_eq!(q.idle_total, 1);
    // The engine's own cancellations (completing the assignment) queue nothing either.
    let (b, _) = assignment_with(&store, &[JobType::Implement]).await;
    let running = claim(&store).await.unwrap();
    assert_eq!(running.job.assignment_id, b);
    store.update_assignment(NS, &b, &update(AssignmentStatus::Complete), &defaults(), &person()).await.unwrap();
    assert_eq!(chain_types(&store, &b).await, vec![(JobType::Implement, JobStatus::Cancelled)]);
}

/// Idle: active, with nothing pending or running; a queued or running job, or another status,
/// is not.
pub async fn idle_assignments_are_listed_for_a_person(store: Shared) {
    let empty = store.create_assignment(new_assignment("no first job"), &person()).await.unwrap().assignment;
    let (queued, _) = assignment_with(&store, &[JobType::Plan]).await;
    let blocked = store.create_assignment(new_assignment("blocked"), &person()).await.unwrap().assignment;
    let why = AssignmentUpdate { reason: Some("wait".into()), ..update(AssignmentStatus::Blocked) };
    store.update_assignment(NS, &blocked.id, &why, &defaults(), &person()).await.unwrap();
    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!(q.idle.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), vec![empty.id.clone()]);
    // Its job running still counts as work in flight.
    let c = claim(&store).await.unwrap();
    assert_eq!(c.job.assignment_id, queued);
    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!((q.idle.len(), q.idle_total), (1, 1));
    // Another namespace's idle assignment is not listed here.
    assert!(store.queue("repo-b", baton_core::time::now_ms()).await.unwrap().idle.is_empty());
    // A namespace spelling quotes, a backslash and a placeholder is read as the text it is.
    let odd = store.queue("it's \\ $1", baton_core::time::now_ms()).await.unwrap();
    assert_eq!((odd.namespace.as_str(), odd.idle_total, odd.ready_total), ("it's \\ $1", 0, 0));
}

/// A retry's copy goes after the last job no longer pending: after the PM that blocked.
pub async fn a_retry_reads_in_the_order_things_happened(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let c = claim(&store).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Permanent, "bad key"), &policy()).await.unwrap();
    let pm = claim(&store).await.unwrap();
    assert_eq!(pm.job.job_type, JobType::Pm);
    store.finish_attempt(&pm.job.id, pm.token, success("nothing decided"), &policy()).await.unwrap();
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.status, AssignmentStatus::Blocked);
    // A person plans a review, then retries the failed job: the copy runs before the review.
    let review = store.insert_job(NS, &a, job(JobType::Review), &person()).await.unwrap();
    let copy = store.retry_job(NS, &ids[0], &defaults(), &person()).await.unwrap();
    let chain: Vec<String> = store.assignment(NS, &a).await.unwrap().jobs.into_iter().map(|j| j.id).collect();
    assert_eq!(chain, vec![ids[0].clone(), pm.job.id.clone(), copy.id.clone(), review.id.clone()]);
}

pub async fn expired_leases_are_taken_over_and_bounded(store: Shared) {
    let (_a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    // A zero lease is expired at once: the runner "died".
    let first = store.claim_next(NS, "r-dead", 0, &policy()).await.unwrap().unwrap();
    let second = store.claim_next(NS, "r-live", 60_000, &policy()).await.unwrap().unwrap();
    assert_eq!(second.job.id, ids[0]);
    assert_ne!(second.token, first.token);
    assert_eq!((second.attempt, second.job.lost_attempts), (2, 1));
    assert_eq!(second.job.attempt_history[0].outcome, baton_core::AttemptOutcome::Lost);
    assert_eq!(second.job.attempt_history[0].error_kind, Some(ErrorKind::Lost));
    // The dead runner's late result is refused; the new owner's is recorded.
    assert!(store.finish_attempt(&ids[0], first.token, success("old"), &policy()).await.unwrap().is_none());
    let done = store.finish_attempt(&ids[0], second.token, success("new"), &policy()).await.unwrap().unwrap();
    assert_eq!(done.result.as_deref(), Some("new"));

    // A job that keeps losing its runner fails after max_lost_leases.
    let (a2, ids2) = assignment_with(&store, &[JobType::Implement]).await;
    let strict = EnginePolicy { max_lost_leases: 2, ..policy() };
    let mut claims = 0;
    while let Some(c) = store.claim_next(NS, "r-dead", 0, &strict).await.unwrap() {
        if c.job.id != ids2[0] {
            // Finish unrelated jobs (the first assignment's PM) so they do not get in the way.
            store.finish_attempt(&c.job.id, c.token, success("ok"), &strict).await.unwrap();
            continue;
        }
        claims += 1;
        assert!(claims <= 2, "claimed more often than max_lost_leases allows");
    }
    let j = store.job(NS, &ids2[0]).await.unwrap();
    assert_eq!((j.status, j.error_kind, j.lost_attempts), (JobStatus::Failed, Some(ErrorKind::Lost), 2));
    let _ = a2;
}

pub async fn a_released_job_is_requeued_without_charge(store: Shared) {
    let (_a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let c = claim(&store).await.unwrap();
    let mut released = failure(ErrorKind::Cancelled, "shutdown");
    released.released = true;
    let r = store.finish_attempt(&c.job.id, c.token, released, &policy()).await.unwrap().unwrap();
    assert_eq!((r.status, r.not_before), (JobStatus::Pending, None));
    // The job's three charged attempts are all still allowed (max_attempts = 3).
    for attempt in 2..=4 {
        let c = claim(&store).await.unwrap();
        assert_eq!((c.job.id.as_str(), c.attempt), (ids[0].as_str(), attempt));
        store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "503"), &policy()).await.unwrap();
    }
    assert_eq!(store.job(NS, &ids[0]).await.unwrap().status, JobStatus::Failed);
}

pub async fn the_budget_guard_blocks_instead_of_starting(store: Shared) {
    let mut new = new_assignment("x");
    new.budget_usd = Some(0.2);
    let a = store.create_assignment(new, &person()).await.unwrap().assignment;
    store.insert_job(NS, &a.id, job(JobType::Implement), &person()).await.unwrap();
    let c = claim(&store).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, success("spent 0.25"), &policy()).await.unwrap();
    assert!(claim(&store).await.is_none());
    let d = store.assignment(NS, &a.id).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Blocked);
    assert_eq!(d.assignment.reason.as_deref(), Some("budget $0.20 reached ($0.25 spent)"));
}

/// A claim says whether it left another job ready, so a runner claims again only then.
pub async fn a_claim_says_whether_another_job_is_ready(store: Shared) {
    let (first, _) = assignment_with(&store, &[JobType::Implement, JobType::Review]).await;
    let (second, _) = assignment_with(&store, &[JobType::Implement]).await;
    let c1 = claim(&store).await.expect("a ready job");
    assert_eq!(
        (c1.job.assignment_id.as_str(), c1.more_ready),
        (first.as_str(), true),
        "the oldest assignment's job, with the second assignment's still ready"
    );
    let c2 = claim(&store).await.expect("the other assignment's job");
    assert_eq!(c2.job.assignment_id, second);
    assert!(!c2.more_ready, "the first assignment's next job waits for its running one");
    assert!(claim(&store).await.is_none());
}

pub async fn idle_and_deadlines(store: Shared) {
    assert!(store.is_idle(NS).await.unwrap());
    assert_eq!(store.next_deadline(NS, 0).await.unwrap(), None);
    let (a, _) = assignment_with(&store, &[JobType::Implement]).await;
    assert!(!store.is_idle(NS).await.unwrap());
    let slow = EnginePolicy { retry: RetryPolicy { retry_base_ms: 60_000, ..policy().retry }, ..policy() };
    let c = store.claim_next(NS, "r1", 60_000, &slow).await.unwrap().unwrap();
    assert_eq!(store.next_deadline(NS, 0).await.unwrap(), Some(c.lease_expires_at));
    // What came due by `after` is not a deadline any more: the runner looked at it then.
    assert_eq!(store.next_deadline(NS, c.lease_expires_at).await.unwrap(), None);
    let r =
        store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "429"), &slow).await.unwrap().unwrap();
    let not_before = r.not_before.expect("a transient failure backs off");
    assert_eq!(store.next_deadline(NS, 0).await.unwrap(), Some(not_before));
    assert_eq!(store.next_deadline(NS, not_before - 1).await.unwrap(), Some(not_before));
    assert_eq!(store.next_deadline(NS, not_before).await.unwrap(), None, "a back-off already over is no deadline");
    assert!(!store.is_idle(NS).await.unwrap(), "waiting out a back-off is not idle");
    let blocked = AssignmentUpdate { reason: Some("later".into()), ..update(AssignmentStatus::Blocked) };
    store.update_assignment(NS, &a, &blocked, &defaults(), &person()).await.unwrap();
    assert!(store.is_idle(NS).await.unwrap(), "pending jobs of blocked assignments do not count");
}

pub async fn runners_register_and_show_their_jobs(store: Shared) {
    let now = baton_core::time::now_ms();
    let info = RunnerInfo {
        id: "r1".into(),
        namespace: NS.into(),
        host: "box".into(),
        pid: 42,
        started_at: now,
        heartbeat_at: now,
        concurrency: 2,
        lease_ms: 60_000,
        jobs: vec![],
        lost: false,
        containment: Some("cgroup".into()),
    };
    store.register_runner(&info).await.unwrap();
    let mut ghost = info.clone();
    ghost.id = "r0".into();
    ghost.lease_ms = 0;
    store.register_runner(&ghost).await.unwrap();
    let (_a, ids) = assignment_with(&store, &[JobType::Plan]).await;
    let c = claim(&store).await.unwrap();
    store.add_warnings(&c.job.id, c.token, c.attempt, &["slow disk".into()]).await.unwrap();
    store.heartbeat_runner("r1").await.unwrap();
    let runners = store.runners(NS).await.unwrap();
    assert_eq!(runners.len(), 2);
    assert_eq!((runners[0].id.as_str(), runners[0].lost, runners[0].jobs.clone()), ("r1", false, ids.clone()));
    // The queue shows the same runners, and the running job with its attempt and warning.
    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    let shown: Vec<(&str, Vec<String>)> = q.runners.iter().map(|r| (r.id.as_str(), r.jobs.clone())).collect();
    assert_eq!(shown, vec![("r1", ids.clone()), ("r0", vec![])]);
    assert_eq!(q.running.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(q.running[0].attempt_history.len(), 1, "the running job's attempt is listed");
    assert_eq!(q.running[0].warnings.iter().map(|w| w.text.as_str()).collect::<Vec<_>>(), vec!["slow disk"]);
    assert_eq!(runners[0].containment.as_deref(), Some("cgroup"), "the runner's containment is kept");
    assert_eq!((runners[1].id.as_str(), runners[1].lost), ("r0", true));
    store.stop_runner("r1").await.unwrap();
    store.stop_runner("r0").await.unwrap();
    assert!(store.runners(NS).await.unwrap().is_empty());
    assert!(store.runners("repo-b").await.unwrap().is_empty());
}

pub async fn agents_act_only_within_their_claim_and_type(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let (b, _) = assignment_with(&store, &[JobType::Plan]).await;
    let c = claim(&store).await.unwrap();
    assert_eq!(c.job.id, ids[0]);
    let agent = Actor::Job { id: c.job.id.clone(), token: Some(c.token) };
    let before_b = store.assignment(NS, &b).await.unwrap();

    // Reads are fine; its own assignment may get follow-up work.
    store.insert_job(NS, &a, job(JobType::Review), &agent).await.unwrap();
    // Everything else is refused, each with its reason.
    let refusals: Vec<(String, Error)> = vec![
        ("other assignment".into(), store.insert_job(NS, &b, job(JobType::Review), &agent).await.unwrap_err()),
        ("pm".into(), store.insert_job(NS, &a, job(JobType::Pm), &agent).await.unwrap_err()),
        (
            "status".into(),
            store
                .update_assignment(NS, &a, &update(AssignmentStatus::Complete), &defaults(), &agent)
                .await
                .unwrap_err(),
        ),
        (
            "guards".into(),
            store
                .update_assignment(
                    NS,
                    &a,
                    &AssignmentUpdate { max_jobs: Some(99), ..Default::default() },
                    &defaults(),
                    &agent,
                )
                .await
                .unwrap_err(),
        ),
        ("create".into(), store.create_assignment(new_assignment("y"), &agent).await.unwrap_err()),
    ];
    for (what, err) in &refusals {
        assert!(matches!(err, Error::Scope { .. }), "{what}: {err}");
    }
    assert_eq!(store.assignment(NS, &b).await.unwrap(), before_b);
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.status, AssignmentStatus::Active);

    // A stale token (the lease moved on) is refused, even for a PM's decision.
    let stale = Actor::Job { id: c.job.id.clone(), token: Some(c.token + 1) };
    let err = store.insert_job(NS, &a, job(JobType::Review), &stale).await.unwrap_err().to_string();
    assert!(err.contains("no longer holds its claim"), "{err}");
    let tokenless = Actor::job(&c.job.id);
    assert!(store
        .insert_job(NS, &a, job(JobType::Review), &tokenless)
        .await
        .unwrap_err()
        .to_string()
        .contains("BATON_JOB_TOKEN"));
    let unknown = Actor::Job { id: "jnothere".into(), token: Some(1) };
    assert!(store.insert_job(NS, &a, job(JobType::Review), &unknown).await.is_err());
}

pub async fn a_claim_reports_the_lost_agent_and_skips_other_hosts(store: Shared) {
    for (id, host) in [("r-here", "host-a"), ("r-there", "host-b")] {
        register_on(&store, id, host).await;
    }
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let first = store.claim_next(NS, "r-here", 300, &policy()).await.unwrap().unwrap();
    assert_eq!(first.previous_agent, None);
    let agent = baton_core::store::AgentProcess {
        host: "host-a".into(),
        pgid: 4242,
        start_time: 99,
        cgroup: Some("/sys/fs/cgroup/baton-j-1".into()),
    };
    let start = baton_core::store::AttemptStart {
        agent: Some(agent.clone()),
        git_head_before: Some("abc123".into()),
        ..Default::default()
    };
    assert!(store.record_start(&ids[0], first.token, &start).await.unwrap());
    assert!(!store.record_start(&ids[0], first.token + 1, &start).await.unwrap());
    assert_eq!(store.job(NS, &ids[0]).await.unwrap().git_head_before.as_deref(), Some("abc123"));
    let ws = baton_core::store::Workspace {
        branch: format!("baton/{a}"),
        worktree: "/w/a".into(),
        host: "host-a".into(),
        base_commit: None,
    };
    store.set_workspace(NS, &a, &ws).await.unwrap();
    let detail = store.assignment(NS, &a).await.unwrap().assignment;
    assert_eq!((detail.branch.as_deref(), detail.host.as_deref()), (Some(ws.branch.as_str()), Some("host-a")));

    // Once the lease expired, nothing more is written for it…
    wait_until_past(first.lease_expires_at).await;
    assert!(!store.record_start(&ids[0], first.token, &start).await.unwrap());
    assert_eq!(store.renew_lease(&ids[0], first.token, 1000).await.unwrap(), Lease::Gone);
    // …another host's runner leaves the assignment alone…
    assert!(store.claim_next(NS, "r-there", 60_000, &policy()).await.unwrap().is_none());
    // …and a runner on its host takes it over, told which agent to stop first.
    let second = store.claim_next(NS, "r-here", 60_000, &policy()).await.unwrap().unwrap();
    assert_eq!(second.job.id, ids[0]);
    assert_eq!(second.previous_agent, Some(agent));
}

/// Registers a live runner `id` on `host` with a one-minute lease.
/// A runner of namespace [`NS`] on `host`, heartbeating now.
pub fn runner_info(id: &str, host: &str) -> RunnerInfo {
    let now = baton_core::time::now_ms();
    RunnerInfo {
        id: id.into(),
        namespace: NS.into(),
        host: host.into(),
        pid: 1,
        started_at: now,
        heartbeat_at: now,
        concurrency: 1,
        lease_ms: 60_000,
        jobs: vec![],
        lost: false,
        containment: None,
    }
}

pub async fn register_on(store: &Shared, id: &str, host: &str) {
    let now = baton_core::time::now_ms();
    let info = RunnerInfo {
        id: id.into(),
        namespace: NS.into(),
        host: host.into(),
        pid: 1,
        started_at: now,
        heartbeat_at: now,
        concurrency: 1,
        lease_ms: 60_000,
        jobs: vec![],
        lost: false,
        containment: None,
    };
    store.register_runner(&info).await.unwrap();
}

/// Waits until the wall clock (the store's clock, on one machine) has passed `deadline`.
pub async fn wait_until_past(deadline: i64) {
    while baton_core::time::now_ms() <= deadline {
        let left = (deadline - baton_core::time::now_ms()).clamp(1, 50) as u64;
        tokio::time::sleep(std::time::Duration::from_millis(left)).await;
    }
}

pub async fn an_expired_lease_is_gone_even_before_a_takeover(store: Shared) {
    let (a, _) = assignment_with(&store, &[JobType::Pm]).await;
    let c = store.claim_next(NS, "r1", 200, &policy()).await.unwrap().unwrap();
    let agent = Actor::Job { id: c.job.id.clone(), token: Some(c.token) };
    wait_until_past(c.lease_expires_at).await;
    // Nobody took the job over yet, but the claim is over: no renewal, no events, no result,
    // and no decision by its agent.
    assert_eq!(store.renew_lease(&c.job.id, c.token, 1000).await.unwrap(), Lease::Gone);
    let event = NewEvent { at: 1, event: serde_json::json!({"kind": "text", "line": "late"}) };
    assert!(!store.append_events(&c.job.id, c.token, 1, vec![event]).await.unwrap());
    let err =
        store.update_assignment(NS, &a, &update(AssignmentStatus::Complete), &defaults(), &agent).await.unwrap_err();
    assert!(err.to_string().contains("no longer holds its claim"), "{err}");
    assert!(store.finish_attempt(&c.job.id, c.token, success("late"), &policy()).await.unwrap().is_none());
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.status, AssignmentStatus::Active);
}

pub async fn a_lost_lease_never_reruns_a_decided_pm(store: Shared) {
    let (a, _) = assignment_with(&store, &[JobType::Pm]).await;
    let c = store.claim_next(NS, "r-dying", 200, &policy()).await.unwrap().unwrap();
    let agent = Actor::Job { id: c.job.id.clone(), token: Some(c.token) };
    let review = store.insert_job(NS, &a, job(JobType::Review), &agent).await.unwrap();
    // The PM's runner dies after the decision took effect.
    wait_until_past(c.lease_expires_at).await;
    let next = claim(&store).await.unwrap();
    assert_eq!(next.job.id, review.id, "the decision stands and its job runs next");
    let pm = store.job(NS, &c.job.id).await.unwrap();
    assert_eq!((pm.status, pm.attempts, pm.lost_attempts), (JobStatus::Complete, 1, 1));
    assert_eq!(pm.attempt_history[0].outcome, baton_core::AttemptOutcome::Lost);

    // A PM that completed its assignment and then lost its runner is settled too, not left pending.
    let (b, _) = assignment_with(&store, &[JobType::Pm]).await;
    let c = store.claim_next(NS, "r-dying", 200, &policy()).await.unwrap().unwrap();
    let agent = Actor::Job { id: c.job.id.clone(), token: Some(c.token) };
    store.update_assignment(NS, &b, &update(AssignmentStatus::Complete), &defaults(), &agent).await.unwrap();
    wait_until_past(c.lease_expires_at).await;
    claim(&store).await;
    assert_eq!(store.job(NS, &c.job.id).await.unwrap().status, JobStatus::Complete);
}

pub async fn changes_people_care_about_are_notified_once(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let c = claim(&store).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Permanent, "bad key"), &policy()).await.unwrap();
    let blocked = AssignmentUpdate { reason: Some("needs keys".into()), ..update(AssignmentStatus::Blocked) };
    store.update_assignment(NS, &a, &blocked, &defaults(), &person()).await.unwrap();
    store.update_assignment(NS, &a, &update(AssignmentStatus::Active), &defaults(), &person()).await.unwrap();
    store.update_assignment(NS, &a, &update(AssignmentStatus::Complete), &defaults(), &person()).await.unwrap();

    use baton_core::store::NotifyEvent::*;
    let taken = store.take_notifications(NS, 10).await.unwrap();
    let seen: Vec<_> = taken.iter().map(|n| (n.event, n.assignment_id.as_str(), n.job_id.as_deref())).collect();
    assert_eq!(
        seen,
        vec![(FailedJob, a.as_str(), Some(ids[0].as_str())), (Blocked, a.as_str(), None), (Complete, a.as_str(), None)]
    );
    assert!(store.take_notifications(NS, 10).await.unwrap().is_empty(), "each is handed out once");
    assert!(store.take_notifications("repo-b", 10).await.unwrap().is_empty());

    let ws = baton_core::store::Workspace {
        branch: format!("baton/{a}"),
        worktree: "/w".into(),
        host: "h".into(),
        base_commit: None,
    };
    store.set_workspace(NS, &a, &ws).await.unwrap();
    store.clear_workspace(NS, &a, true).await.unwrap();
    let d = store.assignment(NS, &a).await.unwrap().assignment;
    assert_eq!((d.worktree.as_deref(), d.branch.as_deref()), (None, Some(ws.branch.as_str())));
    store.clear_workspace(NS, &a, false).await.unwrap();
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.branch, None);
}

pub async fn a_retry_goes_after_the_running_pm_and_waits_for_it(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let c = claim(&store).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Permanent, "bad key"), &policy()).await.unwrap();
    // Its PM runs; meanwhile a person retries the failed job, which lands after the PM.
    let pm = claim(&store).await.unwrap();
    assert_eq!(pm.job.job_type, JobType::Pm);
    let retry = store.retry_job(NS, &ids[0], &defaults(), &person()).await.unwrap();
    let chain: Vec<String> = store.assignment(NS, &a).await.unwrap().jobs.into_iter().map(|j| j.id).collect();
    assert_eq!(chain, vec![ids[0].clone(), pm.job.id.clone(), retry.id.clone()]);
    assert!(claim(&store).await.is_none(), "the assignment is busy while its PM runs");
    assert!(store.queue(NS, baton_core::time::now_ms()).await.unwrap().ready.is_empty());
    store.finish_attempt(&pm.job.id, pm.token, success("ok"), &policy()).await.unwrap();
    assert_eq!(claim(&store).await.unwrap().job.id, retry.id);
}

pub async fn work_pinned_to_a_vanished_host_is_blocked_for_a_person(store: Shared) {
    for (id, host) in [("r-a", "host-a"), ("r-b", "host-b")] {
        register_on(&store, id, host).await;
    }
    let (a, _) = assignment_with(&store, &[JobType::Implement]).await;
    let c = store.claim_next(NS, "r-a", 60_000, &policy()).await.unwrap().unwrap();
    let ws = baton_core::store::Workspace {
        branch: format!("baton/{a}"),
        worktree: "/w/a".into(),
        host: "host-a".into(),
        base_commit: None,
    };
    store.set_workspace(NS, &a, &ws).await.unwrap();
    store.finish_attempt(&c.job.id, c.token, success("done"), &policy()).await.unwrap();
    store.stop_runner("r-a").await.unwrap();
    let stopped_at = baton_core::time::now_ms();

    // Another host's runner leaves the PM job alone while host-a may come back…
    assert!(store.claim_next(NS, "r-b", 60_000, &policy()).await.unwrap().is_none());
    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!(q.hosts.get(&a).map(String::as_str), Some("host-a"), "queue says where it runs");
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.status, AssignmentStatus::Active);
    // …and once host-a has been gone longer than host_gone_ms, a person is asked to act.
    wait_until_past(stopped_at + 1).await;
    let impatient = EnginePolicy { host_gone_ms: 0, ..policy() };
    assert!(store.claim_next(NS, "r-b", 60_000, &impatient).await.unwrap().is_none());
    let d = store.assignment(NS, &a).await.unwrap().assignment;
    assert_eq!(d.status, AssignmentStatus::Blocked);
    let reason = d.reason.unwrap();
    assert!(reason.contains("host host-a") && reason.contains("baton run"), "{reason}");
}

/// The limit a job was inserted with governs its retries, whatever the config says now.
pub async fn a_jobs_own_max_attempts_governs_its_retries(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let once = store.insert_job(NS, &a, NewJob { max_attempts: 1, ..job(JobType::Plan) }, &person()).await.unwrap();
    let c = claim(&store).await.unwrap();
    assert_eq!(c.job.id, once.id);
    let r = store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "429"), &policy()).await.unwrap();
    assert_eq!(r.map(|j| (j.status, j.attempts)), Some((JobStatus::Failed, 1)), "max_attempts = 1: no retry");
    // Out of the way: completing it cancels the PM job its failure queued.
    store.update_assignment(NS, &a, &update(AssignmentStatus::Complete), &defaults(), &person()).await.unwrap();

    let b = store.create_assignment(new_assignment("y"), &person()).await.unwrap().assignment.id;
    let four = store.insert_job(NS, &b, NewJob { max_attempts: 4, ..job(JobType::Plan) }, &person()).await.unwrap();
    for attempt in 1..=4 {
        let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap();
        let c = c.filter(|c| c.job.id == four.id).expect("the retried job is claimed again");
        assert_eq!(c.attempt, attempt);
        let r = store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "503"), &policy()).await;
        let status = r.unwrap().map(|j| j.status);
        let expected = if attempt < 4 { JobStatus::Pending } else { JobStatus::Failed };
        assert_eq!(status, Some(expected), "attempt {attempt} of 4");
    }
}

/// The exact prompt of every attempt is kept, byte for byte, with its size and hash.
pub async fn every_prompt_is_kept(store: Shared) {
    let (_a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let first = "Brief: `$HOME` 'single' \"double\"\n\nünïcode — and a NUL-free tail\n".repeat(50);
    for (n, prompt) in [(1, first.clone()), (2, "the retry's prompt".to_string())] {
        let c = claim(&store).await.unwrap();
        let start = baton_core::store::AttemptStart { prompt: Some(prompt), ..Default::default() };
        assert!(store.record_start(&c.job.id, c.token, &start).await.unwrap());
        if n == 1 {
            store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "503"), &policy()).await.unwrap();
        }
    }
    let latest = store.attempt_prompt(NS, &ids[0], None).await.unwrap();
    assert_eq!((latest.attempt, latest.prompt.as_deref()), (2, Some("the retry's prompt")));
    let one = store.attempt_prompt(NS, &ids[0], Some(1)).await.unwrap();
    assert_eq!(one.prompt.as_deref(), Some(first.as_str()));
    assert_eq!(one.prompt_bytes, Some(first.len() as u64));
    let job = store.job(NS, &ids[0]).await.unwrap();
    assert_eq!(job.attempt_history[0].prompt_sha256, one.prompt_sha256);
    assert_eq!(job.attempt_history[0].prompt_bytes, Some(first.len() as u64));
    let err = store.attempt_prompt(NS, &ids[0], Some(3)).await.unwrap_err().to_string();
    assert!(err.contains("has no attempt 3: it has attempts 1 to 2"), "{err}");
}

/// A prompt compressed against the runner's dictionary reads back byte for byte; prompts without
/// one (older rows, other callers) read as before. How many bytes that took, and that each
/// dictionary is kept once, each backend's own tests check on the rows
/// ([`store_prompts_against_dictionaries`]).
pub async fn prompts_are_stored_against_their_dictionary(store: Shared) {
    store_prompts_against_dictionaries(&store).await;
}

/// Records four attempts' prompts, of four assignments: two against one dictionary, one without,
/// one against another; checks each reads back, and returns the four job ids in that order.
pub async fn store_prompts_against_dictionaries(store: &Shared) -> Vec<String> {
    use baton_core::prompt_dictionary::PromptDictionary;
    // Lines alike in shape but not in content, as a template's are: alone they compress little.
    let template: String = (0..80u32)
        .map(|i| format!("- step {i}: read file {} before writing to {}\n", i * 7919 % 1000, i * 104_729 % 997))
        .collect();
    let dictionary = Arc::new(PromptDictionary::new(template.clone()));
    let other = Arc::new(PromptDictionary::new(template.replace("file", "path")));
    let cases = [(Some(&dictionary), "one"), (Some(&dictionary), "two"), (None, "three"), (Some(&other), "four")];
    let mut ids = Vec::new();
    for _ in cases {
        ids.push(assignment_with(store, &[JobType::Implement]).await.1.remove(0));
    }
    let prompt = |north_star: &str| format!("# {north_star}\n{template}");
    // One claim per assignment, each left running: no PM job comes between them.
    for _ in cases {
        let c = claim(store).await.expect("each assignment's job is claimed");
        let (dictionary, north_star) = cases[ids.iter().position(|id| *id == c.job.id).unwrap()];
        let start = baton_core::store::AttemptStart {
            prompt: Some(prompt(north_star)),
            prompt_dictionary: dictionary.cloned(),
            ..Default::default()
        };
        assert!(store.record_start(&c.job.id, c.token, &start).await.unwrap());
    }
    for (id, (_, north_star)) in ids.iter().zip(cases) {
        let stored = store.attempt_prompt(NS, id, Some(1)).await.unwrap();
        assert_eq!(stored.prompt, Some(prompt(north_star)), "{north_star}");
        assert_eq!(stored.prompt_bytes, Some(prompt(north_star).len() as u64));
    }
    ids
}

/// A continuation names a job of the same assignment and harness that recorded a session; the
/// result records the session's host, its model and how it began; a retry copy carries on.
pub async fn continuations_are_checked_and_recorded(store: Shared) {
    use baton_core::request::SessionSource;
    use baton_core::SessionMode;
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let (_other, other_ids) = assignment_with(&store, &[JobType::Implement]).await;
    // Out of the claims' way: two assignments made in one millisecond are claimed in id order.
    store.cancel_job(NS, &other_ids[0], &defaults(), &person()).await.unwrap();
    let continuing = |job_id: &str| NewJob {
        session: Some(SessionSource { mode: SessionMode::Continued, job_id: job_id.to_string() }),
        model: Some("opus".into()),
        effort: Some("high".into()),
        ..job(JobType::Implement)
    };
    let refused = store.insert_job(NS, &a, continuing(&ids[0]), &person()).await.unwrap_err().to_string();
    assert!(refused.contains("recorded no agent session"), "{refused}");
    let refused = store.insert_job(NS, &a, continuing(&other_ids[0]), &person()).await.unwrap_err().to_string();
    assert!(refused.contains("belongs to assignment"), "{refused}");
    let refused = store.insert_job(NS, &a, continuing("jmissing"), &person()).await.unwrap_err().to_string();
    assert!(refused.contains("no job jmissing"), "{refused}");
    let c = claim_job(&store, &ids[0]).await;
    let ran = AttemptResult {
        session_mode: Some(SessionMode::Fresh),
        session_host: Some("host-a".into()),
        model: Some("sonnet".into()),
        ..success("built it")
    };
    store.finish_attempt(&c.job.id, c.token, ran, &policy()).await.unwrap().unwrap();
    let other_harness = NewJob { harness: "codex".into(), ..continuing(&ids[0]) };
    let refused = store.insert_job(NS, &a, other_harness, &person()).await.unwrap_err().to_string();
    assert!(refused.contains("ran on claude, not codex"), "{refused}");
    assert_eq!(store.assignment(NS, &a).await.unwrap().jobs.len(), 2, "nothing stored but the PM");

    let next = store.insert_job(NS, &a, continuing(&ids[0]), &person()).await.unwrap();
    assert_eq!((next.session_mode, next.session_source_job_id.as_deref()), (SessionMode::Continued, Some(&*ids[0])));
    assert_eq!((next.model.as_deref(), next.effort.as_deref()), (Some("opus"), Some("high")));
    let source = store.job(NS, &ids[0]).await.unwrap();
    assert_eq!((source.session_host.as_deref(), source.model.as_deref()), (Some("host-a"), Some("sonnet")));
    assert!(source.session_fallback_reason.is_none());

    // It falls back: the result says so, and a retry copy of it then starts fresh.
    store.cancel_job(NS, &store.assignment(NS, &a).await.unwrap().jobs[1].id, &defaults(), &person()).await.unwrap();
    let c = claim_job(&store, &next.id).await;
    let fell_back = AttemptResult {
        session_mode: Some(SessionMode::Fresh),
        session_fallback_reason: Some("the session lives on host-a".into()),
        ..failure(ErrorKind::Permanent, "broke")
    };
    let done = store.finish_attempt(&c.job.id, c.token, fell_back, &policy()).await.unwrap().unwrap();
    assert_eq!(done.session_mode, SessionMode::Fresh);
    assert_eq!(done.session_fallback_reason.as_deref(), Some("the session lives on host-a"));
    assert_eq!(done.model.as_deref(), Some("opus"), "the job's own choice stays");
    let copy = store.retry_job(NS, &done.id, &defaults(), &person()).await.unwrap();
    assert_eq!((copy.session_mode, copy.model.as_deref()), (SessionMode::Fresh, Some("opus")));
}

pub async fn a_transcript_that_lost_events_stays_marked_incomplete(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let twice = NewJob { max_attempts: 2, ..job(JobType::Implement) };
    let id = store.insert_job(NS, &a, twice, &person()).await.unwrap().id;
    let fresh = store.job(NS, &id).await.unwrap();
    assert!(fresh.transcript_complete && fresh.transcript_error.is_none());
    let c = claim(&store).await.unwrap();
    let lost = AttemptResult {
        transcript_error: Some("3 transcript events could not be stored: disk full".into()),
        ..failure(ErrorKind::Transient, "429")
    };
    let r = store.finish_attempt(&c.job.id, c.token, lost, &policy()).await.unwrap().unwrap();
    assert!(!r.transcript_complete);
    // A later attempt whose transcript was stored whole does not make the job's whole again.
    let c = claim(&store).await.unwrap();
    let r = store.finish_attempt(&c.job.id, c.token, success("done"), &policy()).await.unwrap().unwrap();
    assert_eq!(r.status, JobStatus::Complete, "the result itself is stored");
    assert!(!r.transcript_complete);
    assert_eq!(r.transcript_error.as_deref(), Some("3 transcript events could not be stored: disk full"));
    let json = serde_json::to_value(store.job(NS, &id).await.unwrap()).unwrap();
    assert_eq!(json["transcript_complete"], false);
    assert_eq!(json["transcript_error"], "3 transcript events could not be stored: disk full");
}
