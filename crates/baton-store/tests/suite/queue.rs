//! Store stories of `baton queue`: its kept counts and lists always equal a recount of the rows.

use super::*;
use baton_core::retry::RetryPolicy;
use baton_core::store::EnginePolicy;
use baton_core::ErrorKind;

/// A policy whose retries back off for an hour, so a retried job shows as waiting.
fn slow_retries() -> EnginePolicy {
    EnginePolicy { retry: RetryPolicy { retry_base_ms: 3_600_000, retry_on_timeout: false }, ..policy() }
}

/// Checks `queue` against a recount from the full lists: counts by status, and the ready rule
/// (the first pending job of an active assignment with nothing running) split by back-off.
pub async fn assert_queue_matches_a_recount(store: &Shared, step: &str) {
    let now = baton_core::time::now_ms();
    let q = store.queue(NS, now).await.unwrap();
    let mut assignments = store.assignments(NS, &AssignmentFilter::default()).await.unwrap();
    let jobs = store.jobs(NS, &JobFilter::default()).await.unwrap();
    for status in AssignmentStatus::ALL {
        let n = assignments.iter().filter(|a| a.status == *status).count() as u64;
        assert_eq!(q.assignments[status.as_str()], n, "{step}: {status} assignments");
    }
    for status in JobStatus::ALL {
        let n = jobs.iter().filter(|j| j.status == *status).count() as u64;
        assert_eq!(q.jobs[status.as_str()], n, "{step}: {status} jobs");
    }
    assignments.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let (mut ready, mut waiting) = (Vec::new(), Vec::new());
    for a in assignments.iter().filter(|a| a.status == AssignmentStatus::Active) {
        let mut chain: Vec<_> = jobs.iter().filter(|j| j.assignment_id == a.id).collect();
        chain.sort_by(|x, y| (x.position, &x.id).cmp(&(y.position, &y.id)));
        if chain.iter().any(|j| j.status == JobStatus::Running) {
            continue;
        }
        if let Some(head) = chain.iter().find(|j| j.status == JobStatus::Pending) {
            let side = if head.not_before.is_none_or(|t| t <= now) { &mut ready } else { &mut waiting };
            side.push(head.id.clone());
        }
    }
    assert_eq!(q.ready.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), ready, "{step}: ready");
    assert_eq!(q.waiting.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), waiting, "{step}: waiting");
    assert_eq!((q.ready_total, q.waiting_total), (ready.len() as u64, waiting.len() as u64), "{step}: totals");
    // Idle: active with no job pending or running, the longest-idle first.
    let mut idle: Vec<_> = assignments
        .iter()
        .filter(|a| a.status == AssignmentStatus::Active)
        .filter(|a| {
            !jobs.iter().any(|j| j.assignment_id == a.id && matches!(j.status, JobStatus::Pending | JobStatus::Running))
        })
        .collect();
    idle.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    let idle: Vec<_> = idle.iter().map(|a| a.id.clone()).collect();
    assert_eq!(q.idle.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), idle, "{step}: idle");
    assert_eq!(q.idle_total, idle.len() as u64, "{step}: idle total");
}

pub async fn queue_counts_equal_a_recount_through_the_lifecycle(store: Shared) {
    assert_queue_matches_a_recount(&store, "empty").await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(assignment_with(&store, &[JobType::Plan, JobType::Implement]).await);
    }
    // One with nothing queued: idle from the start.
    assignment_with(&store, &[]).await;
    assert_queue_matches_a_recount(&store, "created").await;

    // Claims make their assignments busy; a finish queues the PM right after.
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    assert_queue_matches_a_recount(&store, "claimed").await;
    store.finish_attempt(&c.job.id, c.token, success("done"), &policy()).await.unwrap().unwrap();
    assert_queue_matches_a_recount(&store, "finished").await;

    // A transient failure backs off: its assignment's head waits.
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    let r = store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Transient, "429"), &slow_retries()).await;
    assert_eq!(r.unwrap().unwrap().status, JobStatus::Pending);
    assert_queue_matches_a_recount(&store, "backing off").await;

    // A permanent failure, a cancelled job, a retried job, a blocked and a completed assignment.
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    store.finish_attempt(&c.job.id, c.token, failure(ErrorKind::Permanent, "no"), &policy()).await.unwrap().unwrap();
    assert_queue_matches_a_recount(&store, "failed").await;
    store.retry_job(NS, &c.job.id, &defaults(), &person()).await.unwrap();
    assert_queue_matches_a_recount(&store, "retried").await;
    store.cancel_job(NS, &ids[3].1[0], &defaults(), &person()).await.unwrap();
    assert_queue_matches_a_recount(&store, "job cancelled").await;
    let blocked = AssignmentUpdate { reason: Some("human".into()), ..update(AssignmentStatus::Blocked) };
    store.update_assignment(NS, &ids[4].0, &blocked, &defaults(), &person()).await.unwrap();
    assert_queue_matches_a_recount(&store, "blocked").await;
    store.update_assignment(NS, &ids[5].0, &update(AssignmentStatus::Complete), &defaults(), &person()).await.unwrap();
    assert_queue_matches_a_recount(&store, "completed").await;
    store.update_assignment(NS, &ids[4].0, &update(AssignmentStatus::Active), &defaults(), &person()).await.unwrap();
    assert_queue_matches_a_recount(&store, "resumed").await;
    store.insert_job(NS, &ids[3].0, job(JobType::Review), &person()).await.unwrap();
    assert_queue_matches_a_recount(&store, "inserted").await;
    store.update_assignment(NS, &ids[0].0, &update(AssignmentStatus::Cancelled), &defaults(), &person()).await.unwrap();
    assert_queue_matches_a_recount(&store, "assignment cancelled").await;
}
