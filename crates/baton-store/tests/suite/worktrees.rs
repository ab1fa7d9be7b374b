//! The count behind `baton queue`'s retention hint: finished assignments that keep a worktree.

use super::dependencies::set_status;
use super::*;
use baton_core::store::Workspace;

async fn with_worktree(store: &Shared, north_star: &str) -> String {
    let id = store.create_assignment(new_assignment(north_star), &person()).await.unwrap().assignment.id;
    let ws = Workspace {
        branch: format!("baton/{id}"),
        worktree: format!("/wt/{id}"),
        host: "h1".into(),
        base_commit: None,
    };
    store.set_workspace(NS, &id, &ws).await.unwrap();
    id
}

pub async fn finished_assignments_keeping_a_worktree_are_counted(store: Shared) {
    assert_eq!(store.finished_worktrees(NS).await.unwrap(), 0);
    let complete = with_worktree(&store, "complete").await;
    let cancelled = with_worktree(&store, "cancelled").await;
    with_worktree(&store, "still active").await;
    let no_tree = store.create_assignment(new_assignment("no worktree"), &person()).await.unwrap().assignment.id;
    set_status(&store, &complete, AssignmentStatus::Complete).await;
    set_status(&store, &cancelled, AssignmentStatus::Cancelled).await;
    set_status(&store, &no_tree, AssignmentStatus::Complete).await;
    assert_eq!(store.finished_worktrees(NS).await.unwrap(), 2, "only finished ones with a worktree");
    assert_eq!(store.finished_worktrees("repo-b").await.unwrap(), 0, "per namespace");
}
