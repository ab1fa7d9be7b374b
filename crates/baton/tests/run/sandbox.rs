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
