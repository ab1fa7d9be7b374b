//! baton-server: watching and steering a namespace from outside the CLI.
//!
//! - [`serve`]: the HTTP server of `baton serve` — a JSON API mirroring the CLI, server-sent
//!   events for namespace changes and live transcripts, and the dashboard, all in one binary. It
//!   is a library function taking a listener and a shutdown future, so tests run it in-process.
//! - [`serve_metrics`]: `GET /metrics` alone, for `baton run --metrics` (a runner with no dashboard).
//! - [`check_bind`]: the rule that keeps the API (a remote-code-execution surface: the jobs it
//!   queues run agents with shell rights) off the network unless a token guards it.
//! - [`dashboard_url`]: the address `baton serve` prints (with `?token=…` when there is one).
//!
//! The endpoints are documented in `API.md` beside this crate's `Cargo.toml`.

mod api;
mod dashboard;
mod hub;
mod metrics;
mod security;
mod server;
mod state;

pub use metrics::render as render_metrics;
pub use security::{check_bind, dashboard_url, MIN_TOKEN_LEN};
pub use server::{serve, serve_metrics, HEADER_TIMEOUT};
pub use state::AppState;
