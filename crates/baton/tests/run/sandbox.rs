//! The filesystem sandbox (`sandbox = "bwrap"`): an agent changes its own worktree and, through
//! its runner, its own assignment — and nothing else, whatever it runs. The reaching stand-in
//! (tests/agents/reach.sh) tries the database file, the person's checkout and another
//! assignment's worktree. These tests need bubblewrap (`baton_testkit::bwrap`).

use crate::harness::Bench;
use crate::keys::{probe_job, reaching_bench, tried};
use std::path::Path;

/// Two reaching agents at once, each in its own worktree; returns the bench, the tries folder
/// and both jobs.
fn two_reaching_agents(config: &str) -> (Bench, std::path::PathBuf, [String; 2]) {
    baton_testkit::bwrap();
    let (bench, tries) = reaching_bench(config, 2);
    let (_, first) = probe_job(&bench);
    let (_, second) = probe_job(&bench);
    let repo = bench.sandbox.repo();
    let db = bench.sandbox.dir.path().join("data/baton.db");
    let out = bench
        .cmd(&["run", "--until-idle", "--concurrency", "2"])
        .env("BATON_TEST_DB_FILE", &db)
        .env("BATON_TEST_CHECKOUT", &repo)
        .env("BATON_TEST_WORKTREES", repo.join(".baton/worktrees"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (bench, tries, [first, second])
}

#[test]
#[ignore = "needs bubblewrap"]
fn bwrap_an_agent_reaches_only_its_worktree_and_its_job() {
    let (bench, tries, jobs) = two_reaching_agents("sandbox = \"bwrap\"");
    let repo = bench.sandbox.repo();
    for jid in &jobs {
        let (rc, _, stderr) = tried(&tries, jid, "sqlite");
        assert_ne!(rc, 0, "sqlite3 opened the database from inside the sandbox");
        assert!(!stderr.is_empty());
        let (_, listing, _) = tried(&tries, jid, "dbdir");
        assert_eq!(listing.trim(), "", "the database's folder is empty inside the sandbox");
        // The checkout is read-only (here, under the hidden /tmp, it is absent: what the agent
        // writes there lands in its private /tmp); the other worktree is absent.
        tried(&tries, jid, "checkout");
        let (rc, _, _) = tried(&tries, jid, "peertree");
        assert_ne!(rc, 0, "{jid} wrote another assignment's worktree");
        assert_eq!(tried(&tries, jid, "own").0, 0, "{jid} could not write its own worktree");
        let (rc, _, stderr) = tried(&tries, jid, "job");
        assert_eq!(rc, 0, "its baton calls still work: {stderr}");
        let (rc, _, stderr) = tried(&tries, jid, "peer");
        assert_eq!(rc, 1, "{jid} reached another attempt's socket");
        assert!(stderr.starts_with("error: cannot reach this job's runner"), "the other socket is not there: {stderr}");
    }
    assert!(!repo.join("tampered.txt").exists());
    let worktrees = repo.join(".baton/worktrees");
    for tree in std::fs::read_dir(&worktrees).unwrap() {
        let tree = tree.unwrap().path();
        assert!(!tree.join("tampered.txt").exists(), "{} was tampered with", tree.display());
    }
    // Each agent's own work landed on its branch.
    for jid in &jobs {
        let job = bench.job(jid);
        assert_eq!(job["status"], "complete", "{job:#}");
        let aid = job["assignment_id"].as_str().unwrap();
        let file = worktrees.join(aid).join(format!("own-{jid}.txt"));
        assert!(Path::new(&file).exists(), "{} is missing", file.display());
    }
}

/// `sandbox = MODE`, with the stand-in CLIs (which live in the bench's folder, under the hidden
/// /tmp) and the files they record to declared writable for every built-in harness.
fn standins_in(bench: &Bench, mode: &str) {
    let mut writable = Vec::new();
    for dir in ["bin", "state", "prompts"] {
        std::fs::create_dir_all(bench.path(dir)).unwrap();
        writable.push(bench.path(dir));
    }
    for file in ["agents.log", "calls", "pids"] {
        std::fs::write(bench.path(file), "").unwrap();
        writable.push(bench.path(file));
    }
    // The stand-ins' own scripts, wherever the checkout is (it may be under the hidden /tmp).
    writable.push(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/agents"));
    let list: Vec<String> = writable.iter().map(|p| format!("\"{}\"", p.display())).collect();
    let mut config = format!("sandbox = \"{mode}\"\n");
    for harness in ["claude", "codex", "gemini"] {
        config.push_str(&format!("[harness.{harness}]\nwritable = [{}]\n", list.join(", ")));
    }
    bench.config(&config);
}

/// A stand-in `bwrap` that fails as bubblewrap does without user namespaces.
fn broken_bwrap(bench: &Bench) {
    let fake = bench.path("bin/bwrap");
    std::fs::write(&fake, "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
#[ignore = "needs bubblewrap"]
fn bwrap_the_pms_decisions_work_end_to_end_inside_the_sandbox() {
    baton_testkit::bwrap();
    let bench = Bench::new();
    standins_in(&bench, "bwrap");
    let (aid, _) = bench.assignment("probe @pm-twice", "plan", "plan it");
    bench.run_until_idle(&[]);
    let calls = bench.agent_calls();
    assert_eq!(calls[0]["rc"], 0, "the PM's insert went through its runner: {calls:?}");
    assert_eq!(calls[1]["rc"], 1);
    assert!(calls[1]["stderr"].as_str().unwrap().contains("a PM job makes one decision"), "{calls:?}");
    let detail = bench.detail(&aid);
    let types: Vec<&str> = detail["jobs"].as_array().unwrap().iter().map(|j| j["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["plan", "pm", "review", "pm"]);
    let runs = bench.agent_runs();
    assert!(runs.iter().all(|r| r["cwd"].as_str().unwrap().contains("/.baton/worktrees/")), "{runs:?}");
}

#[test]
#[ignore = "needs bubblewrap"]
fn bwrap_a_writable_path_that_does_not_exist_fails_the_job_clearly() {
    baton_testkit::bwrap();
    let (bench, tries) = reaching_bench("sandbox = \"bwrap\"", 1);
    let config = std::fs::read_to_string(bench.sandbox.repo().join(".baton/config.toml")).unwrap();
    let listed = format!("writable = [\"{}\"]", tries.display());
    assert!(config.contains(&listed));
    bench.config(&config.replace(&listed, "writable = [\"~/no-such-cache\"]"));
    let (_, jid) = probe_job(&bench);
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["error_kind"].as_str()), (Some("failed"), Some("permanent")), "{job:#}");
    assert_eq!(
        job["error"].as_str().unwrap(),
        "[harness.probe] writable = \"~/no-such-cache\" does not exist; create it, or remove it from `writable`"
    );
}

#[test]
#[ignore = "needs bubblewrap"]
fn bwrap_a_harness_the_sandbox_hides_fails_the_job_clearly() {
    baton_testkit::bwrap();
    let bench = Bench::new();
    bench.config("sandbox = \"bwrap\"\n");
    let (_, jid) = bench.assignment("Hidden @pm-silent", "implement", "do it");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!(job["status"], "failed", "{job:#}");
    let error = job["error"].as_str().unwrap();
    let claude = bench.path("bin/claude");
    assert!(
        error.starts_with(&format!("harness `claude` runs {}, which the sandbox hides", claude.display())),
        "{error}"
    );
    assert!(bench.agent_runs().is_empty(), "no agent started");
}

#[test]
fn an_unusable_bubblewrap_fails_the_job_before_any_agent_starts() {
    let bench = Bench::new();
    standins_in(&bench, "bwrap");
    broken_bwrap(&bench);
    let (_, jid) = bench.assignment("Unusable @pm-silent", "implement", "do it");
    bench.run_until_idle(&[]);
    let job = bench.job(&jid);
    assert_eq!((job["status"].as_str(), job["error_kind"].as_str()), (Some("failed"), Some("permanent")), "{job:#}");
    let error = job["error"].as_str().unwrap();
    assert!(error.starts_with("sandbox = \"bwrap\" cannot run here: "), "{error}");
    assert!(error.contains("No permissions to create new namespace"), "the cause: {error}");
    assert!(error.contains("apt-get install bubblewrap") && error.contains("sandbox = \"none\""), "the fix: {error}");
    assert!(bench.agent_runs().is_empty(), "no agent started");
}

#[test]
fn sandbox_auto_falls_back_to_none_and_says_so_once() {
    let bench = Bench::new();
    standins_in(&bench, "auto");
    broken_bwrap(&bench);
    let (aid, _) = bench.assignment("Fallback @flow implement", "implement", "do it");
    bench.assignment("Fallback @flow implement", "implement", "do it too");
    let log = bench.run_until_idle(&[]);
    assert_eq!(bench.detail(&aid)["status"], "complete");
    assert_eq!(log.matches("bubblewrap cannot run here").count(), 1, "{log}");
    assert!(log.contains("agents run without a filesystem sandbox"), "{log}");
}
