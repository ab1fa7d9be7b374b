//! `baton clean`: removes finished assignments' worktrees. A branch is deleted only when every
//! commit on it is also on another branch, a remote branch or a tag; unmerged commits and
//! uncommitted changes are kept unless `--force`. baton never cleans anything by itself.

use crate::cli::CleanArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::warn;
use baton_core::store::AssignmentFilter;
use baton_core::{Assignment, Error};
use baton_runner::git;
use serde::Serialize;
use std::path::Path;

/// What happened to one assignment's worktree and branch.
#[derive(Debug, Serialize)]
struct Cleaned {
    assignment: String,
    worktree: Option<String>,
    branch: Option<String>,
    /// `removed`, `branch kept (unmerged)`, or why nothing was done.
    outcome: String,
    done: bool,
}

pub async fn run(ctx: &mut Context, args: CleanArgs) -> CliResult {
    let store = ctx.store().await?;
    let ns = ctx.ns().to_string();
    let targets: Vec<Assignment> = match &args.assignment {
        Some(id) => {
            let a = store.assignment(&ns, id).await?.assignment;
            if !a.status.is_final() {
                return Err(Error::invalid(format!(
                    "assignment {id} is {}; only complete or cancelled assignments are cleaned \
                     (cancel it first: baton update-assignment {id} --status cancelled)",
                    a.status
                ))
                .into());
            }
            vec![a]
        }
        None => {
            let all = store.assignments(&ns, &AssignmentFilter::default()).await?;
            all.into_iter().filter(|a| a.status.is_final() && (a.worktree.is_some() || a.branch.is_some())).collect()
        }
    };
    let root = ctx.config.repo_root.clone();
    let mut report = Vec::new();
    for a in &targets {
        let cleaned = clean_one(&root, a, args.force).await;
        if cleaned.done {
            let branch_kept = cleaned.branch.is_some() && cleaned.outcome != "removed";
            store.clear_workspace(&ns, &a.id, branch_kept).await?;
        }
        report.push(cleaned);
    }
    let refused = report.iter().filter(|c| !c.done).count();
    if ctx.out.json {
        ctx.out.json(&report)?;
    } else {
        let mut text = String::new();
        for c in &report {
            text.push_str(&format!("{}  {}\n", c.assignment, c.outcome));
        }
        if report.is_empty() {
            text.push_str("nothing to clean: no finished assignment has a worktree\n");
        }
        ctx.out.text(&text)?;
    }
    if refused > 0 {
        warn(&format!("{refused} assignment(s) kept unmerged or uncommitted work; pass --force to remove it anyway"));
        return Err(Error::invalid(format!("{refused} assignment(s) not cleaned; see above")).into());
    }
    Ok(())
}

async fn clean_one(root: &Path, a: &Assignment, force: bool) -> Cleaned {
    let mut c = Cleaned {
        assignment: a.id.clone(),
        worktree: a.worktree.clone(),
        branch: a.branch.clone(),
        outcome: String::new(),
        done: false,
    };
    let tree = a.worktree.as_deref().map(Path::new).filter(|t| t.exists());
    if let Some(tree) = tree {
        match git::is_dirty(tree).await {
            Ok(true) if !force => {
                c.outcome = format!("kept: {} has uncommitted changes", tree.display());
                return c;
            }
            Err(e) => {
                c.outcome = format!("kept: {e}");
                return c;
            }
            _ => {}
        }
    }
    let unmerged = match &a.branch {
        Some(branch) if git::branch_exists(root, branch).await => match git::unmerged_commits(root, branch).await {
            Ok(n) => n,
            Err(e) => {
                c.outcome = format!("kept: {e}");
                return c;
            }
        },
        _ => 0,
    };
    if unmerged > 0 && !force {
        c.outcome = format!(
            "kept: branch {} has {unmerged} commit(s) not merged anywhere (merge it, or --force)",
            a.branch.as_deref().unwrap_or_default()
        );
        return c;
    }
    if let Some(tree) = tree {
        let path = tree.display().to_string();
        let mut args = vec!["worktree", "remove"];
        if force {
            args.push("--force");
        }
        args.push(&path);
        if let Err(e) = git::git(root, &args).await {
            c.outcome = format!("kept: {e}");
            return c;
        }
    }
    let _ = git::git(root, &["worktree", "prune"]).await;
    c.outcome = "removed".to_string();
    if let Some(branch) = &a.branch {
        if git::branch_exists(root, branch).await {
            // Checked above: its commits are on another ref (or --force), so -D is safe here even
            // when the branch is not merged into the current HEAD.
            if let Err(e) = git::git(root, &["branch", "-D", branch]).await {
                c.outcome = format!("worktree removed; branch kept: {e}");
            }
        }
    }
    c.done = true;
    c
}
