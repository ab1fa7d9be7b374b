//! The runner test bench: a sandbox whose PATH starts with stand-in `claude`, `codex` and
//! `gemini` executables, plus helpers to start runners and wait on observable state.

use crate::common::Sandbox;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub struct Bench {
    pub sandbox: Sandbox,
    /// Overrides the sandbox's SQLite database (a PostgreSQL URL).
    pub database_url: Option<String>,
}

/// How long any wait may take before the test fails (generous: CI machines are slow).
const PATIENCE: Duration = Duration::from_secs(60);

impl Bench {
    pub fn new() -> Bench {
        let sandbox = Sandbox::new();
        // A real git repository with one commit: runners give each assignment its own worktree.
        let repo = sandbox.repo();
        std::fs::remove_dir_all(repo.join(".git")).unwrap();
        std::fs::write(repo.join("README.md"), "a repository for baton's tests\n").unwrap();
        for args in [&["init", "-q", "-b", "main"][..], &["add", "README.md"], &["commit", "-q", "-m", "initial"]] {
            git(&repo, args);
        }
        let bin = sandbox.dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let standin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/agents/standin.py");
        for flavour in ["claude", "codex", "gemini"] {
            let path = bin.join(flavour);
            std::fs::write(&path, format!("#!/bin/sh\nexec python3 {} {flavour} \"$@\"\n", standin.display())).unwrap();
            make_executable(&path);
        }
        Bench { sandbox, database_url: None }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.sandbox.dir.path().join(name)
    }

    /// `baton ARGS` with the stand-ins on PATH and short test timings.
    pub fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.sandbox.std_cmd_in(&self.sandbox.repo());
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", self.path("bin").display()))
            .env("STANDIN_LOG", self.path("agents.log"))
            .env("STANDIN_STATE", self.path("state"))
            .env("STANDIN_PIDS", self.path("pids"))
            .env("STANDIN_CALLS", self.path("calls"))
            .env("STANDIN_PROMPTS", self.path("prompts"))
            .env("BATON_RETRY_BASE_MS", "20")
            .args(args);
        if let Some(url) = &self.database_url {
            cmd.env("BATON_DATABASE_URL", url);
        }
        // The stand-ins and the files they record to live in the bench, under /tmp, which a
        // sandbox hides: they run unsandboxed unless the test's config chooses a sandbox.
        let config = std::fs::read_to_string(self.sandbox.repo().join(".baton/config.toml")).unwrap_or_default();
        if !config.lines().any(|l| l.trim_start().starts_with("sandbox")) {
            cmd.env("BATON_SANDBOX", "none");
        }
        cmd
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(out.status.success(), "baton {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        serde_json::from_str(&self.ok(&args)).unwrap()
    }

    /// Creates an assignment and queues its first job; returns (assignment id, job id).
    pub fn assignment(&self, north_star: &str, job_type: &str, context: &str) -> (String, String) {
        let a = self.json(&["create", north_star]);
        let aid = a["id"].as_str().unwrap().to_string();
        let j = self.json(&["insert-job", &aid, "--type", job_type, "--context", context]);
        (aid, j["id"].as_str().unwrap().to_string())
    }

    /// `baton run --until-idle …` to completion; returns its stderr.
    pub fn run_until_idle(&self, extra: &[&str]) -> String {
        let mut args = vec!["run", "--until-idle"];
        args.extend_from_slice(extra);
        let out = self.cmd(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "baton run failed: {stderr}");
        stderr
    }

    /// A runner in the background.
    pub fn spawn_runner(&self, extra: &[&str]) -> Child {
        let mut args = vec!["run"];
        args.extend_from_slice(extra);
        self.cmd(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
    }

    /// A `baton run --until-idle` in the background.
    pub fn spawn_runner_until_idle(&self, extra: &[&str]) -> Child {
        let mut args = vec!["run", "--until-idle"];
        args.extend_from_slice(extra);
        self.cmd(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
    }

    pub fn job(&self, id: &str) -> Value {
        self.json(&["job", id])
    }

    pub fn detail(&self, aid: &str) -> Value {
        self.json(&["assignment", aid])
    }

    /// Waits until `check` holds, polling observable state (never a fixed sleep).
    pub fn wait_for(&self, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The stand-in agents' run log: one JSON object per run.
    pub fn agent_runs(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path("agents.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Process ids the hanging stand-ins recorded (the agent and its own child).
    pub fn agent_pids(&self) -> Vec<i32> {
        std::fs::read_to_string(self.path("pids"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// The baton calls the stand-in agents made and how they ended.
    pub fn agent_calls(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path("calls"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The prompt a stand-in agent received for a job.
    pub fn prompt(&self, job_id: &str) -> String {
        std::fs::read_to_string(self.path("prompts").join(format!("{job_id}.md"))).unwrap_or_default()
    }

    /// Writes the repository's config.
    pub fn config(&self, text: &str) {
        let dir = self.sandbox.repo().join(".baton");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), text).unwrap();
    }
}

/// Runs git in `dir` with a fixed identity; panics on failure.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=baton tests", "-c", "user.email=tests@baton.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Whether a process is still alive (a zombie awaiting its reaper counts as dead).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

pub fn types_and_statuses(detail: &Value) -> Vec<(String, String)> {
    detail["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["type"].as_str().unwrap().to_string(), j["status"].as_str().unwrap().to_string()))
        .collect()
}

pub fn pair(t: &str, s: &str) -> (String, String) {
    (t.to_string(), s.to_string())
}
