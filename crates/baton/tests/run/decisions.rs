//! The PM's decision protocol through the real binary: a PM agent's `baton` calls from inside its
//! job, as the stand-in makes them (see the `@pm-…` probes in tests/agents/standin.py).

use crate::harness::{pair, types_and_statuses, Bench};
use serde_json::Value;

/// An assignment whose north star carries a probe, with a first plan job; run until idle.
fn probe(bench: &Bench, north_star: &str) -> (String, Value) {
    let (aid, _) = bench.assignment(north_star, "plan", "plan it");
    bench.run_until_idle(&[]);
    (aid.clone(), bench.detail(&aid))
}

fn first_pm(detail: &Value) -> &Value {
    detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "pm").unwrap()
}

#[test]
fn a_second_decision_is_refused_and_the_first_runs_next() {
    let bench = Bench::new();
    let (_aid, detail) = probe(&bench, "probe @pm-twice");
    let calls = bench.agent_calls();
    assert_eq!(calls[0]["rc"], 0, "{calls:?}");
    let pm = first_pm(&detail);
    let pm_id = pm["id"].as_str().unwrap();
    assert_eq!(calls[1]["rc"], 1);
    let refusal = calls[1]["stderr"].as_str().unwrap();
    assert!(
        refusal.starts_with(&format!("error: job {pm_id} already decided: queued review j")),
        "the second insert is refused with the first decision: {refusal}"
    );
    assert!(refusal.trim_end().ends_with("; a PM job makes one decision"), "{refusal}");
    assert_eq!(
        types_and_statuses(&detail),
        vec![pair("plan", "complete"), pair("pm", "complete"), pair("review", "complete"), pair("pm", "complete")],
        "exactly one job queued"
    );
    assert!(pm["decision"].as_str().unwrap().starts_with("queued review "), "{pm}");
}

#[test]
fn a_pms_insert_without_after_runs_before_a_persons_queued_job() {
    let bench = Bench::new();
    let a = bench.json(&["create", "probe @pm-plain-insert"]);
    let aid = a["id"].as_str().unwrap();
    bench.ok(&["insert-job", aid, "--type", "plan", "--context", "plan it"]);
    bench.ok(&["insert-job", aid, "--type", "document", "--context", "queued by a person"]);
    bench.run_until_idle(&[]);
    let detail = bench.detail(aid);
    let order: Vec<(String, String)> = types_and_statuses(&detail);
    assert_eq!(order[..3], [pair("plan", "complete"), pair("pm", "complete"), pair("review", "complete")]);
    let review_at = order.iter().position(|(t, _)| t == "review").unwrap();
    let document_at = order.iter().position(|(t, _)| t == "document").unwrap();
    assert!(review_at < document_at, "the PM's step ran first: {order:?}");
}

#[test]
fn insert_then_complete_keeps_the_insert_and_refuses_the_complete() {
    let bench = Bench::new();
    let (_aid, detail) = probe(&bench, "probe @pm-insert-complete");
    let calls = bench.agent_calls();
    assert_eq!((calls[0]["rc"].as_i64(), calls[1]["rc"].as_i64()), (Some(0), Some(1)), "{calls:?}");
    assert!(calls[1]["stderr"].as_str().unwrap().contains("already decided"));
    let review = detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "review").unwrap();
    assert_eq!(review["status"], "complete", "the inserted job was not cancelled: it ran");
}

#[test]
fn proceed_is_recorded_once_and_refused_for_people() {
    let bench = Bench::new();
    let a = bench.json(&["create", "probe @pm-proceed"]);
    let aid = a["id"].as_str().unwrap();
    bench.ok(&["insert-job", aid, "--type", "plan", "--context", "plan it"]);
    let review = bench.json(&["insert-job", aid, "--type", "review", "--context", "queued by a person"]);
    let person = bench.cmd(&["proceed", aid]).output().unwrap();
    assert_eq!(person.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&person.stderr).trim(),
        "error: proceed is a PM job's decision; a queued job runs by itself"
    );
    bench.run_until_idle(&[]);
    let calls = bench.agent_calls();
    assert_eq!((calls[0]["rc"].as_i64(), calls[1]["rc"].as_i64()), (Some(0), Some(1)), "{calls:?}");
    let detail = bench.detail(aid);
    let pm = first_pm(&detail);
    let review_id = review["id"].as_str().unwrap();
    assert_eq!(pm["decision"].as_str(), Some(format!("proceeded: {review_id} runs next").as_str()));
    let recorded: Vec<&Value> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"].as_str().is_some_and(|a| a.starts_with("proceeded:")))
        .collect();
    assert_eq!(recorded.len(), 1, "the decision is recorded once");
    assert_eq!(recorded[0]["actor"], format!("job:{}", pm["id"].as_str().unwrap()));
}

#[test]
fn instructions_through_a_quoted_heredoc_arrive_byte_for_byte() {
    let bench = Bench::new();
    let instructions = "Fix `parse()` so that $TEST_FILE passes: run `pytest -q` first.\n\
        It's \"quoted\" and 'single-quoted'; $(echo not run) and ${HOME} stay literal.\n\
        Ünïcode — ✓ 日本語\n\n\ttabbed line";
    std::fs::create_dir_all(bench.path("state")).unwrap();
    std::fs::write(bench.path("state").join("instructions.txt"), instructions).unwrap();
    let (_aid, detail) = probe(&bench, "probe @pm-heredoc");
    let calls = bench.agent_calls();
    assert_eq!(calls[0]["rc"], 0, "{calls:?}");
    let implement = detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "implement").unwrap();
    // A heredoc's body ends with its last line's newline.
    let body = format!("{instructions}\n");
    assert_eq!(implement["context"].as_str(), Some(body.as_str()), "stored byte for byte");
    let prompt = bench.prompt(implement["id"].as_str().unwrap());
    assert!(prompt.contains(instructions), "and handed to the next agent as written:\n{prompt}");
}

#[test]
fn context_file_rules_are_checked_before_anything_is_stored() {
    let bench = Bench::new();
    let a = bench.json(&["create", "x"]);
    let aid = a["id"].as_str().unwrap();
    let refuse = |args: &[&str], stdin: &[u8], expected: &str| {
        let mut cmd = bench.cmd(args);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{args:?} must be refused");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    };
    let insert = ["insert-job", aid, "--type", "plan", "--context-file", "-"];
    refuse(&insert, b"not \xff utf-8", "is not UTF-8 text");
    refuse(&insert, b"a NUL \0 byte", "contains a NUL byte");
    refuse(&insert, &vec![b'x'; (1 << 20) + 1], "over the limit of 1048576 bytes");
    refuse(
        &["insert-job", aid, "--type", "plan", "--context-file", "/nonexistent/ctx.md"],
        b"",
        "cannot read --context-file",
    );
    refuse(&["insert-job", aid, "--type", "plan", "--context", "x", "--context-file", "-"], b"", "cannot be used with");
    assert_eq!(bench.detail(aid)["jobs"].as_array().unwrap().len(), 0, "nothing stored");

    // A megabyte of context, more than an argument list carries, is accepted whole.
    let big = "y".repeat(1 << 20);
    let path = bench.path("big-context.md");
    std::fs::write(&path, &big).unwrap();
    let job = bench.json(&["insert-job", aid, "--type", "plan", "--context-file", path.to_str().unwrap()]);
    assert_eq!(job["context"].as_str().map(str::len), Some(big.len()));
}

#[test]
fn job_prompt_prints_exactly_what_each_attempt_was_told() {
    let bench = Bench::new();
    let (aid, jid) = bench.assignment("Audit @flow implement", "implement", "@fail-429-once");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["attempts"], 2, "{job}");
    let seen = bench.prompt(&jid);
    assert!(!seen.is_empty());
    assert_eq!(bench.ok(&["job", &jid, "--prompt"]), seen, "the latest attempt's prompt, byte for byte");
    let first = bench.json(&["job", &jid, "--prompt", "--attempt", "1"]);
    assert_eq!(first["prompt_bytes"].as_u64(), Some(seen.len() as u64));
    assert_eq!(first["attempt"], 1);
    let hash = first["prompt_sha256"].as_str().unwrap();
    assert_eq!(job["attempt_history"][0]["prompt_sha256"].as_str(), Some(hash), "the hash is in the history entry");
    let pm = bench.detail(&aid)["jobs"][1]["id"].as_str().unwrap().to_string();
    assert_eq!(bench.ok(&["job", &pm, "--prompt"]), bench.prompt(&pm), "the PM's too: any decision can be audited");
    let out = bench.cmd(&["job", &jid, "--prompt", "--attempt", "9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no attempt 9: it has attempts 1 to 2"));
}
