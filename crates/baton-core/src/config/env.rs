//! `BATON_<KEY>` environment variables override the scalar keys of every config file.
//!
//! Only the keys in [`super::SCALAR_KEYS`] are read; any other `BATON_*` variable is ignored,
//! because jobs carry `BATON_JOB_ID` and friends in their environment.

use super::{Config, EnvLookup};
use crate::error::{Error, Result};
use std::str::FromStr;

fn parse<T: FromStr>(env: EnvLookup<'_>, name: &str, expected: &str) -> Result<Option<T>> {
    match env(name) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|_| Error::ConfigEnv { name: name.to_string(), message: format!("`{v}` is not {expected}") }),
    }
}

fn parse_bool(env: EnvLookup<'_>, name: &str) -> Result<Option<bool>> {
    match env(name).as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(v) => Err(Error::ConfigEnv { name: name.to_string(), message: format!("`{v}` is not true or false") }),
    }
}

pub(super) fn apply(c: &mut Config, env: EnvLookup<'_>) -> Result<()> {
    const INT: &str = "a whole number";
    if let Some(ns) = env("BATON_NAMESPACE").filter(|v| !v.trim().is_empty()) {
        c.namespace = ns.trim().to_string();
    }
    if let Some(v) = parse(env, "BATON_TIMEOUT_MS", INT)? {
        c.timeout_ms = v;
    }
    if let Some(v) = parse(env, "BATON_MAX_ATTEMPTS", INT)? {
        c.max_attempts = v;
    }
    if let Some(v) = parse(env, "BATON_RETRY_BASE_MS", INT)? {
        c.retry_base_ms = v;
    }
    if let Some(v) = parse_bool(env, "BATON_RETRY_ON_TIMEOUT")? {
        c.retry_on_timeout = v;
    }
    if let Some(v) = parse(env, "BATON_LEASE_MS", INT)? {
        c.lease_ms = v;
    }
    if let Some(v) = parse(env, "BATON_MAX_JOBS_PER_ASSIGNMENT", INT)? {
        c.max_jobs_per_assignment = v;
    }
    if let Some(v) = parse(env, "BATON_MAX_LOST_LEASES", INT)? {
        c.max_lost_leases = v;
    }
    if let Some(v) = parse(env, "BATON_HOST_GONE_MS", INT)? {
        c.host_gone_ms = v;
    }
    if let Some(v) = env("BATON_HOST").filter(|v| !v.trim().is_empty()) {
        c.host = Some(v.trim().to_string());
    }
    if let Some(v) = env("BATON_SYNC_REMOTE").filter(|v| !v.trim().is_empty()) {
        c.sync_remote = Some(v.trim().to_string());
    }
    if let Some(v) = env("BATON_ISOLATION").filter(|v| !v.trim().is_empty()) {
        c.isolation =
            v.trim().parse().map_err(|message| Error::ConfigEnv { name: "BATON_ISOLATION".to_string(), message })?;
    }
    if let Some(v) = env("BATON_CONTAINMENT").filter(|v| !v.trim().is_empty()) {
        c.containment =
            v.trim().parse().map_err(|message| Error::ConfigEnv { name: "BATON_CONTAINMENT".to_string(), message })?;
    }
    if let Some(v) = env("BATON_AGENT_INTERFACE").filter(|v| !v.trim().is_empty()) {
        c.agent_interface = v
            .trim()
            .parse()
            .map_err(|message| Error::ConfigEnv { name: "BATON_AGENT_INTERFACE".to_string(), message })?;
    }
    if let Some(v) = env("BATON_SANDBOX").filter(|v| !v.trim().is_empty()) {
        c.sandbox =
            v.trim().parse().map_err(|message| Error::ConfigEnv { name: "BATON_SANDBOX".to_string(), message })?;
    }
    if let Some(v) = env("BATON_WORKTREE_DIR").filter(|v| !v.trim().is_empty()) {
        c.worktree_dir = c.repo_root.join(v.trim());
    }
    if let Some(v) = env("BATON_WORKTREE_SETUP").filter(|v| !v.trim().is_empty()) {
        c.worktree_setup = Some(v);
    }
    if let Some(v) = env("BATON_COMMIT").filter(|v| !v.trim().is_empty()) {
        c.commit =
            v.trim().parse().map_err(|message| Error::ConfigEnv { name: "BATON_COMMIT".to_string(), message })?;
    }
    if let Some(v) = parse(env, "BATON_COMMIT_MAX_FILE_BYTES", INT)? {
        c.commit_max_file_bytes = v;
    }
    let bad = |name: &str| {
        let name = name.to_string();
        move |message| Error::ConfigEnv { name, message }
    };
    if let Some(v) = env("BATON_OTLP_ENDPOINT").filter(|v| !v.trim().is_empty()) {
        let endpoint = super::telemetry::check_endpoint(&v, "telemetry.otlp_endpoint");
        c.telemetry.otlp_endpoint = Some(endpoint.map_err(bad("BATON_OTLP_ENDPOINT"))?);
    }
    if let Some(v) = env("BATON_OTLP_PROTOCOL").filter(|v| !v.trim().is_empty()) {
        let protocol = super::telemetry::check_protocol(&v, "telemetry.otlp_protocol");
        c.telemetry.otlp_protocol = protocol.map_err(bad("BATON_OTLP_PROTOCOL"))?;
    }
    Ok(())
}
