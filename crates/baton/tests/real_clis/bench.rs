//! The real-CLI test bench: finds the installed CLIs, starts a mock model API per test, writes a
//! `.baton/config.toml` that points one harness at it, and runs `baton` with the real CLIs on
//! PATH instead of the stand-ins.

use crate::harness::Bench;
use serde_json::Value;
use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the mock may take to start listening (python3 starts in well under a second).
const MOCK_START_PATIENCE: Duration = Duration::from_secs(30);

/// Inherited variables that would point a CLI at a real account or change how it behaves; the
/// tests set what each CLI needs through the harness's `env` in the config instead.
pub const FOREIGN_VAR_PREFIXES: &[&str] =
    &["ANTHROPIC_", "CLAUDE", "CODEX_", "OPENAI_", "GEMINI_", "GOOGLE_", "IS_SANDBOX", "MOCK_"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cli {
    Claude,
    Codex,
    Gemini,
}

impl Cli {
    /// The harness name, which is also the executable's name.
    pub fn name(self) -> &'static str {
        match self {
            Cli::Claude => "claude",
            Cli::Codex => "codex",
            Cli::Gemini => "gemini",
        }
    }

    /// The file the mock's `toolw` shell command creates in the working directory.
    pub fn toolw_file(self) -> &'static str {
        match self {
            Cli::Codex => "created-by-codex.txt",
            Cli::Claude | Cli::Gemini => "created-by-tool.txt",
        }
    }

    /// Only claude reports a cost; baton must not invent one for the others.
    pub fn reports_cost(self) -> bool {
        self == Cli::Claude
    }
}

/// Straight to stderr: the test harness hides what passing tests print with `eprintln!`.
pub fn notice(text: &str) {
    let _ = writeln!(std::io::stderr(), "real_clis: {text}");
}

/// `tests/agents/mock_api.py` on a port of its own, stopped when dropped.
pub struct Mock {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    /// Where the mock keeps each request's body.
    pub bodies: PathBuf,
}

impl Mock {
    /// Starts the mock in `mode`; `tool_command` replaces the shell command of its tool call.
    /// Returns once it accepts connections.
    /// `env`: more of the mock's variables (`MOCK_TOOL_NAME`, …).
    pub fn start_with(mode: &str, tool_command: Option<&str>, env: &[(String, String)], dir: &Path) -> Mock {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/agents/mock_api.py");
        let log = dir.join("mock.log");
        let mut cmd = Command::new("python3");
        // Port 0: the system picks a free one, and the mock prints it once it listens.
        cmd.arg(&script)
            .arg("0")
            .env("MOCK_MODE", mode)
            .env("MOCK_LOG", &log)
            .env("MOCK_BODIES", dir.join("bodies"))
            .env_remove("MOCK_MODE_FILE")
            .envs(env.iter().map(|(k, v)| (k, v)));
        match tool_command {
            Some(c) => cmd.env("MOCK_TOOL_COMMAND", c),
            None => cmd.env_remove("MOCK_TOOL_COMMAND"),
        };
        let stderr = std::fs::File::create(dir.join("mock.stderr")).unwrap();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 {}: {e}", script.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(MOCK_START_PATIENCE).unwrap_or_default();
        let port = line.strip_prefix("listening ").and_then(|p| p.trim().parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(dir.join("mock.stderr")).unwrap_or_default();
            panic!("the mock API did not start (printed {line:?}): {err}");
        };
        // It printed the port after bind+listen, so this connects at once; it proves the port is
        // the mock's before any CLI is pointed at it.
        std::net::TcpStream::connect(("127.0.0.1", port)).expect("the mock API accepts connections");
        Mock { child, port, log, bodies: dir.join("bodies") }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The JSON bodies of the requests the mock answered, in arrival order.
    pub fn bodies(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(&self.bodies) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        files.iter().filter_map(|f| serde_json::from_str(&std::fs::read_to_string(f).ok()?).ok()).collect()
    }

    /// The requests the mock saw (for failure messages).
    pub fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a test wants its bench set up, beyond the CLI and the mock mode.
#[derive(Default)]
pub struct Setup<'a> {
    /// Replaces the shell command of the mock's tool call.
    pub tool_command: Option<String>,
    /// The harness that runs PM jobs (default: a `text` harness that decides nothing, so a
    /// test's one job is the only real-CLI run).
    pub pm_harness: Option<&'a str>,
    /// Extra `args` for the CLI's harness, after the ones pointing it at the mock.
    pub extra_args: Vec<String>,
    /// Run on a new PostgreSQL database made from this admin URL (`BATON_TEST_POSTGRES_URL`)
    /// instead of the sandbox's SQLite file.
    pub postgres_admin_url: Option<String>,
    /// Run every agent inside baton's bubblewrap sandbox (`sandbox = "bwrap"`); otherwise the
    /// default, `auto`.
    pub sandbox: bool,
    /// More of the mock's variables (`MOCK_TOOL_NAME`, `MOCK_TOOL_INPUT_FILE`).
    pub mock_env: Vec<(String, String)>,
    /// Top-level lines added to the config (e.g. `agent_interface = "both"`).
    pub config_lines: String,
}

/// A sandboxed repository, a mock API and a config that points `cli`'s harness at it.
pub struct RealBench {
    pub bench: Bench,
    pub cli: Cli,
    pub mock: Mock,
    clis_bin: PathBuf,
    /// Dropped after the bench's runs are over (fields drop in declaration order).
    _database: Option<PgDatabase>,
    started: Instant,
    label: String,
    /// stderr of the last `baton run`, for failure messages.
    last_run: RefCell<String>,
}

impl RealBench {
    /// The test fails when the CLI is not installed (`BATON_AGENT_CLIS_BIN`).
    pub fn start(cli: Cli, mode: &str) -> RealBench {
        RealBench::start_with(cli, mode, Setup::default())
    }

    pub fn start_with(cli: Cli, mode: &str, setup: Setup<'_>) -> RealBench {
        let clis_bin = baton_testkit::agent_cli_bin(cli.name());
        let started = Instant::now();
        let mut bench = Bench::new();
        let database = setup.postgres_admin_url.as_deref().map(PgDatabase::create);
        bench.database_url = database.as_ref().map(|db| db.url.clone());
        let mock = Mock::start_with(mode, setup.tool_command.as_deref(), &setup.mock_env, bench.sandbox.dir.path());
        let real = RealBench {
            bench,
            cli,
            mock,
            clis_bin,
            _database: database,
            started,
            label: format!(
                "{} {}{}",
                cli.name(),
                if setup.pm_harness == Some(cli.name()) { "pm" } else { mode },
                if setup.postgres_admin_url.is_some() { " on PostgreSQL" } else { "" }
            ),
            last_run: RefCell::new(String::new()),
        };
        real.write_config(&setup);
        real
    }

    fn write_config(&self, setup: &Setup<'_>) {
        let dir = self.bench.sandbox.dir.path();
        let url = self.mock.url();
        let (model, mut args, env): (&str, Vec<String>, Vec<(&str, String)>) = match self.cli {
            Cli::Claude => (
                // A model alias claude knows the price of (so it reports a real cost), and
                // proof that it accepts the `--model` flag baton appends.
                "sonnet",
                vec![],
                vec![
                    ("ANTHROPIC_BASE_URL", url),
                    ("ANTHROPIC_API_KEY", "sk-ant-mock".into()),
                    // The tests run as root, where claude refuses bypassPermissions without it.
                    ("IS_SANDBOX", "1".into()),
                    // Its own retries would spend the 429 case's time; baton retries instead.
                    ("CLAUDE_CODE_MAX_RETRIES", "0".into()),
                    ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
                ],
            ),
            Cli::Codex => (
                // A model codex has tool definitions for: with its default model and no model
                // metadata (the mock serves none) codex 0.171 offers the model no tools at all.
                "gpt-5.1-codex",
                vec![
                    // A custom provider rather than `openai_base_url`: the built-in provider
                    // first tries a WebSocket five times (seconds per run), and only a provider
                    // table takes the retry caps.
                    "-c".into(),
                    "model_provider=\"mock\"".into(),
                    "-c".into(),
                    format!(
                        "model_providers.mock={{name=\"mock\",base_url=\"{url}/v1\",env_key=\"CODEX_API_KEY\",\
                         wire_api=\"responses\",request_max_retries=0,stream_max_retries=0}}"
                    ),
                ],
                vec![("CODEX_API_KEY", "sk-mock".into()), ("CODEX_HOME", dir.join("codex-home").display().to_string())],
            ),
            Cli::Gemini => (
                // An explicit model: with "auto", gemini first asks a routing classifier whose
                // retries ignore general.maxAttempts (over a minute on a 429).
                "gemini-2.5-flash",
                vec![],
                vec![
                    ("GEMINI_API_KEY", "mock-key".into()),
                    ("GOOGLE_GEMINI_BASE_URL", url),
                    // It writes error reports to the temp folder; keep them in the sandbox.
                    ("TMPDIR", dir.join("tmp").display().to_string()),
                ],
            ),
        };
        args.extend(setup.extra_args.iter().cloned());
        std::fs::create_dir_all(dir.join("codex-home")).unwrap();
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        // gemini: GOOGLE_GEMINI_BASE_URL alone selects "gateway" auth, which 0.61 rejects; the
        // API-key auth type must be chosen in settings, where its retries are capped too.
        let gemini_dir = dir.join("home/.gemini");
        std::fs::create_dir_all(&gemini_dir).unwrap();
        let settings = serde_json::json!({
            "security": { "auth": { "selectedType": "gemini-api-key" } },
            "general": { "maxAttempts": 1 },
            "privacy": { "usageStatisticsEnabled": false },
        });
        std::fs::write(gemini_dir.join("settings.json"), settings.to_string()).unwrap();

        let env_items: Vec<String> = env.iter().map(|(k, v)| format!("{k} = {}", toml_str(v))).collect();
        let arg_items: Vec<String> = args.iter().map(|a| toml_str(a)).collect();
        // Its folders in the bench, which lives under the sandbox's hidden /tmp.
        let writable = [dir.join("tmp"), dir.join("codex-home")].map(|d| toml_str(&d.display().to_string()));
        let writable = format!("writable = [{}]\n", writable.join(", "));
        let config = format!(
            "# Written by the real-CLI tests.\n\
             {sandbox}\
             {lines}\
             max_attempts = 2\n\
             retry_base_ms = 10\n\
             # A CLI that hangs (codex waits for the network forever) fails the test instead.\n\
             timeout_ms = 50000\n\
             \n\
             [harness_defaults]\n\
             pm = {pm}\n\
             \n\
             [harness.quiet]\n\
             format = \"text\"\n\
             command = [\"true\"]\n\
             \n\
             [harness.{name}]\n\
             model = {model}\n\
             args = [{args}]\n\
             env = {{ {env} }}\n\
             {writable}",
            writable = writable,
            // The default (`auto`) unless a test insists on bubblewrap.
            lines = setup.config_lines,
            sandbox = if setup.sandbox { "sandbox = \"bwrap\"\n" } else { "sandbox = \"auto\"\n" },
            pm = toml_str(setup.pm_harness.unwrap_or("quiet")),
            name = self.cli.name(),
            model = toml_str(model),
            args = arg_items.join(", "),
            env = env_items.join(", "),
        );
        self.bench.config(&config);
    }

    /// `baton ARGS` with the real CLIs first on PATH (not the stand-ins) and no inherited
    /// variables that would point a CLI elsewhere.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.bench.cmd(args);
        for (key, _) in std::env::vars_os() {
            if FOREIGN_VAR_PREFIXES.iter().any(|p| key.to_string_lossy().starts_with(p)) {
                cmd.env_remove(&key);
            }
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![self.clis_bin.clone()];
        dirs.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(dirs).unwrap());
        cmd
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(out.status.success(), "baton {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let out = self.ok(&args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("baton {args:?}: {e}: {out}"))
    }

    /// Creates an assignment with one job of `job_type` on `harness`; returns (assignment, job).
    pub fn assignment(&self, job_type: &str, harness: &str) -> (String, String) {
        let a = self.json(&["create", &format!("Real {} test", self.label)]);
        let aid = a["id"].as_str().unwrap().to_string();
        let j = self.json(&["insert-job", &aid, "--type", job_type, "--harness", harness, "--context", "go"]);
        (aid, j["id"].as_str().unwrap().to_string())
    }

    /// `baton run --until-idle` to completion.
    pub fn run_until_idle(&self) {
        let out = self.cmd(&["run", "--until-idle"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        *self.last_run.borrow_mut() = stderr.clone();
        assert!(out.status.success(), "baton run failed: {stderr}");
    }

    pub fn job(&self, id: &str) -> Value {
        self.json(&["job", id])
    }

    /// The job's transcript events (`logs --json`, the `event` of each line).
    pub fn events(&self, id: &str) -> Vec<Value> {
        self.ok(&["logs", id, "--json"])
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["event"].clone())
            .collect()
    }

    /// Everything a person needs to see why a check on job `id` failed.
    pub fn explain(&self, id: &str) -> String {
        let job = self.cmd(&["job", id, "--json"]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        let logs = self.cmd(&["logs", id]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        format!(
            "\n--- job\n{}\n--- transcript\n{}\n--- mock requests\n{}\n--- baton run stderr\n{}",
            job.unwrap_or_default(),
            logs.unwrap_or_default(),
            self.mock.requests(),
            self.last_run.borrow()
        )
    }

    /// Says how long the case took (CI logs show where the time goes).
    pub fn done(self) {
        notice(&format!("{} passed in {:.1} s", self.label, self.started.elapsed().as_secs_f64()));
    }
}

/// A PostgreSQL database created for one test and dropped after it (as in tests/run/postgres.rs).
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin: &str) -> PgDatabase {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let name = format!("baton_realclis_{}_{nanos}", std::process::id());
        psql(admin, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin.rsplit_once('/').expect("a database URL ends with /DBNAME");
        PgDatabase { admin: admin.to_string(), url: format!("{base}/{name}"), name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([&self.admin, "-q", "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql").args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]).output().expect("psql runs");
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A TOML basic string (JSON's string escapes are valid TOML).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}
