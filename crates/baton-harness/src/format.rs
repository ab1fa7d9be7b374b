//! [`Format`]: which output protocol a harness speaks. It selects both the
//! default command line ([`crate::command`]) and the stdout parser
//! ([`crate::StreamParser`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The output protocol of a harness (config key `format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Claude Code `--output-format stream-json --verbose`.
    Claude,
    /// Codex CLI `exec --json`.
    Codex,
    /// Gemini CLI `--output-format stream-json`.
    Gemini,
    /// Any command; stdout is plain text, success is the exit code.
    Text,
}

impl Format {
    /// Every format, in the order shown to users.
    pub const ALL: [Format; 4] = [Format::Claude, Format::Codex, Format::Gemini, Format::Text];

    /// The config spelling (`"claude"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Claude => "claude",
            Format::Codex => "codex",
            Format::Gemini => "gemini",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error from parsing a [`Format`]; its message lists the valid values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown harness format `{given}`: expected one of claude, codex, gemini, text")]
pub struct ParseFormatError {
    /// What the user wrote.
    pub given: String,
}

impl FromStr for Format {
    type Err = ParseFormatError;

    fn from_str(s: &str) -> Result<Format, ParseFormatError> {
        // Case-insensitive: `Claude` in a config file is an obvious intent.
        let t = s.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseFormatError { given: s.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
        }
        assert_eq!(" Gemini ".parse::<Format>().unwrap(), Format::Gemini);
    }

    #[test]
    fn parse_error_lists_valid_values() {
        let e = "cursor".parse::<Format>().unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`cursor`"), "{msg}");
        for f in Format::ALL {
            assert!(msg.contains(f.as_str()), "{msg}");
        }
    }

    #[test]
    fn serde_is_lowercase() {
        assert_eq!(serde_json::to_string(&Format::Codex).unwrap(), "\"codex\"");
        let f: Format = serde_json::from_str("\"text\"").unwrap();
        assert_eq!(f, Format::Text);
        assert!(serde_json::from_str::<Format>("\"Text\"").is_err());
    }
}
