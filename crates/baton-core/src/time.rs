//! Timestamps: baton stores milliseconds since the Unix epoch and shows RFC 3339 in UTC.
//!
//! The engine's time-based decisions (lease expiry, retry back-off) read the time through a
//! [`Clock`], so tests can drive them with a [`ManualClock`] instead of waiting on real time.

use chrono::{DateTime, SecondsFormat, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Milliseconds since the Unix epoch, as stored in every backend.
pub type Millis = i64;

/// The current wall-clock time in milliseconds.
pub fn now_ms() -> Millis {
    Utc::now().timestamp_millis()
}

/// Where the engine reads the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
}

/// The real wall clock: what every command and runner uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        now_ms()
    }
}

/// A clock that stands still until told to move: for tests of leases and back-offs.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Millis) -> ManualClock {
        ManualClock { now: AtomicI64::new(start) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as Millis, Ordering::SeqCst);
    }

    /// Sets the clock to `at` (backwards too: wall clocks jump).
    pub fn set(&self, at: Millis) {
        self.now.store(at, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

/// Formats a stored timestamp as RFC 3339 with millisecond precision, e.g. `2026-11-28T07:00:14.123Z`.
pub fn rfc3339(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serde adapters so model structs keep `Millis` while JSON shows RFC 3339.
pub mod serde_ms {
    use super::{rfc3339, Millis};
    use chrono::DateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text).map(|t| t.timestamp_millis()).map_err(serde::de::Error::custom)
    }

    /// The same for optional timestamps (`null` when absent).
    pub mod option {
        use super::super::{rfc3339, Millis};
        use chrono::DateTime;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
            match ms {
                Some(ms) => s.serialize_str(&rfc3339(*ms)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Millis>, D::Error> {
            let text = Option::<String>::deserialize(d)?;
            text.map(|t| {
                DateTime::parse_from_rfc3339(&t).map(|t| t.timestamp_millis()).map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// A short human duration: `850ms`, `12.4s`, `3m05s`, `2h14m`.
pub fn human_duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_with_millis() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(850), "850ms");
        assert_eq!(human_duration(12_400), "12.4s");
        assert_eq!(human_duration(185_000), "3m05s");
        assert_eq!(human_duration(8_040_000), "2h14m");
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(Duration::from_millis(250));
        assert_eq!(clock.now(), 1_250);
        clock.set(5);
        assert_eq!(clock.now(), 5);
        assert!(SystemClock.now() > 1_700_000_000_000);
    }
}
