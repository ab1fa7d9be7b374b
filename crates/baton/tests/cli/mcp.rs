//! `baton mcp` through the MCP SDK's own client: every tool answers with exactly the JSON its
//! command prints with `--json`, refusals are tool errors carrying the command's error object,
//! bad arguments are refused by name, and inside a job the server has that job's scope. Merge,
//! logs with a transcript and proceed need a runner: tests/run/mcp.rs.

use crate::common::Sandbox;
use crate::mcp_client::McpClient;
use serde_json::{json, Value};

fn mcp(s: &Sandbox) -> McpClient {
    mcp_with(s, &[])
}

fn mcp_with(s: &Sandbox, env: &[(&str, &str)]) -> McpClient {
    let mut cmd = s.std_cmd_in(&s.repo());
    cmd.arg("mcp").envs(env.iter().copied());
    McpClient::start(cmd)
}

/// The error object `baton ARGS --json` prints on stderr (with `env`), and its exit code.
fn cli_error(s: &Sandbox, env: &[(&str, &str)], args: &[&str]) -> Value {
    let out = s.cmd().envs(env.iter().copied()).args(args).arg("--json").output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?} fails");
    serde_json::from_slice(&out.stderr).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// `value` with its ids and times blanked, to compare two objects made by the same request.
fn without_ids(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match k.as_str() {
                    "id" | "assignment_id" | "job_id" | "created_at" | "updated_at" | "at" => (k.clone(), Value::Null),
                    _ => (k.clone(), without_ids(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_ids).collect()),
        other => other.clone(),
    }
}

#[test]
fn the_tools_are_the_cli_verbs_with_their_flags_as_arguments() {
    let s = Sandbox::new();
    let tools = mcp(&s).tools();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "queue",
            "assignments",
            "assignment",
            "jobs",
            "job",
            "logs",
            "create",
            "insert_job",
            "update_assignment",
            "proceed",
            "cancel_job",
            "retry_job",
            "merge"
        ]
    );
    let insert = tools.iter().find(|t| t.name == "insert_job").unwrap();
    let schema = Value::Object((*insert.input_schema).clone());
    assert_eq!(schema["required"], json!(["assignment_id", "type"]));
    for flag in ["type", "harness", "context", "after", "continue", "fork", "model", "effort", "namespace"] {
        assert!(schema["properties"][flag].is_object(), "insert_job takes {flag}: {schema}");
    }
    assert!(schema["properties"]["type"]["enum"].as_array().unwrap().contains(&json!("implement")));
    let create = tools.iter().find(|t| t.name == "create").unwrap();
    assert_eq!(create.input_schema["properties"]["budget_usd"]["type"], "number");
    assert_eq!(create.input_schema["properties"]["after"]["type"], "array");
    let queue = tools.iter().find(|t| t.name == "queue").unwrap();
    assert_eq!(queue.annotations.as_ref().and_then(|a| a.read_only_hint), Some(true));
}

#[test]
fn each_tool_answers_with_the_json_of_its_command() {
    let s = Sandbox::new();
    let c = mcp(&s);
    let created = c.ok(
        "create",
        json!({"north_star": "Add OAuth login", "first": "plan", "context": "Providers: Google", "budget_usd": 5}),
    );
    let aid = created["id"].as_str().unwrap().to_string();
    let by_cli = s.json(&[
        "create",
        "Add OAuth login",
        "--first",
        "plan",
        "--context",
        "Providers: Google",
        "--budget-usd",
        "5",
    ]);
    assert_eq!(without_ids(&created), without_ids(&by_cli), "create answers as `create --json`");
    assert_eq!(created["budget_usd"], 5.0);
    assert_eq!(created["history"][0]["actor"], "person:tester", "a person acts outside a job");
    let plan = created["jobs"][0]["id"].as_str().unwrap().to_string();

    let inserted = c.ok("insert_job", json!({"assignment_id": aid, "type": "implement", "context": "--step 1"}));
    let jid = inserted["id"].as_str().unwrap().to_string();
    assert_eq!(inserted, s.json(&["job", &jid]));
    assert_eq!(inserted["context"], "--step 1", "a value that looks like a flag stays a value");

    assert_eq!(c.ok("assignment", json!({"assignment_id": aid})), s.json(&["assignment", &aid]));
    assert_eq!(c.ok("assignments", json!({})), s.json(&["assignments"]));
    assert_eq!(c.ok("assignments", json!({})).as_array().unwrap().len(), 2);
    assert_eq!(c.ok("assignments", json!({"status": "active", "limit": 1})), s.json(&["assignments", "--limit", "1"]));
    assert_eq!(c.ok("jobs", json!({"assignment": aid})), s.json(&["jobs", "--assignment", &aid]));
    assert_eq!(c.ok("jobs", json!({"status": "pending"})), s.json(&["jobs", "--status", "pending"]));
    assert_eq!(c.ok("job", json!({"job_id": plan})), s.json(&["job", &plan]));
    assert_eq!(c.ok("queue", Value::Null), s.json(&["queue"]));
    let logs = c.call("logs", json!({"job_id": plan}));
    assert!(!logs.is_error, "{logs:?}");
    assert_eq!(logs.text, s.ok(&["logs", &plan, "--json"]).trim_end());

    let updated = c.ok("update_assignment", json!({"assignment_id": aid, "budget_usd": 10, "max_jobs": 60}));
    // The same change again from the CLI: the same object, one more history line.
    let mut by_cli = s.json(&["update-assignment", &aid, "--budget-usd", "10", "--max-jobs", "60"]);
    by_cli["history"].as_array_mut().unwrap().pop();
    assert_eq!(without_ids(&updated), without_ids(&by_cli), "update_assignment answers as `update-assignment --json`");
    assert_eq!((updated["budget_usd"].as_f64(), updated["max_jobs"].as_i64()), (Some(10.0), Some(60)));

    let cancelled = c.ok("cancel_job", json!({"job_id": jid}));
    assert_eq!(cancelled, s.json(&["job", &jid]));
    assert_eq!(cancelled["status"], "cancelled");
    let copy = c.ok("retry_job", json!({"job_id": jid}));
    let copy_id = copy["id"].as_str().unwrap();
    assert_ne!(copy_id, jid);
    assert_eq!(copy, s.json(&["job", copy_id]));
    assert_eq!((copy["type"].as_str(), copy["status"].as_str()), (Some("implement"), Some("pending")));

    // proceed is a PM job's decision: from a person it is the CLI's own refusal, word for word.
    let refusal = c.refused("proceed", json!({"assignment_id": aid}));
    assert_eq!(refusal, cli_error(&s, &[], &["proceed", &aid]));
    assert_eq!(refusal["error"], "proceed is a PM job's decision; a queued job runs by itself");
}

#[test]
fn bad_arguments_are_tool_errors_naming_them_and_store_nothing() {
    let s = Sandbox::new();
    let c = mcp(&s);
    let missing = c.refused("create", json!({"first": "plan"}));
    assert_eq!(missing["code"], 2);
    assert!(missing["error"].as_str().unwrap().starts_with("create needs the argument `north_star`"), "{missing}");
    assert!(missing["hint"].as_str().unwrap().contains("north_star (required)"), "{missing}");

    let wrong = c.refused("create", json!({"north_star": "x", "max_jobs": "ten"}));
    assert_eq!(wrong["error"], "the argument `max_jobs` of create must be a positive whole number, not \"ten\"");
    let wrong = c.refused("create", json!({"north_star": "x", "budget_usd": "5"}));
    assert_eq!(wrong["error"], "the argument `budget_usd` of create must be a number, not \"5\"");
    let wrong = c.refused("insert_job", json!({"assignment_id": ["a1"], "type": "plan"}));
    assert_eq!(wrong["error"], "the argument `assignment_id` of insert_job must be a string, not [\"a1\"]");
    let wrong = c.refused("insert_job", json!({"assignment_id": "a1", "type": "nap"}));
    assert!(wrong["error"].as_str().unwrap().contains("must be one of plan, "), "{wrong}");
    let unknown = c.refused("assignments", json!({"state": "active"}));
    assert_eq!(unknown["error"], "assignments has no argument `state`");

    // The command's own rules answer with the command's own words.
    let budget = c.refused("create", json!({"north_star": "x", "budget_usd": -1}));
    assert_eq!(budget["code"], 2);
    assert!(budget["error"].as_str().unwrap().contains("--budget-usd"), "{budget}");
    let blocked = c.refused("create", json!({"north_star": "   "}));
    assert_eq!(blocked["code"], 1);
    let absent = c.refused("insert_job", json!({"assignment_id": "anope1234", "type": "plan"}));
    assert_eq!(absent, cli_error(&s, &[], &["insert-job", "anope1234", "--type", "plan"]));

    assert_eq!(s.json(&["assignments"]), json!([]), "nothing was stored");
}

#[test]
fn inside_a_job_the_server_acts_with_the_jobs_scope() {
    let s = Sandbox::new();
    let a = s.json(&["create", "Ours", "--first", "plan"]);
    let (aid, job) = (a["id"].as_str().unwrap(), a["jobs"][0]["id"].as_str().unwrap());
    let other = s.json(&["create", "Theirs"]);
    let other_id = other["id"].as_str().unwrap();
    let env = [("BATON_JOB_ID", job), ("BATON_JOB_TOKEN", "1")];
    let c = mcp_with(&s, &env);

    // Reading is open to a job.
    assert_eq!(c.ok("assignment", json!({"assignment_id": other_id})), s.json(&["assignment", other_id]));
    // Changes are checked as the CLI checks them, with the same words.
    let refusal = c.refused("create", json!({"north_star": "More work"}));
    assert_eq!(refusal, cli_error(&s, &env, &["create", "More work"]));
    assert!(refusal["error"].as_str().unwrap().contains(&format!("job {job}")), "{refusal}");
    let refusal = c.refused("insert_job", json!({"assignment_id": other_id, "type": "implement"}));
    assert_eq!(refusal, cli_error(&s, &env, &["insert-job", other_id, "--type", "implement"]));
    let refusal = c.refused("merge", json!({"assignment_id": aid}));
    assert_eq!(refusal["error"], "merging is a person's decision: an agent cannot run baton merge");

    assert_eq!(s.json(&["assignments"]).as_array().unwrap().len(), 2, "no assignment was created");
    assert_eq!(s.json(&["jobs"]).as_array().unwrap().len(), 1, "no job was queued");
}
