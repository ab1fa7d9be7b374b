//! The errors baton shows to people. Each message is one line that names the thing concerned and
//! says what to do; the CLI prints it as `error: …` and exits 1.

use crate::model::{AssignmentStatus, JobStatus, UnknownValue};
use crate::request::RequestError;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core and the backends.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no assignment {id} in namespace {namespace} (list them with `baton assignments`)")]
    AssignmentNotFound { namespace: String, id: String },

    #[error("no job {id} in namespace {namespace} (list them with `baton jobs`)")]
    JobNotFound { namespace: String, id: String },

    #[error("no schedule {id} in namespace {namespace} (list them with `baton schedule list`)")]
    ScheduleNotFound { namespace: String, id: String },

    #[error("job {job_id} belongs to assignment {actual}, not {expected}; pass a job of {expected} to --after")]
    JobNotInAssignment { job_id: String, expected: String, actual: String },

    #[error(transparent)]
    UnknownValue(#[from] UnknownValue),

    #[error("unknown harness `{name}`; valid values: {valid} (define others as [harness.NAME] in .baton/config.toml)")]
    UnknownHarness { name: String, valid: String },

    /// A request that breaks a rule of its own (`validate()`), before anything is read or written.
    #[error("{0}")]
    Request(#[from] RequestError),

    #[error("{0}")]
    InvalidInput(#[from] InvalidInput),

    #[error("assignment {id} is {status}, which is final; create a new assignment instead")]
    AssignmentFinal { id: String, status: AssignmentStatus },

    #[error("assignment {id} cannot go from {from} to {to}{hint}")]
    AssignmentTransition { id: String, from: AssignmentStatus, to: AssignmentStatus, hint: &'static str },

    #[error("job {id} is {status}: {hint}")]
    JobState { id: String, status: JobStatus, hint: &'static str },

    /// The engine asked for a job transition the lifecycle table forbids: a bug in baton, reported
    /// rather than written.
    #[error("baton refused to move a job from {from} to {to}, which its lifecycle forbids; please report this")]
    ForbiddenJobTransition { from: JobStatus, to: JobStatus },

    #[error("assignment {id} reached its job limit ({limit} jobs); it is now blocked. Raise the limit and resume it: baton update-assignment {id} --max-jobs {suggested} --status active")]
    JobLimitReached { id: String, limit: u32, suggested: u32 },

    #[error("assignment {id} cannot resume: {guard}. Raise it: baton update-assignment {id} --status active {flag}")]
    GuardRefusedResume { id: String, guard: String, flag: String },

    /// A resume the lost-host guard would undo at once: no host can continue the assignment.
    #[error("assignment {id} cannot resume: {reason} (the guard is host_gone_ms, {gone}; raise it in .baton/config.toml if that host is only slow to come back)")]
    HostGoneRefusedResume { id: String, reason: String, gone: String },

    #[error("{refusal}")]
    Scope { refusal: String },

    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },

    #[error("environment variable {name}: {message}")]
    ConfigEnv { name: String, message: String },

    #[error(
        "the database {location} was written by a newer baton (schema {found}, this baton knows up to {supported}); {}",
        run_version(written_by)
    )]
    SchemaTooNew { location: String, found: i64, supported: i64, written_by: Option<String> },

    /// Runners of a newer protocol serve this database: an older runner would not follow its
    /// rules (pushes, takeovers, lease deadlines), so it refuses to start.
    #[error(
        "the runners on this database follow protocol {found}, this baton's runner only {supported}; {}",
        run_version(written_by)
    )]
    ProtocolTooNew { found: i64, supported: i64, written_by: Option<String> },

    #[error("cannot open the database {location}: {message} ({})", open_hint(location, message))]
    DatabaseOpen { location: String, message: String },

    /// The database file was removed or replaced while this process had it open: whatever it
    /// wrote from then on would be lost with the old file.
    #[error("the database file {location} {what} while baton had it open; nothing more is written to it. If that was a mistake, put the file back; then start baton again")]
    DatabaseGone { location: String, what: &'static str },

    /// The database is damaged: retrying cannot help.
    #[error("the database {location} is damaged ({message}) while {context}; restore it from a backup or move it aside (baton then starts an empty one)")]
    DatabaseCorrupt { location: String, context: &'static str, message: String },

    #[error("database error while {context}: {}", Causes(source.as_ref()))]
    Database {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("unsupported database URL `{url}`; use sqlite://PATH, a plain file path, or postgres://USER@HOST/DB")]
    UnsupportedUrl { url: String },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// A rejected argument value, with what to type instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidInput {
    pub message: String,
}

impl InvalidInput {
    pub fn new(message: impl Into<String>) -> Self {
        InvalidInput { message: message.into() }
    }
}

/// What to do when a database cannot be opened, fitted to why: a damaged file needs restoring,
/// a refused write a writable place, a server needs to be up and reachable.
fn open_hint(location: &str, message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if location.starts_with("postgres") {
        "check that the server is running and reachable from here, and the user, password and database name; \
         the URL comes from database_url in .baton/config.toml or BATON_DATABASE_URL"
    } else if is_corruption(&m) {
        "the file is damaged: restore it from a backup or move it aside (baton then starts an empty one)"
    } else if m.contains("does not exist") {
        "create the folder, or set database_url in .baton/config.toml or BATON_DATABASE_URL to a path in an existing one"
    } else if m.contains("readonly")
        || m.contains("read-only")
        || m.contains("permission")
        || m.contains("cannot create")
    {
        "set database_url in .baton/config.toml or BATON_DATABASE_URL to a writable place"
    } else {
        "check the path in database_url in .baton/config.toml or BATON_DATABASE_URL"
    }
}

/// Whether SQLite's message says the database file is damaged: its words for `SQLITE_NOTADB`
/// and `SQLITE_CORRUPT`.
pub fn is_corruption(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("file is not a database") || m.contains("database disk image is malformed")
}

impl Error {
    /// Wraps an I/O error with what baton was doing.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { what: what.into(), source }
    }

    /// A database failure while `context`, keeping the driver's error and its causes.
    pub fn database(context: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Database { context, source: source.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput::new(message))
    }

    /// A database failure no retry can mend: the file is gone, replaced or damaged. A runner
    /// stops on one instead of waiting for the database to answer.
    pub fn is_permanent_database_fault(&self) -> bool {
        match self {
            Error::DatabaseGone { .. } | Error::DatabaseCorrupt { .. } => true,
            Error::DatabaseOpen { location, message } => !location.starts_with("postgres") && is_corruption(message),
            _ => false,
        }
    }
}

/// An error and its causes on one line, joined with `: `; a cause whose text is already shown is
/// not repeated (drivers often print their cause inside their own message).
struct Causes<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.0.to_string();
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !shown.contains(&text) {
                shown.push_str(": ");
                shown.push_str(&text);
            }
            next = cause.source();
        }
        f.write_str(&shown.replace(['\n', '\r'], " "))
    }
}

/// Which baton to run instead, when the database recorded it.
fn run_version(written_by: &Option<String>) -> String {
    match written_by {
        Some(version) => format!("run baton {version} or newer"),
        None => "upgrade baton".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk I/O error")]
    struct Driver(#[source] std::io::Error);

    #[test]
    fn open_hints_fit_the_cause() {
        let open =
            |message: &str| Error::DatabaseOpen { location: "/d/q.db".into(), message: message.into() }.to_string();
        let damaged = open("file is not a database");
        assert!(damaged.contains("restore it from a backup or move it aside"), "{damaged}");
        assert!(!damaged.contains("writable place"), "{damaged}");
        assert!(open("attempt to write a readonly database").contains("writable place"));
        assert!(open("the folder /d does not exist").contains("create the folder"));
        assert!(!open("unable to open database file").contains("writable place"));
        assert!(Error::DatabaseOpen { location: "/q".into(), message: "database disk image is malformed".into() }
            .is_permanent_database_fault());
        assert!(!Error::database("claiming", "database is locked").is_permanent_database_fault());
    }

    #[test]
    fn database_errors_keep_and_show_their_causes() {
        let err = Error::database("committing", Driver(std::io::Error::other("no space left on device")));
        assert_eq!(err.to_string(), "database error while committing: disk I/O error: no space left on device");
        let source = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("disk I/O error"));
        let plain = Error::database("reading", "locked");
        assert_eq!(plain.to_string(), "database error while reading: locked");
    }
}
