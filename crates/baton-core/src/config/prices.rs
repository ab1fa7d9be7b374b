//! `[prices]` and `[retention]`: turning their text into checked values, with an error naming the
//! key when a price is negative or not a number, a date or a duration does not parse.

use super::file::{PriceFile, RetentionFile};
use crate::engine::spend::{Price, Prices};
use crate::error::{Error, Result};
use crate::time::Millis;
use chrono::NaiveDate;
use std::path::Path;

/// Replaces each model's prices named in `layer` (a later layer wins per model).
pub(super) fn merge_prices(
    prices: &mut Prices,
    layer: &std::collections::BTreeMap<String, super::file::PricesFile>,
    path: &Path,
) -> Result<()> {
    for (model, entries) in layer {
        let parsed = entries.0.iter().map(|p| price(model, p, path)).collect::<Result<Vec<_>>>()?;
        prices.models.insert(model.clone(), parsed);
    }
    Ok(())
}

fn price(model: &str, p: &PriceFile, path: &Path) -> Result<Price> {
    let bad = |key: &str, message: String| Error::Config {
        path: path.to_path_buf(),
        message: format!("key `prices.\"{model}\".{key}`: {message}"),
    };
    let amounts = [
        ("input", Some(p.input)),
        ("output", Some(p.output)),
        ("cache_read", p.cache_read),
        ("cache_write", p.cache_write),
    ];
    for (key, value) in amounts {
        if let Some(v) = value.filter(|v| !v.is_finite() || *v < 0.0) {
            return Err(bad(key, format!("{v} is not a price: give USD per million tokens, 0 or more")));
        }
    }
    let since = match &p.since {
        None => None,
        Some(day) => Some(day_start(day).ok_or_else(|| {
            bad("since", format!("`{day}` is not a date: write it as YYYY-MM-DD (UTC), e.g. 2026-01-31"))
        })?),
    };
    Ok(Price { since, input: p.input, output: p.output, cache_read: p.cache_read, cache_write: p.cache_write })
}

/// UTC midnight of `YYYY-MM-DD`.
fn day_start(day: &str) -> Option<Millis> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// How long finished work is kept; `None`/`false`: kept until a person removes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// `worktrees = "merged"`: a finished assignment's worktree is removed as soon as its branch
    /// is merged into its base (by ancestry, or a recorded `baton merge`) and it is clean.
    pub worktrees_merged: bool,
    /// `finished_after` (alias `worktrees_after`): worktrees of finished assignments, once clean
    /// and merged (or holding no commits of their own), are removed this long after the
    /// assignment ended.
    pub finished_after_ms: Option<u64>,
    /// Transcript events and prompt texts of finished jobs are dropped this long after the job
    /// ended; results, costs and the prompts' sizes and hashes are kept.
    pub transcripts_after_ms: Option<u64>,
    /// The agent CLIs' own session files that finished assignments' jobs recorded are removed
    /// this long after the assignment ended.
    pub agent_sessions_after_ms: Option<u64>,
    /// `baton queue` warns when measured worktrees exceed this; `None`: [`DEFAULT_WARN_WORKTREES_BYTES`].
    pub warn_worktrees_bytes: Option<u64>,
}

/// 20 GiB: the worktree size `baton queue` warns about unless `warn_worktrees_gib` says otherwise.
pub const DEFAULT_WARN_WORKTREES_BYTES: u64 = 20 * 1024 * 1024 * 1024;

impl Retention {
    /// True when any policy is set.
    pub fn is_set(&self) -> bool {
        self.worktrees_set() || self.transcripts_after_ms.is_some() || self.agent_sessions_after_ms.is_some()
    }

    /// True when some policy removes worktrees.
    pub fn worktrees_set(&self) -> bool {
        self.worktrees_merged || self.finished_after_ms.is_some()
    }

    /// The worktree size `baton queue` warns about.
    pub fn warn_worktrees_bytes(&self) -> u64 {
        self.warn_worktrees_bytes.unwrap_or(DEFAULT_WARN_WORKTREES_BYTES)
    }
}

pub(super) fn merge_retention(r: &mut Retention, f: &RetentionFile, path: &Path) -> Result<()> {
    let bad = |key: &str, message: String| Error::Config {
        path: path.to_path_buf(),
        message: format!("key `retention.{key}`: {message}"),
    };
    let parse = |key: &str, text: &Option<String>| -> Result<Option<u64>> {
        match text {
            None => Ok(None),
            Some(t) => parse_duration(t).map(Some).ok_or_else(|| {
                bad(key, format!("`{t}` is not a duration: write a number and a unit, e.g. \"14d\", \"12h\", \"30m\""))
            }),
        }
    };
    match f.worktrees.as_deref() {
        None => {}
        Some("merged") => r.worktrees_merged = true,
        Some(other) => {
            return Err(bad(
                "worktrees",
                format!("`{other}` is not a policy: the one value is \"merged\" (use finished_after for an age)"),
            ))
        }
    }
    if f.finished_after.is_some() && f.worktrees_after.is_some() {
        return Err(bad(
            "worktrees_after",
            "is the earlier name of finished_after and both are set: keep only finished_after".into(),
        ));
    }
    if let Some(ms) = parse("finished_after", &f.finished_after)? {
        r.finished_after_ms = Some(ms);
    }
    if let Some(ms) = parse("worktrees_after", &f.worktrees_after)? {
        r.finished_after_ms = Some(ms);
    }
    if let Some(ms) = parse("transcripts_after", &f.transcripts_after)? {
        r.transcripts_after_ms = Some(ms);
    }
    if let Some(ms) = parse("agent_sessions_after", &f.agent_sessions_after)? {
        r.agent_sessions_after_ms = Some(ms);
    }
    if let Some(gib) = f.warn_worktrees_gib {
        if !gib.is_finite() || gib <= 0.0 {
            return Err(bad("warn_worktrees_gib", format!("{gib} is not a size: give GiB above 0, e.g. 20")));
        }
        r.warn_worktrees_bytes = Some((gib * 1024.0 * 1024.0 * 1024.0) as u64);
    }
    Ok(())
}

/// `14d`, `12h`, `30m`, `45s`: a whole number and one unit.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let factor: u64 = match unit {
        'd' => 86_400_000,
        'h' => 3_600_000,
        'm' => 60_000,
        's' => 1_000,
        _ => return None,
    };
    let number = &text[..text.len() - 1];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse::<u64>().ok()?.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("14d"), Some(14 * 86_400_000));
        assert_eq!(parse_duration("12h"), Some(12 * 3_600_000));
        assert_eq!(parse_duration(" 30m "), Some(1_800_000));
        for bad in ["", "d", "14", "1.5d", "-1d", "14w", "1 d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(day_start("1970-01-02"), Some(86_400_000));
        assert_eq!(day_start("2026-02-30"), None);
        assert_eq!(day_start("yesterday"), None);
    }
}
