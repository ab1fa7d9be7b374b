//! `create --after`: deferred assignments as people see them, and the parents refused.

use crate::common::Sandbox;

#[test]
fn a_deferred_assignment_shows_its_parents_and_is_counted() {
    let s = Sandbox::new();
    let api = s.create("The API", &[]);
    let schema = s.create("The schema", &[]);
    let out = s.ok(&["create", "The docs", "--after", &api, "--after", &schema, "--first", "document"]);
    assert!(out.contains(&format!("deferred: it starts once {api}, {schema} complete")), "{out}");
    let docs = s.json(&["assignments", "--status", "deferred"])[0]["id"].as_str().unwrap().to_string();

    let d = s.json(&["assignment", &docs]);
    assert_eq!(d["status"], "deferred");
    let parents: Vec<&str> = d["parents"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(parents, [api.as_str(), schema.as_str()]);
    assert_eq!(s.json(&["assignment", &api])["children"][0]["id"], docs.as_str());
    let text = s.ok(&["assignment", &docs]);
    assert!(text.contains(&format!("after       {api} (active), {schema} (active)")), "{text}");
    let q = s.json(&["queue"]);
    assert_eq!((q["assignments"]["deferred"].as_u64(), q["ready_total"].as_u64()), (Some(1), Some(0)));
    assert!(s.ok(&["queue"]).contains("deferred 1"));

    let err = s.fails(&["update-assignment", &docs, "--status", "active"], 1);
    assert!(err.contains("starts by itself"), "{err}");
    s.ok(&["update-assignment", &api, "--status", "complete"]);
    assert_eq!(s.json(&["assignment", &docs])["status"], "deferred");
    s.ok(&["update-assignment", &schema, "--status", "complete"]);
    assert_eq!(s.json(&["assignment", &docs])["status"], "active");
}

#[test]
fn bad_parents_are_refused_with_one_line_and_nothing_stored() {
    let s = Sandbox::new();
    let api = s.create("The API", &["--first", "plan"]);
    let job = s.json(&["assignment", &api])["jobs"][0]["id"].as_str().unwrap().to_string();
    let before = s.snapshot();
    let err = s.fails(&["create", "x", "--after", &job], 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("{job} is a job id; --after needs an assignment id")), "{err}");
    let err = s.fails(&["create", "x", "--after", "anowhere1"], 1);
    assert!(err.contains("anowhere1"), "{err}");
    assert_eq!(s.snapshot(), before, "refusals store nothing");
    s.ok(&["update-assignment", &api, "--status", "cancelled"]);
    let before_cancelled = s.snapshot();
    let err = s.fails(&["create", "x", "--after", &api], 1);
    assert!(err.contains("is cancelled"), "{err}");
    assert_eq!(s.snapshot(), before_cancelled);
}
