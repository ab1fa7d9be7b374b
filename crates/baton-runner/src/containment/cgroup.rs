//! cgroup v2 per attempt: finding the hierarchy, making the runner's attempts' parent usable,
//! creating an attempt's group, and ending it with `cgroup.kill`.
//!
//! The cgroup v2 hierarchy is wherever `/proc/self/mountinfo` says a `cgroup2` file system is
//! mounted: `/sys/fs/cgroup` on unified hosts, `/sys/fs/cgroup/unified` on hybrid ones. A
//! runner's attempts live under the runner's own cgroup, so whoever confines the runner (a
//! systemd unit, a container) confines its agents too.

use super::Unavailable;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long ending a group may wait for the kernel to empty it.
const EMPTY_PATIENCE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(10);

/// Where the cgroup v2 hierarchy is mounted, from a `mountinfo` text.
pub fn mount_point(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        if fs.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        Some(PathBuf::from(unescape(mount.split_whitespace().nth(4)?)))
    })
}

/// `mountinfo` writes spaces and a few other bytes as octal escapes (`\040`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| std::str::from_utf8(d).ok());
        match octal.and_then(|d| u8::from_str_radix(d, 8).ok()) {
            Some(byte) if bytes[i] == b'\\' => {
                out.push(byte);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's cgroup v2 path (the `0::` line of `/proc/self/cgroup`).
pub fn own_path(proc_cgroup: &str) -> Option<String> {
    proc_cgroup.lines().find_map(|line| line.strip_prefix("0::")).map(|p| p.trim().to_string())
}

/// The folder the runner's attempt groups are created in: the runner's own cgroup, after
/// moving the runner into a leaf of it when the cgroup hands controllers down (a cgroup with
/// controllers enabled for its children may not hold processes itself, except the root).
/// Fails when cgroup v2 is missing, not writable, or too old for `cgroup.kill`.
pub fn prepare_parent() -> Result<PathBuf, Unavailable> {
    let unavailable = |reason: String| Unavailable { reason };
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| unavailable(format!("cannot read /proc/self/mountinfo: {e}")))?;
    let mount = mount_point(&mountinfo).ok_or_else(|| unavailable("no cgroup2 file system is mounted".into()))?;
    let proc_cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| unavailable(format!("cannot read /proc/self/cgroup: {e}")))?;
    let own = own_path(&proc_cgroup).ok_or_else(|| unavailable("this process is in no cgroup v2".into()))?;
    let parent = mount.join(own.trim_start_matches('/'));
    let controllers = std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
    if !controllers.trim().is_empty() && parent != mount {
        let leaf = parent.join(format!("baton-runner-{}", std::process::id()));
        make_dir(&leaf)
            .and_then(|()| std::fs::write(leaf.join("cgroup.procs"), "0"))
            .map_err(|e| unavailable(format!("cannot move the runner into a leaf cgroup {}: {e}", leaf.display())))?;
    }
    let probe = parent.join(format!("baton-probe-{}", std::process::id()));
    make_dir(&probe).map_err(|e| unavailable(format!("cannot create a cgroup in {}: {e}", parent.display())))?;
    let has_kill = probe.join("cgroup.kill").exists();
    let _ = std::fs::remove_dir(&probe);
    if !has_kill {
        return Err(unavailable(format!("{} has no cgroup.kill (it needs Linux 5.14 or later)", parent.display())));
    }
    Ok(parent)
}

fn make_dir(path: &Path) -> io::Result<()> {
    match std::fs::create_dir(path) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Creates the empty group `parent/name` for an attempt; a group of that name left behind by
/// an earlier runner is ended first.
pub fn create(parent: &Path, name: &str) -> io::Result<PathBuf> {
    let path = parent.join(name);
    if path.exists() {
        end(&path)?;
    }
    std::fs::create_dir(&path)?;
    Ok(path)
}

/// SIGTERM to every process of the group: the polite half of a stop.
pub fn terminate(path: &Path) {
    for pid in members(path) {
        // SAFETY: kill only sends a signal; a pid that exited meanwhile yields an error we ignore.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

/// The processes of the group and of any group below it.
pub fn members(path: &Path) -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_to_string(path.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pids.extend(members(&entry.path()));
            }
        }
    }
    pids
}

/// Whether no process is left in the group (or the group is gone).
pub fn is_empty(path: &Path) -> bool {
    match std::fs::read_to_string(path.join("cgroup.events")) {
        Ok(events) => events.lines().any(|l| l.trim() == "populated 0"),
        Err(_) => !path.exists(),
    }
}

/// Kills every process of the group at once (`cgroup.kill`), waits for the kernel to empty it
/// and removes it. A group already gone is fine.
pub fn end(path: &Path) -> io::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    if let Err(e) = std::fs::write(path.join("cgroup.kill"), "1") {
        if path.exists() {
            return Err(e);
        }
        return Ok(());
    }
    let deadline = Instant::now() + EMPTY_PATIENCE;
    loop {
        // Groups below this one (an agent may make some) go first: rmdir needs a leaf.
        if let Ok(entries) = std::fs::read_dir(path) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    let _ = end(&entry.path());
                }
            }
        }
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// The `cgroup.procs` file of `group`, ready for [`join_from_child`].
pub fn procs_file(group: &Path) -> io::Result<CString> {
    CString::new(group.join("cgroup.procs").as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a cgroup path with a NUL byte"))
}

/// Moves the calling process into the group whose `cgroup.procs` is `procs`. Only
/// async-signal-safe calls: it runs in a forked child between fork and exec, so the agent's
/// first instruction already runs inside the group.
pub fn join_from_child(procs: &CString) -> io::Result<()> {
    // SAFETY: open/write/close on a path we own; no allocation, no locks.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // "0" means the writing process itself.
        let written = libc::write(fd, b"0".as_ptr().cast(), 1);
        let error = io::Error::last_os_error();
        libc::close(fd);
        if written != 1 {
            return Err(error);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_unified_hierarchy_on_hybrid_and_unified_hosts() {
        let hybrid = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(mount_point(hybrid), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        let unified = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(mount_point(unified), Some(PathBuf::from("/sys/fs/cgroup")));
        assert_eq!(mount_point("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"), None);
        let spaced = "41 31 0:38 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n";
        assert_eq!(mount_point(spaced), Some(PathBuf::from("/mnt/my cgroups")));
    }

    #[test]
    #[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
    fn cgroup2_ending_a_group_kills_a_member_that_ignores_sigterm_and_removes_it() {
        let parent = prepare_parent().unwrap_or_else(|e| panic!("{e}"));
        let group = create(&parent, &format!("baton-unit-{}", std::process::id())).unwrap();
        let procs = procs_file(&group).unwrap();
        let mut command = std::process::Command::new("sh");
        command.args(["-c", "trap '' TERM; sleep 1000"]);
        // SAFETY: join_from_child is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, move || join_from_child(&procs));
        }
        let mut child = command.spawn().unwrap();
        assert!(members(&group).contains(&(child.id() as i32)));
        assert!(!is_empty(&group));
        end(&group).unwrap();
        assert!(!group.exists(), "the group is removed");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn reads_the_unified_line_of_proc_self() {
        assert_eq!(
            own_path("4:memory:/x\n0::/system.slice/baton.service\n").as_deref(),
            Some("/system.slice/baton.service")
        );
        assert_eq!(own_path("4:memory:/x\n"), None);
    }
}
