//! `baton doctor`: one command a newcomer (or a PM agent that hit a wall) runs to see what is
//! wrong. Each check is one line, `✓` or `✗`, and a failed check says how to fix it; `--json`
//! prints the same as `{"ok", "checks": [{"check", "ok", "detail", "fix"}]}`. The exit code is 1
//! when any check failed, so scripts can gate on it.
//!
//! It works without a valid configuration (that is then its first failed check), reads the
//! environment without printing any secret (API keys are reported as present or not), and
//! changes nothing: the one write is the schema migration any command makes when it opens the
//! database.

mod checks;
mod harnesses;

use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use serde::Serialize;

/// One line of the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    /// What was checked, e.g. `database`, `harness claude`.
    pub check: String,
    pub ok: bool,
    /// What was found (never a secret).
    pub detail: String,
    /// How to fix it, for a failed check (sometimes advice for a passed one).
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check { check: check.into(), ok: true, detail: detail.into(), fix: None }
    }

    pub fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check { check: check.into(), ok: false, detail: detail.into(), fix: Some(fix.into()) }
    }
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    checks: &'a [Check],
}

pub async fn run(global: &GlobalArgs, out: &Output) -> CliResult {
    let checks = checks::all(global).await;
    let ok = checks.iter().all(|c| c.ok);
    if out.json {
        out.json(&Report { ok, checks: &checks })?;
    } else {
        out.text(&render(&checks, out))?;
    }
    if ok {
        Ok(())
    } else {
        Err(CliError::Reported)
    }
}

fn render(checks: &[Check], out: &Output) -> String {
    let mut text = String::new();
    for c in checks {
        let mark = if c.ok {
            out.style.paint(Some(crate::output::style::GREEN), "✓")
        } else {
            out.style.paint(Some(crate::output::style::RED), "✗")
        };
        text.push_str(&format!("{mark} {}: {}\n", c.check, crate::output::format::one_line(&c.detail)));
        if let Some(fix) = &c.fix {
            text.push_str(&format!("    fix: {}\n", crate::output::format::one_line(fix)));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        text.push_str("everything baton needs is in place\n");
    } else {
        let s = if failed == 1 { "" } else { "s" };
        text.push_str(&format!("{failed} check{s} failed\n"));
    }
    text
}
