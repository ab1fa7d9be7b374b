//! One attempt's sandbox: its view built from the config and the attempt's paths, and its
//! command line wrapped in it.

use super::bwrap::{self, SandboxError, View};
use crate::invocation::Invocation;
use baton_core::config::{user_config_file, HarnessConfig};
use baton_core::Config;
use std::path::{Path, PathBuf};

/// The paths of one attempt that its view depends on.
pub struct Paths<'a> {
    pub cwd: &'a Path,
    pub socket_dir: &'a Path,
    pub prompt_file: Option<&'a Path>,
}

/// Wraps `invocation` in bubblewrap at `program`; the harness's program must be visible in the
/// view. `Ok(None)`: the harness's program is not on PATH at all (reported as today).
pub fn confine(
    program: &Path,
    config: &Config,
    harness_name: &str,
    harness: &HarnessConfig,
    paths: &Paths<'_>,
    invocation: &mut Invocation,
) -> Result<Option<()>, SandboxError> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let view = view(config, harness_name, harness, paths, home.as_deref())?;
    let path_var = invocation
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| std::ffi::OsString::from(v))
        .or_else(|| std::env::var_os("PATH"));
    let Some(agent) = invocation.argv.first().and_then(|a| bwrap::find_program(a, path_var.as_deref())) else {
        return Ok(None);
    };
    let real = std::fs::canonicalize(&agent).unwrap_or_else(|_| agent.clone());
    for shown in [&agent, &real] {
        if let Err(why) = view.shows(shown) {
            return Err(SandboxError::ProgramHidden { harness: harness_name.to_string(), program: shown.clone(), why });
        }
    }
    let mut argv = vec![program.display().to_string()];
    argv.extend(view.args());
    argv.append(&mut invocation.argv);
    invocation.argv = argv;
    Ok(Some(()))
}

fn view(
    config: &Config,
    harness_name: &str,
    harness: &HarnessConfig,
    paths: &Paths<'_>,
    home: Option<&Path>,
) -> Result<View, SandboxError> {
    let mut hidden = vec![PathBuf::from("/tmp"), std::env::temp_dir(), config.worktree_dir.clone()];
    if let Some(file) = config.database_url.strip_prefix("sqlite://").map(Path::new) {
        hidden.extend(file.parent().map(Path::to_path_buf));
    }
    let mut writable = Vec::new();
    if let Some(home) = home {
        // The CLI's own folder is created when missing: it must be able to write its state.
        let own = format!(".{}", harness.format.as_str());
        if bwrap::STATE.contains(&own.as_str()) {
            let _ = std::fs::create_dir_all(home.join(&own));
        }
        writable.extend(bwrap::STATE.iter().map(|s| home.join(s)));
    }
    for entry in &harness.writable {
        let path = bwrap::expand(entry, home);
        if !path.exists() {
            return Err(SandboxError::WritableMissing { harness: harness_name.to_string(), path: entry.clone() });
        }
        writable.push(path);
    }
    // The socket's folder is the attempt's alone, and writable: codex's own sandbox, nested
    // inside, makes mount points in every folder it is given (its `.git` guard).
    writable.push(paths.socket_dir.to_path_buf());
    let mut shown: Vec<PathBuf> = paths.prompt_file.map(Path::to_path_buf).into_iter().collect();
    // The `baton` agents call is this very binary: when it lives in a hidden folder (a checkout
    // under /tmp), it is bound back, read-only, at its own path.
    shown.extend(std::env::current_exe().ok().and_then(|exe| std::fs::canonicalize(exe).ok()));
    let mut blanked: Vec<PathBuf> = config.repo_config.iter().cloned().collect();
    blanked.extend(user_config_file(&|k| std::env::var(k).ok()));
    blanked.extend(home.map(|h| h.join(".pgpass")));
    if harness.format == baton_harness::Format::Codex {
        // codex 0.171 prefers a system bubblewrap to the one it bundles, and with Debian 12's
        // 0.8 (no `--argv0`) every shell command fails ("execvp codex-linux-sandbox"): inside
        // baton's sandbox it finds none, and uses its own.
        blanked.extend(bwrap::find_program("bwrap", std::env::var_os("PATH").as_deref()));
        blanked.push(PathBuf::from("/usr/bin/bwrap"));
    }
    Ok(View {
        harness: harness_name.to_string(),
        cwd: paths.cwd.to_path_buf(),
        hidden,
        writable,
        shown,
        blanked,
        network: harness.network,
    })
}
