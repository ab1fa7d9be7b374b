//! The rules for a job's session and model choices: which earlier job a continuation or fork may
//! carry on (checked against the stored source job, inside the insert's transaction), and which
//! models and efforts a harness takes (checked against the config before anything is stored).

use super::{NewJob, SessionSource};
use crate::config::{Config, HarnessConfig};
use crate::error::{Error, InvalidInput, Result};
use crate::model::{Job, SessionMode};
use baton_harness::Format;

/// The flag a person typed for `mode`, for messages.
pub fn flag(mode: SessionMode) -> &'static str {
    match mode {
        SessionMode::Forked => "--fork",
        _ => "--continue",
    }
}

/// Efforts each built-in format accepts, as each CLI spells them (claude `--effort`, codex
/// `model_reasoning_effort`); gemini has no effort setting. codex takes any value silently, so
/// baton is the one that checks.
pub fn default_efforts(format: Format) -> &'static [&'static str] {
    match format {
        Format::Claude => &["low", "medium", "high", "xhigh", "max"],
        Format::Codex => &["minimal", "low", "medium", "high", "xhigh"],
        Format::Gemini | Format::Text => &[],
    }
}

/// The efforts `harness` accepts: `[harness.NAME] efforts` when set, else its format's.
pub fn efforts(harness: &HarnessConfig) -> Vec<String> {
    match &harness.efforts {
        Some(list) => list.clone(),
        None => default_efforts(harness.format).iter().map(|s| (*s).to_string()).collect(),
    }
}

/// Checks `new`'s model, effort and session mode against its harness's config. `by_agent`: the
/// caller is an agent (a PM), which the `models` allowlist limits; a person may pick any model.
pub fn check_choices(config: &Config, new: &NewJob, by_agent: bool) -> Result<()> {
    let name = &new.harness;
    config.check_harness(name)?;
    let Some(harness) = config.harnesses.get(name) else { return Ok(()) };
    if let Some(model) = &new.model {
        if model.trim().is_empty() || model.contains('\0') {
            return Err(invalid(format!("--model is empty; name a model of harness {name}, e.g. --model opus")));
        }
        let allowed = harness.models.is_empty()
            || harness.models.contains(model)
            || harness.model.as_deref() == Some(model.as_str());
        if by_agent && !allowed {
            return Err(invalid(format!(
                "model `{model}` is not allowed for harness {name}; choose one of: {} ([harness.{name}] models)",
                allowed_models(harness).join(", ")
            )));
        }
    }
    if let Some(effort) = &new.effort {
        let valid = efforts(harness);
        if valid.is_empty() {
            return Err(invalid(format!(
                "harness {name} has no effort setting; drop --effort (or list them in [harness.{name}] efforts)"
            )));
        }
        if !valid.contains(effort) {
            return Err(invalid(format!(
                "harness {name} does not accept effort `{effort}`; valid values: {}",
                valid.join(", ")
            )));
        }
    }
    if let Some(source) = &new.session {
        if source.mode == SessionMode::Forked && harness.format == Format::Gemini {
            return Err(invalid("gemini cannot fork a session; use --continue"));
        }
        if harness.format == Format::Text {
            return Err(invalid(format!(
                "harness {name} runs a plain command, which has no session to carry over; drop {}",
                flag(source.mode)
            )));
        }
    }
    Ok(())
}

fn allowed_models(harness: &HarnessConfig) -> Vec<String> {
    let mut all = harness.models.clone();
    if let Some(own) = &harness.model {
        if !all.contains(own) {
            all.push(own.clone());
        }
    }
    all
}

/// Checks that `source` (the stored job `new.session` names) can really be carried on by a job of
/// assignment `aid` on `new.harness`.
pub fn check_source(new: &NewJob, source_request: &SessionSource, aid: &str, source: &Job) -> Result<()> {
    let flag = flag(source_request.mode);
    if source.assignment_id != aid {
        return Err(invalid(format!(
            "job {} belongs to assignment {}, not {aid}; {flag} takes a job of the same assignment",
            source.id, source.assignment_id
        )));
    }
    if source.harness != new.harness {
        return Err(invalid(format!(
            "job {} ran on {}, not {}; a session carries over only on its own harness (drop --harness)",
            source.id, source.harness, new.harness
        )));
    }
    if source.session_id.is_none() {
        return Err(invalid(format!(
            "job {} recorded no agent session (it has not run yet, or its harness reports none); queue a fresh \
             job without {flag}",
            source.id
        )));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidInput(InvalidInput::new(message))
}
