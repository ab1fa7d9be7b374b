//! The sandbox every test runs in, and helpers to run `baton` in it.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A temporary checkout (`<tmp>/repo`, namespace `repo`), HOME and database.
pub struct Sandbox {
    pub dir: TempDir,
}

/// What a finished command left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("repo/.git")).expect("repo");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        std::fs::create_dir_all(dir.path().join("data")).expect("the database folder");
        Sandbox { dir }
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("data/baton.db").display())
    }

    /// `baton` with a clean environment, run from the repo.
    pub fn cmd(&self) -> Command {
        self.cmd_in(&self.repo())
    }

    pub fn cmd_in(&self, cwd: &Path) -> Command {
        Command::from_std(self.std_cmd_in(cwd))
    }

    /// The same as a `std::process::Command`, for tests that manage pipes themselves.
    pub fn std_cmd_in(&self, cwd: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_baton"));
        let home = self.dir.path().join("home");
        cmd.current_dir(cwd)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("BATON_DATABASE_URL", self.database_url())
            .env("USER", "tester")
            .env("TZ", "UTC");
        for var in [
            "BATON_NAMESPACE",
            "BATON_JOB_ID",
            "BATON_ASSIGNMENT_ID",
            "BATON_JOB_TYPE",
            "BATON_JOB_TOKEN",
            "BATON_AGENT_SOCKET",
            "BATON_SANDBOX",
            "BATON_TIMEOUT_MS",
            "BATON_MAX_ATTEMPTS",
            "BATON_RETRY_BASE_MS",
            "BATON_RETRY_ON_TIMEOUT",
            "BATON_LEASE_MS",
            "BATON_MAX_JOBS_PER_ASSIGNMENT",
            "BATON_MAX_LOST_LEASES",
            "NO_COLOR",
            "COLUMNS",
            "LOGNAME",
            "BATON_ACTOR",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs `baton ARGS` and captures everything.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd().args(args).output().expect("run baton");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `baton ARGS`, expects success and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(run.code, 0, "baton {args:?} failed\nstdout: {}\nstderr: {}", run.stdout, run.stderr);
        assert!(run.stderr.is_empty(), "baton {args:?} stderr: {}", run.stderr);
        run.stdout
    }

    /// Runs `baton ARGS --json`, expects success and one JSON value on stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let stdout = self.ok(&args);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }

    /// Runs `baton ARGS`, expects exit `code` and exactly one `error: …` line on stderr; returns it.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code, code,
            "baton {args:?}: expected exit {code}\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        if code == 1 {
            assert_eq!(run.stderr.lines().count(), 1, "one line: {:?}", run.stderr);
            assert!(run.stderr.starts_with("error: "), "{:?}", run.stderr);
            assert!(run.stdout.is_empty(), "stdout: {:?}", run.stdout);
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        run.stderr
    }

    /// Runs `baton ARGS` with stdout on a pseudo-terminal of `columns` columns (stderr and stdin
    /// stay pipes); returns exit code and what the terminal showed.
    pub fn on_terminal(&self, args: &[&str], columns: u16, env: &[(&str, &str)]) -> (i32, String) {
        use std::io::Read;
        use std::os::fd::{FromRawFd, OwnedFd};
        let (mut master, slave) = {
            let (mut m, mut sl) = (0, 0);
            let size = libc::winsize { ws_row: 50, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0 };
            // SAFETY: openpty fills the two descriptors we own; the null pointers are allowed.
            let rc = unsafe { libc::openpty(&mut m, &mut sl, std::ptr::null_mut(), std::ptr::null(), &size) };
            assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
            // SAFETY: both descriptors were just opened and belong to nobody else.
            unsafe { (std::fs::File::from_raw_fd(m), OwnedFd::from_raw_fd(sl)) }
        };
        let mut cmd = self.std_cmd_in(&self.repo());
        cmd.args(args).stdout(std::process::Stdio::from(slave)).stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("run baton");
        // The parent's copy of the slave end went with `cmd`: once the child exits, reading the
        // master ends (EIO) after the last byte it wrote.
        drop(cmd);
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
        let status = child.wait_with_output().expect("wait for baton").status;
        // The terminal turns `\n` into `\r\n`.
        (status.code().unwrap_or(-1), String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
    }

    /// `create` and return the assignment id.
    pub fn create(&self, north_star: &str, extra: &[&str]) -> String {
        let mut args = vec!["create", north_star];
        args.extend_from_slice(extra);
        id(&self.json(&args))
    }

    /// `insert-job` and return the job id.
    pub fn insert(&self, assignment: &str, job_type: &str, extra: &[&str]) -> String {
        let mut args = vec!["insert-job", assignment, "--type", job_type];
        args.extend_from_slice(extra);
        id(&self.json(&args))
    }

    /// Everything the namespace holds, for "nothing changed" checks.
    pub fn snapshot(&self) -> (Value, Value) {
        (self.json(&["assignments"]), self.json(&["jobs"]))
    }
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The ids of a JSON array of objects, in order.
pub fn ids(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|o| o["id"].as_str().expect("id").to_string()).collect()
}
