//! The `baton` binary: parses the command line, runs the command on a single-threaded runtime and
//! turns the outcome into an exit code.
//!
//! Inside a job (`BATON_AGENT_SOCKET` set) the command is sent to the attempt's runner, which
//! runs it as the job and answers with its output and exit code (see `agent_socket`).
//!
//! Exit codes: 0 on success (and when stdout's reader went away), 1 for every error (one line on
//! stderr: `error: …`), 2 for usage errors (clap's message). With `--json` either error is one
//! JSON object on stderr instead (see [`report`]).

mod agent_socket;
mod cli;
mod commands;
mod context;
mod context_file;
mod error;
mod job_calls;
mod mcp;
mod output;
mod report;
mod watch;

use clap::Parser;
use error::CliError;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The per-job lifeline supervisor and its host are this same binary; they must start fast
    // and parse nothing.
    // `args_os`, not `args`: an argument that is not UTF-8 is clap's usage error (exit 2), where
    // `std::env::args` would panic.
    let args: Vec<OsString> = std::env::args_os().collect();
    match args.get(1).and_then(|a| a.to_str()) {
        Some(baton_runner::lifeline::SUBCOMMAND) => return lifeline(&args[2..]),
        // The runner's supervisor host, which forks the supervisors instead (see its module).
        Some(baton_runner::lifeline::host::SUBCOMMAND) => {
            return ExitCode::from(baton_runner::lifeline::host::main().clamp(0, 255) as u8)
        }
        _ => {}
    }
    // Inside a job the agent has no database: its runner runs the command as the job. `baton
    // mcp` is the agent's own tool server: it stays here and sends each tool call instead.
    if let Some(socket) = agent_socket::socket().filter(|_| !mcp::is_mcp_command(&args)) {
        return agent_socket::forward(std::path::Path::new(&socket), &args[1..]);
    }
    let json = report::wants_json(&args);
    install_panic_hook(json);
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // Help and version are not errors, and usage errors without --json keep clap's form.
        Err(err) if !json || !err.use_stderr() => err.exit(),
        Err(err) => {
            report::usage_error_json(&err.render().to_string());
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) | Err(CliError::BrokenPipe) => ExitCode::SUCCESS,
        Err(CliError::Reported) => ExitCode::FAILURE,
        Err(err) => {
            report::failure(&err.to_string(), json);
            ExitCode::FAILURE
        }
    }
}

/// The per-job supervisor: the runner hands it the agent's command line, always UTF-8.
fn lifeline(rest: &[OsString]) -> ExitCode {
    let Some(rest) = rest.iter().map(|a| a.to_str().map(str::to_string)).collect::<Option<Vec<String>>>() else {
        let _ = writeln!(std::io::stderr().lock(), "error: the agent's command line is not UTF-8");
        return ExitCode::from(2);
    };
    ExitCode::from(baton_runner::lifeline::main(&rest).clamp(0, 255) as u8)
}

fn run(cli: cli::Cli) -> error::CliResult {
    // One thread: a CLI command is one query; a multi-threaded runtime would only cost start-up.
    // The runner supervises several agents at once and gets worker threads.
    let runtime = match cli.command {
        cli::Command::Run(_) | cli::Command::Serve(_) => {
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
        }
        _ => tokio::runtime::Builder::new_current_thread().enable_all().build(),
    }
    .map_err(|e| baton_core::Error::io("starting the async runtime", e))?;
    runtime.block_on(commands::dispatch(cli))
}

/// A panic is a bug, but the person still gets one `error:` line and exit 1, not a backtrace
/// dump — or, with `--json`, the one JSON error object a script expects.
fn install_panic_hook(json: bool) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let _ = writeln!(std::io::stderr().lock(), "{}", panic_report(&payload, &location, json));
        // On the main thread the command is over. In a runner's worker thread the panic ends only
        // that job's task: its agent's process group goes with it and its lease expires, while the
        // runner goes on serving the other jobs.
        if std::thread::current().name() == Some("main") {
            std::process::exit(1);
        }
    }));
}

/// The line a panic prints: the `error:` line, or the `--json` error object.
fn panic_report(payload: &str, location: &str, json: bool) -> String {
    let message =
        format!("internal error (a bug in baton, please report it): {}{location}", payload.replace('\n', " "));
    if json {
        report::failure_json(&message)
    } else {
        format!("error: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_one_line_or_under_json_one_error_object() {
        let text = panic_report("index out of bounds\nthe len is 0", " at src/x.rs:3", false);
        assert_eq!(
            text,
            "error: internal error (a bug in baton, please report it): index out of bounds the len is 0 at src/x.rs:3"
        );
        let json: serde_json::Value = serde_json::from_str(&panic_report("boom", "", true)).unwrap();
        assert_eq!(json["code"], 1);
        assert_eq!(json["error"], "internal error (a bug in baton, please report it): boom");
    }
}
