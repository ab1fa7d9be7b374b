//! Pieces of the model as people see them, shared by the commands that show jobs and assignments.

use super::format::{one_line, NONE};
use super::style::{assignment_status_code, job_status_code, DIM, RED};
use super::table::Cell;
use baton_core::{Assignment, CostSource, Job};

pub fn assignment_status(a: &Assignment) -> Cell {
    Cell::painted(a.status.as_str(), Some(assignment_status_code(a.status)))
}

pub fn job_status(job: &Job) -> Cell {
    Cell::painted(job.status.as_str(), job_status_code(job.status))
}

/// `2/3`: runs started of runs allowed.
pub fn attempts(job: &Job) -> String {
    format!("{}/{}", job.attempts, job.max_attempts)
}

/// One line about a job: its error (red), else its result, else its context (dim, what it was asked).
pub fn job_summary(job: &Job) -> Cell {
    if let Some(error) = job.error.as_deref().filter(|e| !e.trim().is_empty()) {
        let kind = job.error_kind.map(|k| format!("[{k}] ")).unwrap_or_default();
        return Cell::painted(format!("{kind}{}", one_line(error)), Some(RED));
    }
    if let Some(result) = job.result.as_deref().filter(|r| !r.trim().is_empty()) {
        return Cell::new(one_line(result));
    }
    if !job.context.trim().is_empty() {
        return Cell::painted(one_line(&job.context), Some(DIM));
    }
    Cell::new("")
}

/// A job's cost with its source: `$0.02`, `$0.02 (estimated)`, `unpriced` (tokens known, no
/// price configured) or `-` (no usage reported). Never a made-up `$0`.
pub fn job_cost(job: &Job) -> String {
    match (job.cost_usd, job.cost_source) {
        (Some(c), Some(CostSource::Estimated)) => format!("{} (estimated)", super::format::money(c)),
        (Some(c), Some(CostSource::Unpriced)) => format!("{} + unpriced usage", super::format::money(c)),
        (Some(c), _) => super::format::money(c),
        (None, Some(CostSource::Unpriced)) => "unpriced (no [prices] entry for its model)".to_string(),
        (None, _) => NONE.to_string(),
    }
}

/// The spend of a chain: `$4.20`, `$4.20 incl. estimates`, `$4.20 + 3 unpriced jobs`.
pub fn chain_spend(jobs: &[Job]) -> Option<String> {
    let unpriced = jobs.iter().filter(|j| j.cost_source == Some(CostSource::Unpriced)).count();
    let estimated = jobs.iter().any(|j| j.cost_source == Some(CostSource::Estimated));
    let costs: Vec<f64> = jobs.iter().filter_map(|j| j.cost_usd).collect();
    if costs.is_empty() && unpriced == 0 {
        return None;
    }
    let mut text = super::format::money(costs.iter().sum());
    if estimated {
        text.push_str(" incl. estimates");
    }
    if unpriced > 0 {
        let s = if unpriced == 1 { "" } else { "s" };
        text.push_str(&format!(" + {unpriced} unpriced job{s}"));
    }
    Some(text)
}

/// `3/50` jobs used of the limit.
pub fn job_usage(a: &Assignment) -> String {
    format!("{}/{}", a.job_count, a.max_jobs)
}

/// `812000/2000000 tokens` against a token budget (input + output + cache writes); `None`
/// without one.
pub fn tokens_of_budget(a: &Assignment) -> Option<String> {
    let budget = a.budget_tokens?;
    let spent = a.tokens_spent.map_or_else(|| NONE.to_string(), |t| t.to_string());
    Some(format!("{spent}/{budget} (input + output + cache-write tokens)"))
}

/// `$1.20/$5.00`, `$1.20`, `-/$5.00` or `-`.
pub fn cost_of_budget(a: &Assignment) -> String {
    let cost = a.cost_usd.map(super::format::money);
    match (cost, a.budget_usd) {
        (cost, Some(budget)) => format!("{}/{}", cost.as_deref().unwrap_or(NONE), super::format::money(budget)),
        (Some(cost), None) => cost,
        (None, None) => NONE.to_string(),
    }
}
