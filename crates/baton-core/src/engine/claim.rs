//! The guards a runner's claim passes before it starts an assignment's next job, decided once
//! for every backend: the host that holds the assignment's worktree, the cost budget, and the
//! block of work stranded on a host whose runners are gone.

use crate::model::{Assignment, AssignmentStatus};
use crate::time::{human_duration, Millis};

/// What a claim does with a ready candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimCheck {
    /// Start its next job.
    Start,
    /// Leave it: not active any more, or its worktree is on another host.
    Skip,
    /// Block the assignment with this reason instead of starting it.
    Block(String),
}

/// Decides whether a runner on `runner_host` may start `assignment`'s next job.
pub fn check_claim(assignment: &Assignment, runner_host: Option<&str>) -> ClaimCheck {
    if assignment.status != AssignmentStatus::Active {
        return ClaimCheck::Skip;
    }
    // An assignment's working tree lives on one host; other hosts' runners leave it alone.
    if let (Some(home), Some(here)) = (assignment.host.as_deref(), runner_host) {
        if home != here {
            return ClaimCheck::Skip;
        }
    }
    match budget_reached(assignment) {
        Some(reason) => ClaimCheck::Block(reason),
        None => ClaimCheck::Start,
    }
}

/// The reason a spent budget (dollars or tokens) blocks `assignment`; `None` while both last.
pub fn budget_reached(assignment: &Assignment) -> Option<String> {
    if let (Some(budget), Some(cost)) = (assignment.budget_usd, assignment.cost_usd) {
        if cost >= budget {
            return Some(format!("budget ${budget:.2} reached (${cost:.2} spent)"));
        }
    }
    if let (Some(budget), Some(spent)) = (assignment.budget_tokens, assignment.tokens_spent) {
        if spent >= budget {
            return Some(format!(
                "token budget reached ({spent} of {budget} input + output + cache-write tokens spent); \
                 raise it with `baton update-assignment {} --budget-tokens N` and resume",
                assignment.id
            ));
        }
    }
    None
}

/// The reason to block an assignment whose worktree is on `host`, whose runners were last seen
/// at `last_seen` (`None`: never), when that is longer ago than `gone_ms`; `None` to leave it.
pub fn host_gone(
    assignment_id: &str,
    host: &str,
    last_seen: Option<Millis>,
    now: Millis,
    gone_ms: u64,
) -> Option<String> {
    let gone_ms = i64::try_from(gone_ms).unwrap_or(i64::MAX);
    let gone = now.saturating_sub(last_seen.unwrap_or(0));
    if gone <= gone_ms {
        return None;
    }
    let shown = if last_seen.is_some() { gone } else { gone_ms };
    Some(format!(
        "its worktree is on host {host}, where no runner has been seen for {}: start `baton run` on {host}, \
         or move the branch baton/{assignment_id} to a machine that runs it, then resume the assignment",
        human_duration(shown)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::assignment;

    #[test]
    fn claims_start_skip_or_block() {
        let mut a = assignment(AssignmentStatus::Active, 1);
        assert_eq!(check_claim(&a, Some("h1")), ClaimCheck::Start);
        a.host = Some("h2".into());
        assert_eq!(check_claim(&a, Some("h1")), ClaimCheck::Skip);
        assert_eq!(check_claim(&a, Some("h2")), ClaimCheck::Start);
        a.budget_usd = Some(1.0);
        a.cost_usd = Some(1.25);
        assert_eq!(check_claim(&a, Some("h2")), ClaimCheck::Block("budget $1.00 reached ($1.25 spent)".into()));
        a.budget_usd = None;
        a.budget_tokens = Some(1000);
        a.tokens_spent = Some(999);
        assert_eq!(check_claim(&a, Some("h2")), ClaimCheck::Start);
        a.tokens_spent = Some(1000);
        let ClaimCheck::Block(reason) = check_claim(&a, Some("h2")) else { panic!("not blocked") };
        assert!(reason.starts_with("token budget reached (1000 of 1000"), "{reason}");
        assert!(reason.contains("--budget-tokens"), "{reason}");
        a.status = AssignmentStatus::Blocked;
        assert_eq!(check_claim(&a, Some("h2")), ClaimCheck::Skip);
    }

    #[test]
    fn a_host_is_gone_only_after_gone_ms() {
        assert_eq!(host_gone("a1", "h", Some(1_000), 1_500, 1_000), None);
        let reason = host_gone("a1", "h", Some(1_000), 5_000, 1_000).unwrap_or_default();
        assert!(reason.contains("no runner has been seen for 4.0s"), "{reason}");
        assert!(host_gone("a1", "h", None, 5_000, 1_000).is_some_and(|r| r.contains("for 1.0s")));
    }
}
