//! `baton init` and `baton completions`.

use crate::common::Sandbox;

#[test]
fn init_writes_the_namespace_and_commented_defaults() {
    let s = Sandbox::new();
    let out = s.ok(&["init"]);
    assert!(out.contains("namespace repo"), "{out}");
    let text = std::fs::read_to_string(s.repo().join(".baton/config.toml")).unwrap();
    assert!(text.contains("namespace = \"repo\""), "{text}");
    assert!(text.contains("# max_attempts = 3"), "{text}");
    // No database is created just to look for other checkouts.
    assert!(!s.dir.path().join("data/baton.db").exists());
    // The written file is a valid config: commands run with it.
    let a = s.json(&["create", "Add OAuth login"]);
    assert_eq!(a["namespace"], "repo");
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let s = Sandbox::new();
    s.ok(&["init", "--namespace", "first"]);
    let path = s.repo().join(".baton/config.toml");
    let err = s.fails(&["init", "--namespace", "second"], 1);
    assert!(err.contains("already exists") && err.contains("--force"), "{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("namespace = \"first\""), "unchanged: {text}");

    s.ok(&["init", "--force", "--namespace", "second"]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("namespace = \"second\""), "{text}");
}

#[test]
fn init_json_reports_path_and_namespace() {
    let s = Sandbox::new();
    let v = s.json(&["init", "--namespace", "web"]);
    assert_eq!(v["namespace"], "web");
    assert!(v["path"].as_str().unwrap().ends_with(".baton/config.toml"));
    assert_eq!(v["other_origins"], serde_json::json!([]));
}

#[test]
fn init_rejects_a_namespace_with_spaces() {
    let s = Sandbox::new();
    let err = s.fails(&["init", "--namespace", "my app"], 1);
    assert!(err.contains("my app"), "{err}");
    assert!(!s.repo().join(".baton/config.toml").exists());
}

#[test]
fn init_warns_when_another_checkout_uses_the_namespace() {
    let s = Sandbox::new();
    // A checkout elsewhere created an assignment in namespace `shared`.
    let other = s.dir.path().join("other-checkout");
    std::fs::create_dir_all(other.join(".git")).unwrap();
    let out = s.cmd_in(&other).args(["create", "Elsewhere", "--namespace", "shared"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");

    let run = s.run(&["init", "--namespace", "shared"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.starts_with("warning: "), "{}", run.stderr);
    assert!(run.stderr.contains(&other.display().to_string()), "names the other checkout: {}", run.stderr);
    assert!(s.repo().join(".baton/config.toml").exists());

    // The same checkout is not "another" one.
    let run = s.cmd_in(&other).args(["init", "--namespace", "shared"]).output().unwrap();
    assert!(run.status.success());
    assert!(run.stderr.is_empty(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn completions_print_a_script() {
    let s = Sandbox::new();
    let bash = s.ok(&["completions", "bash"]);
    assert!(bash.contains("_baton") && bash.contains("insert-job"), "{bash}");
    let zsh = s.ok(&["completions", "zsh"]);
    assert!(zsh.contains("#compdef baton"));
    let fish = s.ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c baton"));
    s.fails(&["completions", "tcsh"], 2);
}

#[test]
fn completions_work_without_a_valid_config() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.repo().join(".baton")).unwrap();
    std::fs::write(s.repo().join(".baton/config.toml"), "nonsense = 1\n").unwrap();
    s.ok(&["completions", "bash"]);
}

#[test]
fn help_and_version() {
    let s = Sandbox::new();
    let help = s.ok(&["--help"]);
    for cmd in [
        "init",
        "create",
        "insert-job",
        "queue",
        "assignments",
        "assignment",
        "jobs",
        "job",
        "update-assignment",
        "cancel-job",
        "retry-job",
        "completions",
    ] {
        assert!(help.contains(cmd), "{cmd} in {help}");
    }
    let help = s.ok(&["insert-job", "--help"]);
    assert!(help.contains("--type") && help.contains("implement"), "{help}");
    assert!(s.ok(&["--version"]).starts_with("baton "));
    // No command at all: usage, exit 2.
    let run = s.run(&[]);
    assert_eq!(run.code, 2);
}

#[test]
fn init_writes_templates_only_when_asked() {
    let s = Sandbox::new();
    let out = s.ok(&["init"]);
    assert!(!out.contains("templates"), "{out}");
    assert!(!s.repo().join(".baton/templates").exists(), "the built-ins keep improving for this repository");
    let out = s.ok(&["init", "--force", "--templates"]);
    assert!(out.contains("prompt templates"), "{out}");
    assert!(s.repo().join(".baton/templates/pm.md").is_file());
}
