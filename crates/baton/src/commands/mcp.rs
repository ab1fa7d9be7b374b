//! `baton mcp`: serves the CLI's commands as Model Context Protocol tools over stdio until the
//! client closes the connection (see [`crate::mcp`]).

use crate::error::CliResult;

pub async fn run() -> CliResult {
    crate::mcp::serve().await
}
