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

/// Opens the store `config` names. Only the default location (under the user's data folder) has
/// its folder created; an explicit path whose folder is missing is refused.
pub async fn open_config(config: &baton_core::Config) -> Result<Arc<dyn Store>> {
    if config.database_default {
        if let Some(dir) = config.database_url.strip_prefix("sqlite://").and_then(|p| std::path::Path::new(p).parent())
        {
            std::fs::create_dir_all(dir).map_err(|e| Error::DatabaseOpen {
                location: config.database_display(),
                message: format!("cannot create {}: {e}", dir.display()),
            })?;
        }
    }
    open(&config.database_url).await
}

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
