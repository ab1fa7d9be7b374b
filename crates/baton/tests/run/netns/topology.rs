//! Three Linux network namespaces on one machine, standing for three machines:
//!
//! ```text
//!                      ┌──────────────── ns "db" ────────────────┐
//!                      │ PostgreSQL :5432, git daemon :9418      │
//!                      │ (listening on 127.0.0.1, .1.1 and .2.1) │
//!                      └───┬─────────────────────────────────┬───┘
//!            10.N.1.1/30   │ veth                       veth │   10.N.2.1/30
//!            10.N.1.2/30   │                                 │   10.N.2.2/30
//!                 ┌──── ns "a" ────┐               ┌──── ns "b" ────┐
//!                 │ runner host a  │               │ runner host b  │
//!                 └────────────────┘               └────────────────┘
//! ```
//!
//! No namespace has a default route: the hosts reach only the database namespace, over their own
//! link, so taking a link down partitions that host from PostgreSQL and from the git remote at
//! once. Each host has its own `BATON_HOST`, checkout (a clone of the bare repository the git
//! daemon serves), HOME and worktree folder. The file system is shared, which the tests use only
//! to observe (the stand-in agents' logs) and to set things up.
//!
//! [`Topology`] deletes its namespaces when dropped — after SIGKILLing every process in them —
//! so a failing test leaves nothing behind.

use crate::harness::{git, Bench};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// One of the three machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Db,
    A,
    B,
}

impl Host {
    fn suffix(self) -> &'static str {
        match self {
            Host::Db => "db",
            Host::A => "a",
            Host::B => "b",
        }
    }
}

/// The namespaces, their links, PostgreSQL and the git daemon of one test.
pub struct Topology {
    prefix: String,
    /// The second octet of every address (one per test, so tests may run at once).
    octet: u8,
    pg_bin: PathBuf,
    pg_dir: Option<tempfile::TempDir>,
}

impl Topology {
    /// Builds the namespaces and links; fails the test where namespaces cannot be made.
    pub fn new(octet: u8) -> Topology {
        baton_testkit::netns();
        let pg_bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|v| v.flatten().map(|v| v.path().join("bin")).find(|b| b.join("initdb").exists()))
            .unwrap_or_else(|| baton_testkit::NETNS.missing("PostgreSQL's server programs are not installed"));
        let prefix = format!("bt{}", std::process::id() % 100_000);
        let topology = Topology { prefix, octet, pg_bin, pg_dir: None };
        for host in [Host::Db, Host::A, Host::B] {
            ip(&["netns", "add", &topology.ns(host)]);
            topology.run_in(host, "ip", &["link", "set", "lo", "up"]);
        }
        for (host, n) in [(Host::A, 1), (Host::B, 2)] {
            let (db_end, host_end) = (topology.link(host), format!("{}{}h", topology.prefix, host.suffix()));
            ip(&["link", "add", &db_end, "type", "veth", "peer", "name", &host_end]);
            ip(&["link", "set", &db_end, "netns", &topology.ns(Host::Db)]);
            ip(&["link", "set", &host_end, "netns", &topology.ns(host)]);
            let db_addr = format!("{}/30", topology.db_addr(host));
            topology.run_in(Host::Db, "ip", &["addr", "add", &db_addr, "dev", &db_end]);
            topology.run_in(Host::Db, "ip", &["link", "set", &db_end, "up"]);
            let host_addr = format!("10.{}.{n}.2/30", topology.octet);
            topology.run_in(host, "ip", &["addr", "add", &host_addr, "dev", &host_end]);
            topology.run_in(host, "ip", &["link", "set", &host_end, "up"]);
        }
        topology
    }

    fn ns(&self, host: Host) -> String {
        format!("{}{}", self.prefix, host.suffix())
    }

    /// The database namespace's end of `host`'s link.
    fn link(&self, host: Host) -> String {
        format!("{}{}d", self.prefix, host.suffix())
    }

    /// The database namespace's address as `host` reaches it (`127.0.0.1` from inside it).
    pub fn db_addr(&self, host: Host) -> String {
        match host {
            Host::Db => "127.0.0.1".to_string(),
            Host::A => format!("10.{}.1.1", self.octet),
            Host::B => format!("10.{}.2.1", self.octet),
        }
    }

    /// The database URL for processes on `host`.
    pub fn database_url(&self, host: Host) -> String {
        format!("postgres://baton@{}:5432/postgres", self.db_addr(host))
    }

    /// `cmd` as it would run on `host`: the same program, arguments, environment and folder,
    /// inside that host's namespace.
    pub fn on(&self, host: Host, cmd: &Command) -> Command {
        let mut wrapped = Command::new("ip");
        wrapped.args(["netns", "exec", &self.ns(host)]).arg(cmd.get_program()).args(cmd.get_args());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }

    fn run_in(&self, host: Host, program: &str, args: &[&str]) -> Output {
        let out = Command::new("ip").args(["netns", "exec", &self.ns(host), program]).args(args).output().unwrap();
        assert!(out.status.success(), "{program} {args:?} on {host:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Starts PostgreSQL in the database namespace, reachable from both hosts.
    pub fn start_postgres(&mut self) {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
        assert!(status.success());
        let data = dir.path().join("data");
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.pg_bin.join("initdb"))
            .args(["-D", data.to_str().unwrap(), "-U", "baton", "-A", "trust", "--no-sync"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let hba = data.join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(&hba, format!("{rules}\nhost all all 10.{}.0.0/16 trust\n", self.octet)).unwrap();
        self.pg_dir = Some(dir);
        self.pg_ctl("start");
    }

    /// `pg_ctl ACTION` on the database namespace's server (waiting for it to finish).
    pub fn pg_ctl(&self, action: &str) {
        let dir = self.pg_dir.as_ref().expect("PostgreSQL was started").path();
        let (data, log) = (dir.join("data"), dir.join("log"));
        let options = format!(
            "-p 5432 -c listen_addresses=127.0.0.1,{},{} -c unix_socket_directories={} -c fsync=off",
            self.db_addr(Host::A),
            self.db_addr(Host::B),
            dir.display()
        );
        let mut args = vec![action, "-D", data.to_str().unwrap(), "-w", "-l", log.to_str().unwrap(), "-o", &options];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        let mut pg_ctl = Command::new("runuser");
        pg_ctl.args(["-u", "postgres", "--"]).arg(self.pg_bin.join("pg_ctl")).args(&args);
        let out = self.on(Host::Db, &pg_ctl).output().unwrap();
        assert!(out.status.success(), "pg_ctl {action}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Serves the bare repositories under `base` with `git daemon` (pushes allowed) on the
    /// database namespace's addresses, and waits until host `a` can read `repo`.
    pub fn start_git_daemon(&self, base: &Path, repo: &str) -> Daemon {
        let mut daemon = Command::new("git");
        daemon
            .args(["daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", "--port=9418"])
            .arg(format!("--base-path={}", base.display()))
            .arg(format!("--listen={}", self.db_addr(Host::A)))
            .arg(format!("--listen={}", self.db_addr(Host::B)))
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = Daemon(self.on(Host::Db, &daemon).spawn().unwrap());
        let url = self.git_url(Host::A, repo);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let mut probe = Command::new("git");
            probe.args(["ls-remote", &url]).stdout(Stdio::null()).stderr(Stdio::null());
            if self.on(Host::A, &probe).status().is_ok_and(|s| s.success()) {
                return child;
            }
            assert!(std::time::Instant::now() < deadline, "git daemon never answered at {url}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The git daemon's URL of `repo` as `host` reaches it.
    pub fn git_url(&self, host: Host, repo: &str) -> String {
        format!("git://{}/{repo}", self.db_addr(host))
    }

    /// Takes `host`'s link down (`false`) or up again (`true`): a partition, and its healing.
    pub fn connect(&self, host: Host, up: bool) {
        self.run_in(Host::Db, "ip", &["link", "set", &self.link(host), if up { "up" } else { "down" }]);
    }

    /// SIGKILLs every process in `host`'s namespace, as a machine that lost its power.
    pub fn kill_all(&self, host: Host) {
        kill_namespace(&self.ns(host));
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for host in [Host::A, Host::B, Host::Db] {
            kill_namespace(&self.ns(host));
            let _ = Command::new("ip").args(["netns", "delete", &self.ns(host)]).output();
        }
        // A link whose set-up failed half-way may still be in this namespace.
        for host in [Host::A, Host::B] {
            let _ = Command::new("ip").args(["link", "delete", &self.link(host)]).output();
        }
    }
}

/// A background process of the topology, killed and reaped when dropped.
pub struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn kill_namespace(ns: &str) {
    // Until nothing is left: a process may fork while the first ones are being killed.
    for _ in 0..10 {
        let out = Command::new("ip").args(["netns", "pids", ns]).output();
        let pids: Vec<i32> = out
            .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default();
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            // SAFETY: signalling a process id; at worst it is already gone.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// One runner machine: its own checkout (a clone of the shared remote), HOME and config.
pub struct Machine {
    pub host: Host,
    pub name: &'static str,
    pub checkout: PathBuf,
    home: PathBuf,
    url: String,
}

impl Machine {
    /// Clones `remote` (a path, read once for the set-up) into a checkout of its own whose
    /// `origin` is the git daemon's URL as `host` reaches it, and writes its config.
    pub fn new(bench: &Bench, topology: &Topology, host: Host, remote: &Path, config: &str) -> Machine {
        let name = if host == Host::A { "a" } else { "b" };
        let checkout = bench.path(&format!("host-{name}"));
        let home = bench.path(&format!("home-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        git(&bench.path("."), &["clone", "-q", &remote.display().to_string(), &checkout.display().to_string()]);
        git(&checkout, &["remote", "set-url", "origin", &topology.git_url(host, "remote.git")]);
        std::fs::create_dir_all(checkout.join(".baton")).unwrap();
        std::fs::write(checkout.join(".baton/config.toml"), config).unwrap();
        Machine { host, name, checkout, home, url: topology.database_url(host) }
    }

    /// `baton ARGS` on this machine: its namespace, host name, checkout, HOME and database URL.
    pub fn cmd(&self, bench: &Bench, topology: &Topology, args: &[&str]) -> Command {
        let mut cmd = bench.cmd(args);
        cmd.current_dir(&self.checkout)
            .env("BATON_HOST", self.name)
            .env("BATON_DATABASE_URL", &self.url)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"));
        topology.on(self.host, &cmd)
    }
}
