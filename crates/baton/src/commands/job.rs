//! `baton job ID`: one job in full — what it was asked (context), how it ran (attempts, runner,
//! timing, tokens, cost) and what came out (result or error).

use crate::cli::JobArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::format::{self, duration, indented, one_line, opt_money, opt_time, time};
use crate::output::style::{job_status_code, Style, RED};
use crate::output::table::{Cell, Table};
use crate::output::views;
use baton_core::time::now_ms;
use baton_core::Job;

pub async fn run(ctx: &mut Context, args: JobArgs) -> CliResult {
    let store = ctx.store().await?;
    if args.prompt {
        return print_prompt(ctx, &args.id, args.attempt).await;
    }
    let job = store.job(ctx.ns(), &args.id).await?;
    if ctx.out.json {
        return ctx.out.json(&job);
    }
    ctx.out.text(&render(&job, &ctx.out.style, ctx.out.width))
}

/// `--prompt`: the exact text an attempt's agent was given, as stored.
async fn print_prompt(ctx: &mut Context, job_id: &str, attempt: Option<u32>) -> CliResult {
    let store = ctx.store().await?;
    let stored = store.attempt_prompt(ctx.ns(), job_id, attempt).await?;
    if ctx.out.json {
        return ctx.out.json(&stored);
    }
    match &stored.prompt {
        Some(prompt) => ctx.out.text(prompt),
        None => Err(baton_core::Error::invalid(match (&stored.prompt_bytes, &stored.prompt_sha256) {
            (Some(bytes), Some(sha)) => format!(
                "the prompt of job {job_id} attempt {} is no longer stored ({bytes} bytes, sha256 {sha})",
                stored.attempt
            ),
            _ => format!("job {job_id} attempt {} has no recorded prompt", stored.attempt),
        })
        .into()),
    }
}

/// The full human view of one job.
pub fn render(job: &Job, style: &Style, width: usize) -> String {
    let mut text =
        format!("job {}  {}\n", style.bold(&job.id), style.paint(job_status_code(job.status), job.status.as_str()));
    let mut field = |name: &str, value: String| {
        text.push_str(&format!("  {name:<11} {value}\n"));
    };
    field("assignment", format!("{} (position {})", job.assignment_id, job.position));
    field("type", job.job_type.to_string());
    field("harness", job.harness.clone());
    let lost = if job.lost_attempts > 0 { format!(", {} lost", job.lost_attempts) } else { String::new() };
    field("attempts", format!("{} of {}{lost}", job.attempts, job.max_attempts));
    if let Some(for_job) = &job.for_job_id {
        field("reviews", for_job.clone());
    }
    field("created", time(job.created_at));
    if let Some(t) = job.not_before {
        field("not before", format!("{} ({})", time(t), format::relative(t, now_ms())));
    }
    if job.started_at.is_some() {
        field("started", opt_time(job.started_at));
    }
    if job.finished_at.is_some() {
        field("finished", opt_time(job.finished_at));
    }
    if job.duration_ms.is_some() {
        field("duration", duration(job.duration_ms));
    }
    if let Some(runner) = &job.runner {
        let lease = job.lease_expires_at.map(|t| format!(" (lease until {})", time(t))).unwrap_or_default();
        // Cancelled, but its agent is still being stopped: the assignment waits for it.
        let stopping = if job.stopping() { ", stopping the agent" } else { "" };
        field("runner", format!("{runner}{lease}{stopping}"));
    }
    if let Some(success) = job.success {
        field("success", if success { "yes" } else { "no" }.to_string());
    }
    if let Some(code) = job.exit_code {
        field("exit code", code.to_string());
    }
    if let Some(session) = &job.session_id {
        field("session", session.clone());
    }
    if let Some(source) = &job.session_source_job_id {
        let how = match job.session_mode {
            baton_core::SessionMode::Continued => format!("continues {source}"),
            baton_core::SessionMode::Forked => format!("forks {source}"),
            baton_core::SessionMode::Fresh => format!("fresh instead of carrying on {source}"),
        };
        field("session from", how);
    }
    if let Some(reason) = &job.session_fallback_reason {
        field("fell back", reason.clone());
    }
    if job.model.is_some() || job.effort.is_some() {
        let model = job.model.as_deref().unwrap_or("(harness default)");
        let effort = job.effort.as_deref().map(|e| format!(", effort {e}")).unwrap_or_default();
        field("model", format!("{model}{effort}"));
    }
    if job.tokens_in.is_some() || job.tokens_out.is_some() {
        field("tokens", tokens(job.tokens_in, job.tokens_out, job.cache_read_tokens, job.cache_write_tokens));
    }
    if job.cost_usd.is_some() || job.cost_source.is_some() {
        field("cost", views::job_cost(job));
    }
    if job.transcript_events > 0 || job.transcript_error.is_some() {
        let cut = if job.transcript_truncated { " (truncated)" } else { "" };
        let incomplete = job.transcript_error.as_deref().map(|e| format!(" — incomplete: {e}")).unwrap_or_default();
        field("transcript", format!("{} events{cut}{incomplete}", job.transcript_events));
    }
    if let Some(before) = &job.git_head_before {
        let short = |h: &str| h.chars().take(12).collect::<String>();
        let after = job.git_head_after.as_deref().map(short).unwrap_or_else(|| "-".into());
        field("git", format!("{} → {after}", short(before)));
    }

    if let Some(error) = job.error.as_deref().filter(|e| !e.trim().is_empty()) {
        let kind = job.error_kind.map(|k| format!(" ({k})")).unwrap_or_default();
        text.push_str(&format!("\n{}\n", style.paint(Some(RED), &format!("error{kind}"))));
        text.push_str(&indented(error, "  ", width));
    }
    block(&mut text, style, width, "context", &job.context);
    if let Some(before) = &job.git_head_before {
        let changes = job.diff_stat.as_deref().unwrap_or("(no changes)");
        block(&mut text, style, width, &format!("changes (git diff --stat {before})"), changes);
    }
    if let Some(result) = &job.result {
        block(&mut text, style, width, "result", result);
    }

    if !job.attempt_history.is_empty() {
        text.push('\n');
        text.push_str(&style.bold("attempts"));
        text.push('\n');
        let mut t = Table::new(&["N", "RUNNER", "STARTED", "FINISHED", "OUTCOME", "COST", "ERROR"]).indent(2).flex(6);
        for a in &job.attempt_history {
            let error = match (a.error_kind, a.error.as_deref()) {
                (Some(kind), Some(e)) => format!("[{kind}] {}", one_line(e)),
                (None, Some(e)) => one_line(e),
                (Some(kind), None) => format!("[{kind}]"),
                (None, None) => String::new(),
            };
            t.row(vec![
                a.n.to_string().into(),
                a.runner.clone().unwrap_or_default().into(),
                time(a.started_at).into(),
                opt_time(a.finished_at).into(),
                a.outcome.as_str().into(),
                attempt_cost(a).into(),
                Cell::painted(error, Some(RED)),
            ]);
        }
        text.push_str(&t.render(style, width));
    }
    text
}

fn block(text: &mut String, style: &Style, width: usize, title: &str, body: &str) {
    text.push('\n');
    text.push_str(&style.bold(title));
    text.push('\n');
    if body.trim().is_empty() {
        text.push_str(&style.dim("  (empty)"));
        text.push('\n');
    } else {
        text.push_str(&indented(body, "  ", width));
    }
}

/// `1200 in (800 cache read, 100 cache write), 300 out`.
fn tokens(tin: Option<i64>, tout: Option<i64>, read: Option<i64>, write: Option<i64>) -> String {
    let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    let cache: Vec<String> = [(read, "cache read"), (write, "cache write")]
        .into_iter()
        .filter_map(|(v, what)| v.map(|v| format!("{v} {what}")))
        .collect();
    let cache = if cache.is_empty() { String::new() } else { format!(" ({})", cache.join(", ")) };
    format!("{} in{cache}, {} out", n(tin), n(tout))
}

/// An attempt's own cost: `$0.02`, `$0.02 est.`, `unpriced` or empty.
fn attempt_cost(a: &baton_core::Attempt) -> String {
    match (a.cost_usd, a.cost_source) {
        (Some(c), Some(baton_core::CostSource::Estimated)) => format!("{} est.", opt_money(Some(c))),
        (Some(c), _) => opt_money(Some(c)),
        (None, Some(baton_core::CostSource::Unpriced)) => "unpriced".into(),
        (None, _) => String::new(),
    }
}
