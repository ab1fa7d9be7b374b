//! Configuration: built-in defaults, then the user config (`~/.config/baton/config.toml`), then the
//! repository's `.baton/config.toml`, then `BATON_*` environment variables — each layer overriding
//! the one before, key by key.

mod agent_interface;
mod discover;
mod env;
mod file;
mod harness;
mod prices;
pub mod ranges;
mod sandbox;
mod telemetry;

pub use agent_interface::AgentInterface;
pub use discover::{
    default_database_path, locate_repo, user_config_file, EnvLookup, RepoLocation, BATON_DIR, CONFIG_FILE,
};
pub use file::{
    BudgetFile, ConfigFile, HarnessDefaultsFile, HarnessFile, NotifyFile, PriceFile, PricesFile, RetentionFile,
    SyncFile, TelemetryFile,
};
pub use harness::{Format, HarnessConfig, BUILTIN_HARNESSES};
pub use prices::{parse_duration, Retention, DEFAULT_WARN_WORKTREES_BYTES};
pub use sandbox::{Sandbox, DEFAULT_AGENT_ENV_REMOVE};
pub use telemetry::{Telemetry, OTLP_PROTOCOLS};

use crate::error::{Error, Result};
use crate::model::JobType;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The resolved configuration a command runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The repository root the commands and the runner serve.
    pub repo_root: PathBuf,
    /// The repository's `.baton/config.toml`, if one was found.
    pub repo_config: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…`, normalised (sqlite paths are absolute).
    pub database_url: String,
    /// The database is the default one (no `database_url` anywhere): its folder may be created.
    pub database_default: bool,
    pub namespace: String,
    /// Per-job wall-clock limit.
    pub timeout_ms: u64,
    /// Total runs a job may start, the first included.
    pub max_attempts: u32,
    /// Base of the exponential retry back-off.
    pub retry_base_ms: u64,
    /// Whether a timed-out job is retried (default: no; the PM decides).
    pub retry_on_timeout: bool,
    /// How long a runner's claim lasts without a heartbeat.
    pub lease_ms: u64,
    /// Default job limit of new assignments.
    pub max_jobs_per_assignment: u32,
    /// How many lost leases a job survives before it is failed.
    pub max_lost_leases: u32,
    /// How long an assignment waits for runners on the host holding its worktree before it is
    /// blocked for a person.
    pub host_gone_ms: u64,
    /// This machine's name as runners record it (`host` / `BATON_HOST`); `None` means the
    /// hostname. Containers sharing a hostname, and tests, give each machine its own.
    pub host: Option<String>,
    /// `[sync] remote`: the git remote (a name or a URL) each assignment's branch is pushed to
    /// after every attempt that moved it, so another host can continue it; `None`: never push.
    pub sync_remote: Option<String>,
    /// Whether each assignment works in its own git worktree.
    pub isolation: Isolation,
    /// Where worktrees are created (default `.baton/worktrees` in the repository root).
    pub worktree_dir: PathBuf,
    /// A shell command run once in every new worktree (e.g. installing dependencies).
    pub worktree_setup: Option<String>,
    /// Whether baton commits what each attempt left uncommitted (a checkpoint commit).
    pub commit: CommitMode,
    /// Files a checkpoint never commits (glob patterns on the path or the file name).
    pub commit_exclude: Vec<String>,
    /// Files larger than this are left out of a checkpoint commit.
    pub commit_max_file_bytes: u64,
    /// How a runner keeps everything an attempt starts inside that attempt.
    pub containment: Containment,
    /// Commands run when an assignment is blocked or complete, or a job failed.
    pub notify: Notify,
    /// Harness per job type; `default` for types not named.
    pub harness_defaults: BTreeMap<String, String>,
    /// Every known harness: the built-ins plus `[harness.NAME]` tables.
    pub harnesses: BTreeMap<String, HarnessConfig>,
    /// `[prices."<model>"]`: what estimated costs are computed with (none built in).
    pub prices: crate::engine::spend::Prices,
    /// `[retention]`: how long finished worktrees and transcripts are kept (off by default).
    pub retention: Retention,
    /// Whether attempts run in a filesystem sandbox.
    pub sandbox: Sandbox,
    /// Variables of the runner's environment that never reach an agent (`BATON_DATABASE_URL`
    /// never does either way).
    pub agent_env_remove: Vec<String>,
    /// `[budget] daily_usd`: the namespace's spend cap per UTC day (off by default).
    pub daily_usd: Option<f64>,
    /// `[telemetry]`: where the agent CLIs send their own OpenTelemetry exports (off by default).
    pub telemetry: Telemetry,
    /// How agents reach baton: the CLI, or for claude also the MCP server.
    pub agent_interface: AgentInterface,
}

/// The scalar keys that `BATON_<KEY>` may override.
pub const SCALAR_KEYS: &[&str] = &[
    "database_url",
    "namespace",
    "timeout_ms",
    "max_attempts",
    "retry_base_ms",
    "retry_on_timeout",
    "lease_ms",
    "max_jobs_per_assignment",
    "max_lost_leases",
    "host_gone_ms",
    "host",
    "sync_remote",
    "isolation",
    "worktree_dir",
    "worktree_setup",
    "commit",
    "commit_max_file_bytes",
    "containment",
    "sandbox",
    "agent_interface",
];

/// What baton commits after each attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// A checkpoint commit of whatever the attempt left uncommitted, on the assignment's branch.
    Checkpoint,
    /// Nothing: the agent's own commits only.
    Off,
}

impl std::str::FromStr for CommitMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "checkpoint" => Ok(CommitMode::Checkpoint),
            "off" => Ok(CommitMode::Off),
            other => Err(format!("commit `{other}` is not known; valid values: checkpoint, off")),
        }
    }
}

/// Files a checkpoint leaves out by default: secrets a repository's `.gitignore` often forgets.
pub const DEFAULT_COMMIT_EXCLUDE: [&str; 3] = [".env", "*.pem", "*.key"];

/// Where an assignment's jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Each assignment gets a branch `baton/<id>` and its own git worktree.
    Worktree,
    /// Every job runs in the repository root itself.
    None,
}

impl std::str::FromStr for Isolation {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "worktree" => Ok(Isolation::Worktree),
            "none" => Ok(Isolation::None),
            other => Err(format!("isolation `{other}` is not known; valid values: worktree, none")),
        }
    }
}

/// How a runner makes sure nothing an attempt started outlives it (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Containment {
    /// The strongest mechanism this host offers: a cgroup where cgroup v2 is writable, else a
    /// subreaper.
    #[default]
    Auto,
    /// A cgroup v2 per attempt, ended with `cgroup.kill`; refused where cgroup v2 is missing.
    Cgroup,
    /// The attempt's supervisor adopts orphaned descendants and kills them all.
    Subreaper,
}

impl std::str::FromStr for Containment {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Containment::Auto),
            "cgroup" => Ok(Containment::Cgroup),
            "subreaper" => Ok(Containment::Subreaper),
            other => Err(format!("containment `{other}` is not known; valid values: auto, cgroup, subreaper")),
        }
    }
}

/// The `[notify]` hooks (shell commands run with the assignment's JSON on stdin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    pub on_blocked: Option<String>,
    pub on_complete: Option<String>,
    pub on_failed_job: Option<String>,
}

impl Config {
    /// Loads the configuration for a command run in `cwd`, reading variables through `env`.
    pub fn load(cwd: &Path, env: EnvLookup<'_>) -> Result<Config> {
        let location = locate_repo(cwd);
        let mut layers: Vec<(PathBuf, ConfigFile)> = Vec::new();
        if let Some(path) = user_config_file(env).filter(|p| p.is_file()) {
            layers.push(read_layer(&path)?);
        }
        if let Some(path) = &location.config_file {
            layers.push(read_layer(path)?);
        }
        Self::resolve(location, &layers, env)
    }

    /// Resolves layers (lowest precedence first) and the environment into a config.
    pub fn resolve(location: RepoLocation, layers: &[(PathBuf, ConfigFile)], env: EnvLookup<'_>) -> Result<Config> {
        let mut c = Config::defaults(location.root.clone(), location.config_file.clone());
        let mut database: Option<(String, Option<PathBuf>)> = None;
        for (path, layer) in layers {
            let dir = path.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
            if let Some(url) = &layer.database_url {
                database = Some((url.clone(), Some(dir.to_path_buf())));
            }
            c.apply_layer(layer, path)?;
        }
        if let Some(url) = env("BATON_DATABASE_URL").filter(|u| !u.is_empty()) {
            database = Some((url, None));
        }
        env::apply(&mut c, env)?;
        c.database_url = match database {
            Some((url, base)) => normalise_database_url(&url, base.as_deref(), env)?,
            None => {
                let path = default_database_path(env).ok_or_else(|| Error::ConfigEnv {
                    name: "HOME".into(),
                    message: "is not set, so there is no default database; set BATON_DATABASE_URL".into(),
                })?;
                c.database_default = true;
                format!("sqlite://{}", path.display())
            }
        };
        c.validate()?;
        Ok(c)
    }

    fn defaults(repo_root: PathBuf, repo_config: Option<PathBuf>) -> Config {
        let namespace = repo_root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let harness_defaults = BTreeMap::from([("default".to_string(), "claude".to_string())]);
        // Worktrees need git; a folder that is not a repository runs jobs in place.
        let isolation = if repo_root.join(".git").exists() { Isolation::Worktree } else { Isolation::None };
        let worktree_dir = repo_root.join(BATON_DIR).join("worktrees");
        Config {
            repo_root,
            repo_config,
            database_url: String::new(),
            database_default: false,
            namespace,
            timeout_ms: 600_000,
            max_attempts: 3,
            retry_base_ms: 2_000,
            retry_on_timeout: false,
            lease_ms: 30_000,
            max_jobs_per_assignment: 50,
            max_lost_leases: 3,
            host_gone_ms: 600_000,
            host: None,
            sync_remote: None,
            isolation,
            worktree_dir,
            worktree_setup: None,
            commit: CommitMode::Checkpoint,
            commit_exclude: DEFAULT_COMMIT_EXCLUDE.iter().map(|p| p.to_string()).collect(),
            commit_max_file_bytes: 10 * 1024 * 1024,
            containment: Containment::Auto,
            notify: Notify::default(),
            harness_defaults,
            harnesses: harness::builtins(),
            prices: Default::default(),
            retention: Retention::default(),
            sandbox: Sandbox::default(),
            agent_env_remove: DEFAULT_AGENT_ENV_REMOVE.iter().map(|v| v.to_string()).collect(),
            daily_usd: None,
            telemetry: Telemetry::default(),
            agent_interface: AgentInterface::Cli,
        }
    }

    fn apply_layer(&mut self, f: &ConfigFile, path: &Path) -> Result<()> {
        macro_rules! take {
            ($($key:ident),*) => { $(if let Some(v) = f.$key.clone() { self.$key = v; })* };
        }
        take!(namespace, timeout_ms, max_attempts, retry_base_ms, retry_on_timeout, lease_ms);
        take!(max_jobs_per_assignment, max_lost_leases, host_gone_ms);
        if let Some(remote) = f.sync.as_ref().and_then(|s| s.remote.as_ref()) {
            self.sync_remote = Some(remote.trim().to_string()).filter(|r| !r.is_empty());
        }
        if let Some(host) = &f.host {
            self.host = Some(host.trim().to_string()).filter(|h| !h.is_empty());
        }
        if let Some(isolation) = &f.isolation {
            self.isolation =
                isolation.parse().map_err(|message| Error::Config { path: path.to_path_buf(), message })?;
        }
        if let Some(containment) = &f.containment {
            self.containment =
                containment.parse().map_err(|message| Error::Config { path: path.to_path_buf(), message })?;
        }
        if let Some(sandbox) = &f.sandbox {
            self.sandbox = sandbox.parse().map_err(|message| Error::Config { path: path.to_path_buf(), message })?;
        }
        if let Some(interface) = &f.agent_interface {
            self.agent_interface =
                interface.parse().map_err(|message| Error::Config { path: path.to_path_buf(), message })?;
        }
        take!(agent_env_remove);
        if let Some(dir) = &f.worktree_dir {
            // Relative to the folder holding `.baton/`.
            let base = path.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
            self.worktree_dir = base.join(dir);
        }
        if let Some(setup) = &f.worktree_setup {
            self.worktree_setup = Some(setup.clone()).filter(|s| !s.trim().is_empty());
        }
        if let Some(commit) = &f.commit {
            self.commit = commit.parse().map_err(|message| Error::Config { path: path.to_path_buf(), message })?;
        }
        take!(commit_exclude, commit_max_file_bytes);
        if let Some(n) = &f.notify {
            let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
            self.notify = Notify {
                on_blocked: pick(&n.on_blocked, &self.notify.on_blocked),
                on_complete: pick(&n.on_complete, &self.notify.on_complete),
                on_failed_job: pick(&n.on_failed_job, &self.notify.on_failed_job),
            };
        }
        if let Some(d) = &f.harness_defaults {
            let pairs = [
                ("default", &d.default),
                ("plan", &d.plan),
                ("implement", &d.implement),
                ("review", &d.review),
                ("uat", &d.uat),
                ("document", &d.document),
                ("pm", &d.pm),
                ("chat", &d.chat),
            ];
            for (key, value) in pairs {
                if let Some(value) = value {
                    self.harness_defaults.insert(key.to_string(), value.clone());
                }
            }
        }
        for (name, table) in &f.harness {
            harness::merge(&mut self.harnesses, name, table, path)?;
        }
        prices::merge_prices(&mut self.prices, &f.prices, path)?;
        if let Some(r) = &f.retention {
            prices::merge_retention(&mut self.retention, r, path)?;
        }
        if let Some(daily) = f.budget.as_ref().and_then(|b| b.daily_usd) {
            if !crate::request::is_amount(daily) {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!("key `budget.daily_usd`: {daily} {}", crate::request::AMOUNT_RULE),
                });
            }
            self.daily_usd = Some(daily);
        }
        if let Some(t) = &f.telemetry {
            let bad = |message| Error::Config { path: path.to_path_buf(), message };
            if let Some(endpoint) = &t.otlp_endpoint {
                self.telemetry.otlp_endpoint = match endpoint.trim() {
                    "" => None,
                    e => Some(telemetry::check_endpoint(e, "telemetry.otlp_endpoint").map_err(bad)?),
                };
            }
            if let Some(protocol) = &t.otlp_protocol {
                self.telemetry.otlp_protocol =
                    telemetry::check_protocol(protocol, "telemetry.otlp_protocol").map_err(bad)?;
            }
            if let Some(ms) = t.export_interval_ms {
                if ms == 0 {
                    return Err(Error::Config {
                        path: path.to_path_buf(),
                        message: "key `telemetry.export_interval_ms`: must be at least 1".to_string(),
                    });
                }
                self.telemetry.export_interval_ms = ms;
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        let origin = |key: &str| -> PathBuf {
            self.repo_config.clone().unwrap_or_else(|| PathBuf::from(format!("config key {key}")))
        };
        if self.namespace.trim().is_empty() || self.namespace.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::Config {
                path: origin("namespace"),
                message: format!("namespace `{}` must be non-empty and without spaces", self.namespace),
            });
        }
        if let Some(host) = &self.host {
            if host.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(Error::Config {
                    path: origin("host"),
                    message: format!("host `{host}` must be one word without spaces"),
                });
            }
        }
        let checks = [
            (ranges::TIMEOUT_MS, self.timeout_ms),
            (ranges::LEASE_MS, self.lease_ms),
            (ranges::RETRY_BASE_MS, self.retry_base_ms),
            (ranges::HOST_GONE_MS, self.host_gone_ms),
            (ranges::MAX_ATTEMPTS, u64::from(self.max_attempts)),
            (ranges::MAX_JOBS, u64::from(self.max_jobs_per_assignment)),
            (ranges::MAX_LOST_LEASES, u64::from(self.max_lost_leases)),
        ];
        for (range, value) in checks {
            range.check(value).map_err(|message| Error::Config { path: origin(range.key), message })?;
        }
        for (job_type, harness) in &self.harness_defaults {
            if !self.harnesses.contains_key(harness) {
                return Err(Error::Config {
                    path: origin("harness_defaults"),
                    message: format!(
                        "harness_defaults.{job_type} = \"{harness}\" is not a known harness; valid values: {} (or define [harness.{harness}])",
                        self.harness_names().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The harness that runs a job of this type when `--harness` is not given.
    pub fn default_harness(&self, job_type: JobType) -> &str {
        self.harness_defaults
            .get(job_type.as_str())
            .or_else(|| self.harness_defaults.get("default"))
            .map(String::as_str)
            .unwrap_or("claude")
    }

    /// What the store prices attempts with: `[prices]` and each harness's configured `model`.
    pub fn spend_policy(&self) -> crate::engine::spend::SpendPolicy {
        crate::engine::spend::SpendPolicy {
            prices: self.prices.clone(),
            harness_models: self
                .harnesses
                .iter()
                .filter_map(|(name, h)| Some((name.clone(), h.model.clone()?)))
                .collect(),
            daily_usd: self.daily_usd,
        }
    }

    /// Every harness name, sorted.
    pub fn harness_names(&self) -> Vec<String> {
        self.harnesses.keys().cloned().collect()
    }

    /// Checks that `name` is a known harness.
    pub fn check_harness(&self, name: &str) -> Result<()> {
        if self.harnesses.contains_key(name) {
            Ok(())
        } else {
            Err(Error::UnknownHarness { name: name.to_string(), valid: self.harness_names().join(", ") })
        }
    }

    /// The database location for messages: the URL without any password.
    pub fn database_display(&self) -> String {
        redact_url(&self.database_url)
    }
}

fn read_layer(path: &Path) -> Result<(PathBuf, ConfigFile)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config { path: path.to_path_buf(), message: format!("cannot read: {e}") })?;
    Ok((path.to_path_buf(), ConfigFile::parse(&text, path)?))
}

/// `sqlite://PATH`, a plain path, or `postgres://…`; relative sqlite paths are taken from `base`
/// (the folder holding `.baton/` for a config file) or the current directory (the environment).
fn normalise_database_url(url: &str, base: Option<&Path>, env: EnvLookup<'_>) -> Result<String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_string());
    }
    if url.contains("://") && !url.starts_with("sqlite://") {
        return Err(Error::UnsupportedUrl { url: redact_url(url) });
    }
    let raw = url.strip_prefix("sqlite://").unwrap_or(url);
    if raw.is_empty() {
        return Err(Error::UnsupportedUrl { url: url.to_string() });
    }
    let mut path = discover::expand_home(raw, env);
    if path.is_relative() {
        let base = match base {
            Some(b) => b.to_path_buf(),
            None => std::env::current_dir().map_err(|e| Error::io("reading the current directory", e))?,
        };
        path = base.join(path);
    }
    Ok(format!("sqlite://{}", path.display()))
}

/// Hides the password of a `scheme://user:password@host/…` URL.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The last `@` ends the user info: a password may itself contain an unencoded `@`.
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The text `baton init` writes to `.baton/config.toml`.
pub fn init_template(namespace: &str) -> String {
    include_str!("init_template.toml").replace("{namespace}", &namespace.replace('"', "\\\""))
}

#[cfg(test)]
mod tests;
