//! Database trouble seen by the claim loop: logged once per streak, retried on a growing timer,
//! and forgotten after a round without errors. A runner outlives a database restart.

use std::time::Duration;
use tokio::time::Instant;

#[derive(Default)]
pub(super) struct Trouble {
    streak: u32,
    errors_this_round: u32,
}

impl Trouble {
    pub fn note(&mut self, what: &str) {
        if self.streak == 0 && self.errors_this_round == 0 {
            tracing::warn!("{what}; retrying until the database answers");
        } else {
            tracing::debug!("{what}");
        }
        self.errors_this_round += 1;
    }

    /// Called at the start of every round.
    pub fn tick(&mut self) {
        if self.errors_this_round > 0 {
            self.streak = self.streak.saturating_add(1);
        } else if self.streak > 0 {
            tracing::info!("the database answers again");
            self.streak = 0;
        }
        self.errors_this_round = 0;
    }

    /// When to try again while in trouble: 100 ms doubling up to 5 s.
    pub fn retry_at(&self) -> Option<Instant> {
        (self.errors_this_round > 0 || self.streak > 0).then(|| {
            let ms = 100u64.saturating_mul(1 << self.streak.min(6)).min(5_000);
            Instant::now() + Duration::from_millis(ms)
        })
    }
}
