//! Shutdown is free: a job stopped by its runner's shutdown — the grace running out, a second
//! Ctrl-C, a service manager's SIGTERM to every process — goes back to `pending` with its
//! attempt `interrupted`, counted against neither max_attempts nor max_lost_leases.

use crate::harness::{alive, Bench};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

fn signal(runner: &Child, signal: i32) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(runner.id() as i32, signal) };
}

fn wait_running(bench: &Bench, jid: &str) -> Vec<i32> {
    bench.wait_for("the job to run", || bench.job(jid)["status"] == "running");
    bench.wait_for("the agent to record its helper", || bench.agent_pids().len() >= 2);
    bench.agent_pids()
}

/// Every attempt recorded is `interrupted`, and the job waits to run again.
fn assert_released(bench: &Bench, jid: &str, attempts: usize) {
    let job = bench.job(jid);
    assert_eq!(job["status"], "pending", "{job}");
    let history = job["attempt_history"].as_array().unwrap();
    assert_eq!(history.len(), attempts, "{history:?}");
    assert!(history.iter().all(|a| a["outcome"] == "interrupted"), "{history:?}");
    assert_eq!(job["lost_attempts"], 0, "a shutdown is no lost lease");
}

#[test]
fn a_second_ctrl_c_stops_the_agents_at_once_and_still_requeues_the_job() {
    let bench = Bench::new();
    bench.config("containment = \"subreaper\"\n");
    let (_, jid) = bench.assignment("Impatient", "implement", "@daemon");
    // A long grace: only the second signal can end this run soon.
    let mut runner =
        bench.cmd(&["run", "--grace", "600"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let pids = wait_running(&bench, &jid);
    signal(&runner, libc::SIGINT);
    // Two signals sent at once may arrive as one: the second goes once the first was seen.
    let mut log = BufReader::new(runner.stderr.take().unwrap()).lines();
    assert!(log.by_ref().map_while(Result::ok).any(|line| line.contains("shutting down")), "no shutdown logged");
    std::thread::spawn(move || log.for_each(drop));
    signal(&runner, libc::SIGINT);
    let status = runner.wait().unwrap();
    assert!(status.success(), "stopping at once still exits cleanly: {status:?}");
    assert!(pids.iter().all(|p| !alive(*p)), "the agent and its daemon are gone when the runner exits: {pids:?}");
    assert_released(&bench, &jid, 1);
}

#[test]
fn repeated_shutdowns_never_use_up_the_attempts() {
    let bench = Bench::new();
    bench.config("max_attempts = 1\nmax_lost_leases = 1\n");
    let (aid, jid) = bench.assignment("Patient @pm-silent", "implement", "@hang");
    for round in 1..=3 {
        std::fs::remove_file(bench.path("pids")).ok();
        let mut runner = bench.spawn_runner(&["--grace", "0"]);
        wait_running(&bench, &jid);
        signal(&runner, if round == 2 { libc::SIGTERM } else { libc::SIGINT });
        assert!(runner.wait().unwrap().success());
        assert_released(&bench, &jid, round);
    }
    assert_eq!(bench.detail(&aid)["status"], "active", "nothing was charged, so no PM was asked");
}

#[test]
fn an_agent_killed_with_its_runner_by_a_service_manager_is_not_charged() {
    let bench = Bench::new();
    bench.config("max_attempts = 1\n");
    let (_, jid) = bench.assignment("Service", "implement", "@hang");
    let mut runner = bench.spawn_runner(&["--grace", "30"]);
    let pids = wait_running(&bench, &jid);
    // Like `systemctl stop`: SIGTERM to the runner and to every process of the service.
    signal(&runner, libc::SIGTERM);
    for pid in &pids {
        // SAFETY: signalling the stand-in agent and its child, started by this test's runner.
        unsafe { libc::kill(*pid, libc::SIGTERM) };
    }
    assert!(runner.wait().unwrap().success());
    assert_released(&bench, &jid, 1);
}

#[test]
fn an_agent_that_exits_0_without_a_result_fails_once_for_the_pm_to_decide() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("No verdict @pm-silent", "implement", "@no-result");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["error_kind"].as_str()), (Some("failed"), Some("permanent")), "{job}");
    assert_eq!(job["attempts"], 1, "not retried: it may already have changed files");
    assert!(job["error"].as_str().unwrap().contains("the agent exited without a result event"), "{}", job["error"]);
    assert_eq!(bench.detail(&aid)["jobs"][1]["type"], "pm", "the PM decides what comes next");
}

#[test]
fn run_help_says_a_shutdown_is_not_charged() {
    let help = Bench::new().ok(&["run", "--help"]);
    assert!(help.contains("a second\nCtrl-C stops their agents at once"), "{help}");
    assert!(help.contains("counts against neither max_attempts\nnor max_lost_leases"), "{help}");
}
