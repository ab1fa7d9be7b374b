//! The runner benches' configuration: text harnesses that do (almost) nothing, and a PM twin that
//! completes its assignment through the real CLI, so each assignment ends after one job + its PM.

use crate::error::Result;
use crate::sandbox::Sandbox;
use std::path::Path;

/// The PM twin: `baton` is first on its PATH (the runner puts its own folder there).
const PM_TWIN: &str = "#!/bin/sh\nexec baton update-assignment \"$BATON_ASSIGNMENT_ID\" --status complete\n";
/// The no-op agent: one line of text, exit 0.
const NOOP: &str = "#!/bin/sh\necho \"done: nothing to do\"\n";

/// Writes the no-op script and returns its path.
pub fn write_noop(sb: &Sandbox) -> Result<std::path::PathBuf> {
    sb.write_script("noop.sh", NOOP)
}

/// Where the runner benches' jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In the repository folder itself (`isolation = "none"`): measures the queue, not git.
    None,
    /// Each assignment in its own git worktree (the default in a git repository).
    Worktree,
}

/// Writes `.baton/config.toml`: `[harness.work]` runs `work` (every non-PM job type defaults to
/// it) and `[harness.pm]` runs the PM twin.
pub fn configure(sb: &Sandbox, work: &[String]) -> Result<()> {
    configure_with(sb, work, Isolation::None)
}

/// [`configure`] with a choice of isolation.
pub fn configure_with(sb: &Sandbox, work: &[String], isolation: Isolation) -> Result<()> {
    let pm = sb.write_script("pm.sh", PM_TWIN)?;
    write_config(sb, work, &[path_str(&pm)], isolation)
}

/// [`configure`] with both harnesses run under `bench __measure LOG`, which records what each
/// agent process costs inside its job.
pub fn configure_measured(sb: &Sandbox, work: &[String], bench: &Path, log: &Path) -> Result<()> {
    let pm = sb.write_script("pm.sh", PM_TWIN)?;
    let wrapped = |argv: &[String]| -> Vec<String> {
        [path_str(bench), crate::harness::MEASURE.to_string(), path_str(log)]
            .into_iter()
            .chain(argv.iter().cloned())
            .collect()
    };
    write_config(sb, &wrapped(work), &wrapped(&[path_str(&pm)]), Isolation::None)
}

fn write_config(sb: &Sandbox, work: &[String], pm: &[String], isolation: Isolation) -> Result<()> {
    let isolation = match isolation {
        Isolation::None => "none",
        Isolation::Worktree => "worktree",
    };
    let toml = format!(
        "# written by baton-bench\nlease_ms = 30000\nisolation = \"{isolation}\"\n\n\
         [harness_defaults]\ndefault = \"work\"\npm = \"pm\"\n\n\
         [harness.work]\nformat = \"text\"\ncommand = {}\n\n[harness.pm]\nformat = \"text\"\ncommand = {}\n",
        toml_array(work),
        toml_array(pm)
    );
    sb.write_config(&toml)
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// A TOML array of strings (JSON string escapes are valid TOML basic strings).
fn toml_array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| serde_json::Value::String(s.clone()).to_string()).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_quoted() {
        assert_eq!(toml_array(&["/a b".into(), "x\"y".into()]), r#"["/a b", "x\"y"]"#);
    }
}
