//! `[retention] worktrees = "merged"` with real git: a finished assignment's worktree goes once
//! its branch is in its base — merged by hand, squashed by `baton merge`, or holding no commits
//! of its own — and every removal re-checks git at that moment: dirty, unmerged, committed on
//! after its squash merge, switched to another branch, or no longer a worktree `git worktree
//! list` names, it stays.

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
    let (late, _) = bench.assignment("Squashed, then more work @flow implement", "implement", "@write d.txt four");
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
    // Squashed, and then someone committed more on its branch: that commit is in no base.
    bench.ok(&["merge", &late, "--squash"]);
    std::fs::write(Path::new(&tree(&late)).join("d.txt"), "four, revised").unwrap();
    git(Path::new(&tree(&late)), &["commit", "-q", "-am", "after the merge"]);

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
        (&late, format!("kept: branch baton/{late} has 1 commit(s) made after its merge")),
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
    assert_eq!(std::fs::read_to_string(Path::new(&tree(&late)).join("d.txt")).unwrap(), "four, revised");
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

/// claude's folder for a working directory: every character but letters and digits becomes '-'.
fn claude_project(tree: &str) -> String {
    tree.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn agent_sessions_after_removes_only_the_session_files_baton_recorded() {
    let bench = Bench::new();
    let home = bench.sandbox.dir.path().join("home");
    let job_on = |harness: &str, north_star: &str| {
        let a = bench.json(&["create", north_star]);
        let aid = a["id"].as_str().unwrap().to_string();
        let j = bench.json(&["insert-job", &aid, "--type", "implement", "--harness", harness, "--context", "go"]);
        (aid, j["id"].as_str().unwrap().to_string())
    };
    let finished: Vec<(&str, (String, String))> = ["claude", "codex", "gemini"]
        .into_iter()
        .map(|h| (h, job_on(h, &format!("Sessions of {h} @flow implement"))))
        .collect();
    // Still open (its PM decides nothing): its session stays whatever its age.
    let (open, open_job) = job_on("claude", "@pm-silent An open one");
    bench.run_until_idle(&[]);
    assert_ne!(bench.detail(&open)["status"], "complete");
    let session = |jid: &str| bench.job(jid)["session_id"].as_str().unwrap_or_default().to_string();

    // The files, where each real CLI writes them (HOME is the bench's home).
    let mut theirs = Vec::new();
    for (harness, (aid, jid)) in &finished {
        assert_eq!(bench.detail(aid)["status"], "complete", "{harness}");
        let (sid, tree) = (session(jid), bench.detail(aid)["worktree"].as_str().unwrap_or_default().to_string());
        assert!(!sid.is_empty() && !tree.is_empty(), "{harness}: {sid} {tree}");
        let files = match *harness {
            "claude" => {
                let project = home.join(".claude/projects").join(claude_project(&tree));
                vec![project.join(format!("{sid}.jsonl")), project.join(&sid).join("subagents/agent-1.jsonl")]
            }
            "codex" => vec![home.join(format!(".codex/sessions/2026/12/01/rollout-2026-12-01T15-38-05-{sid}.jsonl"))],
            _ => vec![home.join(format!(".gemini/tmp/worktree/chats/session-2026-12-01T15-38-{}.jsonl", &sid[..8]))],
        };
        for f in &files {
            write(f, &format!("{{\"sessionId\":\"{sid}\"}}\n{}\n", "x".repeat(1000)));
        }
        theirs.push((*harness, sid, files));
    }
    // A person's own claude session in the same project folder, and the open assignment's.
    let claude_tree = bench.detail(&finished[0].1 .0)["worktree"].as_str().unwrap_or_default().to_string();
    let persons = home
        .join(".claude/projects")
        .join(claude_project(&claude_tree))
        .join("99999999-0000-4000-8000-000000000000.jsonl");
    write(&persons, "mine\n");
    let open_tree = bench.detail(&open)["worktree"].as_str().unwrap_or_default().to_string();
    let open_file =
        home.join(".claude/projects").join(claude_project(&open_tree)).join(format!("{}.jsonl", session(&open_job)));
    write(&open_file, "still going\n");

    bench.config("[retention]\nagent_sessions_after = \"1s\"\n");
    bench.wait_for("the assignments to be a second old", || {
        bench.json(&["gc", "--dry-run"])["agent_sessions"].as_array().is_some_and(|s| s.len() == 4)
    });
    let dry = bench.json(&["gc", "--dry-run"]);
    let listed = dry["agent_sessions"].as_array().cloned().unwrap_or_default();
    for (harness, sid, files) in &theirs {
        for f in files {
            let top = if f.ends_with("subagents/agent-1.jsonl") { f.parent().unwrap().parent().unwrap() } else { f };
            let entry = listed.iter().find(|e| e["path"] == top.display().to_string());
            let entry = entry.unwrap_or_else(|| panic!("{harness}: {} not listed: {dry:#}", top.display()));
            assert_eq!((entry["harness"].as_str(), entry["session_id"].as_str()), (Some(*harness), Some(sid.as_str())));
            assert_eq!(entry["outcome"], "would be removed");
            assert!(entry["bytes"].as_u64().is_some_and(|b| b > 1000), "{entry}");
            assert!(f.exists(), "a dry run removes nothing");
        }
    }
    let freed = dry["agent_sessions_bytes_freed"].as_u64().unwrap_or_default();
    assert!(freed > 4000, "{dry:#}");
    let text = bench.ok(&["gc", "--dry-run"]);
    assert!(text.contains("would remove 4 agent session file(s) of finished assignments"), "{text}");

    let report = bench.json(&["gc"]);
    assert!(report["agent_sessions"].as_array().unwrap().iter().all(|e| e["outcome"] == "removed"), "{report:#}");
    assert_eq!(report["agent_sessions_bytes_freed"].as_u64(), Some(freed));
    for (_, _, files) in &theirs {
        for f in files {
            assert!(!f.exists(), "{}", f.display());
        }
    }
    assert!(persons.exists(), "a session baton did not record stays");
    assert!(open_file.exists(), "an open assignment's session stays");
    let again = bench.json(&["gc"]);
    assert_eq!(again["agent_sessions"].as_array().map(Vec::len), Some(0), "nothing left to remove: {again:#}");
}

#[test]
fn removing_a_worktree_does_not_make_its_agent_sessions_young_again() {
    // Both due in one pass: the worktree goes first, and that change to the assignment must not
    // restart the age its sessions are judged by (they ended when its last job did).
    let bench = Bench::new();
    let home = bench.sandbox.dir.path().join("home");
    let a = bench.json(&["create", "Nothing to keep, one session @flow implement"]);
    let aid = a["id"].as_str().unwrap().to_string();
    let j = bench.json(&["insert-job", &aid, "--type", "implement", "--harness", "claude", "--context", ""]);
    let jid = j["id"].as_str().unwrap().to_string();
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "complete");
    let tree = detail["worktree"].as_str().unwrap_or_default().to_string();
    let sid = bench.job(&jid)["session_id"].as_str().unwrap_or_default().to_string();
    assert!(!tree.is_empty() && !sid.is_empty(), "{tree} {sid}");
    let file = home.join(".claude/projects").join(claude_project(&tree)).join(format!("{sid}.jsonl"));
    write(&file, "{}\n");

    bench.config("[retention]\nworktrees = \"merged\"\nagent_sessions_after = \"1s\"\n");
    bench.wait_for("the session to be a second old", || {
        bench.json(&["gc", "--dry-run"])["agent_sessions"].as_array().is_some_and(|s| s.len() == 1)
    });
    let report = bench.json(&["gc"]);
    let worktrees = report["worktrees"].as_array().cloned().unwrap_or_default();
    assert!(worktrees.iter().any(|w| w["assignment"] == aid.as_str() && w["outcome"] == "removed"), "{report:#}");
    let sessions = report["agent_sessions"].as_array().cloned().unwrap_or_default();
    assert_eq!(sessions.len(), 1, "the session goes in the same pass: {report:#}");
    assert_eq!(sessions[0]["outcome"], "removed", "{report:#}");
    assert!(!file.exists() && !Path::new(&tree).exists());
}

#[test]
fn finished_after_counts_from_the_end_of_the_work_not_from_a_later_merge() {
    let bench = Bench::new();
    let (aid, _) = bench.assignment("Merged later @flow implement", "implement", "@write m.txt merged");
    bench.run_until_idle(&[]);
    let tree = bench.detail(&aid)["worktree"].as_str().unwrap_or_default().to_string();
    bench.config("[retention]\nfinished_after = \"3s\"\n");
    let outcome = |report: &Value| -> Option<String> {
        let all = report["worktrees"].as_array().cloned().unwrap_or_default();
        all.iter().find(|w| w["assignment"] == aid.as_str()).and_then(|w| w["outcome"].as_str().map(str::to_string))
    };
    bench.wait_for("the work to be three seconds old", || outcome(&bench.json(&["gc", "--dry-run"])).is_some());
    assert_eq!(
        outcome(&bench.json(&["gc", "--dry-run"])).unwrap_or_default(),
        format!("kept: branch baton/{aid} is not merged into main")
    );
    // Merged now, long after its work ended: the merge does not make the work three seconds young.
    bench.ok(&["merge", &aid]);
    let report = bench.json(&["gc"]);
    assert_eq!(outcome(&report).as_deref(), Some("removed"), "{report:#}");
    assert!(!Path::new(&tree).exists());
}
