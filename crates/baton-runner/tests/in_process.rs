//! `baton_runner::run` in the test's own process, against a real SQLite store, with stand-in
//! agents (`sh` scripts of the `text` harness) and a clock that follows tokio's paused time:
//! leases, back-offs, timeouts and shutdown, each in milliseconds of real time.
//!
//! Agents run in real time while virtual time moves on whenever everything waits, so scripts
//! that wait do it on a file the test writes, and time limits the test does not exercise are a
//! day long.

mod support;

use baton_core::request::AssignmentUpdate;
use baton_core::time::Clock;
use baton_core::{Actor, AssignmentStatus, AttemptOutcome, ErrorKind, JobStatus};
use std::time::Duration;
use support::{alive, hold_time_until_file, wait_for_file, Bench, Setup, NS};

/// An agent that says it started and waits for the test's go.
const WAITS_FOR_GO: &str = r#"echo $$ > "$BENCH/pid.tmp" && mv "$BENCH/pid.tmp" "$BENCH/pid"
while [ ! -f "$BENCH/go" ]; do sleep 0.01; done
echo finished"#;

#[tokio::test(start_paused = true)]
async fn renewals_keep_the_lease_of_an_agent_that_outlives_it() {
    let lease_ms = 3_000;
    let bench = Bench::new(Setup { script: WAITS_FOR_GO, lease_ms, ..Setup::default() }).await;
    let job = bench.job().await;
    let runner = bench.runner(|_| {});
    wait_for_file(&bench.path("pid")).await;
    let running = bench.wait_for("the job to run", &job, |j| j.status == JobStatus::Running).await;
    let started = running.started_at.unwrap();

    // Five leases' worth of time: without renewals the job would have been lost five times.
    tokio::time::sleep(Duration::from_millis(5 * lease_ms)).await;
    let now = bench.clock.now();
    assert!(now >= started + 5 * lease_ms as i64);
    let still = bench.read(&job).await;
    assert_eq!((still.status, still.attempts, still.lost_attempts), (JobStatus::Running, 1, 0));
    assert!(still.lease_expires_at.unwrap() > now, "the lease was renewed: {still:?}");
    assert!(bench.claim_as_a_dead_runner(lease_ms).await.is_none(), "a held lease is not taken over");

    std::fs::write(bench.path("go"), "").unwrap();
    let done = bench.wait_for("the job to succeed", &job, |j| j.status == JobStatus::Complete).await;
    assert_eq!((done.attempts, done.result.as_deref()), (1, Some("finished")));
    runner.shut_down().await;
}

#[tokio::test(start_paused = true)]
async fn a_lost_lease_is_taken_over_once_it_expires() {
    let lease_ms = 3_000;
    let bench = Bench::new(Setup { script: "echo took over", lease_ms, ..Setup::default() }).await;
    let job = bench.job().await;
    let dead = bench.claim_as_a_dead_runner(lease_ms).await.expect("a job to claim");
    assert_eq!(dead.job.id, job);

    let runner = bench.runner(|_| {});
    let done = bench.wait_for("the job to be taken over", &job, |j| j.status == JobStatus::Complete).await;
    let [lost, second] = &done.attempt_history[..] else { panic!("two attempts: {:?}", done.attempt_history) };
    assert_eq!((lost.runner.as_deref(), lost.outcome), (Some("r-dead"), AttemptOutcome::Lost));
    assert_eq!(second.outcome, AttemptOutcome::Complete);
    assert_ne!(second.runner.as_deref(), Some("r-dead"));
    // Not before the lease ran out, and not much later: the runner slept until that deadline.
    assert!(second.started_at >= dead.lease_expires_at, "{second:?} started before {}", dead.lease_expires_at);
    assert!(second.started_at < dead.lease_expires_at + 1_000, "{second:?} waited past the deadline");
    assert_eq!((done.lost_attempts, done.result.as_deref()), (1, Some("took over")));
    runner.shut_down().await;
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_is_retried_after_its_back_off_and_not_before() {
    // The first run is killed by a signal (transient for a text harness); the second succeeds.
    let script = r#"if [ ! -f "$BENCH/failed-once" ]; then touch "$BENCH/failed-once"; kill -KILL $$; fi
echo recovered"#;
    let bench = Bench::new(Setup { script, retry_base_ms: 60_000, ..Setup::default() }).await;
    let job = bench.job().await;
    let runner = bench.runner(|_| {});

    let waiting = bench
        .wait_for("the job to wait out a back-off", &job, |j| {
            j.status == JobStatus::Pending && j.attempts == 1 && j.not_before.is_some()
        })
        .await;
    assert_eq!(waiting.error_kind, Some(ErrorKind::Transient), "{waiting:?}");
    let not_before = waiting.not_before.unwrap();
    let failed_at = waiting.attempt_history[0].finished_at.unwrap();
    // Equal jitter: at least half the base, at most the base.
    assert!((failed_at + 30_000..=failed_at + 60_000).contains(&not_before), "{waiting:?}");

    let done = bench.wait_for("the retry to succeed", &job, |j| j.status == JobStatus::Complete).await;
    let [first, second] = &done.attempt_history[..] else { panic!("two attempts: {:?}", done.attempt_history) };
    assert_eq!((first.outcome, second.outcome), (AttemptOutcome::Retrying, AttemptOutcome::Complete));
    assert!(
        second.started_at >= not_before,
        "retried at {} before its back-off ended at {not_before}",
        second.started_at
    );
    assert!(second.started_at < not_before + 1_000, "retried at {}, long after {not_before}", second.started_at);
    assert_eq!(done.result.as_deref(), Some("recovered"));
    runner.shut_down().await;
}

#[tokio::test(start_paused = true)]
async fn an_agent_past_its_time_limit_is_stopped_and_the_job_fails_as_a_timeout() {
    // The agent and a child of its own, both waiting far longer than the limit allows.
    let script = r#"sleep 3600 & echo $! > "$BENCH/child"
echo $$ > "$BENCH/pid.tmp" && mv "$BENCH/pid.tmp" "$BENCH/pid"
wait"#;
    let bench = Bench::new(Setup { script, timeout_ms: 5_000, ..Setup::default() }).await;
    let job = bench.job().await;
    let started = hold_time_until_file(bench.path("pid"));
    let runner = bench.runner(|_| {});
    let pid: i32 = started.await.unwrap().trim().parse().unwrap();
    let child: i32 = std::fs::read_to_string(bench.path("child")).unwrap().trim().parse().unwrap();

    let failed = bench.wait_for("the job to time out", &job, |j| j.status == JobStatus::Failed).await;
    assert_eq!(failed.error_kind, Some(ErrorKind::Timeout), "{failed:?}");
    assert!(failed.error.as_deref().unwrap().starts_with("timed out after 5.0s (timeout_ms = 5000)"), "{failed:?}");
    let took = failed.duration_ms.unwrap();
    assert!((5_000..10_000).contains(&took), "stopped after {took} ms");
    assert_eq!(failed.attempts, 1, "a timeout is not retried by default");
    support::wait("the agent's process group to be gone", || async { (!alive(pid) && !alive(child)).then_some(()) })
        .await;
    runner.shut_down().await;
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_stops_a_running_agent_after_the_grace_and_re_queues_its_job() {
    let bench = Bench::new(Setup { script: WAITS_FOR_GO, ..Setup::default() }).await;
    let job = bench.job().await;
    let grace = Duration::from_secs(10);
    let runner = bench.runner(|options| options.shutdown_grace = grace);
    let pid: i32 = wait_for_file(&bench.path("pid")).await.trim().parse().unwrap();
    bench.wait_for("the job to run", &job, |j| j.status == JobStatus::Running).await;

    let asked_at = bench.clock.now();
    let summary = runner.shut_down().await;
    assert_eq!(summary.attempts, 1, "the interrupted attempt was recorded");
    assert!(bench.clock.now() >= asked_at + grace.as_millis() as i64, "the agent had its grace");

    let requeued = bench.read(&job).await;
    assert_eq!((requeued.status, requeued.not_before), (JobStatus::Pending, None), "{requeued:?}");
    let [interrupted] = &requeued.attempt_history[..] else { panic!("one attempt: {:?}", requeued.attempt_history) };
    assert_eq!(interrupted.outcome, AttemptOutcome::Interrupted);
    assert!(!alive(pid), "the agent was stopped");

    // The interrupted attempt is not charged: the next runner's run is attempt 1 of 3 again.
    std::fs::write(bench.path("go"), "").unwrap();
    let runner = bench.runner(|_| {});
    let done = bench.wait_for("the job to finish", &job, |j| j.status == JobStatus::Complete).await;
    assert_eq!(done.result.as_deref(), Some("finished"));
    runner.shut_down().await;
}

#[tokio::test(start_paused = true)]
async fn a_claude_attempt_crossing_its_token_budget_is_stopped_and_the_assignment_blocked_without_a_pm() {
    // Three messages of 1000 counted tokens each (one arrives as two lines), then it would go on.
    let script = r#"echo '{"type":"system","subtype":"init","session_id":"s1","model":"m"}'
for id in m1 m1 m2 m3; do
  echo '{"type":"assistant","message":{"id":"'$id'","model":"m","role":"assistant","content":[{"type":"text","text":"working"}],"usage":{"input_tokens":900,"cache_read_input_tokens":5000,"output_tokens":100}},"parent_tool_use_id":null,"session_id":"s1"}'
done
while [ ! -f "$BENCH/go" ]; do sleep 0.01; done"#;
    let bench = Bench::new(Setup { script, format: "claude", ..Setup::default() }).await;
    let job = bench.job().await;
    let aid = bench.read(&job).await.assignment_id;
    let guard = AssignmentUpdate { budget_tokens: Some(2_500), ..AssignmentUpdate::default() };
    let defaults =
        baton_core::store::JobDefaults { pm_harness: "quiet".into(), max_attempts: 3, host_gone_ms: 600_000 };
    bench.store.update_assignment(NS, &aid, &guard, &defaults, &Actor::Person("ada".into())).await.unwrap();
    let runner = bench.runner(|_| {});

    let failed = bench.wait_for("the job to be stopped", &job, |j| j.status == JobStatus::Failed).await;
    let error = failed.error.clone().unwrap_or_default();
    assert!(error.starts_with("stopped during the job: it used 3000 input + output + cache-write tokens"), "{error}");
    assert_eq!((failed.error_kind, failed.attempts), (Some(ErrorKind::Permanent), 1), "not retried");
    assert_eq!(failed.tokens_in, Some(3 * 5_900), "its streamed usage is recorded");
    let detail = bench.store.assignment(NS, &aid).await.unwrap();
    assert_eq!(detail.assignment.status, AssignmentStatus::Blocked);
    let reason = detail.assignment.reason.unwrap_or_default();
    assert!(reason.starts_with("token budget reached (3000 of 2500"), "{reason}");
    assert_eq!(detail.jobs.len(), 1, "no PM job spends more of it");
    runner.shut_down().await;
}
