//! Template copies in `.baton/templates/` against the built-ins: an untouched copy of an earlier
//! built-in gives way to the current one, an edited copy wins but `baton run` warns once, and
//! `baton templates diff` shows the difference.

use crate::harness::Bench;

/// The built-in PM template as an earlier baton shipped it (its hash is in history.txt).
const EARLIER_PM: &str = include_str!("fixtures/pm-earlier.md");
/// The current built-in.
const CURRENT_PM: &str = include_str!("../../../baton-runner/templates/pm.md");
const WARNING: &str = "template pm.md overrides a newer built-in; diff it with baton templates diff pm";

fn copy_pm(bench: &Bench, text: &str) {
    let dir = bench.sandbox.repo().join(".baton/templates");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pm.md"), text).unwrap();
}

/// Runs one implement job and its PM; returns (the PM's prompt, the runner's stderr).
fn run_once(bench: &Bench) -> (String, String) {
    let (aid, _) = bench.assignment("Template check @flow implement", "implement", "");
    let stderr = bench.run_until_idle(&[]);
    let pm = bench.detail(&aid)["jobs"][1]["id"].as_str().unwrap().to_string();
    (bench.prompt(&pm), stderr)
}

#[test]
fn an_untouched_copy_of_an_earlier_builtin_gives_way_to_the_current_one() {
    let bench = Bench::new();
    copy_pm(&bench, EARLIER_PM);
    let (prompt, stderr) = run_once(&bench);
    assert!(prompt.contains("## Where the assignment stands"), "the current built-in:\n{prompt}");
    assert!(!stderr.contains("overrides a newer built-in"), "{stderr}");
}

#[test]
fn an_edited_copy_wins_and_warns_once_and_diff_shows_it() {
    let bench = Bench::new();
    copy_pm(&bench, &format!("{CURRENT_PM}\nEdited by a person: keep reviews short.\n"));
    let (prompt, stderr) = run_once(&bench);
    assert!(prompt.contains("Edited by a person: keep reviews short."), "the copy is used:\n{prompt}");
    assert_eq!(stderr.matches(WARNING).count(), 1, "{stderr}");

    let diff = bench.ok(&["templates", "diff", "pm"]);
    assert!(diff.starts_with("--- built-in pm.md\n+++ "), "{diff}");
    assert!(diff.contains("\n+Edited by a person: keep reviews short.\n"), "{diff}");
    assert!(diff.contains("\n@@ -"), "{diff}");
    assert_eq!(diff.lines().filter(|l| l.starts_with('-') && !l.starts_with("---")).count(), 0, "{diff}");
}

#[test]
fn templates_diff_says_when_there_is_no_copy_and_refuses_unknown_names() {
    let bench = Bench::new();
    let out = bench.ok(&["templates", "diff", "review"]);
    assert!(out.contains("does not exist: the built-in review.md is used"), "{out}");
    let out = bench.cmd(&["templates", "diff", "nonsense"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no built-in template `nonsense`") && stderr.contains("pm"), "{stderr}");
}
