//! Store stories of spend: tokens and cost accumulate over a job's attempts, each attempt keeps
//! its own, and every cost says where it comes from.

use super::*;
use baton_core::engine::spend::{self, Price, Prices, SpendPolicy};
use baton_core::store::EnginePolicy;
use baton_core::{CostSource, ErrorKind};
use std::collections::BTreeMap;

/// `claude` runs model `m1`, priced at $2 in / $10 out / $0.2 cache reads per million tokens.
fn priced() -> EnginePolicy {
    let price = Price { since: None, input: 2.0, output: 10.0, cache_read: Some(0.2), cache_write: None };
    EnginePolicy {
        spend: SpendPolicy {
            prices: Prices { models: BTreeMap::from([("m1".to_string(), vec![price])]) },
            harness_models: BTreeMap::from([("claude".to_string(), "m1".to_string())]),
            daily_usd: None,
        },
        ..policy()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

pub async fn spend_accumulates_over_attempts_and_names_its_source(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let id = store.insert_job(NS, &a, job(JobType::Implement), &person()).await.unwrap().id;

    // A killed attempt: tokens, but no reported cost — estimated from the price.
    let c = store.claim_next(NS, "r1", 60_000, &priced()).await.unwrap().unwrap();
    let killed = AttemptResultExt::with_usage(failure(ErrorKind::Transient, "429"), 1_000_000, 100_000, 200_000, None);
    store.finish_attempt(&c.job.id, c.token, killed, &priced()).await.unwrap().unwrap();
    // 800k × 2 + 200k × 0.2 + 100k × 10, per million.
    let estimate = (800_000.0 * 2.0 + 200_000.0 * 0.2 + 100_000.0 * 10.0) / 1e6;

    let c = store.claim_next(NS, "r1", 60_000, &priced()).await.unwrap().unwrap();
    let reported = AttemptResultExt::with_usage(success("done"), 6000, 500, 0, Some(0.0219));
    let done = store.finish_attempt(&c.job.id, c.token, reported, &priced()).await.unwrap().unwrap();

    assert_eq!(done.id, id);
    assert_eq!(
        (done.tokens_in, done.tokens_out, done.cache_read_tokens),
        (Some(1_006_000), Some(100_500), Some(200_000))
    );
    assert!(close(done.cost_usd.unwrap(), estimate + 0.0219), "{:?}", done.cost_usd);
    assert_eq!(done.cost_source, Some(CostSource::Estimated));
    let [first, second] = &done.attempt_history[..] else { panic!("{:?}", done.attempt_history) };
    assert_eq!(
        (first.tokens_in, first.tokens_out, first.cost_source),
        (Some(1_000_000), Some(100_000), Some(CostSource::Estimated))
    );
    assert!(close(first.cost_usd.unwrap(), estimate));
    assert_eq!(first.model.as_deref(), Some("m1"));
    assert_eq!(
        (second.tokens_in, second.cost_usd, second.cost_source),
        (Some(6000), Some(0.0219), Some(CostSource::Reported))
    );

    // The assignment's cost — what `--budget-usd` binds — includes the estimate.
    let d = store.assignment(NS, &a).await.unwrap();
    assert!(close(d.assignment.cost_usd.unwrap(), estimate + 0.0219));
}

pub async fn tokens_without_a_price_are_unpriced_not_zero(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    store.insert_job(NS, &a, job(JobType::Implement), &person()).await.unwrap();
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    let r = AttemptResultExt::with_usage(success("done"), 500, 50, 0, None);
    let done = store.finish_attempt(&c.job.id, c.token, r, &policy()).await.unwrap().unwrap();
    assert_eq!((done.tokens_in, done.cost_usd, done.cost_source), (Some(500), None, Some(CostSource::Unpriced)));
    assert_eq!(done.attempt_history[0].cost_source, Some(CostSource::Unpriced));
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.cost_usd, None, "never a made-up $0");

    // A job whose attempt reported nothing at all has no cost source.
    let b = store.create_assignment(new_assignment("y"), &person()).await.unwrap().assignment.id;
    store.insert_job(NS, &b, job(JobType::Implement), &person()).await.unwrap();
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    let done = store
        .finish_attempt(&c.job.id, c.token, failure(ErrorKind::Permanent, "no"), &policy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((done.tokens_in, done.cost_usd, done.cost_source), (None, None, None));
}

pub async fn the_token_budget_binds_any_harness_and_prices_the_recorded_model(store: Shared) {
    let mut new = new_assignment("x");
    new.budget_tokens = Some(700);
    let a = store.create_assignment(new, &person()).await.unwrap().assignment;
    assert_eq!((a.budget_tokens, a.tokens_spent), (Some(700), None));
    // A codex job the PM asked to run on model `m1`: priced as `m1`, not as codex's model.
    let codex = NewJob { harness: "codex".into(), model: Some("m1".into()), ..job(JobType::Implement) };
    store.insert_job(NS, &a.id, codex, &person()).await.unwrap();
    let c = store.claim_next(NS, "r1", 60_000, &priced()).await.unwrap().unwrap();
    // 1000 in (400 of them cache reads) + 200 out: the guard counts 600 + 200.
    let r = AttemptResultExt::with_usage(success("done"), 1000, 200, 400, None);
    let done = store.finish_attempt(&c.job.id, c.token, r, &priced()).await.unwrap().unwrap();
    assert_eq!(done.cost_source, Some(CostSource::Estimated));
    assert_eq!(done.attempt_history[0].model.as_deref(), Some("m1"));
    let d = store.assignment(NS, &a.id).await.unwrap();
    assert_eq!(d.assignment.tokens_spent, Some(800));

    // Its PM job is not started: the assignment is blocked with the figures and how to go on.
    assert!(store.claim_next(NS, "r1", 60_000, &priced()).await.unwrap().is_none());
    let d = store.assignment(NS, &a.id).await.unwrap().assignment;
    assert_eq!(d.status, AssignmentStatus::Blocked);
    let reason = d.reason.unwrap_or_default();
    assert!(reason.starts_with("token budget reached (800 of 700"), "{reason}");

    // Resume is refused while over it, naming the flag; raising it in the same call resumes.
    let err = store.update_assignment(NS, &a.id, &update(AssignmentStatus::Active), &defaults(), &person()).await;
    let err = err.unwrap_err().to_string();
    assert!(
        err.contains("token budget (700 tokens) is reached (800 spent)") && err.contains("--budget-tokens"),
        "{err}"
    );
    let raise = AssignmentUpdate { budget_tokens: Some(5_000), ..update(AssignmentStatus::Active) };
    let d = store.update_assignment(NS, &a.id, &raise, &defaults(), &person()).await.unwrap().assignment;
    assert_eq!((d.status, d.budget_tokens), (AssignmentStatus::Active, Some(5_000)));
    assert!(store.claim_next(NS, "r1", 60_000, &priced()).await.unwrap().is_some());
}

pub async fn the_daily_cap_blocks_new_jobs_of_the_namespace_with_a_reason(store: Shared) {
    let capped = EnginePolicy { spend: SpendPolicy { daily_usd: Some(0.02), ..priced().spend }, ..priced() };
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let b = store.create_assignment(new_assignment("y"), &person()).await.unwrap().assignment.id;
    store.insert_job(NS, &a, job(JobType::Implement), &person()).await.unwrap();
    store.insert_job(NS, &b, job(JobType::Implement), &person()).await.unwrap();
    // Below the cap, jobs start; the one that reaches it still records its result.
    let c = store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().unwrap();
    let spent = AttemptResultExt::with_usage(success("done"), 100, 10, 0, Some(0.0219));
    store.finish_attempt(&c.job.id, c.token, spent, &capped).await.unwrap().unwrap();
    // Now no job of the namespace starts today: each assignment that would says why.
    assert!(store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().is_none());
    for id in [&a, &b] {
        let d = store.assignment(NS, id).await.unwrap().assignment;
        assert_eq!(d.status, AssignmentStatus::Blocked, "{id}");
        let reason = d.reason.unwrap_or_default();
        assert!(reason.starts_with("the namespace's daily budget is spent ($0.02 of $0.02 on "), "{reason}");
        assert!(reason.contains(", UTC; the day ends in "), "{reason}");
    }
    // Claims later the same day lift nothing: the cap holds until 00:00 UTC.
    assert!(store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().is_none());
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.status, AssignmentStatus::Blocked);
    // Without the cap (raised in config), a resume runs again.
    store.update_assignment(NS, &b, &update(AssignmentStatus::Active), &defaults(), &person()).await.unwrap();
    assert!(store.claim_next(NS, "r1", 60_000, &priced()).await.unwrap().is_some());
}

/// The cap adds up every attempt of the day in its namespace (failed ones and PM jobs too), and
/// nothing another namespace spent.
pub async fn the_daily_cap_sums_the_days_attempts_of_its_own_namespace(store: Shared) {
    let capped = EnginePolicy { spend: SpendPolicy { daily_usd: Some(0.03), ..priced().spend }, ..priced() };
    let costing = |result: baton_core::store::AttemptResult, usd: f64| result.with_usage(100, 10, 0, Some(usd));
    let elsewhere = NewAssignment { namespace: "repo-b".into(), ..new_assignment("theirs") };
    let theirs = store.create_assignment(elsewhere, &person()).await.unwrap().assignment.id;
    store.insert_job("repo-b", &theirs, job(JobType::Implement), &person()).await.unwrap();
    let c = store.claim_next("repo-b", "r1", 60_000, &capped).await.unwrap().unwrap();
    store.finish_attempt(&c.job.id, c.token, costing(success("done"), 5.0), &capped).await.unwrap();

    let ours = store.create_assignment(new_assignment("ours"), &person()).await.unwrap().assignment.id;
    store.insert_job(NS, &ours, NewJob { max_attempts: 2, ..job(JobType::Implement) }, &person()).await.unwrap();
    let ends = [costing(failure(ErrorKind::Transient, "503"), 0.01), costing(success("done"), 0.01)];
    for (n, end) in ends.into_iter().enumerate() {
        let c = store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().expect("below the cap");
        assert_eq!((c.job.job_type, c.attempt), (JobType::Implement, n as u32 + 1));
        store.finish_attempt(&c.job.id, c.token, end, &capped).await.unwrap();
    }
    // $0.02 so far: the PM job still starts, and its cost brings the day to $0.031.
    let pm = store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().expect("below the cap");
    assert_eq!(pm.job.job_type, JobType::Pm);
    store.finish_attempt(&pm.job.id, pm.token, costing(success("no decision"), 0.011), &capped).await.unwrap();

    let next = store.create_assignment(new_assignment("next"), &person()).await.unwrap().assignment.id;
    store.insert_job(NS, &next, job(JobType::Implement), &person()).await.unwrap();
    assert!(store.claim_next(NS, "r1", 60_000, &capped).await.unwrap().is_none());
    let reason = store.assignment(NS, &next).await.unwrap().assignment.reason.unwrap_or_default();
    assert!(reason.starts_with("the namespace's daily budget is spent ($0.03 of $0.03 on "), "{reason}");
}

pub async fn a_past_days_cap_is_lifted_by_the_next_claim_exactly_once(store: Shared) {
    // Blocked by the cap of a day that is over (two days ago), as a claim then would have.
    let day = baton_core::time::now_ms() - 2 * 86_400_000;
    let reason = spend::daily_cap_reached(Some(1.0), Some(1.5), day).unwrap();
    let blocked = |why: &str| AssignmentUpdate { reason: Some(why.into()), ..update(AssignmentStatus::Blocked) };
    let capped = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    store.insert_job(NS, &capped, job(JobType::Implement), &person()).await.unwrap();
    store.update_assignment(NS, &capped, &blocked(&reason), &defaults(), &person()).await.unwrap();
    let other = store.create_assignment(new_assignment("y"), &person()).await.unwrap().assignment.id;
    store.insert_job(NS, &other, job(JobType::Implement), &person()).await.unwrap();
    store.update_assignment(NS, &other, &blocked("waiting for the design"), &defaults(), &person()).await.unwrap();

    // Two runners claim at once: the assignment resumes once and its job starts once.
    let policy = policy();
    let (first, second) =
        tokio::join!(store.claim_next(NS, "r1", 60_000, &policy), store.claim_next(NS, "r2", 60_000, &policy));
    let started: Vec<_> = [first.unwrap(), second.unwrap()].into_iter().flatten().collect();
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0].job.assignment_id, capped);
    let d = store.assignment(NS, &capped).await.unwrap();
    assert_eq!((d.assignment.status, d.assignment.reason.as_deref()), (AssignmentStatus::Active, None));
    let lifted: Vec<_> = d.history.iter().filter(|h| h.action == "status blocked → active").collect();
    assert_eq!(lifted.len(), 1, "{lifted:?}");
    assert_eq!(lifted[0].actor, Actor::Engine);
    assert_eq!(lifted[0].reason.as_deref(), Some(spend::DAILY_CAP_LIFTED));
    // Any other block waits for a person.
    let o = store.assignment(NS, &other).await.unwrap().assignment;
    assert_eq!((o.status, o.reason.as_deref()), (AssignmentStatus::Blocked, Some("waiting for the design")));
}

/// Usage on a test result.
trait AttemptResultExt {
    fn with_usage(self, tokens_in: i64, tokens_out: i64, cache_read: i64, cost: Option<f64>) -> Self;
}

impl AttemptResultExt for baton_core::store::AttemptResult {
    fn with_usage(mut self, tokens_in: i64, tokens_out: i64, cache_read: i64, cost: Option<f64>) -> Self {
        self.tokens_in = Some(tokens_in);
        self.tokens_out = Some(tokens_out);
        self.cache_read_tokens = Some(cache_read).filter(|t| *t > 0);
        self.cost_usd = cost;
        self
    }
}

pub async fn retention_drops_old_transcripts_and_keeps_results(store: Shared) {
    let a = store.create_assignment(new_assignment("x"), &person()).await.unwrap().assignment.id;
    let id = store.insert_job(NS, &a, job(JobType::Implement), &person()).await.unwrap().id;
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    let start = baton_core::store::AttemptStart { prompt: Some("the brief".into()), ..Default::default() };
    assert!(store.record_start(&c.job.id, c.token, &start).await.unwrap());
    let event = baton_core::store::NewEvent { at: 1, event: serde_json::json!({"kind": "text", "line": "hi"}) };
    assert!(store.append_events(&c.job.id, c.token, c.attempt, vec![event]).await.unwrap());
    store.finish_attempt(&c.job.id, c.token, success("done"), &policy()).await.unwrap().unwrap();
    let finished = store.job(NS, &id).await.unwrap().finished_at.unwrap();

    // Jobs that ended at or after the cut-off are kept.
    assert_eq!(store.drop_transcripts(NS, finished, false).await.unwrap(), 0);
    // A dry run counts and changes nothing.
    assert_eq!(store.drop_transcripts(NS, finished + 1, true).await.unwrap(), 1);
    assert_eq!(store.job_events(NS, &id, 0, 10).await.unwrap().len(), 1);

    assert_eq!(store.drop_transcripts(NS, finished + 1, false).await.unwrap(), 1);
    assert!(store.job_events(NS, &id, 0, 10).await.unwrap().is_empty());
    let kept = store.job(NS, &id).await.unwrap();
    assert_eq!((kept.result.as_deref(), kept.cost_usd, kept.transcript_events), (Some("done"), Some(0.25), 0));
    let prompt = store.attempt_prompt(NS, &id, Some(1)).await.unwrap();
    assert_eq!((prompt.prompt, prompt.prompt_bytes), (None, Some("the brief".len() as u64)));
    assert_eq!(store.drop_transcripts(NS, finished + 1, false).await.unwrap(), 0, "nothing left to drop");
}
