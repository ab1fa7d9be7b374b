//! The prerequisites of baton's tests: what a test needs from outside the repository — a
//! PostgreSQL server, the real agent CLIs, a browser — and the one place that decides whether it
//! is there.
//!
//! Neither libtest nor nextest can skip a test once it runs, so a test that returned early
//! without its prerequisite would be counted as passed. Instead such a test is marked
//! `#[ignore = "needs …"]` (a plain `cargo test` then reports it as ignored, honestly), and
//! `scripts/test` runs it with `--run-ignored` when it has provided the prerequisite (and fails
//! under CI when it could not). Once a test runs, it asks here for its prerequisite and gets its
//! value; when it is missing, the test fails with a message saying how to provide it.
//!
//! `scripts/test` finds the tests of a prerequisite by name (see its header): those of
//! PostgreSQL are in a test binary named `postgres` or have `postgres` in their name, those of
//! the agent CLIs are the `real_clis` binary, the browser's the `browser` binary, Prometheus's
//! the `prometheus` binary, those of cgroup v2 have `cgroup2` in their name, those of a small
//! tmpfs `disk_full`, those of a real terminal (tmux) `tmux`, those of network namespaces `netns`
//! and those of bubblewrap `bwrap_`.

use std::path::{Path, PathBuf};

/// Something tests need from outside the repository.
pub struct Prerequisite {
    /// What it is, as the tests' `#[ignore = "needs …"]` reasons name it.
    pub what: &'static str,
    /// How a person provides it by hand.
    pub how: &'static str,
}

pub const POSTGRES: Prerequisite = Prerequisite {
    what: "PostgreSQL (BATON_TEST_POSTGRES_URL)",
    how: "eval \"$(.ci/start-postgres)\" (or set BATON_TEST_POSTGRES_URL to a database whose role may CREATE DATABASE)",
};

pub const AGENT_CLIS: Prerequisite =
    Prerequisite { what: "the real agent CLIs (BATON_AGENT_CLIS_BIN)", how: "eval \"$(scripts/install-agent-clis)\"" };

pub const BROWSER: Prerequisite = Prerequisite {
    what: "Chromium, Node and npm",
    how: "apt-get install chromium nodejs npm (or set CHROMIUM to a Chromium executable)",
};

pub const CGROUP2: Prerequisite = Prerequisite {
    what: "a writable cgroup v2 hierarchy (root, cgroup2 mounted, Linux 5.14 or later)",
    how: "run the tests as root on a host with cgroup2 mounted (a unified or hybrid hierarchy)",
};

pub const TMPFS: Prerequisite = Prerequisite {
    what: "root, to mount a small tmpfs (BATON_TEST_TMPFS)",
    how: "run the tests as root with BATON_TEST_TMPFS=1 (scripts/test sets it when it can mount one)",
};

pub const PROMETHEUS: Prerequisite = Prerequisite {
    what: "Prometheus and promtool",
    how: "apt-get install prometheus (or set PROMETHEUS and PROMTOOL to their executables)",
};

pub const TMUX: Prerequisite = Prerequisite {
    what: "tmux, a real terminal for `baton watch`",
    how: "apt-get install tmux (or set TMUX_BIN to a tmux executable)",
};

pub const NETNS: Prerequisite = Prerequisite {
    what: "network namespaces (root and iproute2's `ip`)",
    how: "run the tests as root on Linux with iproute2 installed (apt-get install iproute2)",
};

pub const BWRAP: Prerequisite = Prerequisite {
    what: "bubblewrap that runs here (bwrap, with user namespaces or as root)",
    how: "apt-get install bubblewrap (and allow user namespaces, or run the tests as root)",
};

impl Prerequisite {
    /// Fails the running test: it needs this prerequisite, which is not there (`why`).
    #[track_caller]
    pub fn missing(&self, why: &str) -> ! {
        panic!(
            "this test needs {}, but {why}. Provide it with: {}; or run scripts/test, which provides it \
             (a plain `cargo test` leaves such tests ignored).",
            self.what, self.how
        )
    }

    /// The non-empty value of environment variable `name`, which provides this prerequisite.
    #[track_caller]
    fn var(&self, name: &str) -> String {
        match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => value,
            _ => self.missing(&format!("{name} is not set")),
        }
    }
}

/// The PostgreSQL URL of a role that may create databases (`BATON_TEST_POSTGRES_URL`).
#[track_caller]
pub fn postgres_url() -> String {
    POSTGRES.var("BATON_TEST_POSTGRES_URL")
}

/// The folder holding the `claude`, `codex` and `gemini` executables (`BATON_AGENT_CLIS_BIN`),
/// checked to hold `cli`.
#[track_caller]
pub fn agent_cli_bin(cli: &str) -> PathBuf {
    let dir = PathBuf::from(AGENT_CLIS.var("BATON_AGENT_CLIS_BIN"));
    if !dir.join(cli).is_file() {
        AGENT_CLIS.missing(&format!("{cli} is not in BATON_AGENT_CLIS_BIN={}", dir.display()));
    }
    dir
}

/// The Chromium executable (`CHROMIUM`, by default Debian's `/usr/bin/chromium`), checked to be
/// there together with `node` and `npm`, which drive it.
#[track_caller]
pub fn chromium() -> PathBuf {
    let chromium = PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !chromium.is_file() {
        BROWSER.missing(&format!("{} is not there", chromium.display()));
    }
    for tool in ["node", "npm"] {
        if !runs(Path::new(tool)) {
            BROWSER.missing(&format!("`{tool} --version` does not run"));
        }
    }
    chromium
}

/// Prometheus's server and its `promtool` (`PROMETHEUS`, `PROMTOOL`; by default Debian's
/// `/usr/bin/prometheus` and `/usr/bin/promtool`), checked to run.
#[track_caller]
pub fn prometheus() -> (PathBuf, PathBuf) {
    let pick = |var: &str, default: &str| PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.into()));
    let server = pick("PROMETHEUS", "/usr/bin/prometheus");
    let promtool = pick("PROMTOOL", "/usr/bin/promtool");
    for tool in [&server, &promtool] {
        if !runs(tool) {
            PROMETHEUS.missing(&format!("`{} --version` does not run", tool.display()));
        }
    }
    (server, promtool)
}

/// The tmux executable (`TMUX_BIN`, by default `tmux` on PATH), checked to run.
#[track_caller]
pub fn tmux() -> PathBuf {
    let tmux = PathBuf::from(std::env::var("TMUX_BIN").unwrap_or_else(|_| "tmux".into()));
    // tmux has no --version: -V prints it.
    let runs = std::process::Command::new(&tmux).arg("-V").output().is_ok_and(|o| o.status.success());
    if !runs {
        TMUX.missing(&format!("`{} -V` does not run", tmux.display()));
    }
    tmux
}

fn runs(program: &Path) -> bool {
    std::process::Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// bubblewrap, checked to start a sandbox with a PID namespace of its own (as `sandbox =
/// "bwrap"` does).
#[track_caller]
pub fn bwrap() -> PathBuf {
    let program = PathBuf::from(std::env::var("BWRAP").unwrap_or_else(|_| "/usr/bin/bwrap".into()));
    let ok = std::process::Command::new(&program)
        .args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--", "true"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        BWRAP.missing(&format!("`{} … true` does not run", program.display()));
    }
    program
}

/// Where cgroup v2 is mounted, checked to let this process create a cgroup with `cgroup.kill`
/// beside its own.
#[track_caller]
pub fn cgroup2() -> PathBuf {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(mount) = mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        let point = mount.split_whitespace().nth(4)?;
        (fs.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(point))
    }) else {
        CGROUP2.missing("no cgroup2 file system is mounted")
    };
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let own = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/").trim().trim_start_matches('/').to_string();
    let probe = mount.join(&own).join(format!("baton-testkit-probe-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir(&probe) {
        CGROUP2.missing(&format!("cannot create {}: {e}", probe.display()));
    }
    let has_kill = probe.join("cgroup.kill").exists();
    let _ = std::fs::remove_dir(&probe);
    if !has_kill {
        CGROUP2.missing("cgroups have no cgroup.kill (Linux before 5.14)");
    }
    mount
}

/// A tmpfs of `size` (as `mount -o size=` takes it, e.g. `2m`) mounted at `dir` until dropped: a
/// small disk for tests of what happens when it is full.
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    #[track_caller]
    pub fn mount(dir: &Path, size: &str) -> Tmpfs {
        TMPFS.var("BATON_TEST_TMPFS");
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| TMPFS.missing(&format!("{} cannot be created: {e}", dir.display())));
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Tmpfs { dir: dir.to_path_buf() },
            Ok(o) => TMPFS.missing(&format!("mount failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
            Err(e) => TMPFS.missing(&format!("mount could not run: {e}")),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Checks that this process may build network namespaces: it is root and `ip netns add` works
/// (a probe namespace is created and deleted).
#[track_caller]
pub fn netns() {
    let uid = std::process::Command::new("id").arg("-u").output();
    if !uid.is_ok_and(|o| o.stdout.starts_with(b"0\n")) {
        NETNS.missing("the tests do not run as root");
    }
    let probe = format!("baton-probe-{}", std::process::id());
    let ip = |args: &[&str]| std::process::Command::new("ip").args(args).output();
    match ip(&["netns", "add", &probe]) {
        Ok(o) if o.status.success() => {
            let _ = ip(&["netns", "delete", &probe]);
        }
        Ok(o) => NETNS.missing(&format!("`ip netns add` failed: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => NETNS.missing(&format!("`ip` could not run: {e}")),
    }
}
