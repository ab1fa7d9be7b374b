//! Everything a command writes to stdout goes through [`Output`], so that:
//! - `--json` prints exactly one JSON value (serialized from the model with serde);
//! - a closed pipe (`baton jobs | head -1`) ends the command quietly instead of panicking like
//!   `println!` would: the write error becomes [`CliError::BrokenPipe`], which exits 0;
//! - human output is built as one string and written at once (one syscall, no torn tables).

pub mod format;
pub mod style;
pub mod table;
pub mod views;

use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use style::Style;

/// Width used when stdout is not a terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: usize = 100;

/// How this invocation prints.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: bool,
    pub style: Style,
    /// Columns available for tables.
    pub width: usize,
    /// Indented JSON for a person at a terminal; compact for pipes and agents (fewer tokens).
    pretty_json: bool,
}

impl Output {
    pub fn new(global: &GlobalArgs) -> Output {
        let tty = std::io::stdout().is_terminal();
        Output { json: global.json, style: Style::detect(global.color), width: terminal_width(tty), pretty_json: tty }
    }

    /// Prints one JSON value and a newline.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> CliResult {
        let mut bytes = if self.pretty_json { serde_json::to_vec_pretty(value) } else { serde_json::to_vec(value) }
            .map_err(|e| baton_core::Error::io("encoding the JSON output", std::io::Error::other(e)))?;
        bytes.push(b'\n');
        write_stdout(&bytes)
    }

    /// Prints text for people as is (the caller ends lines with `\n`).
    pub fn text(&self, text: &str) -> CliResult {
        write_stdout(text.as_bytes())
    }
}

/// Writes and flushes stdout; a closed pipe becomes [`CliError::BrokenPipe`].
pub fn write_stdout(bytes: &[u8]) -> CliResult {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::BrokenPipe,
        _ => CliError::Core(baton_core::Error::io("writing to stdout", e)),
    })
}

/// Prints a `warning: …` line on stderr (never fails: there is nowhere else to report to).
pub fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// `COLUMNS` when set (so scripts and tests can choose), else the terminal's width, else 100.
fn terminal_width(tty: bool) -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|c| *c > 0) {
        return cols;
    }
    if tty {
        if let Some(cols) = tty_columns() {
            return cols;
        }
    }
    DEFAULT_WIDTH
}

#[cfg(unix)]
fn tty_columns() -> Option<usize> {
    // SAFETY: TIOCGWINSZ only fills the winsize struct we own; a zeroed struct is valid input.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0).then_some(size.ws_col as usize)
}

#[cfg(not(unix))]
fn tty_columns() -> Option<usize> {
    None
}
