use super::*;
use crate::model::test_support::assignment;
use crate::model::{Assignment, AssignmentStatus::*, JobStatus};

fn to(status: AssignmentStatus) -> AssignmentUpdate {
    AssignmentUpdate { status: Some(status), ..Default::default() }
}

fn plan(a: &Assignment, pending: u32, u: &AssignmentUpdate) -> Result<AssignmentPlan> {
    plan_assignment_update(AssignmentState { assignment: a, pending_jobs: pending, parents: &[] }, u)
}

#[test]
fn final_assignment_statuses_never_change() {
    for from in [Complete, Cancelled] {
        for target in AssignmentStatus::ALL {
            assert!(!assignment_transition_allowed(from, *target));
            let a = assignment(from, 1);
            // A reason with `blocked`, so that the request itself is sound and finality refuses it.
            let u = AssignmentUpdate { reason: (*target == Blocked).then(|| "why".into()), ..to(*target) };
            let err = plan(&a, 0, &u).unwrap_err();
            assert!(matches!(err, Error::AssignmentFinal { .. } | Error::InvalidInput(_)), "{err}");
        }
    }
}

#[test]
fn blocking_needs_a_reason() {
    let a = assignment(Active, 1);
    assert!(matches!(
        plan(&a, 0, &to(Blocked)).unwrap_err(),
        Error::Request(crate::request::RequestError::ReasonRequired)
    ));
    let blank = AssignmentUpdate { reason: Some("  ".into()), ..to(Blocked) };
    assert!(matches!(plan(&a, 0, &blank).unwrap_err(), Error::Request(crate::request::RequestError::ReasonRequired)));
    let ok = AssignmentUpdate { reason: Some("needs a product decision".into()), ..to(Blocked) };
    let p = plan(&a, 0, &ok).unwrap();
    assert_eq!(p.status, Blocked);
    assert_eq!(p.reason.as_deref(), Some("needs a product decision"));
    assert!(!p.cancel_open_jobs);
    assert_eq!(p.history[0].0, "status active → blocked");
}

#[test]
fn completing_or_cancelling_cancels_open_jobs() {
    for target in [Complete, Cancelled] {
        for from in [Active, Blocked] {
            let p = plan(&assignment(from, 2), 1, &to(target)).unwrap();
            assert!(p.cancel_open_jobs);
            assert_eq!(p.status, target);
            assert_eq!(p.reason, None);
        }
    }
}

#[test]
fn resume_with_nothing_pending_queues_a_pm_with_the_note() {
    let a = assignment(Blocked, 2);
    let u = AssignmentUpdate { note: Some("use the v2 API".into()), ..to(Active) };
    let p = plan(&a, 0, &u).unwrap();
    assert_eq!(p.status, Active);
    assert_eq!(p.reason, None);
    assert!(p.queue_pm.as_deref().unwrap().contains("use the v2 API"));
    assert_eq!(p.history[0].1.as_deref(), Some("use the v2 API"));

    let p = plan(&a, 1, &u).unwrap();
    assert_eq!(p.queue_pm, None, "a pending job already waits; no PM is queued");
}

#[test]
fn resume_refused_by_the_job_limit_names_the_guard() {
    let a = assignment(Blocked, 5);
    let err = plan(&a, 0, &to(Active)).unwrap_err().to_string();
    assert!(err.contains("job limit (5)") && err.contains("--max-jobs 15"), "{err}");
    // Raising the limit in the same call lets it through.
    let u = AssignmentUpdate { max_jobs: Some(10), ..to(Active) };
    let p = plan(&a, 0, &u).unwrap();
    assert_eq!(p.max_jobs, 10);
    assert!(p.queue_pm.is_some());
}

#[test]
fn resume_refused_by_the_budget_names_the_guard() {
    let mut a = assignment(Blocked, 1);
    a.budget_usd = Some(5.0);
    a.cost_usd = Some(5.5);
    let err = plan(&a, 0, &to(Active)).unwrap_err().to_string();
    assert!(err.contains("budget $5.00") && err.contains("--budget-usd"), "{err}");
    let u = AssignmentUpdate { budget_usd: Some(10.0), ..to(Active) };
    assert!(plan(&a, 0, &u).is_ok());
}

#[test]
fn resume_with_a_pending_job_is_refused_by_a_spent_budget_too() {
    // The pending job's claim would block the assignment again at once.
    let mut a = assignment(Blocked, 2);
    a.budget_usd = Some(5.0);
    a.cost_usd = Some(5.0);
    let err = plan(&a, 1, &to(Active)).unwrap_err().to_string();
    assert!(err.contains("cannot resume: its budget $5.00 is reached ($5.00 spent)"), "{err}");
    assert!(err.contains("--budget-usd 10.00"), "{err}");
    let u = AssignmentUpdate { budget_usd: Some(10.0), ..to(Active) };
    assert_eq!(plan(&a, 1, &u).unwrap().queue_pm, None);
}

#[test]
fn resume_refused_by_the_token_budget_names_the_guard_and_how_to_raise_it() {
    let mut a = assignment(Blocked, 2);
    a.budget_tokens = Some(1_000);
    a.tokens_spent = Some(1_200);
    let err = plan(&a, 1, &to(Active)).unwrap_err().to_string();
    assert!(err.contains("its token budget (1000 tokens) is reached (1200 spent)"), "{err}");
    assert!(err.contains("--budget-tokens 1001200"), "{err}");
    let u = AssignmentUpdate { budget_tokens: Some(5_000), ..to(Active) };
    let p = plan(&a, 1, &u).unwrap();
    assert_eq!(p.budget_tokens, Some(5_000));
    assert_eq!(p.history[0].0, "guards changed: token budget 1000 tokens → 5000 tokens");
}

#[test]
fn active_cannot_be_resumed_and_same_status_is_refused() {
    let a = assignment(Active, 1);
    assert!(plan(&a, 0, &to(Active)).unwrap_err().to_string().contains("already active"));
}

#[test]
fn guard_changes_alone_are_recorded() {
    let a = assignment(Active, 1);
    let u = AssignmentUpdate { max_jobs: Some(60), budget_usd: Some(10.0), ..Default::default() };
    let p = plan(&a, 0, &u).unwrap();
    assert_eq!((p.status, p.max_jobs, p.budget_usd), (Active, 60, Some(10.0)));
    assert_eq!(p.history[0].0, "guards changed: max_jobs 5 → 60, budget none → $10.00");
    assert!(plan(&a, 0, &AssignmentUpdate { max_jobs: Some(0), ..Default::default() }).is_err());
    assert!(plan(&a, 0, &AssignmentUpdate { budget_usd: Some(-1.0), ..Default::default() }).is_err());
    assert!(plan(&a, 0, &AssignmentUpdate { budget_tokens: Some(0), ..Default::default() }).is_err());
    assert!(plan(&a, 0, &AssignmentUpdate::default()).is_err());
}

#[test]
fn misplaced_reason_or_note_is_refused() {
    let a = assignment(Active, 1);
    assert!(plan(&a, 0, &AssignmentUpdate { reason: Some("x".into()), ..to(Complete) }).is_err());
    let b = assignment(Blocked, 1);
    assert!(plan(&b, 0, &AssignmentUpdate { note: Some("x".into()), ..to(Complete) }).is_err());
}

#[test]
fn inserts_respect_final_status_and_job_limit() {
    assert!(check_insert(&assignment(Active, 4)).is_ok());
    assert!(check_insert(&assignment(Blocked, 4)).is_ok());
    assert!(matches!(check_insert(&assignment(Complete, 1)), Err(Error::AssignmentFinal { .. })));
    assert!(matches!(check_insert(&assignment(Active, 5)), Err(Error::JobLimitReached { limit: 5, .. })));
    assert_eq!(job_limit_reason(5), "job limit 5 reached");
}

#[test]
fn cancel_and_retry_rules() {
    use JobStatus::*;
    assert!(check_cancel_job("j", Pending).is_ok());
    assert!(check_cancel_job("j", Running).is_ok());
    assert!(check_cancel_job("j", Complete).is_err());
    assert!(check_retry_job("j", Failed).is_ok());
    assert!(check_retry_job("j", Cancelled).is_ok());
    assert!(check_retry_job("j", Pending).is_err());
    assert!(check_retry_job("j", Complete).is_err());
}

#[test]
fn a_deferred_assignment_is_moved_on_by_its_parents_and_dropped_by_a_person() {
    let a = assignment(Deferred, 1);
    for target in [Active, Complete] {
        let err = plan(&a, 1, &to(target)).unwrap_err();
        assert!(err.to_string().contains("starts by itself"), "{err}");
    }
    let blocked = AssignmentUpdate { reason: Some("why".into()), ..to(Blocked) };
    assert!(plan(&a, 1, &blocked).is_err(), "only the engine blocks a deferred assignment");
    let p = plan(&a, 1, &to(Cancelled)).unwrap();
    assert!(p.cancel_open_jobs);
    assert!(plan(&assignment(Blocked, 1), 1, &to(Deferred)).unwrap_err().to_string().contains("--after"));
}

#[test]
fn resuming_a_child_with_open_parents_returns_it_to_deferred() {
    use crate::engine::deferral::Parent;
    let a = assignment(Blocked, 1);
    let parents = [
        Parent { id: "a7".into(), status: Cancelled, final_head: None },
        Parent { id: "a8".into(), status: Active, final_head: None },
    ];
    let u = AssignmentUpdate { note: Some("go on without a7".into()), ..to(Active) };
    let p = plan_assignment_update(AssignmentState { assignment: &a, pending_jobs: 1, parents: &parents }, &u).unwrap();
    assert_eq!(p.status, Deferred);
    assert_eq!(p.queue_pm, None);
    assert_eq!(
        p.history,
        vec![("status blocked → deferred".into(), Some("waiting for a8; note: go on without a7".into()))]
    );

    let done = [Parent { id: "a8".into(), status: Complete, final_head: Some("abc".into()) }];
    let p = plan_assignment_update(AssignmentState { assignment: &a, pending_jobs: 1, parents: &done }, &u).unwrap();
    assert_eq!(p.status, Active);
    assert_eq!(p.activation.as_ref().and_then(|x| x.base_ref.as_deref()), Some("abc"));
    assert_eq!(p.history[1].0, "activated");
}
