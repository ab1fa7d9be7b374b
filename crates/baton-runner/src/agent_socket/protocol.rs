//! The wire format between a `baton` command run inside a job and its attempt's runner.
//!
//! A request is one line of JSON ([`Request`]) followed by exactly `stdin_len` bytes: the
//! standard input the command needs (a `--context-file`), read by the client, so the runner never
//! opens a file on the agent's behalf. The answer is a sequence of frames — one tag byte, a
//! big-endian `u32` length, the payload — carrying the command's stdout and stderr as they come
//! and, last, its exit code. Both sides are blocking `std::io` here: the client is a short-lived
//! command that must start in milliseconds without an async runtime; the runner wraps these in
//! its own tasks.

use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Read, Write};

/// The environment variable naming the attempt's socket.
pub const SOCKET_VAR: &str = "BATON_AGENT_SOCKET";
/// The environment variable carrying the attempt's secret.
pub const TOKEN_VAR: &str = "BATON_JOB_TOKEN";
/// The largest request line accepted: argv can hold a `--context` of up to 1 MiB, escaped.
pub const MAX_HEADER_BYTES: usize = 8 * 1024 * 1024;
/// The largest standard input forwarded (a `--context-file` is refused past 1 MiB anyway).
pub const MAX_STDIN_BYTES: u64 = 2 * 1024 * 1024;

/// Frame tags.
pub const STDOUT: u8 = b'o';
pub const STDERR: u8 = b'e';
pub const EXIT: u8 = b'x';

/// What a `baton` command inside a job asks its runner to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The attempt's secret (`BATON_JOB_TOKEN`).
    pub token: String,
    /// The command's arguments, without the program name.
    pub argv: Vec<String>,
    /// Where the command was typed; the runner runs it there when that is inside the attempt's
    /// folder.
    pub cwd: String,
    /// The few presentation variables that shape output (`COLUMNS`, `NO_COLOR`).
    pub env: Vec<(String, String)>,
    /// How many bytes of standard input follow the request line.
    pub stdin_len: u64,
}

/// Writes `request` and its standard input.
pub fn write_request(out: &mut impl Write, request: &Request, stdin: &[u8]) -> io::Result<()> {
    let mut line = serde_json::to_vec(request).map_err(io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.write_all(stdin)?;
    out.flush()
}

/// Reads a request and its standard input; a malformed or oversized one is an error.
pub fn read_request(input: &mut impl BufRead) -> io::Result<(Request, Vec<u8>)> {
    let mut line = Vec::new();
    input.take(MAX_HEADER_BYTES as u64 + 1).read_until(b'\n', &mut line)?;
    if line.len() > MAX_HEADER_BYTES || line.last() != Some(&b'\n') {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "the request line is missing or too long"));
    }
    let request: Request = serde_json::from_slice(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if request.stdin_len > MAX_STDIN_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "the standard input is too large"));
    }
    let mut stdin = Vec::with_capacity(request.stdin_len as usize);
    input.take(request.stdin_len).read_to_end(&mut stdin)?;
    if stdin.len() as u64 != request.stdin_len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the standard input ended early"));
    }
    Ok((request, stdin))
}

/// Encodes one frame.
pub fn frame(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 5);
    out.push(tag);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The exit frame.
pub fn exit_frame(code: i32) -> Vec<u8> {
    frame(EXIT, &code.to_be_bytes())
}

/// Reads the next frame; `None` at a clean end of the stream.
pub fn read_frame(input: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match input.read_exact(&mut head[..1]) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    input.read_exact(&mut head[1..])?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut payload = vec![0u8; len];
    input.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_and_its_input_round_trip() {
        let request = Request {
            token: "t".into(),
            argv: vec!["insert-job".into(), "--context-file".into(), "-".into()],
            cwd: "/w".into(),
            env: vec![("COLUMNS".into(), "80".into())],
            stdin_len: 5,
        };
        let mut wire = Vec::new();
        write_request(&mut wire, &request, b"hello").unwrap();
        let (back, stdin) = read_request(&mut io::Cursor::new(wire)).unwrap();
        assert_eq!((back, stdin), (request, b"hello".to_vec()));
    }

    #[test]
    fn short_input_is_refused() {
        let request = Request { token: "t".into(), argv: vec![], cwd: "/".into(), env: vec![], stdin_len: 9 };
        let mut wire = Vec::new();
        write_request(&mut wire, &request, b"abc").unwrap();
        assert!(read_request(&mut io::Cursor::new(wire)).is_err());
        assert!(read_request(&mut io::Cursor::new(b"no newline".to_vec())).is_err());
    }

    #[test]
    fn frames_round_trip() {
        let mut wire = frame(STDOUT, b"out");
        wire.extend(exit_frame(3));
        let mut r = io::Cursor::new(wire);
        assert_eq!(read_frame(&mut r).unwrap(), Some((STDOUT, b"out".to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), Some((EXIT, 3i32.to_be_bytes().to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }
}
