//! Store stories of the PM's decision protocol: one decision per PM job, its insert right after
//! it, `proceed`, and the chain line each decision leaves.

use super::runner::{policy, success};
use super::*;

/// An assignment with a running PM job, and the PM's identity as its agent.
async fn running_pm(store: &Shared) -> (String, String, Actor) {
    let aid = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let pm = store.insert_job(NS, &aid, job(JobType::Pm), &person()).await.unwrap();
    let claim = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    assert_eq!(claim.job.id, pm.id);
    (aid, pm.id.clone(), Actor::Job { id: pm.id, token: Some(claim.token) })
}

async fn decision_of(store: &Shared, job_id: &str) -> Option<String> {
    store.job(NS, job_id).await.unwrap().decision
}

pub async fn a_pm_job_makes_one_decision(store: Shared) {
    let (aid, pm, agent) = running_pm(&store).await;
    let review = store.insert_job(NS, &aid, job(JobType::Review), &agent).await.unwrap();
    assert_eq!(decision_of(&store, &pm).await, Some(format!("queued review {}", review.id)));
    let before = store.assignment(NS, &aid).await.unwrap();

    let second = store.insert_job(NS, &aid, job(JobType::Implement), &agent).await.unwrap_err().to_string();
    assert_eq!(second, format!("job {pm} already decided: queued review {}; a PM job makes one decision", review.id));
    let complete = store.update_assignment(NS, &aid, &update(AssignmentStatus::Complete), &defaults(), &agent).await;
    assert!(complete.unwrap_err().to_string().contains("already decided"), "insert then complete: complete refused");
    assert!(store.proceed(NS, &aid, &agent).await.unwrap_err().to_string().contains("already decided"));
    let after = store.assignment(NS, &aid).await.unwrap();
    assert_eq!((after.jobs, after.history.len()), (before.jobs, before.history.len()), "refusals store nothing");

    // Cancelling is no decision: a PM may still cancel a job after deciding.
    store.cancel_job(NS, &review.id, &defaults(), &agent).await.unwrap();
}

pub async fn a_pms_insert_lands_right_after_it(store: Shared) {
    let (aid, pm, agent) = running_pm(&store).await;
    let queued_by_person = store.insert_job(NS, &aid, job(JobType::Document), &person()).await.unwrap();
    let next = store.insert_job(NS, &aid, job(JobType::Implement), &agent).await.unwrap();
    let chain: Vec<String> = store.assignment(NS, &aid).await.unwrap().jobs.into_iter().map(|j| j.id).collect();
    assert_eq!(chain, vec![pm.clone(), next.id.clone(), queued_by_person.id.clone()], "the PM's step runs next");

    // Elsewhere is refused for a PM, and nothing is stored.
    let (aid, _pm, agent) = running_pm(&store).await;
    let elsewhere = NewJob { after: Some(queued_by_person.id.clone()), ..job(JobType::Review) };
    let err = store.insert_job(NS, &aid, elsewhere, &agent).await.unwrap_err().to_string();
    assert!(err.contains(&format!("drop --after {}", queued_by_person.id)), "{err}");
    assert_eq!(store.assignment(NS, &aid).await.unwrap().jobs.len(), 1);
}

pub async fn proceed_lets_the_queued_job_run(store: Shared) {
    let (aid, pm, agent) = running_pm(&store).await;
    let nothing = store.proceed(NS, &aid, &agent).await.unwrap_err().to_string();
    assert!(nothing.contains("nothing queued"), "{nothing}");
    let review = store.insert_job(NS, &aid, job(JobType::Review), &person()).await.unwrap();
    let person_says = store.proceed(NS, &aid, &person()).await.unwrap_err().to_string();
    assert_eq!(person_says, "proceed is a PM job's decision; a queued job runs by itself");

    let next = store.proceed(NS, &aid, &agent).await.unwrap();
    assert_eq!(next.id, review.id);
    assert_eq!(decision_of(&store, &pm).await, Some(format!("proceeded: {} runs next", review.id)));
    let last = store.assignment(NS, &aid).await.unwrap().history.pop().unwrap();
    assert_eq!(
        (last.actor, last.action),
        (Actor::job(&pm), format!("proceeded: the queued job {} (review) runs next", review.id))
    );
    assert!(store.proceed(NS, &aid, &agent).await.unwrap_err().to_string().contains("already decided"), "twice");
}

pub async fn a_pm_without_a_decision_lets_the_queued_job_run(store: Shared) {
    let (aid, pm, _agent) = running_pm(&store).await;
    store.insert_job(NS, &aid, job(JobType::Review), &person()).await.unwrap();
    let claim = store.job(NS, &pm).await.unwrap();
    let token = store.held_leases("r1").await.unwrap()[0].1;
    assert_eq!(claim.status, JobStatus::Running);
    store.finish_attempt(&pm, token, success("looked around"), &policy()).await.unwrap();
    let d = store.assignment(NS, &aid).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Active);
    assert_eq!(d.jobs[0].decision.as_deref(), Some("no decision"));
    let noted =
        d.history.iter().any(|h| h.action == format!("the PM job {pm} made no decision; the queued job runs next"));
    assert!(noted, "{:?}", d.history);
}

pub async fn each_decision_leaves_its_chain_line(store: Shared) {
    let (aid, pm, agent) = running_pm(&store).await;
    let blocked = AssignmentUpdate { reason: Some("needs an API key".into()), ..update(AssignmentStatus::Blocked) };
    store.update_assignment(NS, &aid, &blocked, &defaults(), &agent).await.unwrap();
    assert_eq!(decision_of(&store, &pm).await.as_deref(), Some("blocked: needs an API key"));
    let (aid, pm, agent) = running_pm(&store).await;
    store.update_assignment(NS, &aid, &update(AssignmentStatus::Complete), &defaults(), &agent).await.unwrap();
    assert_eq!(decision_of(&store, &pm).await.as_deref(), Some("completed"));
}
