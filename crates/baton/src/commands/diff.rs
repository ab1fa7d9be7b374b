//! `baton diff ASSIGNMENT_ID [--job JOB_ID] [--stat]`: what an assignment changed against its
//! base commit (`git diff <base_commit> <branch>`), or what one job changed (`git diff <its start>
//! <its end>`), for the person who reviews it and for PM agents. Printed whole: the dashboard
//! and the API cut long diffs and name this command for the rest.

use crate::cli::DiffArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::style::{Style, BLUE, CYAN, GREEN, RED};
use crate::output::warn;
use baton_core::Error;
use baton_runner::assignment_git::{self, DiffError, Limits};
use std::io::Write;

pub async fn run(ctx: &mut Context, args: DiffArgs) -> CliResult {
    let store = ctx.store().await?;
    let ns = ctx.ns().to_string();
    let a = store.assignment(&ns, &args.assignment_id).await?.assignment;
    let job = match &args.job {
        Some(jid) => {
            let job = store.job(&ns, jid).await?;
            if job.assignment_id != a.id {
                return Err(Error::invalid(format!(
                    "job {jid} belongs to assignment {}, not {}: baton diff {} --job {jid}",
                    job.assignment_id, a.id, job.assignment_id
                ))
                .into());
            }
            Some(job)
        }
        None => None,
    };
    let root = &ctx.config.repo_root;
    let here = baton_runner::runner::host(&ctx.config);
    let range = match &job {
        Some(job) => assignment_git::job_range(&a, job, root, &here).await,
        None => assignment_git::assignment_range(&a, root, &here).await,
    }
    .map_err(refused)?;
    let diff = range.diff(&a, job.as_ref(), Limits::ALL, args.stat).await.map_err(|e| refused(e.into()))?;
    if job.is_none() {
        // The branch is the assignment's work; what is only in the worktree is not in this diff.
        let files = assignment_git::leftovers(&a, root, &here).await.unwrap_or_default();
        let tree = a.worktree.as_deref().unwrap_or_default();
        if let Some(warning) = assignment_git::uncommitted_warning(&files, tree, " and not in this diff") {
            warn(&warning);
        }
    }
    if ctx.out.json {
        return ctx.out.json(&diff);
    }
    let text = if args.stat { diff.diff_stat.clone() } else { diff.diff.clone().unwrap_or_default() };
    if text.trim().is_empty() {
        // On stderr: stdout stays an empty diff for `| git apply`.
        let what = if job.is_some() { "the job changed nothing" } else { "the branch is at its base commit" };
        let _ = writeln!(
            std::io::stderr().lock(),
            "no changes between {} and {}: {what}",
            short(&diff.from),
            short(&diff.to)
        );
        return Ok(());
    }
    let mut text = if args.stat { text } else { paint(&text, &ctx.out.style) };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    ctx.out.text(&text)
}

/// A diff that does not exist (yet, or here), or that git cannot read: one line, exit 1.
fn refused(e: DiffError) -> crate::error::CliError {
    Error::invalid(e.to_string()).into()
}

fn short(commit: &str) -> String {
    commit.chars().take(12).collect()
}

/// Colours a unified diff as git does, when colour is on.
fn paint(text: &str, style: &Style) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let code = if line.starts_with("diff --git") || line.starts_with("+++ ") || line.starts_with("--- ") {
            Some(BLUE)
        } else if line.starts_with("@@") {
            Some(CYAN)
        } else if line.starts_with('+') {
            Some(GREEN)
        } else if line.starts_with('-') {
            Some(RED)
        } else {
            None
        };
        match code {
            Some(code) => {
                let body = line.strip_suffix('\n').unwrap_or(line);
                out.push_str(&style.paint(Some(code), body));
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}
