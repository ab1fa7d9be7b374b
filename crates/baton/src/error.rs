//! How a command fails, and the one-line message a failure becomes ([`crate::report`] prints it,
//! as text or with `--json` as a JSON object).
//!
//! Usage errors never get here: they come from clap and exit 2. Everything else is either a
//! [`baton_core::Error`] (printed as `error: …`, exit 1; a refused request names the CLI's flags
//! instead of the request's fields) or a closed stdout pipe, which is not a
//! failure of baton and ends the process quietly (`baton jobs | head -1`).

use std::error::Error as StdError;
use std::fmt;

/// A command's failure.
#[derive(Debug)]
pub enum CliError {
    /// An error a person must see.
    Core(baton_core::Error),
    /// The reader of stdout went away: stop quietly, exit 0.
    BrokenPipe,
    /// The command printed its own verdict (`baton doctor`'s failed checks): exit 1 without
    /// another line.
    Reported,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl From<baton_core::Error> for CliError {
    fn from(err: baton_core::Error) -> Self {
        CliError::Core(err)
    }
}

impl From<baton_core::request::RequestError> for CliError {
    fn from(err: baton_core::request::RequestError) -> Self {
        CliError::Core(err.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Core(baton_core::Error::Request(refusal)) => {
                f.write_str(&refusal.describe(|field| crate::cli::field_name(field).into()))
            }
            CliError::Core(err) => f.write_str(&chain_message(err)),
            CliError::BrokenPipe => f.write_str("broken pipe"),
            CliError::Reported => f.write_str("see the report above"),
        }
    }
}

/// The error's `Display` followed by its causes, joined with `: `.
///
/// Many baton errors already print their cause inside their own message (`{what}: {source}`);
/// a cause whose text is already there is not repeated.
pub fn chain_message(err: &dyn StdError) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    // One line, whatever the causes contain.
    message.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_joined_once() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let err = baton_core::Error::io("writing /x", io);
        assert_eq!(chain_message(&err), "writing /x: denied");
    }

    #[test]
    fn causes_not_in_the_message_are_appended() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("opening the queue")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::other("disk full"));
        assert_eq!(chain_message(&err), "opening the queue: disk full");
    }
}
