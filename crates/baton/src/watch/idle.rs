//! Which assignments sit idle: active, with no job pending or running, so nothing will happen
//! until a person inserts a job or completes it. The watch lists them under "needs you" beside
//! the blocked ones, as the queue summary names them (the engine's rule, `engine::idle`).

use super::snapshot::Snapshot;
use baton_core::Assignment;

/// What the view says of an idle assignment.
pub(crate) const IDLE_TEXT: &str = baton_core::engine::idle::IDLE_REASON;

/// Whether the queue summary lists `a` as idle.
pub(crate) fn is_idle(s: &Snapshot, a: &Assignment) -> bool {
    s.queue.idle.iter().any(|i| i.id == a.id)
}
