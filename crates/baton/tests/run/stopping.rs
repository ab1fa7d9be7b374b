//! Stopping agents: timeouts, cancels, shutdowns, and runners that die mid-job.

use crate::harness::{alive, Bench};

fn wait_running(bench: &Bench, jid: &str) {
    bench.wait_for("the job to run", || bench.job(jid)["status"] == "running");
    bench.wait_for("the agent to record its pids", || bench.agent_pids().len() >= 2);
}

#[test]
fn a_hang_times_out_and_the_whole_process_tree_dies() {
    let bench = Bench::new();
    bench.config("timeout_ms = 1500\n");
    let (aid, jid) = bench.assignment("Hang @pm-silent", "implement", "@hang");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["error_kind"].as_str()), (Some("failed"), Some("timeout")));
    assert!(job["error"].as_str().unwrap().contains("timed out"), "{}", job["error"]);
    assert_eq!(job["attempts"], 1, "a timeout is not retried by default");
    let pids = bench.agent_pids();
    assert_eq!(pids.len(), 2, "the stand-in and its child");
    bench.wait_for("the agent and its child to die", || pids.iter().all(|p| !alive(*p)));
    assert_eq!(bench.detail(&aid)["jobs"][1]["type"], "pm", "the PM decides after a timeout");
}

#[test]
fn cancelling_a_running_job_stops_its_agent() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Cancel me", "implement", "@hang");
    let mut runner = bench.spawn_runner(&[]);
    wait_running(&bench, &jid);
    let said = bench.ok(&["cancel-job", &jid]);
    assert!(said.contains("its runner stops the agent"), "{said}");
    assert!(said.contains("decides what follows the stopped job"), "{said}");
    assert_eq!(bench.job(&jid)["status"], "cancelled");
    let pids = bench.agent_pids();
    bench.wait_for("the agent to be stopped", || pids.iter().all(|p| !alive(*p)));
    // A PM decides what follows the stopped job (this one completes the assignment).
    bench.wait_for("the PM to decide", || bench.detail(&aid)["status"] != "active");
    runner.kill().unwrap();
    runner.wait().unwrap();
    let detail = bench.detail(&aid);
    let jobs = detail["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{detail}");
    assert_eq!((jobs[1]["type"].as_str(), jobs[1]["for_job_id"].as_str()), (Some("pm"), Some(jid.as_str())));
    assert_eq!(bench.job(&jid)["attempt_history"][0]["outcome"], "cancelled");
}

#[test]
fn completing_the_assignment_stops_its_running_job() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Complete me", "implement", "@hang");
    let mut runner = bench.spawn_runner(&[]);
    wait_running(&bench, &jid);
    bench.ok(&["update-assignment", &aid, "--status", "complete"]);
    let pids = bench.agent_pids();
    bench.wait_for("the agent to be stopped", || pids.iter().all(|p| !alive(*p)));
    runner.kill().unwrap();
    runner.wait().unwrap();
    assert_eq!(bench.job(&jid)["status"], "cancelled");
}

#[test]
fn a_graceful_shutdown_requeues_without_charging_the_attempt() {
    let bench = Bench::new();
    let (_, jid) = bench.assignment("Shutdown", "implement", "@hang");
    let mut runner = bench.spawn_runner(&["--grace", "0"]);
    wait_running(&bench, &jid);
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(runner.id() as i32, libc::SIGINT) };
    let status = runner.wait().unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
    let job = bench.job(&jid);
    assert_eq!(job["status"], "pending");
    assert_eq!(job["attempt_history"][0]["outcome"], "interrupted");
    let pids = bench.agent_pids();
    bench.wait_for("the agent to be stopped", || pids.iter().all(|p| !alive(*p)));
    assert!(bench.json(&["queue"])["ready"].as_array().unwrap().iter().any(|j| j["id"] == jid.as_str()));
}

#[test]
fn a_killed_runner_kills_its_agent_and_the_job_is_taken_over() {
    let bench = Bench::new();
    bench.config("lease_ms = 600\n");
    let (aid, jid) = bench.assignment("Survive @flow implement", "implement", "@hang-once");
    let mut doomed = bench.spawn_runner(&[]);
    wait_running(&bench, &jid);
    let pids = bench.agent_pids();
    // SIGKILL: the runner gets no chance to clean up; the lifeline must take the agent down.
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    bench.wait_for("the orphaned agent to die", || pids.iter().all(|p| !alive(*p)));

    // The job is still recorded as running under the dead runner's lease; a new runner takes it
    // over once the lease expires. This time the agent succeeds.
    std::fs::remove_file(bench.path("pids")).unwrap();
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    let history = job["attempt_history"].as_array().unwrap();
    assert_eq!(history[0]["outcome"], "lost", "{history:?}");
    assert_eq!(history[0]["error_kind"], "lost");
    assert_eq!(job["lost_attempts"], 1);
    assert_eq!(history[1]["outcome"], "complete");
    assert_eq!(job["status"], "complete");
    assert_eq!(bench.detail(&aid)["status"], "complete");
}
