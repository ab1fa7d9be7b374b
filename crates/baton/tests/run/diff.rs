//! What an assignment produced, at a glance: `baton assignment` shows its base, commits ahead,
//! diff stat and uncommitted work; `baton diff` prints its whole change or one job's, exactly as
//! git prints it.

use crate::harness::{git, Bench};
use serde_json::Value;
use std::path::Path;

/// `baton ARGS` expected to fail with exit 1: its one line on stderr (stdout empty).
fn refused(bench: &Bench, args: &[&str]) -> String {
    let out = bench.cmd(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "baton {args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_else(|| panic!("not a string: {value}"))
}

#[test]
fn the_assignment_and_baton_diff_show_its_whole_change_against_its_base() {
    let bench = Bench::new();
    let main = git(&bench.sandbox.repo(), &["rev-parse", "main"]).trim().to_string();
    let (aid, jid) =
        bench.assignment("Add a feature @flow implement,review", "implement", "@write feature.rs fn main() {}");
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "complete");
    let tree = text(&detail["worktree"]).to_string();
    let branch = format!("baton/{aid}");
    assert_eq!(detail["base_commit"], main.as_str(), "the branch started at main's commit");
    // The implement job's checkpoint; the review and the PMs changed nothing.
    assert_eq!(detail["commits_ahead"], 1);
    let by_hand = git(Path::new(&tree), &["diff", "--stat=120", &main, &branch]);
    assert_eq!(text(&detail["diff_stat"]), by_hand.trim_end(), "the stat is what git prints");
    assert!(by_hand.contains("feature.rs | 1 +"), "{by_hand}");
    assert_eq!(detail["worktree_dirty"], false);

    // For a person: the base, how far ahead, the stat, and the command for the rest.
    let shown = bench.ok(&["assignment", &aid]);
    assert!(shown.contains(&main[..12]), "{shown}");
    assert!(shown.contains("1 commit on the branch since its base"), "{shown}");
    assert!(shown.contains("feature.rs | 1 +"), "{shown}");
    assert!(shown.contains(&format!("baton diff {aid}")), "{shown}");
    assert!(!shown.contains("uncommitted"), "{shown}");

    // `baton diff`: exactly git's diff of the base against the branch.
    let diff = bench.ok(&["diff", &aid]);
    assert_eq!(diff, git(Path::new(&tree), &["diff", &main, &branch]));
    assert!(diff.contains("+fn main() {}"), "{diff}");
    assert_eq!(bench.ok(&["diff", &aid, "--stat"]).trim_end(), by_hand.trim_end());
    let json = bench.json(&["diff", &aid]);
    assert_eq!((json["from"].as_str(), json["truncated"].as_bool()), (Some(main.as_str()), Some(false)));
    let files: Vec<(&str, i64, i64)> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (text(&f["path"]), f["added"].as_i64().unwrap(), f["removed"].as_i64().unwrap()))
        .collect();
    assert_eq!(files, vec![("feature.rs", 1, 0)]);

    // One job: the commits it started and ended at, as recorded.
    let job = bench.job(&jid);
    let (before, after) = (text(&job["git_head_before"]), text(&job["git_head_after"]));
    assert_eq!(bench.ok(&["diff", &aid, "--job", &jid]), git(Path::new(&tree), &["diff", before, after]));
    let stat = bench.ok(&["diff", &aid, "--job", &jid, "--stat"]);
    assert_eq!(stat.trim_end(), text(&job["diff_stat"]).trim_end(), "the stat the PM was shown");
    let review = detail["jobs"][2]["id"].as_str().unwrap().to_string();
    let out = bench.cmd(&["diff", &aid, "--job", &review]).output().unwrap();
    assert!(out.status.success() && out.stdout.is_empty(), "a job that changed nothing has an empty diff");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the job changed nothing"));
}

#[test]
fn uncommitted_work_in_the_worktree_is_flagged() {
    let bench = Bench::new();
    bench.config("commit = \"off\"\n");
    let (aid, _) =
        bench.assignment("Leave it uncommitted @flow implement", "implement", "@write notes.txt left behind");
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    assert_eq!(detail["worktree_dirty"], true);
    assert_eq!(detail["commits_ahead"], 0);
    assert_eq!(detail["diff_stat"], "", "nothing is on the branch");
    let shown = bench.ok(&["assignment", &aid]);
    assert!(shown.contains("warning: the worktree has uncommitted changes"), "{shown}");
    assert!(shown.contains("notes.txt"), "{shown}");
    assert!(shown.contains("none yet: the branch is at its base commit"), "{shown}");
    let out = bench.cmd(&["diff", &aid]).output().unwrap();
    assert!(out.status.success() && out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("notes.txt") && stderr.contains("and not in this diff"), "{stderr}");
}

#[test]
fn a_diff_that_does_not_exist_is_one_line_and_exit_1() {
    let bench = Bench::new();
    let (done, done_job) = bench.assignment("Done @flow implement", "implement", "@write a.txt a");
    bench.run_until_idle(&[]);
    let (waiting, waiting_job) = bench.assignment("Not started", "plan", "");
    // No worktree yet: the summary is null, not made up.
    let detail = bench.detail(&waiting);
    for field in ["base_commit", "commits_ahead", "diff_stat", "worktree_dirty"] {
        assert!(detail[field].is_null(), "{field}: {}", detail[field]);
    }
    assert!(refused(&bench, &["diff", "nosuchid"]).contains("nosuchid"));
    assert!(refused(&bench, &["diff", &waiting]).contains("has no branch yet"));
    assert!(refused(&bench, &["diff", &done, "--job", "nosuchjob"]).contains("nosuchjob"));
    let other = refused(&bench, &["diff", &done, "--job", &waiting_job]);
    assert!(other.contains(&format!("belongs to assignment {waiting}")), "{other}");
    assert!(refused(&bench, &["diff", &waiting, "--job", &waiting_job]).contains("has not started"));
    // A job id where the assignment id belongs is refused as an unknown assignment.
    assert!(refused(&bench, &["diff", &done_job]).contains(&done_job));
}
