//! baton-store: the backends behind [`baton_core::Store`], chosen by the database URL.
//!
//! - `sqlite://PATH` (or a plain path): [`sqlite::SqliteStore`], the embedded default.
//! - `postgres://…` (or `postgresql://…`): [`postgres::PostgresStore`], shared by runners on
//!   several machines.

pub mod postgres;
pub mod prompt;
pub mod sqlite;
pub mod wake;

use baton_core::time::SystemClock;
use baton_core::{Error, Result, Store};
pub use sqlite::Threading;
use std::path::PathBuf;
use std::sync::Arc;

/// Opens the store `config` names. Only the default location (under the user's data folder) has
/// its folder created; an explicit path whose folder is missing is refused.
pub async fn open_config(config: &baton_core::Config) -> Result<Arc<dyn Store>> {
    open_config_with(config, Threading::Pool).await
}

/// [`open_config`], with an SQLite store's calls run where `threading` says (PostgreSQL's client
/// is asynchronous and ignores it).
pub async fn open_config_with(config: &baton_core::Config, threading: Threading) -> Result<Arc<dyn Store>> {
    if config.database_default {
        if let Some(dir) = config.database_url.strip_prefix("sqlite://").and_then(|p| std::path::Path::new(p).parent())
        {
            std::fs::create_dir_all(dir).map_err(|e| Error::DatabaseOpen {
                location: config.database_display(),
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
    }
    open_with(&config.database_url, threading).await
}

/// Opens the store a database URL names, creating and migrating it when needed.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, Threading::Pool).await
}

/// [`open`], with an SQLite store's calls run where `threading` says.
pub async fn open_with(url: &str, threading: Threading) -> Result<Arc<dyn Store>> {
    let sqlite = |path: &str| sqlite::SqliteStore::open_with(PathBuf::from(path), Arc::new(SystemClock), threading);
    if let Some(path) = url.strip_prefix("sqlite://") {
        return Ok(Arc::new(sqlite(path).await?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PostgresStore::connect(url).await?));
    }
    if url.contains("://") {
        return Err(Error::UnsupportedUrl { url: baton_core::config::redact_url(url) });
    }
    Ok(Arc::new(sqlite(url).await?))
}
