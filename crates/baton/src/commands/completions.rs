//! `baton completions SHELL`: the completion script, generated from the clap definitions so it
//! always matches the real flags and value lists. Needs no configuration.

use crate::cli::{Cli, CompletionsArgs};
use crate::error::CliResult;
use clap::CommandFactory;

pub fn run(args: &CompletionsArgs) -> CliResult {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "baton", &mut script);
    crate::output::write_stdout(&script)
}
