//! The bubblewrap command line for one attempt, and whether bubblewrap runs on this host.
//!
//! The view, in mount order: the whole root read-only; then what is hidden under empty tmpfs
//! mounts (`/tmp` and `$TMPDIR`, the worktrees' folder, the database's folder); then what is
//! bound back or over, parents before children: the attempt's folder and the writable state
//! folders read-write, the attempt's socket folder and prompt file, and `/dev/null` over files
//! that hold the database's credentials (baton's config files, `~/.pgpass`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The agent CLIs' own state, writable inside the sandbox (sessions, settings, logins).
pub const STATE: &[&str] = &[".claude", ".claude.json", ".codex", ".gemini"];

/// Why an attempt cannot be sandboxed as configured; each message says what to change.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("[harness.{harness}] writable = \"{path}\" does not exist; create it, or remove it from `writable`")]
    WritableMissing { harness: String, path: String },
    #[error(
        "harness `{harness}` runs {}, which the sandbox hides ({why}); install it in a folder outside, or add its folder to [harness.{harness}] writable",
        program.display()
    )]
    ProgramHidden { harness: String, program: PathBuf, why: String },
}

/// Whether bubblewrap runs here: its path, or why not.
pub fn probe() -> Result<PathBuf, String> {
    let program = find_program("bwrap", std::env::var_os("PATH").as_deref())
        .ok_or_else(|| "bubblewrap (`bwrap`) is not installed".to_string())?;
    let out = Command::new(&program)
        .args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent"])
        .args(["--", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match out {
        Ok(out) if out.status.success() => Ok(program),
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr);
            let said = said.lines().next().unwrap_or("no message").trim().to_string();
            Err(format!("{} fails ({said}), usually because user namespaces are not allowed", program.display()))
        }
        Err(e) => Err(format!("{} cannot start ({e})", program.display())),
    }
}

/// `name` on `path` (a `PATH` value), or `name` itself when it has a slash.
pub fn find_program(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    std::env::split_paths(path?).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What one attempt sees.
#[derive(Debug, Clone)]
pub struct View {
    /// The harness's name, for messages.
    pub harness: String,
    /// The attempt's folder: writable, and where it starts.
    pub cwd: PathBuf,
    /// Hidden: where every assignment's worktree lives, the database's folder, the temp folders.
    pub hidden: Vec<PathBuf>,
    /// Writable besides `cwd`: the agent CLI's state and the harness's `writable` folders.
    pub writable: Vec<PathBuf>,
    /// Visible read-only inside a hidden folder: the socket's folder, the prompt file.
    pub shown: Vec<PathBuf>,
    /// Files replaced by an empty one: credentials of the database.
    pub blanked: Vec<PathBuf>,
    /// Whether the agent has network.
    pub network: bool,
}

impl View {
    /// Whether `path` is visible inside the sandbox.
    pub fn shows(&self, path: &Path) -> Result<(), String> {
        let depth = |p: &Path| p.components().count();
        let hiding = self.hidden.iter().filter(|h| path.starts_with(h)).max_by_key(|h| depth(h));
        let Some(hiding) = hiding else { return Ok(()) };
        let exposed = self.writable.iter().chain(&self.shown).chain(std::iter::once(&self.cwd));
        if exposed.filter(|b| path.starts_with(b)).any(|b| depth(b) > depth(hiding)) {
            Ok(())
        } else {
            Err(format!("{} is hidden inside it", hiding.display()))
        }
    }

    /// The bubblewrap arguments that build this view, up to and including `--`.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> =
            ["--die-with-parent", "--unshare-pid", "--ro-bind", "/", "/"].iter().map(|s| s.to_string()).collect();
        if !self.network {
            args.push("--unshare-net".into());
        }
        args.extend(["--dev", "/dev", "--proc", "/proc"].map(String::from));
        // A folder inside one already hidden is hidden with it.
        let mut hidden: Vec<&PathBuf> = self
            .hidden
            .iter()
            .filter(|p| p.is_dir() && !self.hidden.iter().any(|outer| outer != *p && p.starts_with(outer)))
            .collect();
        hidden.sort_by_key(|p| p.components().count());
        hidden.dedup();
        for dir in hidden {
            args.extend(["--tmpfs".to_string(), shown(dir)]);
        }
        let mut binds: Vec<(&str, &PathBuf)> = Vec::new();
        binds.push(("--bind", &self.cwd));
        binds.extend(self.writable.iter().filter(|p| p.exists()).map(|p| ("--bind", p)));
        binds.extend(self.shown.iter().filter(|p| p.exists()).map(|p| ("--ro-bind", p)));
        binds.sort_by_key(|(_, p)| p.components().count());
        for (how, path) in binds {
            args.extend([how.to_string(), shown(path), shown(path)]);
        }
        let mut blanked: Vec<&PathBuf> = self.blanked.iter().filter(|f| f.is_file()).collect();
        blanked.sort();
        blanked.dedup();
        for file in blanked {
            args.extend(["--ro-bind".to_string(), "/dev/null".to_string(), shown(file)]);
        }
        args.extend(["--chdir".to_string(), shown(&self.cwd), "--".to_string()]);
        args
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// `~/x` against `home`, for `writable` entries.
pub fn expand(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View {
            harness: "h".into(),
            cwd: "/tmp/repo/.baton/worktrees/a1".into(),
            hidden: vec!["/tmp".into(), "/tmp/repo/.baton/worktrees".into()],
            writable: vec!["/tmp/home/.claude".into()],
            shown: vec!["/tmp/baton-agent-x".into()],
            blanked: vec![],
            network: true,
        }
    }

    #[test]
    fn what_is_hidden_and_what_is_bound_back() {
        let v = view();
        assert!(v.shows(Path::new("/usr/bin/git")).is_ok());
        assert!(v.shows(Path::new("/tmp/repo/.baton/worktrees/a1/src/main.rs")).is_ok());
        assert!(v.shows(Path::new("/tmp/home/.claude/settings.json")).is_ok());
        assert!(v.shows(Path::new("/tmp/baton-agent-x/sock")).is_ok());
        assert!(v.shows(Path::new("/tmp/repo/.baton/worktrees/a2/x")).unwrap_err().contains("worktrees is hidden"));
        assert!(v.shows(Path::new("/tmp/bin/claude")).unwrap_err().contains("/tmp is hidden"));
    }

    #[test]
    fn the_view_hides_before_it_binds_and_ends_in_the_worktree() {
        let args = view().args();
        let at = |flag: &str| args.iter().position(|a| a == flag).unwrap();
        assert!(at("--tmpfs") < at("--bind"));
        assert_eq!(args[args.len() - 3..], ["--chdir", "/tmp/repo/.baton/worktrees/a1", "--"].map(String::from));
        assert!(!args.contains(&"--unshare-net".to_string()));
        assert!(View { network: false, ..view() }.args().contains(&"--unshare-net".to_string()));
    }

    #[test]
    fn home_relative_paths() {
        assert_eq!(expand("~/.npm", Some(Path::new("/home/a"))), PathBuf::from("/home/a/.npm"));
        assert_eq!(expand("/opt/cache", Some(Path::new("/home/a"))), PathBuf::from("/opt/cache"));
    }
}
