//! Store stories of runners on several hosts: pushed commits, and assignments taken over from a
//! host that is gone.

use super::runner::{assignment_with, policy, register_on, success, wait_until_past};
use super::*;
use baton_core::store::{EnginePolicy, Workspace};

fn workspace(a: &str, host: &str) -> Workspace {
    Workspace {
        branch: format!("baton/{a}"),
        worktree: format!("/w/{host}/{a}"),
        host: host.into(),
        base_commit: Some("b0".into()),
    }
}

pub async fn pushes_are_fenced_and_recorded(store: Shared) {
    let (a, ids) = assignment_with(&store, &[JobType::Implement]).await;
    let c = store.claim_next(NS, "r1", 60_000, &policy()).await.unwrap().unwrap();
    assert!(!store.record_push(&ids[0], c.token + 1, "c1").await.unwrap(), "another token pushes nothing");
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.pushed_commit, None);
    assert!(store.record_push(&ids[0], c.token, "c1").await.unwrap());
    assert_eq!(store.job(NS, &ids[0]).await.unwrap().pushed_commit.as_deref(), Some("c1"));
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.pushed_commit.as_deref(), Some("c1"));
    store.finish_attempt(&c.job.id, c.token, success("done"), &policy()).await.unwrap();
    assert!(!store.record_push(&ids[0], c.token, "c2").await.unwrap(), "a finished attempt pushes nothing");
    assert_eq!(store.assignment(NS, &a).await.unwrap().assignment.pushed_commit.as_deref(), Some("c1"));
}

pub async fn a_pushed_assignment_moves_to_another_host_and_an_unpushed_one_blocks(store: Shared) {
    for (id, host) in [("r-a", "host-a"), ("r-b", "host-b")] {
        register_on(&store, id, host).await;
    }
    // Two assignments worked on host-a: the first pushed its last commit, the second did not.
    let (pushed, _) = assignment_with(&store, &[JobType::Implement]).await;
    let (unpushed, _) = assignment_with(&store, &[JobType::Implement]).await;
    let mut claims = Vec::new();
    for a in [&pushed, &unpushed] {
        let c = store.claim_next(NS, "r-a", 60_000, &policy()).await.unwrap().unwrap();
        assert_eq!(&c.job.assignment_id, a);
        store.set_workspace(NS, a, &workspace(a, "host-a")).await.unwrap();
        claims.push(c);
    }
    assert!(store.record_push(&claims[0].job.id, claims[0].token, "c1").await.unwrap());
    for (c, head) in claims.iter().zip(["c1", "c2"]) {
        let result = baton_core::store::AttemptResult { git_head_after: Some(head.into()), ..success("done") };
        store.finish_attempt(&c.job.id, c.token, result, &policy()).await.unwrap();
    }
    store.stop_runner("r-a").await.unwrap();
    wait_until_past(baton_core::time::now_ms() + 1).await;

    // host-a is gone: host-b, syncing through the remote, continues the pushed one.
    let takeover = EnginePolicy { host_gone_ms: 0, takeover: true, ..policy() };
    let c = store.claim_next(NS, "r-b", 60_000, &takeover).await.unwrap().expect("the moved assignment's PM job");
    assert_eq!(c.job.assignment_id, pushed);
    let d = store.assignment(NS, &pushed).await.unwrap();
    assert_eq!((d.assignment.host.as_deref(), d.assignment.worktree.as_deref()), (Some("host-b"), None));
    assert_eq!(d.assignment.branch, Some(format!("baton/{pushed}")), "the branch name stays");
    assert!(
        d.history.iter().any(|h| h.action == "moved from host host-a to host host-b at commit c1"),
        "{:?}",
        d.history
    );

    let d = store.assignment(NS, &unpushed).await.unwrap().assignment;
    assert_eq!((d.status, d.host.as_deref()), (AssignmentStatus::Blocked, Some("host-a")));
    let reason = d.reason.unwrap_or_default();
    assert!(reason.contains("last commit c2 is not on the [sync] remote"), "{reason}");
}

pub async fn a_resume_the_lost_host_guard_would_undo_is_refused_until_the_host_is_back(store: Shared) {
    register_on(&store, "r-a", "host-a").await;
    let (a, _) = assignment_with(&store, &[JobType::Implement]).await;
    let c = store.claim_next(NS, "r-a", 60_000, &policy()).await.unwrap().unwrap();
    store.set_workspace(NS, &a, &workspace(&a, "host-a")).await.unwrap();
    let result = baton_core::store::AttemptResult { git_head_after: Some("c9".into()), ..success("done") };
    store.finish_attempt(&c.job.id, c.token, result, &policy()).await.unwrap();
    store.stop_runner("r-a").await.unwrap();
    let block = AssignmentUpdate {
        status: Some(AssignmentStatus::Blocked),
        reason: Some("waiting".into()),
        ..Default::default()
    };
    store.update_assignment(NS, &a, &block, &defaults(), &person()).await.unwrap();
    wait_until_past(baton_core::time::now_ms() + 1).await;

    // host-a has been gone longer than host_gone_ms and commit c9 is on no remote: a resume
    // would be blocked again by the next claim, so it is refused, naming the guard.
    let resume = AssignmentUpdate { status: Some(AssignmentStatus::Active), ..Default::default() };
    let gone = JobDefaults { host_gone_ms: 0, ..defaults() };
    let before = store.assignment(NS, &a).await.unwrap();
    let err = store.update_assignment(NS, &a, &resume, &gone, &person()).await.unwrap_err();
    assert!(matches!(err, baton_core::Error::HostGoneRefusedResume { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("cannot resume") && text.contains("host host-a") && text.contains("host_gone_ms"), "{text}");
    assert_eq!(store.assignment(NS, &a).await.unwrap(), before, "nothing changed");

    // Within host_gone_ms the host may still come back: the resume goes ahead.
    let d = store.update_assignment(NS, &a, &resume, &defaults(), &person()).await.unwrap();
    assert_eq!(d.assignment.status, AssignmentStatus::Active);
}
