//! What every data command gets: the resolved [`Config`], the store (opened on first use), who is
//! acting, and how to print.
//!
//! The config is read once, here; `--namespace` is applied by answering `BATON_NAMESPACE` with
//! its value, so it has exactly the precedence of the variable. Nothing else happens before the
//! command's query: start-up must stay in the low milliseconds.

use crate::cli::GlobalArgs;
use crate::error::CliResult;
use crate::output::Output;
use baton_core::request::JobDefaults;
use baton_core::{Actor, Config, Store};
use std::path::PathBuf;
use std::sync::Arc;

/// How long a command run inside a job waits for an unreachable database.
const AGENT_DATABASE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Context {
    pub config: Config,
    /// Recorded in history for every change this command makes.
    pub actor: Actor,
    pub out: Output,
    store: Option<Arc<dyn Store>>,
    /// Standing for standard input, for a command a runner runs in its own process.
    input: Option<Vec<u8>>,
}

impl Context {
    /// Loads the configuration for the current directory.
    pub fn load(global: &GlobalArgs, out: Output) -> CliResult<Context> {
        let config = load_config(global)?;
        Ok(Context { config, actor: actor_from_env(&|k| std::env::var(k).ok()), out, store: None, input: None })
    }

    /// The context of a job's command that its runner runs in process: the configuration for
    /// `cwd` with `env` over the runner's environment, the runner's store, and `input` for
    /// standard input — everything a spawned `baton` would have found.
    pub fn for_job_call(
        global: &GlobalArgs,
        out: Output,
        cwd: &std::path::Path,
        env: &dyn Fn(&str) -> Option<String>,
        store: Arc<dyn Store>,
        input: Vec<u8>,
    ) -> CliResult<Context> {
        let namespace = global.namespace.clone();
        let lookup = move |key: &str| match (&namespace, key) {
            (Some(ns), "BATON_NAMESPACE") => Some(ns.clone()),
            _ => env(key),
        };
        let config = Config::load(cwd, &lookup)?;
        Ok(Context { config, actor: actor_from_env(env), out, store: Some(store), input: Some(input) })
    }

    /// What stands for standard input, when not the process's own.
    pub fn input(&self) -> Option<&[u8]> {
        self.input.as_deref()
    }

    /// The namespace every query and change is scoped to.
    pub fn ns(&self) -> &str {
        &self.config.namespace
    }

    /// The store, opened (and migrated) on first use.
    pub async fn store(&mut self) -> CliResult<Arc<dyn Store>> {
        if let Some(store) = &self.store {
            return Ok(store.clone());
        }
        let store = if self.actor.job_id().is_some() { self.open_patiently().await? } else { self.open().await? };
        self.store = Some(store.clone());
        Ok(store)
    }

    async fn open(&self) -> CliResult<Arc<dyn Store>> {
        Ok(baton_store::open_config_with(&self.config, threading()).await?)
    }

    /// An agent's command rides out a database restart (a PM's decision must not be lost to a
    /// blip); a person's typo in a URL should fail at once, so only commands inside a job wait.
    async fn open_patiently(&self) -> CliResult<Arc<dyn Store>> {
        let give_up = std::time::Instant::now() + AGENT_DATABASE_PATIENCE;
        let mut pause = std::time::Duration::from_millis(100);
        loop {
            match baton_store::open_config_with(&self.config, threading()).await {
                Err(e @ baton_core::Error::DatabaseOpen { .. })
                    if !e.is_permanent_database_fault() && std::time::Instant::now() + pause < give_up =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_secs(2));
                }
                other => return Ok(other?),
            }
        }
    }

    /// What the engine needs to queue jobs on its own (a resume's PM job, a retry's copy).
    pub fn job_defaults(&self) -> JobDefaults {
        JobDefaults::from_config(&self.config)
    }
}

/// A command on the one-thread runtime (every command but `run` and `serve`, see `main.rs`) runs
/// its queries on that thread: it has nothing else to do while one runs. The runner and the
/// dashboard keep theirs off their worker threads.
fn threading() -> baton_store::Threading {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(RuntimeFlavor::CurrentThread) => baton_store::Threading::Caller,
        _ => baton_store::Threading::Pool,
    }
}

/// The current directory, for finding `.baton/config.toml`.
pub fn current_dir() -> CliResult<PathBuf> {
    std::env::current_dir().map_err(|e| baton_core::Error::io("reading the current directory", e).into())
}

/// Resolves the configuration for the current directory, honouring `--namespace`.
pub fn load_config(global: &GlobalArgs) -> CliResult<Config> {
    let cwd = current_dir()?;
    let namespace = global.namespace.clone();
    let lookup = move |key: &str| match (&namespace, key) {
        (Some(ns), "BATON_NAMESPACE") => Some(ns.clone()),
        _ => std::env::var(key).ok(),
    };
    Ok(Config::load(&cwd, &lookup)?)
}

/// A command run by an agent inside a job acts as that job; anyone else is a person, named by
/// `BATON_ACTOR` when set, else by their login name.
pub fn actor_from_env(env: &dyn Fn(&str) -> Option<String>) -> Actor {
    actor_from(env, &login_name_of_uid)
}

fn actor_from(env: &dyn Fn(&str) -> Option<String>, user_database: &dyn Fn() -> Option<String>) -> Actor {
    let non_empty = |k: &str| env(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    if let Some(id) = non_empty("BATON_JOB_ID") {
        // An unparsable token counts as none: the store then refuses changes and says why.
        let token = non_empty("BATON_JOB_TOKEN").and_then(|t| t.parse().ok());
        return Actor::Job { id, token };
    }
    // Root shells and containers often have no USER: the user database still knows who runs.
    let name = non_empty("BATON_ACTOR")
        .or_else(|| non_empty("USER"))
        .or_else(|| non_empty("LOGNAME"))
        .or_else(user_database)
        .unwrap_or_else(|| "unknown".to_string());
    Actor::Person(name)
}

/// The login name of this process's user, from the system's user database (`getpwuid_r`).
#[cfg(unix)]
fn login_name_of_uid() -> Option<String> {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: a zeroed passwd is a valid out-parameter; getpwuid_r writes only into it and
        // `buf` (whose length it is told), and `result` points at `pwd` or is null.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success pw_name points at a NUL-terminated string inside `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) }.to_string_lossy().trim().to_string();
        return (!name.is_empty()).then_some(name);
    }
}

#[cfg(not(unix))]
fn login_name_of_uid() -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_prefers_the_job() {
        let env = |k: &str| match k {
            "BATON_JOB_ID" => Some("j123".to_string()),
            "USER" => Some("ada".to_string()),
            _ => None,
        };
        assert_eq!(actor_from_env(&env), Actor::job("j123"));
        let env = |k: &str| match k {
            "BATON_JOB_ID" => Some("j123".to_string()),
            "BATON_JOB_TOKEN" => Some("42".to_string()),
            _ => None,
        };
        assert_eq!(actor_from_env(&env), Actor::Job { id: "j123".into(), token: Some(42) });
        let env = |k: &str| (k == "LOGNAME").then(|| "bob".to_string());
        assert_eq!(actor_from(&env, &|| None), Actor::Person("bob".into()));
        assert_eq!(actor_from(&|_| None, &|| None), Actor::Person("unknown".into()));
    }

    #[test]
    fn a_person_is_named_by_baton_actor_then_user_then_the_user_database() {
        let db = || Some("root".to_string());
        let env = |k: &str| match k {
            "BATON_ACTOR" => Some("ada".to_string()),
            "USER" => Some("bob".to_string()),
            _ => None,
        };
        assert_eq!(actor_from(&env, &db), Actor::Person("ada".into()));
        let env = |k: &str| (k == "USER").then(|| "bob".to_string());
        assert_eq!(actor_from(&env, &db), Actor::Person("bob".into()));
        assert_eq!(actor_from(&|_| None, &db), Actor::Person("root".into()));
        // The real user database knows the user running the tests.
        assert!(login_name_of_uid().is_some_and(|n| !n.is_empty()));
    }
}
