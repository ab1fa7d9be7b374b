//! baton-store: the backends behind [`baton_core::Store`], chosen by the database URL.
//!
//! - `sqlite://PATH` (or a plain path): [`sqlite::SqliteStore`], the embedded default.
//! - `postgres://…` (or `postgresql://…`): [`postgres::PostgresStore`], shared by runners on
//!   several machines.

pub mod postgres;
mod prompt;
pub mod sqlite;
pub mod wake;

use baton_core::{Error, Result, Store};
use std::path::PathBuf;
use std::sync::Arc;

/// Opens the store a database URL names, creating and migrating it when needed.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let store = sqlite::SqliteStore::open(PathBuf::from(path)).await?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PostgresStore::connect(url).await?));
    }
    if url.contains("://") {
        return Err(Error::UnsupportedUrl { url: baton_core::config::redact_url(url) });
    }
    Ok(Arc::new(sqlite::SqliteStore::open(PathBuf::from(url)).await?))
}
