//! The lifecycle table of `baton_core::lifecycle`, checked against what a backend really does:
//! every documented transition happens through the store, no other one does, and the moves the
//! table forbids are refused with nothing changed.

use super::runner::{failure, policy, success};
use super::*;
use baton_core::lifecycle::{ASSIGNMENT_TRANSITIONS, JOB_TRANSITIONS};
use baton_core::ErrorKind;
use std::collections::{BTreeMap, BTreeSet};

/// Every job status change seen between two looks at an assignment's chain.
struct Observer {
    last: BTreeMap<String, JobStatus>,
    seen: BTreeSet<(JobStatus, JobStatus)>,
}

impl Observer {
    fn new() -> Observer {
        Observer { last: BTreeMap::new(), seen: BTreeSet::new() }
    }

    async fn look(&mut self, store: &Shared, aid: &str) {
        for job in store.assignment(NS, aid).await.unwrap().jobs {
            if let Some(before) = self.last.insert(job.id.clone(), job.status) {
                if before != job.status {
                    self.seen.insert((before, job.status));
                }
            } else {
                assert_eq!(job.status, JobStatus::Pending, "a new job starts pending: {}", job.id);
            }
        }
    }
}

pub async fn job_transitions_are_exactly_the_documented_table(store: Shared) {
    let aid = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let mut seen = Observer::new();
    let claim = || async { store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap() };

    // pending → running → complete; its PM: running → pending (a transient failure), → failed.
    store.insert_job(NS, &aid, job(JobType::Plan), &person()).await.unwrap();
    seen.look(&store, &aid).await;
    let c = claim().await;
    seen.look(&store, &aid).await;
    store.finish_attempt(&c.job.id, c.token, success("done"), &policy()).await.unwrap();
    seen.look(&store, &aid).await;
    let pm = claim().await;
    assert_eq!(pm.job.job_type, JobType::Pm);
    seen.look(&store, &aid).await;
    store.finish_attempt(&pm.job.id, pm.token, failure(ErrorKind::Transient, "503"), &policy()).await.unwrap();
    seen.look(&store, &aid).await;
    let pm = claim().await;
    seen.look(&store, &aid).await;
    store.finish_attempt(&pm.job.id, pm.token, failure(ErrorKind::Permanent, "401"), &policy()).await.unwrap();
    seen.look(&store, &aid).await;

    // The failed PM blocked the assignment; resumed, its PM job is cancelled while pending and
    // the next one while running.
    store.update_assignment(NS, &aid, &update(AssignmentStatus::Active), &defaults(), &person()).await.unwrap();
    seen.look(&store, &aid).await;
    let queued = store.jobs(NS, &JobFilter { status: Some(JobStatus::Pending), ..Default::default() }).await.unwrap();
    store.cancel_job(NS, &queued[0].id, &defaults(), &person()).await.unwrap();
    seen.look(&store, &aid).await;
    let running = store.insert_job(NS, &aid, job(JobType::Review), &person()).await.unwrap();
    seen.look(&store, &aid).await;
    let c = claim().await;
    assert_eq!(c.job.id, running.id);
    seen.look(&store, &aid).await;
    store.cancel_job(NS, &running.id, &defaults(), &person()).await.unwrap();
    seen.look(&store, &aid).await;
    // A stale runner's result for the cancelled job changes nothing.
    assert!(store.finish_attempt(&c.job.id, c.token, success("late"), &policy()).await.unwrap().is_none());
    seen.look(&store, &aid).await;

    let documented: BTreeSet<_> = JOB_TRANSITIONS.into_iter().collect();
    assert_eq!(seen.seen, documented, "the store made exactly the documented job transitions");

    // What the table forbids is refused, and nothing changes.
    let before = store.assignment(NS, &aid).await.unwrap();
    for job in &before.jobs {
        if job.status.is_final() {
            assert!(
                store.cancel_job(NS, &job.id, &defaults(), &person()).await.is_err(),
                "cancel a {} job",
                job.status
            );
        }
        if job.status == JobStatus::Complete {
            assert!(store.retry_job(NS, &job.id, &defaults(), &person()).await.is_err(), "retry a complete job");
        }
    }
    assert_eq!(store.assignment(NS, &aid).await.unwrap().jobs, before.jobs, "refusals change nothing");
}

pub async fn assignment_transitions_are_exactly_the_documented_table(store: Shared) {
    let blocked = |why: &str| AssignmentUpdate { reason: Some(why.into()), ..update(AssignmentStatus::Blocked) };
    let request = |to: AssignmentStatus| if to == AssignmentStatus::Blocked { blocked("wait") } else { update(to) };
    let mut seen = BTreeSet::new();
    for (from, to) in ASSIGNMENT_TRANSITIONS {
        if from == AssignmentStatus::Deferred || to == AssignmentStatus::Deferred {
            seen.insert((from, waiting_transition(&store, to).await));
            continue;
        }
        let aid = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
        if from == AssignmentStatus::Blocked {
            store.update_assignment(NS, &aid, &blocked("first"), &defaults(), &person()).await.unwrap();
        }
        let d = store.update_assignment(NS, &aid, &request(to), &defaults(), &person()).await.unwrap();
        seen.insert((from, d.assignment.status));
    }
    let documented: BTreeSet<_> = ASSIGNMENT_TRANSITIONS.into_iter().collect();
    assert_eq!(seen, documented);

    // From a final status nothing moves, and `active → active` is no transition.
    for end in [AssignmentStatus::Complete, AssignmentStatus::Cancelled] {
        let aid = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
        store.update_assignment(NS, &aid, &update(end), &defaults(), &person()).await.unwrap();
        for to in AssignmentStatus::ALL {
            let refused = store.update_assignment(NS, &aid, &request(*to), &defaults(), &person()).await;
            assert!(refused.is_err(), "{end} → {to} must be refused");
        }
        assert_eq!(store.assignment(NS, &aid).await.unwrap().assignment.status, end);
    }
    let aid = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    assert!(store
        .update_assignment(NS, &aid, &update(AssignmentStatus::Active), &defaults(), &person())
        .await
        .is_err());
}

/// Makes a transition into or out of `deferred` the way it happens (the engine moves a child
/// when its parent ends; a person cancels it or resumes it while a parent is open) and returns
/// the status it reached.
async fn waiting_transition(store: &Shared, to: AssignmentStatus) -> AssignmentStatus {
    let p1 = store.create_assignment(new_assignment("p1"), &person()).await.unwrap().assignment.id;
    let p2 = store.create_assignment(new_assignment("p2"), &person()).await.unwrap().assignment.id;
    let parents = if to == AssignmentStatus::Deferred { vec![p1.clone(), p2.clone()] } else { vec![p1.clone()] };
    let child = NewAssignment { after: parents, ..new_assignment("child") };
    let child = store.create_assignment(child, &person()).await.unwrap().assignment.id;
    assert_eq!(store.assignment(NS, &child).await.unwrap().assignment.status, AssignmentStatus::Deferred);
    match to {
        AssignmentStatus::Active => set_status(store, &p1, AssignmentStatus::Complete).await,
        AssignmentStatus::Blocked => set_status(store, &p1, AssignmentStatus::Cancelled).await,
        AssignmentStatus::Cancelled => set_status(store, &child, AssignmentStatus::Cancelled).await,
        AssignmentStatus::Deferred => {
            set_status(store, &p1, AssignmentStatus::Cancelled).await;
            set_status(store, &child, AssignmentStatus::Active).await;
        }
        AssignmentStatus::Complete => unreachable!("no transition leads from deferred to complete"),
    }
    store.assignment(NS, &child).await.unwrap().assignment.status
}
