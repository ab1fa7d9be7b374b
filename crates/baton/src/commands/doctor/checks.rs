//! The checks of `baton doctor`, in the order a newcomer meets them: configuration, database,
//! repository, git, the harnesses, containment, runners, templates.

use super::harnesses;
use super::Check;
use crate::cli::GlobalArgs;
use baton_core::config::Containment as Choice;
use baton_core::Config;
use std::path::Path;
use std::time::Duration;

/// How long the database may take to answer before it counts as unreachable.
const DATABASE_PATIENCE: Duration = Duration::from_secs(10);

pub async fn all(global: &GlobalArgs) -> Vec<Check> {
    let config = match crate::context::load_config(global) {
        Ok(config) => config,
        Err(err) => {
            return vec![Check::fail(
                "configuration",
                err.to_string(),
                "fix .baton/config.toml (or the BATON_* variable the message names); `baton init --force` writes a fresh one",
            )]
        }
    };
    let mut checks = vec![Check::pass(
        "namespace",
        format!("{} (repository root {})", config.namespace, config.repo_root.display()),
    )];
    let store = database(&config, &mut checks).await;
    checks.extend(git(&config.repo_root).await);
    checks.extend(harnesses::checks(&config).await);
    checks.push(containment(config.containment));
    if let Some(store) = store {
        checks.push(runners(&config, store.as_ref()).await);
    }
    checks.push(templates(&config.repo_root));
    checks
}

/// Reachable, and its schema is the one this baton writes (opening brings an older one up to
/// date and refuses a newer one).
async fn database(config: &Config, checks: &mut Vec<Check>) -> Option<std::sync::Arc<dyn baton_core::Store>> {
    let url = baton_core::config::redact_url(&config.database_url);
    match tokio::time::timeout(DATABASE_PATIENCE, baton_store::open_config(config)).await {
        Ok(Ok(store)) => {
            checks.push(Check::pass("database", format!("{url} is reachable and its schema is current")));
            Some(store)
        }
        Ok(Err(err)) => {
            checks.push(Check::fail(
                "database",
                crate::error::chain_message(&err),
                "check database_url in .baton/config.toml or BATON_DATABASE_URL (a newer schema needs a newer baton)",
            ));
            None
        }
        Err(_) => {
            checks.push(Check::fail(
                "database",
                format!("{url} did not answer within {}s", DATABASE_PATIENCE.as_secs()),
                "start the database server, or point BATON_DATABASE_URL at one that runs",
            ));
            None
        }
    }
}

/// git on PATH, the repository a work tree, and who its commits are by.
async fn git(root: &Path) -> Vec<Check> {
    let version = match run("git", &["--version"], None).await {
        Some(v) => v,
        None => {
            return vec![Check::fail(
                "git",
                "git is not on PATH",
                "install git (baton runs every job in a git worktree)",
            )]
        }
    };
    let mut checks = vec![Check::pass("git", version)];
    let root_arg = root.display().to_string();
    if run("git", &["-C", &root_arg, "rev-parse", "--is-inside-work-tree"], None).await.as_deref() != Some("true") {
        checks.push(Check::fail(
            "repository",
            format!("{} is not a git work tree", root.display()),
            "run baton inside a git repository (`git init` and a first commit)",
        ));
        return checks;
    }
    let name = run("git", &["-C", &root_arg, "config", "user.name"], None).await;
    let email = run("git", &["-C", &root_arg, "config", "user.email"], None).await;
    checks.push(match (name, email) {
        (Some(n), Some(e)) => Check::pass("git identity", format!("commits are by {n} <{e}>")),
        _ => Check {
            check: "git identity".into(),
            ok: true,
            detail: "no user.name/user.email: baton fills in its own for checkpoint commits".into(),
            fix: Some("git config user.name \"Your Name\" && git config user.email you@example.com".into()),
        },
    });
    checks
}

fn containment(choice: Choice) -> Check {
    let cgroup = cgroup_usable();
    match (choice, cgroup) {
        (Choice::Cgroup, Err(reason)) => Check::fail(
            "containment",
            format!("containment = \"cgroup\", but {reason}"),
            "set containment = \"auto\" or \"subreaper\" in .baton/config.toml (or BATON_CONTAINMENT)",
        ),
        (Choice::Subreaper, _) => Check::pass("containment", "subreaper (as configured)"),
        (_, Ok(())) => Check::pass("containment", "a cgroup v2 per attempt"),
        (_, Err(reason)) => Check::pass("containment", format!("subreaper ({reason})")),
    }
}

/// Read-only: is cgroup v2 mounted, this process's cgroup writable and `cgroup.kill` there?
fn cgroup_usable() -> Result<(), String> {
    let mountinfo =
        std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| format!("no /proc/self/mountinfo: {e}"))?;
    let mount = mountinfo
        .lines()
        .find(|l| l.split(" - ").nth(1).is_some_and(|rest| rest.starts_with("cgroup2 ")))
        .and_then(|l| l.split(' ').nth(4))
        .ok_or("no cgroup2 file system is mounted")?;
    let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("no /proc/self/cgroup: {e}"))?;
    let own = own.lines().find_map(|l| l.strip_prefix("0::")).ok_or("this process is in no cgroup v2")?;
    let dir = Path::new(mount).join(own.trim_start_matches('/'));
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).map_err(|_| "a cgroup path with a NUL")?;
    // SAFETY: access only reads the NUL-terminated path it is given.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
        return Err(format!("{} is not writable (cgroups need root or a delegated cgroup)", dir.display()));
    }
    if dir != Path::new(mount) && !dir.join("cgroup.kill").exists() {
        return Err(format!("{} has no cgroup.kill (Linux 5.14 or later)", dir.display()));
    }
    Ok(())
}

async fn runners(config: &Config, store: &dyn baton_core::Store) -> Check {
    let runners = match store.runners(&config.namespace).await {
        Ok(r) => r,
        Err(err) => return Check::fail("runners", err.to_string(), "check the database"),
    };
    let live = runners.iter().filter(|r| !r.lost).count();
    let lost = runners.len() - live;
    let pending = store.queue(&config.namespace, baton_core::time::now_ms()).await.map(|q| q.ready_total).unwrap_or(0);
    let lost_note = if lost > 0 { format!(" ({lost} lost: stopped heartbeating)") } else { String::new() };
    match (live, pending) {
        (0, 0) => Check::pass("runners", format!("none running, and nothing is ready to run{lost_note}")),
        (0, n) => Check::fail(
            "runners",
            format!("{n} job(s) ready but no runner serves namespace {}{lost_note}", config.namespace),
            "start one: baton run (or baton run --until-idle)",
        ),
        (n, _) => Check::pass("runners", format!("{n} live{lost_note}")),
    }
}

fn templates(root: &Path) -> Check {
    let stale = baton_runner::template_history::edited_overrides_of_changed_builtins(root);
    if stale.is_empty() {
        return Check::pass("templates", "no edited copy overrides a newer built-in");
    }
    let first = stale[0].trim_end_matches(".md");
    Check::fail(
        "templates",
        format!("{} in .baton/templates/ override(s) a newer built-in", stale.join(", ")),
        format!("see what changed with `baton templates diff {first}` and carry your edits over (or delete the copy)"),
    )
}

/// The first line of `program args`'s stdout when it exits 0 within 10 seconds (with `env`
/// added), else `None`.
pub async fn run(program: &str, args: &[&str], env: Option<&[(String, String)]>) -> Option<String> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args).stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null()).kill_on_drop(true);
    for (k, v) in env.unwrap_or_default() {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(10), cmd.output()).await.ok()?.ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().map(str::trim).find(|l| !l.is_empty()).map(str::to_string)
}
