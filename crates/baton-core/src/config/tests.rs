use super::*;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k: &str| map.get(k).cloned()
}

fn repo_with(config: Option<&str>) -> tempfile::TempDir {
    let tmp = tempfile::Builder::new().prefix("myrepo").tempdir().unwrap();
    if let Some(text) = config {
        std::fs::create_dir_all(tmp.path().join(".baton")).unwrap();
        std::fs::write(tmp.path().join(".baton/config.toml"), text).unwrap();
    }
    tmp
}

#[test]
fn defaults_come_from_the_repo_and_xdg() {
    let repo = repo_with(None);
    let env = env_of(&[("HOME", "/home/u")]);
    let c = Config::load(repo.path(), &env).unwrap();
    assert_eq!(c.namespace, repo.path().file_name().unwrap().to_string_lossy());
    assert_eq!(c.database_url, "sqlite:///home/u/.local/share/baton/baton.db");
    assert_eq!((c.timeout_ms, c.max_attempts, c.retry_base_ms, c.lease_ms), (600_000, 3, 2_000, 30_000));
    assert_eq!(c.max_jobs_per_assignment, 50);
    assert!(!c.retry_on_timeout);
    assert_eq!(c.default_harness(JobType::Pm), "claude");
    assert_eq!(c.harness_names(), vec!["claude", "codex", "gemini"]);
}

#[test]
fn repo_config_overrides_user_config_and_env_overrides_both() {
    let repo = repo_with(Some("namespace = \"web\"\ntimeout_ms = 5000\n[harness_defaults]\nreview = \"codex\"\n"));
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(xdg.path().join("baton")).unwrap();
    std::fs::write(xdg.path().join("baton/config.toml"), "timeout_ms = 7000\nlease_ms = 9000\nnamespace = \"user\"\n")
        .unwrap();
    let xdg_dir = xdg.path().to_string_lossy().to_string();
    let env =
        env_of(&[("HOME", "/h"), ("XDG_CONFIG_HOME", &xdg_dir), ("BATON_LEASE_MS", "1100"), ("BATON_JOB_ID", "j1")]);
    let c = Config::load(repo.path(), &env).unwrap();
    assert_eq!(c.namespace, "web");
    assert_eq!(c.timeout_ms, 5000);
    assert_eq!(c.lease_ms, 1100);
    assert_eq!(c.default_harness(JobType::Review), "codex");
    assert_eq!(c.default_harness(JobType::Plan), "claude");

    let env = env_of(&[("HOME", "/h"), ("BATON_NAMESPACE", "other"), ("BATON_DATABASE_URL", "/tmp/q.db")]);
    let c = Config::load(repo.path(), &env).unwrap();
    assert_eq!(c.namespace, "other");
    assert_eq!(c.database_url, "sqlite:///tmp/q.db");
}

#[test]
fn relative_database_path_is_relative_to_the_repo() {
    let repo = repo_with(Some("database_url = \"sqlite://data/q.db\"\n"));
    let c = Config::load(&repo.path().join("."), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!(c.database_url, format!("sqlite://{}", repo.path().join("./data/q.db").display()).replace("/./", "/"));
}

#[test]
fn bad_env_values_name_the_variable() {
    let repo = repo_with(None);
    let err = Config::load(repo.path(), &env_of(&[("HOME", "/h"), ("BATON_TIMEOUT_MS", "soon")])).unwrap_err();
    assert_eq!(err.to_string(), "environment variable BATON_TIMEOUT_MS: `soon` is not a whole number");
    let err = Config::load(repo.path(), &env_of(&[("HOME", "/h"), ("BATON_RETRY_ON_TIMEOUT", "maybe")])).unwrap_err();
    assert!(err.to_string().contains("BATON_RETRY_ON_TIMEOUT"));
}

#[test]
fn user_defined_harnesses_are_checked() {
    let repo = repo_with(Some(
        "[harness.tests]\nformat = \"text\"\ncommand = [\"cargo\", \"test\"]\n[harness_defaults]\nuat = \"tests\"\n",
    ));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!(c.default_harness(JobType::Uat), "tests");
    assert!(c.check_harness("tests").is_ok());
    let err = c.check_harness("aider").unwrap_err().to_string();
    assert!(err.contains("valid values: claude, codex, gemini, tests"), "{err}");

    for (text, needle) in [
        ("[harness.x]\ncommand = [\"x\"]\n", "needs `format`"),
        ("[harness.x]\nformat = \"yaml\"\ncommand = [\"x\"]\n", "not a known format"),
        ("[harness.x]\nformat = \"text\"\n", "needs `command`"),
        ("[harness.x]\nformat = \"text\"\ncommand = []\n", "must name a program"),
        ("[harness_defaults]\npm = \"nope\"\n", "not a known harness"),
        ("namespace = \"a b\"\n", "without spaces"),
        ("max_attempts = 0\n", "`max_attempts` must be 1 to 100, not 0"),
        ("lease_ms = 1\n", "`lease_ms` must be 100 to 86400000 (100ms to 24h00m), not 1"),
        ("lease_ms = 9223372036854775807\n", "`lease_ms` must be 100 to 86400000"),
        ("timeout_ms = 99\n", "`timeout_ms` must be 100 to"),
        ("host_gone_ms = 0\n", "`host_gone_ms` must be 1000 to"),
        ("[harness.claude]\ntimeout_ms = 1\n", "[harness.claude] timeout_ms must be 100 to"),
    ] {
        let repo = repo_with(Some(text));
        let err = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap_err().to_string();
        assert!(err.contains(needle), "{text:?}: {err}");
        assert!(err.contains("config.toml"), "{err}");
    }
}

#[test]
fn unsupported_urls_are_refused_and_passwords_hidden() {
    let repo = repo_with(None);
    let env = env_of(&[("HOME", "/h"), ("BATON_DATABASE_URL", "mysql://u:secret@h/db")]);
    let err = Config::load(repo.path(), &env).unwrap_err().to_string();
    assert!(err.contains("mysql://u:***@h/db") && !err.contains("secret"), "{err}");
    assert_eq!(redact_url("postgres://me:pw@db:5432/baton"), "postgres://me:***@db:5432/baton");
    assert_eq!(redact_url("postgres://db/baton"), "postgres://db/baton");
    assert_eq!(redact_url("postgres://me:p@ss@db/baton"), "postgres://me:***@db/baton");
}

#[test]
fn init_template_parses_and_names_the_namespace() {
    let text = init_template("my-repo");
    let parsed = ConfigFile::parse(&text, Path::new("t.toml")).unwrap();
    assert_eq!(parsed.namespace.as_deref(), Some("my-repo"));
    // Its commented [retention] example is valid once uncommented.
    let start = text.find("# [retention]").unwrap();
    let retention: String = text[start..]
        .lines()
        .take_while(|l| l.starts_with("# "))
        .map(|l| format!("{}\n", l.trim_start_matches("# ")))
        .collect();
    let repo = repo_with(Some(&retention));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert!(c.retention.worktrees_merged && c.retention.agent_sessions_after_ms.is_some(), "{retention}");
}

#[test]
fn isolation_defaults_to_worktrees_in_git_repositories() {
    let plain = repo_with(None);
    let c = Config::load(plain.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!(c.isolation, Isolation::None);
    let git = repo_with(Some(
        "worktree_dir = \"../trees\"\nworktree_setup = \"npm ci\"\n[notify]\non_blocked = \"echo hi\"\n",
    ));
    std::fs::create_dir_all(git.path().join(".git")).unwrap();
    let c = Config::load(git.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!(c.isolation, Isolation::Worktree);
    assert_eq!(c.worktree_dir, git.path().join("../trees"));
    assert_eq!(c.worktree_setup.as_deref(), Some("npm ci"));
    assert_eq!(c.notify.on_blocked.as_deref(), Some("echo hi"));
    let c = Config::load(git.path(), &env_of(&[("HOME", "/h"), ("BATON_ISOLATION", "none")])).unwrap();
    assert_eq!(c.isolation, Isolation::None);
    let bad = repo_with(Some("isolation = \"docker\"\n"));
    let err = Config::load(bad.path(), &env_of(&[("HOME", "/h")])).unwrap_err().to_string();
    assert!(err.contains("valid values: worktree, none"), "{err}");
}

#[test]
fn harness_efforts_and_models_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let file = super::file::ConfigFile::parse(
        "[harness.claude]\nmodels = [\"opus\"]\nefforts = [\"low\"]\n[harness.bad]\nformat = \"claude\"\nefforts = [\"\"]\n",
        &path,
    )
    .unwrap();
    let mut harnesses = super::harness::builtins();
    super::harness::merge(&mut harnesses, "claude", &file.harness["claude"], &path).unwrap();
    assert_eq!(harnesses["claude"].models, ["opus"]);
    assert_eq!(harnesses["claude"].efforts.as_deref(), Some(&["low".to_string()][..]));
    let e = super::harness::merge(&mut harnesses, "bad", &file.harness["bad"], &path).unwrap_err();
    assert!(e.to_string().contains("efforts must not hold an empty value"), "{e}");
}

#[test]
fn prices_are_read_per_model_with_their_since() {
    let repo = repo_with(Some(
        "[harness.codex]\nmodel = \"gpt-5\"\n[prices.\"gpt-5\"]\ninput = 1.25\noutput = 10\ncache_read = 0.125\n\
         [[prices.\"gemini-2.5-pro\"]]\ninput = 1\noutput = 2\n[[prices.\"gemini-2.5-pro\"]]\nsince = \"2026-06-01\"\ninput = 3\noutput = 4\n",
    ));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap();
    let gpt = c.prices.at("gpt-5", 0).unwrap();
    assert_eq!((gpt.input, gpt.output, gpt.cache_read, gpt.cache_write), (1.25, 10.0, Some(0.125), None));
    let june = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
    assert_eq!(c.prices.at("gemini-2.5-pro", june.timestamp_millis() - 1).unwrap().input, 1.0);
    assert_eq!(c.prices.at("gemini-2.5-pro", june.timestamp_millis()).unwrap().input, 3.0);
    let spend = c.spend_policy();
    assert_eq!(spend.harness_models.get("codex").map(String::as_str), Some("gpt-5"));
    assert!(!spend.harness_models.contains_key("claude"));
    assert_eq!(spend.daily_usd, None);
    let repo = repo_with(Some("[budget]\ndaily_usd = 20\n"));
    assert_eq!(Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap().spend_policy().daily_usd, Some(20.0));
}

#[test]
fn bad_prices_and_durations_name_the_key() {
    let cases = [
        ("[prices.m]\ninput = -1\noutput = 1\n", "prices.\"m\".input"),
        ("[prices.m]\ninput = \"cheap\"\noutput = 1\n", "invalid type"),
        ("[prices.m]\ninput = 1\noutput = 1\ninptu = 2\n", "unknown field `inptu`"),
        ("[prices.m]\ninput = 1\n", "missing field `output`"),
        ("[prices.m]\ninput = 1\noutput = 1\nsince = \"June\"\n", "prices.\"m\".since"),
        ("prices = 3\n", "invalid type"),
        ("[retention]\nworktrees_after = \"two weeks\"\n", "retention.worktrees_after"),
        ("[retention]\nkeep = \"1d\"\n", "unknown field `keep`"),
        (
            "[retention]\nworktrees = \"always\"\n",
            "retention.worktrees`: `always` is not a policy: the one value is \"merged\"",
        ),
        ("[retention]\nfinished_after = \"soon\"\n", "retention.finished_after"),
        ("[retention]\nagent_sessions_after = \"30\"\n", "retention.agent_sessions_after"),
        ("[retention]\nfinished_after = \"1d\"\nworktrees_after = \"2d\"\n", "keep only finished_after"),
        ("[budget]\ndaily_usd = -5\n", "budget.daily_usd"),
        ("[budget]\ndaily_usd = \"ten\"\n", "invalid type"),
        ("[budget]\nweekly_usd = 5\n", "unknown field `weekly_usd`"),
    ];
    for (text, expected) in cases {
        let repo = repo_with(Some(text));
        let e = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap_err().to_string();
        assert!(e.contains(expected), "{text:?}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn retention_is_off_unless_set() {
    let c = Config::load(repo_with(None).path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert!(!c.retention.is_set());
    let repo = repo_with(Some("[retention]\nworktrees_after = \"14d\"\ntranscripts_after = \"30d\"\n"));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!(c.retention.finished_after_ms, Some(14 * 86_400_000), "worktrees_after is read as finished_after");
    assert_eq!(c.retention.transcripts_after_ms, Some(30 * 86_400_000));
    assert!(!c.retention.worktrees_merged);
    let repo = repo_with(Some(
        "[retention]\nworktrees = \"merged\"\nfinished_after = \"14d\"\nagent_sessions_after = \"30d\"\n",
    ));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert!(c.retention.worktrees_merged && c.retention.worktrees_set());
    assert_eq!(c.retention.finished_after_ms, Some(14 * 86_400_000));
    assert_eq!(c.retention.agent_sessions_after_ms, Some(30 * 86_400_000));
    assert_eq!(c.retention.transcripts_after_ms, None);
    let repo = repo_with(Some("[retention]\nagent_sessions_after = \"30d\"\n"));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert!(c.retention.is_set() && !c.retention.worktrees_set());
}

#[test]
fn the_worktree_warning_size_defaults_to_20_gib_and_must_be_above_zero() {
    let c = Config::load(repo_with(None).path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!(c.retention.warn_worktrees_bytes(), 20 * 1024 * 1024 * 1024);
    assert!(!c.retention.is_set(), "a warning size alone is no policy");
    let c = Config::load(repo_with(Some("[retention]\nwarn_worktrees_gib = 1.5\n")).path(), &env_of(&[("HOME", "/h")]))
        .unwrap();
    assert_eq!(c.retention.warn_worktrees_bytes(), 3 * 512 * 1024 * 1024);
    assert!(!c.retention.is_set());
    for bad in ["0", "-2"] {
        let text = format!("[retention]\nwarn_worktrees_gib = {bad}\n");
        let err = Config::load(repo_with(Some(&text)).path(), &env_of(&[("HOME", "/h")])).unwrap_err();
        assert!(err.to_string().contains("retention.warn_worktrees_gib"), "{err}");
    }
}

#[test]
fn host_and_sync_remote_come_from_config_and_env() {
    let repo = repo_with(Some("host = \"box-a\"\n[sync]\nremote = \"origin\"\n"));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!((c.host.as_deref(), c.sync_remote.as_deref()), (Some("box-a"), Some("origin")));
    let env = env_of(&[("HOME", "/h"), ("BATON_HOST", "box-b"), ("BATON_SYNC_REMOTE", "git://db/r.git")]);
    let c = Config::load(repo.path(), &env).unwrap();
    assert_eq!((c.host.as_deref(), c.sync_remote.as_deref()), (Some("box-b"), Some("git://db/r.git")));
    let c = Config::load(repo_with(None).path(), &env_of(&[("HOME", "/h")])).unwrap();
    assert_eq!((c.host, c.sync_remote), (None, None));
    let err = Config::load(repo_with(Some("host = \"a b\"\n")).path(), &env_of(&[("HOME", "/h")])).unwrap_err();
    assert!(err.to_string().contains("host `a b` must be one word"), "{err}");
}

#[test]
fn the_sandbox_and_what_agents_never_get() {
    let repo = repo_with(None);
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/home/u")])).unwrap();
    assert_eq!(c.sandbox, Sandbox::Auto);
    assert_eq!(c.agent_env_remove, ["PGPASSWORD", "DATABASE_URL"]);
    assert!(c.harnesses["claude"].network && c.harnesses["claude"].writable.is_empty());

    let text = "sandbox = \"bwrap\"\nagent_env_remove = [\"AWS_SECRET_ACCESS_KEY\"]\n\
                [harness.gate]\nformat = \"text\"\ncommand = [\"make\", \"test\"]\nnetwork = false\nwritable = [\"~/.cargo\"]\n";
    let repo = repo_with(Some(text));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/home/u")])).unwrap();
    assert_eq!(c.sandbox, Sandbox::Bwrap);
    assert_eq!(c.agent_env_remove, ["AWS_SECRET_ACCESS_KEY"]);
    assert_eq!((c.harnesses["gate"].network, c.harnesses["gate"].writable.clone()), (false, vec!["~/.cargo".into()]));
    let env = env_of(&[("HOME", "/home/u"), ("BATON_SANDBOX", "none")]);
    assert_eq!(Config::load(repo.path(), &env).unwrap().sandbox, Sandbox::None);

    let bad = repo_with(Some("sandbox = \"docker\"\n"));
    let e = Config::load(bad.path(), &env_of(&[("HOME", "/home/u")])).unwrap_err().to_string();
    assert!(e.contains("sandbox `docker` is not known; valid values: auto, bwrap, none"), "{e}");
    let bad = repo_with(Some("[harness.claude]\nwritable = [\"cache\"]\n"));
    let e = Config::load(bad.path(), &env_of(&[("HOME", "/home/u")])).unwrap_err().to_string();
    assert!(e.contains("writable = \"cache\" is not an absolute path"), "{e}");
}

#[test]
fn telemetry_is_off_until_an_endpoint_is_set() {
    let repo = repo_with(None);
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/home/u")])).unwrap();
    assert_eq!(c.telemetry, Telemetry::default());
    let repo = repo_with(Some(
        "[telemetry]\notlp_endpoint = \"http://127.0.0.1:4318/\"\notlp_protocol = \"http/json\"\nexport_interval_ms = 500\n",
    ));
    let c = Config::load(repo.path(), &env_of(&[("HOME", "/home/u")])).unwrap();
    assert_eq!(c.telemetry.otlp_endpoint.as_deref(), Some("http://127.0.0.1:4318"));
    assert_eq!((c.telemetry.otlp_protocol.as_str(), c.telemetry.export_interval_ms), ("http/json", 500));
    let env = env_of(&[("HOME", "/home/u"), ("BATON_OTLP_ENDPOINT", "https://otel.example:4318")]);
    let c = Config::load(repo.path(), &env).unwrap();
    assert_eq!(c.telemetry.otlp_endpoint.as_deref(), Some("https://otel.example:4318"));
}

#[test]
fn a_bad_telemetry_endpoint_names_the_key() {
    let repo = repo_with(Some("[telemetry]\notlp_endpoint = \"localhost:4318\"\n"));
    let e = Config::load(repo.path(), &env_of(&[("HOME", "/home/u")])).unwrap_err().to_string();
    assert!(e.contains("telemetry.otlp_endpoint") && e.contains("http://HOST:PORT"), "{e}");
    let repo = repo_with(Some("[telemetry]\notlp_protocol = \"udp\"\n"));
    let e = Config::load(repo.path(), &env_of(&[("HOME", "/home/u")])).unwrap_err().to_string();
    assert!(e.contains("telemetry.otlp_protocol") && e.contains("http/json"), "{e}");
    let repo = repo_with(None);
    let env = env_of(&[("HOME", "/home/u"), ("BATON_OTLP_ENDPOINT", "ftp://x")]);
    let e = Config::load(repo.path(), &env).unwrap_err().to_string();
    assert!(e.starts_with("environment variable BATON_OTLP_ENDPOINT:"), "{e}");
}

#[test]
fn the_agent_interface_is_the_cli_unless_set_and_a_bad_value_names_the_key() {
    let home = [("HOME", "/home/u")];
    let repo = repo_with(None);
    assert_eq!(Config::load(repo.path(), &env_of(&home)).unwrap().agent_interface, AgentInterface::Cli);
    let repo = repo_with(Some("agent_interface = \"both\"\n"));
    assert_eq!(Config::load(repo.path(), &env_of(&home)).unwrap().agent_interface, AgentInterface::Both);
    let env = env_of(&[("HOME", "/home/u"), ("BATON_AGENT_INTERFACE", "cli")]);
    assert_eq!(Config::load(repo.path(), &env).unwrap().agent_interface, AgentInterface::Cli);

    let bad = repo_with(Some("agent_interface = \"mcp\"\n"));
    let e = Config::load(bad.path(), &env_of(&home)).unwrap_err().to_string();
    assert!(e.contains("agent_interface `mcp` is not known; valid values: cli, both"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    let env = env_of(&[("HOME", "/home/u"), ("BATON_AGENT_INTERFACE", "yes")]);
    let e = Config::load(repo.path(), &env).unwrap_err().to_string();
    assert!(e.starts_with("environment variable BATON_AGENT_INTERFACE: agent_interface `yes`"), "{e}");
}
