//! The dashboard in a real headless Chromium (Debian's `chromium`), driven by Playwright from
//! `tests/browser/dashboard.mjs`: an assignment created through another store handle (as by the
//! CLI) appears without a reload, a running job's transcript grows live, a blocked assignment is
//! resumed from the page, a job inserted with the form, and an assignment's diff (whole and per
//! job) rendered from a real git repository; a known chain's time line and cost chart (a bar
//! per started job, a bar per cost), the namespace's totals, the list's filters, idle assignments
//! under "Needs you", branch and worktree in the header, and the insert form gone once an
//! assignment is finished; and, driven by `tests/browser/links.mjs`, the dependency links
//! (`create --after`) both ways between a child and its parents and the list's "waits for …"
//! marker naming only the parents still open. Screenshots go to `target/tmp/browser/`.
//!
//! It needs Chromium, Node and npm, so it is ignored unless asked for; `scripts/test` asks once
//! it has installed Chromium.

mod common;

use baton_core::lifecycle::AssignmentUpdate;
use baton_core::store::{AttemptResult, Claim, NewJob};
use baton_core::{AssignmentStatus, ErrorKind, JobType, Store};
use common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Chromium, with playwright-core installed beside the scripts that drive it.
fn browser() -> PathBuf {
    let chromium = baton_testkit::chromium();
    let dir = browser_dir();
    let playwright = dir.join("node_modules/playwright-core");
    if !playwright.exists() {
        // The tests of this binary run in processes of their own, started together, and `npm ci`
        // first empties the node_modules it installs into: in one shared folder they would undo
        // each other's installs. Each installs into a folder of its own and moves the result into
        // place with one rename, which only the first to finish wins.
        let staging = tempfile::Builder::new().prefix(".install-").tempdir_in(&dir).expect("a staging folder");
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(dir.join(file), staging.path().join(file)).expect("the package files");
        }
        // The lock file pins playwright-core; it brings no browser of its own.
        let installed = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(staging.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(installed, "`npm ci` failed in tests/browser");
        if std::fs::rename(staging.path().join("node_modules"), dir.join("node_modules")).is_err()
            && !playwright.exists()
        {
            // What is there is an install cut short by an earlier run, not another test's.
            std::fs::remove_dir_all(dir.join("node_modules")).expect("removing a partial node_modules");
            std::fs::rename(staging.path().join("node_modules"), dir.join("node_modules")).expect("node_modules");
        }
        assert!(playwright.exists(), "playwright-core is installed in tests/browser");
    }
    chromium
}

/// The workspace's `baton` binary, when it is built (a workspace test run builds it).
fn baton_binary() -> Option<std::path::PathBuf> {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent()?;
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    Some(target.join(profile).join("baton")).filter(|p| p.is_file())
}

/// `baton create … --first implement --json` against the server's database.
fn create_with_cli(baton: &Path, server: &TestServer, cwd: &Path) -> (String, String) {
    let out = std::process::Command::new(baton)
        .args(["create", "Add OAuth login", "--first", "implement", "--json"])
        .current_dir(cwd)
        .env("BATON_DATABASE_URL", &server.url)
        .env("BATON_NAMESPACE", NS)
        .env("HOME", cwd)
        .env("USER", "tester")
        .env_remove("BATON_JOB_ID")
        .output()
        .unwrap();
    assert!(out.status.success(), "baton create: {}", String::from_utf8_lossy(&out.stderr));
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (a["id"].as_str().unwrap().to_string(), a["jobs"][0]["id"].as_str().unwrap().to_string())
}

/// Ends a claimed attempt as a runner would: succeeded, or failed for good (an auth error).
async fn end(store: &dyn Store, claim: &Claim, ok: bool, cost: f64) {
    let result = AttemptResult {
        released: false,
        result: ok.then(|| "done".into()),
        success: Some(ok),
        error: (!ok).then(|| "authentication failed (HTTP 401)".into()),
        error_kind: (!ok).then_some(ErrorKind::Permanent),
        exit_code: Some(if ok { 0 } else { 1 }),
        session_id: None,
        tokens_in: Some(1200),
        tokens_out: Some(300),
        cache_read_tokens: None,
        cache_write_tokens: None,
        cost_usd: Some(cost),
        transcript_truncated: false,
        transcript_error: None,
        transcript_tail: Vec::new(),
        git_head_after: None,
        diff_stat: None,
        session_mode: None,
        session_fallback_reason: None,
        session_host: None,
        model: None,
    };
    store.finish_attempt(&claim.job.id, claim.token, result, &policy()).await.expect("finish").expect("lease held");
}

/// A finished assignment with a known chain: an implement job that failed ($0.0125), the PM after
/// it ($0.25), and a review job that never started (cancelled when the assignment completed).
/// Returns the assignment and its started jobs.
async fn known_chain(store: &dyn Store) -> (String, Vec<String>) {
    let a = create(store, "A known chain to draw", Some(JobType::Implement)).await;
    let aid = a.assignment.id.clone();
    let implement = claim(store).await;
    end(store, &implement, false, 0.0125).await;
    let pm = claim(store).await;
    assert_eq!(pm.job.job_type, JobType::Pm, "a PM follows the failed job");
    let review = NewJob {
        job_type: JobType::Review,
        harness: "codex".into(),
        context: "look again".into(),
        max_attempts: 3,
        after: None,
        for_job_id: None,
        session: None,
        model: None,
        effort: None,
    };
    store.insert_job(NS, &aid, review, &person()).await.unwrap();
    end(store, &pm, true, 0.25).await;
    let done = AssignmentUpdate { status: Some(AssignmentStatus::Complete), ..Default::default() };
    store.update_assignment(NS, &aid, &done, &defaults(), &person()).await.unwrap();
    (aid, vec![implement.job.id.clone(), pm.job.id.clone()])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, Node and npm"]
async fn the_dashboard_updates_live_in_chromium() {
    let chromium = browser();
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&artifacts).unwrap();

    let server = TestServer::start(Some(TOKEN)).await;
    let cli = server.other_handle().await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("node")
        .arg(browser_dir().join("dashboard.mjs"))
        .env("BATON_URL", format!("http://{}/?token={TOKEN}", server.addr))
        .env("ARTIFACT_DIR", &artifacts)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();

    let mut assignment = String::new();
    let mut claim_held = None;
    loop {
        let Some(line) = within(lines.next_line()).await.unwrap() else { break };
        let Some(step) = line.strip_prefix("STEP ") else {
            eprintln!("browser: {line}");
            continue;
        };
        let reply = match step {
            "chain" => {
                let (aid, jobs) = known_chain(cli.as_ref()).await;
                format!("OK {aid} {}", jobs.join(" "))
            }
            "idle" => {
                let a = create(cli.as_ref(), "Nothing queued here", None).await;
                format!("OK {}", a.assignment.id)
            }
            "created" => {
                let (aid, jid) = match baton_binary() {
                    // As a person would: `baton create` in another process.
                    Some(baton) => create_with_cli(&baton, &server, dir.path()),
                    None => {
                        eprintln!("NOTICE: the baton binary is not built; creating through the store instead");
                        let a = create(cli.as_ref(), "Add OAuth login", Some(JobType::Implement)).await;
                        (a.assignment.id.clone(), a.jobs[0].id.clone())
                    }
                };
                assignment = aid.clone();
                format!("OK {aid} {jid}")
            }
            "running" => {
                let c = claim(cli.as_ref()).await;
                say(cli.as_ref(), &c, &["Reading the code base", "Found the session store"]).await;
                claim_held = Some(c);
                "OK".to_string()
            }
            "more" => {
                let c = claim_held.as_ref().expect("claimed before");
                say(cli.as_ref(), c, &["a line written while you watch"]).await;
                "OK".to_string()
            }
            "blocked" => {
                let reason = "needs a product decision";
                let update = AssignmentUpdate {
                    status: Some(AssignmentStatus::Blocked),
                    reason: Some(reason.into()),
                    ..Default::default()
                };
                cli.update_assignment(NS, &assignment, &update, &defaults(), &person()).await.unwrap();
                format!("OK {reason}")
            }
            "diff" => {
                let long: String = (0..6000).map(|i| format!("line {i} of a long change\n")).collect();
                let w = common::git::worked_assignment(&server, "Write a long file", &[("long.txt", &long)]).await;
                format!("OK {} {}", w.assignment, w.job)
            }
            "done" => "OK".to_string(),
            other => panic!("unknown step {other}"),
        };
        stdin.write_all(format!("{reply}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }
    let status = within(child.wait()).await.unwrap();
    assert!(status.success(), "the browser script failed (its error is above)");

    // What the page did went through the API with the cookie and is recorded as the dashboard.
    let detail = server.store.assignment(NS, &assignment).await.unwrap();
    assert_eq!(detail.assignment.status, AssignmentStatus::Active);
    let resumed = detail.history.iter().find(|h| h.action.contains("blocked → active")).expect("resumed");
    assert_eq!(resumed.actor.to_string(), "person:dashboard");
    assert_eq!(resumed.reason.as_deref(), Some("go with the v2 API"));
    assert!(detail.jobs.iter().any(|j| j.job_type == JobType::Review && j.context.contains("review what")));
    for shot in [
        "list.png",
        "job.png",
        "blocked.png",
        "assignment.png",
        "diff.png",
        "job-diff.png",
        "chain.png",
        "filters.png",
        "worked.png",
    ] {
        assert!(artifacts.join(shot).is_file(), "{shot} saved");
    }
    eprintln!("screenshots in {}", artifacts.display());
    server.stop().await.unwrap();
}

/// Creates an assignment of [`NS`] that waits for `parents` (`baton create --after`).
async fn create_after(store: &dyn Store, north_star: &str, parents: &[&str]) -> String {
    let new = baton_core::store::NewAssignment {
        after: parents.iter().map(|p| p.to_string()).collect(),
        namespace: NS.into(),
        north_star: north_star.into(),
        max_jobs: 50,
        budget_usd: None,
        budget_tokens: None,
        origin_root: None,
        base_ref: None,
        base_branch: None,
        context: String::new(),
        first_job: None,
    };
    let d = store.create_assignment(new, &person()).await.expect("create after");
    assert_eq!(d.assignment.status, AssignmentStatus::Deferred);
    d.assignment.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, Node and npm"]
async fn dependency_links_show_both_ways_in_chromium() {
    let chromium = browser();
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&artifacts).unwrap();
    let server = TestServer::start(Some(TOKEN)).await;
    let cli = server.other_handle().await;
    let mut child = Command::new("node")
        .arg(browser_dir().join("links.mjs"))
        .env("BATON_URL", format!("http://{}/?token={TOKEN}", server.addr))
        .env("ARTIFACT_DIR", &artifacts)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut api = String::new();
    loop {
        let Some(line) = within(lines.next_line()).await.unwrap() else { break };
        let Some(step) = line.strip_prefix("STEP ") else {
            eprintln!("browser: {line}");
            continue;
        };
        let reply = match step {
            "linked" => {
                api = create(cli.as_ref(), "The API", Some(JobType::Plan)).await.assignment.id;
                let docs = create(cli.as_ref(), "The docs site", Some(JobType::Plan)).await.assignment.id;
                let waiting = create_after(cli.as_ref(), "Publish the guide", &[&api, &docs]).await;
                format!("OK {api} {docs} {waiting}")
            }
            "one-done" => {
                let done = AssignmentUpdate { status: Some(AssignmentStatus::Complete), ..Default::default() };
                cli.update_assignment(NS, &api, &done, &defaults(), &person()).await.unwrap();
                "OK".to_string()
            }
            "plain" => format!("OK {}", create(cli.as_ref(), "Stands alone", None).await.assignment.id),
            "done" => "OK".to_string(),
            other => panic!("unknown step {other}"),
        };
        stdin.write_all(format!("{reply}\n").as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }
    let status = within(child.wait()).await.unwrap();
    assert!(status.success(), "the browser script failed (its error is above)");
    for shot in ["links-list.png", "links-child.png"] {
        assert!(artifacts.join(shot).is_file(), "{shot} saved");
    }
    server.stop().await.unwrap();
}
