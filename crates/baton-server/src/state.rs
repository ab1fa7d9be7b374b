//! [`AppState`]: what `baton serve` is configured with, and the per-server context handlers share.

use crate::hub::Hub;
use baton_core::{Config, Store};
use std::net::SocketAddr;
use std::sync::Arc;

/// What the server needs to answer requests; built by the CLI's `serve` command.
#[derive(Clone)]
pub struct AppState {
    /// The backend every request reads and writes (scoped to [`AppState::namespace`]).
    pub store: Arc<dyn Store>,
    /// The resolved configuration: harness defaults, `max_attempts` and the job limit, applied to
    /// API mutations exactly as the CLI applies them.
    pub config: Arc<Config>,
    /// The namespace the server shows and changes; ids from other namespaces are "not found".
    pub namespace: String,
    /// The shared secret every API call and event stream must present (`Authorization: Bearer`,
    /// or the cookie the dashboard gets from `/?token=…`). Required off loopback.
    pub token: Option<String>,
    /// The address the listener is bound to. [`crate::serve`] replaces it with the listener's
    /// actual address, so port 0 works; `Host` and `Origin` are checked against it.
    pub bound: SocketAddr,
}

impl std::fmt::Debug for AppState {
    /// Never prints the token (or the config, which may hold a database password).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("namespace", &self.namespace)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

/// What every handler gets: the configured state and the change fan-out.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub app: Arc<AppState>,
    pub hub: Hub,
}

impl Ctx {
    pub fn store(&self) -> &dyn Store {
        self.app.store.as_ref()
    }

    pub fn ns(&self) -> &str {
        &self.app.namespace
    }
}
