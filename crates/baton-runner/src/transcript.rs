//! A job's transcript on its way to the store: events are batched (one write per batch, not per
//! line) and capped per job, so an agent printing a gigabyte cannot fill the database.
//!
//! A batch whose write fails is kept and written with the next one; events still unwritten when
//! the attempt ends are lost, and [`Transcript::lost`] says so for the job's record.
//!
//! Past the cap, events are counted but not stored — except the final result and errors, which a
//! person needs to understand the job — and one warning event marks where the transcript stops.

use baton_core::store::NewEvent;
use baton_core::time::Clock;
use baton_harness::Event;
use std::sync::Arc;

/// Default per-job cap on stored transcript bytes.
pub const DEFAULT_CAP: u64 = 16 * 1024 * 1024;
/// A batch is written once it holds this many bytes or events (or when the flush timer fires).
const BATCH_BYTES: usize = 256 * 1024;
const BATCH_EVENTS: usize = 512;

#[derive(Debug)]
pub struct Transcript {
    cap: u64,
    stored_bytes: u64,
    pending: Vec<NewEvent>,
    pending_bytes: usize,
    /// Set once an event was dropped for the cap.
    pub truncated: bool,
    /// Events dropped for the cap.
    pub dropped: u64,
    /// Whether the harness reported a final result event.
    pub saw_result: bool,
    /// The last write failed, and its events wait for the flush timer to be written again.
    retrying: bool,
    /// Stamps each event.
    clock: Arc<dyn Clock>,
}

impl Transcript {
    pub fn new(cap: u64, clock: Arc<dyn Clock>) -> Transcript {
        Transcript {
            cap,
            stored_bytes: 0,
            pending: Vec::new(),
            pending_bytes: 0,
            truncated: false,
            dropped: 0,
            saw_result: false,
            retrying: false,
            clock,
        }
    }

    /// Queues an event for storage (or drops it past the cap).
    pub fn push(&mut self, event: &Event) {
        let Ok(value) = serde_json::to_value(event) else { return };
        let size = value.to_string().len() as u64;
        self.saw_result |= matches!(event, Event::Result { .. });
        let essential = matches!(event, Event::Result { .. } | Event::Error { .. });
        if self.stored_bytes + size > self.cap && !essential {
            if !self.truncated {
                self.truncated = true;
                let marker = Event::Warning {
                    message: format!(
                        "transcript truncated: it reached its cap of {} MiB; later events were not stored",
                        self.cap / (1024 * 1024)
                    ),
                };
                self.store(serde_json::to_value(&marker).unwrap_or_default(), 0);
            }
            self.dropped += 1;
            return;
        }
        self.store(value, size);
    }

    fn store(&mut self, value: serde_json::Value, size: u64) {
        self.stored_bytes += size;
        self.pending_bytes += size as usize;
        self.pending.push(NewEvent { at: self.clock.now(), event: value });
    }

    /// Whether a batch is due without waiting for the timer. Not after a failed write: the
    /// events kept for the next one only grow, and writing them again on every line the agent
    /// prints would keep the database (and the runner's one connection, heartbeats included)
    /// busy failing. The flush timer retries them.
    pub fn batch_full(&self) -> bool {
        !self.retrying && (self.pending_bytes >= BATCH_BYTES || self.pending.len() >= BATCH_EVENTS)
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Returns events whose write failed, ahead of anything queued since.
    pub fn put_back(&mut self, mut events: Vec<NewEvent>) {
        self.pending_bytes += events.iter().map(|e| e.event.to_string().len()).sum::<usize>();
        events.append(&mut self.pending);
        self.pending = events;
    }

    /// Returns events whose write failed, to be written with the next batch.
    pub fn write_failed(&mut self, events: Vec<NewEvent>) {
        self.retrying = true;
        self.put_back(events);
    }

    /// Takes the queued events for one write (a write that fails puts them back).
    pub fn take(&mut self) -> Vec<NewEvent> {
        self.retrying = false;
        self.pending_bytes = 0;
        std::mem::take(&mut self.pending)
    }
}

/// Why a transcript is incomplete: `count` events never reached the store, because of `why`.
pub fn lost_events(count: usize, why: &dyn std::fmt::Display) -> String {
    format!("{count} transcript events could not be stored: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::time::{ManualClock, SystemClock};

    #[test]
    fn the_cap_keeps_results_and_marks_truncation_once() {
        let mut t = Transcript::new(200, Arc::new(ManualClock::new(7)));
        for i in 0..20 {
            t.push(&Event::AssistantText { text: format!("line {i} with some text") });
        }
        t.push(&Event::Result { success: true, text: Some("done".into()), error: None });
        let events = t.take();
        assert!(t.truncated);
        assert!(t.dropped > 0);
        let warnings = events.iter().filter(|e| e.event["kind"] == "warning").count();
        assert_eq!(warnings, 1);
        assert_eq!(events.last().unwrap().event["kind"], "result");
        assert!(events.iter().all(|e| e.at == 7), "events carry the clock's time");
        assert!(!t.has_pending());
    }

    #[test]
    fn events_whose_write_failed_are_written_later_and_lost_ones_are_counted() {
        let mut t = Transcript::new(DEFAULT_CAP, Arc::new(SystemClock));
        t.push(&Event::Text { line: "one".into() });
        let failed = t.take();
        let disk_full = baton_core::Error::database("appending transcript events", "database or disk is full");
        t.write_failed(failed);
        t.push(&Event::Text { line: "two".into() });
        let kept = t.take();
        assert_eq!(kept.iter().map(|e| e.event["line"].as_str().unwrap()).collect::<Vec<_>>(), ["one", "two"]);
        assert_eq!(
            lost_events(kept.len(), &disk_full),
            "2 transcript events could not be stored: database error while appending transcript events: database or disk is full"
        );
    }

    #[test]
    fn batches_fill_by_count() {
        let mut t = Transcript::new(DEFAULT_CAP, Arc::new(SystemClock));
        for _ in 0..BATCH_EVENTS {
            assert!(!t.batch_full());
            t.push(&Event::Text { line: "x".into() });
        }
        assert!(t.batch_full());
    }
}
