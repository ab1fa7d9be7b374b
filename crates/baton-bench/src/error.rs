//! Errors: a message that says what the bench was doing. A failed measurement ends the run.

use std::fmt::Display;

pub type Result<T> = std::result::Result<T, String>;

/// Adds what the bench was doing to an error.
pub trait Ctx<T> {
    fn ctx(self, what: impl Display) -> Result<T>;
}

impl<T, E: Display> Ctx<T> for std::result::Result<T, E> {
    fn ctx(self, what: impl Display) -> Result<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}
