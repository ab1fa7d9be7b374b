//! The idle assignments of a namespace for `baton queue` ([`baton_core::engine::idle`]): active
//! with no job pending, running or being stopped, the longest-idle first.

/// The idle assignments of namespace `$1`, the longest-idle first (`SELECT` and `ORDER BY`
/// around it pick columns and order). A job being stopped (cancelled, its lease still held) is
/// work in flight, not idleness: the ready rule's [`super::stopping::NONE_STOPPING`] applies.
pub fn idle_from() -> String {
    format!(
        "FROM assignments a WHERE namespace = $1 AND status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.assignment_id = a.id AND j.status IN ('pending', 'running')) \
         AND {}",
        super::stopping::NONE_STOPPING
    )
}
