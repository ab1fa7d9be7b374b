//! What `/metrics` reports, as one snapshot read from the database: every figure is derived from
//! stored rows, so every process that serves it (`baton serve`, any runner) reports the same.

/// Jobs of one status and type.
#[derive(Debug, Clone, PartialEq)]
pub struct JobCount {
    pub status: String,
    pub job_type: String,
    pub count: i64,
}

/// Ended attempts of one outcome and error kind.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptCount {
    pub outcome: String,
    /// `None` for attempts that did not fail.
    pub error_kind: Option<String>,
    pub count: i64,
}

/// Usage and cost of ended attempts, by harness, model and cost source.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    pub harness: String,
    pub model: Option<String>,
    /// `None`: the attempts reported no usage.
    pub cost_source: Option<String>,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    /// Reported and estimated costs; unpriced attempts add nothing.
    pub cost_usd: f64,
}

/// One namespace's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub jobs: Vec<JobCount>,
    /// Assignments per status.
    pub assignments: Vec<(String, i64)>,
    pub attempts: Vec<AttemptCount>,
    /// Leases lost with their runner, over every job.
    pub lost_leases: i64,
    /// For each started job: milliseconds from its creation to its first attempt's start.
    pub pickup_ms: Vec<i64>,
    /// For each finished job: its last attempt's duration in milliseconds.
    pub duration_ms: Vec<i64>,
    pub spend: Vec<SpendRow>,
    /// Finished PM jobs per stored decision line (`None`: none recorded).
    pub pm_decisions: Vec<(Option<String>, i64)>,
    /// Runners heartbeating within their lease.
    pub runners_alive: i64,
}

/// The kind of a PM decision from its chain line (`queued review j…` → `insert`).
pub fn decision_kind(line: Option<&str>) -> &'static str {
    let Some(line) = line else { return "none" };
    match line.split([' ', ':']).next().unwrap_or("") {
        "queued" => "insert",
        "proceeded" => "proceed",
        "completed" => "complete",
        "cancelled" => "cancel",
        "blocked" => "block",
        _ => "none",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decision_kinds() {
        use super::decision_kind;
        assert_eq!(decision_kind(Some("queued review j1")), "insert");
        assert_eq!(decision_kind(Some("proceeded: j2 runs next")), "proceed");
        assert_eq!(decision_kind(Some("blocked: why")), "block");
        assert_eq!(decision_kind(Some("completed")), "complete");
        assert_eq!(decision_kind(Some("no decision")), "none");
        assert_eq!(decision_kind(None), "none");
    }
}
