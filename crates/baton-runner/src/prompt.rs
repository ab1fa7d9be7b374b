//! The data a prompt template sees: the assignment, the chain so far, the job under review, and
//! the notes people left when they resumed the assignment.

use baton_core::{AssignmentDetail, Job};
use serde_json::{json, Value};
use std::path::Path;

/// How much of a job's result or error the chain summary shows.
const SUMMARY_CHARS: usize = 200;

/// Builds the template context for `job` of `detail`, which runs in `workdir`.
pub fn context(repo_root: &Path, workdir: &Path, detail: &AssignmentDetail, job: &Job) -> Value {
    let chain: Vec<Value> = detail
        .jobs
        .iter()
        .map(|j| {
            json!({
                "position": j.position,
                "id": j.id,
                "type": j.job_type.as_str(),
                "harness": j.harness,
                "status": j.status.as_str(),
                "summary": summary(j),
            })
        })
        .collect();
    let reviewed = job.for_job_id.as_ref().and_then(|id| detail.jobs.iter().find(|j| &j.id == id)).map(|j| {
        json!({
            "id": j.id,
            "type": j.job_type.as_str(),
            "status": j.status.as_str(),
            "context": j.context,
            "result": j.result,
            "error": j.error,
            "error_kind": j.error_kind.map(|k| k.as_str()),
            "git_head_before": j.git_head_before,
            "git_head_after": j.git_head_after,
            "diff_stat": j.diff_stat,
        })
    });
    let notes: Vec<Value> = detail
        .history
        .iter()
        .filter(|h| h.action.ends_with("→ active"))
        .filter_map(|h| {
            h.reason
                .as_ref()
                .map(|text| json!({"at": baton_core::time::rfc3339(h.at), "actor": h.actor.to_string(), "text": text}))
        })
        .collect();
    let a = &detail.assignment;
    json!({
        "repo_root": repo_root.display().to_string(),
        "workdir": workdir.display().to_string(),
        "branch": a.branch,
        "namespace": a.namespace,
        "assignment": {"id": a.id, "north_star": a.north_star, "status": a.status.as_str()},
        "job": {
            "id": job.id,
            "type": job.job_type.as_str(),
            "harness": job.harness,
            "context": job.context,
            "attempt": job.attempts,
        },
        "chain": chain,
        "reviewed": reviewed,
        "notes": notes,
    })
}

/// The template a job's prompt comes from: a continuation of an earlier session gets the short
/// `continue.md` (the session already holds the briefing, the plan and the assignment's
/// context), every other job its type's own template.
pub fn template_name(job: &Job, continuing: bool) -> String {
    if continuing {
        "continue.md".to_string()
    } else {
        format!("{}.md", job.job_type)
    }
}

/// Adds what a continuation's template needs to `context`: the source job and the steps of the
/// chain that ran after it (e.g. the review asking for changes).
pub fn add_continuation(context: &mut Value, detail: &AssignmentDetail, job: &Job, source: &Job) {
    let since: Vec<Value> = detail
        .jobs
        .iter()
        .filter(|j| j.position > source.position && j.id != job.id && j.status.is_final())
        .map(|j| {
            json!({
                "id": j.id,
                "type": j.job_type.as_str(),
                "status": j.status.as_str(),
                "result": j.result,
                "error": j.error,
            })
        })
        .collect();
    context["session"] = json!({"source_job_id": source.id, "since": since});
}

/// The handoff a continuation that runs as a fresh session gets after its full prompt: what the
/// job it meant to continue reported.
pub fn handoff(source: &Job, reason: Option<&str>) -> String {
    let mut text = format!(
        "\n## Handoff from job {} ({} on {})\n\nThis job was meant to continue that job's agent session",
        source.id, source.job_type, source.harness
    );
    match reason {
        Some(reason) => text.push_str(&format!(", which is not possible here ({reason})")),
        None => text.push_str(", which was not possible"),
    }
    text.push_str("; here is what it reported instead.\n\n");
    text.push_str(source.result.as_deref().or(source.error.as_deref()).unwrap_or("(no result recorded)"));
    text.push('\n');
    text
}

/// The first line of a job's result (or its error), shortened.
fn summary(job: &Job) -> String {
    let text = match (&job.error, &job.result) {
        (Some(error), _) => format!("error: {error}"),
        (None, Some(result)) => result.clone(),
        (None, None) => return String::new(),
    };
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if line.chars().count() > SUMMARY_CHARS {
        let cut: String = line.chars().take(SUMMARY_CHARS).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}
