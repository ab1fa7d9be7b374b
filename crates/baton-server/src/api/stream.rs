//! Server-sent event streams: `/api/events` (the namespace, whenever it changes) and
//! `/api/jobs/{id}/stream` (a job's transcript as it is written).
//!
//! Both wake on the [`Hub`](crate::hub::Hub)'s fan-out of the one store feed, never on a timer;
//! keep-alive comments keep proxies and browsers from timing an idle stream out. Both end when
//! the server shuts down, so a browser holding one open does not delay shutdown.

use super::error::ApiResult;
use super::input::NoQuery;
use super::transcript::TranscriptLine;
use super::Params;
use crate::hub::{stopped, Pulse};
use crate::state::Ctx;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use baton_core::Job;
use futures_util::stream;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often an idle stream sends a comment line.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Transcript events read per query while catching up.
const PAGE: u32 = 500;

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

fn sse<S>(events: S) -> Response
where
    S: futures_util::Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response()
}

/// `GET /api/events`: a `snapshot` event at once, then one each time the namespace changes.
pub(crate) async fn namespace_events(State(ctx): State<Ctx>, _: NoQuery) -> Response {
    struct State {
        snapshot: watch::Receiver<Option<Arc<str>>>,
        stop: watch::Receiver<bool>,
        /// The current value has not been sent yet.
        fresh: bool,
    }
    let state = State { snapshot: ctx.hub.snapshot(), stop: ctx.hub.stop(), fresh: true };
    sse(stream::unfold(state, |mut st| async move {
        loop {
            if std::mem::take(&mut st.fresh) {
                let current = st.snapshot.borrow_and_update().clone();
                if let Some(json) = current {
                    return Some((Ok(Event::default().event("snapshot").data(json.as_ref())), st));
                }
            }
            tokio::select! {
                biased;
                _ = stopped(&mut st.stop) => return None,
                changed = st.snapshot.changed() => {
                    changed.ok()?;
                    st.fresh = true;
                }
            }
        }
    }))
}

/// `GET /api/jobs/{id}/stream?after=`: the job's transcript events after `Last-Event-ID` (or
/// `after`), then new ones as they are stored, each with `id:` = its sequence number; `job`
/// events when the job itself changes; `end` once the job is final and every event was sent.
pub(crate) async fn job_stream(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    headers: HeaderMap,
    query: QueryMap,
) -> ApiResult<Response> {
    let params = Params::new(query, &["after"])?;
    // A reconnecting EventSource says where it stopped; that wins over the page's first `after`.
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let after = match resumed {
        Some(seq) => seq.max(0),
        None => params.seq("after")?.unwrap_or(0),
    };
    // An unknown job is a plain 404 before any stream starts.
    ctx.store().job(ctx.ns(), &id).await?;
    let follow = Follow {
        pulses: ctx.hub.pulses(),
        stop: ctx.hub.stop(),
        ctx,
        id,
        after,
        queued: VecDeque::new(),
        last_job: None,
        read: true,
        done: false,
    };
    Ok(sse(stream::unfold(follow, Follow::next)))
}

/// The state of one transcript stream.
struct Follow {
    ctx: Ctx,
    id: String,
    /// The last sequence number sent.
    after: i64,
    pulses: watch::Receiver<Pulse>,
    stop: watch::Receiver<bool>,
    /// Events read and not yet sent.
    queued: VecDeque<Event>,
    /// The job as last sent, to send `job` only when it changed.
    last_job: Option<String>,
    /// Read the store before waiting again.
    read: bool,
    /// `end` (or a failure) is queued: stop after it.
    done: bool,
}

impl Follow {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Follow)> {
        loop {
            if let Some(event) = self.queued.pop_front() {
                return Some((Ok(event), self));
            }
            if self.done {
                return None;
            }
            if std::mem::take(&mut self.read) {
                if let Err(e) = self.read_more().await {
                    let data = serde_json::json!({ "error": e.to_string() }).to_string();
                    self.queued.push_back(Event::default().event("fault").data(data));
                    self.done = true;
                }
                continue;
            }
            tokio::select! {
                biased;
                _ = stopped(&mut self.stop) => return None,
                changed = self.pulses.changed() => {
                    changed.ok()?;
                    self.read = true;
                }
            }
        }
    }

    /// Reads the job and one page of events, queueing what is new.
    async fn read_more(&mut self) -> baton_core::Result<()> {
        // Marked seen before reading, so a change during the reads wakes the stream again.
        self.pulses.borrow_and_update();
        let store = self.ctx.store();
        // The job is read before the events: if it is final now, every event is already stored.
        let job = store.job(self.ctx.ns(), &self.id).await?;
        let key = job_key(&job);
        if self.last_job.as_deref() != Some(key.as_str()) {
            self.queued.push_back(Event::default().event("job").data(key.as_str()));
            self.last_job = Some(key);
        }
        let events = store.job_events(self.ctx.ns(), &self.id, self.after, PAGE).await?;
        let full = events.len() as u32 == PAGE;
        for event in events {
            self.after = self.after.max(event.seq);
            let seq = event.seq;
            let line = serde_json::to_string(&TranscriptLine::new(event)).unwrap_or_default();
            self.queued.push_back(Event::default().event("transcript").id(seq.to_string()).data(line));
        }
        if full {
            self.read = true;
        } else if job.status.is_final() {
            let data = self.last_job.clone().unwrap_or_default();
            self.queued.push_back(Event::default().event("end").data(data));
            self.done = true;
        }
        Ok(())
    }
}

/// The job as JSON without its lease expiry, which moves on every renewal without news.
fn job_key(job: &Job) -> String {
    let mut job = job.clone();
    job.lease_expires_at = None;
    serde_json::to_string(&job).unwrap_or_default()
}
