//! A private PostgreSQL server for the backends section: `initdb` into a temp folder, started
//! with `pg_ctl` on a free port, listening on a Unix socket (trust) and on loopback TCP
//! (SCRAM-SHA-256 with a password), stopped and removed when dropped. Both authentication
//! modes are measured against the same server, so the only difference is the connection.
//!
//! PostgreSQL refuses to run as root; when the bench is root, the server runs as the
//! `postgres` user (which Debian's packages create) and the folder is handed to it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where Debian installs the real binaries (`/usr/bin/psql` is a Perl wrapper).
const BIN: &str = "/usr/lib/postgresql/15/bin";
const ROLE: &str = "baton";
const PASSWORD: &str = "bench";

/// A running private server.
pub struct Server {
    root: PathBuf,
    data: PathBuf,
    user: Option<(u32, u32)>,
    pub port: u16,
    /// The folder holding the server's Unix socket.
    pub socket_dir: PathBuf,
}

impl Server {
    /// Starts a server, or says why there is none (no PostgreSQL installed, no `postgres` user).
    pub fn start() -> std::result::Result<Server, String> {
        let bin = Path::new(BIN);
        if !bin.join("initdb").is_file() {
            return Err(format!("no PostgreSQL 15 binaries in {BIN}"));
        }
        // SAFETY: geteuid has no preconditions.
        let user = if unsafe { libc::geteuid() } == 0 {
            Some(postgres_user().ok_or("running as root and there is no `postgres` user to run the server as")?)
        } else {
            None
        };
        let root = std::env::temp_dir().join(format!("baton-bench-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).map_err(|e| format!("creating {}: {e}", root.display()))?;
        let (data, socket_dir, pwfile) = (root.join("data"), root.join("socket"), root.join("password"));
        std::fs::create_dir_all(&socket_dir).map_err(|e| format!("creating {}: {e}", socket_dir.display()))?;
        std::fs::write(&pwfile, PASSWORD).map_err(|e| format!("writing {}: {e}", pwfile.display()))?;
        if let Some((uid, gid)) = user {
            for path in [&root, &socket_dir, &pwfile] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {}: {e}", path.display()))?;
            }
        }
        let port = free_port()?;
        let server = Server { root, data, user, port, socket_dir };
        server.run(
            "initdb",
            &[
                "-D".as_ref(),
                server.data.as_os_str(),
                "-U".as_ref(),
                ROLE.as_ref(),
                "--auth-local=trust".as_ref(),
                "--auth-host=scram-sha-256".as_ref(),
                format!("--pwfile={}", pwfile.display()).as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
            ],
        )?;
        let options = format!("-k {} -p {port} -c listen_addresses=127.0.0.1", server.socket_dir.display());
        let log = server.root.join("server.log");
        server.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                server.data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        )?;
        Ok(server)
    }

    /// The admin URL over TCP with the password (the role may create databases).
    pub fn tcp_url(&self, database: &str) -> String {
        format!("postgres://{ROLE}:{PASSWORD}@127.0.0.1:{}/{database}", self.port)
    }

    /// `psql -X … -c 'select 1'` for `url`, the real binary: the floor of a CLI call.
    pub fn psql_floor(&self, url: &str) -> Vec<String> {
        let psql = Path::new(BIN).join("psql").display().to_string();
        [psql.as_str(), "-X", "-Atq", url, "-c", "select 1"].map(str::to_string).to_vec()
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> std::result::Result<(), String> {
        let mut command = Command::new(Path::new(BIN).join(tool));
        command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        command.current_dir(&self.root);
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid).env("HOME", &self.root);
        }
        let out = command.output().map_err(|e| format!("running {tool}: {e}"))?;
        if !out.status.success() {
            return Err(format!("{tool} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let data = self.data.clone();
        let stopped = self.run(
            "pg_ctl",
            &["-D".as_ref(), data.as_os_str(), "-m".as_ref(), "fast".as_ref(), "-w".as_ref(), "stop".as_ref()],
        );
        if let Err(e) = stopped {
            eprintln!("baton-bench: stopping the private PostgreSQL server: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The `postgres` user's uid and gid, from `/etc/passwd`.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&"postgres"))
            .then(|| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))?
    })
}

/// A loopback port nobody listens on (the kernel's pick, released for the server to take).
fn free_port() -> std::result::Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("finding a free port: {e}"))
}

/// Starts the server for the section, or returns why not (shown as a note).
pub fn start_for_bench() -> std::result::Result<Server, String> {
    eprintln!("  starting a private PostgreSQL server (initdb, pg_ctl)…");
    Server::start()
}
