//! A throw-away world for one section: a temp folder with a home, a repository folder and a
//! SQLite file; every process runs with a clean environment pointing there.

use crate::error::{Ctx, Result};
use crate::Options;
use rusqlite::Connection;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How often the bench polls the database while it waits for something to happen.
pub const POLL: Duration = Duration::from_millis(2);

pub struct Sandbox {
    /// Removed on drop, unless `--keep` asked to leave it for a look.
    _dir: Option<TempDir>,
    /// The temp folder holding everything below.
    pub root: PathBuf,
    /// The repository the commands run in (their working directory).
    pub repo: PathBuf,
    pub home: PathBuf,
    pub db: PathBuf,
    pub namespace: String,
    /// The release `baton` binary under test.
    pub baton: PathBuf,
    /// Another database than the SQLite file (a PostgreSQL URL), set by [`Sandbox::with_url`].
    url: Option<String>,
}

impl Sandbox {
    pub fn new(opts: &Options, namespace: &str) -> Result<Sandbox> {
        let dir = tempfile::Builder::new().prefix("baton-bench-").tempdir().ctx("creating a temp folder")?;
        let root = dir.path().to_path_buf();
        let dir = if opts.keep {
            eprintln!("  keeping {}", dir.keep().display());
            None
        } else {
            Some(dir)
        };
        let (repo, home) = (root.join("repo"), root.join("home"));
        for d in [&repo, &home, &root.join("tmp"), &home.join(".config"), &home.join(".local/share")] {
            fs::create_dir_all(d).ctx(format!("creating {}", d.display()))?;
        }
        Ok(Sandbox {
            _dir: dir,
            db: root.join("baton.db"),
            root,
            repo,
            home,
            namespace: namespace.to_string(),
            baton: opts.baton.clone(),
            url: None,
        })
    }

    /// Points every process at `url` instead of the sandbox's SQLite file.
    pub fn with_url(mut self, url: String) -> Sandbox {
        self.url = Some(url);
        self
    }

    pub fn database_url(&self) -> String {
        self.url.clone().unwrap_or_else(|| format!("sqlite://{}", self.db.display()))
    }

    /// The whole environment of every process the bench starts.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.home.display().to_string();
        vec![
            ("HOME".into(), home.clone()),
            ("XDG_CONFIG_HOME".into(), format!("{home}/.config")),
            ("XDG_DATA_HOME".into(), format!("{home}/.local/share")),
            ("XDG_CACHE_HOME".into(), format!("{home}/.cache")),
            ("XDG_STATE_HOME".into(), format!("{home}/.local/state")),
            ("TMPDIR".into(), self.root.join("tmp").display().to_string()),
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            ("USER".into(), "bench".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("BATON_DATABASE_URL".into(), self.database_url()),
            ("BATON_NAMESPACE".into(), self.namespace.clone()),
            // The stand-in agents live in the temp folder, which a filesystem sandbox hides.
            ("BATON_SANDBOX".into(), "none".into()),
        ]
    }

    /// `program` with the clean environment, in the repository, output discarded.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env_clear().envs(self.env()).current_dir(&self.repo).stdin(Stdio::null());
        command.stdout(Stdio::null()).stderr(Stdio::null());
        command
    }

    /// `baton ARGS…`.
    pub fn baton(&self, args: &[&str]) -> Command {
        let mut command = self.command(&self.baton);
        command.args(args);
        command
    }

    /// Runs `baton ARGS… --json` to completion and parses its stdout; a failure is an error.
    pub fn baton_json(&self, args: &[&str]) -> Result<serde_json::Value> {
        let out = self
            .baton(args)
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .ctx(format!("running baton {}", args.join(" ")))?;
        if !out.status.success() {
            return Err(format!(
                "baton {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        serde_json::from_slice(&out.stdout).ctx(format!("parsing the JSON of baton {}", args.join(" ")))
    }

    /// Writes `.baton/config.toml` of the repository.
    pub fn write_config(&self, toml: &str) -> Result<()> {
        let dir = self.repo.join(".baton");
        fs::create_dir_all(&dir).ctx("creating .baton")?;
        fs::write(dir.join("config.toml"), toml).ctx("writing .baton/config.toml")
    }

    /// Writes an executable script into the sandbox and returns its path.
    pub fn write_script(&self, name: &str, body: &str) -> Result<PathBuf> {
        let path = self.root.join(name);
        fs::write(&path, body).ctx(format!("writing {name}"))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).ctx(format!("making {name} executable"))?;
        Ok(path)
    }

    /// The bench's own connection to the database, for polling and checking (never for writes
    /// the runner should hear about: it sends no wake-ups).
    pub fn connect(&self) -> Result<Connection> {
        let conn = Connection::open(&self.db).ctx("opening the database")?;
        conn.busy_timeout(Duration::from_secs(10)).ctx("setting a busy timeout")?;
        Ok(conn)
    }

    /// Starts `baton run ARGS…`, its log lines going to a file in the sandbox.
    pub fn start_runner(&self, args: &[&str]) -> Result<Runner> {
        self.start_runner_with(args, &[])
    }

    /// Starts `baton run ARGS…` with some variables of the environment replaced.
    pub fn start_runner_with(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Runner> {
        self.start_runner_logged(args, env, &format!("runner-{}.log", args.join("_").replace('-', "")))
    }

    /// [`Sandbox::start_runner_with`], logging to the file `log_name` in the sandbox.
    pub fn start_runner_logged(&self, args: &[&str], env: &[(&str, &str)], log_name: &str) -> Result<Runner> {
        let log = self.root.join(log_name);
        let file = fs::File::create(&log).ctx("creating the runner log")?;
        let mut command = self.baton(&[&["run"], args].concat());
        command.envs(env.iter().copied()).stderr(file);
        let child = command.spawn().ctx("starting baton run")?;
        Ok(Runner { pid: child.id(), child, log })
    }
}

/// Open jobs of the namespace: (pending, running), from the trigger-kept counters.
pub fn open_jobs(conn: &Connection, ns: &str) -> Result<(u64, u64)> {
    let count = |status: &str| -> Result<u64> {
        conn.query_row(
            "SELECT COALESCE(SUM(n), 0) FROM status_counts WHERE namespace = ?1 AND entity = 'job' AND status = ?2",
            rusqlite::params![ns, status],
            |r| r.get(0),
        )
        .ctx("reading job counts")
    };
    Ok((count("pending")?, count("running")?))
}

/// Polls `done` every [`POLL`] until it holds, failing after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if done()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(POLL);
    }
}

/// How a `baton run --until-idle` ended and what CPU it used.
#[derive(Debug, Clone, Copy)]
pub struct Accounted {
    pub success: bool,
    /// The runner process itself (all its threads).
    pub own_cpu: Duration,
    /// The runner and every descendant it waited for (supervisors, their agents, PM CLI calls).
    pub total_cpu: Duration,
}

/// A `baton run` process started by the bench; killed if still running when dropped.
pub struct Runner {
    child: Child,
    pub pid: u32,
    log: PathBuf,
}

impl Runner {
    /// Fails (with the end of its log) if the runner exited.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("baton run exited early ({status}): {}", self.log_tail())),
            Err(e) => Err(format!("checking on baton run: {e}")),
        }
    }

    /// Waits until the runner registered itself in the database.
    pub fn wait_registered(&mut self, conn: &Connection) -> Result<()> {
        let pid = self.pid;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.check_alive()?;
            let n: i64 = conn
                .query_row("SELECT COUNT(*) FROM runners WHERE pid = ?1 AND stopped_at IS NULL", [pid], |r| r.get(0))
                .unwrap_or(0);
            if n > 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("baton run did not register within 10 s: {}", self.log_tail()));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the runner to exit on its own (`--until-idle`).
    pub fn wait(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().ctx("waiting for baton run")? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                return Err(format!("baton run did not finish within {timeout:?}: {}", self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits for the runner to exit on its own and accounts its CPU time: its own (read from
    /// `/proc` while it is a zombie) and with every descendant it reaped (from `wait4`).
    pub fn wait_accounted(&mut self, timeout: Duration) -> Result<Accounted> {
        let deadline = Instant::now() + timeout;
        let pid = self.pid as libc::pid_t;
        loop {
            // SAFETY: siginfo_t is plain data; waitid with WNOWAIT only peeks at our own child.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
            let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) };
            // SAFETY: si_pid is valid for a child-state siginfo filled by waitid.
            if rc == 0 && unsafe { info.si_pid() } == pid {
                break;
            }
            if rc != 0 {
                return Err(format!("waiting for baton run: {}", std::io::Error::last_os_error()));
            }
            if Instant::now() > deadline {
                return Err(format!("baton run did not finish within {timeout:?}: {}", self.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let own_ticks = crate::procfs::cpu_ticks(self.pid).unwrap_or(0);
        let mut status = 0;
        // SAFETY: rusage is plain data; reaping our own (exited) child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
            return Err(format!("reaping baton run: {}", std::io::Error::last_os_error()));
        }
        let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
        let hz = crate::procfs::ticks_per_second();
        Ok(Accounted {
            success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            own_cpu: Duration::from_millis(own_ticks * 1000 / hz),
            total_cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        })
    }

    /// Stops the runner gracefully (SIGTERM) and waits for it.
    pub fn stop(mut self) -> Result<()> {
        // SAFETY: signalling our own child by pid; it has not been reaped yet.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        self.wait(Duration::from_secs(20)).map(|_| ())
    }

    /// The last lines of the runner's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" / ")
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        // (After `wait_accounted` reaped it, try_wait fails and there is nothing to do.)
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
