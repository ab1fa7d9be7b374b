//! Assignments that wait for others (`create --after`), decided once for every backend: whether
//! a new assignment starts `deferred` or `active`, what a parent's completion or cancellation
//! does to a deferred child, what a person's resume of a blocked child does, and where the
//! child's branch starts when it activates.
//!
//! The rule is "all parents", not "any parent": a child starts only when no parent is still
//! open. A parent that is cancelled blocks its deferred children (naming it) instead of
//! starting them on half the work; a person who resumes such a child accepts the loss, and from
//! then on only the parents still open are waited for.

use crate::error::{Error, Result};
use crate::model::{Assignment, AssignmentStatus};

/// The most parents one assignment may wait for (`NewAssignment::validate` checks it): more is
/// a plan, not a dependency.
pub const MAX_PARENTS: usize = 32;

/// A parent as the engine sees it, read inside the write transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Parent {
    pub id: String,
    pub status: AssignmentStatus,
    /// Its branch head when it completed, if it had a branch.
    pub final_head: Option<String>,
}

impl Parent {
    pub fn of(a: &Assignment) -> Parent {
        Parent { id: a.id.clone(), status: a.status, final_head: a.final_head.clone() }
    }

    /// Still to finish: the child waits for it.
    fn open(&self) -> bool {
        !self.status.is_final()
    }
}

/// A child's activation: where its branch starts and the line its history gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Activation {
    /// The ref its branch is created from, when the engine chooses it (one parent with a
    /// recorded head); `None` keeps the configured base (`--base`, else the checkout's HEAD).
    pub base_ref: Option<String>,
    /// Says which parents completed and where the branch starts.
    pub history: String,
}

/// What becomes of a child, at create or when one of its parents reached a final status.
#[derive(Debug, Clone, PartialEq)]
pub enum Deferral {
    /// Some parent is still open: it stays (or starts) `deferred`.
    Wait,
    /// Every parent is done: it becomes `active`.
    Activate(Activation),
    /// A parent was cancelled: it is blocked for a person, with this reason.
    Block(String),
}

/// Checks the parents named at create (already found in the child's namespace) and decides the
/// new assignment's first status. `--after` one cancelled assignment is refused: nothing would
/// ever start it.
pub fn at_create(parents: &[Parent], explicit_base: Option<&str>) -> Result<Deferral> {
    if let Some(p) = parents.iter().find(|p| p.status == AssignmentStatus::Cancelled) {
        return Err(Error::invalid(format!(
            "assignment {} is cancelled: an assignment --after it would never start; leave it out of --after",
            p.id
        )));
    }
    Ok(if parents.iter().any(Parent::open) {
        Deferral::Wait
    } else {
        Deferral::Activate(activation(parents, explicit_base))
    })
}

/// A deferred child's parent `changed` just became complete or cancelled; `parents` are all of
/// the child's parents as they stand now (`changed` among them).
pub fn after_parent_final(changed: &Parent, parents: &[Parent], explicit_base: Option<&str>) -> Deferral {
    if changed.status == AssignmentStatus::Cancelled {
        return Deferral::Block(format!(
            "parent assignment {} was cancelled; resume to go on without it, or cancel this one",
            changed.id
        ));
    }
    if parents.iter().any(Parent::open) {
        Deferral::Wait
    } else {
        Deferral::Activate(activation(parents, explicit_base))
    }
}

/// What a person's resume (`--status active`) of a blocked assignment does about its parents.
#[derive(Debug, Clone, PartialEq)]
pub enum Resume {
    /// No parents, or it already activated once: an ordinary resume.
    Plain,
    /// Some parent is still open: it returns to `deferred`; the reason names the ones it waits for.
    Defer(String),
    /// Its parents are done and it never started: it activates now.
    Activate(Activation),
}

/// Decides a resume of the blocked assignment `a`, whose parents are `parents`.
pub fn on_resume(a: &Assignment, parents: &[Parent]) -> Resume {
    if parents.is_empty() {
        return Resume::Plain;
    }
    let open: Vec<&str> = parents.iter().filter(|p| p.open()).map(|p| p.id.as_str()).collect();
    if !open.is_empty() {
        return Resume::Defer(format!("waiting for {}", open.join(", ")));
    }
    if a.activated_at.is_some() {
        return Resume::Plain;
    }
    Resume::Activate(activation(parents, a.base_ref.as_deref()))
}

/// Where the branch of a child whose parents are all done starts, and how its history says so.
fn activation(parents: &[Parent], explicit_base: Option<&str>) -> Activation {
    let complete: Vec<&Parent> = parents.iter().filter(|p| p.status == AssignmentStatus::Complete).collect();
    let names = complete.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
    let done = match complete.len() {
        0 => "no parent completed".to_string(),
        1 => format!("parent {names} complete"),
        _ => format!("parents {names} complete"),
    };
    let skipped: Vec<&str> =
        parents.iter().filter(|p| p.status == AssignmentStatus::Cancelled).map(|p| p.id.as_str()).collect();
    let done = if skipped.is_empty() { done } else { format!("{done} ({} cancelled)", skipped.join(", ")) };
    if let Some(base) = explicit_base {
        return Activation { base_ref: None, history: format!("{done}; the branch starts from --base {base}") };
    }
    match (parents, complete.as_slice()) {
        ([only], [_]) => match &only.final_head {
            Some(head) => Activation {
                base_ref: Some(head.clone()),
                history: format!("{done}; the branch starts from its final head {}", short(head)),
            },
            None => Activation {
                base_ref: None,
                history: format!("{done} without a branch head; the branch starts from the configured base"),
            },
        },
        ([_], _) => {
            Activation { base_ref: None, history: format!("{done}; the branch starts from the configured base") }
        }
        _ => Activation {
            base_ref: None,
            history: format!("{done}; with several parents the branch starts from the configured base"),
        },
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::assignment;
    use AssignmentStatus::*;

    fn parent(id: &str, status: AssignmentStatus, head: Option<&str>) -> Parent {
        Parent { id: id.into(), status, final_head: head.map(str::to_string) }
    }

    #[test]
    fn a_new_child_waits_until_every_parent_is_complete() {
        let open = [parent("a1", Complete, Some("c1")), parent("a2", Blocked, None)];
        assert_eq!(at_create(&open, None).unwrap(), Deferral::Wait);
        for status in [Active, Deferred, Blocked] {
            assert_eq!(at_create(&[parent("a1", status, None)], None).unwrap(), Deferral::Wait);
        }
        let done = [parent("a1", Complete, Some("0123456789abcdef"))];
        let Deferral::Activate(act) = at_create(&done, None).unwrap() else { panic!("activates") };
        assert_eq!(act.base_ref.as_deref(), Some("0123456789abcdef"));
        assert!(act.history.contains("final head 0123456789ab"), "{}", act.history);
    }

    #[test]
    fn a_cancelled_parent_is_refused_at_create() {
        let err = at_create(&[parent("a9", Cancelled, None)], None).unwrap_err();
        assert!(err.to_string().contains("a9 is cancelled"), "{err}");
    }

    #[test]
    fn the_last_parent_completing_activates_and_a_cancel_blocks() {
        let p1 = parent("a1", Complete, Some("h1"));
        let p2 = parent("a2", Active, None);
        assert_eq!(after_parent_final(&p1, &[p1.clone(), p2.clone()], None), Deferral::Wait);
        let p2 = parent("a2", Complete, Some("h2"));
        let Deferral::Activate(act) = after_parent_final(&p2, &[p1.clone(), p2.clone()], None) else {
            panic!("activates")
        };
        assert_eq!(act.base_ref, None, "several parents: the configured base");
        assert!(act.history.contains("several parents"), "{}", act.history);

        let gone = parent("a2", Cancelled, None);
        let Deferral::Block(reason) = after_parent_final(&gone, &[p1, gone.clone()], None) else { panic!("blocks") };
        assert!(reason.contains("a2 was cancelled"), "{reason}");
    }

    #[test]
    fn an_explicit_base_wins_over_the_parents_head() {
        let Deferral::Activate(act) = at_create(&[parent("a1", Complete, Some("h1"))], Some("v2")).unwrap() else {
            panic!("activates")
        };
        assert_eq!(act.base_ref, None);
        assert!(act.history.contains("--base v2"), "{}", act.history);
        let Deferral::Activate(act) = at_create(&[parent("a1", Complete, None)], None).unwrap() else {
            panic!("activates")
        };
        assert!(act.history.contains("without a branch head"), "{}", act.history);
    }

    #[test]
    fn a_resume_waits_for_open_parents_and_activates_only_once() {
        let mut a = assignment(Blocked, 1);
        assert_eq!(on_resume(&a, &[]), Resume::Plain);
        let waiting = [parent("a1", Cancelled, None), parent("a2", Active, None)];
        assert_eq!(on_resume(&a, &waiting), Resume::Defer("waiting for a2".into()));
        let done = [parent("a1", Cancelled, None), parent("a2", Complete, Some("h2"))];
        let Resume::Activate(act) = on_resume(&a, &done) else { panic!("activates") };
        assert!(act.history.contains("(a1 cancelled)"), "{}", act.history);
        assert_eq!(act.base_ref, None, "two parents: the configured base");
        a.activated_at = Some(5);
        assert_eq!(on_resume(&a, &done), Resume::Plain, "a child that started once resumes as any other");
    }
}
