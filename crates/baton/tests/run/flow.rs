//! The job flow: agents run, the PM decides, failures are classified and retried.

use crate::harness::{pair, types_and_statuses, Bench};

#[test]
fn implement_pm_review_pm_completes_the_assignment() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment(
        "Create a hello world function in test-hello.ts @flow implement,review",
        "implement",
        "@write test-hello.ts export const hello = () => 'Hello, World!'",
    );
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "complete");
    assert_eq!(
        types_and_statuses(&detail),
        vec![pair("implement", "complete"), pair("pm", "complete"), pair("review", "complete"), pair("pm", "complete")]
    );
    // The work is on the assignment's own branch, in its own worktree, not in the checkout.
    let worktree = detail["worktree"].as_str().unwrap();
    let file = std::fs::read_to_string(std::path::Path::new(worktree).join("test-hello.ts")).unwrap();
    assert!(file.contains("Hello, World!"));
    assert!(!bench.sandbox.repo().join("test-hello.ts").exists());
    assert_eq!(detail["branch"], format!("baton/{aid}"));

    let job = bench.job(&jid);
    assert_eq!(job["result"], "Done with implement (attempt 1).");
    assert_eq!((job["success"].as_bool(), job["exit_code"].as_i64()), (Some(true), Some(0)));
    assert_eq!(job["cost_usd"], 0.0125);
    // Under a dollar, people see the cost to 4 decimals, not rounded to a cent.
    let text = bench.ok(&["job", &jid]);
    assert!(text.contains("$0.0125"), "{text}");
    assert_eq!(job["tokens_in"], 120);
    assert!(job["session_id"].as_str().unwrap().len() > 10);
    assert_eq!(job["attempt_history"][0]["outcome"], "complete");
    let pm = &detail["jobs"][1];
    assert_eq!(pm["for_job_id"], jid.as_str());
    assert!(detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["actor"] == format!("job:{}", pm["id"].as_str().unwrap())));

    // The transcript, for people and as JSON lines.
    let logs = bench.ok(&["logs", &jid]);
    assert!(logs.contains("Done with implement"), "{logs}");
    assert!(logs.contains("write test-hello.ts"), "{logs}");
    let json_lines = bench.ok(&["logs", &jid, "--json"]);
    let first: serde_json::Value = serde_json::from_str(json_lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"]["kind"], "session_started");
}

#[test]
fn a_pm_that_decides_nothing_blocks_the_assignment() {
    let bench = Bench::new();
    let (aid, _) = bench.assignment("Do a thing @pm-silent", "implement", "");
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "blocked");
    assert!(detail["reason"].as_str().unwrap().contains("made no decision"), "{}", detail["reason"]);
}

#[test]
fn a_pm_can_block_for_a_human() {
    let bench = Bench::new();
    let (aid, _) = bench.assignment("Do a thing @pm-block needs a product decision", "plan", "");
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    assert_eq!(
        (detail["status"].as_str(), detail["reason"].as_str()),
        (Some("blocked"), Some("needs a product decision"))
    );
}

#[test]
fn a_rate_limit_is_retried_and_then_succeeds() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Retry me @flow implement", "implement", "@fail-429-once");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("complete"), Some(2)), "{job}");
    let history = job["attempt_history"].as_array().unwrap();
    assert_eq!(history[0]["outcome"], "retrying");
    assert_eq!(history[0]["error_kind"], "transient");
    assert!(history[0]["error"].as_str().unwrap().contains("429"), "{}", history[0]["error"]);
    assert_eq!(history[1]["outcome"], "complete");
    assert_eq!(bench.detail(&aid)["status"], "complete");
}

#[test]
fn an_auth_failure_fails_at_once_and_the_pm_still_runs() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Auth @pm-silent", "implement", "@auth-fail");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["attempts"].as_i64()), (Some("failed"), Some(1)));
    assert_eq!(job["error_kind"], "permanent");
    assert_eq!(job["success"], false);
    assert!(job["error"].as_str().unwrap().to_lowercase().contains("api key"), "{}", job["error"]);
    let detail = bench.detail(&aid);
    assert_eq!(types_and_statuses(&detail), vec![pair("implement", "failed"), pair("pm", "complete")]);
    // The PM decided nothing here, so the assignment waits for a person rather than stalling.
    assert_eq!(detail["status"], "blocked");
}

#[test]
fn garbage_and_non_utf8_output_is_tolerated() {
    let bench = Bench::new();
    let (_, jid) = bench.assignment("Garbage @flow implement", "implement", "@garbage");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete");
    let events: Vec<serde_json::Value> =
        bench.ok(&["logs", &jid, "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.iter().any(|e| e["event"]["kind"] == "malformed"));
    assert!(events.iter().any(|e| e["event"]["kind"] == "raw"));
}

#[test]
fn codex_and_gemini_harnesses_run_too() {
    let bench = Bench::new();
    bench.config("[harness_defaults]\npm = \"gemini\"\n");
    let (aid, jid) = bench.assignment("Other CLIs @flow implement", "implement", "");
    let codex_job = bench.json(&["insert-job", &aid, "--type", "review", "--harness", "codex"]);
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete");
    let codex = bench.job(codex_job["id"].as_str().unwrap());
    assert_eq!(codex["status"], "complete");
    assert_eq!(codex["result"], "Done with review (attempt 1).");
    assert_eq!(codex["cost_usd"], serde_json::Value::Null, "codex reports no cost");
    assert_eq!(codex["tokens_in"], 120);
    let detail = bench.detail(&aid);
    let pms: Vec<&serde_json::Value> =
        detail["jobs"].as_array().unwrap().iter().filter(|j| j["type"] == "pm").collect();
    assert!(pms.iter().all(|j| j["harness"] == "gemini"));
    assert_eq!(detail["status"], "complete");
}

#[test]
fn shell_metacharacters_reach_the_agent_literally() {
    let bench = Bench::new();
    let marker = bench.path("pwned");
    let nasty = format!(
        "$(touch {m}) `touch {m}` ; touch {m} && echo \"quoted\" 'single' | cat > /dev/null",
        m = marker.display()
    );
    let north_star = format!("North star with {nasty} @flow implement");
    let (_, jid) = bench.assignment(&north_star, "implement", &format!("@echo-prompt {nasty}"));
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete");
    let prompt = job["result"].as_str().unwrap();
    assert!(prompt.contains(&nasty), "the context reached the agent verbatim");
    assert!(prompt.contains(&north_star), "the north star reached the agent verbatim");
    assert!(!marker.exists(), "nothing was interpreted by a shell");
}

#[test]
fn a_missing_harness_binary_is_a_clear_permanent_failure() {
    let bench = Bench::new();
    bench.config("[harness.ghost]\nformat = \"claude\"\ncommand = [\"definitely-not-installed-agent\"]\n");
    let (aid, _) = bench.assignment("Missing @pm-silent", "implement", "");
    let ghost = bench.json(&["insert-job", &aid, "--type", "review", "--harness", "ghost"]);
    // Cancel the first job so the ghost runs first.
    let first = bench.detail(&aid)["jobs"][0]["id"].as_str().unwrap().to_string();
    bench.ok(&["cancel-job", &first]);
    bench.run_until_idle(&[]);
    let job = bench.job(ghost["id"].as_str().unwrap());
    assert_eq!((job["status"].as_str(), job["error_kind"].as_str()), (Some("failed"), Some("permanent")));
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("harness `ghost` not found on PATH"), "{error}");
}

#[test]
fn parallel_assignments_overlap_but_jobs_of_one_never_do() {
    let bench = Bench::new();
    for i in 0..3 {
        // The three implement jobs wait for each other: they end only if they run at once.
        let (aid, _) = bench.assignment(&format!("Parallel {i} @pm-silent"), "implement", "@together implement 3");
        bench.ok(&["insert-job", &aid, "--type", "review"]);
    }
    bench.run_until_idle(&["--concurrency", "3"]);
    let runs = bench.agent_runs();
    let mut by_assignment: std::collections::HashMap<String, Vec<(f64, f64)>> = Default::default();
    let jobs = bench.json(&["jobs"]);
    for run in &runs {
        let job = jobs.as_array().unwrap().iter().find(|j| j["id"] == run["job"]).unwrap();
        by_assignment
            .entry(job["assignment_id"].as_str().unwrap().to_string())
            .or_default()
            .push((run["start"].as_f64().unwrap(), run["end"].as_f64().unwrap()));
    }
    for (aid, mut spans) in by_assignment.clone() {
        spans.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        for pair in spans.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "two jobs of {aid} overlapped: {pair:?}");
        }
    }
    let firsts: Vec<(f64, f64)> = by_assignment.values().map(|s| s[0]).collect();
    let overlapping = firsts.iter().enumerate().any(|(i, a)| firsts.iter().skip(i + 1).any(|b| a.0 < b.1 && b.0 < a.1));
    assert!(overlapping, "assignments ran one after another: {firsts:?}");
}

#[test]
fn watch_prints_a_line_when_a_job_starts_and_ends() {
    use std::io::{BufRead, BufReader};
    let bench = Bench::new();
    let mut watch = bench.cmd(&["watch"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // Wait until watch listens for changes (its wake-up socket exists beside the database).
    let wake_dir = bench.sandbox.dir.path().join("data/baton.db.wake");
    bench.wait_for("watch to subscribe", || {
        std::fs::read_dir(&wake_dir)
            .map(|d| d.flatten().any(|e| e.path().extension().is_some_and(|x| x == "sock")))
            .unwrap_or(false)
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (_, jid) = bench.assignment("Watched @flow implement", "implement", "");
    bench.run_until_idle(&[]);
    let mut seen = Vec::new();
    let want = |seen: &[String], what: &str| seen.iter().any(|l| l.contains(&jid) && l.contains(what));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(want(&seen, "started") && want(&seen, "complete")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("watch printed no start/end lines for {jid}: {seen:#?}"),
        }
    }
    watch.kill().unwrap();
    watch.wait().unwrap();
}

#[test]
fn quick_retries_use_exactly_max_attempts_even_with_parallel_claims() {
    // A retried job can be claimed again at once (no back-off here) while the task of its
    // previous attempt is still being reaped: each attempt must stay its own.
    let bench = Bench::new();
    bench.config("isolation = \"none\"\nretry_base_ms = 0\n");
    let jobs: Vec<String> =
        (0..6).map(|i| bench.assignment(&format!("Limited {i} @pm-silent"), "implement", "@fail-429").1).collect();
    bench.run_until_idle(&["--concurrency", "4"]);
    for jid in jobs {
        let job = bench.job(&jid);
        assert_eq!((job["status"].as_str(), job["attempts"].as_u64()), (Some("failed"), Some(3)), "{job}");
        let outcomes: Vec<&str> =
            job["attempt_history"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, vec!["retrying", "retrying", "failed"], "{job}");
    }
}
