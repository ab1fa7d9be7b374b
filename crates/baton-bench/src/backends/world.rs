//! One measurement's world on either backend: a [`Sandbox`] whose processes use SQLite (its own
//! file) or a fresh PostgreSQL database (created for the measurement, dropped after it), and the
//! bench's own handle on the same store through `baton_store::open`.

use crate::error::{Ctx, Result};
use crate::sandbox::Sandbox;
use crate::Options;
use baton_core::Store;
use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::runtime::Runtime;

/// Which database the `baton` processes and the bench share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    /// `admin` is a role allowed to create databases (over TCP); with `socket` (the server's
    /// port and socket folder) the `baton` processes connect through the Unix socket instead.
    Postgres {
        admin: String,
        socket: Option<(u16, std::path::PathBuf)>,
    },
}

impl Engine {
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres { .. } => "PostgreSQL",
        }
    }

    /// A fresh world for one measurement, schema created (through `baton_store::open`).
    pub fn world(&self, opts: &Options, rt: &Runtime, namespace: &str) -> Result<World> {
        let sb = Sandbox::new(opts, namespace)?;
        let (sb, pg) = match self {
            Engine::Sqlite => (sb, None),
            Engine::Postgres { admin, socket } => {
                let db = PgDatabase::create(rt, admin, socket.as_ref())?;
                (sb.with_url(db.url.clone()), Some(db))
            }
        };
        let store =
            rt.block_on(baton_store::open(&sb.database_url())).map_err(|e| format!("opening the store: {e}"))?;
        Ok(World { sb, store, pg })
    }
}

/// A sandbox, the store it uses, and (on PostgreSQL) the database to drop afterwards.
pub struct World {
    pub sb: Sandbox,
    pub store: Arc<dyn Store>,
    /// Declared last: dropped after the store closed its connections.
    pub pg: Option<PgDatabase>,
}

/// A database created on the PostgreSQL server for one measurement; dropped with it.
pub struct PgDatabase {
    admin: String,
    name: String,
    /// The database's own URL.
    pub url: String,
}

static CREATED: AtomicUsize = AtomicUsize::new(0);

impl PgDatabase {
    fn create(rt: &Runtime, admin: &str, socket: Option<&(u16, std::path::PathBuf)>) -> Result<PgDatabase> {
        let n = CREATED.fetch_add(1, Ordering::Relaxed);
        let name = format!("baton_bench_{}_{}_{n}", std::process::id(), baton_core::time::now_ms());
        let base = admin.split('?').next().unwrap_or(admin);
        let (server, _) = base.rsplit_once('/').ok_or("BATON_TEST_POSTGRES_URL has no database part")?;
        rt.block_on(admin_sql(admin, &format!("CREATE DATABASE {name}")))?;
        let url = match socket {
            Some((port, dir)) => {
                format!("postgres://{}@localhost:{port}/{name}?host={}", user_of(server), dir.display())
            }
            None => format!("{server}/{name}"),
        };
        Ok(PgDatabase { admin: admin.to_string(), url, name })
    }
}

/// The user name of `postgres://USER[:PASSWORD]@HOST:PORT`.
fn user_of(server: &str) -> &str {
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    let credentials = rest.split_once('@').map_or("", |(credentials, _)| credentials);
    credentials.split(':').next().unwrap_or_default()
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let dropped = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(drop_database(&self.admin, &self.name)));
        if let Err(e) = dropped {
            eprintln!("baton-bench: could not drop database {}: {e}", self.name);
        }
    }
}

/// Drops the database. `WITH (FORCE)` ends the connections our own store's pool may still hold;
/// it fails when an autovacuum worker (another role) is in the database, which a plain
/// `DROP DATABASE` ends by itself, so that is tried next, a few times.
async fn drop_database(admin: &str, name: &str) -> Result<()> {
    let forced = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let plain = format!("DROP DATABASE IF EXISTS {name}");
    for _ in 0..10 {
        if admin_sql(admin, &forced).await.is_ok() || admin_sql(admin, &plain).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    admin_sql(admin, &forced).await
}

/// One statement on the admin database.
async fn admin_sql(admin: &str, sql: &str) -> Result<()> {
    let mut conn = sqlx::PgConnection::connect(admin).await.ctx("connecting to PostgreSQL as its admin role")?;
    conn.execute(sql).await.ctx(sql)?;
    conn.close().await.ctx("closing the admin connection")
}

/// A current-thread tokio runtime for the bench's own store calls.
pub fn runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().ctx("starting tokio")
}
