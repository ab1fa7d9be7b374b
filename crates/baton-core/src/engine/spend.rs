//! What an attempt cost, and where that figure comes from.
//!
//! A CLI that reports its cost (claude) is taken at its word. Otherwise the cost is estimated
//! from the tokens it reported and a price a person configured (`[prices."<model>"]`); baton
//! ships no prices, because they change. When neither is known the cost stays unknown: a job
//! whose tokens have no price is `unpriced`, never `$0`.

use crate::model::{Assignment, CostSource, Job};
use crate::time::Millis;
use std::collections::BTreeMap;

/// One model's price, USD per million tokens, in force from `since` on.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    /// The first instant (UTC midnight of `since = "YYYY-MM-DD"`) it applies; `None`: always.
    pub since: Option<Millis>,
    pub input: f64,
    pub output: f64,
    /// Tokens read from the prompt cache; `None`: charged as input.
    pub cache_read: Option<f64>,
    /// Tokens written to the prompt cache; `None`: charged as input.
    pub cache_write: Option<f64>,
}

/// Every configured price: per model, its prices over time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    pub models: BTreeMap<String, Vec<Price>>,
}

impl Prices {
    /// The price of `model` in force at `at`: the one with the latest `since` not after it.
    pub fn at(&self, model: &str, at: Millis) -> Option<&Price> {
        self.models
            .get(model)?
            .iter()
            .filter(|p| p.since.is_none_or(|since| since <= at))
            .max_by_key(|p| p.since.unwrap_or(Millis::MIN))
    }
}

/// What the store needs to put a cost on an attempt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendPolicy {
    pub prices: Prices,
    /// Each harness's configured `model`, for [`job_model`].
    pub harness_models: BTreeMap<String, String>,
    /// `[budget] daily_usd`: what the namespace may spend per UTC day.
    pub daily_usd: Option<f64>,
}

/// The first instant of the UTC day holding `at`.
pub fn utc_day_start(at: Millis) -> Millis {
    at - at.rem_euclid(86_400_000)
}

/// How every daily-cap block reason starts: [`daily_cap_day`] recognises it by this.
const DAILY_CAP_REASON: &str = "the namespace's daily budget is spent ($";

/// The reason to block an assignment instead of starting its next job, once the namespace
/// spent `spent_today` of its `daily_usd` cap on the UTC day of `now`; `None` below it. It names
/// the day, so that the engine can tell, from the reason alone, that the block was the cap's and
/// lift it once that day is over.
pub fn daily_cap_reached(daily_usd: Option<f64>, spent_today: Option<f64>, now: Millis) -> Option<String> {
    let (cap, spent) = (daily_usd?, spent_today?);
    if spent < cap {
        return None;
    }
    let day = utc_day_start(now);
    let left = crate::time::human_duration(day + 86_400_000 - now);
    let date = chrono::DateTime::from_timestamp_millis(day)?.format("%Y-%m-%d");
    Some(format!(
        "{DAILY_CAP_REASON}{spent:.2} of ${cap:.2} on {date}, UTC; the day ends in {left}): baton resumes the \
         assignment at 00:00 UTC, or raise [budget] daily_usd in .baton/config.toml and resume it now"
    ))
}

/// The UTC day (its first instant) a daily-cap block `reason` names; `None` for any other reason.
pub fn daily_cap_day(reason: &str) -> Option<Millis> {
    let rest = reason.strip_prefix(DAILY_CAP_REASON)?;
    let (_, after) = rest.split_once(" on ")?;
    let date = chrono::NaiveDate::parse_from_str(after.get(..10)?, "%Y-%m-%d").ok()?;
    after[10..].starts_with(", UTC;").then_some(())?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// Whether an assignment blocked with `reason` was blocked only by the daily cap of a UTC day
/// that is over at `now`: the engine then returns it to active (a new day, a new budget).
pub fn daily_cap_lifted(reason: Option<&str>, now: Millis) -> bool {
    reason.and_then(daily_cap_day).is_some_and(|day| day < utc_day_start(now))
}

/// What the history says when the engine resumes an assignment the daily cap blocked.
pub const DAILY_CAP_LIFTED: &str =
    "a new UTC day began: the namespace's [budget] daily_usd applies afresh, so the assignment the daily cap blocked resumes";

/// The model a job ran on: the one it recorded (`--model`, or the harness's model when it ran),
/// else its harness's configured `model` — so a PM's `--model` choice is priced as that model.
pub fn job_model<'a>(job: &'a Job, policy: &'a SpendPolicy) -> Option<&'a str> {
    job.model.as_deref().or_else(|| policy.harness_models.get(&job.harness).map(String::as_str))
}

/// The usage one attempt reported (`None`: the CLI did not say).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Every input token, cache reads and writes included.
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    /// The part of `tokens_in` read from the prompt cache.
    pub cache_read: Option<i64>,
    /// The part of `tokens_in` written to the prompt cache.
    pub cache_write: Option<i64>,
    /// The cost the CLI reported itself.
    pub reported_usd: Option<f64>,
}

impl Usage {
    fn has_tokens(&self) -> bool {
        self.tokens_in.is_some() || self.tokens_out.is_some()
    }
}

/// An attempt's cost and its source; `(None, None)` when it reported no usage at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptSpend {
    pub cost_usd: Option<f64>,
    pub source: Option<CostSource>,
}

/// Prices one attempt: the reported cost if there is one, else tokens × `price`.
pub fn attempt_spend(usage: &Usage, price: Option<&Price>) -> AttemptSpend {
    if let Some(cost) = usage.reported_usd {
        return AttemptSpend { cost_usd: Some(cost), source: Some(CostSource::Reported) };
    }
    if !usage.has_tokens() {
        return AttemptSpend { cost_usd: None, source: None };
    }
    let Some(price) = price else {
        return AttemptSpend { cost_usd: None, source: Some(CostSource::Unpriced) };
    };
    let count = |t: Option<i64>| t.unwrap_or(0).max(0) as f64;
    let cache_read = count(usage.cache_read);
    let cache_write = count(usage.cache_write);
    // Cache parts are inside `tokens_in`; what is left is plain input.
    let plain = (count(usage.tokens_in) - cache_read - cache_write).max(0.0);
    let micro_usd = plain * price.input
        + cache_read * price.cache_read.unwrap_or(price.input)
        + cache_write * price.cache_write.unwrap_or(price.input)
        + count(usage.tokens_out) * price.output;
    AttemptSpend { cost_usd: Some(micro_usd / 1_000_000.0), source: Some(CostSource::Estimated) }
}

/// A job's cost source after one more attempt: the least certain of the two. A job with any
/// unpriced usage is `unpriced` (its cost, if any, leaves that usage out); any estimate makes it
/// `estimated`; `reported` only when every attempt with usage reported its cost.
pub fn combine(job: Option<CostSource>, attempt: Option<CostSource>) -> Option<CostSource> {
    let rank = |s: Option<CostSource>| match s {
        None => 0,
        Some(CostSource::Reported) => 1,
        Some(CostSource::Estimated) => 2,
        Some(CostSource::Unpriced) => 3,
    };
    if rank(attempt) > rank(job) {
        attempt
    } else {
        job
    }
}

/// Prices an ended attempt on `model` (see [`job_model`]) that started at `started_at`.
pub fn price_attempt(model: Option<&str>, usage: &Usage, policy: &SpendPolicy, started_at: Millis) -> AttemptSpend {
    let price = model.and_then(|m| policy.prices.at(m, started_at));
    attempt_spend(usage, price)
}

/// The tokens a token budget counts: input + output + cache writes (cache reads are left out:
/// cheap, and repeated on every turn). `None` when the usage holds no tokens.
pub fn budget_tokens(usage: &Usage) -> Option<i64> {
    if !usage.has_tokens() {
        return None;
    }
    let count = |t: Option<i64>| t.unwrap_or(0).max(0);
    Some((count(usage.tokens_in) - count(usage.cache_read)).max(0) + count(usage.tokens_out))
}

/// What is left of an assignment's budgets when an attempt starts, for watching its running
/// usage (claude streams it per message) and for claude's own `--max-budget-usd`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetWatch {
    pub assignment_id: String,
    /// Dollars left of `budget_usd`; `None` without one.
    pub remaining_usd: Option<f64>,
    /// Tokens left of `budget_tokens`; `None` without one.
    pub remaining_tokens: Option<i64>,
    /// The price running usage is estimated at; `None`: the dollar budget cannot be watched
    /// during the attempt (its usage is unpriced), only at its end.
    pub price: Option<Price>,
}

impl BudgetWatch {
    /// The budgets left to an attempt of a job on `model` of `assignment`, starting at `at`.
    pub fn new(assignment: &Assignment, model: Option<&str>, policy: &SpendPolicy, at: Millis) -> BudgetWatch {
        BudgetWatch {
            assignment_id: assignment.id.clone(),
            remaining_usd: assignment.budget_usd.map(|b| (b - assignment.cost_usd.unwrap_or(0.0)).max(0.0)),
            remaining_tokens: assignment.budget_tokens.map(|b| (b - assignment.tokens_spent.unwrap_or(0)).max(0)),
            price: model.and_then(|m| policy.prices.at(m, at)).cloned(),
        }
    }

    /// Is any budget watched at all?
    pub fn is_watching(&self) -> bool {
        self.remaining_tokens.is_some() || (self.remaining_usd.is_some() && self.price.is_some())
    }

    /// Why the attempt must stop, with the figures, once its running `usage` reaches what was
    /// left; `None` while it stays within.
    pub fn crossed(&self, usage: &Usage) -> Option<String> {
        if let (Some(left), Some(used)) = (self.remaining_tokens, budget_tokens(usage)) {
            if used >= left {
                return Some(format!(
                    "stopped during the job: it used {used} input + output + cache-write tokens, reaching the \
                     {left} left of the token budget; raise it with `baton update-assignment {} --budget-tokens N` \
                     and resume",
                    self.assignment_id
                ));
            }
        }
        if let (Some(left), Some(price)) = (self.remaining_usd, &self.price) {
            let estimate = attempt_spend(&Usage { reported_usd: None, ..*usage }, Some(price)).cost_usd;
            if let Some(spent) = estimate.filter(|spent| *spent >= left) {
                return Some(format!(
                    "stopped during the job: its usage so far is estimated at ${spent:.4}, reaching the ${left:.4} \
                     left of the budget; raise it with `baton update-assignment {} --budget-usd N` and resume",
                    self.assignment_id
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(since: Option<Millis>, input: f64) -> Price {
        Price { since, input, output: 10.0, cache_read: Some(0.1), cache_write: None }
    }

    #[test]
    fn a_reported_cost_wins_over_a_price() {
        let usage = Usage { tokens_in: Some(1000), reported_usd: Some(0.5), ..Usage::default() };
        let s = attempt_spend(&usage, Some(&price(None, 1.0)));
        assert_eq!(s, AttemptSpend { cost_usd: Some(0.5), source: Some(CostSource::Reported) });
    }

    #[test]
    fn tokens_times_the_price_split_by_cache() {
        // 1M in of which 400k cache reads and 100k cache writes; 100k out.
        let usage = Usage {
            tokens_in: Some(1_000_000),
            tokens_out: Some(100_000),
            cache_read: Some(400_000),
            cache_write: Some(100_000),
            reported_usd: None,
        };
        let s = attempt_spend(&usage, Some(&price(None, 2.0)));
        // 500k × 2 + 400k × 0.1 + 100k × 2 (no cache_write price: input) + 100k × 10, per million.
        let expected = (500_000.0 * 2.0 + 400_000.0 * 0.1 + 100_000.0 * 2.0 + 100_000.0 * 10.0) / 1e6;
        assert_eq!(s.source, Some(CostSource::Estimated));
        assert!((s.cost_usd.unwrap() - expected).abs() < 1e-12, "{s:?}");
    }

    #[test]
    fn tokens_without_a_price_are_unpriced_never_zero() {
        let usage = Usage { tokens_in: Some(5), tokens_out: Some(1), ..Usage::default() };
        assert_eq!(attempt_spend(&usage, None), AttemptSpend { cost_usd: None, source: Some(CostSource::Unpriced) });
        assert_eq!(attempt_spend(&Usage::default(), None), AttemptSpend { cost_usd: None, source: None });
    }

    #[test]
    fn the_price_in_force_is_the_latest_since_not_after_the_attempt() {
        let prices = Prices {
            models: BTreeMap::from([(
                "m".into(),
                vec![price(None, 1.0), price(Some(100), 2.0), price(Some(200), 3.0)],
            )]),
        };
        assert_eq!(prices.at("m", 50).map(|p| p.input), Some(1.0));
        assert_eq!(prices.at("m", 100).map(|p| p.input), Some(2.0));
        assert_eq!(prices.at("m", 10_000).map(|p| p.input), Some(3.0));
        assert!(prices.at("other", 0).is_none());
        let later_only = Prices { models: BTreeMap::from([("m".into(), vec![price(Some(100), 2.0)])]) };
        assert!(later_only.at("m", 99).is_none());
    }

    #[test]
    fn a_job_is_priced_as_the_model_it_recorded_else_its_harness_model() {
        let policy = SpendPolicy {
            prices: Prices::default(),
            harness_models: BTreeMap::from([("claude".to_string(), "configured".to_string())]),
            daily_usd: None,
        };
        let mut job =
            crate::model::test_support::job("j1", crate::model::JobType::Implement, crate::model::JobStatus::Running);
        job.harness = "claude".into();
        assert_eq!(job_model(&job, &policy), Some("configured"));
        job.model = Some("picked".into());
        assert_eq!(job_model(&job, &policy), Some("picked"));
        job.harness = "codex".into();
        job.model = None;
        assert_eq!(job_model(&job, &policy), None);
    }

    #[test]
    fn a_running_attempt_is_stopped_once_it_reaches_what_is_left_of_either_budget() {
        let mut a = crate::model::test_support::assignment(crate::model::AssignmentStatus::Active, 1);
        a.budget_tokens = Some(10_000);
        a.tokens_spent = Some(4_000);
        a.budget_usd = Some(1.0);
        a.cost_usd = Some(0.4);
        let policy = SpendPolicy {
            prices: Prices { models: BTreeMap::from([("m".into(), vec![price(None, 2.0)])]) },
            harness_models: BTreeMap::new(),
            daily_usd: None,
        };
        let watch = BudgetWatch::new(&a, Some("m"), &policy, 0);
        assert_eq!(watch.remaining_tokens, Some(6_000));
        assert!((watch.remaining_usd.unwrap_or_default() - 0.6).abs() < 1e-9);
        // 5000 in, 3000 of them cache reads, + 1000 out: 3000 counted, $0.0143 estimated.
        let usage =
            Usage { tokens_in: Some(5_000), tokens_out: Some(1_000), cache_read: Some(3_000), ..Usage::default() };
        assert_eq!(budget_tokens(&usage), Some(3_000));
        assert_eq!(watch.crossed(&usage), None);
        let more = Usage { tokens_out: Some(4_000), ..usage };
        let reason = watch.crossed(&more).unwrap_or_default();
        assert!(reason.contains("used 6000 input + output + cache-write tokens, reaching the 6000 left"), "{reason}");
        // Dollars: 70k out × $10 per million = $0.70.
        let dollars = Usage { tokens_in: Some(1), tokens_out: Some(70_000), ..Usage::default() };
        let watch = BudgetWatch { remaining_tokens: None, ..watch };
        let reason = watch.crossed(&dollars).unwrap_or_default();
        assert!(reason.contains("estimated at $0.7000, reaching the $0.6000 left of the budget"), "{reason}");
        // Without a price only the end of the attempt can tell.
        let unpriced = BudgetWatch { price: None, ..watch };
        assert!(!unpriced.is_watching());
        assert_eq!(unpriced.crossed(&dollars), None);
    }

    #[test]
    fn the_daily_cap_holds_for_the_rest_of_the_utc_day() {
        let day = 20_000 * 86_400_000;
        let evening = day + 18 * 3_600_000;
        assert_eq!(utc_day_start(evening), day);
        assert_eq!(daily_cap_reached(Some(10.0), Some(9.99), evening), None);
        assert_eq!(daily_cap_reached(None, Some(99.0), evening), None);
        assert_eq!(daily_cap_reached(Some(10.0), None, evening), None);
        let reason = daily_cap_reached(Some(10.0), Some(10.5), evening).unwrap_or_default();
        assert!(
            reason.contains("daily budget is spent ($10.50 of $10.00 on 2024-10-04, UTC; the day ends in 6h00m)"),
            "{reason}"
        );
        assert!(reason.contains("[budget] daily_usd") && reason.contains("resumes the assignment at 00:00 UTC"));
        // The reason names its day: the cap is lifted from the next UTC midnight on, not before.
        assert_eq!(daily_cap_day(&reason), Some(day));
        assert!(!daily_cap_lifted(Some(&reason), day + 86_400_000 - 1));
        assert!(daily_cap_lifted(Some(&reason), day + 86_400_000));
        assert!(daily_cap_lifted(Some(&reason), day + 3 * 86_400_000));
        // Any other block stays for a person.
        for other in
            [None, Some("token budget reached (800 of 700 tokens)"), Some("the namespace's daily budget is spent")]
        {
            assert!(!daily_cap_lifted(other, day + 86_400_000), "{other:?}");
        }
    }

    #[test]
    fn a_job_is_as_uncertain_as_its_least_certain_attempt() {
        use CostSource::*;
        assert_eq!(combine(None, Some(Reported)), Some(Reported));
        assert_eq!(combine(Some(Reported), Some(Estimated)), Some(Estimated));
        assert_eq!(combine(Some(Unpriced), Some(Reported)), Some(Unpriced));
        assert_eq!(combine(Some(Estimated), None), Some(Estimated));
    }
}
