//! The runner end to end on PostgreSQL: the job flow, several runners sharing one queue, and
//! runners riding out a database restart. Every test needs PostgreSQL (`BATON_TEST_POSTGRES_URL`,
//! see `.ci/start-postgres`), so they are ignored unless asked for; `scripts/test` asks.

#[path = "../../../baton-store/tests/support/pg_server.rs"]
#[allow(dead_code)]
mod pg_server;

use crate::crash::{executed, executions, held, hold, ms, quick_harness, release};
use crate::harness::{pair, types_and_statuses, Bench};
use pg_server::PrivateServer;
use std::collections::HashMap;

/// A bench whose database is a new PostgreSQL database.
pub(crate) fn postgres_bench() -> (Bench, TestDatabase) {
    let db = TestDatabase::create(&baton_testkit::postgres_url());
    let mut bench = Bench::new();
    bench.database_url = Some(db.url.clone());
    (bench, db)
}

/// A database created for one test and dropped after it.
pub(crate) struct TestDatabase {
    admin: String,
    name: String,
    pub(crate) url: String,
}

impl TestDatabase {
    fn create(admin: &str) -> TestDatabase {
        let name = format!("baton_e2e_{:016x}", rand_u64());
        psql(admin, &format!("CREATE DATABASE {name}"));
        let (base, _) = admin.rsplit_once('/').expect("a database URL ends with /DBNAME");
        TestDatabase { admin: admin.to_string(), url: format!("{base}/{name}"), name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::process::Command::new("psql")
            .args([&self.admin, "-q", "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)])
            .output();
    }
}

fn psql(url: &str, sql: &str) {
    let out =
        std::process::Command::new("psql").args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]).output().unwrap();
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    h.finish()
}

#[test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
fn the_job_flow_runs_on_postgres() {
    let (bench, _db) = postgres_bench();
    let (aid, jid) =
        bench.assignment("Hello from PostgreSQL @flow implement,review", "implement", "@write hello.txt hi");
    bench.run_until_idle(&[]);
    let detail = bench.detail(&aid);
    assert_eq!(detail["status"], "complete");
    assert_eq!(
        types_and_statuses(&detail),
        vec![pair("implement", "complete"), pair("pm", "complete"), pair("review", "complete"), pair("pm", "complete")]
    );
    assert_eq!(bench.job(&jid)["result"], "Done with implement (attempt 1).");
    assert!(bench.ok(&["logs", &jid]).contains("write hello.txt"));
}

#[test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
fn four_runners_share_a_postgres_queue_without_double_runs() {
    let (bench, _db) = postgres_bench();
    bench.config(&format!(
        "isolation = \"none\"\n{}[harness.pmquiet]\nformat = \"text\"\ncommand = [\"sh\", \"-c\", \"cat > /dev/null; echo $BATON_JOB_ID pm >> {}\"]\n\
         [harness_defaults]\ndefault = \"quick\"\npm = \"pmquiet\"\n",
        quick_harness(&bench),
        bench.path("executions").display()
    ));
    let (assignments, per_assignment) = (40, 4);
    for i in 0..assignments {
        let a = bench.json(&["create", &format!("Share {i}"), "--first", "implement"]);
        for _ in 1..per_assignment {
            bench.ok(&["insert-job", a["id"].as_str().unwrap(), "--type", "review"]);
        }
    }
    let mut runners: Vec<_> = (0..4).map(|_| bench.spawn_runner_until_idle(&["--concurrency", "2"])).collect();
    for runner in &mut runners {
        assert!(runner.wait().unwrap().success());
    }
    let jobs = bench.json(&["jobs"]).as_array().unwrap().clone();
    assert_eq!(jobs.len(), 2 * assignments * per_assignment);
    let counts = executions(&bench);
    let mut spans: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for job in &jobs {
        let id = job["id"].as_str().unwrap();
        assert_eq!(counts.get(id), Some(&1), "job {id} ran {:?} times", counts.get(id));
        assert_eq!(job["status"], "complete");
        for a in job["attempt_history"].as_array().unwrap() {
            let span = (ms(a["started_at"].as_str().unwrap()), ms(a["finished_at"].as_str().unwrap()));
            spans.entry(job["assignment_id"].as_str().unwrap().to_string()).or_default().push(span);
        }
    }
    for (aid, mut s) in spans {
        s.sort();
        assert!(s.windows(2).all(|w| w[0].1 <= w[1].0), "two jobs of {aid} overlapped: {s:?}");
    }
}

#[test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
fn runners_ride_out_a_database_restart() {
    let server = PrivateServer::start();
    let mut bench = Bench::new();
    bench.database_url = Some(server.url());
    bench.config(&format!(
        "isolation = \"none\"\nlease_ms = 2000\n{}[harness_defaults]\ndefault = \"quick\"\n",
        quick_harness(&bench)
    ));
    let assignments = 30;
    for i in 0..assignments {
        bench.ok(&["create", &format!("Restart {i}"), "--first", "implement"]);
    }
    let mut runners: Vec<_> = (0..2).map(|_| bench.spawn_runner_until_idle(&["--concurrency", "2"])).collect();
    bench.wait_for("some progress before the restart", || executed(&bench) >= 10);
    // Agents are in the middle of their jobs while the database restarts.
    hold(&bench);
    bench.wait_for("an agent in the middle of its job", || held(&bench) >= 1);
    server.pg_ctl("stop");
    server.pg_ctl("start");
    release(&bench);
    for runner in &mut runners {
        assert!(runner.wait().unwrap().success(), "runners resume by themselves and finish");
    }
    let counts = executions(&bench);
    for job in bench.json(&["jobs"]).as_array().unwrap() {
        let id = job["id"].as_str().unwrap();
        assert_eq!(job["status"], "complete", "{job}");
        let lost = job["lost_attempts"].as_u64().unwrap() as usize;
        let ran = counts.get(id).copied().unwrap_or(0);
        assert!(ran >= 1 || (job["type"] == "pm" && lost > 0), "job {id} never ran: {job}");
        assert!(ran <= 1 + lost, "job {id} ran {ran} times with {lost} lost attempts");
    }
    assert_eq!(bench.json(&["jobs"]).as_array().unwrap().len(), 2 * assignments);
}

#[test]
#[ignore = "needs PostgreSQL (BATON_TEST_POSTGRES_URL)"]
fn several_runners_fire_each_slot_once_on_postgres() {
    let (bench, _db) = postgres_bench();
    crate::schedules::slots_fire_once_across_runners(&bench);
}
