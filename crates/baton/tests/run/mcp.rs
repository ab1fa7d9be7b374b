//! `baton mcp` where it needs a runner: from inside a job (a PM stand-in speaking MCP to `baton
//! mcp`, which sends each call through the attempt's socket like the CLI does) it decides with
//! the job's scope, and a person's MCP client merges the finished work and reads transcripts.

use crate::harness::{git, Bench};
use crate::mcp_client::McpClient;
use serde_json::{json, Value};

fn mcp(bench: &Bench) -> McpClient {
    let mut cmd = bench.cmd(&["mcp"]);
    cmd.env_remove("BATON_SANDBOX");
    McpClient::start(cmd)
}

#[test]
fn a_pm_job_decides_through_mcp_with_its_jobs_scope_and_a_person_merges_through_it() {
    let bench = Bench::new();
    let a = bench.json(&["create", "probe @pm-mcp"]);
    let aid = a["id"].as_str().unwrap();
    let plan = bench.json(&["insert-job", aid, "--type", "plan", "--context", "@write plan.txt planned"]);
    let review = bench.json(&["insert-job", aid, "--type", "review", "--context", "queued by a person"]);
    let review_id = review["id"].as_str().unwrap();
    bench.run_until_idle(&[]);

    let calls: Vec<Value> = bench.agent_calls().into_iter().filter(|c| c.get("mcp").is_some()).collect();
    let tools: Vec<&str> = calls.iter().map(|c| c["mcp"].as_str().unwrap()).collect();
    assert_eq!(tools, ["proceed", "create", "merge"], "{calls:?}");
    let answer = |i: usize| -> Value { serde_json::from_str(calls[i]["text"].as_str().unwrap()).unwrap() };
    assert_eq!(calls[0]["is_error"], false, "{calls:?}");
    assert_eq!(answer(0)["id"], review_id, "proceed answers with the job that runs next, as `proceed --json`");
    assert_eq!(calls[1]["is_error"], true);
    assert!(answer(1)["error"].as_str().unwrap().contains("cannot create assignments"), "{calls:?}");
    assert_eq!(answer(1)["code"], 1);
    assert_eq!(calls[2]["is_error"], true);
    assert!(answer(2)["error"].as_str().is_some_and(|e| e.contains("cannot be run from inside a job")), "{calls:?}");

    let detail = bench.detail(aid);
    let pm = detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "pm").unwrap();
    assert_eq!(pm["decision"].as_str(), Some(format!("proceeded: {review_id} runs next").as_str()));
    let proceeded = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"].as_str().is_some_and(|a| a.starts_with("proceeded:")));
    let proceeded = proceeded.unwrap_or_else(|| panic!("the proceed is in the history: {detail}"));
    assert_eq!(proceeded["actor"], format!("job:{}", pm["id"].as_str().unwrap()), "the job acted, not a person");
    assert_eq!(bench.json(&["assignments"]).as_array().unwrap().len(), 1, "the refused create stored nothing");
    assert_eq!(detail["status"], "complete", "{detail}");

    // A person's client: the transcript as `logs --json` prints it, and the merge.
    let c = mcp(&bench);
    let plan_id = plan["id"].as_str().unwrap();
    let by_cli = bench.ok(&["logs", plan_id, "--json"]);
    let logs = c.call("logs", json!({"job_id": plan_id}));
    assert!(!logs.is_error && !logs.text.is_empty(), "{logs:?}");
    assert_eq!(logs.text, by_cli.trim_end());
    let tail = c.call("logs", json!({"job_id": plan_id, "tail": 2}));
    let lines: Vec<&str> = by_cli.lines().collect();
    assert_eq!(tail.text.lines().collect::<Vec<_>>(), lines[lines.len() - 2..]);

    let merged = c.ok("merge", json!({"assignment_id": aid}));
    let main = git(&bench.sandbox.repo(), &["rev-parse", "main"]).trim().to_string();
    assert_eq!(merged["merged_commit"], main.as_str());
    assert_eq!(merged["id"], aid);
    assert!(merged["history"].to_string().contains("merged into main"), "{merged}");
    let mut expected: Vec<String> = detail.as_object().unwrap().keys().cloned().collect();
    // `assignment` adds what it reads from the worktree; create, update and merge answer the record.
    expected.retain(|k| !["commits_ahead", "diff_stat", "worktree_dirty"].contains(&k.as_str()));
    let keys: Vec<String> = merged.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, expected, "merge answers as `merge --json`");
    assert_eq!(std::fs::read_to_string(bench.sandbox.repo().join("plan.txt")).unwrap(), "planned\n");
}
