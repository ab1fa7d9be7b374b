//! How a job's agent is started: its command line (through the harness adapter), its environment
//! and its time limit.

use baton_core::config::AgentInterface;
use baton_core::engine::spend::BudgetWatch;
use baton_core::{Config, Job};
use baton_harness::command::CommandError;
use baton_harness::{CommandSpec, Format, ParseFormatError, Session};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a job's agent cannot be started as configured; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error(
        "harness `{harness}` is not configured; valid values: {} (define it as [harness.{harness}] in .baton/config.toml)",
        known.join(", ")
    )]
    UnknownHarness { harness: String, known: Vec<String> },
    #[error("harness `{harness}`: {source}")]
    Format {
        harness: String,
        #[source]
        source: ParseFormatError,
    },
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// Everything needed to spawn one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// `argv[0]` is the program; never run through a shell.
    pub argv: Vec<String>,
    /// Added to the runner's own environment.
    pub env: Vec<(String, String)>,
    /// Taken out of the runner's environment: the database's address and credentials
    /// (`BATON_DATABASE_URL`, `agent_env_remove`) never reach an agent.
    pub env_remove: Vec<String>,
    pub format: Format,
    pub timeout: Duration,
    /// What is left of the assignment's budgets, watched against the usage claude streams.
    pub budget: BudgetWatch,
}

/// What identifies the job to the agent's own `baton` calls.
#[derive(Debug, Clone)]
pub struct JobIdentity<'a> {
    pub job: &'a Job,
    pub namespace: &'a str,
    /// How the agent's `baton` calls reach the runner ([`crate::agent_socket`]): the socket's
    /// variables, and its folder.
    pub socket: Option<(Vec<(String, String)>, &'a Path)>,
    /// The folder of the running `baton` binary, put first on PATH.
    pub baton_dir: Option<&'a Path>,
    /// The assignment's worktree, when it has one (`BATON_WORKTREE`).
    pub worktree: Option<&'a Path>,
}

/// Builds the invocation of `identity.job` under `config`, in `session`. The job's own model and
/// effort (`insert-job --model/--effort`) win over the harness's configured model.
pub fn prepare(
    config: &Config,
    identity: &JobIdentity<'_>,
    prompt_file: &Path,
    session: Session<'_>,
) -> Result<Invocation, InvocationError> {
    let job = identity.job;
    let harness = config.harnesses.get(&job.harness).ok_or_else(|| InvocationError::UnknownHarness {
        harness: job.harness.clone(),
        known: config.harness_names(),
    })?;
    let format = harness.format;
    // The agent's own `baton` calls reach the runner's socket from inside codex's sandbox: its
    // folder is the one path outside the workspace the sandbox must leave open.
    let socket_dir: Vec<PathBuf> = identity.socket.iter().map(|(_, dir)| dir.to_path_buf()).collect();
    // codex's seccomp filter refuses `connect` on every socket family, a Unix socket included,
    // unless its sandbox has network access.
    let network_access = identity.socket.is_some();
    let codex_config = crate::agent_telemetry::codex_config(&config.telemetry);
    let argv = baton_harness::build(&CommandSpec {
        name: &job.harness,
        format,
        command: harness.command.as_deref(),
        model: job.model.as_deref().or(harness.model.as_deref()),
        args: &harness.args,
        prompt_file,
        extra_writable_dirs: &socket_dir,
        network_access,
        codex_config: &codex_config,
        effort: job.effort.as_deref(),
        session,
    })?;
    let mut argv = argv;
    if offers_mcp(config, &job.harness) {
        argv.extend(mcp_config_args());
    }

    let mut env_remove = vec!["BATON_DATABASE_URL".to_string()];
    env_remove.extend(config.agent_env_remove.iter().cloned());
    // Neither the runner's environment nor `[harness.NAME] env` hands an agent these.
    let mut env: Vec<(String, String)> =
        harness.env.iter().filter(|(k, _)| !env_remove.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    env.extend([
        ("BATON_ASSIGNMENT_ID".to_string(), job.assignment_id.clone()),
        ("BATON_JOB_ID".to_string(), job.id.clone()),
        ("BATON_JOB_TYPE".to_string(), job.job_type.as_str().to_string()),
        ("BATON_NAMESPACE".to_string(), identity.namespace.to_string()),
    ]);
    // The runner's own attributes are merged in, unless the person keeps them from agents.
    let attributes = crate::agent_telemetry::RESOURCE_ATTRIBUTES;
    let inherited = std::env::var(attributes).ok().filter(|_| !env_remove.iter().any(|k| k == attributes));
    let labels = crate::agent_telemetry::Labels {
        assignment: &job.assignment_id,
        job: &job.id,
        job_type: job.job_type.as_str(),
    };
    let telemetry = crate::agent_telemetry::variables(&config.telemetry, &labels, format, &env, inherited.as_deref());
    env.retain(|(k, _)| !telemetry.iter().any(|(t, _)| t == k));
    env.extend(telemetry);
    if let Some((vars, _)) = &identity.socket {
        env.extend(vars.iter().cloned());
    }
    if let Some(worktree) = identity.worktree {
        env.push(("BATON_WORKTREE".to_string(), worktree.display().to_string()));
    }
    if let Some(dir) = identity.baton_dir {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![dir.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            env.push(("PATH".to_string(), joined.to_string_lossy().into_owned()));
        }
    }
    let timeout = Duration::from_millis(harness.timeout_ms.unwrap_or(config.timeout_ms));
    Ok(Invocation { argv, env, env_remove, format, timeout, budget: BudgetWatch::default() })
}

/// Whether the agent of a job on `harness` gets baton's MCP server besides the CLI: with
/// `agent_interface = "both"`, on baton's built-in claude command line (a person's `command` may
/// not be claude itself). codex and gemini keep the CLI.
pub fn offers_mcp(config: &Config, harness: &str) -> bool {
    config.agent_interface == AgentInterface::Both
        && config.harnesses.get(harness).is_some_and(|h| h.format == Format::Claude && h.command.is_none())
}

/// claude's `--mcp-config` naming `baton mcp`, run by this very binary (the one the sandbox binds
/// back for the agent's `baton` calls). claude starts the server with its own environment — the
/// job's identity and its socket — so the config carries no secret, and each tool call acts as
/// the job exactly as the agent's `baton` commands do.
fn mcp_config_args() -> Vec<String> {
    let baton = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "baton".to_string());
    let config = serde_json::json!({ "mcpServers": { MCP_SERVER_NAME: { "command": baton, "args": ["mcp"] } } });
    vec!["--mcp-config".to_string(), config.to_string()]
}

/// The name claude knows baton's MCP server by: its tools are `mcp__baton__<tool>`.
pub const MCP_SERVER_NAME: &str = "baton";

/// Watches `budget` during the attempt, and hands what is left of the dollar budget to claude's
/// own `--max-budget-usd` — on baton's built-in claude command line only (a person's `command`
/// may not be claude itself), and not when the person passes the flag in `args` themselves.
pub fn watch_budget(config: &Config, job: &Job, invocation: &mut Invocation, budget: BudgetWatch) {
    let built_in = config.harnesses.get(&job.harness).filter(|h| h.command.is_none());
    if let (Format::Claude, Some(harness), Some(left)) = (invocation.format, built_in, budget.remaining_usd) {
        if !harness.args.iter().any(|a| a.starts_with(MAX_BUDGET_FLAG)) {
            invocation.argv.extend([MAX_BUDGET_FLAG.to_string(), format!("{left:.6}")]);
        }
    }
    invocation.budget = budget;
}

/// claude's own spending stop: it ends with `error_max_budget_usd` once its cost passes it.
pub const MAX_BUDGET_FLAG: &str = "--max-budget-usd";

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".baton")).unwrap();
        std::fs::write(repo.path().join(".baton/config.toml"), text).unwrap();
        let home = repo.path().display().to_string();
        Config::load(repo.path(), &|k: &str| (k == "HOME").then(|| home.clone())).unwrap()
    }

    #[test]
    fn only_claude_agents_get_the_mcp_server_and_only_when_asked() {
        let custom = "[harness.mine]\nformat = \"claude\"\ncommand = [\"my-claude\"]\n";
        let both = config(&format!("agent_interface = \"both\"\n{custom}"));
        assert!(offers_mcp(&both, "claude"));
        assert!(!offers_mcp(&both, "codex") && !offers_mcp(&both, "gemini"), "they keep the CLI");
        assert!(!offers_mcp(&both, "mine"), "a person's own command line is left as it is");
        let cli = config(custom);
        assert!(!offers_mcp(&cli, "claude"), "the default is the CLI alone");
    }

    #[test]
    fn the_mcp_config_names_this_binary_running_baton_mcp_and_no_secret() {
        let args = mcp_config_args();
        assert_eq!(args[0], "--mcp-config");
        let config: serde_json::Value = serde_json::from_str(&args[1]).unwrap();
        let server = &config["mcpServers"][MCP_SERVER_NAME];
        assert_eq!(server["args"], serde_json::json!(["mcp"]));
        let exe = std::fs::canonicalize(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(server["command"], exe.display().to_string());
        assert!(server.get("env").is_none(), "claude hands the server its own environment: {config}");
    }
}
