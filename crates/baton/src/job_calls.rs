//! The `baton` commands an agent types, run inside its runner's process: the executor `baton
//! run` hands the runner (see `baton_runner::agent_socket::in_process`).
//!
//! A PM's decision is one short command; spawning `baton` for it cost a process start, a
//! configuration load and a new database connection, more than the decision's own queries. Here
//! the command is parsed and run by the same code as `baton` itself, on the runner's store, with
//! the job's environment, folder and standard input, and answers with the bytes and the exit
//! code the spawned command would have produced: clap's usage errors (exit 2), `error: …` or
//! the `--json` error object (exit 1), the command's output otherwise.
//!
//! Only the queue's own commands run here, and only those that end by themselves: `logs
//! --follow` (it streams until the job ends) is spawned as before, and so are `diff`, `help`,
//! `templates` and `completions`.

use crate::cli::Cli;
use crate::context::Context;
use crate::error::CliError;
use crate::output::Output;
use crate::{commands, report};
use baton_runner::agent_socket::in_process::{Call, Executor, Reply};
use baton_runner::agent_socket::policy;
use clap::Parser;

/// The commands that run in the runner's process.
const HERE: &[&str] = &[
    "queue",
    "assignments",
    "assignment",
    "jobs",
    "job",
    "logs",
    "insert-job",
    "update-assignment",
    "proceed",
    "cancel-job",
    "retry-job",
    "create",
];

/// Runs job commands with the `baton` binary's own command code.
#[derive(Debug, Default)]
pub struct InRunner;

impl Executor for InRunner {
    fn handles(&self, argv: &[String]) -> bool {
        match policy::command_name(argv) {
            Some("logs") => !follows(argv),
            Some(name) => HERE.contains(&name),
            None => false,
        }
    }

    fn run(&self, call: Call) -> Reply {
        // As `baton` decides it before parsing: a usage error honours --json too.
        let json = call.argv.iter().take_while(|a| *a != "--").any(|a| a == "--json");
        let cli = match Cli::try_parse_from(std::iter::once("baton".to_string()).chain(call.argv.iter().cloned())) {
            Ok(cli) => cli,
            Err(err) => return usage_error(&err, json),
        };
        let env = |key: &str| {
            call.env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).or_else(|| match key {
                // A spawned command would not have had the runner's own socket variable.
                baton_runner::agent_socket::protocol::SOCKET_VAR => None,
                _ => std::env::var(key).ok(),
            })
        };
        let (out, capture) = Output::for_job_call(&cli.global);
        let Cli { global, command } = cli;
        let ctx = match Context::for_job_call(&global, out, &call.cwd, &env, call.store.clone(), call.stdin) {
            Ok(ctx) => ctx,
            Err(err) => return failure(Vec::new(), &err.to_string(), json),
        };
        let result = tokio::runtime::Handle::current().block_on(commands::run_in(command, ctx));
        let printed = std::mem::take(&mut *capture.lock().unwrap_or_else(|p| p.into_inner()));
        match result {
            Ok(()) | Err(CliError::BrokenPipe) => Reply { stdout: printed, stderr: Vec::new(), code: 0 },
            Err(CliError::Reported) => Reply { stdout: printed, stderr: Vec::new(), code: 1 },
            Err(err) => failure(printed, &err.to_string(), json),
        }
    }
}

/// Whether a `logs` command line asks to follow (`--follow`, `-f`, or `-f` among short flags).
fn follows(argv: &[String]) -> bool {
    argv.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--follow" || (a.starts_with('-') && !a.starts_with("--") && a.contains('f')))
}

/// What `baton` prints for a usage error (exit 2), or for `--help` (exit 0, on stdout).
fn usage_error(err: &clap::Error, json: bool) -> Reply {
    let rendered = err.render().to_string();
    if !err.use_stderr() {
        return Reply { stdout: rendered.into_bytes(), stderr: Vec::new(), code: 0 };
    }
    let stderr = if json { format!("{}\n", report::usage_error_json_text(&rendered)) } else { rendered };
    Reply { stdout: Vec::new(), stderr: stderr.into_bytes(), code: 2 }
}

/// A failed command: `error: …` or, with `--json`, the error object, and exit 1.
fn failure(stdout: Vec<u8>, message: &str, json: bool) -> Reply {
    let stderr = if json { format!("{}\n", report::failure_json(message)) } else { format!("error: {message}\n") };
    Reply { stdout, stderr: stderr.into_bytes(), code: 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn commands_that_end_by_themselves_run_here_and_streams_do_not() {
        let here = InRunner;
        for line in ["update-assignment a1 --status complete", "--json insert-job a1 --type review", "logs j1", "queue"]
        {
            assert!(here.handles(&args(line)), "{line}");
        }
        for line in ["logs j1 --follow", "logs -f j1", "logs j1 -wf", "diff a1", "help", "templates", "run", ""] {
            assert!(!here.handles(&args(line)), "{line}");
        }
    }
}
