//! The guards a runner's claim passes before it starts an assignment's next job, decided once
//! for every backend: the host that holds the assignment's worktree, the cost budget, and the
//! work stranded on a host whose runners are gone: moved to another host through the `[sync]`
//! remote when its last commit is there, else blocked for a person.

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

/// An active assignment with work waiting, whose worktree is on another host than the claiming
/// runner's: what the backend read about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stranded<'a> {
    pub assignment_id: &'a str,
    /// The host holding its worktree.
    pub host: &'a str,
    /// When a runner on that host last heartbeat (`None`: never).
    pub last_seen: Option<Millis>,
    /// The commit its branch started at.
    pub base: Option<&'a str>,
    /// The latest commit its jobs recorded on the branch, else the commit the branch started at.
    pub last_head: Option<&'a str>,
    /// The commit last pushed to the `[sync]` remote.
    pub pushed: Option<&'a str>,
    /// Its next job, when an attempt of it already ran (on that host): it may have left work
    /// there that was never committed.
    pub interrupted_job: Option<&'a str>,
}

/// What a claim does with a [`Stranded`] assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum HostGone {
    /// Its host may come back: leave it.
    Wait,
    /// Block it for a person, with this reason.
    Block(String),
    /// Move it to the claiming host, which continues from `commit`; `action` and `reason` go to
    /// its history.
    Move { commit: String, action: String, reason: Option<String> },
}

/// Decides for an assignment stranded on a host whose runners were last seen at
/// `stranded.last_seen`: after `gone_ms` it is moved to `here` when the claiming runner syncs
/// through a git remote (`takeover`) and the branch's last commit is there (or the branch never
/// moved from its base); otherwise it is blocked, the reason naming the commit no other host has.
/// What the lost host may hold uncommitted is said either way, never silently dropped.
pub fn host_gone(stranded: &Stranded<'_>, here: &str, takeover: bool, now: Millis, gone_ms: u64) -> HostGone {
    let Stranded { assignment_id, host, last_seen, base, last_head, pushed, interrupted_job } = *stranded;
    let gone_ms = i64::try_from(gone_ms).unwrap_or(i64::MAX);
    let gone = now.saturating_sub(last_seen.unwrap_or(0));
    if gone <= gone_ms {
        return HostGone::Wait;
    }
    let seen =
        format!("no runner has been seen for {}", human_duration(if last_seen.is_some() { gone } else { gone_ms }));
    let uncommitted = interrupted_job
        .map(|j| {
            format!(
                "; host {host} may hold uncommitted work of job {j} (the last recorded head is {})",
                short(last_head)
            )
        })
        .unwrap_or_default();
    let start = match (last_head, pushed) {
        (Some(head), Some(p)) if head == p => Some(p),
        (Some(head), None) if Some(head) == base => Some(head),
        _ => None,
    };
    if let (true, Some(commit)) = (takeover, start) {
        return HostGone::Move {
            commit: commit.to_string(),
            action: format!("moved from host {host} to host {here} at commit {}", short(Some(commit))),
            reason: Some(format!("on host {host} {seen}{uncommitted}")),
        };
    }
    let missing = match (start, takeover) {
        (Some(_), _) => String::new(),
        (None, true) => format!(" and its branch's last commit {} is not on the [sync] remote", short(last_head)),
        (None, false) => format!(" and its branch's last commit {} is only there (no [sync] remote)", short(last_head)),
    };
    HostGone::Block(format!(
        "its worktree is on host {host}, where {seen}{missing}{uncommitted}: start `baton run` on {host}, or move \
         the branch baton/{assignment_id} to a machine that runs it, then resume the assignment"
    ))
}

/// Refuses a person's resume of an assignment stranded on a gone host when it would only block
/// it again at once: its host has been gone longer than `gone_ms` and its branch's last commit
/// is on no remote, so no host can continue it ([`host_gone`] would block it at the next claim).
/// A resume that a takeover could carry through goes ahead: which runners sync through a remote
/// is only known when they claim.
pub fn check_resume(stranded: &Stranded<'_>, now: Millis, gone_ms: u64) -> crate::Result<()> {
    match host_gone(stranded, "another host", true, now, gone_ms) {
        HostGone::Block(reason) => Err(crate::Error::HostGoneRefusedResume {
            id: stranded.assignment_id.to_string(),
            reason,
            gone: human_duration(i64::try_from(gone_ms).unwrap_or(i64::MAX)),
        }),
        HostGone::Wait | HostGone::Move { .. } => Ok(()),
    }
}

/// A commit as history shows it: its first 12 digits.
fn short(commit: Option<&str>) -> String {
    match commit {
        Some(c) => c.chars().take(12).collect(),
        None => "(none recorded)".to_string(),
    }
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

    fn stranded<'a>(head: Option<&'a str>, pushed: Option<&'a str>, job: Option<&'a str>) -> Stranded<'a> {
        Stranded {
            assignment_id: "a1",
            host: "h",
            last_seen: Some(1_000),
            base: Some("b0"),
            last_head: head,
            pushed,
            interrupted_job: job,
        }
    }

    #[test]
    fn a_host_is_gone_only_after_gone_ms() {
        let s = stranded(Some("c1"), None, None);
        assert_eq!(host_gone(&s, "here", false, 1_500, 1_000), HostGone::Wait);
        let HostGone::Block(reason) = host_gone(&s, "here", false, 5_000, 1_000) else { panic!("blocked") };
        assert!(reason.contains("no runner has been seen for 4.0s"), "{reason}");
        assert!(reason.contains("last commit c1 is only there (no [sync] remote)"), "{reason}");
        let never = Stranded { last_seen: None, ..s };
        assert!(matches!(host_gone(&never, "here", false, 5_000, 1_000), HostGone::Block(r) if r.contains("for 1.0s")));
    }

    #[test]
    fn a_pushed_branch_moves_to_the_claiming_host_and_an_unpushed_one_blocks() {
        let pushed = stranded(Some("c1"), Some("c1"), Some("j7"));
        let HostGone::Move { commit, action, reason } = host_gone(&pushed, "b", true, 5_000, 1_000) else {
            panic!("moved")
        };
        assert_eq!((commit.as_str(), action.as_str()), ("c1", "moved from host h to host b at commit c1"));
        assert!(reason.is_some_and(|r| r.contains("may hold uncommitted work of job j7")));
        // Without [sync] on the claiming host it is a person's call, as before.
        assert!(matches!(host_gone(&pushed, "b", false, 5_000, 1_000), HostGone::Block(_)));
        let behind = stranded(Some("c2"), Some("c1"), Some("j7"));
        let HostGone::Block(reason) = host_gone(&behind, "b", true, 5_000, 1_000) else { panic!("blocked") };
        assert!(reason.contains("last commit c2 is not on the [sync] remote"), "{reason}");
        assert!(
            reason.contains("host h may hold uncommitted work of job j7 (the last recorded head is c2)"),
            "{reason}"
        );
        // A branch that never moved from its base starts over from it.
        let fresh = stranded(Some("b0"), None, None);
        assert!(matches!(host_gone(&fresh, "b", true, 5_000, 1_000), HostGone::Move { commit, .. } if commit == "b0"));
    }
}
