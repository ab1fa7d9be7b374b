//! `sandbox`: whether each attempt runs inside a filesystem sandbox, and `agent_env_remove`:
//! what of the runner's environment never reaches an agent.

/// How a runner confines what an agent can touch on the machine (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sandbox {
    /// No filesystem sandbox: the agent sees the machine as the runner's user does.
    None,
    /// bubblewrap: a read-only root, the worktree writable, a private /tmp, no database.
    Bwrap,
    /// `bwrap` when it is installed and works here, else `none` (said once in the runner's log).
    /// The default: the three built-in CLIs were verified to work inside it.
    #[default]
    Auto,
}

impl Sandbox {
    pub fn as_str(self) -> &'static str {
        match self {
            Sandbox::None => "none",
            Sandbox::Bwrap => "bwrap",
            Sandbox::Auto => "auto",
        }
    }
}

impl std::str::FromStr for Sandbox {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(Sandbox::None),
            "bwrap" => Ok(Sandbox::Bwrap),
            "auto" => Ok(Sandbox::Auto),
            other => Err(format!("sandbox `{other}` is not known; valid values: auto, bwrap, none")),
        }
    }
}

/// Variables of the runner's environment an agent never gets unless configured otherwise:
/// credentials that would open the database directly.
pub const DEFAULT_AGENT_ENV_REMOVE: [&str; 2] = ["PGPASSWORD", "DATABASE_URL"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_parses_back() {
        for mode in [Sandbox::None, Sandbox::Bwrap, Sandbox::Auto] {
            assert_eq!(mode.as_str().parse::<Sandbox>(), Ok(mode));
        }
        assert!("docker".parse::<Sandbox>().unwrap_err().contains("valid values: auto, bwrap, none"));
    }
}
