//! `baton watch` in a real terminal: tmux runs it in a detached session of a known size, the
//! test types keys with `send-keys` and reads the screen with `capture-pane`, waiting each time
//! for the screen to show what a key should bring (never a fixed sleep). At 80 columns the view
//! must fit, keep the north stars readable and list what needs a person; at 200 it shows every
//! column.

use crate::harness::Bench;
use std::path::PathBuf;
use std::process::Command;

/// One tmux server (on its own socket, so no other tmux is touched) running `baton watch`.
struct Terminal {
    tmux: PathBuf,
    socket: PathBuf,
}

impl Terminal {
    /// Starts `baton watch` in a `width`×`height` terminal, with the bench's environment.
    fn watch(bench: &Bench, width: u16, height: u16) -> Terminal {
        let tmux = baton_testkit::tmux();
        let cmd = bench.cmd(&["watch"]);
        // The command's environment, written out for the shell tmux starts the program with.
        let mut script = String::from("#!/bin/sh\n");
        for (key, value) in cmd.get_envs() {
            let key = key.to_string_lossy();
            match value {
                Some(v) => script.push_str(&format!("export {key}={}\n", quote(&v.to_string_lossy()))),
                None => script.push_str(&format!("unset {key}\n")),
            }
        }
        script
            .push_str(&format!("export TERM=xterm-256color\ncd {}\n", quote(&bench.sandbox.repo().to_string_lossy())));
        script.push_str(&format!("exec {} watch\n", quote(env!("CARGO_BIN_EXE_baton"))));
        let path = bench.path(&format!("watch-{width}.sh"));
        std::fs::write(&path, script).unwrap();
        let socket = bench.path(&format!("tmux-{width}.sock"));
        let term = Terminal { tmux, socket };
        let (w, h) = (width.to_string(), height.to_string());
        term.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            &w,
            "-y",
            &h,
            "sh",
            &path.to_string_lossy(),
        ]);
        term
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let out = Command::new(&self.tmux).arg("-S").arg(&self.socket).args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// The screen as text, one line per row.
    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "w"]).stdout).into_owned()
    }

    /// Presses keys (tmux key names: `j`, `Enter`, `Escape`, `Down`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "w"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "w", "-l", text]);
    }

    /// Waits until the screen satisfies `check`, returning it.
    fn wait_for(&self, bench: &Bench, what: &str, check: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        bench.wait_for(&format!("the screen to show {what}"), || {
            last = self.screen();
            check(&last)
        });
        last
    }

    /// Whether the watch is still running (the session ends when it exits).
    fn running(&self) -> bool {
        Command::new(&self.tmux)
            .arg("-S")
            .arg(&self.socket)
            .args(["has-session", "-t", "w"])
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new(&self.tmux).arg("-S").arg(&self.socket).arg("kill-server").output();
    }
}

/// The table part of the list (from its column titles on).
fn table(screen: &str) -> &str {
    screen.find("NORTH STAR").map_or("", |i| &screen[i..])
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn id(value: &serde_json::Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

/// The namespace the tests watch: one assignment finished by a runner (with a transcript), one
/// blocked, one idle (no job at all), and more finished ones than a 24-row screen holds.
struct Scene {
    done: String,
    implement: String,
    blocked: String,
    idle: String,
    finished: Vec<String>,
}

const DONE_NORTH_STAR: &str = "Import every CSV dialect that customers have sent us so far";
const BLOCKED_NORTH_STAR: &str = "Charge cards through the new payments API and keep the old one as a fallback";
const REASON: &str = "Need a valid API key for the payments sandbox: put it in PAYMENTS_KEY and resume";

fn scene(bench: &Bench) -> Scene {
    let done = bench.json(&["create", DONE_NORTH_STAR, "--first", "implement", "--context", "@write notes.txt hello"]);
    bench.run_until_idle(&[]);
    let blocked = id(&bench.json(&["create", BLOCKED_NORTH_STAR, "--first", "implement"]));
    bench.ok(&["update-assignment", &blocked, "--status", "blocked", "--reason", REASON]);
    let idle = id(&bench.json(&["create", "Tidy up the logging configuration"]));
    let finished = (1..=14)
        .map(|i| {
            let a = id(&bench.json(&["create", &format!("Finished piece of work number {i}")]));
            bench.ok(&["update-assignment", &a, "--status", "complete"]);
            a
        })
        .collect();
    Scene { implement: id(&done["jobs"][0]), done: id(&done), blocked, idle, finished }
}

#[test]
#[ignore = "needs tmux"]
fn tmux_watch_fits_80_columns_and_answers_its_keys() {
    let bench = Bench::new();
    let s = scene(&bench);
    let term = Terminal::watch(&bench, 80, 24);
    let screen = term.wait_for(&bench, "the list", |t| t.contains("NORTH STAR") && t.contains("q quit"));

    // It fits: the header and the key line are whole, every north star keeps 30 characters.
    assert!(screen.lines().next().unwrap().starts_with("baton watch  namespace repo"), "{screen}");
    assert!(
        screen.contains("↑↓/jk select · Enter chain · l transcript · / filter · b blocked/idle · q quit"),
        "{screen}"
    );
    assert!(screen.contains(&BLOCKED_NORTH_STAR[..30]), "{screen}");
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");
    // What needs a person: the blocked one with its whole reason, the idle one with what to do.
    assert!(screen.contains("NEEDS YOU (2)"), "{screen}");
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("blocked: {REASON}")), "{screen}");
    assert!(screen.contains("idle: nothing queued — insert a job or complete it"), "{screen}");
    // The latest finished assignments as far as the screen has room, and a count of the rest.
    assert!(screen.contains(&s.finished[13]), "the newest finished one is listed: {screen}");
    assert!(!screen.contains(&s.finished[0]), "the oldest is not: {screen}");
    assert!(screen.contains("more finished not shown"), "{screen}");
    assert_eq!(screen.lines().count(), 24, "{screen}");

    // b: only what is blocked or idle.
    term.keys(&["b"]);
    let only = term.wait_for(&bench, "blocked/idle only", |t| t.contains("blocked/idle only"));
    assert!(only.contains(&s.blocked) && only.contains(&s.idle), "{only}");
    assert!(!only.contains(&s.finished[13]), "{only}");
    term.keys(&["b"]);
    term.wait_for(&bench, "everything again", |t| !t.contains("blocked/idle only") && t.contains(&s.finished[13]));

    // /: a filter typed live, kept with Enter.
    term.keys(&["/"]);
    term.wait_for(&bench, "the filter prompt", |t| t.contains("filter: ▏"));
    term.type_text("csv dialect");
    term.keys(&["Enter"]);
    let filtered =
        term.wait_for(&bench, "the filtered list", |t| t.contains("filter “csv dialect”") && t.contains("q quit"));
    assert!(filtered.contains(&s.done), "{filtered}");
    assert!(!filtered.contains(&s.blocked) && !filtered.contains(&s.finished[13]), "{filtered}");

    // Enter: the selected assignment's chain, with the runner's implement job and its PM.
    term.keys(&["Enter"]);
    let chain = term.wait_for(&bench, "the chain", |t| t.contains(&format!("assignment {}", s.done)));
    assert!(chain.contains(&s.implement) && chain.contains(" pm "), "{chain}");
    assert!(chain.contains("Done with implement (attempt 1)."), "{chain}");

    // l: the selected job's transcript; Escape goes back to the chain, then to the list.
    term.keys(&["l"]);
    let transcript =
        term.wait_for(&bench, "the transcript", |t| t.contains(&format!("transcript of job {}", s.implement)));
    term.wait_for(&bench, "the agent's words", |t| t.contains("Done with implement"));
    assert!(transcript.contains("job complete · Esc back · q quit") || transcript.contains("Done with implement"));
    term.keys(&["Escape"]);
    term.wait_for(&bench, "the chain again", |t| t.contains(&format!("assignment {}", s.done)));
    term.keys(&["Escape"]);
    term.wait_for(&bench, "the list again", |t| t.contains("NORTH STAR"));

    // Arrows move the selection: Escape clears the filter, then the second row opens.
    term.keys(&["Escape"]);
    term.wait_for(&bench, "the whole list", |t| !t.contains("filter “") && t.contains(&s.blocked));
    term.keys(&["Down", "Enter"]);
    let second = term.wait_for(&bench, "the second row's chain", |t| t.contains(&format!("assignment {}", s.blocked)));
    assert!(second.contains(&format!("blocked: {}", &REASON[..40])), "the blocked one is second: {second}");
    term.keys(&["Escape", "k", "Enter"]);
    let first = term.wait_for(&bench, "the first row's chain", |t| t.contains(&format!("assignment {}", s.idle)));
    assert!(first.contains("idle: nothing queued — insert a job or complete it"), "{first}");

    term.keys(&["q"]);
    bench.wait_for("the watch to quit on q", || !term.running());
}

#[test]
#[ignore = "needs tmux"]
fn tmux_watch_shows_every_column_at_200_columns() {
    let bench = Bench::new();
    let s = scene(&bench);
    let term = Terminal::watch(&bench, 200, 50);
    let screen = term.wait_for(&bench, "the list", |t| t.contains("NORTH STAR") && t.contains("q quit"));
    let head = screen.lines().find(|l| l.contains("NORTH STAR")).unwrap();
    for column in ["ID", "STATUS", "JOBS", "COST", "CURRENT JOB", "NORTH STAR"] {
        assert!(head.contains(column), "{column} in {head}");
    }
    assert!(screen.contains(DONE_NORTH_STAR), "the whole north star: {screen}");
    assert!(screen.contains("ready") && screen.contains("waiting out a retry"), "{screen}");
    // 50 rows hold every finished assignment: none is left to count.
    assert!(s.finished.iter().all(|a| screen.contains(a)), "{screen}");
    assert!(!screen.contains("not shown"), "{screen}");
    term.keys(&["q"]);
    bench.wait_for("the watch to quit on q", || !term.running());
}

#[test]
#[ignore = "needs tmux"]
fn tmux_watch_scrolls_to_the_selected_assignment() {
    let bench = Bench::new();
    let ids: Vec<String> =
        (1..=30).map(|i| id(&bench.json(&["create", &format!("Open piece of work number {i}")]))).collect();
    let term = Terminal::watch(&bench, 80, 24);
    let first = term.wait_for(&bench, "the list", |t| t.contains("NORTH STAR") && t.contains("below (↑↓ scroll)"));
    assert!(table(&first).contains(&ids[29]) && !first.contains(&ids[0]), "newest first, the oldest below: {first}");
    assert_eq!(first.lines().count(), 24, "{first}");
    // Down to the last row: the oldest comes into view, the newest scrolls away.
    term.run(&["send-keys", "-t", "w", "-N", "29", "j"]);
    let last =
        term.wait_for(&bench, "the oldest assignment", |t| table(t).contains(&ids[0]) && t.contains(", 0 below"));
    assert!(!table(&last).contains(&ids[29]), "{last}");
    term.keys(&["Enter"]);
    term.wait_for(&bench, "its chain", |t| t.contains(&format!("assignment {}", ids[0])));
    term.keys(&["q"]);
    bench.wait_for("the watch to quit on q", || !term.running());
}

#[test]
#[ignore = "needs tmux"]
fn tmux_watch_follows_a_running_jobs_transcript_live() {
    let bench = Bench::new();
    let (_, job) = bench.assignment("Work while watched", "implement", "@write half.txt half done @hang");
    let mut runner = bench.spawn_runner(&[]);
    bench.wait_for("the agent to hang", || !bench.agent_pids().is_empty());
    let term = Terminal::watch(&bench, 80, 24);
    term.wait_for(&bench, "the running job", |t| t.contains(&format!("{job} implement ▶")));
    term.keys(&["l"]);
    let live = term.wait_for(&bench, "the transcript so far", |t| t.contains("write half.txt"));
    assert!(live.contains(&format!("transcript of job {job}")) && live.contains("following live"), "{live}");
    // The job ends while it is followed: the page says so without a key being pressed.
    bench.ok(&["cancel-job", &job]);
    term.wait_for(&bench, "the job's end", |t| t.contains("job cancelled · Esc back · q quit"));
    term.keys(&["q"]);
    bench.wait_for("the watch to quit on q", || !term.running());
    runner.kill().unwrap();
    runner.wait().unwrap();
}
