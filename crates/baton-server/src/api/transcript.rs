//! A stored transcript event as the API shows it: the event itself plus the line a person reads
//! (`baton_harness::render`), so the dashboard needs no knowledge of harness event kinds.

use baton_core::JobEvent;
use serde::Serialize;

/// One transcript event with its rendering.
#[derive(Debug, Serialize)]
pub(crate) struct TranscriptLine {
    #[serde(flatten)]
    pub event: JobEvent,
    /// What a person reads; `null` for bookkeeping events the renderer hides.
    pub text: Option<String>,
}

impl TranscriptLine {
    pub fn new(event: JobEvent) -> TranscriptLine {
        // An event this baton cannot read (written by a newer one) is shown as hidden, not an error.
        let text = serde_json::from_value::<baton_harness::Event>(event.event.clone())
            .ok()
            .and_then(|e| baton_harness::render(&e));
        TranscriptLine { event, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_known_events_and_hides_unknown_ones() {
        let event = |value| JobEvent { job_id: "j1".into(), seq: 1, at: 0, attempt: 1, event: value };
        let line = TranscriptLine::new(event(json!({"kind": "assistant_text", "text": "hello"})));
        assert_eq!(line.text.as_deref(), Some("hello"));
        let v = serde_json::to_value(&line).unwrap_or_default();
        assert_eq!(v["seq"], 1);
        assert_eq!(v["event"]["kind"], "assistant_text");
        assert_eq!(TranscriptLine::new(event(json!({"kind": "from_the_future"}))).text, None);
    }
}
