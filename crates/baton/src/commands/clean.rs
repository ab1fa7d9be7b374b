//! `baton clean`: removes finished assignments' worktrees. A branch is deleted only when every
//! commit on it is also on another branch, a remote branch or a tag; unmerged commits and
//! uncommitted changes are kept unless `--force`. The rules live in
//! [`baton_runner::worktree_rules`]; this command picks the targets and reports.
//!
//! `--retention` is `baton gc`: it applies the policy a person set in `[retention]` (see
//! [`baton_runner::gc`]).

use crate::cli::CleanArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::warn;
use baton_core::store::AssignmentFilter;
use baton_core::{Assignment, Error};
use baton_runner::worktree_rules;

pub async fn run(ctx: &mut Context, args: CleanArgs) -> CliResult {
    if args.retention {
        return retention(ctx, args.dry_run).await;
    }
    let store = ctx.store().await?;
    let ns = ctx.ns().to_string();
    let targets: Vec<Assignment> = match &args.assignment {
        Some(id) => {
            let a = store.assignment(&ns, id).await?.assignment;
            worktree_rules::check_cleanable(&a)?;
            vec![a]
        }
        None => {
            let all = store.assignments(&ns, &AssignmentFilter::default()).await?;
            all.into_iter().filter(worktree_rules::wants_cleaning).collect()
        }
    };
    let root = ctx.config.repo_root.clone();
    let mut report = Vec::new();
    for a in &targets {
        let cleaned = worktree_rules::clean(&root, a, args.force).await;
        if cleaned.done {
            store.clear_workspace(&ns, &a.id, cleaned.branch_kept()).await?;
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

/// `--retention`: the same pass as `baton gc`.
async fn retention(ctx: &mut Context, dry_run: bool) -> CliResult {
    super::gc::run(ctx, dry_run).await
}
