//! Crash safety through real processes: runners killed with SIGKILL, many runners on one
//! database, a stalled runner coming back, and agents acting outside their scope.

use crate::harness::{alive, Bench};
use serde_json::Value;
use std::collections::HashMap;

/// A quick text-format harness: records its pid, logs each execution that ran to its end, and
/// as a PM completes the assignment through the baton CLI. While the test [`hold`]s, it waits
/// before finishing.
pub fn quick_harness(bench: &Bench) -> String {
    let script = bench.path("quick.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             echo \"$$\" >> \"{pids}\"\n\
             cat > /dev/null\n\
             if [ -e \"{hold}\" ]; then\n\
               echo \"$$\" >> \"{held}\"\n\
               while [ -e \"{hold}\" ]; do sleep 0.01; done\n\
             fi\n\
             if [ \"$BATON_JOB_TYPE\" = pm ]; then\n\
               baton update-assignment \"$BATON_ASSIGNMENT_ID\" --status complete > /dev/null || exit 3\n\
             fi\n\
             echo \"$BATON_JOB_ID $BATON_JOB_TYPE\" >> \"{log}\"\n\
             echo ok\n",
            pids = bench.path("pids").display(),
            hold = bench.path("hold").display(),
            held = bench.path("held").display(),
            log = bench.path("executions").display(),
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("[harness.quick]\nformat = \"text\"\ncommand = [\"{}\"]\n", script.display())
}

/// Holds the quick harness's agents from now on: each one that starts waits before finishing,
/// until [`release`].
pub fn hold(bench: &Bench) {
    std::fs::write(bench.path("hold"), "").unwrap();
}

pub fn release(bench: &Bench) {
    std::fs::remove_file(bench.path("hold")).unwrap();
}

/// How many of the quick harness's agents waited while held.
pub fn held(bench: &Bench) -> usize {
    std::fs::read_to_string(bench.path("held")).unwrap_or_default().lines().count()
}

pub fn executions(bench: &Bench) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(bench.path("executions")).unwrap_or_default().lines() {
        let id = line.split_whitespace().next().unwrap().to_string();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

pub fn executed(bench: &Bench) -> usize {
    executions(bench).values().sum()
}

fn all_jobs(bench: &Bench) -> Vec<Value> {
    bench.json(&["jobs"]).as_array().unwrap().clone()
}

/// A tiny deterministic PRNG, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn kill_9_at_random_moments_loses_nothing_and_duplicates_nothing() {
    let bench = Bench::new();
    bench.config(&format!(
        "lease_ms = 400\nmax_lost_leases = 50\n{}[harness_defaults]\ndefault = \"quick\"\n",
        quick_harness(&bench)
    ));
    let assignments = 60;
    for i in 0..assignments {
        bench.ok(&["create", &format!("Survive {i}"), "--first", "implement"]);
    }
    let total_jobs = assignments * 2; // each implement job, then its PM
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let mut kills = 0;
    while kills < 20 && executed(&bench) < total_jobs {
        let mut runner = bench.spawn_runner(&["--concurrency", "4"]);
        // Kill at a random moment, measured in progress: after 0–4 more executions, and while
        // an agent is in the middle of its job, whose attempt the kill then loses.
        let target = (executed(&bench) + rng.below(5) as usize).min(total_jobs);
        bench.wait_for("progress before the kill", || executed(&bench) >= target);
        let before = held(&bench);
        hold(&bench);
        bench.wait_for("an agent in the middle of its job", || held(&bench) > before);
        runner.kill().unwrap();
        runner.wait().unwrap();
        release(&bench);
        kills += 1;
    }
    assert_eq!(kills, 20, "the work ran out before 20 kills; give it more jobs");
    bench.run_until_idle(&["--concurrency", "4"]);

    let jobs = all_jobs(&bench);
    assert_eq!(jobs.len(), total_jobs);
    let counts = executions(&bench);
    let mut lost_total = 0;
    for job in &jobs {
        let id = job["id"].as_str().unwrap();
        assert_eq!(job["status"], "complete", "job {id}: {job}");
        let ran = counts.get(id).copied().unwrap_or(0);
        let lost = job["lost_attempts"].as_u64().unwrap() as usize;
        lost_total += lost;
        // A PM whose runner died after its decision took effect is complete without a re-run,
        // so its script may never have reached its last line.
        let decided_then_lost = job["type"] == "pm" && lost > 0;
        assert!(ran >= 1 || decided_then_lost, "job {id} is complete but never ran to its end: {job}");
        assert!(ran <= lost + 1, "job {id} ran to its end {ran} times with only {lost} lost attempts");
        let recorded_lost =
            job["attempt_history"].as_array().unwrap().iter().filter(|a| a["outcome"] == "lost").count();
        assert_eq!(recorded_lost, lost, "job {id}: every lost attempt is in attempt_history");
    }
    assert!(lost_total > 0, "the kills should have lost some attempts");
    for a in bench.json(&["assignments"]).as_array().unwrap() {
        assert_eq!(a["status"], "complete", "{a}");
    }
    let pids = bench.agent_pids();
    bench.wait_for("every agent to be gone", || pids.iter().all(|p| !alive(*p)));
}

#[test]
fn four_runners_share_one_queue_without_double_runs() {
    let bench = Bench::new();
    // Jobs run the quick harness; their PMs log their run and decide nothing, so each assignment
    // runs its four jobs (a PM with work still queued is fine) and then waits for a person.
    // The shared queue is the point here, not worktrees (the kill test covers those).
    bench.config(&format!(
        "isolation = \"none\"\n{}[harness.pmquiet]\nformat = \"text\"\ncommand = [\"sh\", \"-c\", \"cat > /dev/null; echo $BATON_JOB_ID pm >> {}\"]\n\
         [harness_defaults]\ndefault = \"quick\"\npm = \"pmquiet\"\n",
        quick_harness(&bench),
        bench.path("executions").display()
    ));
    let assignments = 125;
    let per_assignment = 4;
    for i in 0..assignments {
        let a = bench.json(&["create", &format!("Share {i}"), "--first", "implement"]);
        let aid = a["id"].as_str().unwrap();
        for _ in 1..per_assignment {
            bench.ok(&["insert-job", aid, "--type", "review"]);
        }
    }
    let mut runners: Vec<_> = (0..4).map(|_| bench.spawn_runner_until_idle(&["--concurrency", "2"])).collect();
    for runner in &mut runners {
        assert!(runner.wait().unwrap().success());
    }

    let jobs = all_jobs(&bench);
    assert_eq!(jobs.iter().filter(|j| j["type"] != "pm").count(), assignments * per_assignment);
    assert_eq!(jobs.len(), 2 * assignments * per_assignment, "1,000 jobs: each with its PM");
    let counts = executions(&bench);
    let mut by_assignment: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for job in &jobs {
        let id = job["id"].as_str().unwrap();
        assert_eq!(counts.get(id), Some(&1), "job {id} ran {:?} times: {job}", counts.get(id));
        assert_eq!(job["status"], "complete", "{job}");
        for attempt in job["attempt_history"].as_array().unwrap() {
            let at = |k: &str| ms(attempt[k].as_str().unwrap());
            by_assignment
                .entry(job["assignment_id"].as_str().unwrap().to_string())
                .or_default()
                .push((at("started_at"), at("finished_at")));
        }
    }
    for (aid, mut spans) in by_assignment {
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0, "two jobs of {aid} ran at the same instant: {w:?}");
        }
    }
}

/// SIGSTOPs a runner, retrying until it was not caught inside a write transaction: SQLite cannot
/// take a lock from a frozen process, and this test is about leases, not about that.
fn stop_outside_a_transaction(bench: &Bench, pid: i32) {
    let db = bench.sandbox.dir.path().join("data/baton.db");
    for _ in 0..50 {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        let probe = std::process::Command::new("python3")
            .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=0.3); c.execute('BEGIN IMMEDIATE'); c.rollback()"])
            .arg(&db)
            .output()
            .unwrap();
        if probe.status.success() {
            return;
        }
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
    }
    panic!("the runner was inside a write transaction every time it was stopped");
}

/// The wall clock in milliseconds (the SQLite store's clock, on this machine).
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Milliseconds of an RFC 3339 time as baton prints it.
pub fn ms(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
}

#[test]
fn a_stalled_runner_cannot_write_and_its_agent_is_refused() {
    let bench = Bench::new();
    bench.config("lease_ms = 500\n");
    let (aid, jid) = bench.assignment("Stall @flow implement", "implement", "@stale-call-once");
    let mut runner = bench.spawn_runner(&[]);
    bench.wait_for("the agent to start", || !bench.agent_pids().is_empty());
    stop_outside_a_transaction(&bench, runner.id() as i32);
    // The agent keeps going and acts once the stopped runner's lease has run out.
    let lease_end = ms(bench.job(&jid)["lease_expires_at"].as_str().expect("the job is running"));
    bench.wait_for("the stopped runner's lease to run out", || now_ms() > lease_end);
    // The agent's call goes to its runner's socket, which a stalled runner does not answer.
    std::fs::write(bench.path("state/release"), "").unwrap();

    // Resumed, the runner finds its lease gone: it stops the agent and writes nothing for it;
    // then the job is taken over (here by the same runner) and completes once. The stale call,
    // if the runner answered it before stopping the agent, was refused by the store.
    // SAFETY: as above.
    unsafe { libc::kill(runner.id() as i32, libc::SIGCONT) };
    bench.wait_for("the assignment to complete", || bench.detail(&aid)["status"] == "complete");
    if let Some(call) = bench.agent_calls().first() {
        assert_eq!(call["rc"], 1, "{call}");
        assert!(call["stderr"].as_str().unwrap().contains("no longer holds its claim"), "{call}");
    }
    runner.kill().unwrap();
    runner.wait().unwrap();
    let job = bench.job(&jid);
    let history = job["attempt_history"].as_array().unwrap();
    assert_eq!(history[0]["outcome"], "lost", "{history:?}");
    assert_eq!(history.last().unwrap()["outcome"], "complete");
    assert_eq!(job["result"], "Done with implement (attempt 2).");
    let detail = bench.detail(&aid);
    assert!(
        detail["jobs"].as_array().unwrap().iter().all(|j| j["context"] != "from a stale agent"),
        "the stale agent's insert was refused"
    );
    let pids = bench.agent_pids();
    bench.wait_for("the stale agent to be gone", || pids.iter().all(|p| !alive(*p)));
}

#[test]
fn an_agent_cannot_mark_its_own_work_complete_but_a_person_can() {
    let bench = Bench::new();
    let (aid, _) = bench.assignment("Gate @pm-silent", "implement", "@try-complete");
    bench.run_until_idle(&[]);
    let call = &bench.agent_calls()[0];
    assert_eq!(call["rc"], 1);
    assert!(call["stderr"].as_str().unwrap().contains("only a pm job may change its assignment's status"), "{call}");
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "blocked", "the quality gate held; the PM decided nothing");
    // A person's shell is not restricted.
    bench.ok(&["update-assignment", &aid, "--status", "complete"]);
    assert_eq!(bench.detail(&aid)["status"], "complete");
    // And `baton run` refuses to start inside a job.
    let out = bench.cmd(&["run", "--until-idle"]).env("BATON_JOB_ID", "jx").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused inside a job"));
}
