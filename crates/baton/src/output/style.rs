//! Colour: a handful of ANSI codes, applied only when the output options say so.
//!
//! Auto colour means stdout is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`;
//! `--color always|never` overrides all of that (https://no-color.org: a flag beats the variable).

use crate::cli::ColorChoice;
use baton_core::{AssignmentStatus, JobStatus};
use std::io::IsTerminal;

pub const BOLD: &str = "1";
pub const DIM: &str = "2";
pub const RED: &str = "31";
pub const GREEN: &str = "32";
pub const YELLOW_BOLD: &str = "1;33";
pub const BLUE: &str = "34";
pub const CYAN: &str = "36";

/// Whether to emit colour codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Decides from the flag, the environment and whether stdout is a terminal.
    pub fn detect(choice: ColorChoice) -> Style {
        let enabled = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && std::io::stdout().is_terminal()
            }
        };
        Style { enabled }
    }

    #[cfg(test)]
    pub fn plain() -> Style {
        Style { enabled: false }
    }

    /// Wraps `text` in the SGR `code` (e.g. [`RED`]) when colour is on.
    pub fn paint(&self, code: Option<&str>, text: &str) -> String {
        match code {
            Some(code) if self.enabled && !text.is_empty() => {
                format!("\x1b[{code}m{text}\x1b[0m")
            }
            _ => text.to_string(),
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(Some(BOLD), text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(Some(DIM), text)
    }
}

/// The colour of an assignment status word.
pub fn assignment_status_code(status: AssignmentStatus) -> &'static str {
    match status {
        AssignmentStatus::Active => BLUE,
        AssignmentStatus::Deferred => CYAN,
        AssignmentStatus::Complete => GREEN,
        AssignmentStatus::Blocked => YELLOW_BOLD,
        AssignmentStatus::Cancelled => RED,
    }
}

/// The colour of a job status word (`pending` stays plain: it is the normal waiting state).
pub fn job_status_code(status: JobStatus) -> Option<&'static str> {
    match status {
        JobStatus::Pending => None,
        JobStatus::Running => Some(CYAN),
        JobStatus::Complete => Some(GREEN),
        JobStatus::Failed | JobStatus::Cancelled => Some(RED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_only_when_enabled() {
        let on = Style { enabled: true };
        assert_eq!(on.paint(Some(RED), "failed"), "\x1b[31mfailed\x1b[0m");
        assert_eq!(Style::plain().paint(Some(RED), "failed"), "failed");
        assert_eq!(on.paint(None, "pending"), "pending");
    }
}
