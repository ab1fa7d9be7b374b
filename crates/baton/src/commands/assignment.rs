//! `baton assignment ID`: one assignment in full — its header (status and, when blocked, the
//! reason a person must act on), the assignments it waits for and that wait for it, what its branch holds against its base (commits ahead, the
//! diff stat, uncommitted work left in its worktree), its job chain in chain order, and its
//! history.

use crate::cli::AssignmentArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::{duration, one_line, time, wrap};
use crate::output::style::{assignment_status_code, Style, YELLOW_BOLD};
use crate::output::table::{Cell, Table};
use crate::output::views;
use baton_core::{AssignmentDetail, AssignmentLink, AssignmentStatus, CostSource};
use baton_runner::assignment_git::{self, Summary, WithSummary};

pub async fn run(ctx: &mut Context, args: AssignmentArgs) -> CliResult {
    let store = ctx.store().await?;
    let detail = store.assignment(ctx.ns(), &args.id).await?;
    let git =
        assignment_git::summary(&detail.assignment, &ctx.config.repo_root, &baton_runner::runner::host(&ctx.config))
            .await;
    if ctx.out.json {
        return ctx.out.json(&WithSummary { item: &detail, git: &git });
    }
    ctx.out.text(&render(&detail, &git, &ctx.out.style, ctx.out.width))
}

/// Per-file lines of the diff stat shown before "… N more files".
const STAT_FILES: usize = 20;

/// Indent plus label column of the header block.
const LABEL: usize = 14;

/// The full human view of one assignment.
pub fn render(detail: &AssignmentDetail, git: &Summary, style: &Style, width: usize) -> String {
    let a = &detail.assignment;
    let mut text = format!(
        "assignment {}  {}\n",
        style.bold(&a.id),
        style.paint(Some(assignment_status_code(a.status)), a.status.as_str())
    );
    // Free text is wrapped under its label, never cut: this is the one place to read it whole.
    let mut long_field = |name: &str, value: &str, code: Option<&str>| {
        let pieces = wrap(&one_line(value), width.saturating_sub(LABEL).max(20));
        for (i, piece) in pieces.iter().enumerate() {
            let label = if i == 0 { name } else { "" };
            text.push_str(&format!("  {label:<11} {}\n", style.paint(code, piece)));
        }
    };
    if a.status == AssignmentStatus::Blocked {
        long_field("reason", a.reason.as_deref().unwrap_or_default(), Some(YELLOW_BOLD));
    }
    long_field("north star", &a.north_star, None);
    let mut field = |name: &str, value: String| {
        text.push_str(&format!("  {name:<11} {value}\n"));
    };
    field("namespace", a.namespace.clone());
    // Dependencies: what it waits for (or waited for) and what waits for it.
    let links = |links: &[AssignmentLink]| {
        links.iter().map(|l| format!("{} ({})", l.id, l.status)).collect::<Vec<_>>().join(", ")
    };
    if !detail.parents.is_empty() {
        let waits = if a.status == AssignmentStatus::Deferred { "; it starts when all are complete" } else { "" };
        field("after", format!("{}{waits}", links(&detail.parents)));
    }
    if !detail.children.is_empty() {
        field("before", links(&detail.children));
    }
    field("cost", views::cost_of_budget(a));
    // Say when the cost includes estimates or leaves unpriced jobs out.
    let uncertain =
        detail.jobs.iter().any(|j| matches!(j.cost_source, Some(CostSource::Estimated | CostSource::Unpriced)));
    if let Some(spend) = views::chain_spend(&detail.jobs).filter(|_| uncertain) {
        field("spend", spend);
    }
    if let Some(tokens) = views::tokens_of_budget(a) {
        field("tokens", tokens);
    }
    field("jobs", format!("{} of {} allowed", a.job_count, a.max_jobs));
    if let Some(branch) = &a.branch {
        // Where the work is, for the person who reviews and merges it.
        let place = match (&a.worktree, &a.host) {
            (Some(tree), Some(host)) => format!("{branch} in {tree} (on {host})"),
            (Some(tree), None) => format!("{branch} in {tree}"),
            (None, _) => format!("{branch} (worktree removed)"),
        };
        field("branch", place);
    } else if let Some(base) = &a.base_ref {
        field("base", format!("{base} (its branch is created on its first job)"));
    }
    if let Some(commit) = &git.base_commit {
        let short: String = commit.chars().take(12).collect();
        let base = match &git.base_branch {
            Some(branch) => format!("{branch} at {short}"),
            None => short,
        };
        field("base", base);
    }
    if let Some(ahead) = git.commits_ahead {
        field("ahead", format!("{ahead} commit{} on the branch since its base", if ahead == 1 { "" } else { "s" }));
    }
    field("created", time(a.created_at));
    field("updated", time(a.updated_at));
    if let Some(warning) = git.dirty_warning(a.worktree.as_deref().unwrap_or_default()) {
        text.push_str(&format!("  {}\n", style.paint(Some(YELLOW_BOLD), &format!("warning: {warning}"))));
    }
    if let Some(stat) = git.diff_stat.as_deref() {
        text.push('\n');
        text.push_str(&changes(&a.id, stat, style));
    }

    text.push('\n');
    text.push_str(&style.bold(&format!("chain ({})", detail.jobs.len())));
    text.push('\n');
    if detail.jobs.is_empty() {
        text.push_str(&format!("  no jobs yet: baton insert-job {} --type plan --context \"…\"\n", a.id));
    } else {
        let mut t =
            Table::new(&["#", "JOB", "TYPE", "HARNESS", "STATUS", "TRIES", "DURATION", "RESULT"]).indent(2).flex(7);
        for job in &detail.jobs {
            t.row(vec![
                job.position.to_string().into(),
                job.id.as_str().into(),
                job.job_type.as_str().into(),
                job.harness.as_str().into(),
                views::job_status(job),
                views::attempts(job).into(),
                duration(job.duration_ms).into(),
                views::job_summary(job),
            ]);
        }
        text.push_str(&t.render(style, width));
    }

    text.push('\n');
    text.push_str(&style.bold("history"));
    text.push('\n');
    let mut t = Table::new(&["TIME", "ACTOR", "JOB", "ACTION", "REASON"]).indent(2).flex(3).flex(4);
    for h in &detail.history {
        t.row(vec![
            time(h.at).into(),
            h.actor.to_string().into(),
            h.job_id.clone().unwrap_or_default().into(),
            Cell::new(one_line(&h.action)),
            one_line(h.reason.as_deref().unwrap_or_default()).into(),
        ]);
    }
    text.push_str(&t.render(style, width));
    text
}

/// The whole change against the base: the diff stat (long ones shortened) and the command that
/// prints it all.
fn changes(id: &str, stat: &str, style: &Style) -> String {
    let mut text = style.bold("changes against its base");
    text.push('\n');
    if stat.trim().is_empty() {
        text.push_str("  none yet: the branch is at its base commit\n");
        return text;
    }
    let lines: Vec<&str> = stat.lines().collect();
    let (files, total) = lines.split_at(lines.len().saturating_sub(1));
    // git indents its stat by one column; the view indents by two.
    for line in files.iter().take(STAT_FILES) {
        text.push_str(&format!("  {}\n", line.strip_prefix(' ').unwrap_or(line)));
    }
    if files.len() > STAT_FILES {
        text.push_str(&format!(
            "   … {} more files (baton diff {id} --stat lists them all)\n",
            files.len() - STAT_FILES
        ));
    }
    for line in total {
        text.push_str(&format!("  {}\n", line.strip_prefix(' ').unwrap_or(line)));
    }
    text.push_str(&format!("  {}\n", style.dim(&format!("baton diff {id} shows the whole change"))));
    text
}
