//! Runners on two hosts sharing one queue and one `[sync]` git remote, on one machine: each
//! "host" is its own checkout (a clone of a bare repository, the remote) with its own
//! `BATON_HOST`. The host that ran an assignment is killed mid-job; the other continues it from
//! the commit the first one pushed. (The same stories across separate network namespaces, with
//! partitions, live in the netns tests.)

use crate::harness::{alive, git, Bench};
use std::path::{Path, PathBuf};

/// Host `a` is the bench's checkout; host `b` a second clone of the shared bare remote.
struct TwoHosts {
    bench: Bench,
    remote: PathBuf,
    b: PathBuf,
}

const CONFIG: &str = "namespace = \"repo\"\nlease_ms = 3000\nhost_gone_ms = 1000\n\
    worktree_setup = \"echo set up > .setup-ran\"\n[sync]\nremote = \"origin\"\n";

impl TwoHosts {
    fn new() -> TwoHosts {
        let bench = Bench::new();
        let remote = bench.path("remote.git");
        let repo = bench.sandbox.repo();
        git(&repo, &["clone", "-q", "--bare", ".", &remote.display().to_string()]);
        git(&repo, &["remote", "add", "origin", &remote.display().to_string()]);
        let b = bench.path("host-b");
        git(&bench.path("."), &["clone", "-q", &remote.display().to_string(), &b.display().to_string()]);
        bench.config(CONFIG);
        std::fs::create_dir_all(b.join(".baton")).unwrap();
        std::fs::write(b.join(".baton/config.toml"), CONFIG).unwrap();
        TwoHosts { bench, remote, b }
    }

    /// `baton ARGS` as host `host`, in that host's checkout.
    fn cmd(&self, host: &str, args: &[&str]) -> std::process::Command {
        let mut cmd = self.bench.cmd(args);
        cmd.env("BATON_HOST", host);
        if host == "b" {
            cmd.current_dir(&self.b);
        }
        cmd
    }

    /// The remote's copy of a file on an assignment's branch.
    fn on_remote(&self, aid: &str, file: &str) -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.remote)
            .args(["show", &format!("baton/{aid}:{file}")])
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn history_actions(detail: &serde_json::Value) -> Vec<String> {
    detail["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn a_killed_hosts_assignment_continues_on_another_host_from_its_pushed_commit() {
    let hosts = TwoHosts::new();
    let bench = &hosts.bench;
    let (aid, first) = bench.assignment("Travel between hosts", "implement", "@write hello.txt from host a");
    let second =
        bench.json(&["insert-job", &aid, "--type", "implement", "--context", "@write second.txt b @hang-once"]);
    let second = second["id"].as_str().unwrap().to_string();

    let mut a = hosts
        .cmd("a", &["run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    bench.wait_for("host a's agent to hang in the second job", || {
        !bench.agent_pids().is_empty() && bench.job(&second)["status"] == "running"
    });
    let pushed = bench.job(&first);
    assert_eq!(pushed["pushed_commit"], pushed["git_head_after"], "the first job's commit was pushed: {pushed}");
    assert_eq!(hosts.on_remote(&aid, "hello.txt").as_deref(), Some("from host a\n"));
    a.kill().unwrap();
    a.wait().unwrap();
    let pids = bench.agent_pids();
    bench.wait_for("host a's agent to be gone with its runner", || pids.iter().all(|p| !alive(*p)));

    // The queue says where the assignment lives and that another host could continue it.
    let q = bench.json(&["queue"]);
    assert_eq!((q["hosts"][&aid].as_str(), q["sync"][&aid]["in_sync"].as_bool()), (Some("a"), Some(true)), "{q}");
    let commit = pushed["git_head_after"].as_str().unwrap();
    let text = bench.ok(&["queue"]);
    assert!(text.contains(&format!("in sync with the remote at {}", &commit[..12])), "{text}");

    let out = hosts.cmd("b", &["run", "--until-idle"]).output().unwrap();
    assert!(out.status.success(), "host b's runner: {}", String::from_utf8_lossy(&out.stderr));
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "complete", "{detail}");
    assert_eq!(detail["host"], "b");
    let moved = format!("moved from host a to host b at commit {}", &commit[..12]);
    assert!(history_actions(&detail).contains(&moved), "{:?}", history_actions(&detail));
    // Host b's own worktree, set up afresh, started from the pushed commit.
    let tree = PathBuf::from(detail["worktree"].as_str().unwrap());
    assert!(tree.starts_with(&hosts.b), "{}", tree.display());
    assert_eq!(std::fs::read_to_string(tree.join("hello.txt")).unwrap(), "from host a\n");
    assert!(Path::new(&tree.join(".setup-ran")).exists(), "worktree_setup ran on host b");
    // Everything is on the remote: host a's commit and host b's.
    assert_eq!(hosts.on_remote(&aid, "hello.txt").as_deref(), Some("from host a\n"));
    assert_eq!(hosts.on_remote(&aid, "second.txt").as_deref(), Some("b\n"));
    // The interrupted job ran to completion once, on host b.
    let runs: Vec<_> = bench.agent_runs().into_iter().filter(|r| r["job"] == second.as_str()).collect();
    assert_eq!(runs.len(), 1, "only host b's attempt ended: {runs:?}");
    assert!(runs[0]["cwd"].as_str().unwrap().starts_with(hosts.b.to_str().unwrap()), "{runs:?}");
}
