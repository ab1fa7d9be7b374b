//! `GET /metrics`: the namespace's figures in the Prometheus text format, built afresh from one
//! database snapshot on every scrape ([`baton_core::metrics`]), so that every process serving it
//! reports the same numbers. Behind the same token rules as `/api/`.

use crate::state::Ctx;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use baton_core::metrics::{decision_kind, MetricsSnapshot};
use prometheus::core::Collector;
use prometheus::{
    CounterVec, Encoder, Histogram, HistogramOpts, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::collections::HashMap;

/// Latency buckets in seconds: from a push wake-up (milliseconds) to a day-long wait.
const SECONDS_BUCKETS: &[f64] = &[0.05, 0.25, 1.0, 5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 14400.0, 86400.0];

pub(crate) async fn metrics(State(ctx): State<Ctx>) -> Response {
    match ctx.store().metrics(ctx.ns()).await {
        Ok(snapshot) => match render(ctx.ns(), &snapshot) {
            Ok(text) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response(),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "could not encode the metrics\n").into_response(),
        },
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("could not read the metrics: {e}\n")).into_response(),
    }
}

/// Anything but `/metrics` on a runner's metrics listener.
pub(crate) async fn only_metrics() -> Response {
    (StatusCode::NOT_FOUND, "this is a runner's metrics listener: only GET /metrics is served here\n").into_response()
}

/// The exposition of one snapshot in the Prometheus text format, every metric named `baton_*`
/// and labelled with its namespace.
pub fn render(ns: &str, s: &MetricsSnapshot) -> Result<String, prometheus::Error> {
    let registry = Registry::new_custom(Some("baton".into()), Some(HashMap::from([("namespace".into(), ns.into())])))?;
    let opts = |name: &str, help: &str| Opts::new(name, help);

    let jobs = IntGaugeVec::new(opts("jobs", "Jobs by status and type"), &["status", "type"])?;
    for j in &s.jobs {
        jobs.with_label_values(&[j.status.as_str(), j.job_type.as_str()]).set(j.count);
    }
    let assignments = IntGaugeVec::new(opts("assignments", "Assignments by status"), &["status"])?;
    for (status, n) in &s.assignments {
        assignments.with_label_values(&[status.as_str()]).set(*n);
    }
    let attempts = IntCounterVec::new(
        opts("attempts_total", "Ended attempts by outcome and error kind"),
        &["outcome", "error_kind"],
    )?;
    for a in &s.attempts {
        let kind = a.error_kind.as_deref().unwrap_or("none");
        attempts.with_label_values(&[a.outcome.as_str(), kind]).inc_by(a.count.max(0) as u64);
    }
    let lost = IntCounterVec::new(opts("lost_leases_total", "Leases lost with their runner"), &[])?;
    lost.with_label_values(&[] as &[&str]).inc_by(s.lost_leases.max(0) as u64);

    let histogram = |name: &str, help: &str, values: &[i64]| -> Result<Histogram, prometheus::Error> {
        let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(SECONDS_BUCKETS.to_vec()))?;
        for ms in values {
            h.observe(*ms as f64 / 1000.0);
        }
        Ok(h)
    };
    let pickup = histogram(
        "pickup_latency_seconds",
        "From a job's creation to its first attempt's start (includes waiting for earlier jobs of its chain)",
        &s.pickup_ms,
    )?;
    let duration = histogram("job_duration_seconds", "Duration of finished jobs' last attempt", &s.duration_ms)?;

    let tokens = IntCounterVec::new(
        opts(
            "tokens_total",
            "Tokens of ended attempts by harness, model, cost source and kind (input includes cache reads and writes)",
        ),
        &["harness", "model", "cost_source", "kind"],
    )?;
    let cost = CounterVec::new(
        opts("cost_usd_total", "Reported and estimated cost of ended attempts in USD (unpriced usage is left out)"),
        &["harness", "model", "cost_source"],
    )?;
    for r in &s.spend {
        let model = r.model.as_deref().unwrap_or("unknown");
        let source = r.cost_source.as_deref().unwrap_or("none");
        for (kind, n) in [
            ("input", r.tokens_in),
            ("output", r.tokens_out),
            ("cache_read", r.cache_read_tokens),
            ("cache_write", r.cache_write_tokens),
        ] {
            tokens.with_label_values(&[r.harness.as_str(), model, source, kind]).inc_by(n.max(0) as u64);
        }
        // Unpriced usage has no cost: it is counted in tokens, never as $0 here.
        if source == "reported" || source == "estimated" {
            cost.with_label_values(&[r.harness.as_str(), model, source]).inc_by(r.cost_usd.max(0.0));
        }
    }
    let decisions = IntCounterVec::new(opts("pm_decisions_total", "Finished PM jobs by decision"), &["kind"])?;
    for (line, n) in &s.pm_decisions {
        decisions.with_label_values(&[decision_kind(line.as_deref())]).inc_by(n.max(&0).unsigned_abs());
    }
    let runners = IntGaugeVec::new(opts("runners_alive", "Runners heartbeating within their lease"), &[])?;
    runners.with_label_values(&[] as &[&str]).set(s.runners_alive);

    let collectors: Vec<Box<dyn Collector>> = vec![
        Box::new(jobs),
        Box::new(assignments),
        Box::new(attempts),
        Box::new(lost),
        Box::new(pickup),
        Box::new(duration),
        Box::new(tokens),
        Box::new(cost),
        Box::new(decisions),
        Box::new(runners),
    ];
    for c in collectors {
        registry.register(c)?;
    }
    let mut out = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut out)?;
    String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
}
