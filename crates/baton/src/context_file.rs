//! `--context-file PATH` and `--context-file -`: a job's context read from a file or standard
//! input, byte for byte. This is how a PM passes instructions shell-safely (a quoted heredoc,
//! `--context-file - <<'EOF'`), and how contexts larger than any argument list are given.

use crate::error::CliResult;
use baton_core::request::CONTEXT_LIMIT_BYTES;
use baton_core::Error;
use std::io::Read;
use std::path::Path;

/// The text of `--context-file` (`-` is standard input). Refused when unreadable, not UTF-8, or
/// over the context limit (read no further than that); the NUL-byte rule is the request's own.
pub fn read(path: &Path) -> CliResult<String> {
    read_with(path, None)
}

/// As [`read`], with `input` standing for standard input when given (a command a runner runs in
/// its own process gets the agent's input this way).
pub fn read_with(path: &Path, input: Option<&[u8]>) -> CliResult<String> {
    let from_stdin = path.as_os_str() == "-";
    let shown = if from_stdin { "standard input".to_string() } else { path.display().to_string() };
    let mut bytes = Vec::new();
    let limit = CONTEXT_LIMIT_BYTES as u64 + 1;
    let read = if from_stdin {
        match input {
            Some(input) => input.take(limit).read_to_end(&mut bytes),
            None => std::io::stdin().lock().take(limit).read_to_end(&mut bytes),
        }
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| Error::io(format!("cannot read --context-file {shown}"), e))?;
    if bytes.len() > CONTEXT_LIMIT_BYTES {
        return Err(Error::invalid(format!(
            "--context-file {shown} is over the limit of {CONTEXT_LIMIT_BYTES} bytes (1 MiB); put the detail in a \
             file in the repository and refer to it"
        ))
        .into());
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::invalid(format!(
            "--context-file {shown} is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
        .into()
    })
}

/// The context a command was given: `--context TEXT`, `--context-file`, or none; `input`
/// stands for standard input when given (see [`read_with`]).
pub fn resolve(text: Option<String>, file: Option<&Path>, input: Option<&[u8]>) -> CliResult<Option<String>> {
    match (text, file) {
        (_, Some(path)) => read_with(path, input).map(Some),
        (text, None) => Ok(text),
    }
}
