//! `POST /api/assignments/{id}/merge` with real git in the server's repository: refused with `409`
//! and the reason while the merge cannot be made, `200` with the assignment detail once it lands;
//! and `create`'s `base` checked against the repository.

mod common;

use baton_core::store::Workspace;
use baton_core::Actor;
use common::*;
use serde_json::json;
use std::path::Path;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=baton tests", "-c", "user.email=tests@baton.invalid", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_assignment_is_merged_from_the_dashboard() {
    let server = TestServer::start(None).await;
    let repo = server.dir.path();
    std::fs::write(repo.join("README.md"), "hello\n").unwrap();
    for args in [&["init", "-q", "-b", "main"][..], &["add", "README.md"], &["commit", "-q", "-m", "initial"]] {
        git(repo, args);
    }
    let c = server.client();

    let r = c.post("/api/assignments", json!({"north_star": "X", "base": "-b evil"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("is not a branch, tag or commit"), "{}", r.body);

    let r = c.post("/api/assignments", json!({"north_star": "Add a feature", "context": "keep it small"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    assert_eq!(created["base_branch"], "main");
    assert_eq!(created["context"], "keep it small");
    let aid = created["id"].as_str().unwrap().to_string();

    // The assignment's branch, one commit ahead of main, as a runner would have left it.
    let branch = format!("baton/{aid}");
    let base = git(repo, &["rev-parse", "HEAD"]);
    git(repo, &["switch", "-q", "-c", &branch]);
    std::fs::write(repo.join("feature.txt"), "new\n").unwrap();
    git(repo, &["add", "feature.txt"]);
    git(repo, &["commit", "-q", "-m", "implement: the feature"]);
    git(repo, &["switch", "-q", "main"]);
    let workspace = Workspace {
        branch: branch.clone(),
        worktree: repo.join(".baton/worktrees").join(&aid).display().to_string(),
        host: "localhost".into(),
        base_commit: Some(base),
    };
    server.store.set_workspace(NS, &aid, &workspace).await.unwrap();

    let merge = format!("/api/assignments/{aid}/merge");
    let r = c.post(&merge, json!({})).await;
    assert_eq!(r.status, 409, "not complete yet: {}", r.body);
    assert!(r.body.contains("only a complete assignment is merged"), "{}", r.body);

    let defaults =
        baton_core::store::JobDefaults { pm_harness: "claude".into(), max_attempts: 3, host_gone_ms: 600_000 };
    let done = baton_core::request::AssignmentUpdate {
        status: Some(baton_core::AssignmentStatus::Complete),
        ..Default::default()
    };
    server.store.update_assignment(NS, &aid, &done, &defaults, &Actor::Person("ada".into())).await.unwrap();

    std::fs::write(repo.join("README.md"), "edited\n").unwrap();
    let r = c.post(&merge, json!({"squash": false})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("uncommitted changes"), "{}", r.body);
    git(repo, &["checkout", "-q", "--", "README.md"]);

    let r = c.post(&merge, json!({"bogus": true})).await;
    assert_eq!(r.status, 400, "unknown fields are refused: {}", r.body);

    let r = c.post(&merge, json!({"squash": true, "into": "main"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let detail = r.json();
    assert_eq!(detail["merged_commit"], git(repo, &["rev-parse", "main"]).as_str());
    assert!(detail["history"].to_string().contains("merged into main"), "{}", detail["history"]);
    assert!(repo.join("feature.txt").is_file());
}
