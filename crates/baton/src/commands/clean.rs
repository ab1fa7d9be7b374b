//! `baton clean`: removes finished assignments' worktrees. A branch is deleted only when every
//! commit on it is also on another branch, a remote branch or a tag; unmerged commits and
//! uncommitted changes are kept unless `--force`. The rules live in
//! [`baton_runner::worktree_rules`]; this command picks the targets and reports.
//!
//! `--retention` applies the policy a person set in `[retention]` (nothing is removed without
//! one): worktrees of assignments finished longer ago than `worktrees_after`, never with
//! `--force` (a dirty or unmerged worktree is kept and reported), and the transcripts of jobs
//! finished longer ago than `transcripts_after`. Run it by hand or from a timer (cron, systemd).

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

/// What one `--retention` pass did (or, dry, would do).
#[derive(Debug, serde::Serialize)]
struct RetentionReport {
    dry_run: bool,
    /// Worktrees removed (or that would be, if clean and merged), and those kept with why.
    worktrees: Vec<worktree_rules::Cleaned>,
    /// Finished jobs whose transcript events and prompt texts were dropped (or would be).
    transcripts_dropped: u64,
}

async fn retention(ctx: &mut Context, dry_run: bool) -> CliResult {
    let policy = ctx.config.retention;
    if !policy.is_set() {
        return Err(Error::invalid(
            "no retention policy is set, so nothing is removed: add [retention] worktrees_after = \"14d\" and/or \
             transcripts_after = \"30d\" to .baton/config.toml",
        )
        .into());
    }
    let store = ctx.store().await?;
    let ns = ctx.ns().to_string();
    let now = baton_core::time::now_ms();
    let cutoff = |after_ms: u64| now.saturating_sub(i64::try_from(after_ms).unwrap_or(i64::MAX));
    let mut worktrees = Vec::new();
    if let Some(after) = policy.worktrees_after_ms {
        let all = store.assignments(&ns, &AssignmentFilter::default()).await?;
        let old = all.into_iter().filter(|a| worktree_rules::wants_cleaning(a) && a.updated_at < cutoff(after));
        let root = ctx.config.repo_root.clone();
        for a in old {
            if dry_run {
                worktrees.push(worktree_rules::Cleaned {
                    assignment: a.id.clone(),
                    worktree: a.worktree.clone(),
                    branch: a.branch.clone(),
                    outcome: "would be removed if clean and merged".into(),
                    done: false,
                });
                continue;
            }
            // Never forced: the rules re-check git at this moment and keep dirty or unmerged work.
            let cleaned = worktree_rules::clean(&root, &a, false).await;
            if cleaned.done {
                store.clear_workspace(&ns, &a.id, cleaned.branch_kept()).await?;
            }
            worktrees.push(cleaned);
        }
    }
    let transcripts_dropped = match policy.transcripts_after_ms {
        Some(after) => store.drop_transcripts(&ns, cutoff(after), dry_run).await?,
        None => 0,
    };
    let report = RetentionReport { dry_run, worktrees, transcripts_dropped };
    if ctx.out.json {
        ctx.out.json(&report)?;
        return Ok(());
    }
    let mut text = String::new();
    for c in &report.worktrees {
        let place = c.worktree.as_deref().unwrap_or("-");
        text.push_str(&format!("{}  {place}  {}\n", c.assignment, c.outcome));
    }
    let verb = if dry_run { "would drop" } else { "dropped" };
    if policy.transcripts_after_ms.is_some() {
        text.push_str(&format!("{verb} the transcripts of {} finished job(s)\n", report.transcripts_dropped));
    }
    if policy.worktrees_after_ms.is_some() && report.worktrees.is_empty() {
        text.push_str("no finished assignment's worktree is old enough to remove\n");
    }
    ctx.out.text(&text)?;
    Ok(())
}
