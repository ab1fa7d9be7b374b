//! End-to-end tests with the REAL agent CLIs: `baton run` drives claude, codex and gemini (the
//! pinned versions `scripts/install-agent-clis` installs; found through `BATON_AGENT_CLIS_BIN`)
//! against `tests/agents/mock_api.py`, a loopback stand-in for the three model APIs.
//!
//! They check what the stand-in tests cannot: that each real CLI accepts the command line baton
//! builds, and that baton reads the real event stream into the right outcome — for each mock mode
//! `ok` (a plain answer), `toolw` (the model has the CLI's shell tool write a file) and `429`
//! (a rate limit) — and that a codex PM can run `baton` from inside codex's sandbox.
//!
//! Each test starts its own mock on a free port and caps the CLI's own retries, so a case takes
//! seconds. Every test needs `BATON_AGENT_CLIS_BIN`, so they are ignored unless asked for;
//! `scripts/test` asks once it has installed the CLIs.

#[path = "../cli/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../run/harness.rs"]
#[allow(dead_code)]
mod harness;

mod bench;
mod mcp;
mod modes;
mod otlp;
mod pm;
mod retention;
mod sandboxed;
mod session_cost;
mod sessions;
