//! Everything a command writes to stdout goes through [`Output`], so that:
//! - `--json` prints exactly one JSON value (serialized from the model with serde);
//! - a closed pipe (`baton jobs | head -1`) ends the command quietly instead of panicking like
//!   `println!` would: the write error becomes [`CliError::BrokenPipe`], which exits 0;
//! - human output is built as one string and written at once (one syscall, no torn tables);
//! - text is cut to fit only on a terminal: a pipe (a PM agent's shell tool, a script) gets every
//!   value whole, because a reader there cannot widen the window to see the rest;
//! - `baton mcp` can run a command with its output captured ([`Output::captured`]) and hand the
//!   very bytes `--json` would print to the MCP client.

pub mod disk;
pub mod format;
pub mod style;
pub mod table;
pub mod views;

use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use style::Style;

/// Width used on a terminal whose size cannot be read and without `COLUMNS`.
pub const DEFAULT_WIDTH: usize = 100;

/// The width that never cuts or wraps: off a terminal, and with `--wide`.
pub const UNLIMITED: usize = usize::MAX;

/// How this invocation prints.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: bool,
    pub style: Style,
    /// Columns available for tables and wrapped text; [`UNLIMITED`] when nothing may be cut.
    pub width: usize,
    /// Indented JSON for a person at a terminal; compact for pipes and agents (fewer tokens).
    pretty_json: bool,
    /// Where the output goes instead of stdout, when captured.
    capture: Option<Capture>,
}

/// What a captured command printed.
pub type Capture = Arc<Mutex<Vec<u8>>>;

impl Output {
    pub fn new(global: &GlobalArgs) -> Output {
        let tty = std::io::stdout().is_terminal();
        let width = if tty && !global.wide { terminal_width() } else { UNLIMITED };
        Output { json: global.json, style: Style::detect(global.color), width, pretty_json: tty, capture: None }
    }

    /// Output for a command run on an MCP client's behalf: compact JSON when `json`, no colour,
    /// nothing cut, every byte kept in the returned buffer instead of reaching stdout (which
    /// carries the protocol).
    pub fn captured(json: bool) -> (Output, Capture) {
        let capture = Capture::default();
        let out = Output {
            json,
            style: Style::detect(crate::cli::ColorChoice::Never),
            width: UNLIMITED,
            pretty_json: false,
            capture: Some(capture.clone()),
        };
        (out, capture)
    }

    /// Output for a job's command its runner runs in process, as a spawned `baton` writing to a
    /// pipe would print it (nothing cut, compact JSON, colour only when asked for): every byte
    /// kept in the returned buffer.
    pub fn for_job_call(global: &GlobalArgs) -> (Output, Capture) {
        let (mut out, capture) = Output::captured(global.json);
        if global.color == crate::cli::ColorChoice::Always {
            out.style = Style::detect(crate::cli::ColorChoice::Always);
        }
        (out, capture)
    }

    /// Prints one JSON value and a newline.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> CliResult {
        let mut bytes = if self.pretty_json { serde_json::to_vec_pretty(value) } else { serde_json::to_vec(value) }
            .map_err(|e| baton_core::Error::io("encoding the JSON output", std::io::Error::other(e)))?;
        bytes.push(b'\n');
        self.write(&bytes)
    }

    /// Prints text for people as is (the caller ends lines with `\n`).
    pub fn text(&self, text: &str) -> CliResult {
        self.write(text.as_bytes())
    }

    /// Writes bytes as they are: to stdout, or to the capture.
    pub fn write(&self, bytes: &[u8]) -> CliResult {
        match &self.capture {
            Some(capture) => {
                // A poisoned lock only means another writer panicked; the bytes are still ours.
                capture.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(bytes);
                Ok(())
            }
            None => write_stdout(bytes),
        }
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

/// On a terminal: `COLUMNS` when set (a person's choice), else the terminal's width, else 100.
/// Off a terminal `COLUMNS` is ignored: shells export it to their children, and an agent's tool
/// that inherited it would read cut values again.
fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|c| *c > 0) {
        return cols;
    }
    tty_columns().unwrap_or(DEFAULT_WIDTH)
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
