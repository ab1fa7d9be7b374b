//! Running one tool call's command line exactly as the CLI would, and keeping what it printed.
//!
//! Outside a job the command runs here, through the same dispatch as `baton …` with its output
//! captured; the actor comes from the environment as for any command (`BATON_JOB_ID` and
//! `BATON_JOB_TOKEN` make it that job). Inside a sandboxed job (`BATON_AGENT_SOCKET` set) it is
//! sent to the attempt's runner like any `baton` the agent types, which applies the job's policy
//! and runs it as the job. Either way a failure is the JSON object `--json` prints on stderr.

use crate::cli::Cli;
use crate::error::CliError;
use crate::output::Output;
use crate::{agent_socket, commands, report};
use clap::Parser;
use std::path::PathBuf;

/// What a command answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub ok: bool,
    /// On success what `--json` printed on stdout; on failure the error object.
    pub text: String,
}

impl Reply {
    fn failed(message: &str) -> Reply {
        Reply { ok: false, text: report::failure_json(message) }
    }
}

/// Runs `baton ARGV` (without the program name).
pub async fn run(argv: Vec<String>) -> Reply {
    match agent_socket::socket() {
        Some(socket) => through_socket(PathBuf::from(socket), argv).await,
        None => here(argv).await,
    }
}

/// In this process, on a thread of its own with a runtime of its own: a command is written for
/// one current-thread runtime (as `baton` runs it), and a panic in it ends only this call.
async fn here(argv: Vec<String>) -> Reply {
    let (done, answer) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new().name("mcp-call".into()).spawn(move || {
        let _ = done.send(run_here(argv));
    });
    if let Err(e) = spawned {
        return Reply::failed(&format!("cannot start a thread for the call: {e}"));
    }
    answer
        .await
        .unwrap_or_else(|_| Reply::failed("internal error (a bug in baton, please report it): the call panicked"))
}

fn run_here(argv: Vec<String>) -> Reply {
    let cli = match Cli::try_parse_from(std::iter::once("baton".to_string()).chain(argv)) {
        Ok(cli) => cli,
        Err(err) => return Reply { ok: false, text: report::usage_error_json_text(&err.render().to_string()) },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return Reply::failed(&format!("starting the async runtime: {e}")),
    };
    let (out, capture) = Output::captured(cli.global.json);
    let result = runtime.block_on(commands::dispatch_to(cli, out));
    let printed = std::mem::take(&mut *capture.lock().unwrap_or_else(|p| p.into_inner()));
    match result {
        Ok(()) | Err(CliError::BrokenPipe) => Reply { ok: true, text: String::from_utf8_lossy(&printed).into_owned() },
        Err(err) => Reply::failed(&err.to_string()),
    }
}

/// Through the job's runner, which checks and runs it as the job.
async fn through_socket(socket: PathBuf, argv: Vec<String>) -> Reply {
    let exchanged = tokio::task::spawn_blocking(move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        agent_socket::exchange(&socket, argv, &mut out, &mut err).map(|code| (code, out, err))
    })
    .await;
    match exchanged {
        Ok(Ok((0, out, _))) => Reply { ok: true, text: String::from_utf8_lossy(&out).into_owned() },
        Ok(Ok((_, _, err))) => {
            let err = String::from_utf8_lossy(&err);
            // The command's own failure is already the JSON object (its last line; warnings may
            // come first); a refusal by the runner's policy is an `error: …` line, made into the
            // same object.
            let object =
                err.lines().rev().find(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object()));
            match object {
                Some(line) => Reply { ok: false, text: line.to_string() },
                None => {
                    let err = err.trim();
                    Reply::failed(err.strip_prefix("error: ").unwrap_or(err))
                }
            }
        }
        Ok(Err(message)) => Reply::failed(&message),
        Err(e) => Reply::failed(&format!("internal error (a bug in baton, please report it): {e}")),
    }
}
