//! The transaction handle every store operation uses: on a pooled connection, or on the
//! connection the store opened first.
//!
//! Connecting is the dearest part of a CLI call on PostgreSQL (a server process forked, the
//! authentication exchange). The store's first connection, opened directly to report a refusal
//! at once and used for the schema check, is therefore kept — the "first" connection — and the
//! next transaction runs on it instead of making the pool open a second one. A one-command CLI
//! call thus opens exactly one connection; a runner uses it beside its pool.
//!
//! A transaction on the first connection that is neither committed nor rolled back (an error,
//! a cancelled future) drops the connection instead of returning it: the server then rolls the
//! transaction back, and the next transaction gets a connection from the pool.

use sqlx::postgres::{PgConnection, Postgres};
use sqlx::{Executor, Transaction};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

/// Where the first connection waits between transactions.
pub(crate) type First = Arc<Mutex<Option<PgConnection>>>;

/// A transaction in progress.
pub(crate) enum Tx {
    Pooled(Transaction<'static, Postgres>),
    First { conn: PgConnection, home: First },
}

impl Tx {
    /// Begins a transaction with `begin` (`BEGIN` or `BEGIN ISOLATION LEVEL …`) on the first
    /// connection when it is free, else on one from `pool`.
    pub(crate) async fn begin(first: &First, pool: &sqlx::PgPool, begin: &'static str) -> sqlx::Result<Tx> {
        let spare = first.lock().ok().and_then(|mut slot| slot.take());
        if let Some(mut conn) = spare {
            // A failed BEGIN drops the connection: it is most likely broken.
            conn.execute(begin).await?;
            return Ok(Tx::First { conn, home: first.clone() });
        }
        let tx = if begin == "BEGIN" { pool.begin().await? } else { pool.begin_with(begin).await? };
        Ok(Tx::Pooled(tx))
    }

    /// Commits; the first connection goes back to wait for the next transaction.
    pub(crate) async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Pooled(tx) => tx.commit().await,
            Tx::First { mut conn, home } => {
                conn.execute("COMMIT").await?;
                if let Ok(mut slot) = home.lock() {
                    *slot = Some(conn);
                }
                Ok(())
            }
        }
    }
}

impl Deref for Tx {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Tx::Pooled(tx) => tx,
            Tx::First { conn, .. } => conn,
        }
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Tx::Pooled(tx) => tx,
            Tx::First { conn, .. } => conn,
        }
    }
}
