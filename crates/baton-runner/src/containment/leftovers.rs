//! Attempt cgroups that outlived their attempt: a runner and its supervisors killed at once
//! (SIGKILL to the whole tree, a machine that ran out of memory) leave the attempt's group
//! behind — empty, or holding whatever the agent still ran, since nobody wrote its
//! `cgroup.kill`. A runner on the same host that takes the job over ends the group; one that
//! does not (the job was cancelled, or went on elsewhere) leaves it for good. So a runner
//! starting under `parent` ends the groups there whose attempt its store no longer runs.
//!
//! Only groups of this runner's namespace are touched: a group whose job the store does not know
//! may be another namespace's or another database's, live under a runner of its own (which
//! sweeps it when it starts). A group whose attempt is its job's current, running one is in use
//! (or about to be: the claim comes before the group).

use super::cgroup;
use baton_core::{Error, JobStatus, Store};
use std::path::{Path, PathBuf};

/// What the name of an attempt's group says: `baton-<job>-<attempt>`, with `-setup` for the
/// worktree setup the attempt ran first.
#[derive(Debug, PartialEq)]
struct GroupName<'a> {
    job_id: &'a str,
    attempt: u32,
}

fn parse(name: &str) -> Option<GroupName<'_>> {
    let rest = name.strip_prefix("baton-")?;
    let rest = rest.strip_suffix("-setup").unwrap_or(rest);
    let (job_id, attempt) = rest.rsplit_once('-')?;
    Some(GroupName { job_id, attempt: attempt.parse().ok()? }).filter(|g| !g.job_id.is_empty())
}

/// Ends the leftover attempt groups of `namespace` under `parent`; how many it ended.
pub async fn sweep(store: &dyn Store, namespace: &str, parent: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(parent) else { return 0 };
    let groups: Vec<(PathBuf, String, u32)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let parsed = parse(&name)?;
            Some((e.path(), parsed.job_id.to_string(), parsed.attempt))
        })
        .collect();
    let mut ended = 0;
    for (path, job_id, attempt) in groups {
        let job = match store.job(namespace, &job_id).await {
            Ok(job) => job,
            Err(Error::JobNotFound { .. }) => continue,
            Err(e) => {
                tracing::warn!("cannot tell which attempt groups under {} are left over: {e}", parent.display());
                break;
            }
        };
        if job.status == JobStatus::Running && job.attempts == attempt {
            continue;
        }
        let shown = path.display().to_string();
        match tokio::task::spawn_blocking(move || cgroup::end(&path)).await {
            Ok(Ok(())) => ended += 1,
            Ok(Err(e)) => tracing::warn!(cgroup = %shown, "cannot end a left-over attempt group: {e}"),
            Err(e) => tracing::warn!(cgroup = %shown, "ending a left-over attempt group failed: {e}"),
        }
    }
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_carry_their_job_and_attempt() {
        assert_eq!(parse("baton-jabc12345-3"), Some(GroupName { job_id: "jabc12345", attempt: 3 }));
        assert_eq!(parse("baton-jabc12345-12-setup"), Some(GroupName { job_id: "jabc12345", attempt: 12 }));
        for other in ["system.slice", "baton-", "baton-j1", "baton--1", "baton-jabc-x", "user-baton-j1-1"] {
            assert_eq!(parse(other), None, "{other}");
        }
    }
}
