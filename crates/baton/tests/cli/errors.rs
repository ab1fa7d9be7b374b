//! Every kind of bad input: one `error:` line (or clap's usage error), the right exit code, and
//! nothing changed in the store.

use crate::common::Sandbox;

/// A namespace with one assignment holding two jobs.
fn populated() -> (Sandbox, String, String) {
    let s = Sandbox::new();
    let aid = s.create("Existing", &["--first", "plan"]);
    let jid = s.insert(&aid, "implement", &[]);
    (s, aid, jid)
}

/// Runs `args`, expects it to fail with `code`, and checks the store did not change.
fn rejected(s: &Sandbox, args: &[&str], code: i32) -> String {
    let before = s.snapshot();
    let err = s.fails(args, code);
    assert_eq!(s.snapshot(), before, "baton {args:?} changed the store");
    err
}

#[test]
fn unknown_ids() {
    let (s, aid, _) = populated();
    let err = rejected(&s, &["assignment", "anope1234"], 1);
    assert!(err.contains("no assignment anope1234 in namespace repo"), "{err}");
    let err = rejected(&s, &["job", "jnope1234"], 1);
    assert!(err.contains("no job jnope1234 in namespace repo"), "{err}");
    let err = rejected(&s, &["insert-job", "anope1234", "--type", "plan"], 1);
    assert!(err.contains("no assignment anope1234"), "{err}");
    let err = rejected(&s, &["update-assignment", "anope1234", "--status", "complete"], 1);
    assert!(err.contains("no assignment anope1234"), "{err}");
    let err = rejected(&s, &["cancel-job", "jnope1234"], 1);
    assert!(err.contains("no job jnope1234"), "{err}");
    let err = rejected(&s, &["retry-job", "jnope1234"], 1);
    assert!(err.contains("no job jnope1234"), "{err}");
    let err = rejected(&s, &["jobs", "--assignment", "anope1234"], 1);
    assert!(err.contains("no assignment anope1234"), "{err}");
    let err = rejected(&s, &["insert-job", &aid, "--type", "plan", "--after", "jnope1234"], 1);
    assert!(err.contains("jnope1234"), "{err}");
}

/// Runs `args`, expects exit `code` and one JSON object on stderr (nothing on stdout).
fn json_error(s: &Sandbox, args: &[&str], code: i32) -> serde_json::Value {
    let before = s.snapshot();
    let run = s.run(args);
    assert_eq!(run.code, code, "baton {args:?}: {}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stderr).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    assert_eq!(v["code"], code);
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty() && !e.starts_with("error:")), "{v}");
    assert!(v.get("hint").is_some(), "{v}");
    assert_eq!(s.snapshot(), before, "baton {args:?} changed the store");
    v
}

#[test]
fn json_errors_are_one_object_on_stderr_with_the_exit_code() {
    let (s, aid, _) = populated();
    let v = json_error(&s, &["job", "jnope1234", "--json"], 1);
    assert_eq!(v["error"], "no job jnope1234 in namespace repo (list them with `baton jobs`)");
    assert_eq!(v["hint"], "list them with `baton jobs`");
    let v = json_error(&s, &["--json", "update-assignment", &aid, "--status", "blocked"], 1);
    assert!(v["error"].as_str().unwrap().contains("--reason"), "{v}");
    // Usage errors found by the argument parser honour --json too.
    let v = json_error(&s, &["jobs", "--status", "bogus", "--json"], 2);
    assert!(v["error"].as_str().unwrap().contains("bogus"), "{v}");
    assert!(v["hint"].as_str().is_some(), "{v}");
    let v = json_error(&s, &["--json", "insert-job", &aid], 2);
    assert!(v["error"].as_str().unwrap().contains("--type"), "{v}");
    json_error(&s, &["--json", "no-such-command"], 2);
    // Without --json, the forms people read stay.
    assert!(s.fails(&["job", "jnope1234"], 1).starts_with("error: no job"));
    assert!(s.fails(&["jobs", "--status", "bogus"], 2).starts_with("error: "));
    // --help is no error, with or without --json.
    assert!(s.ok(&["jobs", "--help", "--json"]).contains("Usage"));
}

#[test]
fn an_id_of_the_other_kind_says_what_it_is() {
    let (s, aid, jid) = populated();
    let err = rejected(&s, &["job", &aid], 1);
    assert!(err.contains(&format!("{aid} is an assignment, not a job")), "{err}");
    assert!(err.contains(&format!("baton assignment {aid}")), "{err}");
    let err = rejected(&s, &["logs", &aid], 1);
    assert!(err.contains("is an assignment, not a job"), "{err}");
    let err = rejected(&s, &["assignment", &jid], 1);
    assert!(err.contains(&format!("{jid} is a job (of assignment {aid}), not an assignment")), "{err}");
    let err = rejected(&s, &["insert-job", &jid, "--type", "plan"], 1);
    assert!(err.contains("not an assignment"), "{err}");
    let v = json_error(&s, &["assignment", &jid, "--json"], 1);
    assert_eq!(v["hint"], format!("show it with `baton job {jid}`").as_str());
}

#[test]
fn subcommands_have_no_version_flag_and_name_job_ids_alike() {
    let s = Sandbox::new();
    assert!(s.ok(&["--version"]).starts_with("baton "));
    let help = s.ok(&["queue", "--help"]);
    assert!(!help.contains("--version"), "{help}");
    s.fails(&["queue", "--version"], 2);
    for command in ["logs", "job", "cancel-job", "retry-job"] {
        let help = s.ok(&[command, "--help"]);
        assert!(help.contains("<JOB_ID>"), "{command}: {help}");
    }
    // Example ids in the help have the length of real ids (a letter and 8 characters).
    let help = s.ok(&["--help"]);
    let example = help.split_whitespace().find(|w| w.starts_with("a7k2")).unwrap();
    assert_eq!(example.len(), 9, "{help}");
}

#[test]
fn ids_from_another_namespace_are_not_found() {
    let (s, aid, jid) = populated();
    let err = rejected(&s, &["assignment", &aid, "--namespace", "elsewhere"], 1);
    assert!(err.contains(&format!("no assignment {aid} in namespace elsewhere")), "{err}");
    let err = rejected(&s, &["job", &jid, "--namespace", "elsewhere"], 1);
    assert!(err.contains(&format!("no job {jid} in namespace elsewhere")), "{err}");
    rejected(&s, &["insert-job", &aid, "--type", "plan", "--namespace", "elsewhere"], 1);
    rejected(&s, &["update-assignment", &aid, "--status", "complete", "--namespace", "elsewhere"], 1);
    rejected(&s, &["cancel-job", &jid, "--namespace", "elsewhere"], 1);
}

#[test]
fn after_must_be_a_job_of_the_same_assignment() {
    let (s, aid, _) = populated();
    let other = s.create("Other", &[]);
    let foreign = s.insert(&other, "plan", &[]);
    let err = rejected(&s, &["insert-job", &aid, "--type", "review", "--after", &foreign], 1);
    assert!(err.contains(&foreign) && err.contains(&aid), "{err}");
}

#[test]
fn unknown_values_are_usage_errors_listing_the_valid_ones() {
    let (s, aid, _) = populated();
    let err = rejected(&s, &["insert-job", &aid, "--type", "deploy"], 2);
    for v in ["plan", "implement", "review", "uat", "document", "pm", "chat"] {
        assert!(err.contains(v), "`{v}` in {err}");
    }
    let err = rejected(&s, &["create", "X", "--first", "deploy"], 2);
    assert!(err.contains("implement"), "{err}");
    let err = rejected(&s, &["assignments", "--status", "done"], 2);
    for v in ["active", "complete", "blocked", "cancelled"] {
        assert!(err.contains(v), "`{v}` in {err}");
    }
    let err = rejected(&s, &["jobs", "--status", "done"], 2);
    for v in ["pending", "running", "complete", "failed", "cancelled"] {
        assert!(err.contains(v), "`{v}` in {err}");
    }
    let err = rejected(&s, &["update-assignment", &aid, "--status", "done"], 2);
    assert!(err.contains("blocked"), "{err}");
    rejected(&s, &["queue", "--colour", "never"], 2);
    rejected(&s, &["jobs", "--limit", "0"], 2);
    rejected(&s, &["create", "X", "--budget-usd", "-3"], 2);
    let err = rejected(&s, &["create", "X", "--budget-tokens", "1.5k"], 2);
    assert!(err.contains("must be a whole number of tokens above 0"), "{err}");
    rejected(&s, &["create", "X", "--max-jobs", "0"], 2);
}

#[test]
fn missing_required_arguments_are_usage_errors() {
    let (s, aid, _) = populated();
    rejected(&s, &["insert-job", &aid], 2);
    rejected(&s, &["insert-job", "--type", "plan"], 2);
    rejected(&s, &["create"], 2);
    rejected(&s, &["job"], 2);
    // --harness describes the first job: meaningless without --first (--context is the
    // assignment's own and stands alone).
    rejected(&s, &["create", "X", "--harness", "claude"], 2);
}

#[test]
fn unknown_harness_lists_the_valid_ones() {
    let (s, aid, _) = populated();
    let err = rejected(&s, &["insert-job", &aid, "--type", "plan", "--harness", "hal"], 1);
    assert!(err.contains("hal") && err.contains("claude, codex, gemini"), "{err}");
    let err = rejected(&s, &["create", "X", "--first", "plan", "--harness", "hal"], 1);
    assert!(err.contains("claude, codex, gemini"), "{err}");
}

#[test]
fn blocked_needs_a_reason() {
    let (s, aid, _) = populated();
    let err = rejected(&s, &["update-assignment", &aid, "--status", "blocked"], 1);
    assert!(err.contains("--reason"), "{err}");
    let err = rejected(&s, &["update-assignment", &aid, "--status", "blocked", "--reason", "  "], 1);
    assert!(err.contains("--reason"), "{err}");
}

#[test]
fn update_needs_something_to_do_and_consistent_flags() {
    let (s, aid, _) = populated();
    let err = rejected(&s, &["update-assignment", &aid], 1);
    assert!(err.contains("nothing to update"), "{err}");
    let err = rejected(&s, &["update-assignment", &aid, "--status", "complete", "--reason", "x"], 1);
    // Core names the request's fields; the CLI shows them as the flags the person typed.
    assert!(err.contains("--reason goes with --status blocked"), "{err}");
    let err = rejected(&s, &["update-assignment", &aid, "--status", "complete", "--note", "x"], 1);
    assert!(err.contains("--note goes with --status active"), "{err}");
}

#[test]
fn empty_north_star() {
    let (s, _, _) = populated();
    let err = rejected(&s, &["create", "   "], 1);
    assert!(err.contains("north star is empty"), "{err}");
    rejected(&s, &["create", ""], 1);
}

#[test]
fn impossible_transitions() {
    let (s, aid, _) = populated();
    s.ok(&["update-assignment", &aid, "--status", "complete"]);
    let err = rejected(&s, &["update-assignment", &aid, "--status", "active"], 1);
    assert!(err.contains("final"), "{err}");
    let err = rejected(&s, &["insert-job", &aid, "--type", "plan"], 1);
    assert!(err.contains("final"), "{err}");
    let other = s.create("Active one", &[]);
    let err = rejected(&s, &["update-assignment", &other, "--status", "active"], 1);
    assert!(err.contains("already active"), "{err}");
}

#[test]
fn malformed_config_names_the_key_and_the_file() {
    let (s, _, _) = populated();
    let before = s.snapshot();
    std::fs::create_dir_all(s.repo().join(".baton")).unwrap();
    let path = s.repo().join(".baton/config.toml");
    std::fs::write(&path, "namespace = \"repo\"\nmax_attemps = 3\n").unwrap();
    for args in [&["assignments"][..], &["create", "X"][..], &["queue"][..]] {
        let err = s.fails(args, 1);
        assert!(err.contains("max_attemps"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
    std::fs::remove_file(&path).unwrap();
    assert_eq!(s.snapshot(), before);
}

#[test]
fn bad_environment_values_are_errors() {
    let (s, _, _) = populated();
    let out = s.cmd().env("BATON_MAX_ATTEMPTS", "lots").args(["assignments"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains("BATON_MAX_ATTEMPTS"), "{err}");
}

#[test]
fn unwritable_database_path() {
    let s = Sandbox::new();
    // A regular file where the database folder should be.
    let blocker = s.dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let url = format!("sqlite://{}/sub/baton.db", blocker.display());
    for args in [&["create", "X"][..], &["assignments"][..]] {
        let out = s.cmd().env("BATON_DATABASE_URL", &url).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains("database"), "{err}");
    }
    let out = s.cmd().env("BATON_DATABASE_URL", "mysql://db/x").args(["queue"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn create_base_outside_a_git_repository_is_refused() {
    let (s, _, _) = populated();
    // The sandbox's checkout has a `.git` folder but is no repository git knows.
    let err = rejected(&s, &["create", "X", "--base", "main"], 1);
    assert!(err.contains("--base needs a git repository"), "{err}");
}
