//! The MCP SDK's own client (rmcp) driving the real `baton mcp` binary over its stdio, for the
//! tests of the MCP server.

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

/// A connected client; the server process ends when it is dropped.
pub struct McpClient {
    runtime: tokio::runtime::Runtime,
    client: Option<RunningService<RoleClient, ()>>,
}

/// One tool call's answer.
#[derive(Debug)]
pub struct Answer {
    pub is_error: bool,
    pub text: String,
}

impl McpClient {
    /// Starts `command` (a `baton … mcp` command line with its environment) and connects.
    pub fn start(command: std::process::Command) -> McpClient {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let client = runtime.block_on(async {
            let transport = TokioChildProcess::new(tokio::process::Command::from(command)).expect("baton mcp starts");
            ().serve(transport).await.expect("the MCP handshake succeeds")
        });
        McpClient { runtime, client: Some(client) }
    }

    fn client(&self) -> &RunningService<RoleClient, ()> {
        self.client.as_ref().expect("connected")
    }

    /// The tools the server lists.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.runtime.block_on(self.client().list_all_tools()).expect("tools/list")
    }

    /// Calls `name` with `arguments` (a JSON object, or null for none).
    pub fn call(&self, name: &str, arguments: Value) -> Answer {
        let mut params = CallToolRequestParams::new(name.to_string());
        if let Value::Object(map) = arguments {
            params = params.with_arguments(map);
        }
        let result: CallToolResult = self.runtime.block_on(self.client().call_tool(params)).expect("tools/call");
        let text = result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect::<Vec<_>>();
        assert_eq!(text.len(), 1, "one text block: {result:?}");
        Answer { is_error: result.is_error == Some(true), text: text[0].clone() }
    }

    /// Calls `name`, expects success, and returns its JSON.
    pub fn ok(&self, name: &str, arguments: Value) -> Value {
        let answer = self.call(name, arguments.clone());
        assert!(!answer.is_error, "{name} {arguments}: {}", answer.text);
        serde_json::from_str(&answer.text).unwrap_or_else(|e| panic!("{name}: {e}: {}", answer.text))
    }

    /// Calls `name`, expects a tool error, and returns its error object (`error`, `hint`, `code`).
    pub fn refused(&self, name: &str, arguments: Value) -> Value {
        let answer = self.call(name, arguments.clone());
        assert!(answer.is_error, "{name} {arguments} should fail: {}", answer.text);
        serde_json::from_str(&answer.text).unwrap_or_else(|e| panic!("{name}: {e}: {}", answer.text))
    }
}

impl Drop for McpClient {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.cancel());
        }
    }
}
