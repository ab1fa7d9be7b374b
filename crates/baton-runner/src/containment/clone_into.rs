//! Starting the agent straight inside its attempt's cgroup: `clone3` with `CLONE_INTO_CGROUP`.
//!
//! Moving a process into a cgroup by writing `cgroup.procs` makes the kernel take the cgroup
//! hierarchy's write lock, which waits for an RCU grace period: measured here at 1–20 ms per
//! spawn, as much as a no-op agent costs in all. A child created by `clone3` with
//! `CLONE_INTO_CGROUP` is born a member of the group instead, so the guarantee is the same —
//! not one instruction of the agent runs outside its group — at the price of a fork.
//!
//! Between the clone and the exec the child makes only async-signal-safe calls (the parent may
//! have threads holding locks): everything that allocates — the program's path looked up in
//! `PATH`, the argument vector — is prepared before the clone. A failed exec is reported to the
//! parent through a close-on-exec pipe, as `std::process::Command` does, so "not found" stays
//! an error of the spawn.
//!
//! The child can also be held before its exec ([`hold`]): it waits on a pipe for one byte, and
//! exits unexeced at end of file. The supervisor clones while the runner records the attempt's
//! start, and lets the agent exec only once that is confirmed.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// `CLONE_INTO_CGROUP` (Linux 5.7): a 64-bit flag, which the libc crate's `c_int` cannot hold.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `struct clone_args` up to `cgroup` (CLONE_ARGS_SIZE_VER2, Linux 5.7).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// A started agent: its process id and the write end of its stdin.
#[derive(Debug)]
pub struct Started {
    pub pid: i32,
    pub stdin: File,
}

/// An agent cloned into its cgroup and held before its `execve`: not one instruction of the
/// program has run. [`Held::release`] lets it exec; dropping it (or [`Held::abandon`]) makes the
/// child exit unexeced. Cloning ahead lets the fork overlap whatever the start waits for.
#[derive(Debug)]
pub struct Held {
    pid: i32,
    stdin: File,
    /// Closing it without a byte is the child's signal to give up.
    gate: File,
    /// Close-on-exec: end of file once the exec succeeded, the errno when it failed.
    report: File,
}

/// Opens `group` as the directory descriptor `clone3` takes.
pub fn open_group(group: &Path) -> io::Result<OwnedFd> {
    let path = CString::new(group.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a cgroup path with a NUL byte"))?;
    // SAFETY: open on a NUL-terminated path; the descriptor is owned below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor we just opened and nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `error` (from [`spawn`]) says this kernel, or a seccomp filter in front of it, does
/// not offer `clone3` with `CLONE_INTO_CGROUP`, so the caller should join after a fork instead.
/// Exec failures never match: they carry no raw OS error.
pub fn unsupported(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::ENOSYS | libc::E2BIG | libc::EPERM))
}

/// Starts `program` with `args` as a member of the cgroup `group` from its first instruction,
/// with stdin a new pipe, stdout and stderr inherited, stop signals unblocked and SIGPIPE back
/// to its default; `env`, when given, is its whole environment (and its `PATH` the one searched),
/// else it inherits this process's. A program that does not exist is an error of kind `NotFound`.
pub fn spawn(
    group: &OwnedFd,
    program: &str,
    args: &[String],
    env: Option<&[(OsString, OsString)]>,
) -> io::Result<Started> {
    hold(group, program, args, env)?.release()
}

/// [`spawn`], stopped short of the exec until [`Held::release`].
pub fn hold(group: &OwnedFd, program: &str, args: &[String], env: Option<&[(OsString, OsString)]>) -> io::Result<Held> {
    let search = match env {
        Some(env) => env.iter().find(|(name, _)| name == "PATH").map(|(_, value)| value.clone()),
        None => std::env::var_os("PATH"),
    };
    let path = resolve(program, search).ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such program"))?;
    let path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a program path with a NUL byte"))?;
    let argv: Vec<CString> = std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(|a| {
            CString::new(a).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "an argument with a NUL byte"))
        })
        .collect::<io::Result<_>>()?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let envp: Option<Vec<CString>> = env.map(|env| {
        env.iter()
            .filter_map(|(name, value)| {
                let mut entry = name.as_bytes().to_vec();
                entry.push(b'=');
                entry.extend_from_slice(value.as_bytes());
                CString::new(entry).ok()
            })
            .collect()
    });
    let mut envp_ptrs: Option<Vec<*const libc::c_char>> =
        envp.as_ref().map(|envp| envp.iter().map(|e| e.as_ptr()).collect());
    if let Some(ptrs) = envp_ptrs.as_mut() {
        ptrs.push(std::ptr::null());
    }
    let (stdin_read, stdin_write) = pipe()?;
    let (report_read, report_write) = pipe()?;
    let (gate_read, gate_write) = pipe()?;
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: group.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without CLONE_VM is a fork; the child branch below makes only
    // async-signal-safe calls on memory prepared before the clone, and ends in exec or _exit.
    let pid = unsafe { libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, std::mem::size_of::<CloneArgs>()) };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        let fds = ChildFds {
            stdin: stdin_read.as_raw_fd(),
            report: report_write.as_raw_fd(),
            gate: gate_read.as_raw_fd(),
            gate_write: gate_write.as_raw_fd(),
        };
        // SAFETY: in the child; see above.
        unsafe { exec_child(&path, &argv_ptrs, envp_ptrs.as_deref(), fds) }
    }
    Ok(Held {
        pid: pid as i32,
        stdin: File::from(stdin_write),
        gate: File::from(gate_write),
        report: File::from(report_read),
    })
}

impl Held {
    /// Lets the child exec; its start once the exec succeeded, else why it failed (the child
    /// has then exited and is reaped).
    pub fn release(self) -> io::Result<Started> {
        let Held { pid, stdin, mut gate, mut report } = self;
        let opened = gate.write_all(&[1]);
        drop(gate);
        let mut errno = [0u8; 4];
        let mut got = 0;
        while got < errno.len() {
            match report.read(&mut errno[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if got == 0 && opened.is_ok() {
            return Ok(Started { pid, stdin });
        }
        // It did not exec: it has exited (or exits now, its gate closed); no zombie is left.
        reap(pid);
        Err(match opened {
            Err(e) => e,
            Ok(()) => {
                let raw = io::Error::from_raw_os_error(i32::from_ne_bytes(errno));
                io::Error::new(raw.kind(), format!("exec failed: {raw}"))
            }
        })
    }

    /// The start is off: the child exits without its exec, and is reaped.
    pub fn abandon(self) {
        let pid = self.pid;
        drop(self);
        reap(pid);
    }
}

fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

/// The descriptors the cloned child uses before its exec.
struct ChildFds {
    stdin: i32,
    report: i32,
    /// Read once: a byte is the go, end of file the end.
    gate: i32,
    /// The child's copy of the gate's write end, closed first: else the end of file that calls
    /// the start off would never come.
    gate_write: i32,
}

/// The child's side: stdin from the pipe, default signal state, exec; on failure the errno
/// goes to the parent and the child exits.
///
/// # Safety
/// Only in a freshly cloned child, before anything else runs in it.
unsafe fn exec_child(
    path: &CString,
    argv: &[*const libc::c_char],
    envp: Option<&[*const libc::c_char]>,
    fds: ChildFds,
) -> ! {
    libc::close(fds.gate_write);
    let mut go = 0u8;
    loop {
        match libc::read(fds.gate, (&mut go as *mut u8).cast(), 1) {
            1 => break,
            n if n < 0 && *libc::__errno_location() == libc::EINTR => {}
            // The start was called off: nothing of the program runs.
            _ => libc::_exit(126),
        }
    }
    let (stdin, report) = (fds.stdin, fds.report);
    let mut none: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut none);
    libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
    // Rust ignores SIGPIPE in its own processes; an ignored signal would survive the exec.
    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    if libc::dup2(stdin, 0) >= 0 {
        match envp {
            Some(envp) => libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()),
            None => libc::execv(path.as_ptr(), argv.as_ptr()),
        };
    }
    let errno = *libc::__errno_location();
    let bytes = errno.to_ne_bytes();
    libc::write(report, bytes.as_ptr().cast(), bytes.len());
    libc::_exit(127)
}

/// A pipe, both ends close-on-exec: (read, write).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors, owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Where `program` is: itself when it names a path, else the first executable file of that
/// name in `PATH` (as `execvp` would search, done before the clone because it allocates).
fn resolve(program: &str, search: Option<OsString>) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let search = search.unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&search).map(|dir| dir.join(OsStr::new(program))).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else { return false };
    // SAFETY: access on a NUL-terminated path.
    path.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_in_path_and_takes_paths_as_given() {
        assert_eq!(resolve("/no/such/thing", std::env::var_os("PATH")), Some(PathBuf::from("/no/such/thing")));
        let sh = resolve("sh", std::env::var_os("PATH")).expect("sh is in PATH");
        assert!(sh.is_absolute() && is_executable(&sh));
        assert_eq!(resolve("baton-no-such-program-anywhere", std::env::var_os("PATH")), None);
    }

    #[test]
    fn an_exec_failure_is_not_taken_for_a_missing_clone3() {
        let exec = io::Error::new(io::ErrorKind::PermissionDenied, "exec failed: denied");
        assert!(!unsupported(&exec));
        assert!(unsupported(&io::Error::from_raw_os_error(libc::ENOSYS)));
    }

    /// A fresh cgroup for this test process (`prefix-PID`) and its descriptor.
    fn test_group(prefix: &str) -> (PathBuf, OwnedFd) {
        let parent = super::super::cgroup::prepare_parent().unwrap_or_else(|e| panic!("{e}"));
        let group = super::super::cgroup::create(&parent, &format!("{prefix}-{}", std::process::id())).unwrap();
        let fd = open_group(&group).unwrap();
        (group, fd)
    }

    #[test]
    #[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
    fn cgroup2_the_agent_is_born_in_its_group_and_reads_its_stdin() {
        use std::io::Write;
        let (group, fd) = test_group("baton-clone");
        let out = std::env::temp_dir().join(format!("baton-clone-{}.out", std::process::id()));
        // The shell's own cgroup line, then its stdin: what a first instruction sees.
        let script = format!("cat /proc/self/cgroup > {0}; cat >> {0}", out.display());
        let mut started = spawn(&fd, "sh", &["-c".to_string(), script], None).unwrap();
        // The shell waits for its stdin, so it is alive here.
        assert!(super::super::cgroup::members(&group).contains(&started.pid));
        started.stdin.write_all(b"the prompt").unwrap();
        drop(started.stdin);
        let mut status = 0;
        // SAFETY: waiting for the child this test started.
        assert_eq!(unsafe { libc::waitpid(started.pid, &mut status, 0) }, started.pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        let text = std::fs::read_to_string(&out).unwrap();
        let _ = std::fs::remove_file(&out);
        let name = group.file_name().unwrap().to_str().unwrap();
        assert!(text.lines().any(|l| l.starts_with("0::") && l.ends_with(name)), "{text}");
        assert!(text.ends_with("the prompt"), "{text}");

        let missing = spawn(&fd, "baton-no-such-program-anywhere", &[], None).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        let missing = spawn(&fd, "/no/such/program", &[], None).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(!unsupported(&missing));
        drop(fd);
        super::super::cgroup::end(&group).unwrap();
    }

    #[test]
    #[ignore = "needs a writable cgroup v2 (baton-testkit's cgroup2)"]
    fn cgroup2_a_held_agent_runs_nothing_until_released_and_nothing_at_all_when_abandoned() {
        let (group, fd) = test_group("baton-held");
        let marker = |n: u32| std::env::temp_dir().join(format!("baton-held-{}-{n}", std::process::id()));
        let touching = |n: u32| vec!["-c".to_string(), format!("touch {}", marker(n).display())];

        let abandoned = hold(&fd, "sh", &touching(1), None).unwrap();
        // Cloned: a member of its group already, but its program has not run.
        assert!(super::super::cgroup::members(&group).contains(&abandoned.pid));
        let pid = abandoned.pid;
        abandoned.abandon();
        let mut status = 0;
        // SAFETY: asking after our own child without waiting; it was reaped already, so there is
        // no such child (a pid check could see the number reused by another process).
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) }, -1, "the abandoned child is gone");
        assert!(!marker(1).exists(), "nothing of the program ran");

        let released = hold(&fd, "sh", &touching(2), None).unwrap();
        assert!(!marker(2).exists());
        let started = released.release().unwrap();
        let mut status = 0;
        // SAFETY: waiting for the child this test started.
        assert_eq!(unsafe { libc::waitpid(started.pid, &mut status, 0) }, started.pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        assert!(marker(2).exists(), "released, it ran");
        let _ = std::fs::remove_file(marker(2));
        drop(fd);
        super::super::cgroup::end(&group).unwrap();
    }
}
