//! `baton logs ID`: a job's transcript for a person (assistant text, tool calls and results
//! shortened, errors), or with `--json` one stored event object per line. `--follow` keeps
//! printing as the agent streams and returns when the job has ended.

use crate::cli::LogsArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::style::{Style, RED};
use baton_core::JobEvent;
use std::time::Duration;

/// Events fetched per query.
const PAGE: u32 = 1000;
/// A follower re-checks this often even without a wake-up (a missed one must not hang it).
const FALLBACK_POLL: Duration = Duration::from_secs(2);

pub async fn run(ctx: &mut Context, args: LogsArgs) -> CliResult {
    let store = ctx.store().await?;
    let ns = ctx.ns().to_string();
    // Subscribe before the first read so nothing written in between is missed.
    let feed = if args.follow { Some(store.subscribe()?) } else { None };
    let mut after = 0;
    let mut last_attempt = 0;
    loop {
        let job = store.job(&ns, &args.id).await?;
        let job_done = job.status.is_final();
        loop {
            let events = store.job_events(&ns, &args.id, after, PAGE).await?;
            let Some(last) = events.last() else { break };
            after = last.seq;
            print_events(ctx, &events, &mut last_attempt)?;
            if events.len() < PAGE as usize {
                break;
            }
        }
        let Some(feed) = &feed else { return incomplete_note(ctx, &job) };
        if job_done {
            return incomplete_note(ctx, &job);
        }
        let _ = tokio::time::timeout(FALLBACK_POLL, feed.changed()).await;
    }
}

/// The transcript shown is not all the agent printed: say so after it, where a person looks.
fn incomplete_note(ctx: &Context, job: &baton_core::Job) -> CliResult {
    match &job.transcript_error {
        Some(why) if !ctx.out.json => {
            let line = ctx.out.style.paint(Some(RED), &format!("── transcript incomplete: {why} ──"));
            ctx.out.write(format!("{line}\n").as_bytes())
        }
        _ => Ok(()),
    }
}

fn print_events(ctx: &Context, events: &[JobEvent], last_attempt: &mut u32) -> CliResult {
    let mut text = String::new();
    for e in events {
        if ctx.out.json {
            text.push_str(&serde_json::to_string(e).unwrap_or_default());
            text.push('\n');
            continue;
        }
        if e.attempt != *last_attempt {
            *last_attempt = e.attempt;
            text.push_str(&ctx.out.style.dim(&format!("── attempt {} ──", e.attempt)));
            text.push('\n');
        }
        if let Some(line) = render(&e.event, &ctx.out.style) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    ctx.out.write(text.as_bytes())
}

/// One event for a person; errors in red, tool traffic dimmed.
fn render(event: &serde_json::Value, style: &Style) -> Option<String> {
    let parsed: baton_harness::Event = serde_json::from_value(event.clone()).ok()?;
    // Agent output is untrusted: no escape sequences reach the person's terminal.
    let line: String = baton_harness::render(&parsed)?
        .chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { '\u{fffd}' } else { c })
        .collect();
    Some(match parsed {
        baton_harness::Event::Error { .. } => style.paint(Some(RED), &line),
        baton_harness::Event::Result { success: false, .. } => style.paint(Some(RED), &line),
        baton_harness::Event::ToolUse { .. } | baton_harness::Event::ToolResult { .. } => style.dim(&line),
        _ => line,
    })
}
