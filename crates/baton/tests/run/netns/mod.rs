//! Runners on separate hosts, for real: PostgreSQL and the `[sync]` git remote in one network
//! namespace, two runner hosts in two others (the topology is drawn in [`topology`]). A host is
//! killed mid-job, a host is partitioned from the database for longer than its lease, and
//! PostgreSQL restarts under both hosts. Every test needs root and `ip` (see baton-testkit's
//! `NETNS`), so they are ignored unless asked for; `scripts/test` asks.

mod topology;

use crate::crash::{executed, executions, held, hold, ms, quick_harness, release};
use crate::harness::{alive, git, Bench};
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use topology::{Daemon, Host, Machine, Topology};

/// The config both runner hosts share: short leases, a host is gone after 1 s, and every
/// assignment's branch is pushed to `origin` (the git daemon in the database namespace).
const SYNCED: &str = "namespace = \"repo\"\nlease_ms = 3000\nhost_gone_ms = 1000\n\
    worktree_setup = \"echo set up > .setup-ran\"\n[sync]\nremote = \"origin\"\n";

/// A test's world: the topology, PostgreSQL, the git daemon, and the two runner machines.
struct Cluster {
    // Dropped first: the machines' files, then the namespaces with everything running in them.
    bench: Bench,
    a: Machine,
    b: Machine,
    _daemon: Daemon,
    net: Topology,
}

impl Cluster {
    fn new(octet: u8, config: impl Fn(&Bench) -> String) -> Cluster {
        let mut net = Topology::new(octet);
        net.start_postgres();
        let mut bench = Bench::new();
        bench.database_url = Some(net.database_url(Host::Db));
        let remotes = bench.path("remotes");
        std::fs::create_dir_all(&remotes).unwrap();
        let remote = remotes.join("remote.git");
        git(&bench.sandbox.repo(), &["clone", "-q", "--bare", ".", &remote.display().to_string()]);
        let daemon = net.start_git_daemon(&remotes, "remote.git");
        let config = config(&bench);
        // The person's checkout (where the tests' CLI calls run) shares the hosts' config.
        bench.config(&config);
        let a = Machine::new(&bench, &net, Host::A, &remote, &config);
        let b = Machine::new(&bench, &net, Host::B, &remote, &config);
        Cluster { bench, a, b, _daemon: daemon, net }
    }

    /// `baton ARGS --json` run in the database namespace (as a person next to the database).
    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.net.on(Host::Db, &self.bench.cmd(&args)).output().unwrap();
        assert!(out.status.success(), "baton {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn job(&self, id: &str) -> Value {
        self.json(&["job", id])
    }

    /// A runner in the background on `machine`.
    fn spawn(&self, machine: &Machine, args: &[&str]) -> Child {
        let log = std::fs::File::create(self.bench.path(&format!("runner-{}.log", machine.name))).unwrap();
        machine.cmd(&self.bench, &self.net, args).stdout(Stdio::null()).stderr(log).spawn().unwrap()
    }

    /// The remote's copy of `file` on an assignment's branch (read from the bare repository).
    fn on_remote(&self, aid: &str, file: &str) -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(self.bench.path("remotes/remote.git"))
            .args(["show", &format!("baton/{aid}:{file}")])
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn remote_head(&self, aid: &str) -> String {
        git(&self.bench.path("remotes/remote.git"), &["rev-parse", &format!("refs/heads/baton/{aid}")])
            .trim()
            .to_string()
    }

    /// An assignment of two implement jobs: the first writes a file, the second writes another
    /// and hangs on its first attempt. Returns (assignment, first job, second job).
    fn two_jobs(&self) -> (String, String, String) {
        let a = self.json(&["create", "Travel between hosts"]);
        let aid = a["id"].as_str().unwrap().to_string();
        let insert = |context: &str| {
            let j = self.json(&["insert-job", &aid, "--type", "implement", "--context", context]);
            j["id"].as_str().unwrap().to_string()
        };
        let first = insert("@write first.txt from host a");
        let second = insert("@write second.txt from the second job @hang-once");
        (aid, first, second)
    }

    /// Waits until `check` holds (polling observable state, never a fixed sleep).
    fn wait_for(&self, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !check() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}; runner logs:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self) -> String {
        ["a", "b"]
            .iter()
            .map(|h| {
                let text = std::fs::read_to_string(self.bench.path(&format!("runner-{h}.log"))).unwrap_or_default();
                format!("--- host {h}\n{text}")
            })
            .collect()
    }

    /// Host a runs the first job and hangs in the second; returns its runner.
    fn host_a_in_the_second_job(&self, second: &str) -> Child {
        let runner = self.spawn(&self.a, &["run"]);
        self.wait_for("host a's agent to hang in the second job", || {
            !self.bench.agent_pids().is_empty() && self.job(second)["status"] == "running"
        });
        runner
    }
}

fn history_actions(detail: &Value) -> Vec<String> {
    detail["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap_or_default().to_string()).collect()
}

fn stop(mut runner: Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(runner.id() as i32, libc::SIGTERM) };
    let _ = runner.wait();
}

#[test]
#[ignore = "needs network namespaces (root and ip)"]
fn netns_a_killed_host_is_taken_over_from_its_pushed_commit() {
    let c = Cluster::new(211, |_| SYNCED.to_string());
    let (aid, first, second) = c.two_jobs();
    let mut a = c.host_a_in_the_second_job(&second);
    let pushed = c.job(&first);
    let commit = pushed["git_head_after"].as_str().unwrap().to_string();
    assert_eq!(pushed["pushed_commit"].as_str(), Some(commit.as_str()), "host a pushed through git://: {pushed}");
    assert_eq!(c.on_remote(&aid, "first.txt").as_deref(), Some("from host a\n"));

    // Host a loses its power: every process in its namespace, agent included, is SIGKILLed.
    let pids = c.bench.agent_pids();
    c.net.kill_all(Host::A);
    let _ = a.wait();
    assert!(pids.iter().all(|p| !alive(*p)), "host a's agent is not running");

    let out = c.b.cmd(&c.bench, &c.net, &["run", "--until-idle"]).output().unwrap();
    assert!(out.status.success(), "host b's runner: {}", String::from_utf8_lossy(&out.stderr));
    let detail = c.json(&["assignment", &aid]);
    assert_eq!((detail["status"].as_str(), detail["host"].as_str()), (Some("complete"), Some("b")), "{detail}");
    let moved = format!("moved from host a to host b at commit {}", &commit[..12]);
    assert!(history_actions(&detail).contains(&moved), "{:?}", history_actions(&detail));
    let tree = std::path::PathBuf::from(detail["worktree"].as_str().unwrap());
    assert!(tree.starts_with(&c.b.checkout) && tree.join(".setup-ran").exists(), "{}", tree.display());
    // Nothing host a committed and pushed is lost, and host b's work is on the remote too.
    assert_eq!(c.on_remote(&aid, "first.txt").as_deref(), Some("from host a\n"));
    assert_eq!(c.on_remote(&aid, "second.txt").as_deref(), Some("from the second job\n"));
    assert_eq!(detail["pushed_commit"].as_str(), Some(c.remote_head(&aid).as_str()));
    let runs: Vec<_> = c.bench.agent_runs().into_iter().filter(|r| r["job"] == second.as_str()).collect();
    assert_eq!(runs.len(), 1, "the second job ran to its end once, on host b: {runs:?}");
}

#[test]
#[ignore = "needs network namespaces (root and ip)"]
fn netns_a_partitioned_host_stops_its_agent_and_rejoins_without_double_runs() {
    let c = Cluster::new(212, |_| SYNCED.to_string());
    let (aid, _first, second) = c.two_jobs();
    let a = c.host_a_in_the_second_job(&second);
    let b = c.spawn(&c.b, &["run"]);
    let pids = c.bench.agent_pids();

    // Host a is cut off from PostgreSQL and from the git remote for longer than its lease.
    c.net.connect(Host::A, false);
    c.wait_for("host a to stop its agent once its lease deadline passed", || pids.iter().all(|p| !alive(*p)));
    c.wait_for("host b to take the second job over and finish it", || c.job(&second)["status"] == "complete");
    let job = c.job(&second);
    let outcomes: Vec<&str> =
        job["attempt_history"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap_or_default()).collect();
    assert_eq!(outcomes.first().copied(), Some("lost"), "{job}");
    let detail = c.json(&["assignment", &aid]);
    assert_eq!(detail["host"].as_str(), Some("b"), "{detail}");
    assert!(history_actions(&detail).iter().any(|h| h.starts_with("moved from host a to host b")), "{detail}");

    // Healed: host a's runner is back, and runs nothing of what host b now holds.
    c.net.connect(Host::A, true);
    let healed = now_ms();
    c.wait_for("host a's runner to heartbeat again", || {
        c.json(&["queue"])["runners"].as_array().unwrap().iter().any(|r| {
            r["host"] == "a" && r["lost"] == false && r["heartbeat_at"].as_str().is_some_and(|t| ms(t) > healed)
        })
    });
    c.wait_for("the assignment to complete on host b", || c.json(&["assignment", &aid])["status"] == "complete");
    let runs: Vec<_> = c.bench.agent_runs().into_iter().filter(|r| r["job"] == second.as_str()).collect();
    assert_eq!(runs.len(), 1, "the second job ran to its end once: {runs:?}");
    assert!(runs[0]["cwd"].as_str().unwrap().starts_with(c.b.checkout.to_str().unwrap()), "{runs:?}");
    // Host a wrote nothing after its deadline: no push over host b's work, no result.
    assert_eq!(c.json(&["assignment", &aid])["pushed_commit"].as_str(), Some(c.remote_head(&aid).as_str()));
    assert_eq!(c.on_remote(&aid, "second.txt").as_deref(), Some("from the second job\n"));
    // The PM that completed the assignment records its own end just after its decision.
    c.wait_for("every job to end", || {
        c.json(&["jobs"]).as_array().unwrap().iter().all(|j| j["status"] != "running" && j["status"] != "pending")
    });
    for job in c.json(&["jobs"]).as_array().unwrap() {
        assert_eq!(job["status"], "complete", "{job}");
    }
    stop(a);
    stop(b);
}

#[test]
#[ignore = "needs network namespaces (root and ip)"]
fn netns_both_hosts_ride_out_a_database_restart() {
    let c = Cluster::new(213, |bench| {
        format!(
            "namespace = \"repo\"\nisolation = \"none\"\nlease_ms = 2000\n{}[harness_defaults]\ndefault = \"quick\"\n",
            quick_harness(bench)
        )
    });
    let assignments = 16;
    for i in 0..assignments {
        c.json(&["create", &format!("Restart {i}"), "--first", "implement"]);
    }
    let runners = [c.spawn(&c.a, &["run", "--until-idle"]), c.spawn(&c.b, &["run", "--until-idle"])];
    c.wait_for("some progress before the restart", || executed(&c.bench) >= 4);
    hold(&c.bench);
    c.wait_for("an agent in the middle of its job", || held(&c.bench) >= 1);
    c.net.pg_ctl("stop");
    c.net.pg_ctl("start");
    release(&c.bench);
    for mut runner in runners {
        assert!(runner.wait().unwrap().success(), "both hosts resume by themselves and finish:\n{}", c.logs());
    }
    let counts = executions(&c.bench);
    let jobs = c.json(&["jobs"]);
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 2 * assignments);
    for job in jobs {
        let id = job["id"].as_str().unwrap();
        assert_eq!(job["status"], "complete", "{job}");
        let lost = job["lost_attempts"].as_u64().unwrap() as usize;
        let ran = counts.get(id).copied().unwrap_or(0);
        assert!(ran >= 1 || (job["type"] == "pm" && lost > 0), "job {id} never ran: {job}");
        assert!(ran <= 1 + lost, "job {id} ran {ran} times with {lost} lost attempts");
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}
