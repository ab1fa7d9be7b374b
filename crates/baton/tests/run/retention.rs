//! `[retention] worktrees = "merged"` with real git: a finished assignment's worktree goes once
//! its branch is in its base — merged by hand, squashed by `baton merge`, or holding no commits
//! of its own — and every removal re-checks git at that moment: dirty, unmerged, switched to
//! another branch, or no longer a worktree `git worktree list` names, it stays.

use crate::harness::{git, Bench};
use serde_json::Value;
use std::path::Path;

#[test]
fn merged_worktrees_go_and_dirty_unmerged_or_unlisted_ones_stay() {
    let bench = Bench::new();
    let repo = bench.sandbox.repo();
    let (squashed, _) = bench.assignment("Squash me @flow implement", "implement", "@write a.txt one");
    let (by_hand, _) = bench.assignment("Merge me by hand @flow implement", "implement", "@write b.txt two");
    let (unmerged, _) = bench.assignment("Keep me @flow implement", "implement", "@write c.txt precious");
    let (empty, _) = bench.assignment("Nothing to keep @flow implement", "implement", "");
    let (dirty, _) = bench.assignment("Left dirty @flow implement", "implement", "");
    let (unlisted, _) = bench.assignment("Not a worktree any more @flow implement", "implement", "");
    let (switched, _) = bench.assignment("Switched away @flow implement", "implement", "");
    bench.run_until_idle(&["--concurrency", "2"]);
    let tree = |aid: &str| bench.detail(aid)["worktree"].as_str().unwrap_or_default().to_string();

    bench.ok(&["merge", &squashed, "--squash"]);
    git(&repo, &["merge", "-q", "--no-ff", "-m", "by hand", &format!("baton/{by_hand}")]);
    std::fs::write(Path::new(&tree(&dirty)).join("notes.txt"), "uncommitted").unwrap();
    // The directory is still there, but git no longer counts it as a worktree.
    git(&repo, &["worktree", "remove", &tree(&unlisted)]);
    std::fs::create_dir_all(tree(&unlisted)).unwrap();
    std::fs::write(Path::new(&tree(&unlisted)).join("someone-elses.txt"), "mine").unwrap();
    git(Path::new(&tree(&switched)), &["switch", "-q", "-c", "elsewhere"]);

    bench.config("[retention]\nworktrees = \"merged\"\n");
    let outcome = |report: &Value, aid: &str| -> String {
        let all = report["worktrees"].as_array().cloned().unwrap_or_default();
        let w = all.iter().find(|w| w["assignment"] == aid).cloned().unwrap_or_default();
        w["outcome"].as_str().unwrap_or("(not in the report)").to_string()
    };
    let kept = [
        (&unmerged, format!("kept: branch baton/{unmerged} is not merged into main")),
        (&dirty, format!("kept: {} has uncommitted changes", tree(&dirty))),
        (&unlisted, format!("kept: {} is not a worktree `git worktree list` names", tree(&unlisted))),
        (
            &switched,
            format!(
                "kept: {} has elsewhere checked out, not the assignment's branch baton/{switched}",
                tree(&switched)
            ),
        ),
    ];

    let dry = bench.json(&["gc", "--dry-run"]);
    for aid in [&squashed, &by_hand, &empty] {
        assert_eq!(outcome(&dry, aid), "would be removed", "{aid}: {dry:#}");
        assert!(Path::new(&tree(aid)).exists(), "a dry run removes nothing");
    }
    for (aid, why) in &kept {
        assert_eq!(&outcome(&dry, aid), why, "{dry:#}");
    }
    let text = bench.ok(&["gc", "--dry-run"]);
    assert!(text.contains(&format!("{empty}  {}", tree(&empty))) && text.contains("would free "), "{text}");

    let removed_trees: Vec<String> = [&squashed, &by_hand, &empty].iter().map(|aid| tree(aid)).collect();
    let report = bench.json(&["gc"]);
    for (aid, place) in [&squashed, &by_hand, &empty].into_iter().zip(&removed_trees) {
        assert_eq!(outcome(&report, aid), "removed", "{aid}: {report:#}");
        assert!(!Path::new(place).exists(), "{place}");
        assert!(bench.detail(aid)["worktree"].is_null(), "the store forgets it");
        let branches = git(&repo, &["branch", "--list", &format!("baton/{aid}")]);
        assert!(branches.trim().is_empty(), "its branch went with it: {branches}");
    }
    for (aid, why) in &kept {
        assert_eq!(&outcome(&report, aid), why, "{report:#}");
        assert!(Path::new(&tree(aid)).exists(), "{aid} stays");
    }
    assert!(Path::new(&tree(&unmerged)).join("c.txt").exists());
    assert!(Path::new(&tree(&dirty)).join("notes.txt").exists());
    assert!(Path::new(&tree(&unlisted)).join("someone-elses.txt").exists());
    assert!(git(&repo, &["branch", "--list", &format!("baton/{unmerged}")]).contains(&unmerged));
}

#[test]
fn finished_after_waits_for_the_age_and_bad_values_name_the_key() {
    let bench = Bench::new();
    let (empty, _) = bench.assignment("Nothing to keep @flow implement", "implement", "");
    bench.run_until_idle(&[]);
    let tree = bench.detail(&empty)["worktree"].as_str().unwrap_or_default().to_string();

    bench.config("[retention]\nfinished_after = \"14d\"\n");
    let out = bench.ok(&["gc"]);
    assert!(out.contains("no finished assignment's worktree is due for removal"), "{out}");
    assert!(Path::new(&tree).exists(), "too young to go");

    for (config, key) in [
        ("[retention]\nworktrees = \"always\"\n", "retention.worktrees"),
        ("[retention]\nfinished_after = \"two weeks\"\n", "retention.finished_after"),
    ] {
        bench.config(config);
        let out = bench.cmd(&["gc"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(key) && stderr.trim().lines().count() == 1, "{stderr}");
    }
    assert!(Path::new(&tree).exists());
}
