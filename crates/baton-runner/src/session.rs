//! Which agent session an attempt runs in: a new one (with an id baton chose, where the CLI lets
//! it), or the next turn (or a fork) of an earlier job's session.
//!
//! A continuation runs only where it can really work: the same harness, the same host (sessions
//! live in the CLI's files on the machine that ran them), a recorded session, and a harness whose
//! command line baton can extend. Anything else — and a CLI that says it does not know the
//! session — runs the job as a fresh session instead, within the same attempt, with the full
//! prompt plus the source job's result as a handoff, and records why.

use baton_core::{Config, Job, SessionMode, Store};
use baton_harness::{Format, Session};

/// What an attempt's session is.
#[derive(Debug, Clone)]
pub enum Plan {
    /// A new session. `source`: the job this one meant to carry on (its result becomes the
    /// handoff); `fallback`: why it runs fresh instead (`None` when it was fresh all along).
    Fresh { id: Option<String>, source: Option<Box<Job>>, fallback: Option<String> },
    /// Carry on `source`'s session; `new_id` names a fork where the CLI lets baton choose it.
    Resume { source: Box<Job>, fork: bool, new_id: Option<String>, earlier_tokens: (i64, i64) },
}

impl Plan {
    /// The command line's session.
    pub fn session(&self) -> Session<'_> {
        match self {
            Plan::Fresh { id, .. } => Session::New { id: id.as_deref() },
            Plan::Resume { source, fork: false, .. } => {
                Session::Resume { id: source.session_id.as_deref().unwrap_or("") }
            }
            Plan::Resume { source, fork: true, new_id, .. } => {
                Session::Fork { id: source.session_id.as_deref().unwrap_or(""), new_id: new_id.as_deref() }
            }
        }
    }

    /// The session mode recorded for the attempt.
    pub fn mode(&self) -> SessionMode {
        match self {
            Plan::Fresh { .. } => SessionMode::Fresh,
            Plan::Resume { fork: false, .. } => SessionMode::Continued,
            Plan::Resume { fork: true, .. } => SessionMode::Forked,
        }
    }
}

/// The plan for `job`'s next attempt on `host`. `forced`: a reason to run fresh no matter what
/// (the CLI just said it does not know the session).
pub async fn plan(
    store: &dyn Store,
    config: &Config,
    ns: &str,
    job: &Job,
    host: &str,
    forced: Option<String>,
) -> baton_core::Result<Plan> {
    let format = config.harnesses.get(&job.harness).map(|h| h.format);
    let fresh_id = matches!(format, Some(Format::Claude | Format::Gemini)).then(new_session_id);
    let Some(source_id) = &job.session_source_job_id else {
        return Ok(Plan::Fresh { id: fresh_id, source: None, fallback: None });
    };
    let source = match store.job(ns, source_id).await {
        Ok(source) => source,
        Err(baton_core::Error::JobNotFound { .. }) => {
            let fallback = Some(format!("the source job {source_id} is gone"));
            return Ok(Plan::Fresh { id: fresh_id, source: None, fallback });
        }
        Err(e) => return Err(e),
    };
    let fresh = |fallback: String| Plan::Fresh {
        id: fresh_id.clone(),
        source: Some(Box::new(source.clone())),
        fallback: Some(fallback),
    };
    if job.session_mode == SessionMode::Fresh {
        // An earlier attempt already fell back: keep its reason, hand over again.
        return Ok(Plan::Fresh { id: fresh_id.clone(), source: Some(Box::new(source)), fallback: None });
    }
    if let Some(reason) = forced {
        return Ok(fresh(reason));
    }
    if let Some(reason) = why_not(config, job, &source, host) {
        return Ok(fresh(reason));
    }
    let fork = job.session_mode == SessionMode::Forked;
    let new_id = (fork && format == Some(Format::Claude)).then(new_session_id);
    let earlier_tokens = if format == Some(Format::Codex) { thread_tokens(store, ns, &source).await } else { (0, 0) };
    Ok(Plan::Resume { source: Box::new(source), fork, new_id, earlier_tokens })
}

/// Why `job` cannot carry on `source`'s session on `host`, if it cannot.
fn why_not(config: &Config, job: &Job, source: &Job, host: &str) -> Option<String> {
    if source.harness != job.harness {
        return Some(format!("the source job {} ran on harness {}, not {}", source.id, source.harness, job.harness));
    }
    let harness = config.harnesses.get(&job.harness)?;
    if harness.format == Format::Text {
        return Some(format!("harness {} runs a plain command, which has no session", job.harness));
    }
    if harness.format == Format::Codex && harness.command.is_some() {
        return Some(format!("harness {} has its own `command`, so baton cannot add `exec resume`", job.harness));
    }
    if source.session_id.is_none() {
        return Some(format!("the source job {} recorded no session", source.id));
    }
    match &source.session_host {
        Some(there) if there != host => {
            Some(format!("the session of job {} lives on host {there}; this runner is on {host}", source.id))
        }
        _ => None,
    }
}

/// Tokens the thread of `source` had already reported, over the jobs that carried it on: codex
/// reports usage cumulatively over a thread, so a resumed job's own share is the difference.
async fn thread_tokens(store: &dyn Store, ns: &str, source: &Job) -> (i64, i64) {
    let mut total = (source.tokens_in.unwrap_or(0), source.tokens_out.unwrap_or(0));
    let mut next = source.session_source_job_id.clone().filter(|_| source.session_mode != SessionMode::Fresh);
    // A chain of continuations is short; the bound only guards against a cycle.
    for _ in 0..64 {
        let Some(id) = next else { break };
        let Ok(job) = store.job(ns, &id).await else { break };
        total.0 += job.tokens_in.unwrap_or(0);
        total.1 += job.tokens_out.unwrap_or(0);
        next = job.session_source_job_id.clone().filter(|_| job.session_mode != SessionMode::Fresh);
    }
    total
}

/// Whether a failed attempt's error says the CLI does not know the session it was asked to
/// resume (claude 2.1.197, codex 0.171 and gemini 0.61 wordings).
pub fn unknown_session(error: &str) -> bool {
    ["No conversation found", "no rollout found", "Invalid session identifier", "Error resuming session"]
        .iter()
        .any(|marker| error.contains(marker))
}

/// A random (version 4) UUID, the form claude's and gemini's `--session-id` require.
pub fn new_session_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_v4_uuids() {
        let id = new_session_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, new_session_id());
    }

    #[test]
    fn the_clis_unknown_session_words_are_recognised() {
        assert!(unknown_session("No conversation found with session ID: 0000"));
        assert!(unknown_session("Error: thread/resume: thread/resume failed: no rollout found for thread id 0"));
        assert!(unknown_session("Error resuming session: Invalid session identifier \"4\"."));
        assert!(!unknown_session("rate limit"));
    }
}
