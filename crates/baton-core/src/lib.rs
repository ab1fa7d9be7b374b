//! baton-core: the domain of baton, independent of any backend or process.
//!
//! - [`model`]: assignments, jobs, their statuses and the records attached to them.
//! - [`lifecycle`]: the one place where every state transition is defined, with who may make it.
//! - [`engine`]: what the engine decides when an attempt ends, a lease is lost or a claim is made,
//!   as pure functions returning plans that every backend applies.
//! - [`request`]: what callers ask the store for (new assignments, jobs, updates), with the
//!   rules each request must meet on its own.
//! - [`config`]: `.baton/config.toml`, the user config and `BATON_*` variables, resolved into [`Config`].
//! - [`store`]: the async [`Store`] interface that the SQLite and PostgreSQL backends implement.
//! - [`scope`]: what an agent may change from inside a job.
//! - [`prompt_dictionary`]: the text stored prompts are compressed against.
//! - [`error`]: the errors a person sees, each saying what to do next.

pub mod config;
pub mod engine;
pub mod error;
pub mod ids;
pub mod lifecycle;
pub mod metrics;
pub mod model;
pub mod prompt_dictionary;
pub mod request;
pub mod retry;
pub mod scope;
pub mod store;
pub mod time;

pub use config::Config;
pub use error::{Error, Result};
pub use model::*;
pub use store::Store;
