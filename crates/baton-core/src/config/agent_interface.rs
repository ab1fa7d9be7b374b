//! `agent_interface`: how a job's agent reaches baton. The CLI always works (every harness has a
//! shell tool); with `both`, claude agents also get `baton mcp` as an MCP server, so they can call
//! baton's commands as typed tools instead of composing shell lines. codex and gemini keep the CLI:
//! baton hands the MCP server to claude's command line only.

/// The `agent_interface` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentInterface {
    /// The `baton` CLI on the agent's PATH.
    #[default]
    Cli,
    /// The CLI, and for claude agents the MCP server too (`--mcp-config` naming `baton mcp`).
    Both,
}

impl AgentInterface {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentInterface::Cli => "cli",
            AgentInterface::Both => "both",
        }
    }
}

impl std::str::FromStr for AgentInterface {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cli" => Ok(AgentInterface::Cli),
            "both" => Ok(AgentInterface::Both),
            other => Err(format!("agent_interface `{other}` is not known; valid values: cli, both")),
        }
    }
}
