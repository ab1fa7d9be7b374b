//! The data a prompt template sees: the assignment (north star, the person's context, its branch
//! and base), the chain so far as one line per job, the latest plan in full, the job under
//! review with its exact diff, the PM's standing (jobs, spend, review rounds, what is queued),
//! and the notes people left when they resumed the assignment.

use baton_core::{report_summary, AssignmentDetail, Job, JobStatus, JobType};
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
                "summary": chain_line(j),
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
            "warnings": j.warnings.iter().map(|w| w.text.clone()).collect::<Vec<_>>(),
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
        "base_commit": a.base_commit,
        "base_branch": a.base_branch,
        "namespace": a.namespace,
        "assignment": {
            "id": a.id,
            "north_star": a.north_star,
            "status": a.status.as_str(),
            "context": a.context,
        },
        "job": {
            "id": job.id,
            "type": job.job_type.as_str(),
            "harness": job.harness,
            "context": job.context,
            "attempt": job.attempts,
        },
        "chain": chain,
        "plan": latest_plan(detail, job),
        "reviewed": reviewed,
        "standing": standing(detail, job),
        // The assignment's whole change (commits ahead, diff stat, uncommitted work): filled in
        // for PM jobs, which judge it, where the worktree is on this host.
        "assignment_git": null,
        "notes": notes,
        // Whether the agent also has baton's MCP tools (`agent_interface = "both"`, claude):
        // set by the runner, which knows the config.
        "mcp_tools": false,
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

/// A job's line in the chain: a PM job's decision, else its report's `Summary:` line, else the
/// first line of its result (or error), shortened.
fn chain_line(job: &Job) -> String {
    if job.job_type == JobType::Pm {
        if let Some(decision) = &job.decision {
            return shorten(decision);
        }
        return match job.status {
            JobStatus::Running => "deciding".to_string(),
            JobStatus::Pending | JobStatus::Cancelled => String::new(),
            _ => match &job.error {
                Some(error) => shorten(&format!("error: {error}")),
                None => baton_core::engine::decision::NO_DECISION.to_string(),
            },
        };
    }
    let text = match (&job.error, &job.result) {
        (Some(error), _) => format!("error: {error}"),
        (None, Some(result)) => match report_summary(result) {
            Some(summary) => return shorten(summary),
            None => result.clone(),
        },
        (None, None) => return String::new(),
    };
    shorten(text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default())
}

fn shorten(line: &str) -> String {
    if line.chars().count() > SUMMARY_CHARS {
        let cut: String = line.chars().take(SUMMARY_CHARS).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// The latest complete plan before `job`, in full: every job after a plan works from it.
fn latest_plan(detail: &AssignmentDetail, job: &Job) -> Option<Value> {
    if job.job_type == JobType::Plan {
        return None;
    }
    detail
        .jobs
        .iter()
        .take_while(|j| j.id != job.id)
        .filter(|j| j.job_type == JobType::Plan && j.status == JobStatus::Complete)
        .filter_map(|j| j.result.as_ref().map(|result| json!({"id": j.id, "result": result})))
        .last()
}

/// What the spent figure leaves uncertain: estimated costs in it, unpriced jobs left out of it.
fn cost_note(detail: &AssignmentDetail) -> Option<String> {
    use baton_core::CostSource;
    let count = |source| detail.jobs.iter().filter(|j| j.cost_source == Some(source)).count();
    let (estimated, unpriced) = (count(CostSource::Estimated), count(CostSource::Unpriced));
    let mut parts = Vec::new();
    if estimated > 0 {
        parts.push("includes estimates from configured prices".to_string());
    }
    if unpriced > 0 {
        let s = if unpriced == 1 { "" } else { "s" };
        parts.push(format!("leaves out {unpriced} unpriced job{s}"));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Where the assignment stands, for a PM deciding its next step.
fn standing(detail: &AssignmentDetail, job: &Job) -> Value {
    let a = &detail.assignment;
    let position = detail.jobs.iter().position(|j| j.id == job.id).unwrap_or(detail.jobs.len());
    let queued: Vec<Value> = detail.jobs[position.min(detail.jobs.len())..]
        .iter()
        .filter(|j| j.status == JobStatus::Pending)
        .map(|j| json!({"id": j.id, "type": j.job_type.as_str(), "harness": j.harness}))
        .collect();
    // A round: a review that ended after an implement job.
    let mut rounds = 0;
    let mut implemented = false;
    for j in detail.jobs.iter().filter(|j| j.status.is_final() && j.status != JobStatus::Cancelled) {
        match j.job_type {
            JobType::Implement => implemented = true,
            JobType::Review if implemented => {
                rounds += 1;
                implemented = false;
            }
            _ => {}
        }
    }
    json!({
        "jobs": a.job_count,
        "max_jobs": a.max_jobs,
        "cost_usd": a.cost_usd.map(|c| format!("{c:.4}")),
        "cost_note": cost_note(detail),
        "budget_usd": a.budget_usd.map(|b| format!("{b:.2}")),
        "left_usd": a.budget_usd.map(|b| format!("{:.4}", (b - a.cost_usd.unwrap_or(0.0)).max(0.0))),
        "budget_tokens": a.budget_tokens,
        "tokens_spent": a.tokens_spent.unwrap_or(0),
        "left_tokens": a.budget_tokens.map(|b| (b - a.tokens_spent.unwrap_or(0)).max(0)),
        "review_rounds": rounds,
        "queued": queued,
    })
}
