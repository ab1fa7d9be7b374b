//! Everything an attempt needs before its agent starts: the job's folder, the rendered prompt
//! (and its file, for harnesses that read one) and the command line. A failure here is the
//! job's configuration or repository, not the agent: it is recorded as permanent.

use super::Shared;
use crate::agent_socket::in_process::InProcess;
use crate::agent_socket::{AgentSocket, Scope};
use crate::invocation::{self, Invocation, InvocationError, JobIdentity};
use crate::prompt;
use crate::sandbox::{self, Sandbox};
use crate::session::{self, Plan};
use crate::templates::{self, TemplateError};
use crate::workspace::WorkspaceError;
use baton_core::engine::spend::BudgetWatch;
use baton_core::store::Claim;
use std::path::PathBuf;

/// Why an attempt could not start its agent; the message goes into the job's record.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("cannot write the prompt to {}: {source}", path.display())]
    PromptFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invocation(#[from] InvocationError),
    #[error(
        "harness `{harness}` not found on PATH (it runs `{program}`); install it or set `command` in [harness.{harness}]"
    )]
    NotFound { harness: String, program: String },
    #[error("cannot start harness `{harness}` ({program}): {source}")]
    Spawn {
        harness: String,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the agent's stdout could not be read")]
    NoStdout,
    /// The worktree is not on its branch (detached, moved, mid-rebase): nothing may run there.
    #[error("{0}")]
    Worktree(String),
    #[error("worktree_setup completed but cannot be recorded as done: {0}")]
    SetupMark(std::io::Error),
    #[error("cannot open the attempt's agent socket in {}: {source}; check that the runner may write to its temporary folder (TMPDIR)", std::env::temp_dir().display())]
    Socket {
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::bwrap::SandboxError),
    /// `sandbox = "bwrap"` cannot run on this host.
    #[error("{0}")]
    SandboxUnusable(String),
    #[error("cannot create the attempt's cgroup {}: {source}; check that the runner may write there, or set containment = \"subreaper\"", path.display())]
    Cgroup {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A job ready to have its agent started.
pub(super) struct Prepared {
    /// Where the agent runs.
    pub cwd: PathBuf,
    /// The assignment's branch, when the job runs in its worktree with checkpoint commits.
    pub checkpoint_branch: Option<String>,
    /// The attempt that ran in this worktree before this one: what a leftover is committed as.
    pub previous: Option<PreviousAttempt>,
    /// The assignment's worktree, when it has one (where `worktree_setup` runs).
    pub worktree: Option<PathBuf>,
    pub prompt: String,
    /// Written only for harnesses that name `{prompt_file}`.
    prompt_file: Option<PathBuf>,
    pub invocation: Invocation,
    /// The session it runs in.
    pub plan: Plan,
    /// Where the agent's `baton` calls reach the runner; gone when this is dropped.
    pub socket: AgentSocket,
}

impl Prepared {
    /// The prompt file is the attempt's alone: it goes when the attempt ends.
    pub fn remove_prompt_file(&self) {
        if let Some(file) = &self.prompt_file {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// The attempt that last ran in an assignment's worktree before this one.
#[derive(Debug, Clone)]
pub(super) struct PreviousAttempt {
    pub job_id: String,
    pub job_type: baton_core::JobType,
    pub harness: String,
    pub attempt: u32,
}

impl PreviousAttempt {
    /// This job's own previous attempt (a retry, a takeover), else the chain's latest started job.
    fn find(detail: &baton_core::AssignmentDetail, claim: &Claim) -> Option<PreviousAttempt> {
        let of = |job: &baton_core::Job, attempt: u32| PreviousAttempt {
            job_id: job.id.clone(),
            job_type: job.job_type,
            harness: job.harness.clone(),
            attempt,
        };
        if claim.attempt > 1 {
            return Some(of(&claim.job, claim.attempt - 1));
        }
        detail
            .jobs
            .iter()
            .filter(|j| j.id != claim.job.id && j.started_at.is_some())
            .max_by_key(|j| j.started_at)
            .map(|j| of(j, j.attempts))
    }
}

/// Prepares `claim`'s job; the outer error is the store's, the inner one the job's. `forced`: run
/// a fresh session for this reason even if the job carries an earlier one on.
pub(super) async fn prepare(
    shared: &Shared,
    claim: &Claim,
    forced: Option<String>,
) -> baton_core::Result<Result<Prepared, SetupError>> {
    let job = &claim.job;
    let config = &shared.config;
    let mut detail = shared.store.assignment(&shared.namespace, &job.assignment_id).await?;
    let dir = match shared.workspaces.prepare(&shared.store, config, &shared.host, &detail.assignment).await {
        Ok(dir) => dir,
        Err(e) => return Ok(Err(e.into())),
    };
    if dir.worktree.is_some() && detail.assignment.branch.is_none() {
        // The first job created the worktree just now: its prompt names it like every later one's.
        detail = shared.store.assignment(&shared.namespace, &job.assignment_id).await?;
    }
    let checkpoint_branch = match (&dir.worktree, &detail.assignment.branch) {
        (Some(_), Some(branch)) if crate::checkpoint::enabled(config) => Some(branch.clone()),
        _ => None,
    };
    if let Some(branch) = &checkpoint_branch {
        if let Err(refusal) = crate::checkpoint::check_worktree(&dir.cwd, branch).await {
            return Ok(Err(SetupError::Worktree(refusal)));
        }
    }
    let previous = PreviousAttempt::find(&detail, claim);
    let plan = session::plan(shared.store.as_ref(), config, &shared.namespace, job, &shared.host, forced).await?;
    let mut context = prompt::context(&config.repo_root, &dir.cwd, &detail, job);
    if let (baton_core::JobType::Pm, Some(worktree)) = (job.job_type, &dir.worktree) {
        // The PM judges the assignment's whole change, not only the last job's.
        let git = crate::assignment_git::summary(&detail.assignment, &config.repo_root, &shared.host).await;
        context["assignment_git"] = serde_json::json!({
            "commits_ahead": git.commits_ahead,
            "diff_stat": git.diff_stat,
            "dirty_warning": git.dirty_warning(&worktree.display().to_string()),
        });
    }
    if let Plan::Resume { source, .. } = &plan {
        prompt::add_continuation(&mut context, &detail, job, source);
    }
    // With `agent_interface = "both"` the templates name baton's MCP tools to the claude agent
    // that has them.
    context["mcp_tools"] = serde_json::Value::Bool(invocation::offers_mcp(config, &job.harness));
    let template = prompt::template_name(job, matches!(plan, Plan::Resume { .. }));
    let mut prompt = match templates::render_named(&config.repo_root, &template, &context) {
        Ok(prompt) => prompt,
        Err(e) => return Ok(Err(e.into())),
    };
    if let Plan::Fresh { source: Some(source), fallback, .. } = &plan {
        let reason = fallback.as_deref().or(job.session_fallback_reason.as_deref());
        prompt.push_str(&prompt::handoff(source, reason));
    }
    let prompt_path = std::env::temp_dir().join(format!("baton-prompt-{}-{}.md", job.id, claim.attempt));
    // Only harnesses that name `{prompt_file}` get one; the rest read the prompt on stdin.
    let wants_file = config.harnesses.get(&job.harness).is_some_and(|h| {
        h.command.iter().flatten().chain(&h.args).any(|arg| arg.contains(baton_harness::command::PROMPT_FILE))
    });
    if wants_file {
        if let Err(source) = std::fs::write(&prompt_path, &prompt) {
            return Ok(Err(SetupError::PromptFile { path: prompt_path, source }));
        }
    }
    let socket = match open_socket(shared, claim, &dir.cwd) {
        Ok(socket) => socket,
        Err(source) => {
            if wants_file {
                let _ = std::fs::remove_file(&prompt_path);
            }
            return Ok(Err(SetupError::Socket { source }));
        }
    };
    let identity = JobIdentity {
        job,
        namespace: &shared.namespace,
        socket: Some((socket.env(), socket.dir())),
        baton_dir: shared.baton_dir.as_deref(),
        worktree: dir.worktree.as_deref(),
    };
    let model = job.model.as_deref().or_else(|| config.harnesses.get(&job.harness).and_then(|h| h.model.as_deref()));
    let budget = BudgetWatch::new(
        &detail.assignment,
        model,
        &shared.policy.spend,
        job.started_at.unwrap_or_else(|| shared.clock.now()),
    );
    let prepared = invocation::prepare(config, &identity, &prompt_path, plan.session())
        .map_err(SetupError::from)
        .and_then(|mut invocation| {
            invocation::watch_budget(config, job, &mut invocation, budget);
            let paths = sandbox::Paths {
                cwd: &dir.cwd,
                socket_dir: socket.dir(),
                prompt_file: wants_file.then_some(prompt_path.as_path()),
            };
            confine(shared, &job.harness, &paths, &mut invocation)?;
            Ok(invocation)
        })
        .map(|invocation| Prepared {
            cwd: dir.cwd,
            checkpoint_branch,
            previous,
            worktree: dir.worktree.clone(),
            prompt,
            prompt_file: wants_file.then(|| prompt_path.clone()),
            invocation,
            plan,
            socket,
        });
    if prepared.is_err() && wants_file {
        let _ = std::fs::remove_file(&prompt_path);
    }
    Ok(prepared)
}

/// Wraps the agent's command line in the runner's sandbox, if it has one.
fn confine(
    shared: &Shared,
    harness_name: &str,
    paths: &sandbox::Paths<'_>,
    invocation: &mut Invocation,
) -> Result<(), SetupError> {
    let program = match &shared.sandbox {
        Sandbox::None => return Ok(()),
        Sandbox::Unusable { reason } => return Err(SetupError::SandboxUnusable(reason.clone())),
        Sandbox::Bwrap { program } => program,
    };
    let Some(harness) = shared.config.harnesses.get(harness_name) else { return Ok(()) };
    match sandbox::confine(program, &shared.config, harness_name, harness, paths, invocation)? {
        Some(()) => Ok(()),
        None => Err(SetupError::NotFound {
            harness: harness_name.to_string(),
            program: invocation.argv.first().cloned().unwrap_or_default(),
        }),
    }
}

/// The attempt's socket, through which its agent's `baton` calls act as the job.
fn open_socket(shared: &Shared, claim: &Claim, cwd: &std::path::Path) -> std::io::Result<AgentSocket> {
    let baton = match &shared.lifeline {
        Some(host) => host.baton().to_path_buf(),
        None => std::env::current_exe()?,
    };
    AgentSocket::open(Scope {
        baton,
        database_url: shared.config.database_url.clone(),
        namespace: shared.namespace.clone(),
        job_id: claim.job.id.clone(),
        assignment_id: claim.job.assignment_id.clone(),
        job_type: claim.job.job_type.as_str().to_string(),
        fencing_token: claim.token,
        cwd: cwd.to_path_buf(),
        in_process: shared.agent_commands.clone().map(|executor| InProcess { executor, store: shared.store.clone() }),
    })
}
