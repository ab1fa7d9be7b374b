//! The transcript page of the live view (`l`): one job's transcript as `baton logs` renders it,
//! read once in full and then only the new events each time the store reports some, with the
//! newest lines at the bottom of the screen.

use super::paint::{wrap, Line, Page, Style, BOLD, DIM, GREEN, RED};
use crate::output::format::money;
use baton_core::time::{human_duration, Millis};
use baton_core::{Job, JobStatus, Result, Store};

/// Events read per query.
const PAGE: u32 = 500;
/// Rendered lines kept; older ones scroll away (`baton logs` shows them all).
const KEPT: usize = 2_000;

/// A job being followed.
pub(crate) struct Follow {
    pub job: Job,
    lines: Vec<(String, Style)>,
    last_seq: i64,
    last_attempt: u32,
}

impl Follow {
    pub async fn open(store: &dyn Store, ns: &str, job_id: &str) -> Result<Follow> {
        let job = store.job(ns, job_id).await?;
        let mut follow = Follow { job, lines: Vec::new(), last_seq: 0, last_attempt: 0 };
        follow.read_events(store, ns).await?;
        Ok(follow)
    }

    /// Reads the job again and any events written since the last read.
    pub async fn refresh(&mut self, store: &dyn Store, ns: &str) -> Result<()> {
        self.job = store.job(ns, &self.job.id).await?;
        self.read_events(store, ns).await
    }

    async fn read_events(&mut self, store: &dyn Store, ns: &str) -> Result<()> {
        loop {
            let events = store.job_events(ns, &self.job.id, self.last_seq, PAGE).await?;
            let done = events.len() < PAGE as usize;
            for e in events {
                self.last_seq = e.seq;
                if e.attempt != self.last_attempt {
                    if self.last_attempt != 0 {
                        self.lines.push((format!("── attempt {} ──", e.attempt), DIM));
                    }
                    self.last_attempt = e.attempt;
                }
                if let Some((text, style)) = render(&e.event) {
                    self.lines.extend(text.lines().map(|l| (l.to_string(), style)));
                }
            }
            if self.lines.len() > KEPT {
                self.lines.drain(..self.lines.len() - KEPT);
            }
            if done {
                return Ok(());
            }
        }
    }

    pub fn page(&self, now: Millis, width: usize, height: usize) -> Page {
        let job = &self.job;
        let status_style = match job.status {
            JobStatus::Running => GREEN,
            JobStatus::Failed => RED,
            _ => None,
        };
        let mut rows: Vec<Line> = vec![
            vec![
                ("baton watch".to_string(), BOLD),
                (format!("  transcript of job {} ({} on {})  ", job.id, job.job_type.as_str(), job.harness), None),
                (job.status.as_str().to_string(), status_style),
            ],
            vec![(facts(job, now), DIM)],
            Vec::new(),
        ];
        let room = height.saturating_sub(rows.len() + 1);
        let mut shown: Vec<Line> = Vec::new();
        // From the newest line back, wrapped, until the screen is full.
        for (text, style) in self.lines.iter().rev() {
            let wrapped = wrap(text, width, usize::MAX);
            for piece in wrapped.into_iter().rev() {
                shown.push(vec![(piece, *style)]);
            }
            if shown.len() >= room {
                break;
            }
        }
        shown.truncate(room);
        shown.reverse();
        if shown.is_empty() {
            let why = match job.status {
                JobStatus::Pending => "no transcript yet: the job has not started",
                _ => "no transcript lines",
            };
            shown.push(vec![(why.to_string(), DIM)]);
        }
        rows.extend(shown);
        let state =
            if job.status.is_final() { format!("job {}", job.status.as_str()) } else { "following live".into() };
        Page { rows, footer: vec![(format!("{state} · Esc back · q quit"), DIM)] }
    }
}

fn facts(job: &Job, now: Millis) -> String {
    let mut facts =
        vec![format!("assignment {}", job.assignment_id), format!("attempt {}/{}", job.attempts, job.max_attempts)];
    match (job.status, job.started_at, job.duration_ms) {
        (JobStatus::Running, Some(t), _) => facts.push(format!("running {}", human_duration(now - t))),
        (_, _, Some(ms)) => facts.push(format!("took {}", human_duration(ms))),
        _ => {}
    }
    if let Some(c) = job.cost_usd {
        facts.push(money(c));
    }
    if let Some(runner) = job.runner.as_ref().or_else(|| job.attempt_history.last().and_then(|a| a.runner.as_ref())) {
        facts.push(format!("runner {runner}"));
    }
    facts.join(" · ")
}

/// One event as `baton logs` shows it: errors in red, tool traffic dimmed, no control characters
/// (agent output is untrusted and must not drive the terminal).
fn render(event: &serde_json::Value) -> Option<(String, Style)> {
    let parsed: baton_harness::Event = serde_json::from_value(event.clone()).ok()?;
    let line: String = baton_harness::render(&parsed)?
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            '\n' => '\n',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect();
    let style = match parsed {
        baton_harness::Event::Error { .. } | baton_harness::Event::Result { success: false, .. } => RED,
        baton_harness::Event::ToolUse { .. } | baton_harness::Event::ToolResult { .. } => DIM,
        _ => None,
    };
    Some((line, style))
}
