//! Containment: nothing an attempt starts outlives it — a child that ignores SIGTERM, a daemon
//! that left the agent's session with `setsid` and a double fork — on timeout, cancel, the
//! runner's SIGKILL, and a takeover. Each mechanism is forced: the cgroup tests need a writable
//! cgroup v2 (baton-testkit's `cgroup2` prerequisite), the subreaper tests run anywhere.

use crate::harness::{alive, Bench};
use std::process::Child;

/// A bench whose runners use `mechanism`.
fn bench(mechanism: &str) -> Bench {
    if mechanism == "cgroup" {
        baton_testkit::cgroup2();
    }
    let bench = Bench::new();
    bench.config(&format!("containment = \"{mechanism}\"\n"));
    bench
}

/// Waits until the job runs and its agent recorded itself and its helper process.
fn wait_helper(bench: &Bench, jid: &str) -> Vec<i32> {
    bench.wait_for("the job to run", || bench.job(jid)["status"] == "running");
    bench.wait_for("the agent to record its helper", || bench.agent_pids().len() >= 2);
    bench.agent_pids()
}

fn kill_runner(mut runner: Child) {
    runner.kill().unwrap();
    runner.wait().unwrap();
}

fn after_timeout(mechanism: &str) {
    let bench = bench(mechanism);
    bench.config(&format!("containment = \"{mechanism}\"\ntimeout_ms = 1500\n"));
    let (_, jid) = bench.assignment("Daemon @pm-silent", "implement", "@daemon");
    bench.run_until_idle(&[]);
    assert_eq!(bench.job(&jid)["error_kind"], "timeout");
    let pids = bench.agent_pids();
    assert_eq!(pids.len(), 2, "the agent and its daemon: {pids:?}");
    // The attempt ended only once its whole tree was gone: no waiting here.
    assert!(pids.iter().all(|p| !alive(*p)), "survivors after the timeout: {pids:?}");
}

fn after_cancel(mechanism: &str) {
    let bench = bench(mechanism);
    let (_, jid) = bench.assignment("Daemon", "implement", "@daemon");
    let runner = bench.spawn_runner(&[]);
    let pids = wait_helper(&bench, &jid);
    bench.ok(&["cancel-job", &jid]);
    bench.wait_for("the runner to let go", || bench.json(&["queue"])["running"].as_array().unwrap().is_empty());
    bench.wait_for("the agent and its daemon to die", || pids.iter().all(|p| !alive(*p)));
    kill_runner(runner);
}

fn after_runner_death(mechanism: &str) {
    let bench = bench(mechanism);
    let (_, jid) = bench.assignment("Daemon", "implement", "@daemon");
    let runner = bench.spawn_runner(&[]);
    let pids = wait_helper(&bench, &jid);
    kill_runner(runner);
    bench.wait_for("the agent and its daemon to die with their runner", || pids.iter().all(|p| !alive(*p)));
}

/// The first attempt leaves `helper` (stubborn or daemon) behind when its runner is SIGKILLed;
/// the second attempt, started by a new runner, finds none of the first one's processes alive.
fn before_the_next_attempt(mechanism: &str, helper: &str) {
    let bench = bench(mechanism);
    bench.config(&format!("containment = \"{mechanism}\"\nlease_ms = 600\n"));
    let (_, jid) = bench.assignment("Survive @pm-silent", "implement", &format!("@{helper}-once"));
    let runner = bench.spawn_runner(&[]);
    wait_helper(&bench, &jid);
    kill_runner(runner);
    let log = bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete", "{job}");
    let survivors = std::fs::read_to_string(bench.path("state").join("survivors")).unwrap();
    assert_eq!(survivors.trim(), "", "the first attempt's processes alive when the second started; {log}");
}

fn shown_in_the_queue(mechanism: &str) {
    let bench = bench(mechanism);
    let (_, jid) = bench.assignment("Shown", "implement", "@hang");
    let runner = bench.spawn_runner(&[]);
    wait_helper(&bench, &jid);
    let queue = bench.json(&["queue"]);
    assert_eq!(queue["runners"][0]["containment"], mechanism, "{queue}");
    assert!(bench.ok(&["queue"]).contains(mechanism), "the text view names the mechanism");
    kill_runner(runner);
}

#[test]
#[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
fn cgroup2_a_daemon_is_gone_after_a_timeout() {
    after_timeout("cgroup");
}

#[test]
fn subreaper_a_daemon_is_gone_after_a_timeout() {
    after_timeout("subreaper");
}

#[test]
#[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
fn cgroup2_a_daemon_is_gone_after_a_cancel() {
    after_cancel("cgroup");
}

#[test]
fn subreaper_a_daemon_is_gone_after_a_cancel() {
    after_cancel("subreaper");
}

#[test]
#[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
fn cgroup2_a_daemon_is_gone_after_its_runner_was_killed() {
    after_runner_death("cgroup");
}

#[test]
fn subreaper_a_daemon_is_gone_after_its_runner_was_killed() {
    after_runner_death("subreaper");
}

#[test]
#[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
fn cgroup2_a_sigterm_ignoring_child_is_gone_before_the_next_attempt() {
    before_the_next_attempt("cgroup", "stubborn");
}

#[test]
fn subreaper_a_sigterm_ignoring_child_is_gone_before_the_next_attempt() {
    before_the_next_attempt("subreaper", "stubborn");
}

#[test]
#[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
fn cgroup2_a_daemon_is_gone_before_the_next_attempt() {
    before_the_next_attempt("cgroup", "daemon");
}

#[test]
fn subreaper_a_daemon_is_gone_before_the_next_attempt() {
    before_the_next_attempt("subreaper", "daemon");
}

#[test]
#[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
fn cgroup2_the_queue_shows_the_mechanism() {
    shown_in_the_queue("cgroup");
}

#[test]
fn subreaper_the_queue_shows_the_mechanism() {
    shown_in_the_queue("subreaper");
}

/// The runner's supervisor host (`baton __supervise-host`, which forks each attempt's
/// supervisor), found among the runner's children.
fn supervisor_host_of(runner: u32) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        let parent: u32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        let is_host = cmdline.split(|b| *b == 0).any(|arg| arg == b"__supervise-host");
        (parent == runner && is_host && alive(pid)).then_some(pid)
    })
}

/// The host can die (SIGKILL) without taking anything with it: the attempt it forked runs to
/// its end and is recorded, and the attempts after it get a new host.
#[test]
fn a_killed_supervisor_host_takes_no_attempt_with_it() {
    let bench = Bench::new();
    let (first, jid) = bench.assignment("Outlive the host", "implement", "@wait-release");
    let runner = bench.spawn_runner(&[]);
    bench.wait_for("the agent to start", || !bench.agent_pids().is_empty());
    let mut host = None;
    bench.wait_for("the runner's supervisor host", || {
        host = supervisor_host_of(runner.id());
        host.is_some()
    });
    let host = host.unwrap();
    // SAFETY: killing the host process found above.
    unsafe { libc::kill(host, libc::SIGKILL) };
    bench.wait_for("the host to die", || !alive(host));
    assert!(alive(bench.agent_pids()[0]), "the agent died with the host");
    std::fs::write(bench.path("state").join("release"), "").unwrap();
    bench.wait_for("the job to complete", || bench.job(&jid)["status"] == "complete");
    bench.wait_for("its PM, under a new host, to complete the assignment", || {
        bench.json(&["assignment", &first])["status"] == "complete"
    });
    let (second, _) = bench.assignment("After the host", "implement", "");
    bench.wait_for("the next assignment to complete", || bench.json(&["assignment", &second])["status"] == "complete");
    let replaced = supervisor_host_of(runner.id());
    assert!(replaced.is_some_and(|pid| pid != host), "a new host: {replaced:?} (the old one was {host})");
    kill_runner(runner);
}

#[test]
fn an_unknown_mechanism_is_refused() {
    let bench = Bench::new();
    bench.config("containment = \"jail\"\n");
    let out = bench.cmd(&["run", "--until-idle"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("containment `jail` is not known; valid values: auto, cgroup, subreaper"), "{stderr}");
}

/// A runner and its supervisors killed at once leave the attempt's cgroup behind, with whatever
/// still ran in it. The next runner on the host ends the groups of its namespace's attempts that
/// no longer run (the process inside dies), and leaves a group whose job its store does not know
/// (another database's, live under its own runner).
#[test]
#[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
fn cgroup2_a_starting_runner_ends_the_attempt_groups_left_behind() {
    use baton_runner::containment::cgroup::{mount_point, own_path};
    let bench = bench("cgroup");
    let (_, jid) = bench.assignment("Left behind", "implement", "");
    bench.run_until_idle(&[]);
    assert_eq!(bench.job(&jid)["status"], "complete");
    // The runner's attempt groups go in its own cgroup, which it inherits from this process.
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let own = own_path(&std::fs::read_to_string("/proc/self/cgroup").unwrap()).unwrap();
    let parent = mount_point(&mountinfo).unwrap().join(own.trim_start_matches('/'));
    let (left, setup) = (parent.join(format!("baton-{jid}-1")), parent.join(format!("baton-{jid}-1-setup")));
    let unknown = parent.join(format!("baton-j{}-1", std::process::id()));
    let mut planted = Planted { groups: vec![left.clone(), setup.clone(), unknown.clone()], survivor: None };
    for group in &planted.groups {
        std::fs::create_dir(group).unwrap();
    }
    let survivor = planted.survivor.insert(std::process::Command::new("sleep").arg("600").spawn().unwrap());
    std::fs::write(left.join("cgroup.procs"), survivor.id().to_string()).unwrap();
    let log = bench.run_until_idle(&[]);
    assert_eq!([&left, &setup].map(|g| g.exists()), [false, false], "the left-over groups are gone; {log}");
    assert!(unknown.exists(), "another store's group is left to its own runner");
    let status = survivor.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(libc::SIGKILL), "{status:?}");
}

/// Groups and a process a test planted, gone when the test ends however it ends.
struct Planted {
    groups: Vec<std::path::PathBuf>,
    survivor: Option<std::process::Child>,
}

impl Drop for Planted {
    fn drop(&mut self) {
        if let Some(survivor) = self.survivor.as_mut() {
            let _ = survivor.kill();
            let _ = survivor.wait();
        }
        for group in &self.groups {
            let _ = std::fs::remove_dir(group);
        }
    }
}
