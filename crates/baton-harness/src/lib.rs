//! Harness knowledge for baton: how to invoke each agent CLI headless and
//! how to read what it prints.
//!
//! Pure and synchronous: no process spawning, no I/O. The runner spawns the
//! child (stdin = prompt, then closed), pushes stdout chunks through a
//! [`LineSplitter`], feeds each [`Line`] to a [`StreamParser`] (getting
//! [`Event`]s to store and show), and at exit calls
//! [`StreamParser::finish`] to get the [`Outcome`], whose [`FailureClass`]
//! says whether a retry makes sense.
//!
//! ```
//! use baton_harness::{ExitInfo, Format, LineSplitter, StreamParser, DEFAULT_MAX_LINE};
//!
//! let mut splitter = LineSplitter::new(DEFAULT_MAX_LINE);
//! let mut parser = StreamParser::new(Format::Text);
//! for line in splitter.push(b"hello\nwor") {
//!     parser.feed(&line);
//! }
//! if let Some(line) = splitter.finish() {
//!     parser.feed(&line);
//! }
//! let outcome = parser.finish(ExitInfo::code(0), "");
//! assert!(outcome.success);
//! assert_eq!(outcome.result.as_deref(), Some("hello\nwor"));
//! ```
//!
//! Formats (see the harness README for the protocols): `claude`
//! (Claude Code stream-json), `codex` (`codex exec --json`), `gemini`
//! (Gemini CLI stream-json) and `text` (any command; exit code decides).

pub mod command;
pub mod event;
pub mod format;
pub mod lines;
pub mod outcome;
pub mod parser;
pub mod render;
mod util;

pub use command::{build, CommandError, CommandSpec, Session};
pub use event::Event;
pub use format::{Format, ParseFormatError};
pub use lines::{Line, LineSplitter, DEFAULT_MAX_LINE};
pub use outcome::{ExitInfo, FailureClass, Outcome};
pub use parser::{RunningUsage, StreamParser};
pub use render::render;

#[cfg(test)]
mod tests {
    /// The runner moves parsers across tokio tasks.
    #[test]
    fn parser_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<crate::StreamParser>();
        assert_send_sync::<crate::LineSplitter>();
        assert_send_sync::<crate::Event>();
        assert_send_sync::<crate::Outcome>();
    }
}
