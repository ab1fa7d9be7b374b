//! baton's MCP server through the real claude CLI: claude runs with `--mcp-config` naming `baton
//! mcp`, and the mock model (mode `mcp`) calls one of its tools. A person's call queues a job; a
//! refusal reaches the model as a tool error in the next request; and with `agent_interface =
//! "both"` a claude agent inside baton's sandbox queues a job through the tool, as its job.

use crate::bench::{notice, Cli, Mock, RealBench, Setup, FOREIGN_VAR_PREFIXES};
use crate::harness::Bench;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// A bench whose mock model calls `tool` with the input the test writes to `input`.
struct Direct {
    bench: Bench,
    mock: Mock,
    clis_bin: PathBuf,
    input: PathBuf,
    started: Instant,
}

impl Direct {
    fn start(tool: &str) -> Direct {
        let clis_bin = baton_testkit::agent_cli_bin("claude");
        let bench = Bench::new();
        let input = bench.path("tool-input.json");
        let env = [
            ("MOCK_TOOL_NAME".to_string(), tool.to_string()),
            ("MOCK_TOOL_INPUT_FILE".to_string(), input.display().to_string()),
        ];
        let mock = Mock::start_with("mcp", None, &env, bench.sandbox.dir.path());
        Direct { bench, mock, clis_bin, input, started: Instant::now() }
    }

    /// `claude -p` in the repository with baton's MCP server, the model calling its tool with
    /// `input`; `env` is added to a clean environment. Returns claude's stdout (its events).
    fn claude(&self, input: Value, env: &[(&str, &str)]) -> String {
        std::fs::write(&self.input, input.to_string()).unwrap();
        let server = json!({"mcpServers": {"baton": {"command": env!("CARGO_BIN_EXE_baton"), "args": ["mcp"]}}});
        let home = self.bench.sandbox.dir.path().join("home");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![self.clis_bin.clone()];
        dirs.extend(std::env::split_paths(&path));
        let mut cmd = Command::new(self.clis_bin.join("claude"));
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("BATON_") || FOREIGN_VAR_PREFIXES.iter().any(|p| key.starts_with(p)) {
                cmd.env_remove(&key);
            }
        }
        cmd.args(["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "bypassPermissions"])
            .arg("--mcp-config")
            .arg(server.to_string())
            .current_dir(self.bench.sandbox.repo())
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("USER", "tester")
            .env("BATON_DATABASE_URL", self.bench.sandbox.database_url())
            .env("ANTHROPIC_BASE_URL", self.mock.url())
            .env("ANTHROPIC_API_KEY", "sk-ant-mock")
            .env("IS_SANDBOX", "1")
            .env("CLAUDE_CODE_MAX_RETRIES", "0")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("claude starts");
        child.stdin.take().unwrap().write_all(b"Use the baton tool.").unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "claude failed: {stdout}\n{}\n--- mock\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.mock.requests()
        );
        stdout
    }

    /// The tool results the CLI sent the model back (from the mock's request bodies).
    fn tool_results(&self) -> Vec<Value> {
        tool_results(&self.mock)
    }
}

/// Every `tool_result` block the CLI sent the model, in order, as `{is_error, text}`.
fn tool_results(mock: &Mock) -> Vec<Value> {
    let mut results = Vec::new();
    for body in mock.bodies() {
        let Some(last) = body["body"]["messages"].as_array().and_then(|m| m.last()).cloned() else { continue };
        for block in last["content"].as_array().into_iter().flatten().filter(|b| b["type"] == "tool_result") {
            let text = match &block["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(""),
                _ => String::new(),
            };
            results.push(json!({"is_error": block["is_error"] == true, "text": text}));
        }
    }
    results
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn claude_queues_a_job_through_baton_mcp() {
    let direct = Direct::start("mcp__baton__insert_job");
    let a = direct.bench.json(&["create", "Ship the login page"]);
    let aid = a["id"].as_str().unwrap();
    let events = direct.claude(json!({"assignment_id": aid, "type": "review", "context": "queued over MCP"}), &[]);
    assert!(events.contains("\"mcp_servers\":[{\"name\":\"baton\",\"status\":\"connected\"}]"), "{events}");

    let jobs = direct.bench.json(&["jobs", "--assignment", aid]);
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "the job appears in the store: {jobs:?}\n{}", direct.mock.requests());
    assert_eq!((jobs[0]["type"].as_str(), jobs[0]["context"].as_str()), (Some("review"), Some("queued over MCP")));
    let results = direct.tool_results();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["is_error"], false, "{results:?}");
    let answered: Value = serde_json::from_str(results[0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(answered, jobs[0].clone(), "the model read what `insert-job --json` prints");
    notice(&format!("claude mcp insert passed in {:.1} s", direct.started.elapsed().as_secs_f64()));
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN)"]
fn a_scope_refusal_through_baton_mcp_reaches_the_model_as_a_tool_error() {
    let direct = Direct::start("mcp__baton__create");
    let a = direct.bench.json(&["create", "Ours", "--first", "plan"]);
    let job = a["jobs"][0]["id"].as_str().unwrap();
    // As that job: its claim is not held (it is pending), so the store refuses any change.
    direct.claude(json!({"north_star": "More work"}), &[("BATON_JOB_ID", job), ("BATON_JOB_TOKEN", "1")]);

    let results = direct.tool_results();
    assert_eq!(results.len(), 1, "{results:?}\n{}", direct.mock.requests());
    assert_eq!(results[0]["is_error"], true, "an is_error tool_result: {results:?}");
    let refusal: Value = serde_json::from_str(results[0]["text"].as_str().unwrap()).unwrap();
    assert!(
        refusal["error"].as_str().unwrap().starts_with(&format!("job {job} no longer holds its claim")),
        "the store's own refusal: {refusal}"
    );
    assert_eq!(refusal["code"], 1);
    assert_eq!(direct.bench.json(&["assignments"]).as_array().unwrap().len(), 1, "nothing stored");
    notice(&format!("claude mcp refusal passed in {:.1} s", direct.started.elapsed().as_secs_f64()));
}

#[test]
#[ignore = "needs the real agent CLIs (BATON_AGENT_CLIS_BIN) and bubblewrap"]
fn with_agent_interface_both_a_claude_agent_queues_a_job_through_mcp_inside_the_sandbox() {
    baton_testkit::bwrap();
    let input = tempfile::NamedTempFile::new().unwrap();
    let setup = Setup {
        sandbox: true,
        config_lines: "agent_interface = \"both\"\n".to_string(),
        mock_env: vec![
            ("MOCK_TOOL_NAME".to_string(), "mcp__baton__insert_job".to_string()),
            ("MOCK_TOOL_INPUT_FILE".to_string(), input.path().display().to_string()),
        ],
        ..Setup::default()
    };
    let real = RealBench::start_with(Cli::Claude, "mcp", setup);
    let (aid, jid) = real.assignment("implement", "claude");
    let tool_input = json!({"assignment_id": aid, "type": "review", "harness": "quiet", "context": "check the work"});
    std::fs::write(input.path(), tool_input.to_string()).unwrap();
    real.run_until_idle();

    let explain = || real.explain(&jid);
    let detail = real.json(&["assignment", &aid]);
    let review = detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "review");
    let review = review.unwrap_or_else(|| panic!("the agent queued a review: {detail:#}{}", explain()));
    assert_eq!(review["context"], "check the work");
    let queued = detail["history"].as_array().unwrap().iter().find(|h| h["job_id"] == review["id"]).unwrap();
    assert_eq!(queued["actor"], format!("job:{jid}"), "the agent acted as its job: {detail:#}");
    assert_eq!(real.job(&jid)["status"], "complete", "{}", explain());
    let results = tool_results(&real.mock);
    assert!(
        results
            .iter()
            .any(|r| r["is_error"] == false && r["text"].as_str().unwrap().contains(review["id"].as_str().unwrap())),
        "{results:?}"
    );
    // The prompt named the tools.
    let prompt = real.ok(&["job", &jid, "--prompt"]);
    assert!(prompt.contains("mcp__baton__insert_job"), "{prompt}");
    real.done();
}
