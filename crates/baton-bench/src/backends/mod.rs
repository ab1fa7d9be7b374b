//! Section 6, backends: the same measurements on SQLite and on PostgreSQL, side by side in one
//! table `what | SQLite | PostgreSQL | floor(s) | target | verdict`:
//!
//! 1. CLI latency (spawn → exit, median / p90) of `queue`, `create` and `insert-job` on 200
//!    assignments with 2 jobs each, filled through the `Store` trait; floor: the database's own
//!    client running `select 1` (`sqlite3`, `psql`).
//! 2. Pickup latency (insert-job exit → harness process start, p50 / p99) with an idle runner,
//!    waiting for each job and its PM through `Store::is_idle`; floor: the bench spawning the
//!    stand-in itself.
//! 3. Throughput (jobs ended per second) of 1 and 4 `baton run --until-idle` processes started
//!    together, no-op harness + PM twin; floor: the no-op spawned from as many threads.
//! 4. In-process `claim_next` + `finish_attempt` pairs per second; floor: two one-`UPDATE` write
//!    transactions per pair on a scratch table (see [`floor`]).
//!
//! PostgreSQL comes from `BATON_TEST_POSTGRES_URL` (each measurement gets a fresh database,
//! dropped after it); without it the PostgreSQL column says "not configured".

mod floor;
mod measure;
mod server;
mod world;

use crate::error::Result;
use crate::report::{Bound, Row, Section, Verdict};
use crate::stats::{ms, Samples};
use crate::Options;
use std::time::Duration;
use tokio::runtime::Runtime;
use world::Engine;

const NOT_CONFIGURED: &str = "not configured";

/// How much each measurement does.
struct Counts {
    cli_runs: usize,
    pickups: usize,
    assignments: usize,
    claim_assignments: usize,
}

/// Everything measured on one backend.
struct Figures {
    cli: measure::Cli,
    pickup: Samples,
    /// (runners, result), for 1 and 4 runners.
    throughput: Vec<(usize, measure::Throughput)>,
    claims: (f64, usize),
    /// Time of the floor's write transactions (two per claim + finish pair).
    claims_floor: Duration,
}

const RUNNERS: [usize; 2] = [1, 4];

pub fn run(opts: &Options) -> Result<Section> {
    let counts = if opts.quick {
        Counts { cli_runs: 10, pickups: 20, assignments: 40, claim_assignments: 100 }
    } else {
        Counts { cli_runs: 30, pickups: 100, assignments: 200, claim_assignments: 500 }
    };
    let rt = world::runtime()?;
    // A private server measures both authentication modes; without one (no PostgreSQL
    // installed), BATON_TEST_POSTGRES_URL's server is measured over TCP alone.
    let private = server::start_for_bench();
    let postgres = match &private {
        Ok(server) => Some(server.tcp_url("postgres")),
        Err(_) => std::env::var("BATON_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()),
    };
    let mut engines = vec![Engine::Sqlite];
    engines.extend(postgres.map(|admin| Engine::Postgres { admin, socket: None }));
    let mut figures = Vec::new();
    for engine in &engines {
        figures.push(measure_all(opts, &rt, engine, &counts)?);
    }
    let auth = match &private {
        Ok(server) => Ok(auth_modes(opts, &rt, server, counts.cli_runs)?),
        Err(why) => Err(why.clone()),
    };
    // Floors that do not depend on the database: spawning the stand-in and the no-op.
    let w = Engine::Sqlite.world(opts, &rt, "floors")?;
    let pickup_floor = crate::pickup::floor(&opts.bench, &w.sb, counts.pickups)?;
    let noop = crate::agents::write_noop(&w.sb)?;
    let mut spawn_floors = Vec::new();
    for runners in RUNNERS {
        spawn_floors.push(crate::throughput::spawn_rate(&w.sb, &noop, (counts.assignments * 2).max(100), runners)?);
    }
    let mut section = table(&counts, &figures, &pickup_floor, &spawn_floors);
    match auth {
        Ok(rows) => {
            for row in rows {
                section.row(row);
            }
            section.note(
                "auth rows: a private PostgreSQL 15 server started by the bench (initdb, pg_ctl; Unix socket with \
                 trust, loopback TCP with SCRAM-SHA-256), `baton queue` on 200 assignments against the real \
                 `psql -X -c 'select 1'` (not Debian's Perl wrapper) over the same connection; the other PostgreSQL \
                 rows use the same server over TCP",
            );
        }
        Err(why) => section.note(format!("no private PostgreSQL server, so no rows per authentication mode: {why}")),
    }
    drop(private);
    Ok(section)
}

/// `baton queue` against `psql -X -c 'select 1'` over a Unix socket (trust) and over TCP
/// (SCRAM), on the private server.
fn auth_modes(opts: &Options, rt: &Runtime, server: &server::Server, runs: usize) -> Result<Vec<Row>> {
    let modes = [("Unix socket, trust", Some((server.port, server.socket_dir.clone()))), ("TCP, SCRAM-SHA-256", None)];
    let mut rows = Vec::new();
    for (label, socket) in modes {
        eprintln!("  PostgreSQL CLI over {label}, {runs} runs…");
        let engine = Engine::Postgres { admin: server.tcp_url("postgres"), socket };
        let w = engine.world(opts, rt, "auth")?;
        let floor = server.psql_floor(&w.sb.database_url());
        let cli = measure::cli(rt, &w, runs, &floor)?;
        let (queue, floor) = (cli.queue.median(), cli.floor.median());
        rows.push(
            Row::new(format!("baton queue on PostgreSQL, {label}"), "", ms(queue))
                .floor(ms(floor))
                .ratio_target(crate::stats::ratio(queue, floor), Bound::AtMost(AUTH_TARGET)),
        );
    }
    Ok(rows)
}

/// A CLI call on PostgreSQL against `psql` running `select 1` the same way.
const AUTH_TARGET: f64 = 1.2;
/// PostgreSQL's throughput against SQLite's.
const PG_THROUGHPUT_TARGET: f64 = 0.5;

fn measure_all(opts: &Options, rt: &Runtime, engine: &Engine, counts: &Counts) -> Result<Figures> {
    let name = engine.name();
    eprintln!("  {name}: CLI latency, {} runs…", counts.cli_runs);
    let w = engine.world(opts, rt, "cli")?;
    let floor = match engine {
        Engine::Sqlite => vec!["sqlite3".to_string(), w.sb.db.display().to_string(), "select 1".to_string()],
        Engine::Postgres { .. } => {
            ["psql", "-Atq", &w.sb.database_url(), "-c", "select 1"].map(str::to_string).to_vec()
        }
    };
    let cli = measure::cli(rt, &w, counts.cli_runs, &floor)?;
    drop(w);
    eprintln!("  {name}: pickup, {} jobs…", counts.pickups);
    let pickup = measure::pickup(rt, &engine.world(opts, rt, "pickup")?, opts, counts.pickups)?;
    let mut throughput = Vec::new();
    for runners in RUNNERS {
        eprintln!("  {name}: throughput, {} assignments, {runners} runner(s)…", counts.assignments);
        let w = engine.world(opts, rt, "throughput")?;
        throughput.push((runners, measure::throughput(rt, &w, counts.assignments, runners)?));
    }
    eprintln!("  {name}: claim + finish in process, {} assignments…", counts.claim_assignments);
    let w = engine.world(opts, rt, "claims")?;
    let claims = measure::claims(rt, &w, counts.claim_assignments)?;
    let txs = claims.1 * 2;
    let claims_floor = match (&w.pg, engine) {
        (Some(pg), _) => floor::postgres(rt, &pg.url, txs)?,
        _ => floor::sqlite(&w.sb.root.join("scratch.db"), txs)?,
    };
    Ok(Figures { cli, pickup, throughput, claims, claims_floor })
}

/// One cell per backend: SQLite, then PostgreSQL or "not configured".
fn cells(figures: &[Figures], cell: impl Fn(&Figures) -> String) -> (String, String) {
    let mut it = figures.iter().map(cell);
    let sqlite = it.next().unwrap_or_default();
    (sqlite, it.next().unwrap_or_else(|| NOT_CONFIGURED.to_string()))
}

/// `a / b` of two cells, or one cell when PostgreSQL is not configured.
fn both(figures: &[Figures], cell: impl Fn(&Figures) -> String) -> String {
    figures.iter().map(cell).collect::<Vec<_>>().join(" / ")
}

fn pair(s: &Samples, tail: f64) -> String {
    format!("{} / {}", ms(s.median()), ms(s.percentile(tail)))
}

fn table(counts: &Counts, figures: &[Figures], pickup_floor: &Samples, spawn_floors: &[f64]) -> Section {
    let mut section =
        Section::new("6. SQLite and PostgreSQL side by side", "SQLite", "PostgreSQL").floor_header("floor(s)");
    let cli_floor = both(figures, |f| ms(f.cli.floor.median()));
    type Pick = fn(&measure::Cli) -> &Samples;
    let commands: [(&str, Pick); 3] = [
        ("baton queue", |c| &c.queue),
        ("baton create \"…\"", |c| &c.create),
        ("baton insert-job <aid> --type implement", |c| &c.insert),
    ];
    for (what, pick) in commands {
        let (sqlite, pg) = cells(figures, |f| pair(pick(&f.cli), 90.0));
        let met = figures.first().is_some_and(|f| pick(&f.cli).median() <= Duration::from_millis(5));
        section.row(
            Row::new(format!("{what}, median / p90"), sqlite, pg)
                .floor(cli_floor.clone())
                .target("median ≤ 5 ms (SQLite)", Verdict::of(met)),
        );
    }
    let (sqlite, pg) = cells(figures, |f| pair(&f.pickup, 99.0));
    let limits = [Duration::from_millis(5), Duration::from_millis(10)];
    let met = figures.iter().zip(limits).all(|(f, limit)| f.pickup.median() <= limit);
    section.row(
        Row::new("pickup: insert-job exit → harness start, p50 / p99", sqlite, pg)
            .floor(ms(pickup_floor.median()))
            .target("p50 ≤ 5 ms SQLite, ≤ 10 ms PostgreSQL", Verdict::of(met)),
    );
    for (i, runners) in RUNNERS.iter().enumerate() {
        let (sqlite, pg) = cells(figures, |f| {
            let t = &f.throughput[i].1;
            format!("{:.0} jobs/s", t.rate)
        });
        let floor = spawn_floors.get(i).map_or(String::new(), |r| format!("{r:.0}/s"));
        let label = if *runners == 1 { "1 runner".to_string() } else { format!("{runners} runners") };
        let row = Row::new(format!("throughput: {label} (baton run --until-idle)"), sqlite, pg).floor(floor);
        let rates: Vec<f64> = figures.iter().map(|f| f.throughput[i].1.rate).collect();
        section.row(match rates[..] {
            [sqlite, pg] => row.ratio_target(pg / sqlite, Bound::AtLeast(PG_THROUGHPUT_TARGET)),
            _ => row,
        });
    }
    let (sqlite, pg) = cells(figures, |f| format!("{:.0}/s", f.claims.0));
    let floor = both(figures, |f| format!("{:.0}/s", f.claims.1 as f64 / f.claims_floor.as_secs_f64()));
    section.row(Row::new("claim_next + finish_attempt in process, pairs/s", sqlite, pg).floor(floor));

    let first = figures.first();
    section.note(format!(
        "CLI: {} runs each after one warm-up round, round-robin, on 200 assignments with 2 pending jobs each (filled \
         through the Store trait); floor(s) = `sqlite3 FILE \"select 1\"` / `psql URL -c \"select 1\"` (median)",
        counts.cli_runs
    ));
    section.note(format!(
        "pickup: {} jobs, each on a fresh assignment, {} ms settle before each insert; isolation = \"none\"; floor = the \
         bench spawning the stand-in itself; max {}",
        counts.pickups,
        crate::pickup::SETTLE.as_millis(),
        both(figures, |f| ms(f.pickup.max()))
    ));
    if let Some(f) = first {
        let ended: Vec<String> = f
            .throughput
            .iter()
            .map(|(r, t)| format!("{r}: {} jobs in {:.2} s", t.ended, t.took.as_secs_f64()))
            .collect();
        section.note(format!(
            "throughput: {} assignments with one job each, each runner `--concurrency 1`, all started together, clock from \
             the first spawn to the last exit; no-op harness + PM twin; floor = the no-op spawned from as many threads; \
             SQLite runs {}",
            counts.assignments,
            ended.join(", ")
        ));
    }
    section.note(format!(
        "claims: {} assignments with one job each, `claim_next` + `finish_attempt` in one process until nothing is \
         ready ({} pairs: each implement job and the PM job it queues); floor(s) = the time of two write transactions \
         of one `UPDATE` each per pair on a scratch table (SQLite: rusqlite `BEGIN IMMEDIATE`…`COMMIT`, WAL, \
         synchronous = NORMAL; PostgreSQL: sqlx `BEGIN`…`COMMIT` over loopback)",
        counts.claim_assignments,
        first.map_or(0, |f| f.claims.1)
    ));
    if figures.len() < 2 {
        section.note("PostgreSQL: not configured (set BATON_TEST_POSTGRES_URL, e.g. `eval \"$(.ci/start-postgres)\"`)");
    }
    section
}
