//! The sane range of every number a person can set: durations and counts outside them do not
//! fail loudly where they are typed, they fail later and elsewhere (`lease_ms = 1` loses every
//! lease before the first heartbeat; a lease of `i64::MAX` milliseconds never lets a dead
//! runner's job go). Config, CLI and API all check against these, and say the range.

use crate::time::human_duration;

/// A day, in milliseconds: the longest lease, timeout or back-off baton accepts.
pub const DAY_MS: u64 = 86_400_000;

/// The range one setting must fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The setting's name as the config file spells it.
    pub key: &'static str,
    pub min: u64,
    pub max: u64,
    /// Whether the values are milliseconds (shown as durations too).
    pub millis: bool,
}

/// How long a claim is held between renewals; heartbeats come every third of it.
pub const LEASE_MS: Range = Range { key: "lease_ms", min: 100, max: DAY_MS, millis: true };
/// How long one attempt may run (also each `[harness.NAME] timeout_ms`).
pub const TIMEOUT_MS: Range = Range { key: "timeout_ms", min: 100, max: DAY_MS, millis: true };
/// The first retry back-off; 0 retries at once.
pub const RETRY_BASE_MS: Range = Range { key: "retry_base_ms", min: 0, max: DAY_MS, millis: true };
/// How long a host's runners may be gone before its assignments are blocked.
pub const HOST_GONE_MS: Range = Range { key: "host_gone_ms", min: 1_000, max: 30 * DAY_MS, millis: true };
pub const MAX_ATTEMPTS: Range = Range { key: "max_attempts", min: 1, max: 100, millis: false };
pub const MAX_JOBS: Range = Range { key: "max_jobs_per_assignment", min: 1, max: 1_000_000, millis: false };
pub const MAX_LOST_LEASES: Range = Range { key: "max_lost_leases", min: 1, max: 100, millis: false };

impl Range {
    /// `Err` with a one-line message naming `name`, the range and the value refused.
    pub fn check_as(&self, name: &str, value: u64) -> Result<u64, String> {
        if (self.min..=self.max).contains(&value) {
            return Ok(value);
        }
        let range = if self.millis {
            format!(
                "{} to {} ({} to {})",
                self.min,
                self.max,
                human_duration(self.min as i64),
                human_duration(self.max as i64)
            )
        } else {
            format!("{} to {}", self.min, self.max)
        };
        Err(format!("{name} must be {range}, not {value}"))
    }

    /// [`Range::check_as`] under the config key's own name.
    pub fn check(&self, value: u64) -> Result<u64, String> {
        self.check_as(&format!("`{}`", self.key), value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_give_the_range() {
        assert_eq!(LEASE_MS.check(400), Ok(400));
        let e = LEASE_MS.check(1).unwrap_err();
        assert!(e.starts_with("`lease_ms` must be 100 to 86400000 ("), "{e}");
        assert!(e.ends_with("not 1"), "{e}");
        assert!(LEASE_MS.check(9_223_372_036_854_775_807).is_err());
        assert_eq!(MAX_ATTEMPTS.check(0).unwrap_err(), "`max_attempts` must be 1 to 100, not 0");
    }
}
