//! The subreaper side of containment: a process that adopts its orphaned descendants, finds
//! them all through `/proc`, and signals them.
//!
//! A child subreaper (`PR_SET_CHILD_SUBREAPER`) receives every descendant whose parent dies —
//! including a daemon that called `setsid` and double-forked — instead of init. So everything
//! the agent started stays below the supervisor, and a walk of `/proc`'s parent links finds it.

use std::collections::{HashMap, HashSet};

/// Makes this process a child subreaper.
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag on this process.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Every live (not yet exited) descendant of `root`.
pub fn descendants(root: i32) -> Vec<i32> {
    // The common end of an attempt: the agent left nothing behind. A subreaper with no child
    // at all has no descendant either (every orphan below it would have been re-parented to
    // it), and asking the kernel costs one system call where the walk reads all of `/proc`.
    if root == std::process::id() as i32 && !has_children() {
        return Vec::new();
    }
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if let Some((state, ppid)) = state_and_parent(pid) {
            // An exited process waiting to be reaped cannot be stopped and does nothing more.
            if state != 'Z' && state != 'X' {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            if seen.insert(child) {
                found.push(child);
                queue.push(child);
            }
        }
    }
    found
}

/// Whether this process has a child, live or exited and not yet reaped (`waitid` with
/// `WNOWAIT` reaps nothing).
fn has_children() -> bool {
    // SAFETY: waitid writes into the zeroed siginfo we own; WNOWAIT leaves any zombie in place.
    let rc = unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
    };
    !(rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD))
}

/// A process's state letter and parent, from `/proc/PID/stat`.
fn state_and_parent(pid: i32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: count from the last ')'.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Sends `signal` to every live descendant of `root`; how many there were.
pub fn signal_all(root: i32, signal: i32) -> usize {
    let all = descendants(root);
    for &pid in &all {
        // SAFETY: kill only sends a signal; a pid that exited meanwhile yields an error we ignore.
        unsafe {
            libc::kill(pid, signal);
        }
    }
    all.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_child_and_its_child() {
        let mut child = std::process::Command::new("sh").args(["-c", "sleep 30 & wait"]).spawn().unwrap();
        let me = std::process::id() as i32;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while descendants(child.id() as i32).is_empty() && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        let all = descendants(me);
        assert!(all.contains(&(child.id() as i32)), "{all:?}");
        assert!(all.len() >= 2, "the shell and its sleep: {all:?}");
        signal_all(child.id() as i32, libc::SIGKILL);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
