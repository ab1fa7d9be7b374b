//! The harness checks of `baton doctor`: each harness's binary on PATH and its version against
//! the version baton was checked with, claude's root rule, and the credentials each agent CLI
//! needs (present or not — never their values).

use super::checks::run;
use super::Check;
use baton_core::config::Format;
use baton_core::{Config, JobType};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The agent CLI versions baton's parsers and session handling were checked against (the
/// versions `scripts/install-agent-clis` pins), with the npm package that installs each.
const CHECKED: &[(Format, &str, &str)] = &[
    (Format::Claude, "@anthropic-ai/claude-code", "2.1.197"),
    (Format::Codex, "@openai/codex", "0.171.0"),
    (Format::Gemini, "@google/gemini-cli", "0.61.0"),
];

/// The variables each CLI reads a key from, and the file its own login leaves.
fn credentials(format: Format) -> (&'static [&'static str], &'static str) {
    match format {
        Format::Claude => (&["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"], ".claude/.credentials.json"),
        Format::Codex => (&["OPENAI_API_KEY", "CODEX_API_KEY"], ".codex/auth.json"),
        Format::Gemini => (&["GEMINI_API_KEY", "GOOGLE_API_KEY"], ".gemini/oauth_creds.json"),
        _ => (&[], ""),
    }
}

pub async fn checks(config: &Config) -> Vec<Check> {
    let used: BTreeSet<&str> = JobType::ALL.iter().map(|t| config.default_harness(*t)).collect();
    let pm = config.default_harness(JobType::Pm);
    let mut checks = Vec::new();
    for (name, h) in &config.harnesses {
        let in_use = used.contains(name.as_str());
        let program = match (&h.command, h.format) {
            (Some(command), _) => match command.first() {
                Some(p) => p.clone(),
                None => continue,
            },
            (None, Format::Claude | Format::Codex | Format::Gemini) => h.format.as_str().to_string(),
            (None, _) => continue,
        };
        let role = if name == pm {
            "runs the PM jobs"
        } else if in_use {
            "a job type's default"
        } else {
            "not a default"
        };
        let check = format!("harness {name}");
        let Some(path) = find_on_path(&program) else {
            let install = CHECKED.iter().find(|(f, _, _)| *f == h.format && h.command.is_none());
            let fix = match install {
                Some((_, package, version)) => {
                    format!("npm install -g {package}@{version} (and put npm's bin folder on PATH)")
                }
                None => format!("install {program} or fix [harness.{name}] command in .baton/config.toml"),
            };
            if in_use {
                checks.push(Check::fail(check, format!("{program} is not on PATH ({role})"), fix));
            } else {
                checks.push(Check::pass(check, format!("{program} is not installed; no job type uses it by default")));
            }
            continue;
        };
        let env: Vec<(String, String)> = h.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let version = run(&path.display().to_string(), &["--version"], Some(&env)).await;
        checks.push(version_check(&check, h.format, h.command.is_some(), &path, version.as_deref(), role));
        if in_use {
            checks.extend(root_rule(name, h));
            checks.extend(credential_check(name, h.format, &h.env));
        }
    }
    checks
}

fn version_check(check: &str, format: Format, custom: bool, path: &Path, version: Option<&str>, role: &str) -> Check {
    let Some(version) = version else {
        return Check::fail(
            check,
            format!("{} did not answer `--version` ({role})", path.display()),
            "run it by hand to see why (a broken install, a missing runtime such as node)",
        );
    };
    let checked = CHECKED.iter().find(|(f, _, _)| *f == format && !custom);
    match checked {
        Some((_, package, want)) if !version.contains(want) => Check {
            check: check.into(),
            ok: true,
            detail: format!("{version} at {} ({role}); baton was checked with {want}", path.display()),
            fix: Some(format!(
                "other versions usually work; if its output stops parsing, install the checked one: npm install -g {package}@{want}"
            )),
        },
        Some((_, _, want)) => {
            Check::pass(check, format!("{version} at {} ({role}; the version baton was checked with, {want})", path.display()))
        }
        None => Check::pass(check, format!("{version} at {} ({role})", path.display())),
    }
}

/// claude refuses to skip permission prompts as root unless told it runs in a sandbox.
fn root_rule(name: &str, h: &baton_core::config::HarnessConfig) -> Option<Check> {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if h.format != Format::Claude || h.command.is_some() || !root {
        return None;
    }
    let sandbox = h.env.get("IS_SANDBOX").cloned().or_else(|| std::env::var("IS_SANDBOX").ok());
    Some(if sandbox.as_deref() == Some("1") {
        Check::pass(format!("harness {name} as root"), "IS_SANDBOX=1 is set, so claude accepts running as root")
    } else {
        Check::fail(
            format!("harness {name} as root"),
            "baton runs as root and IS_SANDBOX is not 1: claude refuses to skip its permission prompts as root",
            "if this is a sandbox (a container, a VM), export IS_SANDBOX=1 before `baton run`; else run baton as another user",
        )
    })
}

fn credential_check(name: &str, format: Format, env: &std::collections::BTreeMap<String, String>) -> Option<Check> {
    let (vars, login_file) = credentials(format);
    if vars.is_empty() {
        return None;
    }
    let check = format!("harness {name} credentials");
    let set = |v: &&&str| env.contains_key(**v) || std::env::var_os(v).is_some_and(|x| !x.is_empty());
    if let Some(var) = vars.iter().find(set) {
        return Some(Check::pass(check, format!("{var} is set")));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if let Some(file) = home.map(|h| h.join(login_file)).filter(|f| f.exists()) {
        return Some(Check::pass(check, format!("logged in ({} exists)", file.display())));
    }
    Some(Check::fail(
        check,
        format!("neither {} is set, nor is there a login (~/{login_file})", vars.join(" nor ")),
        format!("export {}=… in the runner's environment, or log in once with `{}`", vars[0], format.as_str()),
    ))
}

/// Where `program` would be found: itself when it names a path, else the first executable of
/// that name on PATH.
fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| executable(p))
}
