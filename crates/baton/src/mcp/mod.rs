//! `baton mcp`: a Model Context Protocol server over stdio (the official Rust SDK, `rmcp`) that
//! offers the CLI's commands as tools.
//!
//! A tool call is not a second implementation of the command: its arguments become the
//! command's own command line ([`arguments`]), which runs as `baton --json …` would ([`call`]) —
//! the same parsing, checks, scope, fencing, messages and JSON shapes. The tool's text is what
//! `--json` prints on stdout; a failure is a tool error (`isError`) whose text is the JSON object
//! `--json` prints on stderr (`error`, `hint`, `code`), and nothing is stored.
//!
//! stdout carries the protocol, so nothing else may write there: commands print into a capture,
//! and logs go to stderr.

mod arguments;
mod call;
mod tools;

use crate::error::CliResult;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use std::sync::Arc;

/// What a client is told about the server when it connects.
const INSTRUCTIONS: &str = "baton is a durable job queue that runs AI coding agents on a repository. An \
    assignment is a north star with an ordered chain of jobs. These tools are baton's CLI commands: the same \
    arguments (named as the flags), the same rules, and the same JSON as `baton … --json`. Inside a baton job \
    they act as that job: read anything in the namespace, change only the job's own assignment.";

/// Serves until the client closes stdin.
pub async fn serve() -> CliResult {
    let failed = |what: &str, e: String| baton_core::Error::io(what, std::io::Error::other(e));
    let service =
        Baton.serve(rmcp::transport::stdio()).await.map_err(|e| failed("starting the MCP server", e.to_string()))?;
    service.waiting().await.map_err(|e| failed("serving MCP on stdio", e.to_string()))?;
    Ok(())
}

/// Whether `baton ARGS` (program name first) is `baton mcp`: inside a job it is served here and
/// not sent to the runner, since it is the agent's own tool process.
pub fn is_mcp_command(args: &[std::ffi::OsString]) -> bool {
    let mut rest = args.iter().skip(1).map(|a| a.to_str().unwrap_or_default());
    while let Some(arg) = rest.next() {
        match arg {
            "--color" | "--namespace" => {
                rest.next();
            }
            a if a.starts_with('-') => {}
            a => return a == "mcp",
        }
    }
    false
}

struct Baton;

impl ServerHandler for Baton {
    fn get_info(&self) -> ServerConfig {
        let mut server = Implementation::new("baton", env!("CARGO_PKG_VERSION"));
        server.title = Some("baton".into());
        let mut config = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        config.server_info = server;
        config.with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = tools::all()
            .iter()
            .map(|tool| {
                let mut annotations = ToolAnnotations::new();
                annotations.read_only_hint = Some(tool.read_only);
                annotations.open_world_hint = Some(false);
                rmcp::model::Tool::new(tool.name, tool.description, Arc::new(arguments::schema(tool)))
                    .with_annotations(annotations)
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = tools::find(&request.name) else {
            let names: Vec<&str> = tools::all().iter().map(|t| t.name).collect();
            return Err(ErrorData::invalid_params(
                format!("baton has no tool `{}`; its tools are {}", request.name, names.join(", ")),
                None,
            ));
        };
        let result = match arguments::call(&tool, request.arguments.as_ref()) {
            Err(refusal) => error_result(crate::report::usage_error_object(&refusal.error, &refusal.hint)),
            Ok(call) => {
                let reply = call::run(call.argv).await;
                if reply.ok {
                    CallToolResult::success(vec![ContentBlock::text(shape(&reply.text, call.tail))])
                } else {
                    error_result(reply.text)
                }
            }
        };
        Ok(result.into())
    }
}

fn error_result(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// The command's output as the tool's text: without the final newline, and for `logs` with
/// `tail` only the last lines.
fn shape(printed: &str, tail: Option<usize>) -> String {
    let printed = printed.trim_end_matches('\n');
    match tail {
        Some(n) => {
            let lines: Vec<&str> = printed.lines().collect();
            lines[lines.len().saturating_sub(n)..].join("\n")
        }
        None => printed.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_mcp_command_is_served_here() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(is_mcp_command(&args(&["baton", "mcp"])));
        assert!(is_mcp_command(&args(&["baton", "--namespace", "ns", "--json", "mcp"])));
        assert!(!is_mcp_command(&args(&["baton", "create", "mcp"])));
        assert!(!is_mcp_command(&args(&["baton", "--namespace", "mcp", "queue"])));
        assert!(!is_mcp_command(&args(&["baton"])));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(shape("a\nb\nc\n", Some(2)), "b\nc");
        assert_eq!(shape("a\nb\n", Some(5)), "a\nb");
        assert_eq!(shape("{}\n", None), "{}");
    }
}
