//! A PostgreSQL server of a test's own, for tests that stop and start it. Shared by the store's
//! PostgreSQL tests and the runner's end-to-end tests (included with `#[path]`).

/// A PostgreSQL server of this test's own (initdb into a temporary folder, its own port), so that
/// it can be restarted without disturbing the other tests. Stopped when dropped.
pub struct PrivateServer {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivateServer {
    /// Starts one; the test fails where PostgreSQL's server programs are not installed.
    pub fn start() -> PrivateServer {
        Self::start_with(false)
    }

    /// Starts one that offers TLS with a certificate for 127.0.0.1 signed by [`Self::ca`].
    pub fn start_tls() -> PrivateServer {
        Self::start_with(true)
    }

    /// The CA file that signed a [`Self::start_tls`] server's certificate.
    pub fn ca(&self) -> std::path::PathBuf {
        self.dir.path().join("ca.crt")
    }

    fn start_with(tls: bool) -> PrivateServer {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| versions.flatten().map(|v| v.path().join("bin")).find(|b| b.join("initdb").exists()));
        let Some(bin) = bin else {
            baton_testkit::POSTGRES
                .missing("PostgreSQL's server programs (/usr/lib/postgresql/*/bin/initdb) are not installed")
        };
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = PrivateServer { bin, dir, port };
        if tls {
            make_server_cert(server.dir.path());
        }
        if server.as_root() {
            // The server refuses to run as root: it runs as the postgres user, in a folder it owns.
            let status = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(server.dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let data = server.dir.path().join("data");
        server.run("initdb", &["-D", data.to_str().unwrap(), "-U", "baton", "-A", "trust", "--no-sync"]);
        server.pg_ctl("start");
        server
    }

    fn as_root(&self) -> bool {
        std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
    }

    /// A server program, run as the postgres user when this test runs as root.
    fn command(&self, program: &str) -> std::process::Command {
        let path = self.bin.join(program);
        if self.as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            std::process::Command::new(&path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program).args(args).output().unwrap();
        assert!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    pub fn pg_ctl(&self, action: &str) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let cert = self.dir.path().join("server.crt");
        let options = if cert.exists() {
            let key = self.dir.path().join("server.key");
            format!("{options} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}", cert.display(), key.display())
        } else {
            options
        };
        let mut args = vec![action, "-D", data.to_str().unwrap(), "-w", "-l", log.to_str().unwrap(), "-o", &options];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        self.run("pg_ctl", &args);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("postgres://baton@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self.command("pg_ctl").arg("stop").arg("-D").arg(&data).args(["-m", "immediate", "-w"]).output();
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A certificate authority (`ca.crt`, `ca.key`) in `dir`; returns the CA file.
pub fn make_ca(dir: &std::path::Path) -> std::path::PathBuf {
    let args = ["-days", "2", "-subj", "/CN=baton test CA", "-keyout", "ca.key", "-out", "ca.crt"];
    openssl(dir, &[&["req", "-x509", "-newkey", "rsa:2048", "-nodes"][..], &args].concat());
    dir.join("ca.crt")
}

/// A CA and a server certificate for 127.0.0.1 signed by it (`server.crt`, `server.key`), in `dir`.
fn make_server_cert(dir: &std::path::Path) {
    make_ca(dir);
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
}
