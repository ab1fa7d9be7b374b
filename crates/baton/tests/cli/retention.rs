//! `baton clean --retention`: nothing is removed without a policy; bad durations and prices are
//! refused with the key named; a dry run reports and changes nothing.

use crate::common::Sandbox;

fn with_config(s: &Sandbox, text: &str) {
    std::fs::create_dir_all(s.repo().join(".baton")).unwrap();
    std::fs::write(s.repo().join(".baton/config.toml"), text).unwrap();
}

#[test]
fn without_a_policy_nothing_is_removed() {
    let s = Sandbox::new();
    let e = s.fails(&["clean", "--retention"], 1);
    assert!(e.contains("no retention policy is set") && e.contains("[retention]"), "{e}");
    let e = s.fails(&["clean", "--dry-run"], 2);
    assert!(e.contains("--retention"), "{e}");
    let e = s.fails(&["clean", "--retention", "--force"], 2);
    assert!(e.contains("cannot be used with"), "{e}");
}

#[test]
fn bad_policy_and_prices_name_the_key() {
    let s = Sandbox::new();
    with_config(&s, "[retention]\ntranscripts_after = \"a month\"\n");
    let e = s.fails(&["clean", "--retention"], 1);
    assert!(e.contains("retention.transcripts_after") && e.contains("14d"), "{e}");
    with_config(&s, "[prices.\"gpt-5\"]\ninput = -2\noutput = 1\n");
    let e = s.fails(&["queue"], 1);
    assert!(e.contains("prices.\"gpt-5\".input"), "{e}");
}

#[test]
fn a_dry_run_reports_and_keeps_everything() {
    let s = Sandbox::new();
    with_config(&s, "[retention]\ntranscripts_after = \"0s\"\nworktrees_after = \"1d\"\n");
    let out = s.ok(&["clean", "--retention", "--dry-run"]);
    assert!(out.contains("would drop the transcripts of 0 finished job(s)"), "{out}");
    let v = s.json(&["clean", "--retention", "--dry-run"]);
    assert_eq!((v["dry_run"].as_bool(), v["transcripts_dropped"].as_u64()), (Some(true), Some(0)));
}
