//! Sessions that carry over, with the stand-in CLIs: the command line of a continued or forked
//! job names the source job's session the way each CLI takes it, a continuation that cannot
//! resume (the CLI does not know the session, the session lives on another host) runs fresh in
//! the same attempt with the reason recorded, and `--model`/`--effort` reach the harness's flags.

use crate::harness::Bench;
use serde_json::Value;

/// An implement job on `harness` run to completion; returns (bench, assignment id, job id). Its
/// PM decides nothing, so the assignment waits (blocked) for the test's next job.
fn first_job(harness: &str) -> (Bench, String, String) {
    let bench = Bench::new();
    let a = bench.json(&["create", "@pm-silent north-star-marker build the widget"]);
    let aid = a["id"].as_str().unwrap().to_string();
    let j = bench.json(&["insert-job", &aid, "--type", "implement", "--harness", harness, "--context", "build it"]);
    let jid = j["id"].as_str().unwrap().to_string();
    bench.run_until_idle(&[]);
    assert_eq!(bench.job(&jid)["status"], "complete");
    (bench, aid, jid)
}

/// The stand-in runs of `job`, in order.
fn runs_of(bench: &Bench, job: &str) -> Vec<Value> {
    bench.agent_runs().into_iter().filter(|r| r["job"] == job).collect()
}

fn argv(run: &Value) -> Vec<String> {
    run["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
}

/// Whether `args` holds `flag` immediately followed by `value`.
fn has_pair(args: &[String], flag: &str, value: &str) -> bool {
    args.windows(2).any(|w| w[0] == flag && w[1] == value)
}

/// Queues a continuation (or fork) of `source` and runs it; returns its job.
fn carry_on(bench: &Bench, aid: &str, flag: &str, source: &str) -> Value {
    let j =
        bench.json(&["insert-job", aid, "--type", "implement", flag, source, "--context", "fix what the review found"]);
    let jid = j["id"].as_str().unwrap().to_string();
    bench.ok(&["update-assignment", aid, "--status", "active"]);
    bench.run_until_idle(&[]);
    bench.job(&jid)
}

#[test]
fn a_continuation_resumes_the_source_session_on_each_cli() {
    for harness in ["claude", "codex", "gemini"] {
        let (bench, aid, first) = first_job(harness);
        let source = bench.job(&first);
        let session = source["session_id"].as_str().unwrap().to_string();
        assert_eq!(source["session_mode"], "fresh");
        let runs = runs_of(&bench, &first);
        if harness != "codex" {
            // claude and gemini take the id baton chose up front.
            assert!(has_pair(&argv(&runs[0]), "--session-id", &session), "{harness}: {:?}", runs[0]);
        }
        let job = carry_on(&bench, &aid, "--continue", &first);
        let jid = job["id"].as_str().unwrap();
        assert_eq!(job["status"], "complete", "{harness}: {job}");
        assert_eq!(job["harness"], harness, "the source's harness is the default");
        assert_eq!(job["session_mode"], "continued", "{harness}: {job}");
        assert_eq!(job["session_source_job_id"], first.as_str());
        assert!(job["session_fallback_reason"].is_null(), "{harness}: {job}");
        assert_eq!(job["session_id"], session.as_str(), "{harness}: the same conversation");
        assert_eq!(job["attempts"], 1);
        let runs = runs_of(&bench, jid);
        assert_eq!(runs.len(), 1, "{harness}: {runs:?}");
        let args = argv(&runs[0]);
        match harness {
            "codex" => {
                assert_eq!(&args[..2], ["exec", "resume"], "{args:?}");
                assert_eq!(&args[args.len() - 2..], [session.as_str(), "-"], "{args:?}");
                assert!(!args.iter().any(|a| a == "--sandbox"), "exec resume takes no --sandbox: {args:?}");
            }
            _ => {
                assert!(has_pair(&args, "--resume", &session), "{harness}: {args:?}");
                assert!(!args.iter().any(|a| a == "--session-id" || a == "--fork-session"), "{args:?}");
            }
        }
        // The short prompt: what changed and what to do, not the briefing again.
        let prompt = bench.prompt(jid);
        assert!(prompt.starts_with("# Continuing your session"), "{prompt}");
        assert!(prompt.contains("fix what the review found"), "{prompt}");
        assert!(!prompt.contains("north-star-marker"), "the north star is already in the session: {prompt}");
        assert!(bench.prompt(&first).contains("north-star-marker"));
    }
}

#[test]
fn a_fork_starts_a_new_session_from_the_source_on_claude_and_codex() {
    for harness in ["claude", "codex"] {
        let (bench, aid, first) = first_job(harness);
        let session = bench.job(&first)["session_id"].as_str().unwrap().to_string();
        let job = carry_on(&bench, &aid, "--fork", &first);
        assert_eq!(job["status"], "complete", "{harness}: {job}");
        assert_eq!(job["session_mode"], "forked");
        let forked = job["session_id"].as_str().unwrap();
        assert_ne!(forked, session, "{harness}: a fork is a session of its own");
        let args = argv(&runs_of(&bench, job["id"].as_str().unwrap())[0]);
        if harness == "claude" {
            assert!(has_pair(&args, "--resume", &session), "{args:?}");
            assert!(args.iter().any(|a| a == "--fork-session"), "{args:?}");
            assert!(has_pair(&args, "--session-id", forked), "baton chose the fork's id: {args:?}");
        } else {
            assert_eq!(&args[..2], ["exec", "fork"], "{args:?}");
            assert_eq!(&args[args.len() - 2..], [session.as_str(), "-"], "{args:?}");
        }
        // The source job keeps its own session.
        assert_eq!(bench.job(&first)["session_id"], session.as_str());
    }
}

#[test]
fn a_session_the_cli_does_not_know_falls_back_to_fresh_in_the_same_attempt() {
    for (harness, words) in
        [("claude", "No conversation found"), ("codex", "no rollout found"), ("gemini", "Invalid session identifier")]
    {
        let (bench, aid, first) = first_job(harness);
        // The CLI's session files are gone.
        std::fs::remove_dir_all(bench.path("state/sessions")).unwrap();
        let job = carry_on(&bench, &aid, "--continue", &first);
        let jid = job["id"].as_str().unwrap();
        assert_eq!(job["status"], "complete", "{harness}: {job}");
        assert_eq!(job["attempts"], 1, "no retry charged: {job}");
        assert_eq!(job["session_mode"], "fresh", "{job}");
        assert_eq!(job["session_source_job_id"], first.as_str());
        let reason = job["session_fallback_reason"].as_str().unwrap_or_default();
        assert!(reason.contains(words), "{harness}: {reason}");
        let runs = runs_of(&bench, jid);
        assert_eq!(runs.len(), 2, "the resume, then the fresh session: {runs:?}");
        assert_eq!((runs[0]["session_how"].as_str(), runs[1]["session_how"].as_str()), (Some("resume"), Some("new")));
        // The fresh session got the full prompt and the source job's result.
        let prompt = bench.prompt(jid);
        assert!(prompt.contains("north-star-marker"), "{prompt}");
        assert!(prompt.contains(&format!("Handoff from job {first}")), "{prompt}");
        assert!(prompt.contains("Done with implement"), "the source's result: {prompt}");
    }
}

/// A continuation retried after a transient failure resumes the source session again (the
/// same conversation, with whatever the failed attempt added to it).
#[test]
fn a_retried_continuation_resumes_the_source_again() {
    let (bench, aid, first) = first_job("claude");
    let session = bench.job(&first)["session_id"].as_str().unwrap().to_string();
    let j =
        bench.json(&["insert-job", &aid, "--type", "implement", "--continue", &first, "--context", "@fail-429-once"]);
    let jid = j["id"].as_str().unwrap().to_string();
    bench.ok(&["update-assignment", &aid, "--status", "active"]);
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    assert_eq!(job["session_mode"], "continued");
    let runs = runs_of(&bench, &jid);
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        assert!(has_pair(&argv(run), "--resume", &session), "{run}");
    }
}

#[test]
fn a_session_on_another_host_is_not_resumed() {
    let (bench, aid, first) = first_job("claude");
    let db = bench.sandbox.dir.path().join("data/baton.db");
    let script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); \
                  c.execute(\"UPDATE jobs SET session_host = 'elsewhere' WHERE id = ?\", (sys.argv[2],)); c.commit()";
    let out = std::process::Command::new("python3").args(["-c", script]).arg(&db).arg(&first).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job = carry_on(&bench, &aid, "--continue", &first);
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["session_mode"], "fresh");
    let reason = job["session_fallback_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("lives on host elsewhere"), "{reason}");
    let runs = runs_of(&bench, job["id"].as_str().unwrap());
    assert_eq!(runs.len(), 1, "never tried to resume: {runs:?}");
    assert_eq!(runs[0]["session_how"], "new");
}

#[test]
fn model_and_effort_reach_each_harness() {
    let bench = Bench::new();
    let a = bench.json(&["create", "models"]);
    let aid = a["id"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    for (harness, effort) in [("claude", Some("xhigh")), ("codex", Some("minimal")), ("gemini", None)] {
        let mut args = vec!["insert-job", &aid, "--type", "chat", "--harness", harness, "--model", "picked-model"];
        if let Some(effort) = effort {
            args.extend(["--effort", effort]);
        }
        let j = bench.json(&args);
        assert_eq!(j["model"], "picked-model");
        assert_eq!(j["effort"].as_str(), effort);
        ids.push((harness, effort, j["id"].as_str().unwrap().to_string()));
    }
    bench.run_until_idle(&[]);
    for (harness, effort, jid) in ids {
        let args = argv(&runs_of(&bench, &jid)[0]);
        let model_flag = if harness == "claude" { "--model" } else { "-m" };
        assert!(has_pair(&args, model_flag, "picked-model"), "{harness}: {args:?}");
        match (harness, effort) {
            ("claude", Some(e)) => assert!(has_pair(&args, "--effort", e), "{args:?}"),
            ("codex", Some(e)) => {
                assert!(has_pair(&args, "-c", &format!("model_reasoning_effort=\"{e}\"")), "{args:?}")
            }
            _ => assert!(!args.iter().any(|a| a.contains("effort")), "{args:?}"),
        }
        assert_eq!(bench.job(&jid)["model"], "picked-model");
    }
}

#[test]
fn bad_session_and_model_choices_are_refused_and_nothing_is_stored() {
    let (bench, aid, first) = first_job("claude");
    bench.config("[harness.claude]\nmodel = \"sonnet\"\nmodels = [\"opus\"]\n\n[harness.other]\nformat = \"claude\"\n");
    let other = bench.json(&["create", "another"]);
    let other_aid = other["id"].as_str().unwrap().to_string();
    let pending = bench.json(&["insert-job", &aid, "--type", "review"]);
    let pending_id = pending["id"].as_str().unwrap().to_string();
    let gemini = bench.json(&["insert-job", &other_aid, "--type", "chat", "--harness", "gemini"]);
    let gemini_id = gemini["id"].as_str().unwrap().to_string();
    let jobs_before = bench.json(&["jobs"]);

    let refused = |args: &[&str], words: &str, env: &[(&str, &str)]| {
        let mut cmd = bench.cmd(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    };
    let insert = |extra: &[&str]| {
        let mut args = vec!["insert-job", aid.as_str(), "--type", "implement"];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |extra: &[&str], words: &str| {
        let args = insert(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, words, &[]);
    };
    run(&["--continue", "jnothere"], "no job jnothere");
    run(&["--continue", &gemini_id], &format!("belongs to assignment {other_aid}, not {aid}"));
    run(&["--continue", &first, "--harness", "other"], "ran on claude, not other");
    run(&["--continue", &pending_id], "recorded no agent session");
    run(&["--continue", &first, "--fork", &first], "--continue and --fork exclude each other");
    run(&["--effort", "turbo"], "does not accept effort `turbo`; valid values: low, medium, high, xhigh, max");
    run(&["--harness", "gemini", "--effort", "high"], "harness gemini has no effort setting");
    let gemini_args = ["insert-job", &other_aid, "--type", "chat", "--fork", &gemini_id];
    refused(&gemini_args, "gemini cannot fork a session; use --continue", &[]);
    // A PM is held to the allowlist (and the configured model); a person is not.
    let as_pm = [("BATON_JOB_ID", first.as_str())];
    let args = insert(&["--model", "haiku"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused(&args, "model `haiku` is not allowed for harness claude; choose one of: opus, sonnet", &as_pm);
    assert_eq!(bench.json(&["jobs"]), jobs_before, "nothing stored");
    let by_person = bench.json(&args);
    assert_eq!(by_person["model"], "haiku");
}
