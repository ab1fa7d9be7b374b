//! Faults of the database under a running runner: the file removed, replaced or overwritten in
//! place ends the run with a message naming the file, instead of results written where nobody
//! will read them or retries for ever. An explicit path in a missing folder is refused; the default location is created.

use crate::harness::{alive, Bench};
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A runner whose stderr the test reads once it has exited.
fn runner(bench: &Bench) -> Child {
    bench.cmd(&["run"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits for `child` to exit; its exit code, stderr and how long that took.
fn exited(bench: &Bench, child: &mut Child) -> (Option<i32>, String, Duration) {
    let since = Instant::now();
    let mut status = None;
    bench.wait_for("the runner to exit", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.and_then(|s| s.code()), stderr, since.elapsed())
}

#[test]
fn a_runner_whose_database_file_is_removed_stops_its_agents_and_exits() {
    let bench = Bench::new();
    bench.config("lease_ms = 600\n");
    let (_, jid) = bench.assignment("Removed", "implement", "@hang");
    let mut child = runner(&bench);
    bench.wait_for("the agent to start", || bench.agent_pids().len() >= 2);
    assert_eq!(bench.job(&jid)["status"], "running");
    let db = bench.path("data/baton.db");
    std::fs::remove_file(&db).unwrap();

    let (code, stderr, took) = exited(&bench, &mut child);
    assert_eq!(code, Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && last.contains(&format!("{} was removed", db.display())), "{stderr}");
    // A heartbeat (200 ms) finds it; stopping the agent takes at most its kill grace.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    for pid in bench.agent_pids() {
        assert!(!alive(pid), "agent process {pid} outlived the runner");
    }
    assert!(!stderr.contains("job ended status=complete"), "{stderr}");
}

#[test]
fn a_runner_whose_database_is_overwritten_in_place_stops_its_agents_and_exits() {
    let bench = Bench::new();
    bench.config("lease_ms = 600\n");
    let (_, jid) = bench.assignment("Overwritten", "implement", "@hang");
    let mut child = runner(&bench);
    bench.wait_for("the agent to start", || bench.agent_pids().len() >= 2);
    assert_eq!(bench.job(&jid)["status"], "running");
    // Same file, same inode: only its bytes change, as a stray `dd` or a bad restore would do.
    let db = bench.path("data/baton.db");
    let mut file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    std::io::Write::write_all(&mut file, &[0x5a; 4096]).unwrap();
    file.sync_all().unwrap();

    let (code, stderr, took) = exited(&bench, &mut child);
    assert_eq!(code, Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && last.contains(&db.display().to_string()), "{stderr}");
    assert!(last.contains("restore it from a backup or move it aside"), "{stderr}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    for pid in bench.agent_pids() {
        assert!(!alive(pid), "agent process {pid} outlived the runner");
    }
    assert!(!stderr.contains("job ended status=complete"), "{stderr}");
}

#[test]
fn a_damaged_database_is_reported_once_with_how_to_recover() {
    let bench = Bench::new();
    bench.ok(&["queue"]);
    let db = bench.path("data/baton.db");
    for side in ["data/baton.db-wal", "data/baton.db-shm"] {
        let _ = std::fs::remove_file(bench.path(side));
    }
    std::fs::write(&db, vec![0x5a; 16384]).unwrap();
    // A runner, a person's command, and an agent's command (which waits out a database that is
    // restarting, but not one that is damaged).
    for (args, job) in [(&["run"][..], ""), (&["queue"][..], ""), (&["assignments"][..], "j1")] {
        let mut cmd = bench.cmd(args);
        if !job.is_empty() {
            cmd.env("BATON_JOB_ID", job);
        }
        let since = Instant::now();
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.matches("error: ").count(), 1, "reported once: {err}");
        assert!(
            err.contains("file is not a database") && err.contains("restore it from a backup or move it aside"),
            "{err}"
        );
        assert!(!err.contains("writable place") && !err.contains("retrying"), "{err}");
        assert!(since.elapsed() < Duration::from_secs(5), "{args:?} gave up at once, not after retries");
    }
}

#[test]
fn an_explicit_database_path_in_a_missing_folder_is_refused() {
    let bench = Bench::new();
    let missing = bench.path("nonexistent/dir");
    let url = format!("sqlite://{}/x.db", missing.display());
    for args in [&["create", "X"][..], &["queue"][..], &["run", "--until-idle"][..]] {
        let out = bench.cmd(args).env("BATON_DATABASE_URL", &url).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(&format!("the folder {} does not exist", missing.display())), "{err}");
        assert!(!err.contains("writable place"), "{err}");
    }
    assert!(!missing.exists(), "the folder was not created");

    // The default location (no database_url anywhere) is still created.
    let out = bench.cmd(&["create", "X"]).env_remove("BATON_DATABASE_URL").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(bench.path("home/.local/share/baton/baton.db").exists());
}

/// Fills the file system holding `dir` but for about `free` bytes.
fn fill_but(dir: &std::path::Path, free: usize) {
    use std::io::Write;
    let reserve = dir.join("reserve");
    std::fs::write(&reserve, vec![0u8; free]).unwrap();
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![0u8; 64 * 1024];
    while filler.write_all(&block).is_ok() {}
    let small = [0u8; 512];
    while filler.write_all(&small).is_ok() {}
    drop(filler);
    std::fs::remove_file(reserve).unwrap();
}

#[test]
#[ignore = "needs root, to mount a small tmpfs"]
fn disk_full_marks_the_transcript_incomplete_and_keeps_the_result() {
    let mut bench = Bench::new();
    let disk = bench.path("disk");
    let _tmpfs = baton_testkit::Tmpfs::mount(&disk, "8m");
    bench.database_url = Some(format!("sqlite://{}", disk.join("baton.db").display()));
    bench.config("lease_ms = 3000\n");
    let (_, jid) = bench.assignment("Disk full", "implement", "@big 3000000");
    fill_but(&disk, 512 * 1024);

    let mut child = bench.cmd(&["run", "--until-idle"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let (code, stderr, _) = exited(&bench, &mut child);
    std::fs::remove_file(disk.join("filler")).unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("storing transcript events failed"), "the disk did fill: {stderr}");

    let job = bench.job(&jid);
    assert_eq!(job["status"], "complete", "the result is stored: {job}");
    // Failing transcript writes did not starve the lease renewals: no attempt was lost.
    assert_eq!((job["attempts"].as_u64(), job["lost_attempts"].as_u64()), (Some(1), Some(0)), "{job}");
    assert_eq!(job["transcript_complete"], false, "{job}");
    let why = job["transcript_error"].as_str().unwrap_or_default();
    assert!(why.contains("transcript events could not be stored") && why.contains("full"), "{job}");
    let shown = String::from_utf8_lossy(&bench.cmd(&["job", &jid]).output().unwrap().stdout).into_owned();
    assert!(shown.contains("incomplete: "), "{shown}");
    let logs = String::from_utf8_lossy(&bench.cmd(&["logs", &jid]).output().unwrap().stdout).into_owned();
    assert!(
        logs.trim_end().ends_with("──") && logs.contains("transcript incomplete: "),
        "{}",
        &logs[logs.len().saturating_sub(400)..]
    );
}
