use super::*;

fn job() -> NewJob {
    NewJob {
        job_type: JobType::Plan,
        harness: "claude".into(),
        context: String::new(),
        max_attempts: 3,
        after: None,
        for_job_id: None,
        session: None,
        model: None,
        effort: None,
    }
}

fn assignment() -> NewAssignment {
    NewAssignment {
        after: Vec::new(),
        namespace: "ns".into(),
        north_star: "ship it".into(),
        max_jobs: 5,
        budget_usd: None,
        budget_tokens: None,
        origin_root: None,
        base_ref: None,
        base_branch: None,
        context: String::new(),
        first_job: Some(job()),
    }
}

#[test]
fn a_new_assignment_needs_a_north_star_a_limit_and_a_real_budget() {
    assert_eq!(assignment().validate(), Ok(()));
    let blank = NewAssignment { north_star: " \n ".into(), ..assignment() };
    assert_eq!(blank.validate(), Err(RequestError::EmptyNorthStar));
    let no_jobs = NewAssignment { max_jobs: 0, ..assignment() };
    assert_eq!(no_jobs.validate(), Err(RequestError::BelowOne(Field::MaxJobs)));
    for budget in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let bad = NewAssignment { budget_usd: Some(budget), ..assignment() };
        assert_eq!(bad.validate(), Err(RequestError::NotAnAmount(Field::BudgetUsd)), "{budget}");
    }
    for tokens in [0, -5] {
        let bad = NewAssignment { budget_tokens: Some(tokens), ..assignment() };
        assert_eq!(bad.validate(), Err(RequestError::NotTokens(Field::BudgetTokens)), "{tokens}");
    }
    assert_eq!(
        RequestError::NotTokens(Field::BudgetTokens).to_string(),
        "budget_tokens must be a whole number of tokens above 0, e.g. 2000000"
    );
    let first = NewAssignment { first_job: Some(NewJob { max_attempts: 0, ..job() }), ..assignment() };
    assert_eq!(first.validate(), Err(RequestError::BelowOne(Field::MaxAttempts)));
}

#[test]
fn an_update_must_ask_for_something_consistent() {
    use AssignmentStatus::*;
    let to = |status| AssignmentUpdate { status: Some(status), ..Default::default() };
    assert_eq!(AssignmentUpdate::default().validate(), Err(RequestError::NothingToUpdate));
    assert_eq!(to(Complete).validate(), Ok(()));
    assert_eq!(to(Blocked).validate(), Err(RequestError::ReasonRequired));
    let blank = AssignmentUpdate { reason: Some("  ".into()), ..to(Blocked) };
    assert_eq!(blank.validate(), Err(RequestError::ReasonRequired));
    let reason = AssignmentUpdate { reason: Some("x".into()), ..to(Complete) };
    assert_eq!(reason.validate(), Err(RequestError::ReasonWithoutBlocked));
    let note = AssignmentUpdate { note: Some("x".into()), ..to(Blocked) };
    assert_eq!(note.validate(), Err(RequestError::NoteWithoutResume));
    let guards = AssignmentUpdate { max_jobs: Some(0), ..Default::default() };
    assert_eq!(guards.validate(), Err(RequestError::BelowOne(Field::MaxJobs)));
    let guards = AssignmentUpdate { budget_usd: Some(-2.0), ..Default::default() };
    assert_eq!(guards.validate(), Err(RequestError::NotAnAmount(Field::BudgetUsd)));
}

#[test]
fn messages_name_the_fields_as_the_caller_spells_them() {
    assert_eq!(RequestError::BelowOne(Field::MaxJobs).to_string(), "max_jobs must be at least 1");
    assert_eq!(
        RequestError::NothingToUpdate.to_string(),
        "nothing to update; pass status, max_jobs, budget_usd or budget_tokens"
    );
    let flag = |f: Field| Cow::Owned(format!("--{}", f.as_str().replace('_', "-")));
    assert_eq!(
        RequestError::NotAnAmount(Field::BudgetUsd).describe(flag),
        "--budget-usd must be a positive amount in dollars, e.g. 5 or 12.50"
    );
}

#[test]
fn counts_have_a_most_named_in_the_message() {
    let mut a = NewAssignment {
        after: Vec::new(),
        namespace: "ns".into(),
        north_star: "x".into(),
        max_jobs: u32::MAX,
        budget_usd: None,
        budget_tokens: None,
        origin_root: None,
        base_ref: None,
        base_branch: None,
        context: String::new(),
        first_job: None,
    };
    assert_eq!(a.validate().unwrap_err().to_string(), "max_jobs must be 1 to 1000000");
    a.max_jobs = 1_000_000;
    assert!(a.validate().is_ok());
    let u = AssignmentUpdate { max_jobs: Some(4_000_000_000), ..Default::default() };
    assert_eq!(u.validate().unwrap_err().to_string(), "max_jobs must be 1 to 1000000");
}
