//! A `baton` command run inside a job: sent to the attempt's runner over its socket instead of
//! opening the database, which the agent cannot reach (see `baton_runner::agent_socket`).
//!
//! The command's arguments go as they are, except `--context-file PATH`: the file is read here,
//! with the agent's own rights, and sent as standard input (`--context-file -`), so the runner
//! never opens a path on the agent's behalf. The runner's answer — stdout, stderr, exit code —
//! is replayed as if the command had run here.

use baton_runner::agent_socket::protocol::{self, Request};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;

/// The socket to use, when this command runs inside a job.
pub fn socket() -> Option<OsString> {
    std::env::var_os(protocol::SOCKET_VAR).filter(|s| !s.is_empty())
}

/// Runs the command (`args` without the program name) through the runner at `socket`.
pub fn forward(socket: &Path, args: &[OsString]) -> ExitCode {
    match send(socket, args) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(message) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn send(socket: &Path, args: &[OsString]) -> Result<i32, String> {
    let Some(argv) = args.iter().map(|a| a.to_str().map(str::to_string)).collect::<Option<Vec<String>>>() else {
        return Err("an argument is not UTF-8 text; pass UTF-8 arguments".to_string());
    };
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    exchange(socket, argv, &mut out, &mut err)
}

/// Runs `baton ARGV` through the runner at `socket`, writing its stdout and stderr to `out` and
/// `err` as they arrive; returns its exit code. `baton mcp` inside a job calls this with buffers.
pub fn exchange(socket: &Path, mut argv: Vec<String>, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, String> {
    let stdin = context_input(&mut argv)?;
    let request = Request {
        token: std::env::var(protocol::TOKEN_VAR).unwrap_or_default(),
        argv,
        cwd: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
        env: ["COLUMNS", "NO_COLOR"].iter().filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))).collect(),
        stdin_len: stdin.len() as u64,
    };
    let unreachable = |e: std::io::Error| {
        format!(
            "cannot reach this job's runner at {} ({e}); the job's attempt has ended, or {} does not name a live \
             attempt's socket",
            socket.display(),
            protocol::SOCKET_VAR
        )
    };
    let mut stream = UnixStream::connect(socket).map_err(unreachable)?;
    protocol::write_request(&mut stream, &request, stdin.as_bytes()).map_err(unreachable)?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut broken_pipe = false;
    loop {
        match protocol::read_frame(&mut stream).map_err(unreachable)? {
            Some((protocol::STDOUT, bytes)) => {
                // A reader that went away is fine, as for any command: keep draining to the exit code.
                if !broken_pipe && (out.write_all(&bytes).and_then(|_| out.flush())).is_err() {
                    broken_pipe = true;
                }
            }
            Some((protocol::STDERR, bytes)) => {
                let _ = err.write_all(&bytes);
            }
            Some((protocol::EXIT, bytes)) => {
                let code = <[u8; 4]>::try_from(bytes.as_slice()).map(i32::from_be_bytes).unwrap_or(1);
                return Ok(code);
            }
            Some(_) => {}
            None => {
                return Err(format!(
                    "the runner at {} closed the connection before the command ended; the job's attempt may have ended",
                    socket.display()
                ))
            }
        }
    }
}

/// The standard input the command needs: what `--context-file` names, read here; its argument
/// becomes `-`. Nothing when there is no `--context-file`.
fn context_input(argv: &mut [String]) -> Result<String, String> {
    for i in 0..argv.len() {
        if argv[i] == "--" {
            break;
        }
        let path = if argv[i] == "--context-file" {
            match argv.get(i + 1) {
                Some(path) => {
                    let path = path.clone();
                    argv[i + 1] = "-".to_string();
                    path
                }
                None => return Ok(String::new()),
            }
        } else if let Some(path) = argv[i].strip_prefix("--context-file=") {
            let path = path.to_string();
            argv[i] = "--context-file=-".to_string();
            path
        } else {
            continue;
        };
        return crate::context_file::read(Path::new(&path)).map_err(|e| e.to_string());
    }
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_file_is_read_here_and_sent_as_input() {
        let dir = std::env::temp_dir().join(format!("baton-agent-socket-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ctx.md");
        std::fs::write(&file, "step $1 `as is`\n").unwrap();
        let mut argv: Vec<String> =
            ["insert-job", "a1", "--context-file", file.to_str().unwrap()].iter().map(|s| s.to_string()).collect();
        assert_eq!(context_input(&mut argv).unwrap(), "step $1 `as is`\n");
        assert_eq!(argv[3], "-");
        let mut argv = vec!["queue".to_string()];
        assert_eq!(context_input(&mut argv).unwrap(), "");
        let mut argv = vec!["insert-job".to_string(), format!("--context-file={}", dir.join("absent").display())];
        assert!(context_input(&mut argv).unwrap_err().contains("cannot read --context-file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
