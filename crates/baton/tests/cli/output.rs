//! Output behaviour: broken pipes, colour, width (cut on a terminal, whole in a pipe), JSON framing.

use crate::common::Sandbox;
use std::io::Read;
use std::process::Stdio;

/// An assignment with jobs whose contexts are long enough to overflow a pipe buffer many times.
fn many_big_jobs(s: &Sandbox) {
    let aid = s.create("Big", &["--max-jobs", "100"]);
    let context = "lorem ipsum ".repeat(1_000);
    for _ in 0..12 {
        s.insert(&aid, "implement", &["--context", &context]);
    }
}

/// Runs baton with stdout on a pipe whose reader takes `read` bytes and then closes it.
fn run_into_closed_pipe(s: &Sandbox, args: &[&str], read: usize) -> std::process::Output {
    let mut child = s
        .std_cmd_in(&s.repo())
        .args(args)
        .env("COLUMNS", "50000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; read];
    stdout.read_exact(&mut buf).unwrap();
    drop(stdout);
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let s = Sandbox::new();
    many_big_jobs(&s);
    for (args, read) in [
        (&["jobs"][..], 1),
        (&["jobs"][..], 100),
        (&["jobs", "--json"][..], 10),
        (&["assignment", "--json", "x"][..], 0),
    ] {
        let out = run_into_closed_pipe(&s, args, read);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if args.contains(&"x") {
            // An error still reports, even with nobody reading stdout.
            assert_eq!(out.status.code(), Some(1));
            continue;
        }
        assert!(stderr.is_empty(), "baton {args:?} stderr: {stderr}");
        assert_eq!(out.status.code(), Some(0), "baton {args:?}: {:?}", out.status);
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let s = Sandbox::new();
    let aid = s.create("Colourful", &[]);
    s.ok(&["update-assignment", &aid, "--status", "blocked", "--reason", "why"]);
    // Not a terminal: plain.
    assert!(!s.ok(&["assignments"]).contains('\x1b'));
    let coloured = s.ok(&["assignments", "--color", "always"]);
    assert!(coloured.contains("\x1b[1;33mblocked\x1b[0m"), "{coloured:?}");
    assert!(!s.ok(&["assignment", &aid, "--color", "never"]).contains('\x1b'));
    // --color always beats NO_COLOR; auto respects it.
    let out = s.cmd().env("NO_COLOR", "1").args(["queue", "--color", "always"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    // --json is never coloured.
    assert!(!s.ok(&["assignments", "--json", "--color", "always"]).contains('\x1b'));
}

#[test]
fn tables_fit_the_terminal_width() {
    let s = Sandbox::new();
    let long = "word ".repeat(100);
    let aid = s.create(&long, &["--first", "plan", "--context", &long]);
    let job = s.json(&["jobs"])[0]["id"].as_str().unwrap().to_string();
    // Fixed columns (ids, statuses, times) stay whole, so each view has a narrowest width it fits.
    let views: [(&[&str], usize); 5] =
        [(&["assignments"], 70), (&["jobs"], 80), (&["assignment", &aid], 80), (&["queue"], 80), (&["job", &job], 70)];
    for width in [70u16, 80, 100, 140] {
        for (args, narrowest) in views {
            if usize::from(width) < narrowest {
                continue;
            }
            let (code, text) = s.on_terminal(args, width, &[("NO_COLOR", "1")]);
            assert_eq!(code, 0, "{text}");
            for line in text.lines() {
                assert!(
                    line.chars().count() <= usize::from(width),
                    "baton {args:?} at {width}: {} chars: {line}",
                    line.chars().count()
                );
            }
            if args[0] == "job" {
                // The detail view wraps free text instead of cutting it.
                assert_eq!(text.matches("word").count(), 100, "{text}");
            } else {
                assert!(text.contains('…'), "cut: {text}");
            }
        }
    }
    // On a terminal, COLUMNS is the person's choice of width.
    let (_, text) = s.on_terminal(&["assignments"], 200, &[("COLUMNS", "70"), ("NO_COLOR", "1")]);
    assert!(text.lines().all(|l| l.chars().count() <= 70), "{text}");
    // --wide shows everything whole, on one line per row.
    for args in [&["assignments", "--wide"][..], &["jobs", "--wide"][..], &["queue", "--wide"][..]] {
        let (_, text) = s.on_terminal(args, 80, &[("NO_COLOR", "1")]);
        assert!(!text.contains('…'), "{args:?}: {text}");
        assert!(text.lines().any(|l| l.contains(long.trim())), "{args:?}: {text}");
    }
}

#[test]
fn piped_text_is_never_cut() {
    let s = Sandbox::new();
    let long = "word ".repeat(100);
    let aid = s.create(&long, &["--first", "plan", "--context", &long]);
    s.ok(&["update-assignment", &aid, "--status", "blocked", "--reason", &long]);
    let job = s.json(&["jobs"])[0]["id"].as_str().unwrap().to_string();
    // COLUMNS is ignored off a terminal: an agent's shell tool inherits it from the person's shell.
    for columns in [None, Some("40")] {
        for args in [&["assignments"][..], &["jobs"][..], &["assignment", &aid][..], &["queue"][..], &["job", &job][..]]
        {
            let mut cmd = s.cmd();
            cmd.args(args);
            if let Some(c) = columns {
                cmd.env("COLUMNS", c);
            }
            let out = cmd.output().unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(!text.contains('…'), "baton {args:?} (COLUMNS {columns:?}) cut a value: {text}");
            // Every long value (north star, reason, context) is whole on one line.
            assert!(text.lines().any(|l| l.contains(long.trim())), "baton {args:?}: {text}");
        }
    }
}

#[test]
fn json_is_one_value_per_command() {
    let s = Sandbox::new();
    let aid = s.create("Json", &["--first", "plan"]);
    for args in [
        &["assignments", "--json"][..],
        &["jobs", "--json"][..],
        &["queue", "--json"][..],
        &["assignment", &aid, "--json"][..],
        &["--json", "assignments"][..],
    ] {
        let out = s.ok(args);
        let mut stream = serde_json::Deserializer::from_str(&out).into_iter::<serde_json::Value>();
        assert!(stream.next().unwrap().is_ok());
        assert!(stream.next().is_none(), "one value: {out}");
        assert!(out.ends_with('\n'));
    }
    assert!(s.json(&["assignments"]).is_array());
    assert!(s.json(&["jobs"]).is_array());
    assert!(s.json(&["queue"]).is_object());
}

#[test]
fn control_characters_in_text_do_not_reach_the_terminal() {
    let s = Sandbox::new();
    s.create("evil \x1b[2J title\nsecond line", &["--first", "plan"]);
    let text = s.ok(&["assignments"]);
    assert!(!text.contains('\x1b'), "{text:?}");
    assert_eq!(text.lines().count(), 2, "{text}");
}
