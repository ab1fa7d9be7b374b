//! Assignments that wait for others, through a real runner: a child created `--after` a parent
//! does not run while the parent works, starts the moment the parent's PM completes it, and its
//! branch starts from the parent's final head.

use crate::harness::Bench;

#[test]
fn a_child_starts_when_its_parent_completes_on_the_parents_final_head() {
    let bench = Bench::new();
    let (parent, _) = bench.assignment("The API @flow implement", "implement", "@write api.txt the API");
    let child = bench.json(&[
        "create",
        "The docs @flow implement",
        "--after",
        &parent,
        "--first",
        "implement",
        "--context",
        "@write docs.txt the docs",
    ]);
    assert_eq!(child["status"], "deferred");
    let cid = child["id"].as_str().unwrap().to_string();

    bench.run_until_idle(&[]);
    let p = bench.detail(&parent);
    let c = bench.detail(&cid);
    assert_eq!((p["status"].as_str(), c["status"].as_str()), (Some("complete"), Some("complete")));
    let head = p["final_head"].as_str().expect("the parent's final head is recorded").to_string();
    assert_eq!(c["base_ref"], head.as_str());
    assert_eq!(c["base_commit"], head.as_str(), "the child's branch starts at the parent's final head");
    assert_eq!(c["parents"][0]["id"], parent.as_str());
    assert_eq!(p["children"][0]["id"], cid.as_str());

    // The child ran only after its parent was complete, and worked on top of its work.
    // (The parent's PM job may still be exiting: what counts is the moment it completed the parent.)
    let p_done = p["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"].as_str().unwrap_or_default().ends_with("→ complete"))
        .and_then(|h| h["at"].as_str())
        .expect("the parent's completion is in its history")
        .to_string();
    let c_start = c["jobs"][0]["started_at"].as_str().unwrap().to_string();
    assert!(c_start >= p_done, "child started {c_start}, before its parent finished {p_done}");
    let tree = std::path::Path::new(c["worktree"].as_str().unwrap());
    assert!(tree.join("api.txt").exists() && tree.join("docs.txt").exists());
    let history = c["history"].as_array().unwrap();
    assert!(history.iter().any(|h| h["action"] == "status deferred → active" && h["actor"] == "engine"));
}
