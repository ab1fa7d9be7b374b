//! Store stories of stopping jobs: a job cancelled while running keeps its assignment busy until
//! its runner confirms the agent stopped, or its lease runs out.

use super::*;
use baton_core::engine::stopping;
use baton_core::store::Lease;
use baton_core::time::now_ms;

/// The PM queued after a cancel waits for the runner's confirmation that the agent is gone.
pub async fn a_cancelled_running_job_holds_its_assignment_until_the_stop_is_confirmed(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    let cancelled = store.cancel_job(NS, &ids[0], &defaults(), &person()).await.unwrap();
    assert_eq!((cancelled.status, cancelled.runner.as_deref()), (JobStatus::Cancelled, Some("r1")));
    assert!(cancelled.stopping(), "the agent may still be exiting");
    // The claim is over for the runner: it writes nothing more and stops the agent.
    assert_eq!(store.renew_lease(&ids[0], c.token, 60_000).await.unwrap(), Lease::Gone);
    assert!(store.held_leases("r1").await.unwrap().is_empty());
    assert!(store.finish_attempt(&ids[0], c.token, success("late"), &policy()).await.unwrap().is_none());

    // The PM is queued, but the assignment is busy: not ready, not claimable, not idle.
    let pm = store.assignment(NS, &a).await.unwrap().jobs[1].clone();
    assert_eq!((pm.job_type, pm.status), (JobType::Pm, JobStatus::Pending));
    assert!(store.claim_next(NS, "r2", 60_000, &policy()).await.unwrap().is_none());
    let q = store.queue(NS, now_ms()).await.unwrap();
    assert_eq!((q.ready.len(), q.ready_total, q.waiting_total), (0, 0, 0));
    assert_eq!((q.idle.len(), q.idle_total), (0, 0), "a stopping job is work in flight");
    assert_eq!(q.stopping.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), vec![ids[0].clone()]);
    assert!(q.running.is_empty());
    assert!(!store.is_idle(NS).await.unwrap());
    assert_eq!(store.next_deadline(NS, 0).await.unwrap(), Some(c.lease_expires_at), "the stop's lease is a deadline");
    assert_eq!(store.next_deadline(NS, c.lease_expires_at).await.unwrap(), None, "…until it is over");

    // While the agent exits, the runner keeps the stop's lease (and only the stop's).
    assert!(store.renew_stop(&ids[0], c.token, 120_000).await.unwrap());
    let renewed = store.job(NS, &ids[0]).await.unwrap().lease_expires_at.unwrap();
    assert!(renewed > c.lease_expires_at, "the stop's lease was extended");
    assert!(!store.renew_stop(&ids[0], c.token + 1, 120_000).await.unwrap());
    assert_eq!(store.renew_lease(&ids[0], c.token, 60_000).await.unwrap(), Lease::Gone, "not running again");

    // Only the claim that ran it can confirm the stop, once.
    assert!(!store.release_stopped(&ids[0], c.token + 1).await.unwrap());
    assert!(store.release_stopped(&ids[0], c.token).await.unwrap());
    assert!(!store.release_stopped(&ids[0], c.token).await.unwrap());
    assert!(!store.renew_stop(&ids[0], c.token, 60_000).await.unwrap(), "a released stop is not kept");
    let released = store.job(NS, &ids[0]).await.unwrap();
    assert_eq!(
        (released.status, released.runner.as_deref(), released.lease_expires_at),
        (JobStatus::Cancelled, None, None)
    );
    assert!(!released.stopping());
    let history = store.assignment(NS, &a).await.unwrap().history;
    assert!(history.iter().any(|h| h.action == stopping::STOP_CONFIRMED && h.job_id.as_deref() == Some(&ids[0])));

    // Now the PM is ready and starts.
    let q = store.queue(NS, now_ms()).await.unwrap();
    assert_eq!((q.ready.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), q.ready_total), (vec![pm.id.clone()], 1));
    assert!(q.stopping.is_empty());
    let next = store.claim_next(NS, "r2", 60_000, &policy()).await.unwrap().unwrap();
    assert_eq!(next.job.id, pm.id);
    assert_eq!(store.next_deadline(NS, 0).await.unwrap(), Some(next.lease_expires_at));
}

/// A runner that died while stopping never confirms: the lease running out frees the assignment.
pub async fn a_stop_nobody_confirms_ends_with_its_lease(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    // A zero lease is expired at once: the runner "died" right after the cancel reached it.
    let c = store.claim_next(NS, "r-dead", 0, &policy()).await.unwrap().unwrap();
    assert_eq!(c.job.id, ids[0]);
    store.cancel_job(NS, &ids[0], &defaults(), &person()).await.unwrap();
    let next = store.claim_next(NS, "r-live", 60_000, &policy()).await.unwrap().unwrap();
    assert_eq!((next.job.job_type, next.job.for_job_id.as_deref()), (JobType::Pm, Some(ids[0].as_str())));
    let cancelled = store.job(NS, &ids[0]).await.unwrap();
    assert_eq!((cancelled.status, cancelled.runner, cancelled.lost_attempts), (JobStatus::Cancelled, None, 0));
    let history = store.assignment(NS, &a).await.unwrap().history;
    let expired = history.iter().find(|h| h.action == stopping::STOP_UNCONFIRMED).expect("the expiry is recorded");
    assert_eq!(expired.reason.as_deref(), Some(stopping::STOP_UNCONFIRMED_REASON));
    // The dead runner's late renewal and confirmation change nothing.
    assert!(!store.renew_stop(&ids[0], c.token, 60_000).await.unwrap());
    assert!(!store.release_stopped(&ids[0], c.token).await.unwrap());
}

/// Cancelling a pending job, or a whole assignment's running job, leaves no lease where nothing
/// else waits: a pending job had no agent, and an ended assignment starts nothing.
pub async fn only_a_cancelled_running_job_is_stopping(store: Shared) {
    let (_a, ids) = assignment_with(&store, &[JobType::Plan, JobType::Implement]).await;
    for id in &ids {
        let pending = store.cancel_job(NS, id, &defaults(), &person()).await.unwrap();
        assert!(!pending.stopping() && pending.runner.is_none());
    }
    let (b, b_ids) = assignment_with(&store, &[JobType::Implement]).await;
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    assert_eq!(c.job.id, b_ids[0]);
    store.update_assignment(NS, &b, &update(AssignmentStatus::Cancelled), &defaults(), &person()).await.unwrap();
    // Its agent is being stopped all the same; the runner's confirmation releases it.
    assert!(store.job(NS, &b_ids[0]).await.unwrap().stopping());
    assert!(store.release_stopped(&b_ids[0], c.token).await.unwrap());
    assert!(!store.job(NS, &b_ids[0]).await.unwrap().stopping());
}
