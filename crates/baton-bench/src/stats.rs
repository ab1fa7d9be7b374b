//! Samples and their order statistics (nearest-rank percentiles, no interpolation).

use std::time::Duration;

/// A set of measured durations.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    sorted: Vec<Duration>,
}

impl Samples {
    pub fn new(mut values: Vec<Duration>) -> Samples {
        values.sort();
        Samples { sorted: values }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The nearest-rank percentile `p` (0 < p ≤ 100); zero for an empty set.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil() as usize;
        self.sorted[rank.clamp(1, self.sorted.len()) - 1]
    }

    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }
}

/// Milliseconds with two decimals, e.g. `3.41 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// `measure / floor` (infinite when the floor is zero).
pub fn ratio(measure: Duration, floor: Duration) -> f64 {
    measure.as_secs_f64() / floor.as_secs_f64()
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let s = Samples::new((1..=10).rev().map(Duration::from_millis).collect());
        assert_eq!(s.median(), Duration::from_millis(5));
        assert_eq!(s.percentile(90.0), Duration::from_millis(9));
        assert_eq!(s.percentile(99.0), Duration::from_millis(10));
        assert_eq!(s.max(), Duration::from_millis(10));
        assert_eq!(Samples::default().median(), Duration::ZERO);
    }
}
