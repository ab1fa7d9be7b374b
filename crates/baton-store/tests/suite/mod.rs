//! The store test-suite: every backend runs these same stories through `dyn Store`.
//!
//! A backend's test file calls [`store_suite!`] with an async factory returning a fresh, empty
//! store as a [`Fixture`], and any attributes every story gets (PostgreSQL's
//! `#[ignore = "needs …"]`); each story becomes one `#[tokio::test]`.

#![allow(dead_code)]

mod decisions;
mod dependencies;
mod ids;
mod lifecycle;
mod maintenance;
mod queue;
mod runner;
mod schedules;
mod spend;
mod stopping;
mod sync;
mod worktrees;
pub use decisions::*;
pub use dependencies::*;
pub use ids::*;
pub use lifecycle::*;
pub use maintenance::*;
pub use queue::*;
pub use runner::*;
pub use schedules::*;
pub use spend::*;
pub use stopping::*;
pub use sync::*;
pub use worktrees::*;

use baton_core::lifecycle::AssignmentUpdate;
use baton_core::request::RequestError;
use baton_core::store::{AssignmentFilter, JobDefaults, JobFilter, NewAssignment, NewJob};
use baton_core::{Actor, AssignmentStatus, Error, JobStatus, JobType, Store};
use std::sync::Arc;

pub type Shared = Arc<dyn Store>;

/// A fresh store and whatever must live as long as the test (a temp dir, a database slot).
pub struct Fixture {
    pub store: Shared,
    pub keep: Box<dyn std::any::Any + Send + Sync>,
}

#[macro_export]
macro_rules! store_suite {
    ($factory:path $(, #[$attr:meta])* $(,)?) => {
        $crate::store_suite!(@tests $factory; [$(#[$attr])*];
            create_and_read_back, empty_north_star_is_refused, first_job_is_queued_with_the_assignment,
            insert_after_places_the_job_right_after, ids_from_another_namespace_are_not_found,
            complete_cancels_pending_jobs, block_and_resume_queues_pm_with_note, resume_with_pending_queues_nothing,
            job_limit_refuses_and_blocks, final_assignments_refuse_inserts, cancel_and_retry_jobs,
            refused_updates_change_nothing, queue_counts_and_ready_rule, lists_filter_and_order,
            history_records_actors, pm_decisions_are_marked, other_origins_lists_other_checkouts,
            claims_one_job_per_assignment, a_finished_job_gets_its_pm_right_after, a_pm_that_decides_nothing_blocks,
            a_pm_whose_decision_took_effect_is_complete, a_failed_pm_blocks_with_its_error,
            transient_failures_retry_then_fail, permanent_failures_fail_at_once, stale_tokens_write_nothing,
            the_transcript_tail_is_stored_with_the_result,
            cancelling_a_running_job_revokes_its_lease, expired_leases_are_taken_over_and_bounded,
            a_released_job_is_requeued_without_charge, the_budget_guard_blocks_instead_of_starting,
            idle_and_deadlines, a_claim_says_whether_another_job_is_ready, runners_register_and_show_their_jobs,
            agents_act_only_within_their_claim_and_type, a_claim_reports_the_lost_agent_and_skips_other_hosts,
            an_expired_lease_is_gone_even_before_a_takeover, a_lost_lease_never_reruns_a_decided_pm,
            changes_people_care_about_are_notified_once, a_retry_goes_after_the_running_pm_and_waits_for_it,
            cancels_that_queue_no_pm,
            a_cancelled_running_job_holds_its_assignment_until_the_stop_is_confirmed,
            a_stop_nobody_confirms_ends_with_its_lease, only_a_cancelled_running_job_is_stopping,
            idle_assignments_are_listed_for_a_person, namespaces_are_listed_with_their_counts, a_retry_reads_in_the_order_things_happened,
            work_pinned_to_a_vanished_host_is_blocked_for_a_person, a_jobs_own_max_attempts_governs_its_retries,
            job_transitions_are_exactly_the_documented_table, assignment_transitions_are_exactly_the_documented_table,
            a_pm_job_makes_one_decision, a_pms_insert_lands_right_after_it, proceed_lets_the_queued_job_run,
            a_pm_without_a_decision_lets_the_queued_job_run, each_decision_leaves_its_chain_line,
            every_prompt_is_kept, prompts_are_stored_against_their_dictionary, continuations_are_checked_and_recorded,
            a_transcript_that_lost_events_stays_marked_incomplete, spend_accumulates_over_attempts_and_names_its_source,
            tokens_without_a_price_are_unpriced_not_zero, retention_drops_old_transcripts_and_keeps_results,
            pushes_are_fenced_and_recorded, a_pushed_assignment_moves_to_another_host_and_an_unpushed_one_blocks,
            a_child_waits_for_every_parent_then_starts, a_lone_parents_final_head_is_where_the_child_starts,
            a_cancelled_parent_blocks_its_child_and_a_resume_waits_for_the_rest,
            only_the_engine_starts_a_deferred_assignment_and_a_person_may_cancel_it,
            bad_parents_are_refused_with_nothing_stored, parents_ending_together_start_each_child_exactly_once,
            the_token_budget_binds_any_harness_and_prices_the_recorded_model,
            the_daily_cap_blocks_new_jobs_of_the_namespace_with_a_reason, the_daily_cap_sums_the_days_attempts_of_its_own_namespace,
            a_past_days_cap_is_lifted_by_the_next_claim_exactly_once,
            a_resume_the_lost_host_guard_would_undo_is_refused_until_the_host_is_back,
            one_runner_per_namespace_and_host_holds_the_upkeep, disk_use_is_kept_per_host_with_when_it_was_measured,
            a_holder_hands_the_upkeep_back, queue_counts_equal_a_recount_through_the_lifecycle,
            schedules_are_added_listed_paused_and_removed, a_slot_fires_exactly_once_however_many_try,
            overlap_skip_waits_for_the_previous_assignment, a_fire_on_demand_keeps_the_slot_and_obeys_overlap,
            a_refused_assignment_is_a_skipped_run_and_the_slot_moves_on,
            a_taken_id_is_drawn_again, an_id_space_that_is_all_taken_is_an_error_with_nothing_stored,
            finished_assignments_keeping_a_worktree_are_counted);
    };
    (@tests $factory:path; $attrs:tt; $($name:ident),* $(,)?) => {
        $( $crate::store_suite!(@test $factory; $attrs; $name); )*
    };
    (@test $factory:path; [$(#[$attr:meta])*]; $name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$attr])*
        async fn $name() {
            let fixture = $factory().await;
            suite::$name(fixture.store.clone()).await;
            drop(fixture.keep);
        }
    };
}

pub const NS: &str = "repo-a";

pub fn person() -> Actor {
    Actor::Person("ada".into())
}

pub fn defaults() -> JobDefaults {
    JobDefaults { pm_harness: "claude".into(), max_attempts: 3, host_gone_ms: 600_000 }
}

pub fn new_assignment(north_star: &str) -> NewAssignment {
    NewAssignment {
        after: Vec::new(),
        namespace: NS.into(),
        north_star: north_star.into(),
        max_jobs: 50,
        budget_usd: None,
        budget_tokens: None,
        origin_root: Some("/src/repo-a".into()),
        base_ref: None,
        base_branch: None,
        context: String::new(),
        first_job: None,
    }
}

pub fn job(job_type: JobType) -> NewJob {
    NewJob {
        job_type,
        harness: "claude".into(),
        context: format!("do the {job_type}"),
        max_attempts: 3,
        after: None,
        for_job_id: None,
        session: None,
        model: None,
        effort: None,
    }
}

pub fn update(status: AssignmentStatus) -> AssignmentUpdate {
    AssignmentUpdate { status: Some(status), ..Default::default() }
}

/// Everything stored in a namespace, to compare before and after a refused operation.
async fn snapshot(store: &Shared, ns: &str) -> String {
    let assignments = store.assignments(ns, &AssignmentFilter::default()).await.unwrap();
    let mut details = Vec::new();
    for a in &assignments {
        details.push(store.assignment(ns, &a.id).await.unwrap());
    }
    serde_json::to_string(&details).unwrap()
}

pub async fn create_and_read_back(store: Shared) {
    let created = store.create_assignment(new_assignment("  Add OAuth login  "), &person()).await.unwrap();
    let a = &created.assignment;
    assert_eq!(a.north_star, "Add OAuth login");
    assert_eq!(a.status, AssignmentStatus::Active);
    assert_eq!((a.namespace.as_str(), a.max_jobs, a.job_count), (NS, 50, 0));
    assert_eq!(a.cost_usd, None);
    assert_eq!(created.history.len(), 1);
    let read = store.assignment(NS, &a.id).await.unwrap();
    assert_eq!(read, created);
}

pub async fn empty_north_star_is_refused(store: Shared) {
    let err = store.create_assignment(new_assignment("   "), &person()).await.unwrap_err();
    assert!(matches!(err, Error::Request(RequestError::EmptyNorthStar)), "{err}");
    assert!(store.assignments(NS, &AssignmentFilter::default()).await.unwrap().is_empty());
}

pub async fn first_job_is_queued_with_the_assignment(store: Shared) {
    let mut new = new_assignment("x");
    new.first_job = Some(job(JobType::Plan));
    let created = store.create_assignment(new, &person()).await.unwrap();
    assert_eq!(created.jobs.len(), 1);
    let j = &created.jobs[0];
    assert_eq!(
        (j.job_type, j.status, j.position, j.attempts, j.max_attempts),
        (JobType::Plan, JobStatus::Pending, 1, 0, 3)
    );
    assert_eq!(created.assignment.job_count, 1);
    assert_eq!(j.cost_usd, None);
    assert!(j.attempt_history.is_empty());
}

pub async fn insert_after_places_the_job_right_after(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let j1 = store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    let j2 = store.insert_job(NS, &a.id, job(JobType::Implement), &person()).await.unwrap();
    let j3 = store.insert_job(NS, &a.id, job(JobType::Review), &person()).await.unwrap();
    let mut after = job(JobType::Uat);
    after.after = Some(j1.id.clone());
    let j4 = store.insert_job(NS, &a.id, after, &person()).await.unwrap();
    let chain: Vec<String> = store.assignment(NS, &a.id).await.unwrap().jobs.into_iter().map(|j| j.id).collect();
    assert_eq!(chain, vec![j1.id.clone(), j4.id, j2.id, j3.id]);

    // --after a job of another assignment is refused.
    let b = store.create_assignment(new_assignment("y"), &person()).await.unwrap().assignment;
    let mut wrong = job(JobType::Plan);
    wrong.after = Some(j1.id.clone());
    let err = store.insert_job(NS, &b.id, wrong, &person()).await.unwrap_err();
    assert!(matches!(err, Error::JobNotInAssignment { .. }), "{err}");
    let mut missing = job(JobType::Plan);
    missing.after = Some("jnothere".into());
    assert!(matches!(store.insert_job(NS, &b.id, missing, &person()).await.unwrap_err(), Error::JobNotFound { .. }));
    assert_eq!(store.assignment(NS, &b.id).await.unwrap().jobs.len(), 0);
}

pub async fn ids_from_another_namespace_are_not_found(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let j = store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    let err = store.assignment("repo-b", &a.id).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("no assignment {} in namespace repo-b (list them with `baton assignments`)", a.id)
    );
    assert!(matches!(store.job("repo-b", &j.id).await.unwrap_err(), Error::JobNotFound { .. }));
    assert!(store.insert_job("repo-b", &a.id, job(JobType::Plan), &person()).await.is_err());
    assert!(store.cancel_job("repo-b", &j.id, &defaults(), &person()).await.is_err());
    assert!(store
        .update_assignment("repo-b", &a.id, &update(AssignmentStatus::Complete), &defaults(), &person())
        .await
        .is_err());
    assert!(store.assignments("repo-b", &AssignmentFilter::default()).await.unwrap().is_empty());
    assert_eq!(store.job(NS, &j.id).await.unwrap().status, JobStatus::Pending);
}

pub async fn complete_cancels_pending_jobs(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    store.insert_job(NS, &a.id, job(JobType::Implement), &person()).await.unwrap();
    let done =
        store.update_assignment(NS, &a.id, &update(AssignmentStatus::Complete), &defaults(), &person()).await.unwrap();
    assert_eq!(done.assignment.status, AssignmentStatus::Complete);
    for j in &done.jobs {
        assert_eq!(j.status, JobStatus::Cancelled);
        assert_eq!(j.error_kind, Some(baton_core::ErrorKind::Cancelled));
    }
    // Final: nothing changes it any more.
    let err = store
        .update_assignment(NS, &a.id, &update(AssignmentStatus::Active), &defaults(), &person())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AssignmentFinal { .. }), "{err}");
}

pub async fn block_and_resume_queues_pm_with_note(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let blocked =
        AssignmentUpdate { reason: Some("needs a product decision".into()), ..update(AssignmentStatus::Blocked) };
    let d = store.update_assignment(NS, &a.id, &blocked, &defaults(), &person()).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Blocked);
    assert_eq!(d.assignment.reason.as_deref(), Some("needs a product decision"));

    let resume = AssignmentUpdate { note: Some("use the v2 API".into()), ..update(AssignmentStatus::Active) };
    let d = store.update_assignment(NS, &a.id, &resume, &defaults(), &person()).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Active);
    assert_eq!(d.assignment.reason, None);
    assert_eq!(d.jobs.len(), 1);
    assert_eq!(d.jobs[0].job_type, JobType::Pm);
    assert!(d.jobs[0].context.contains("use the v2 API"));
    let last = d.history.iter().rev().find(|h| h.action.starts_with("status")).unwrap();
    assert_eq!(last.action, "status blocked → active");
    assert_eq!(last.reason.as_deref(), Some("use the v2 API"));
}

pub async fn resume_with_pending_queues_nothing(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    let blocked = AssignmentUpdate { reason: Some("wait".into()), ..update(AssignmentStatus::Blocked) };
    store.update_assignment(NS, &a.id, &blocked, &defaults(), &person()).await.unwrap();
    let d =
        store.update_assignment(NS, &a.id, &update(AssignmentStatus::Active), &defaults(), &person()).await.unwrap();
    assert_eq!(d.jobs.len(), 1);
}

pub async fn job_limit_refuses_and_blocks(store: Shared) {
    let mut new = new_assignment("x");
    new.max_jobs = 2;
    let a = store.create_assignment(new, &person()).await.unwrap().assignment;
    store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    store.insert_job(NS, &a.id, job(JobType::Implement), &person()).await.unwrap();
    let err = store.insert_job(NS, &a.id, job(JobType::Review), &person()).await.unwrap_err();
    assert!(matches!(err, Error::JobLimitReached { limit: 2, .. }), "{err}");
    let d = store.assignment(NS, &a.id).await.unwrap();
    assert_eq!(d.jobs.len(), 2);
    assert_eq!(d.assignment.status, AssignmentStatus::Blocked);
    assert_eq!(d.assignment.reason.as_deref(), Some("job limit 2 reached"));
    assert_eq!(d.history.last().unwrap().actor, Actor::Engine);

    // Resuming with pending jobs needs no PM, so it passes; raising the limit lets inserts through.
    let raise = AssignmentUpdate { max_jobs: Some(3), ..update(AssignmentStatus::Active) };
    let d = store.update_assignment(NS, &a.id, &raise, &defaults(), &person()).await.unwrap();
    assert_eq!((d.assignment.status, d.assignment.max_jobs), (AssignmentStatus::Active, 3));
    store.insert_job(NS, &a.id, job(JobType::Review), &person()).await.unwrap();
}

pub async fn final_assignments_refuse_inserts(store: Shared) {
    for status in [AssignmentStatus::Complete, AssignmentStatus::Cancelled] {
        let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
        store.update_assignment(NS, &a.id, &update(status), &defaults(), &person()).await.unwrap();
        let err = store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap_err();
        assert!(matches!(err, Error::AssignmentFinal { .. }), "{err}");
        assert!(err.to_string().contains("final"));
    }
}

pub async fn namespaces_are_listed_with_their_counts(store: Shared) {
    assert!(store.namespaces().await.unwrap().is_empty());
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let j = store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    store.insert_job(NS, &a.id, job(JobType::Review), &person()).await.unwrap();
    store.cancel_job(NS, &j.id, &defaults(), &person()).await.unwrap();
    let other = NewAssignment { namespace: "repo-b".into(), ..new_assignment("y") };
    let b = store.create_assignment(other, &person()).await.unwrap().assignment;
    store
        .update_assignment("repo-b", &b.id, &update(AssignmentStatus::Complete), &defaults(), &person())
        .await
        .unwrap();
    let counts: Vec<(String, u64, u64)> =
        store.namespaces().await.unwrap().into_iter().map(|n| (n.namespace, n.assignments, n.jobs)).collect();
    assert_eq!(counts, vec![(NS.to_string(), 1, 2), ("repo-b".to_string(), 1, 0)]);
}

pub async fn cancel_and_retry_jobs(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let j1 = store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    let j2 = store.insert_job(NS, &a.id, job(JobType::Implement), &person()).await.unwrap();
    // A pending job cannot be retried; it can be cancelled, once.
    assert!(matches!(store.retry_job(NS, &j1.id, &defaults(), &person()).await.unwrap_err(), Error::JobState { .. }));
    let c = store.cancel_job(NS, &j1.id, &defaults(), &person()).await.unwrap();
    assert_eq!(c.status, JobStatus::Cancelled);
    assert!(c.finished_at.is_some());
    assert!(matches!(store.cancel_job(NS, &j1.id, &defaults(), &person()).await.unwrap_err(), Error::JobState { .. }));
    // Retry: a fresh copy right after it.
    let r = store.retry_job(NS, &j1.id, &defaults(), &person()).await.unwrap();
    assert_eq!(
        (r.job_type, r.status, r.attempts, r.context.as_str()),
        (JobType::Plan, JobStatus::Pending, 0, j1.context.as_str())
    );
    let chain: Vec<String> = store.assignment(NS, &a.id).await.unwrap().jobs.into_iter().map(|j| j.id).collect();
    assert_eq!(chain, vec![j1.id, r.id, j2.id]);
}

pub async fn refused_updates_change_nothing(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    let before = snapshot(&store, NS).await;
    let refusals = [
        update(AssignmentStatus::Blocked),
        update(AssignmentStatus::Active),
        AssignmentUpdate { reason: Some("x".into()), ..update(AssignmentStatus::Complete) },
        AssignmentUpdate { max_jobs: Some(0), ..Default::default() },
        AssignmentUpdate::default(),
    ];
    for refused in &refusals {
        assert!(store.update_assignment(NS, &a.id, refused, &defaults(), &person()).await.is_err(), "{refused:?}");
    }
    assert!(store
        .update_assignment(NS, "anothere", &update(AssignmentStatus::Complete), &defaults(), &person())
        .await
        .is_err());
    assert_eq!(snapshot(&store, NS).await, before);
}

pub async fn queue_counts_and_ready_rule(store: Shared) {
    let a = store.create_assignment(new_assignment("a"), &person()).await.unwrap().assignment;
    let b = store.create_assignment(new_assignment("b"), &person()).await.unwrap().assignment;
    let c = store.create_assignment(new_assignment("c"), &person()).await.unwrap().assignment;
    let a1 = store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    store.insert_job(NS, &a.id, job(JobType::Implement), &person()).await.unwrap();
    store.insert_job(NS, &b.id, job(JobType::Plan), &person()).await.unwrap();
    store.insert_job(NS, &c.id, job(JobType::Plan), &person()).await.unwrap();
    let blocked = AssignmentUpdate { reason: Some("human".into()), ..update(AssignmentStatus::Blocked) };
    store.update_assignment(NS, &b.id, &blocked, &defaults(), &person()).await.unwrap();
    store.update_assignment(NS, &c.id, &update(AssignmentStatus::Complete), &defaults(), &person()).await.unwrap();

    let q = store.queue(NS, baton_core::time::now_ms()).await.unwrap();
    assert_eq!(q.assignments["active"], 1);
    assert_eq!(q.assignments["blocked"], 1);
    assert_eq!(q.assignments["complete"], 1);
    assert_eq!(q.assignments["cancelled"], 0);
    assert_eq!(q.jobs["pending"], 3);
    assert_eq!(q.jobs["cancelled"], 1);
    assert_eq!(q.jobs["running"], 0);
    // Only the first pending job of the active assignment is ready.
    assert_eq!(q.ready.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), vec![a1.id]);
    assert!(q.waiting.is_empty() && q.running.is_empty());
    assert_eq!(q.blocked.len(), 1);
    assert_eq!(q.blocked[0].reason.as_deref(), Some("human"));
    // Other namespaces see nothing.
    let other = store.queue("repo-b", 0).await.unwrap();
    assert_eq!(other.jobs.values().sum::<u64>(), 0);
    assert!(other.ready.is_empty());
}

pub async fn lists_filter_and_order(store: Shared) {
    let a = store.create_assignment(new_assignment("a"), &person()).await.unwrap().assignment;
    let b = store.create_assignment(new_assignment("b"), &person()).await.unwrap().assignment;
    store.update_assignment(NS, &a.id, &update(AssignmentStatus::Cancelled), &defaults(), &person()).await.unwrap();
    let all = store.assignments(NS, &AssignmentFilter::default()).await.unwrap();
    assert_eq!(all.len(), 2);
    let active =
        store.assignments(NS, &AssignmentFilter { status: Some(AssignmentStatus::Active), limit: None }).await.unwrap();
    assert_eq!(active.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), vec![b.id.clone()]);
    let one = store.assignments(NS, &AssignmentFilter { status: None, limit: Some(1) }).await.unwrap();
    assert_eq!(one.len(), 1);

    let j1 = store.insert_job(NS, &b.id, job(JobType::Plan), &person()).await.unwrap();
    let j2 = store.insert_job(NS, &b.id, job(JobType::Review), &person()).await.unwrap();
    store.cancel_job(NS, &j2.id, &defaults(), &person()).await.unwrap();
    let chain = store.jobs(NS, &JobFilter { assignment_id: Some(b.id.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(chain.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), vec![j1.id.clone(), j2.id.clone()]);
    let pending = store.jobs(NS, &JobFilter { status: Some(JobStatus::Pending), ..Default::default() }).await.unwrap();
    assert_eq!(pending.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), vec![j1.id]);
    let err =
        store.jobs(NS, &JobFilter { assignment_id: Some("anothere".into()), ..Default::default() }).await.unwrap_err();
    assert!(matches!(err, Error::AssignmentNotFound { .. }));
}

pub async fn history_records_actors(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let j = store.insert_job(NS, &a.id, job(JobType::Plan), &person()).await.unwrap();
    let claim = store.claim_next(NS, "r1", 60_000, &runner::policy()).await.unwrap().unwrap();
    let agent = Actor::Job { id: j.id.clone(), token: Some(claim.token) };
    let review = store.insert_job(NS, &a.id, job(JobType::Review), &agent).await.unwrap();
    store.cancel_job(NS, &review.id, &defaults(), &person()).await.unwrap();
    let h = store.assignment(NS, &a.id).await.unwrap().history;
    let actions: Vec<(String, String)> = h.iter().map(|e| (e.actor.to_string(), e.action.clone())).collect();
    assert_eq!(
        actions,
        vec![
            ("person:ada".to_string(), "created".to_string()),
            ("person:ada".to_string(), "plan job queued (claude)".to_string()),
            ("engine".to_string(), "job started by runner r1 (attempt 1)".to_string()),
            (format!("job:{}", j.id), "review job queued (claude)".to_string()),
            ("person:ada".to_string(), "job cancelled".to_string()),
        ]
    );
    assert_eq!(h[3].job_id.as_deref(), Some(review.id.as_str()));
    assert_eq!(h[3].actor, Actor::job(&j.id), "the token is checked, never recorded");
}

pub async fn pm_decisions_are_marked(store: Shared) {
    // A PM job's insert is recorded against it, and counts as its decision (see runner stories).
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment;
    let pm = store.insert_job(NS, &a.id, job(JobType::Pm), &person()).await.unwrap();
    let claim = store.claim_next(NS, "r1", 60_000, &runner::policy()).await.unwrap().unwrap();
    let agent = Actor::Job { id: pm.id.clone(), token: Some(claim.token) };
    store.insert_job(NS, &a.id, job(JobType::Review), &agent).await.unwrap();
    let h = store.assignment(NS, &a.id).await.unwrap().history;
    assert_eq!(h.last().unwrap().actor, Actor::job(pm.id));
}

pub async fn other_origins_lists_other_checkouts(store: Shared) {
    store.create_assignment(new_assignment("x"), &person()).await.unwrap();
    let mut elsewhere = new_assignment("y");
    elsewhere.origin_root = Some("/other/clone".into());
    store.create_assignment(elsewhere, &person()).await.unwrap();
    assert_eq!(store.other_origins(NS, "/src/repo-a").await.unwrap(), vec!["/other/clone".to_string()]);
    assert!(store.other_origins("repo-b", "/x").await.unwrap().is_empty());
}
