//! Prompt templates: one per job type, built into the binary, overridable per repository.
//!
//! `baton init --templates` writes the built-ins to `.baton/templates/`; a file there wins over
//! the built-in of the same name, so people can tune how their agents are briefed — unless it is
//! an untouched copy of an earlier built-in ([`crate::template_history`]). Templates are minijinja;
//! undefined variables are errors, and every error names the file and line.

mod compiled;

use baton_core::config::BATON_DIR;
use baton_core::prompt_dictionary::PromptDictionary;
use baton_core::JobType;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The built-in templates, by file name: one per job type plus shared partials (`_*.md`).
pub const BUILTIN: &[(&str, &str)] = &[
    ("_assignment.md", include_str!("../../templates/_assignment.md")),
    ("_report.md", include_str!("../../templates/_report.md")),
    ("plan.md", include_str!("../../templates/plan.md")),
    ("implement.md", include_str!("../../templates/implement.md")),
    ("review.md", include_str!("../../templates/review.md")),
    ("uat.md", include_str!("../../templates/uat.md")),
    ("document.md", include_str!("../../templates/document.md")),
    ("pm.md", include_str!("../../templates/pm.md")),
    ("chat.md", include_str!("../../templates/chat.md")),
    ("continue.md", include_str!("../../templates/continue.md")),
];

/// The built-in templates as one text: the dictionary every stored prompt is compressed against
/// (see `baton_store::prompt`). A prompt rendered from them then costs about a tenth of its size,
/// its template text being back-references into this; a prompt from overrides still gains
/// wherever they kept the built-in wording. The PM's template, the largest and run after every
/// job, comes last, where DEFLATE's back-references are shortest.
pub fn prompt_dictionary() -> Arc<PromptDictionary> {
    static DICTIONARY: OnceLock<Arc<PromptDictionary>> = OnceLock::new();
    let built = || {
        let last = ["_report.md", "_assignment.md", "pm.md"];
        let mut files = BUILTIN.to_vec();
        // A stable sort: the others keep their order and come first (`None` sorts before `Some`).
        files.sort_by_key(|(name, _)| last.iter().position(|l| l == name));
        Arc::new(PromptDictionary::new(files.iter().map(|(_, text)| *text).collect::<String>()))
    };
    Arc::clone(DICTIONARY.get_or_init(built))
}

/// The folder of a repository's template overrides.
pub fn override_dir(repo_root: &Path) -> PathBuf {
    repo_root.join(BATON_DIR).join("templates")
}

/// The built-in template `name`, if there is one.
pub fn builtin(name: &str) -> Option<String> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| t.to_string())
}

/// A template that failed to load or render, with where.
#[derive(Debug, thiserror::Error)]
#[error("template {file}{line}: {message}")]
pub struct TemplateError {
    pub file: String,
    pub line: String,
    pub message: String,
}

/// Renders the template of `job_type` with `context`, preferring the repository's override.
pub fn render(repo_root: &Path, job_type: JobType, context: &serde_json::Value) -> Result<String, TemplateError> {
    render_named(repo_root, &format!("{job_type}.md"), context)
}

/// Renders the template file `name` (e.g. `continue.md`) with `context`.
pub fn render_named(repo_root: &Path, name: &str, context: &serde_json::Value) -> Result<String, TemplateError> {
    let dir = override_dir(repo_root);
    let describe = |e: &minijinja::Error| {
        let file = e.name().unwrap_or(name).to_string();
        let shown = if dir.join(&file).is_file() {
            dir.join(&file).display().to_string()
        } else {
            format!("{file} (built-in)")
        };
        TemplateError {
            file: shown,
            line: e.line().map(|l| format!(" line {l}")).unwrap_or_default(),
            message: e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string()),
        }
    };
    compiled::render(&dir, name, context, source).map(|text| tidy(&text)).map_err(|e| describe(&e))
}

/// What template `name` is for the override folder `overrides`: the file there unless it is
/// missing or an untouched copy of an earlier built-in, else the built-in (`None`: neither).
fn source(overrides: &Path, name: &str) -> Result<Option<String>, minijinja::Error> {
    let Some(path) = inside(overrides, name) else {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "`{name}` is outside {}; templates include only files in that folder and the built-ins",
                overrides.display()
            ),
        ));
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !crate::template_history::is_untouched_old_copy(name, &text) => Ok(Some(text)),
        Ok(_) => Ok(builtin(name)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(builtin(name)),
        Err(e) => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// One clean document: never two blank lines in a row, and no trailing spaces — except inside
/// fenced blocks, which quote reports and plans exactly as written.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fence: Option<String> = None;
    let mut blank_run = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker: String = bare.trim_start().chars().take_while(|c| *c == '`').collect();
        if fence.is_some() {
            if marker.len() >= 3 && fence.as_deref().is_some_and(|f| marker.starts_with(f)) && bare.trim() == marker {
                fence = None;
            }
            out.push_str(line);
            continue;
        }
        if marker.len() >= 3 {
            fence = Some(marker);
        }
        if bare.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
            out.push('\n');
            continue;
        }
        blank_run = 0;
        out.push_str(bare.trim_end());
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// Where template `name` lives in `dir`, if it stays there: a plain relative name, and once any
/// symbolic link is followed still inside `dir`. A prompt is handed to an agent and often shown,
/// so `{% include "../../../../etc/passwd" %}` must not read the machine's files into it.
fn inside(dir: &Path, name: &str) -> Option<PathBuf> {
    let relative = Path::new(name);
    if relative.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
        return None;
    }
    let path = dir.join(relative);
    match (path.canonicalize(), dir.canonicalize()) {
        (Ok(real), Ok(root)) if !real.starts_with(&root) => None,
        // Missing files fall back to the built-ins; no folder means no overrides at all.
        _ => Some(path),
    }
}

/// Writes the built-in templates into the repository's override folder; existing files are kept
/// unless `force`. Returns the files written.
pub fn write_builtins(repo_root: &Path, force: bool) -> std::io::Result<Vec<PathBuf>> {
    let dir = override_dir(repo_root);
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for (name, text) in BUILTIN {
        let path = dir.join(name);
        if path.exists() && !force {
            continue;
        }
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> serde_json::Value {
        json!({
            "repo_root": "/src/app",
            "workdir": "/src/app/.baton/worktrees/a1",
            "branch": "baton/a1",
            "base_commit": "0a1b2c3",
            "base_branch": "main",
            "assignment": {"id": "a1", "north_star": "Add OAuth login", "context": "Providers: GitHub"},
            "plan": {"id": "j0", "result": "Summary: three steps\n\n\n1. the route"},
            "assignment_git": {"commits_ahead": 2, "diff_stat": " src/auth.rs | 40 ++++", "dirty_warning": "the worktree has uncommitted changes"},
            "standing": {"jobs": 3, "max_jobs": 50, "cost_usd": "0.0125", "cost_note": "leaves out 1 unpriced job",
                "budget_usd": "5.00", "left_usd": "4.9875", "budget_tokens": 2000000, "tokens_spent": 1200,
                "left_tokens": 1998800, "review_rounds": 1,
                "queued": [{"id": "j3", "type": "review", "harness": "codex"}]},
            "job": {"id": "j2", "type": "pm", "context": "", "harness": "claude"},
            "chain": [
                {"position": 1, "id": "j1", "type": "implement", "harness": "claude", "status": "complete", "summary": "added the route"},
                {"position": 2, "id": "j2", "type": "pm", "harness": "claude", "status": "running", "summary": ""}
            ],
            "reviewed": {"id": "j1", "type": "implement", "status": "complete", "context": "do it", "result": "Done.",
                "error": null, "error_kind": null, "git_head_before": "abc123", "git_head_after": "def456",
                "diff_stat": " src/auth.rs | 12 ++++++++----", "warnings": ["left out .env"]},
            "notes": [{"at": "2026-11-28 07:00", "actor": "person:ada", "text": "use the v2 API"}],
            "mcp_tools": false,
        })
    }

    #[test]
    fn with_the_mcp_server_the_prompts_name_its_tools_and_without_it_they_do_not() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = context();
        for t in JobType::ALL {
            c["job"]["type"] = json!(t.as_str());
            let text = render(tmp.path(), *t, &c).unwrap();
            assert!(!text.contains("mcp__baton__"), "{t}: {text}");
        }
        c["mcp_tools"] = json!(true);
        let implement = render(tmp.path(), JobType::Implement, &c).unwrap();
        assert!(
            implement.contains("### baton's tools") && implement.contains("`mcp__baton__insert_job`"),
            "{implement}"
        );
        let pm = render(tmp.path(), JobType::Pm, &c).unwrap();
        assert!(
            pm.contains("`mcp__baton__insert_job`") && pm.contains("`mcp__baton__proceed` (`assignment_id`)"),
            "{pm}"
        );
        assert!(pm.contains("baton insert-job a1 --type"), "the CLI stays: {pm}");
    }

    /// Every job type's built-in prompt, rendered with the test context.
    fn every_builtin_prompt() -> Vec<(JobType, String)> {
        let tmp = tempfile::tempdir().unwrap();
        let prompt = |t: JobType| {
            let mut c = context();
            c["job"]["type"] = json!(t.as_str());
            render(tmp.path(), t, &c).unwrap()
        };
        JobType::ALL.iter().map(|t| (*t, prompt(*t))).collect()
    }

    #[test]
    fn the_prompt_dictionary_holds_every_builtin_and_makes_their_prompts_cheap_to_store() {
        let dictionary = prompt_dictionary();
        let text = std::str::from_utf8(dictionary.text()).unwrap();
        for (name, builtin) in BUILTIN {
            assert!(text.contains(builtin), "{name} is in the dictionary");
        }
        assert!(text.ends_with(BUILTIN.iter().find(|(n, _)| *n == "pm.md").unwrap().1), "the PM's template last");
        assert!(text.len() <= 32 * 1024, "DEFLATE looks back 32 KiB at most; the dictionary is {} bytes", text.len());
        for (t, prompt) in every_builtin_prompt() {
            let stored = baton_store::prompt::pack(&prompt, Some(&dictionary)).unwrap().compressed.len();
            let alone = baton_store::prompt::pack(&prompt, None).unwrap().compressed.len();
            assert!(stored * 5 <= prompt.len(), "{t}: {stored} bytes stored for {} (alone: {alone})", prompt.len());
        }
    }

    #[test]
    fn every_builtin_renders() {
        for (t, text) in every_builtin_prompt() {
            assert!(text.contains("Add OAuth login"), "{t}: {text}");
        }
    }

    /// A continuation's prompt is short: what happened since and what to do now, not the
    /// briefing its session already holds.
    #[test]
    fn the_continuation_prompt_leaves_out_the_briefing() {
        let mut c = context();
        c["job"] = json!({"id": "j4", "type": "implement", "context": "fix the two findings", "harness": "claude"});
        c["session"] = json!({"source_job_id": "j1", "since": [
            {"id": "j3", "type": "review", "status": "complete", "result": "Two findings: …", "error": null}
        ]});
        let text = render_named(Path::new("/nonexistent"), "continue.md", &c).unwrap();
        assert!(text.starts_with("# Continuing your session: implement job j4"), "{text}");
        assert!(text.contains("earlier work (job j1)") && text.contains("Two findings: …"), "{text}");
        assert!(text.contains("fix the two findings"), "{text}");
        assert!(!text.contains("Add OAuth login"), "no north star: {text}");
        assert!(!text.contains("added the route"), "no chain: {text}");
    }

    #[test]
    fn the_pm_prompt_offers_carrying_a_session_over() {
        let text = render(Path::new("/nonexistent"), JobType::Pm, &context()).unwrap();
        assert!(text.contains("--continue <the implementer's job id>"), "{text}");
        assert!(text.contains("--fork <job id>"), "{text}");
    }

    #[test]
    fn the_pm_prompt_names_concrete_commands() {
        let text = render(Path::new("/nonexistent"), JobType::Pm, &context()).unwrap();
        assert!(text.contains("baton insert-job a1 --type"), "{text}");
        assert!(text.contains("--context-file - <<'EOF'"), "the shell-safe form: {text}");
        assert!(text.contains("baton proceed a1"), "a queued job is offered: {text}");
        assert!(text.contains("the queued job\n`j3` runs next"), "the truth about exiting undecided: {text}");
        assert!(text.contains("Jobs: 3 of at most 50."), "{text}");
        // Spend against the budgets, and what the figure leaves out.
        assert!(text.contains("Spent: $0.0125 (leaves out 1 unpriced job) of a $5.00 budget, $4.9875 left."), "{text}");
        assert!(
            text.contains("Tokens: 1200 input + output + cache-write tokens of a 2000000-token budget, 1998800 left.")
        );
        assert!(text.contains("blocks the assignment for a person"), "{text}");
        assert!(text.contains("Implement → review rounds so far: 1."), "{text}");
        assert!(text.contains("left out .env"), "warnings reach the PM: {text}");
        assert!(text.contains("2 commits ahead of its base (`0a1b2c3`)"), "{text}");
        assert!(text.contains(" src/auth.rs | 40 ++++") && text.contains("baton diff a1 --stat"), "{text}");
        assert!(text.contains("Warning: the worktree has uncommitted changes."), "{text}");
        assert!(text.contains("1. the route"), "the plan in full: {text}");
        assert!(text.contains("baton update-assignment a1 --status complete"));
        assert!(text.contains("baton update-assignment a1 --status blocked --reason"));
        assert!(text.contains("Done."));
        assert!(text.contains("use the v2 API"));
        assert!(text.contains("src/auth.rs | 12"), "the PM sees what changed");
        assert!(text.contains("diff --stat abc123 def456"), "the command that prints the figure: {text}");
        assert!(text.contains("git -C /src/app/.baton/worktrees/a1 diff abc123 def456"), "{text}");
    }

    #[test]
    fn rendered_prompts_never_hold_two_blank_lines_in_a_row_outside_quotes() {
        for (t, text) in every_builtin_prompt() {
            let outside_quotes = text.split("````").step_by(2).collect::<Vec<_>>().join("````");
            assert!(!outside_quotes.contains("\n\n\n"), "{t}:\n{outside_quotes}");
            assert!(!text.starts_with('\n'), "{t}");
        }
    }

    #[test]
    fn tidy_keeps_fenced_text_exactly() {
        let text = "a\n\n\n\nb  \n````\nx\n\n\ny  \n````\n\n\nc\n";
        assert_eq!(tidy(text), "a\n\nb\n````\nx\n\n\ny  \n````\n\nc\n");
    }

    /// A repository folder with an empty override folder, and that folder.
    fn repository_with_overrides() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = override_dir(tmp.path());
        std::fs::create_dir_all(&dir).unwrap();
        (tmp, dir)
    }

    #[test]
    fn an_override_wins_and_errors_name_file_and_line() {
        let (tmp, dir) = repository_with_overrides();
        std::fs::write(dir.join("plan.md"), "PLAN for {{ assignment.north_star }}").unwrap();
        assert_eq!(render(tmp.path(), JobType::Plan, &context()).unwrap(), "PLAN for Add OAuth login");
        std::fs::write(dir.join("plan.md"), "line one\n{{ assignment.nonexistent_field.x }}\n").unwrap();
        let err = render(tmp.path(), JobType::Plan, &context()).unwrap_err().to_string();
        assert!(err.contains("plan.md") && err.contains("line 2"), "{err}");
        std::fs::write(dir.join("plan.md"), "{% if %}").unwrap();
        let err = render(tmp.path(), JobType::Plan, &context()).unwrap_err().to_string();
        assert!(err.contains("plan.md line 1"), "{err}");
    }

    #[test]
    fn includes_resolve_only_inside_the_templates_folder_and_the_builtins() {
        let (tmp, dir) = repository_with_overrides();
        let secret = tmp.path().join("secret.txt");
        std::fs::write(&secret, "TOP SECRET").unwrap();
        std::os::unix::fs::symlink(&secret, dir.join("link.md")).unwrap();
        std::fs::write(dir.join("mine.md"), "my partial").unwrap();
        let secret_path = secret.display().to_string();
        for include in ["../../secret.txt", secret_path.as_str(), "link.md", "./../../secret.txt"] {
            std::fs::write(dir.join("plan.md"), format!("{{% include \"{include}\" %}}")).unwrap();
            let err = render(tmp.path(), JobType::Plan, &context()).unwrap_err().to_string();
            assert!(err.contains("is outside") && !err.contains("TOP SECRET"), "{include}: {err}");
        }
        std::fs::write(dir.join("plan.md"), "{% include \"mine.md\" %} / {% include \"_report.md\" %}").unwrap();
        let text = render(tmp.path(), JobType::Plan, &context()).unwrap();
        assert!(text.starts_with("my partial / "), "{text}");
    }

    #[test]
    fn an_edit_to_a_template_or_an_include_shows_in_the_next_render() {
        let (tmp, dir) = repository_with_overrides();
        std::fs::write(dir.join("plan.md"), "plan: {% include \"part.md\" %}").unwrap();
        std::fs::write(dir.join("part.md"), "first").unwrap();
        assert_eq!(render(tmp.path(), JobType::Plan, &context()).unwrap(), "plan: first");
        assert_eq!(render(tmp.path(), JobType::Plan, &context()).unwrap(), "plan: first", "kept, and still right");
        std::fs::write(dir.join("part.md"), "second").unwrap();
        assert_eq!(render(tmp.path(), JobType::Plan, &context()).unwrap(), "plan: second");
        std::fs::write(dir.join("plan.md"), "PLAN: {% include \"part.md\" %}").unwrap();
        assert_eq!(render(tmp.path(), JobType::Plan, &context()).unwrap(), "PLAN: second");
        std::fs::remove_file(dir.join("plan.md")).unwrap();
        let builtin = render(tmp.path(), JobType::Plan, &context()).unwrap();
        assert!(!builtin.starts_with("PLAN"), "the removed override gives way to the built-in: {builtin}");
    }

    #[test]
    fn write_builtins_keeps_edits_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(write_builtins(tmp.path(), false).unwrap().len(), BUILTIN.len());
        std::fs::write(override_dir(tmp.path()).join("pm.md"), "mine").unwrap();
        assert!(write_builtins(tmp.path(), false).unwrap().is_empty());
        assert_eq!(write_builtins(tmp.path(), true).unwrap().len(), BUILTIN.len());
    }
}
