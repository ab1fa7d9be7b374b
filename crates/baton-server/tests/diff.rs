//! What an assignment produced, over the API: the git summary on `GET /api/assignments/{id}`,
//! and the diffs of the whole assignment and of one job, cut for a page.

mod common;

use common::git::{git, worked_assignment};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assignment_and_its_jobs_show_their_diffs() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let w =
        worked_assignment(&server, "Add a feature", &[("feature.rs", "fn main() {}\n"), ("README.md", "changed\n")])
            .await;

    let shown = c.get(&format!("/api/assignments/{}", w.assignment)).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let a = shown.json();
    assert_eq!(a["base_commit"], w.base.as_str());
    assert_eq!(a["commits_ahead"], 1);
    assert_eq!(a["diff_stat"], git(&w.tree, &["diff", "--stat=120", &w.base, &w.after]).as_str());
    assert_eq!(a["worktree_dirty"], false);
    assert_eq!(a["jobs"].as_array().unwrap().len(), 2, "the jobs are still there");

    let whole = c.get(&format!("/api/assignments/{}/diff", w.assignment)).await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    let d = whole.json();
    assert_eq!((d["from"].as_str(), d["to"].as_str()), (Some(w.base.as_str()), Some(w.after.as_str())));
    assert_eq!(d["diff"], format!("{}\n", git(&w.tree, &["diff", &w.base, &w.after])).as_str());
    assert_eq!(d["truncated"], false);
    assert_eq!(d["command"], format!("baton diff {}", w.assignment).as_str());
    assert!(d["job_id"].is_null());
    let files: Vec<_> = d["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].clone(), f["added"].clone(), f["removed"].clone()))
        .collect();
    assert_eq!(files, vec![("README.md".into(), 1.into(), 1.into()), ("feature.rs".into(), 1.into(), 0.into())]);

    let one = c.get(&format!("/api/jobs/{}/diff", w.job)).await;
    assert_eq!(one.status, 200, "{}", one.body);
    let j = one.json();
    assert_eq!(j["job_id"], w.job.as_str());
    assert_eq!(j["diff"], d["diff"], "the only job made the whole change");
    assert_eq!(j["command"], format!("baton diff {} --job {}", w.assignment, w.job).as_str());

    // Work left uncommitted in the worktree is flagged.
    std::fs::write(w.tree.join("notes.txt"), "left behind\n").unwrap();
    let a = c.get(&format!("/api/assignments/{}", w.assignment)).await.json();
    assert_eq!(a["worktree_dirty"], true);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_diff_is_cut_for_the_page() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let long: String = (0..6000).map(|i| format!("line {i}\n")).collect();
    let w = worked_assignment(&server, "A long change", &[("long.txt", &long)]).await;
    let d = c.get(&format!("/api/assignments/{}/diff", w.assignment)).await.json();
    assert_eq!(d["truncated"], true);
    assert_eq!(d["diff"].as_str().unwrap().lines().count(), 5000);
    assert_eq!(d["files"][0]["added"], 6000, "the file list counts the whole change");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diff_that_does_not_exist_is_refused_with_the_reason() {
    let server = TestServer::start(None).await;
    let c = server.client();
    let w = worked_assignment(&server, "Worked", &[("a.txt", "a\n")]).await;
    let fresh = create(server.store.as_ref(), "Not started", Some(baton_core::JobType::Plan)).await;

    let r = c.get(&format!("/api/assignments/{}/diff", fresh.assignment.id)).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("has no branch yet"), "{}", r.error());
    let r = c.get(&format!("/api/jobs/{}/diff", fresh.jobs[0].id)).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("has not started"), "{}", r.error());
    let shown = c.get(&format!("/api/assignments/{}", fresh.assignment.id)).await.json();
    for field in ["commits_ahead", "diff_stat", "worktree_dirty"] {
        assert!(shown[field].is_null(), "{field}: {}", shown[field]);
    }

    assert_eq!(c.get("/api/assignments/nosuch/diff").await.status, 404);
    assert_eq!(c.get("/api/jobs/nosuch/diff").await.status, 404);
    let r = c.get(&format!("/api/assignments/{}/diff?stat=1", w.assignment)).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("unknown query parameter `stat`"), "{}", r.error());
    assert_eq!(c.get(&format!("/api/jobs/{}/diff?x=1", w.job)).await.status, 400);
    server.stop().await.unwrap();
}
