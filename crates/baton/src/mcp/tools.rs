//! The tools `baton mcp` offers: one per CLI command an MCP client may run, each argument named
//! as the command's flag (`budget_usd` is `--budget-usd`) or, for a positional argument, as its
//! value (`assignment_id`, `job_id`). A call becomes that command's argument list; nothing here
//! decides anything a command decides.

use baton_core::{AssignmentStatus, JobStatus, JobType};

/// What a tool argument holds, as its JSON schema says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Number,
    /// A switch: `true` passes the flag.
    Boolean,
    /// Several texts, each passed as the flag once (`create --after`).
    TextList,
    JobType,
    JobStatus,
    AssignmentStatus,
}

impl Kind {
    /// The values a closed vocabulary allows, spelled as the CLI spells them.
    pub fn choices(self) -> Option<Vec<&'static str>> {
        match self {
            Kind::JobType => Some(JobType::ALL.iter().map(|t| t.as_str()).collect()),
            Kind::JobStatus => Some(JobStatus::ALL.iter().map(|s| s.as_str()).collect()),
            Kind::AssignmentStatus => Some(AssignmentStatus::ALL.iter().map(|s| s.as_str()).collect()),
            _ => None,
        }
    }
}

/// Where an argument goes on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The command's positional argument.
    Positional,
    /// This flag, e.g. `--budget-usd`.
    Flag(&'static str),
    /// Not a CLI argument: the MCP server applies it to the command's output.
    Output,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub place: Place,
    pub required: bool,
    pub help: &'static str,
}

#[derive(Debug, Clone)]
pub struct Tool {
    pub name: &'static str,
    /// The `baton` subcommand the tool runs.
    pub command: &'static str,
    pub description: &'static str,
    pub params: Vec<Param>,
    /// Changes nothing (an MCP client may call it without asking).
    pub read_only: bool,
}

impl Tool {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

fn positional(name: &'static str, help: &'static str) -> Param {
    Param { name, kind: Kind::Text, place: Place::Positional, required: true, help }
}

fn flag(name: &'static str, flag: &'static str, kind: Kind, help: &'static str) -> Param {
    Param { name, kind, place: Place::Flag(flag), required: false, help }
}

fn required(mut param: Param) -> Param {
    param.required = true;
    param
}

/// Every tool has it: the CLI's global `--namespace`.
fn namespace() -> Param {
    flag(
        "namespace",
        "--namespace",
        Kind::Text,
        "Act on this namespace instead of the configured one (inside a job: only the job's own).",
    )
}

fn tool(
    name: &'static str,
    command: &'static str,
    description: &'static str,
    read_only: bool,
    params: Vec<Param>,
) -> Tool {
    let mut params = params;
    params.push(namespace());
    Tool { name, command, description, params, read_only }
}

/// The tools, in the order a client lists them.
pub fn all() -> Vec<Tool> {
    vec![
        tool(
            "queue",
            "queue",
            "What is queued, waiting, running and blocked in the namespace (`baton queue --json`).",
            true,
            vec![],
        ),
        tool(
            "assignments",
            "assignments",
            "List assignments, newest first (`baton assignments --json`).",
            true,
            vec![
                flag("status", "--status", Kind::AssignmentStatus, "Only assignments with this status."),
                flag("limit", "--limit", Kind::Integer, "At most this many (the newest)."),
            ],
        ),
        tool(
            "assignment",
            "assignment",
            "One assignment: its job chain in order, parents, children and history (`baton assignment ID --json`).",
            true,
            vec![positional("assignment_id", "The assignment, e.g. a7k2m9qxp.")],
        ),
        tool(
            "jobs",
            "jobs",
            "List jobs: one assignment's in chain order, or the namespace's newest first (`baton jobs --json`).",
            true,
            vec![
                flag("status", "--status", Kind::JobStatus, "Only jobs with this status."),
                flag("assignment", "--assignment", Kind::Text, "Only this assignment's jobs, in chain order."),
                flag("limit", "--limit", Kind::Integer, "At most this many."),
            ],
        ),
        tool(
            "job",
            "job",
            "One job: its context, outcome and attempts; with prompt, what its agent was told (`baton job ID --json`).",
            true,
            vec![
                positional("job_id", "The job, e.g. j4f8hw2cq."),
                flag("prompt", "--prompt", Kind::Boolean, "The exact prompt of the latest attempt (or of `attempt`)."),
                flag("attempt", "--attempt", Kind::Integer, "With prompt: this attempt's prompt (1-based)."),
            ],
        ),
        tool(
            "logs",
            "logs",
            "A job's transcript as it stands, one stored event object per line (`baton logs ID --json`).",
            true,
            vec![
                positional("job_id", "The job whose transcript to show."),
                Param {
                    name: "tail",
                    kind: Kind::Integer,
                    place: Place::Output,
                    required: false,
                    help: "Only the last this many events.",
                },
            ],
        ),
        tool(
            "create",
            "create",
            "Create an assignment from a north star, optionally queueing its first job (`baton create --json`).",
            false,
            vec![
                positional("north_star", "What the assignment should achieve; every prompt carries it."),
                flag("first", "--first", Kind::JobType, "Queue a first job of this type in the same step."),
                flag("context", "--context", Kind::Text, "Context every job's prompt shows (it briefs the first job)."),
                flag("harness", "--harness", Kind::Text, "Harness for the first job (needs first)."),
                flag("model", "--model", Kind::Text, "The model for the first job (needs first)."),
                flag("effort", "--effort", Kind::Text, "The reasoning effort for the first job (needs first)."),
                flag("budget_usd", "--budget-usd", Kind::Number, "Cost guard in dollars."),
                flag("budget_tokens", "--budget-tokens", Kind::Integer, "Token guard (input + output + cache-write)."),
                flag("max_jobs", "--max-jobs", Kind::Integer, "Job limit guard."),
                flag("base", "--base", Kind::Text, "The git ref the assignment's branch starts from."),
                flag("after", "--after", Kind::TextList, "Assignment ids to wait for: it starts once all complete."),
            ],
        ),
        tool(
            "insert_job",
            "insert-job",
            "Add a job to an assignment's chain: at the end, or right after another job (`baton insert-job --json`).",
            false,
            vec![
                positional("assignment_id", "The assignment whose chain gets the job."),
                required(flag("type", "--type", Kind::JobType, "The job type; each type has its own prompt template.")),
                flag("harness", "--harness", Kind::Text, "The harness that runs it (default: the config's)."),
                flag("context", "--context", Kind::Text, "Free text handed to the job's prompt."),
                flag("after", "--after", Kind::Text, "Place it right after this job of the same assignment."),
                flag("continue", "--continue", Kind::Text, "Continue this earlier job's agent session."),
                flag("fork", "--fork", Kind::Text, "Start a new session from this earlier job's conversation."),
                flag("model", "--model", Kind::Text, "The model to run."),
                flag("effort", "--effort", Kind::Text, "The reasoning effort."),
            ],
        ),
        tool(
            "update_assignment",
            "update-assignment",
            "Finish, cancel, block (with a reason) or resume (with a note) an assignment, or raise its guards \
             (`baton update-assignment --json`).",
            false,
            vec![
                positional("assignment_id", "The assignment to change."),
                flag("status", "--status", Kind::AssignmentStatus, "The new status (blocked needs reason)."),
                flag(
                    "reason",
                    "--reason",
                    Kind::Text,
                    "Why it is blocked: what the person who resumes it must decide.",
                ),
                flag("note", "--note", Kind::Text, "A note for the PM when resuming (status active)."),
                flag("budget_usd", "--budget-usd", Kind::Number, "New cost guard in dollars."),
                flag("budget_tokens", "--budget-tokens", Kind::Integer, "New token guard."),
                flag("max_jobs", "--max-jobs", Kind::Integer, "New job limit."),
            ],
        ),
        tool(
            "proceed",
            "proceed",
            "A PM job's decision to let the job already queued after it run next (`baton proceed --json`).",
            false,
            vec![positional("assignment_id", "The assignment whose queued job runs next.")],
        ),
        tool(
            "cancel_job",
            "cancel-job",
            "Cancel a pending or running job (`baton cancel-job --json`).",
            false,
            vec![positional("job_id", "The job to cancel.")],
        ),
        tool(
            "retry_job",
            "retry-job",
            "Queue a fresh copy of a failed or cancelled job right after it (`baton retry-job --json`).",
            false,
            vec![positional("job_id", "The failed or cancelled job.")],
        ),
        tool(
            "merge",
            "merge",
            "Merge a complete assignment's branch into its base branch in the checkout: a person's decision \
             (`baton merge --json`).",
            false,
            vec![
                positional("assignment_id", "The complete assignment whose branch is merged."),
                flag("into", "--into", Kind::Text, "The branch to merge into (the checkout must be on it)."),
                flag("squash", "--squash", Kind::Boolean, "Land the whole change as one new commit."),
            ],
        ),
    ]
}

/// The tool named `name`.
pub fn find(name: &str) -> Option<Tool> {
    all().into_iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    /// Every flag a tool passes is a flag of its command, so a renamed flag fails here, not in
    /// a client's call.
    #[test]
    fn every_tool_names_a_command_and_its_flags() {
        let cli = Cli::command();
        for tool in all() {
            let command = cli.find_subcommand(tool.command).unwrap_or_else(|| panic!("no command {}", tool.command));
            for param in &tool.params {
                if let Place::Flag(flag) = param.place {
                    let long = flag.trim_start_matches("--");
                    let known = command.get_arguments().any(|a| a.get_long() == Some(long))
                        || cli.get_arguments().any(|a| a.get_long() == Some(long));
                    assert!(known, "{} has no {flag}", tool.command);
                    assert_eq!(param.name.replace('_', "-"), long, "{}'s argument is named as its flag", tool.name);
                }
            }
        }
    }
}
