//! Building a harness's command line (argv) from its format and config.
//!
//! The prompt never goes on the command line: the runner writes it to the
//! child's stdin and closes it (no argument-length limits, no leaking the
//! prompt through `ps`). Each default below was checked against the real
//! CLIs (captures in the harness README):
//!
//! - claude: `-p` with no positional prompt reads stdin
//!   (`mock-claude-stdin`); `--verbose` is mandatory with stream-json
//!   (`run-claude-stream-noverbose`).
//! - codex: `exec [PROMPT]`, "If not provided as an argument (or if `-` is
//!   used), instructions are read from stdin" (`codex-exec-help.txt`,
//!   `mock-codex-stdin`). Plus `-c` overrides so that the agent's own `baton`
//!   calls work from inside codex's shell tool (see [`codex_overrides`]);
//!   checked against codex 0.171 by `crates/baton/tests/real_clis`.
//! - gemini: with stdin piped and no `-p`, a non-TTY run is headless and
//!   takes the prompt from stdin (`mock-gemini-stdin`; `gemini-help.txt`:
//!   `-p` is "Appended to input on stdin"). `--skip-trust` keeps yolo from
//!   being downgraded in an untrusted folder.
//!
//! Sessions (checked against claude 2.1.197, codex 0.171 and gemini 0.61): a new claude or gemini
//! session gets the id baton chose (`--session-id`), so the job knows it before the first event;
//! claude resumes with `--resume ID` and forks with `--resume ID --fork-session --session-id NEW`;
//! gemini resumes with `--resume ID` and cannot fork; codex resumes with `exec resume … ID -` and
//! forks with `exec fork … ID -`. Neither codex subcommand takes `--sandbox`
//! (`codex-exec-resume-help.txt`), so the sandbox goes as `-c sandbox_mode=…` there.
//!
//! Effort: claude `--effort LEVEL`, codex `-c model_reasoning_effort="LEVEL"`; gemini has none.
//!
//! Placeholders, substituted inside any argument (of `command` and of
//! `args`): `{prompt_file}` → the prompt file path, `{model}` → the model.

use std::path::{Path, PathBuf};

use crate::format::Format;

/// Inputs for [`build`].
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec<'a> {
    /// Harness name from the config (`[harness.NAME]`), for error messages.
    pub name: &'a str,
    pub format: Format,
    /// User override (config `command`); `None` = built-in default for the
    /// format. With an override, baton still appends the model flag (unless
    /// the command uses `{model}`), the codex `-c` overrides and `args`,
    /// but not the codex trailing `-` (codex reads stdin without it).
    pub command: Option<&'a [String]>,
    pub model: Option<&'a str>,
    /// Extra arguments, appended after the format's flags (for codex before
    /// the trailing `-` prompt marker).
    pub args: &'a [String],
    /// Substituted for the literal `{prompt_file}` in any argument.
    pub prompt_file: &'a Path,
    /// codex: extra writable roots for the `workspace-write` sandbox.
    pub extra_writable_dirs: &'a [PathBuf],
    /// codex: allow network access inside the `workspace-write` sandbox.
    pub network_access: bool,
    /// codex: further `-c key=value` settings (its OpenTelemetry exporter), before `args` so a
    /// person's own `-c` there wins.
    pub codex_config: &'a [String],
    /// The reasoning effort (claude and codex only).
    pub effort: Option<&'a str>,
    /// A new session, or an earlier one carried on.
    pub session: Session<'a>,
}

/// How the agent's session begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Session<'a> {
    /// A new conversation; `id` is the one to give it where the CLI lets the caller choose.
    New { id: Option<&'a str> },
    /// The next turn of session `id`.
    Resume { id: &'a str },
    /// A new session (`new_id`, where the CLI lets the caller choose) copied from `id`.
    Fork { id: &'a str, new_id: Option<&'a str> },
    /// Whatever the CLI does by default.
    #[default]
    Default,
}

/// Why a command line could not be built. Every message names the harness
/// and says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("harness {name} with format text needs `command` in [harness.{name}]")]
    TextNeedsCommand { name: String },
    #[error("harness {name}: `command` in [harness.{name}] is empty; give at least the program to run")]
    EmptyCommand { name: String },
    #[error("harness {name}: the program (first element of `command`) is an empty string")]
    EmptyProgram { name: String },
    #[error(
        "harness {name} with format text has no model flag: put `{{model}}` in [harness.{name}] command or args, or remove the model"
    )]
    ModelNotSupported { name: String },
    #[error("harness {name}: `{{model}}` is used in the command but no model is configured")]
    MissingModel { name: String },
    #[error("harness {name}: path {path:?} is not valid UTF-8")]
    NonUtf8Path { name: String, path: PathBuf },
    #[error("harness {name}: codex writable dir {path:?} must be an absolute path")]
    RelativeWritableDir { name: String, path: PathBuf },
    #[error("harness {name} cannot carry a session over: {why}")]
    NoSessionCarryOver { name: String, why: &'static str },
    #[error("harness {name} has no effort setting; drop the effort")]
    EffortNotSupported { name: String },
}

/// The placeholder a command names to get the prompt as a file.
pub const PROMPT_FILE: &str = "{prompt_file}";
const MODEL: &str = "{model}";

/// Built-in default argv (without model/sandbox/args) for a format.
fn default_command(format: Format) -> Option<&'static [&'static str]> {
    Some(match format {
        Format::Claude => {
            &["claude", "-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "bypassPermissions"]
        }
        Format::Codex => &["codex", "exec", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write"],
        Format::Gemini => &["gemini", "--output-format", "stream-json", "--approval-mode", "yolo", "--skip-trust"],
        Format::Text => return None,
    })
}

/// The codex subcommand that carries a session on, and its session id.
fn codex_carry_over(session: Session<'_>) -> Option<(&'static str, &str)> {
    match session {
        Session::Resume { id } => Some(("resume", id)),
        Session::Fork { id, .. } => Some(("fork", id)),
        Session::New { .. } | Session::Default => None,
    }
}

/// The built-in codex command line for `exec resume` / `exec fork`: the same settings as a new
/// session's, with the sandbox as a `-c` key (neither subcommand takes `--sandbox`).
fn codex_carry_over_command(subcommand: &str) -> Vec<String> {
    ["codex", "exec", subcommand, "--json", "--skip-git-repo-check", "-c", "sandbox_mode=\"workspace-write\""]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// Flags that pick the session, for claude and gemini.
fn session_flags(format: Format, session: Session<'_>) -> Vec<String> {
    let pair = |flag: &str, value: &str| vec![flag.to_owned(), value.to_owned()];
    match (format, session) {
        (Format::Claude | Format::Gemini, Session::New { id: Some(id) }) => pair("--session-id", id),
        (Format::Claude | Format::Gemini, Session::Resume { id }) => pair("--resume", id),
        (Format::Claude, Session::Fork { id, new_id }) => {
            let mut flags = pair("--resume", id);
            flags.push("--fork-session".to_owned());
            if let Some(new_id) = new_id {
                flags.extend(pair("--session-id", new_id));
            }
            flags
        }
        _ => Vec::new(),
    }
}

/// Refuses carry-overs a harness cannot do.
fn check_session(spec: &CommandSpec) -> Result<(), CommandError> {
    let refuse = |why| Err(CommandError::NoSessionCarryOver { name: spec.name.to_owned(), why });
    let carries_over = matches!(spec.session, Session::Resume { .. } | Session::Fork { .. });
    match spec.format {
        Format::Text if carries_over => refuse("a plain command has no session"),
        Format::Gemini if matches!(spec.session, Session::Fork { .. }) => refuse("gemini cannot fork a session"),
        Format::Codex if carries_over && spec.command.is_some() => {
            refuse("its own `command` replaces `codex exec`, so baton cannot add `resume`/`fork`")
        }
        _ => Ok(()),
    }
}

/// The full argv for a run; `argv[0]` is the program.
pub fn build(spec: &CommandSpec) -> Result<Vec<String>, CommandError> {
    let name = || spec.name.to_owned();
    check_session(spec)?;
    let codex_session = if spec.format == Format::Codex { codex_carry_over(spec.session) } else { None };
    let base: Vec<String> = match (spec.command, codex_session) {
        (Some([]), _) => return Err(CommandError::EmptyCommand { name: name() }),
        (Some(cmd), _) => cmd.to_vec(),
        (None, Some((subcommand, _))) => codex_carry_over_command(subcommand),
        (None, None) => match default_command(spec.format) {
            Some(d) => d.iter().map(|s| (*s).to_owned()).collect(),
            None => return Err(CommandError::TextNeedsCommand { name: name() }),
        },
    };
    if base.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(CommandError::EmptyProgram { name: name() });
    }

    let uses_model_placeholder = base.iter().chain(spec.args).any(|a| a.contains(MODEL));
    let mut argv = base;

    if let (Some(model), false) = (spec.model, uses_model_placeholder) {
        match spec.format {
            Format::Claude => argv.extend(["--model".to_owned(), model.to_owned()]),
            Format::Codex | Format::Gemini => argv.extend(["-m".to_owned(), model.to_owned()]),
            Format::Text => return Err(CommandError::ModelNotSupported { name: name() }),
        }
    }

    if let Some(effort) = spec.effort {
        match spec.format {
            Format::Claude => argv.extend(["--effort".to_owned(), effort.to_owned()]),
            Format::Codex => argv.extend(["-c".to_owned(), format!("model_reasoning_effort={}", toml_string(effort))]),
            Format::Gemini | Format::Text => return Err(CommandError::EffortNotSupported { name: name() }),
        }
    }

    argv.extend(session_flags(spec.format, spec.session));

    if spec.format == Format::Codex {
        argv.extend(codex_overrides(spec)?);
    }

    argv.extend(spec.args.iter().cloned());

    if spec.format == Format::Codex && spec.command.is_none() {
        // The session to carry on, then explicit "prompt comes from stdin" (clap positionals).
        // Last, so that user args cannot be mistaken for either.
        if let Some((_, id)) = codex_session {
            argv.push(id.to_owned());
        }
        argv.push("-".to_owned());
    }

    argv.into_iter()
        .map(|a| {
            let mut a = a;
            if a.contains(PROMPT_FILE) {
                // Only checked when used: the default commands never need
                // the path.
                a = a.replace(PROMPT_FILE, path_str(spec.name, spec.prompt_file)?);
            }
            if a.contains(MODEL) {
                match spec.model {
                    Some(m) => a = a.replace(MODEL, m),
                    None => return Err(CommandError::MissingModel { name: name() }),
                }
            }
            Ok(a)
        })
        .collect()
}

/// `-c` overrides that let a codex agent run `baton` from its shell tool.
///
/// - `allow_login_shell=false`: codex 0.171 runs the model's commands as
///   `/bin/bash -lc …`, a login shell, and a login shell rebuilds PATH from
///   `/etc/profile` (Debian sets it outright), dropping the folder the runner
///   put first — the agent's bare `baton` was "command not found". Without a
///   login shell the command runs as `/bin/bash -c …` with the inherited PATH.
///   (The key is `ConfigToml.allow_login_shell`; with it set, a model that asks
///   for `login: true` is told to omit it.) A user who wants login shells back
///   can pass `-c allow_login_shell=true` in `args`, which come later and win.
/// - `sandbox_workspace_write.writable_roots=[…]`: the folder of the attempt's
///   socket, through which the agent's `baton` reaches its runner (baton's own
///   sandbox binds it in writable; codex's makes mount points in every root).
/// - `sandbox_workspace_write.network_access=true`: codex's seccomp filter
///   otherwise refuses `connect` on every socket, the runner's Unix socket
///   included.
///
/// All three keys were checked against codex 0.171: it accepts them (an
/// unknown key yields an "ignoring unrecognized configuration setting"
/// warning event; a wrong type fails with "Error loading config.toml", exit
/// 1), and each changes what the shell tool can do in the way described.
/// `-c` takes a dotted path and a TOML value (`codex-exec-help.txt`). `-c` is
/// used rather than `--add-dir` because `exec resume` has no `--add-dir`
/// (`codex-exec-resume-help.txt`) while `-c` works for both. Note that
/// `writable_roots` given this way replaces a list set in the user's
/// config.toml rather than extending it, and that every writable root must
/// exist (codex's bubblewrap sandbox fails every command otherwise).
fn codex_overrides(spec: &CommandSpec) -> Result<Vec<String>, CommandError> {
    let mut out = vec!["-c".to_owned(), "allow_login_shell=false".to_owned()];
    if !spec.extra_writable_dirs.is_empty() {
        let mut items = Vec::with_capacity(spec.extra_writable_dirs.len());
        for dir in spec.extra_writable_dirs {
            if !dir.is_absolute() {
                return Err(CommandError::RelativeWritableDir { name: spec.name.to_owned(), path: dir.clone() });
            }
            items.push(toml_string(path_str(spec.name, dir)?));
        }
        out.push("-c".to_owned());
        out.push(format!("sandbox_workspace_write.writable_roots=[{}]", items.join(",")));
    }
    if spec.network_access {
        out.push("-c".to_owned());
        out.push("sandbox_workspace_write.network_access=true".to_owned());
    }
    for setting in spec.codex_config {
        out.push("-c".to_owned());
        out.push(setting.clone());
    }
    Ok(out)
}

fn path_str<'p>(name: &str, p: &'p Path) -> Result<&'p str, CommandError> {
    p.to_str().ok_or_else(|| CommandError::NonUtf8Path { name: name.to_owned(), path: p.to_path_buf() })
}

/// A TOML basic string literal.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(format: Format) -> CommandSpec<'static> {
        CommandSpec {
            name: "h",
            format,
            command: None,
            model: None,
            args: &[],
            prompt_file: Path::new("/tmp/p.md"),
            extra_writable_dirs: &[],
            network_access: false,
            codex_config: &[],
            effort: None,
            session: Session::Default,
        }
    }

    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    #[test]
    fn claude_default() {
        let argv = build(&spec(Format::Claude)).unwrap();
        assert_eq!(
            strs(&argv),
            ["claude", "-p", "--output-format", "stream-json", "--verbose", "--permission-mode", "bypassPermissions"]
        );
        let argv = build(&CommandSpec {
            model: Some("opus"),
            args: &["--max-turns".into(), "5".into()],
            ..spec(Format::Claude)
        })
        .unwrap();
        assert_eq!(&strs(&argv)[7..], ["--model", "opus", "--max-turns", "5"]);
    }

    #[test]
    fn codex_default_and_overrides() {
        let argv = build(&spec(Format::Codex)).unwrap();
        assert_eq!(
            strs(&argv),
            [
                "codex",
                "exec",
                "--json",
                "--skip-git-repo-check",
                "--sandbox",
                "workspace-write",
                "-c",
                "allow_login_shell=false",
                "-"
            ]
        );
        let dirs = [PathBuf::from("/var/cache/x"), PathBuf::from("/a \"b\"")];
        let args = ["-c".to_owned(), "model_reasoning_effort=\"high\"".to_owned()];
        let telemetry = ["otel.exporter=\"none\"".to_owned()];
        let argv = build(&CommandSpec {
            model: Some("gpt-5.1-codex"),
            args: &args,
            extra_writable_dirs: &dirs,
            network_access: true,
            codex_config: &telemetry,
            ..spec(Format::Codex)
        })
        .unwrap();
        assert_eq!(
            &strs(&argv)[6..],
            [
                "-m",
                "gpt-5.1-codex",
                "-c",
                "allow_login_shell=false",
                "-c",
                r#"sandbox_workspace_write.writable_roots=["/var/cache/x","/a \"b\""]"#,
                "-c",
                "sandbox_workspace_write.network_access=true",
                "-c",
                "otel.exporter=\"none\"",
                "-c",
                "model_reasoning_effort=\"high\"",
                "-",
            ]
        );
    }

    /// codex runs the model's commands in a login shell, which rebuilds PATH
    /// and loses baton's folder; every codex command line turns that off, and
    /// before the user's `args`, so that a user's `-c allow_login_shell=true`
    /// (the later `-c` wins) can turn it back on.
    #[test]
    fn codex_always_disables_login_shells_before_user_args() {
        let args = ["-c".to_owned(), "allow_login_shell=true".to_owned()];
        let cmd = ["codex".to_owned(), "exec".to_owned(), "resume".to_owned(), "--last".to_owned()];
        for command in [None, Some(&cmd[..])] {
            let argv = build(&CommandSpec { command, args: &args, ..spec(Format::Codex) }).unwrap();
            let ours = argv.iter().position(|a| a == "allow_login_shell=false").expect("the override");
            assert_eq!(argv[ours - 1], "-c");
            let theirs = argv.iter().position(|a| a == "allow_login_shell=true").unwrap();
            assert!(ours < theirs, "{argv:?}");
        }
        for f in [Format::Claude, Format::Gemini] {
            let argv = build(&spec(f)).unwrap();
            assert!(!argv.iter().any(|a| a.contains("allow_login_shell")), "{f}");
        }
    }

    #[test]
    fn codex_relative_writable_dir_is_rejected() {
        let dirs = [PathBuf::from("rel")];
        let e = build(&CommandSpec { extra_writable_dirs: &dirs, ..spec(Format::Codex) }).unwrap_err();
        assert!(matches!(e, CommandError::RelativeWritableDir { .. }));
    }

    #[test]
    fn gemini_default() {
        let argv = build(&CommandSpec { model: Some("gemini-2.5-pro"), ..spec(Format::Gemini) }).unwrap();
        assert_eq!(
            strs(&argv),
            [
                "gemini",
                "--output-format",
                "stream-json",
                "--approval-mode",
                "yolo",
                "--skip-trust",
                "-m",
                "gemini-2.5-pro"
            ]
        );
    }

    #[test]
    fn sandbox_flags_only_for_codex() {
        let dirs = [PathBuf::from("/x")];
        let argv =
            build(&CommandSpec { extra_writable_dirs: &dirs, network_access: true, ..spec(Format::Claude) }).unwrap();
        assert!(!argv.iter().any(|a| a.contains("sandbox_workspace_write")));
    }

    #[test]
    fn text_requires_command() {
        let e = build(&CommandSpec { name: "gate", ..spec(Format::Text) }).unwrap_err();
        assert_eq!(e.to_string(), "harness gate with format text needs `command` in [harness.gate]");
    }

    #[test]
    fn text_with_command_and_prompt_file() {
        let cmd = ["sh".to_owned(), "-c".to_owned(), "run --in={prompt_file} x".to_owned()];
        let args = ["{prompt_file}".to_owned()];
        let argv = build(&CommandSpec { command: Some(&cmd), args: &args, ..spec(Format::Text) }).unwrap();
        assert_eq!(strs(&argv), ["sh", "-c", "run --in=/tmp/p.md x", "/tmp/p.md"]);
    }

    #[test]
    fn empty_command_is_an_error() {
        for f in Format::ALL {
            let e = build(&CommandSpec { command: Some(&[]), ..spec(f) }).unwrap_err();
            assert!(matches!(e, CommandError::EmptyCommand { .. }), "{f}");
            assert!(e.to_string().contains("[harness.h]"));
            let blank = ["  ".to_owned()];
            let e = build(&CommandSpec { command: Some(&blank), ..spec(f) }).unwrap_err();
            assert!(matches!(e, CommandError::EmptyProgram { .. }), "{f}");
        }
    }

    #[test]
    fn override_keeps_model_and_args_but_no_codex_dash() {
        let cmd = ["/opt/codex-wrapper".to_owned(), "exec".to_owned(), "--json".to_owned()];
        let args = ["--ephemeral".to_owned()];
        let argv = build(&CommandSpec {
            command: Some(&cmd),
            model: Some("m"),
            args: &args,
            network_access: true,
            ..spec(Format::Codex)
        })
        .unwrap();
        assert_eq!(
            strs(&argv),
            [
                "/opt/codex-wrapper",
                "exec",
                "--json",
                "-m",
                "m",
                "-c",
                "allow_login_shell=false",
                "-c",
                "sandbox_workspace_write.network_access=true",
                "--ephemeral"
            ]
        );
    }

    #[test]
    fn model_placeholder() {
        let cmd = ["run".to_owned(), "--llm={model}".to_owned()];
        let argv = build(&CommandSpec { command: Some(&cmd), model: Some("x"), ..spec(Format::Text) }).unwrap();
        assert_eq!(strs(&argv), ["run", "--llm=x"]);
        // Placeholder present: no automatic flag either.
        let cmd = ["claude".to_owned(), "-p".to_owned(), "--model={model}".to_owned()];
        let argv = build(&CommandSpec { command: Some(&cmd), model: Some("opus"), ..spec(Format::Claude) }).unwrap();
        assert_eq!(strs(&argv), ["claude", "-p", "--model=opus"]);
        let e = build(&CommandSpec { command: Some(&cmd), ..spec(Format::Claude) }).unwrap_err();
        assert!(matches!(e, CommandError::MissingModel { .. }));
    }

    #[test]
    fn text_with_model_but_no_placeholder_is_an_error() {
        let cmd = ["make".to_owned()];
        let e = build(&CommandSpec { command: Some(&cmd), model: Some("x"), ..spec(Format::Text) }).unwrap_err();
        assert!(matches!(e, CommandError::ModelNotSupported { .. }));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_prompt_path_is_an_error() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(OsStr::from_bytes(b"/tmp/\xff"));
        assert!(build(&CommandSpec { prompt_file: p, ..spec(Format::Claude) }).is_ok());
        let cmd = ["cat".to_owned(), "{prompt_file}".to_owned()];
        let e = build(&CommandSpec { prompt_file: p, command: Some(&cmd), ..spec(Format::Text) }).unwrap_err();
        assert!(matches!(e, CommandError::NonUtf8Path { .. }));
    }

    #[test]
    fn claude_sessions_and_effort() {
        let argv = build(&CommandSpec {
            session: Session::New { id: Some("n1") },
            effort: Some("high"),
            ..spec(Format::Claude)
        })
        .unwrap();
        assert_eq!(&strs(&argv)[7..], ["--effort", "high", "--session-id", "n1"]);
        let argv = build(&CommandSpec { session: Session::Resume { id: "s1" }, ..spec(Format::Claude) }).unwrap();
        assert_eq!(&strs(&argv)[7..], ["--resume", "s1"]);
        let argv =
            build(&CommandSpec { session: Session::Fork { id: "s1", new_id: Some("n2") }, ..spec(Format::Claude) })
                .unwrap();
        assert_eq!(&strs(&argv)[7..], ["--resume", "s1", "--fork-session", "--session-id", "n2"]);
    }

    /// `codex exec resume` and `exec fork` take no `--sandbox`: the same setting goes as `-c`,
    /// and the session id comes right before the stdin marker.
    #[test]
    fn codex_resume_and_fork_use_only_their_flags() {
        for (session, sub) in
            [(Session::Resume { id: "t1" }, "resume"), (Session::Fork { id: "t1", new_id: Some("ignored") }, "fork")]
        {
            let argv =
                build(&CommandSpec { session, model: Some("m"), effort: Some("low"), ..spec(Format::Codex) }).unwrap();
            assert_eq!(
                strs(&argv),
                [
                    "codex",
                    "exec",
                    sub,
                    "--json",
                    "--skip-git-repo-check",
                    "-c",
                    "sandbox_mode=\"workspace-write\"",
                    "-m",
                    "m",
                    "-c",
                    "model_reasoning_effort=\"low\"",
                    "-c",
                    "allow_login_shell=false",
                    "t1",
                    "-"
                ]
            );
            assert!(!argv.iter().any(|a| a == "--sandbox"));
        }
        // A new codex session takes no chosen id: codex announces its thread id.
        let argv = build(&CommandSpec { session: Session::New { id: Some("n") }, ..spec(Format::Codex) }).unwrap();
        assert!(!argv.iter().any(|a| a == "n"));
        let cmd = ["codex".to_owned(), "exec".to_owned()];
        let e =
            build(&CommandSpec { command: Some(&cmd), session: Session::Resume { id: "t" }, ..spec(Format::Codex) })
                .unwrap_err();
        assert!(matches!(e, CommandError::NoSessionCarryOver { .. }), "{e}");
    }

    #[test]
    fn gemini_sessions_no_fork_no_effort() {
        let argv = build(&CommandSpec { session: Session::New { id: Some("g1") }, ..spec(Format::Gemini) }).unwrap();
        assert_eq!(&strs(&argv)[6..], ["--session-id", "g1"]);
        let argv = build(&CommandSpec { session: Session::Resume { id: "g1" }, ..spec(Format::Gemini) }).unwrap();
        assert_eq!(&strs(&argv)[6..], ["--resume", "g1"]);
        let e = build(&CommandSpec { session: Session::Fork { id: "g1", new_id: None }, ..spec(Format::Gemini) })
            .unwrap_err();
        assert_eq!(e.to_string(), "harness h cannot carry a session over: gemini cannot fork a session");
        let e = build(&CommandSpec { effort: Some("high"), ..spec(Format::Gemini) }).unwrap_err();
        assert!(matches!(e, CommandError::EffortNotSupported { .. }));
    }
}
