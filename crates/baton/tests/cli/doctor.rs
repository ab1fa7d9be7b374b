//! `baton doctor`: ✓/✗ lines with fixes, `--json`, exit 1 when a check fails, no secret shown.

use crate::common::Sandbox;
use std::path::Path;

/// A real git repository in the sandbox's checkout, and stand-in agent CLIs that print the
/// versions baton was checked with.
fn ready(s: &Sandbox) -> std::path::PathBuf {
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git").arg("-C").arg(s.repo()).args(args).status().unwrap().success();
        assert!(ok, "git {args:?}");
    };
    std::fs::remove_dir_all(s.repo().join(".git")).unwrap();
    git(&["init", "-q"]);
    git(&["config", "user.name", "Ada"]);
    git(&["config", "user.email", "ada@example.com"]);
    let bin = s.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, version) in [("claude", "2.1.197 (Claude Code)"), ("codex", "codex-cli 0.171.0"), ("gemini", "0.61.0")] {
        stand_in(&bin.join(name), version);
    }
    bin
}

fn stand_in(path: &Path, version: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\necho '{version}'\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn doctor(s: &Sandbox, path: &str, extra: &[&str]) -> (i32, String, String) {
    let out = s
        .cmd()
        .arg("doctor")
        .args(extra)
        .env("PATH", path)
        .env("ANTHROPIC_API_KEY", "sk-very-secret-value")
        .env("IS_SANDBOX", "1")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_ready_setup_passes_every_check_and_shows_no_secret() {
    let s = Sandbox::new();
    let bin = ready(&s);
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let (code, out, err) = doctor(&s, &path, &[]);
    assert_eq!(code, 0, "{out}{err}");
    for want in
        ["✓ database:", "✓ git:", "✓ git identity: commits are by Ada", "✓ harness claude: 2.1.197", "✓ runners:"]
    {
        assert!(out.contains(want), "`{want}` in:\n{out}");
    }
    assert!(out.contains("✓ harness claude credentials: ANTHROPIC_API_KEY is set"), "{out}");
    assert!(!out.contains('✗'), "{out}");
    assert!(!out.contains("sk-very-secret-value"), "{out}");
    let (code, json, _) = doctor(&s, &path, &["--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true && c["check"].is_string()), "{v}");
}

#[test]
fn a_failed_check_names_its_fix_and_exits_1() {
    let s = Sandbox::new();
    let bin = ready(&s);
    // claude (the PM's harness) is missing; an old codex is only advice; work waits for a runner.
    std::fs::remove_file(bin.join("claude")).unwrap();
    stand_in(&bin.join("codex"), "codex-cli 0.100.0");
    s.create("Waiting", &["--first", "plan", "--harness", "codex"]);
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let (code, out, _) = doctor(&s, &path, &[]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("✗ harness claude: claude is not on PATH")).expect(&out);
    assert!(lines[at + 1].contains("fix: npm install -g @anthropic-ai/claude-code@2.1.197"), "{out}");
    assert!(out.contains("✓ harness codex: codex-cli 0.100.0") && out.contains("checked with 0.171.0"), "{out}");
    assert!(out.contains("✗ runners: 1 job(s) ready but no runner"), "{out}");
    assert!(out.contains("2 checks failed"), "{out}");
    // --json: the same verdict, on stdout, and the same exit code.
    let (code, json, err) = doctor(&s, &path, &["--json"]);
    assert_eq!((code, err.as_str()), (1, ""));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ok"], false);
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["harness claude", "runners"]);
}

#[test]
fn a_configuration_that_does_not_load_is_the_first_failed_check() {
    let s = Sandbox::new();
    let out = s.cmd().arg("doctor").env("BATON_NAMESPACE", "bad name").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.starts_with("✗ configuration:") && text.contains("bad name"), "{text}");
}
