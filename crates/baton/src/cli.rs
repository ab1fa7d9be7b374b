//! The command line, as clap derive definitions. Doc comments are the help text people (and PM
//! agents) read, so they say what a command does and show an example.
//!
//! Values with a closed vocabulary (`--type`, `--status`) are parsed here from the baton-core
//! enums, so a wrong value is a usage error (exit 2) that lists the valid ones. The command names
//! and the flags that PM prompts use (`insert-job --type --harness --context`,
//! `update-assignment --status --reason`, …) are a stable interface: do not rename them.

use baton_core::request::{self, Field};
use baton_core::{AssignmentStatus, JobStatus, JobType};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  baton init
  baton create \"Add OAuth login\" --first plan --context \"Use the existing session store\"
  baton queue
  baton assignment a7k2m9qxp
  baton insert-job a7k2m9qxp --type implement --context \"Step 1 of the plan\"
  baton update-assignment a7k2m9qxp --status blocked --reason \"needs a product decision\"
  baton jobs --status failed --json";

/// baton: a durable job queue that drives AI coding agents headless on a repository.
///
/// An assignment is a north star with an ordered chain of jobs; each job is one headless agent
/// run. A PM job after every job decides what happens next.
#[derive(Debug, Parser)]
#[command(
    name = "baton",
    version,
    arg_required_else_help = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts, before or after the command name.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print one JSON value on stdout (an array for lists) instead of text for people.
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,

    /// When to colour the output: auto (only on a terminal, and not when NO_COLOR is set),
    /// always or never.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorChoice::Auto
    )]
    pub color: ColorChoice,

    /// On a terminal, show every value whole instead of cutting tables to the window's width
    /// (output to a pipe or file is never cut).
    #[arg(long, global = true, help_heading = "Global options")]
    pub wide: bool,

    /// Act on this namespace instead of the configured one (same as BATON_NAMESPACE).
    #[arg(long, global = true, value_name = "NS", help_heading = "Global options", value_parser = parse_namespace)]
    pub namespace: Option<String>,
}

/// `--namespace`: an empty or spaced name is a mistake, never "the configured one".
fn parse_namespace(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("the namespace is empty; pass a name such as `--namespace my-app`, or leave the option out to \
                    use the configured one"
            .to_string());
    }
    // Spaces and the like are refused with the config's own message, naming the namespace.
    Ok(value.to_string())
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write .baton/config.toml in the current folder: the namespace and the commented defaults.
    #[command(after_help = "Example:\n  baton init --namespace my-app")]
    Init(InitArgs),

    /// Create an assignment from a north star, optionally queueing its first job.
    #[command(after_help = "Examples:\n  baton create \"Add OAuth login\"\n  \
        baton create \"Add OAuth login\" --first plan --context \"Providers: Google, GitHub\" --budget-usd 5\n  \
        baton create \"Document the login API\" --after a7k2m9qx --first document")]
    Create(CreateArgs),

    /// Add a job to an assignment's chain: at the end, or right after another job with --after.
    #[command(
        after_help = "Examples:\n  baton insert-job a7k2m9qxp --type implement --context \"Step 1 of the plan\"\n  \
        baton insert-job a7k2m9qxp --type review --harness codex --after j4f8hw2cq"
    )]
    InsertJob(InsertJobArgs),

    /// What is queued, waiting, running and blocked in this namespace.
    Queue,

    /// List the database's namespaces with how many assignments and jobs each holds.
    #[command(after_help = "Example:\n  baton namespaces --json")]
    Namespaces,

    /// List assignments, newest first (the newest 100; --all for every one).
    #[command(after_help = "Example:\n  baton assignments --status blocked")]
    Assignments(AssignmentsArgs),

    /// Show one assignment: its job chain in order and its history.
    #[command(after_help = "Example:\n  baton assignment a7k2m9qxp --json")]
    Assignment(AssignmentArgs),

    /// List jobs: one assignment's in chain order, or the namespace's newest first.
    #[command(after_help = "Examples:\n  baton jobs --status running\n  baton jobs --assignment a7k2m9qxp")]
    Jobs(JobsArgs),

    /// Show one job: its context, outcome and attempts (--prompt: what its agent was told).
    #[command(after_help = "Examples:\n  baton job j4f8hw2cq\n  baton job j4f8hw2cq --prompt --attempt 1")]
    Job(JobArgs),

    /// Change an assignment: finish, cancel, block or resume it, or raise its guards.
    #[command(after_help = "Examples:\n  \
        baton update-assignment a7k2m9qxp --status complete\n  \
        baton update-assignment a7k2m9qxp --status blocked --reason \"needs a product decision\"\n  \
        baton update-assignment a7k2m9qxp --status active --note \"use the v2 API\"\n  \
        baton update-assignment a7k2m9qxp --budget-usd 10 --max-jobs 60")]
    UpdateAssignment(UpdateAssignmentArgs),

    /// A PM job's decision to let the job already queued after it run next.
    #[command(after_help = "Example (inside a PM job):\n  baton proceed a7k2m9qxp")]
    Proceed(ProceedArgs),

    /// What an assignment changed against its base commit, as a unified diff (--job: one job's
    /// change; --stat: the diff stat).
    #[command(after_help = "Examples:\n  baton diff a7k2m9qxp\n  baton diff a7k2m9qxp --stat\n  \
        baton diff a7k2m9qxp --job j4f8hw2cq")]
    Diff(DiffArgs),

    /// Cancel a pending or running job (the runner holding a running one stops its agent).
    CancelJob(JobIdArgs),

    /// Queue a fresh copy of a failed or cancelled job right after it.
    RetryJob(JobIdArgs),

    /// Run queued jobs: claim ready jobs, run their agents headless, record results, run the PM.
    #[command(after_help = "Examples:\n  baton run\n  baton run --concurrency 4\n  baton run --until-idle\n\n\
        Stopping: Ctrl-C or SIGTERM claims nothing new and gives running jobs --grace seconds; a second\n\
        Ctrl-C stops their agents at once. Either way a job stopped by the shutdown goes back to\n\
        `pending` with its attempt recorded as `interrupted`: it counts against neither max_attempts\n\
        nor max_lost_leases.\n\n\
        Containment (`containment` in the config, or BATON_CONTAINMENT): \"cgroup\" runs each attempt in\n\
        a cgroup v2 of its own and ends it with cgroup.kill; \"subreaper\" has each attempt's supervisor\n\
        adopt and kill every process the agent started; \"auto\" (the default) takes a cgroup where\n\
        it can. The runner logs which one it uses, and `baton queue` shows it.")]
    Run(RunArgs),

    /// Show a job's transcript: what the agent said and did. --follow streams it while it runs.
    #[command(
        after_help = "Examples:\n  baton logs j4f8hw2cq\n  baton logs j4f8hw2cq --follow\n  baton logs j4f8hw2cq --json"
    )]
    Logs(LogsArgs),

    /// Serve the JSON API, live event streams and the dashboard over HTTP.
    #[command(
        after_help = "Examples:\n  baton serve\n  BATON_TOKEN=$(openssl rand -hex 16) baton serve --bind 0.0.0.0:7777\n\n\
        Anyone who can reach the API can make agents run commands in this repository: it listens on\n\
        loopback by default, and any other address requires a token."
    )]
    Serve(ServeArgs),

    /// Watch the namespace live: assignments, their current jobs, costs, and who is blocked or idle.
    #[command(
        after_help = "On a terminal: a live view. Keys: arrows or j/k select, Enter opens the assignment's chain,\nl follows the selected job's transcript, / filters, b shows only blocked/idle, Esc goes back,\nq or Ctrl-C quits. Otherwise: one line per change."
    )]
    Watch,

    /// Remove finished assignments' worktrees (and their branches once merged). Unmerged or
    /// uncommitted work is kept unless --force. --retention applies the config's [retention].
    #[command(
        after_help = "Examples:\n  baton clean --all-finished\n  baton clean --assignment a7k2m9qxp --force\n  baton clean --retention --dry-run"
    )]
    Clean(CleanArgs),

    /// Apply the config's [retention] policy now: remove finished worktrees that are clean and
    /// merged, drop old transcripts and agent session files, and print each and the space freed.
    #[command(after_help = "Examples:\n  baton gc --dry-run\n  baton gc --json")]
    Gc(GcArgs),

    /// Merge a complete assignment's branch into its base branch in this checkout (a person's
    /// decision): a fast-forward when possible, else a merge commit; --squash for one commit.
    #[command(
        after_help = "Examples:\n  baton merge a7k2m9qxp\n  baton merge a7k2m9qxp --squash\n  baton merge a7k2m9qxp --into release"
    )]
    Merge(MergeArgs),

    /// Show or compare the prompt templates (diff: the repository's copy against the built-in).
    #[command(after_help = "Example:\n  baton templates diff pm")]
    Templates(TemplatesArgs),

    /// Check that everything baton needs is in place: the database, the repository, git, each
    /// harness's binary, version and credentials, containment, runners and templates. Each check
    /// is a ✓ or ✗ line with the fix; exit 1 when one fails.
    #[command(after_help = "Examples:\n  baton doctor\n  baton doctor --json")]
    Doctor,

    /// Serve baton's commands as Model Context Protocol tools over stdio, for an MCP client such as
    /// Claude Code (inside a job: with that job's scope, like the CLI).
    #[command(after_help = "Example:\n  claude mcp add baton -- baton mcp")]
    Mcp,

    /// Create assignments on a schedule: a cron pattern in a time zone (`add`, `list`, `show`,
    /// `pause`, `resume`, `remove`). Runners fire them, once per slot across every runner.
    #[command(after_help = crate::commands::schedule::EXAMPLES)]
    Schedule(crate::commands::schedule::ScheduleArgs),

    /// Print a shell completion script.
    #[command(after_help = "Example:\n  baton completions bash > ~/.local/share/bash-completion/completions/baton")]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// How many jobs run at once (at most one per assignment). Default: 4 with worktree
    /// isolation (each assignment has its own checkout), else 1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: Option<u32>,

    /// Exit once nothing runs, nothing is ready and nothing waits out a retry back-off
    /// (pending jobs of blocked assignments do not count).
    #[arg(long)]
    pub until_idle: bool,

    /// Seconds running jobs get to finish after Ctrl-C or SIGTERM before they are stopped and
    /// re-queued without charging the attempt (a second signal stops them at once, re-queued
    /// all the same).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub grace: u64,

    /// Serve the namespace's Prometheus metrics at http://ADDR/metrics (the same figures as
    /// `baton serve`); anything but loopback requires --metrics-token.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    /// A secret (16+ characters) every scrape of --metrics must present (`Authorization: Bearer`).
    #[arg(long, env = "BATON_TOKEN", hide_env_values = true, value_name = "TOKEN", requires = "metrics")]
    pub metrics_token: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["assignment", "all_finished", "retention"])))]
pub struct CleanArgs {
    /// Clean this assignment (it must be complete or cancelled).
    #[arg(long, value_name = "ASSIGNMENT_ID")]
    pub assignment: Option<String>,

    /// Clean every complete or cancelled assignment that still has a worktree.
    #[arg(long)]
    pub all_finished: bool,

    /// Also remove worktrees with uncommitted changes, and delete branches whose commits are not
    /// merged anywhere.
    #[arg(long)]
    pub force: bool,

    /// Apply the `[retention]` policy of the config, as `baton gc` does: remove finished
    /// assignments' worktrees (only clean, merged ones) under `worktrees = "merged"` or
    /// `finished_after`, drop finished jobs' transcripts older than `transcripts_after` and agent
    /// session files older than `agent_sessions_after`. Nothing is removed without a policy.
    #[arg(long, conflicts_with_all = ["assignment", "all_finished", "force"])]
    pub retention: bool,

    /// With --retention: print what would be removed, remove nothing.
    #[arg(long, requires = "retention")]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Print what would be removed (naming each worktree) and the space it holds; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. Anything but loopback requires --token.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7777")]
    pub bind: std::net::SocketAddr,

    /// A secret (16+ characters) every API call and event stream must present.
    #[arg(long, env = "BATON_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The job whose transcript to show, e.g. j4f8hw2cq.
    #[arg(value_name = "JOB_ID")]
    pub id: String,

    /// Keep streaming new events until the job ends.
    #[arg(long, short)]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing .baton/config.toml (and, with --templates, edited templates).
    #[arg(long)]
    pub force: bool,

    /// Also copy the built-in prompt templates into .baton/templates/ to tune them. A copy is
    /// used instead of the built-in, so later improvements to the built-ins no longer reach it.
    #[arg(long)]
    pub templates: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// What the assignment should achieve; every prompt carries it.
    #[arg(value_name = "NORTH_STAR")]
    pub north_star: String,

    #[command(flatten)]
    pub assignment: NewAssignmentArgs,

    /// Wait for this assignment to complete first (repeatable: it waits for all of them). The
    /// new assignment is `deferred` until then; with one parent its branch starts from that
    /// parent's final branch head unless --base says otherwise.
    #[arg(long, value_name = "ASSIGNMENT_ID")]
    pub after: Vec<String>,
}

/// What a new assignment is made of, beyond its north star: given to `create`, and kept by
/// `schedule add` for every assignment the schedule creates.
#[derive(Debug, Args)]
pub struct NewAssignmentArgs {
    /// Queue a first job of this type with the assignment, in the same step.
    #[arg(long, value_name = "TYPE", value_parser = job_type_parser())]
    pub first: Option<JobType>,

    /// Context for the assignment: every job's prompt shows it (and it briefs the first job).
    #[arg(long, conflicts_with = "context_file")]
    pub context: Option<String>,

    /// Read the context from this file (`-`: standard input), byte for byte.
    #[arg(long, value_name = "PATH")]
    pub context_file: Option<PathBuf>,

    /// Harness for the first job (default: harness_defaults in config).
    #[arg(long, requires = "first", value_name = "NAME")]
    pub harness: Option<String>,

    /// The model for the first job, passed to the harness's own model flag.
    #[arg(long, requires = "first", value_name = "NAME")]
    pub model: Option<String>,

    /// The reasoning effort for the first job (see `insert-job --effort`).
    #[arg(long, requires = "first", value_name = "LEVEL")]
    pub effort: Option<String>,

    /// Cost guard: no job starts once the assignment has spent this many dollars.
    #[arg(long, value_name = "USD", value_parser = parse_budget)]
    pub budget_usd: Option<f64>,

    /// Token guard for any harness: no job starts once the assignment's jobs used this many
    /// input + output + cache-write tokens.
    #[arg(long, value_name = "N", value_parser = parse_tokens)]
    pub budget_tokens: Option<i64>,

    /// Job limit guard (default: max_jobs_per_assignment in config).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_jobs: Option<u32>,

    /// The git ref the assignment's branch starts from (default: the current HEAD when its first
    /// job runs; for a schedule, resolved when it fires). A branch named here is also where
    /// `baton merge` brings the work (default: the current branch).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
}

#[derive(Debug, Args)]
pub struct InsertJobArgs {
    /// The assignment whose chain gets the job.
    #[arg(value_name = "ASSIGNMENT_ID")]
    pub assignment_id: String,

    /// The job type; each type has its own prompt template.
    #[arg(long = "type", value_name = "TYPE", value_parser = job_type_parser())]
    pub job_type: JobType,

    /// The harness that runs it (default: harness_defaults in config for this type).
    #[arg(long, value_name = "NAME")]
    pub harness: Option<String>,

    /// Free text handed to the job's prompt.
    #[arg(long, conflicts_with = "context_file")]
    pub context: Option<String>,

    /// Read the context from this file (`-`: standard input), byte for byte: the shell-safe way to
    /// pass instructions, e.g. `--context-file - <<'EOF'` … `EOF`.
    #[arg(long, value_name = "PATH")]
    pub context_file: Option<PathBuf>,

    /// Place it right after this job of the same assignment instead of at the end (a PM job's
    /// insert always goes right after the PM job).
    #[arg(long, value_name = "JOB_ID")]
    pub after: Option<String>,

    /// Continue this earlier job's agent session: the same conversation, this job's prompt as
    /// its next turn (e.g. a fix-up after a review). Defaults --harness to that job's.
    #[arg(long = "continue", value_name = "JOB_ID")]
    pub continue_job: Option<String>,

    /// Start a new session from this earlier job's conversation, leaving that one unchanged
    /// (e.g. a second opinion with the same context). Not on gemini.
    #[arg(long, value_name = "JOB_ID")]
    pub fork: Option<String>,

    /// The model to run, passed to the harness's own model flag.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,

    /// The reasoning effort (claude: low, medium, high, xhigh, max; codex: minimal, low, medium,
    /// high, xhigh; [harness.NAME] efforts may change the list).
    #[arg(long, value_name = "LEVEL")]
    pub effort: Option<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The complete assignment whose branch is merged.
    #[arg(value_name = "ASSIGNMENT_ID")]
    pub assignment_id: String,

    /// The branch to merge into (default: the branch the assignment was based on). The checkout
    /// must be on it.
    #[arg(long, value_name = "BRANCH")]
    pub into: Option<String>,

    /// Land the whole change as one new commit instead of the branch's commits.
    #[arg(long)]
    pub squash: bool,
}

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    #[command(subcommand)]
    pub action: TemplatesAction,
}

#[derive(Debug, Subcommand)]
pub enum TemplatesAction {
    /// Show how the repository's copy in .baton/templates/ differs from the built-in template.
    Diff {
        /// The template: a job type (pm, plan, …) or a partial (_assignment, _report).
        #[arg(value_name = "TYPE")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ProceedArgs {
    /// The assignment whose queued job runs next.
    #[arg(value_name = "ASSIGNMENT_ID")]
    pub assignment_id: String,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The assignment whose change to show, e.g. a7k2m9qxp.
    #[arg(value_name = "ASSIGNMENT_ID")]
    pub assignment_id: String,

    /// Only this job's change: from the commit it started at to the one it ended at.
    #[arg(long, value_name = "JOB_ID")]
    pub job: Option<String>,

    /// Only the diff stat (the files and their added and removed lines).
    #[arg(long)]
    pub stat: bool,
}

#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job, e.g. j4f8hw2cq.
    #[arg(value_name = "JOB_ID")]
    pub id: String,

    /// Print the exact prompt the job's latest attempt was given (or --attempt N's).
    #[arg(long)]
    pub prompt: bool,

    /// With --prompt: this attempt's prompt (1-based).
    #[arg(long, value_name = "N", requires = "prompt", value_parser = clap::value_parser!(u32).range(1..))]
    pub attempt: Option<u32>,
}

#[derive(Debug, Args)]
pub struct AssignmentsArgs {
    /// Only assignments with this status.
    #[arg(long, value_parser = assignment_status_parser())]
    pub status: Option<AssignmentStatus>,

    /// At most this many (the newest); text shows the newest 100 unless told otherwise.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,

    /// Every assignment, however many (text output; `--json` lists every one by default).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct AssignmentArgs {
    /// The assignment to show, e.g. a7k2m9qxp.
    #[arg(value_name = "ASSIGNMENT_ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs with this status.
    #[arg(long, value_parser = job_status_parser())]
    pub status: Option<JobStatus>,

    /// Only this assignment's jobs, in chain order.
    #[arg(long, value_name = "ASSIGNMENT_ID")]
    pub assignment: Option<String>,

    /// At most this many.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct JobIdArgs {
    /// The job, e.g. j4f8hw2cq.
    #[arg(value_name = "JOB_ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct UpdateAssignmentArgs {
    /// The assignment to change.
    #[arg(value_name = "ASSIGNMENT_ID")]
    pub id: String,

    /// The new status: complete and cancelled are final; blocked needs --reason; active resumes a
    /// blocked assignment.
    #[arg(long, value_parser = assignment_status_parser())]
    pub status: Option<AssignmentStatus>,

    /// Why it is blocked (with --status blocked): what the person who resumes it must decide.
    #[arg(long)]
    pub reason: Option<String>,

    /// A note for the PM when resuming (with --status active).
    #[arg(long)]
    pub note: Option<String>,

    /// New cost guard in dollars.
    #[arg(long, value_name = "USD", value_parser = parse_budget)]
    pub budget_usd: Option<f64>,

    /// New token guard (input + output + cache-write tokens).
    #[arg(long, value_name = "N", value_parser = parse_tokens)]
    pub budget_tokens: Option<i64>,

    /// New job limit.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_jobs: Option<u32>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Parses with clap's possible values (for help, completions and errors that list the valid
/// values), then converts through the core enum's `FromStr`, so the spellings live in one place.
fn enum_parser<T>(names: Vec<&'static str>) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(names).try_map(|s: String| s.parse::<T>())
}

pub(crate) fn job_type_parser() -> impl TypedValueParser<Value = JobType> {
    enum_parser(JobType::ALL.iter().map(|t| t.as_str()).collect())
}

fn job_status_parser() -> impl TypedValueParser<Value = JobStatus> {
    enum_parser(JobStatus::ALL.iter().map(|s| s.as_str()).collect())
}

fn assignment_status_parser() -> impl TypedValueParser<Value = AssignmentStatus> {
    enum_parser(AssignmentStatus::ALL.iter().map(|s| s.as_str()).collect())
}

/// How the CLI spells a request's field in messages: its flag, or what the argument is. The one
/// place where core's field names (`max_jobs`) become the words a person typed (`--max-jobs`).
pub fn field_name(field: Field) -> &'static str {
    match field {
        Field::NorthStar => "the north star",
        Field::MaxJobs => "--max-jobs",
        Field::BudgetUsd => "--budget-usd",
        Field::BudgetTokens => "--budget-tokens",
        // Not a flag: it comes from `max_attempts` in .baton/config.toml.
        Field::MaxAttempts => "max_attempts",
        Field::Status => "--status",
        Field::Reason => "--reason",
        Field::Note => "--note",
        Field::Context => "--context",
        Field::Harness => "--harness",
        Field::After => "--after",
        Field::ForJobId => "--for",
        Field::Namespace => "--namespace",
        Field::BaseRef => "--base",
    }
}

/// `--budget-usd`: a positive amount of dollars (`5`, `12.50`, `$12.50`).
pub(crate) fn parse_budget(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix('$').unwrap_or(trimmed);
    match digits.parse::<f64>() {
        Ok(v) if request::is_amount(v) => Ok(v),
        _ => Err(request::AMOUNT_RULE.to_string()),
    }
}

pub(crate) fn parse_tokens(text: &str) -> Result<i64, String> {
    // Underscores and commas group digits as people write large counts (2_000_000, 2,000,000).
    let digits: String = text.trim().chars().filter(|c| !matches!(c, '_' | ',')).collect();
    match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(request::TOKENS_RULE.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn budget_parsing() {
        assert_eq!(parse_budget("$12.50"), Ok(12.5));
        assert!(parse_budget("0").is_err());
        assert!(parse_budget("-1").is_err());
        assert!(parse_budget("NaN").is_err());
    }
}
