//! Inputs at the edges of what baton accepts: numbers out of range, arguments that are not
//! UTF-8, empty names. Each is a usage error or one `error:` line, never a panic, and nothing
//! stored changes.

use crate::common::Sandbox;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error() {
    let s = Sandbox::new();
    let aid = s.create("Existing", &[]);
    let before = s.snapshot();
    let bad = OsStr::from_bytes(b"caf\xe9");
    for args in [vec![OsStr::new("create"), bad], vec![OsStr::new("assignment"), bad], vec![bad]] {
        let out = s.cmd().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("internal error"), "{err}");
        assert!(err.contains("UTF-8") || err.contains("unrecognized subcommand"), "{err}");
    }
    let out = s.cmd().args([OsStr::new("update-assignment"), OsStr::new(&aid), OsStr::new("--note"), bad]).output();
    assert_eq!(out.unwrap().status.code(), Some(2));
    assert_eq!(s.snapshot(), before);
}

#[test]
fn an_empty_namespace_is_refused_not_replaced() {
    let s = Sandbox::new();
    s.create("Existing", &[]);
    let before = s.snapshot();
    for ns in ["", "  "] {
        let err = s.fails(&["create", "X", "--namespace", ns], 2);
        assert!(err.contains("namespace"), "{ns:?}: {err}");
        s.fails(&["assignments", "--namespace", ns], 2);
    }
    assert_eq!(s.snapshot(), before);
}

#[test]
fn durations_out_of_range_are_refused_with_the_range() {
    let s = Sandbox::new();
    s.create("Existing", &[]);
    let before = s.snapshot();
    for (var, value, needle) in [
        ("BATON_LEASE_MS", "1", "`lease_ms` must be 100 to 86400000"),
        ("BATON_LEASE_MS", "9223372036854775807", "`lease_ms` must be 100 to 86400000"),
        ("BATON_TIMEOUT_MS", "5", "`timeout_ms` must be 100 to 86400000"),
        ("BATON_MAX_ATTEMPTS", "0", "`max_attempts` must be 1 to 100"),
    ] {
        let out = s.cmd().env(var, value).args(["create", "X"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{var}={value}: {err}");
        assert!(err.starts_with("error: ") && err.contains(needle), "{var}={value}: {err}");
    }
    std::fs::create_dir_all(s.repo().join(".baton")).unwrap();
    std::fs::write(s.repo().join(".baton/config.toml"), "lease_ms = 1\n").unwrap();
    let err = s.fails(&["run", "--until-idle"], 1);
    assert!(err.contains("`lease_ms` must be 100 to 86400000 (100ms to 24h00m), not 1"), "{err}");
    std::fs::remove_file(s.repo().join(".baton/config.toml")).unwrap();
    let err = s.fails(&["run", "--until-idle", "--grace", "18446744073709551615"], 2);
    assert!(err.contains("0..=86400"), "{err}");
    assert_eq!(s.snapshot(), before);
}
