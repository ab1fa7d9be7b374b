//! Agents hold no keys to the queue: their `baton` calls go through their attempt's runner, and
//! nothing else gets in. A stand-in agent (tests/agents/reach.sh) tries what a careless or
//! hostile one might; every try is recorded and checked here.

use crate::harness::Bench;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A bench whose `probe` harness is the reaching stand-in, recording into `tries/`;
/// `together` agents run at once.
pub fn reaching_bench(extra_config: &str, together: usize) -> (Bench, PathBuf) {
    let bench = Bench::new();
    let tries = reaching(&bench, extra_config, together);
    (bench, tries)
}

/// Makes `bench`'s `probe` harness the reaching stand-in; returns its tries folder.
pub fn reaching(bench: &Bench, extra_config: &str, together: usize) -> PathBuf {
    let tries = bench.path("tries");
    std::fs::create_dir_all(&tries).unwrap();
    // A copy beside its tries: the checkout may itself be in a folder the sandbox hides (/tmp).
    let script = tries.join("reach.sh");
    std::fs::copy(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/agents/reach.sh"), &script).unwrap();
    bench.config(&format!(
        "{extra_config}\n[harness.probe]\nformat = \"text\"\ncommand = [\"sh\", \"{}\", \"{}\", \"{together}\"]\n\
         writable = [\"{}\"]\n",
        script.display(),
        tries.display(),
        tries.display()
    ));
    tries
}

/// One recorded try of job `job`: (exit code, stdout, stderr).
pub fn tried(tries: &Path, job: &str, name: &str) -> (i32, String, String) {
    let read = |ext: &str| std::fs::read_to_string(tries.join(format!("{job}.{name}.{ext}"))).unwrap_or_default();
    let rc = read("rc").trim().parse().unwrap_or_else(|_| panic!("job {job} did not try {name}"));
    (rc, read("out"), read("err"))
}

/// An assignment with one implement job on the probe harness; returns (assignment, job).
pub fn probe_job(bench: &Bench) -> (String, String) {
    let a = bench.json(&["create", "Reach @pm-silent"]);
    let aid = a["id"].as_str().unwrap().to_string();
    let j = bench.json(&["insert-job", &aid, "--type", "implement", "--harness", "probe", "--context", "reach"]);
    (aid, j["id"].as_str().unwrap().to_string())
}

#[test]
fn an_agent_gets_no_database_and_its_calls_act_as_its_job() {
    let (bench, tries) = reaching_bench("sandbox = \"none\"", 1);
    let (aid, jid) = probe_job(&bench);
    let out = bench
        .cmd(&["run", "--until-idle"])
        .env("PGPASSWORD", "the runner's password")
        .env("DATABASE_URL", "postgres://runner:secret@db/app")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let env = std::fs::read_to_string(tries.join(format!("{jid}.env"))).unwrap();
    for name in ["BATON_DATABASE_URL=", "PGPASSWORD=", "DATABASE_URL="] {
        assert!(!env.lines().any(|l| l.starts_with(name)), "the agent got {name}: {env}");
    }
    assert!(env.contains("BATON_AGENT_SOCKET=") && env.contains("BATON_JOB_TOKEN="), "{env}");

    let (rc, stdout, stderr) = tried(&tries, &jid, "job");
    assert_eq!(rc, 0, "{stderr}");
    let job: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((job["id"].as_str(), job["status"].as_str()), (Some(jid.as_str()), Some("running")));

    let (rc, stdout, stderr) = tried(&tries, &jid, "context");
    assert_eq!(rc, 0, "a context file is read by the agent and sent along: {stderr}");
    assert!(stdout.starts_with("queued job "), "{stdout}");
    let detail = bench.detail(&aid);
    let review = detail["jobs"].as_array().unwrap().iter().find(|j| j["type"] == "review").unwrap();
    assert_eq!(review["context"].as_str().unwrap(), format!("review what {jid} did, `as is` $HOME\n"));

    let (rc, stdout, stderr) = tried(&tries, &jid, "usage");
    assert_eq!((rc, stdout.as_str()), (2, ""), "{stderr}");
    let usage: Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(usage["code"], 2, "{usage}");
    assert!(usage["error"].as_str().unwrap().contains("nonsense"), "{usage}");
    let (rc, stdout, stderr) = tried(&tries, &jid, "help");
    assert_eq!(rc, 0, "{stderr}");
    assert!(stdout.contains("Usage: baton queue"), "{stdout}");

    let (rc, _, stderr) = tried(&tries, &jid, "run");
    assert_eq!((rc, stderr.trim()), (1, "error: `baton run` cannot be run from inside a job: an agent reads its namespace and changes only its own assignment; ask a person to run it"));
    let (rc, _, stderr) = tried(&tries, &jid, "namespace");
    assert_eq!(rc, 1);
    assert!(stderr.starts_with("error: a job acts only on its own namespace"), "{stderr}");
    let (rc, _, stderr) = tried(&tries, &jid, "forged");
    assert_eq!(rc, 1);
    assert!(stderr.starts_with("error: BATON_JOB_TOKEN is not the token of job"), "{stderr}");
    let (rc, _, stderr) = tried(&tries, &jid, "status");
    assert_eq!(rc, 1);
    assert!(stderr.contains("only a pm job may change its assignment's status"), "the core's own text: {stderr}");
    assert_eq!(tried(&tries, &jid, "own").0, 0);

    // After the attempt its socket is gone, and its token opens nothing.
    let socket = std::fs::read_to_string(tries.join(format!("{jid}.socket"))).unwrap();
    let mut lines = socket.lines();
    let (path, token) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(!Path::new(path).exists(), "the socket outlived its attempt");
    assert!(!Path::new(path).parent().unwrap().exists(), "the socket's folder outlived its attempt");
    let late = bench.cmd(&["queue"]).env("BATON_AGENT_SOCKET", path).env("BATON_JOB_TOKEN", token).output().unwrap();
    assert_eq!(late.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&late.stderr);
    assert!(stderr.starts_with("error: cannot reach this job's runner at"), "{stderr}");
}

#[test]
fn an_agent_cannot_act_through_another_attempts_socket() {
    let (bench, tries) = reaching_bench("sandbox = \"none\"", 2);
    let (_, first) = probe_job(&bench);
    let (_, second) = probe_job(&bench);
    bench.run_until_idle(&["--concurrency", "2"]);
    for (me, other) in [(&first, &second), (&second, &first)] {
        let (rc, _, stderr) = tried(&tries, me, "peer");
        assert_eq!(rc, 1, "{me} acted through {other}'s socket");
        assert!(
            stderr.starts_with(&format!("error: BATON_JOB_TOKEN is not the token of job {other}'s running attempt")),
            "{stderr}"
        );
    }
}

#[test]
fn a_later_attempt_refuses_an_earlier_attempts_token() {
    let (bench, tries) = reaching_bench("sandbox = \"none\"", 1);
    let (_, first) = probe_job(&bench);
    bench.run_until_idle(&[]);
    let socket = std::fs::read_to_string(tries.join(format!("{first}.socket"))).unwrap();
    let old_token = socket.lines().nth(1).unwrap();
    // The next agent tries the old token on its own socket.
    std::fs::write(tries.join("stale-token"), old_token).unwrap();
    let (_, second) = probe_job(&bench);
    bench.run_until_idle(&[]);
    let (rc, _, stderr) = tried(&tries, &second, "stale");
    assert_eq!(rc, 1, "job {second} acted with job {first}'s token");
    assert!(stderr.starts_with(&format!("error: BATON_JOB_TOKEN is not the token of job {second}'s")), "{stderr}");
}

#[test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
fn postgres_an_agent_cannot_use_the_runners_credentials_and_acts_through_its_runner() {
    let (mut bench, db) = crate::postgres::postgres_bench();
    let url = db.url.clone();
    // The address without the password: what an agent could know or guess.
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.rsplit_once('@').unwrap();
    let (user, password) = userinfo.split_once(':').unwrap();
    let guessed = format!("{scheme}://{user}@{host}");
    bench.database_url = Some(db.url.clone());
    let tries = reaching(&bench, "sandbox = \"none\"", 1);
    let (aid, jid) = probe_job(&bench);
    let out = bench
        .cmd(&["run", "--until-idle"])
        .env("PGPASSWORD", password)
        .env("BATON_TEST_PG_URL", &guessed)
        // The test's own admin address is not the runner's to hand on.
        .env_remove("BATON_TEST_POSTGRES_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let env = std::fs::read_to_string(tries.join(format!("{jid}.env"))).unwrap();
    let secret = format!(":{password}@");
    assert!(!env.contains(&secret), "the agent's environment holds the database URL: {env}");
    assert!(!env.lines().any(|l| l.starts_with("PGPASSWORD=")), "{env}");
    let (rc, _, stderr) = tried(&tries, &jid, "psql");
    assert_ne!(rc, 0, "psql reached the queue with the runner's credentials");
    assert!(stderr.contains("password"), "{stderr}");
    let (rc, _, stderr) = tried(&tries, &jid, "context");
    assert_eq!(rc, 0, "its own baton calls act on PostgreSQL through the runner: {stderr}");
    let detail = bench.detail(&aid);
    assert!(detail["jobs"].as_array().unwrap().iter().any(|j| j["type"] == "review"), "{detail:#}");
    assert_eq!(detail["status"], "blocked", "nothing completed the assignment behind the PM's back");
}
