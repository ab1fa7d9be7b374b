//! A deadline that may be unset, for `select!` loops: an unset timer never fires, where a
//! sentinel instant far in the future would merely fire late.

use tokio::time::{sleep_until, Instant};

/// A deadline, or none.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timer(Option<Instant>);

impl Timer {
    pub fn at(at: Instant) -> Timer {
        Timer(Some(at))
    }

    pub fn is_set(self) -> bool {
        self.0.is_some()
    }

    /// Resolves when the deadline is reached; never while unset.
    pub async fn due(self) {
        match self.0 {
            Some(at) => sleep_until(at).await,
            None => std::future::pending().await,
        }
    }
}
