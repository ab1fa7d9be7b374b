//! Assignments that wait for others (`create --after`): a child is `deferred` until every parent
//! is complete, starts in the transaction that completes its last parent, is blocked naming a
//! cancelled parent, and bad parents are refused with nothing stored.

use super::runner::{policy, success};
use super::*;
use baton_core::store::{AttemptResult, Workspace};

fn after(north_star: &str, parents: &[&str]) -> NewAssignment {
    NewAssignment {
        after: parents.iter().map(|p| p.to_string()).collect(),
        first_job: Some(job(JobType::Implement)),
        ..new_assignment(north_star)
    }
}

async fn create(store: &Shared, new: NewAssignment) -> String {
    store.create_assignment(new, &person()).await.unwrap().assignment.id
}

async fn status(store: &Shared, id: &str) -> AssignmentStatus {
    store.assignment(NS, id).await.unwrap().assignment.status
}

pub async fn set_status(store: &Shared, id: &str, to: AssignmentStatus) {
    store.update_assignment(NS, id, &update(to), &defaults(), &person()).await.unwrap();
}

pub async fn a_child_waits_for_every_parent_then_starts(store: Shared) {
    let p1 = create(&store, new_assignment("API")).await;
    let p2 = create(&store, new_assignment("schema")).await;
    let created = store.create_assignment(after("docs", &[&p1, &p2, &p1]), &person()).await.unwrap();
    let child = created.assignment.id.clone();
    assert_eq!(created.assignment.status, AssignmentStatus::Deferred);
    let parents: Vec<&str> = created.parents.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(parents, [p1.as_str(), p2.as_str()], "each parent once, in the order given");
    let deferred = created.history.iter().find(|h| h.action == "deferred").expect("the history says it waits");
    assert_eq!(deferred.reason, Some(format!("waiting for {p1}, {p2}")));
    let children = store.assignment(NS, &p1).await.unwrap().children;
    assert_eq!((children.len(), children[0].id.as_str()), (1, child.as_str()));

    // Its first job is queued but does not run, and `queue` counts it deferred.
    let queue = store.queue(NS, 0).await.unwrap();
    assert_eq!(queue.assignments["deferred"], 1);
    assert_eq!(queue.ready_total, 0);
    assert!(store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().is_none());

    set_status(&store, &p1, AssignmentStatus::Complete).await;
    assert_eq!(status(&store, &child).await, AssignmentStatus::Deferred, "one parent of two is not enough");
    set_status(&store, &p2, AssignmentStatus::Complete).await;
    let d = store.assignment(NS, &child).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Active);
    assert!(d.assignment.activated_at.is_some());
    let started = d.history.last().unwrap();
    assert_eq!((started.action.as_str(), started.actor.clone()), ("status deferred → active", Actor::Engine));
    assert!(started.reason.as_deref().unwrap_or_default().contains("several parents"), "{started:?}");
    let claim = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().expect("the child's job runs now");
    assert_eq!(claim.job.assignment_id, child);
}

pub async fn a_lone_parents_final_head_is_where_the_child_starts(store: Shared) {
    let parent = store.create_assignment(after("API", &[]), &person()).await.unwrap().assignment.id;
    let child = create(&store, after("docs", &[&parent])).await;
    let ws = Workspace {
        branch: format!("baton/{parent}"),
        worktree: "/wt".into(),
        host: "h1".into(),
        base_commit: Some("c0".into()),
    };
    store.set_workspace(NS, &parent, &ws).await.unwrap();
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    let done = AttemptResult { git_head_after: Some("feedc0de1234567890".into()), ..success("done") };
    store.finish_attempt(&c.job.id, c.token, done, &policy()).await.unwrap();
    set_status(&store, &parent, AssignmentStatus::Complete).await;

    let p = store.assignment(NS, &parent).await.unwrap().assignment;
    assert_eq!(p.final_head.as_deref(), Some("feedc0de1234567890"));
    let c = store.assignment(NS, &child).await.unwrap();
    assert_eq!(c.assignment.status, AssignmentStatus::Active);
    assert_eq!(c.assignment.base_ref.as_deref(), Some("feedc0de1234567890"));
    assert!(c.history.last().unwrap().reason.as_deref().unwrap_or_default().contains("final head feedc0de1234"));

    // Created after its parent completed, it starts at once from the same head; `--base` wins.
    let late = store.create_assignment(after("more docs", &[&parent]), &person()).await.unwrap();
    assert_eq!(late.assignment.status, AssignmentStatus::Active);
    assert_eq!(late.assignment.base_ref.as_deref(), Some("feedc0de1234567890"));
    let based = NewAssignment { base_ref: Some("v2".into()), ..after("on v2", &[&parent]) };
    let based = store.create_assignment(based, &person()).await.unwrap();
    assert_eq!(based.assignment.base_ref.as_deref(), Some("v2"));
}

pub async fn a_cancelled_parent_blocks_its_child_and_a_resume_waits_for_the_rest(store: Shared) {
    let p1 = create(&store, new_assignment("API")).await;
    let p2 = create(&store, new_assignment("schema")).await;
    let child = create(&store, after("docs", &[&p1, &p2])).await;
    set_status(&store, &p1, AssignmentStatus::Cancelled).await;
    let d = store.assignment(NS, &child).await.unwrap().assignment;
    assert_eq!(d.status, AssignmentStatus::Blocked);
    assert!(d.reason.as_deref().unwrap_or_default().contains(&format!("{p1} was cancelled")), "{d:?}");

    let resume = AssignmentUpdate { note: Some("go on without the API".into()), ..update(AssignmentStatus::Active) };
    let d = store.update_assignment(NS, &child, &resume, &defaults(), &person()).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Deferred, "{p2} is still open");
    assert_eq!(d.jobs.len(), 1, "no PM job is queued for an assignment that waits");
    set_status(&store, &p2, AssignmentStatus::Complete).await;
    let d = store.assignment(NS, &child).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Active);
    assert!(d.history.last().unwrap().reason.as_deref().unwrap_or_default().contains(&format!("({p1} cancelled)")));
}

pub async fn only_the_engine_starts_a_deferred_assignment_and_a_person_may_cancel_it(store: Shared) {
    let parent = create(&store, new_assignment("API")).await;
    let child = create(&store, after("docs", &[&parent])).await;
    let refused = store.update_assignment(NS, &child, &update(AssignmentStatus::Active), &defaults(), &person()).await;
    assert!(refused.unwrap_err().to_string().contains("starts by itself"));
    assert_eq!(status(&store, &child).await, AssignmentStatus::Deferred);
    set_status(&store, &child, AssignmentStatus::Cancelled).await;
    let d = store.assignment(NS, &child).await.unwrap();
    assert!(d.jobs.iter().all(|j| j.status == JobStatus::Cancelled));
    set_status(&store, &parent, AssignmentStatus::Complete).await;
    assert_eq!(status(&store, &child).await, AssignmentStatus::Cancelled, "a cancelled child stays cancelled");
}

pub async fn bad_parents_are_refused_with_nothing_stored(store: Shared) {
    let parent = create(&store, NewAssignment { first_job: Some(job(JobType::Plan)), ..new_assignment("API") }).await;
    let job_id = store.assignment(NS, &parent).await.unwrap().jobs[0].id.clone();
    let foreign = store
        .create_assignment(NewAssignment { namespace: "repo-b".into(), ..new_assignment("elsewhere") }, &person())
        .await
        .unwrap()
        .assignment
        .id;
    let cancelled = create(&store, new_assignment("dropped")).await;
    set_status(&store, &cancelled, AssignmentStatus::Cancelled).await;
    let before = snapshot(&store, NS).await;

    let err = store.create_assignment(after("x", &[&parent, "anope"]), &person()).await.unwrap_err();
    assert!(matches!(err, Error::AssignmentNotFound { .. }), "{err}");
    let err = store.create_assignment(after("x", &[&foreign]), &person()).await.unwrap_err();
    assert!(matches!(err, Error::AssignmentNotFound { .. }), "another namespace's id is not found: {err}");
    let err = store.create_assignment(after("x", &[&job_id]), &person()).await.unwrap_err();
    assert!(err.to_string().contains("needs an assignment id"), "{err}");
    let err = store.create_assignment(after("x", &[&cancelled]), &person()).await.unwrap_err();
    assert!(err.to_string().contains("is cancelled"), "{err}");
    assert_eq!(snapshot(&store, NS).await, before, "refusals store nothing");
}

/// Parents ending at the same moment as each other, and as a child being created after them:
/// every child starts exactly once, and none is left deferred with all its parents complete.
pub async fn parents_ending_together_start_each_child_exactly_once(store: Shared) {
    for _ in 0..5 {
        let p1 = create(&store, new_assignment("p1")).await;
        let p2 = create(&store, new_assignment("p2")).await;
        let early = create(&store, after("early", &[&p1, &p2])).await;
        let (s1, s2, s3) = (store.clone(), store.clone(), store.clone());
        let (a, b, late) = (p1.clone(), p2.clone(), vec![p1.clone(), p2.clone()]);
        let complete = |s: Shared, id: String| async move { set_status(&s, &id, AssignmentStatus::Complete).await };
        let (_, _, late) = tokio::join!(
            tokio::spawn(complete(s1, a)),
            tokio::spawn(complete(s2, b)),
            tokio::spawn(async move {
                let parents: Vec<&str> = late.iter().map(String::as_str).collect();
                s3.create_assignment(after("late", &parents), &person()).await.unwrap().assignment.id
            }),
        );
        for child in [early, late.unwrap()] {
            let d = store.assignment(NS, &child).await.unwrap();
            assert_eq!(d.assignment.status, AssignmentStatus::Active, "{child} started");
            let starts = d.history.iter().filter(|h| h.action == "status deferred → active" || h.action == "activated");
            assert_eq!(starts.count(), 1, "{child} started once: {:?}", d.history);
        }
    }
}
