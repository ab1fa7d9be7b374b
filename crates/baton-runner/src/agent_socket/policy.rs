//! Which `baton` commands a job may have its runner run, decided on the arguments alone before
//! anything starts.
//!
//! The scope rules (own assignment only, the PM's decisions, fencing) are the store's and the
//! core's: those commands are passed on and refused there with today's texts. What is refused
//! here is what would act beyond the queue with the runner's own rights — starting runners or
//! servers, merging into the person's checkout, removing worktrees, writing a config — and
//! stepping outside the job's namespace.

/// The commands a job may run; everything else is refused.
const ALLOWED: &[&str] = &[
    "queue",
    "assignments",
    "assignment",
    "jobs",
    "job",
    "logs",
    "diff",
    "insert-job",
    "update-assignment",
    "proceed",
    "cancel-job",
    "retry-job",
    // Refused by the scope rules with their own message; passed on so the text stays the same.
    "create",
    "templates",
    "completions",
    "help",
];

/// Global options that take a value (as the next argument unless given with `=`).
const VALUED_GLOBALS: &[&str] = &["--color", "--namespace"];

/// Whether a job in `namespace` may run `baton ARGS`; the refusal says why and what to do.
pub fn check(args: &[String], namespace: &str) -> Result<(), String> {
    if let Some(asked) = namespace_asked(args) {
        if asked != namespace {
            return Err(format!(
                "a job acts only on its own namespace `{namespace}`; --namespace {asked} is refused inside a job"
            ));
        }
    }
    match command_name(args) {
        None => Ok(()),
        Some(name) if ALLOWED.contains(&name) => Ok(()),
        Some(name) => Err(format!(
            "`baton {name}` cannot be run from inside a job: an agent reads its namespace and changes only its own \
             assignment; ask a person to run it"
        )),
    }
}

/// The subcommand: the first argument that is neither a global option nor its value.
pub fn command_name(args: &[String]) -> Option<&str> {
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if VALUED_GLOBALS.contains(&arg.as_str()) {
            rest.next();
        } else if !arg.starts_with('-') {
            return Some(arg);
        } else if arg == "--" {
            return rest.next().map(String::as_str);
        }
    }
    None
}

/// The value of `--namespace`, wherever it is (a global option may follow the command).
fn namespace_asked(args: &[String]) -> Option<&str> {
    let mut found = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        if arg == "--namespace" {
            found = Some(rest.next().map(String::as_str).unwrap_or_default());
        } else if let Some(value) = arg.strip_prefix("--namespace=") {
            found = Some(value);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn reading_and_deciding_commands_pass() {
        for line in [
            "queue",
            "--json assignment a1",
            "insert-job a1 --type review --context-file -",
            "--color never job j1",
            "--version",
            "",
        ] {
            assert_eq!(check(&args(line), "ns"), Ok(()), "{line}");
        }
    }

    #[test]
    fn commands_beyond_the_queue_are_refused() {
        for line in ["run", "--json serve", "--color always merge a1", "clean", "init", "watch"] {
            let refusal = check(&args(line), "ns").unwrap_err();
            assert!(refusal.contains("cannot be run from inside a job"), "{line}: {refusal}");
        }
    }

    #[test]
    fn another_namespace_is_refused() {
        assert!(check(&args("queue --namespace other"), "ns").unwrap_err().contains("own namespace `ns`"));
        assert!(check(&args("--namespace=other queue"), "ns").is_err());
        assert!(check(&args("--namespace ns queue"), "ns").is_ok());
        assert!(check(&args("--namespace run"), "ns").is_err(), "the value is not the command");
    }
}
