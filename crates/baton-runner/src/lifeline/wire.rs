//! How the runner asks its supervisor host for one attempt's supervisor, and how that
//! supervisor learns what to run.
//!
//! The fork request is one byte on a Unix stream socket with the attempt's four pipe ends passed
//! alongside it (`SCM_RIGHTS`), answered by the forked supervisor's process id. What the
//! supervisor runs — its arguments, folder and environment, a [`Request`] — follows on the
//! lifeline, the first thing on it (before the prompt): so the runner can have the supervisor
//! forked while it still prepares the attempt, and tell it the command line once it has one.
//!
//! The request is bytes, not text: the environment the agent inherits may hold values that are
//! not UTF-8, and the supervisor passes them on as they are.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// The pipe ends a fork request carries, in this order.
pub const FDS: usize = 4;
/// The byte a fork request is.
const FORK: u8 = b'f';
/// A request larger than this is refused (an environment or command line gone wrong).
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// What one attempt's supervisor runs, as `baton __supervise` would be started.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The supervisor's arguments: its options, `--`, the agent's command line.
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The whole environment the supervisor (and so the agent) gets.
    pub env: Vec<(OsString, OsString)>,
}

/// The descriptors that travel with a fork request: the lifeline (the supervisor's stdin), the
/// agent's stdout and stderr, and the pipe the supervisor writes its exit status to.
pub struct Pipes {
    pub lifeline: OwnedFd,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    pub status: OwnedFd,
}

impl Request {
    /// The request as it goes on the lifeline: its length, then its [`encode`](Self::encode)d
    /// bytes.
    pub fn frame(&self) -> Vec<u8> {
        let body = self.encode();
        let mut framed = (body.len() as u32).to_le_bytes().to_vec();
        framed.extend_from_slice(&body);
        framed
    }

    /// Counted lists of length-prefixed byte strings.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_count(&mut out, self.args.len());
        self.args.iter().for_each(|a| put_bytes(&mut out, a.as_bytes()));
        put_bytes(&mut out, self.cwd.as_os_str().as_bytes());
        put_count(&mut out, self.env.len());
        for (name, value) in &self.env {
            put_bytes(&mut out, name.as_bytes());
            put_bytes(&mut out, value.as_bytes());
        }
        out
    }

    pub fn decode(mut body: &[u8]) -> io::Result<Request> {
        let input = &mut body;
        let args = (0..take_count(input)?)
            .map(|_| String::from_utf8(take_bytes(input)?.to_vec()).map_err(|_| invalid("an argument is not UTF-8")))
            .collect::<io::Result<Vec<String>>>()?;
        let cwd = PathBuf::from(OsStr::from_bytes(take_bytes(input)?));
        let env = (0..take_count(input)?)
            .map(|_| {
                let name = OsString::from_vec(take_bytes(input)?.to_vec());
                Ok((name, OsString::from_vec(take_bytes(input)?.to_vec())))
            })
            .collect::<io::Result<Vec<_>>>()?;
        if !input.is_empty() {
            return Err(invalid("trailing bytes after the request"));
        }
        Ok(Request { args, cwd, env })
    }
}

fn put_count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_count(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn take_count(input: &mut &[u8]) -> io::Result<usize> {
    let (head, rest) = input.split_first_chunk::<4>().ok_or_else(|| invalid("a request cut short"))?;
    *input = rest;
    Ok(u32::from_le_bytes(*head) as usize)
}

fn take_bytes<'a>(input: &mut &'a [u8]) -> io::Result<&'a [u8]> {
    let len = take_count(input)?;
    if input.len() < len {
        return Err(invalid("a request cut short"));
    }
    let (bytes, rest) = input.split_at(len);
    *input = rest;
    Ok(bytes)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Asks for a fork: one byte with `pipes` attached.
pub fn send(socket: BorrowedFd<'_>, pipes: &Pipes) -> io::Result<()> {
    let fds =
        [pipes.lifeline.as_raw_fd(), pipes.stdout.as_raw_fd(), pipes.stderr.as_raw_fd(), pipes.status.as_raw_fd()];
    match send_with_fds(socket, &[FORK], &fds)? {
        1 => Ok(()),
        _ => Err(io::Error::new(io::ErrorKind::WriteZero, "the fork request was not sent")),
    }
}

/// Receives one fork request: its pipes; `None` at end of file (the runner is gone).
pub fn receive(socket: BorrowedFd<'_>) -> io::Result<Option<Pipes>> {
    let mut byte = [0u8; 1];
    let mut fds = Vec::new();
    if recv_with_fds(socket, &mut byte, &mut fds)? == 0 {
        return if fds.is_empty() { Ok(None) } else { Err(invalid("a fork request cut short")) };
    }
    if byte[0] != FORK {
        return Err(invalid("not a fork request"));
    }
    let [lifeline, stdout, stderr, status]: [OwnedFd; FDS] =
        fds.try_into().map_err(|_| invalid("a fork request without its four pipes"))?;
    Ok(Some(Pipes { lifeline, stdout, stderr, status }))
}

/// Reads the [`Request::frame`] at the start of the lifeline; `None` when it ends first (the
/// runner called the attempt off before it had a command line).
pub fn read_request(input: &mut impl Read) -> io::Result<Option<Request>> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match input.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(invalid("a request cut short")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes(head) as usize;
    if len > MAX_MESSAGE {
        return Err(invalid("a request larger than 16 MiB"));
    }
    let mut body = vec![0u8; len];
    input.read_exact(&mut body).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => invalid("a request cut short"),
        _ => e,
    })?;
    Request::decode(&body).map(Some)
}

/// Writes the answer: the supervisor's process id, or the negated errno of a failed fork.
pub fn answer(socket: BorrowedFd<'_>, pid: i32) -> io::Result<()> {
    let bytes = pid.to_le_bytes();
    let written = send_with_fds(socket, &bytes, &[])?;
    if written == bytes.len() {
        Ok(())
    } else {
        Err(io::Error::new(io::ErrorKind::WriteZero, "the answer was cut short"))
    }
}

/// Reads the answer to [`send`]. The outer error is the connection's (broken, closed, or no
/// answer within the socket's read timeout); the inner one the host's: the fork failed.
pub fn read_answer(socket: BorrowedFd<'_>) -> io::Result<io::Result<i32>> {
    let mut bytes = [0u8; 4];
    let mut got = 0;
    while got < bytes.len() {
        let n = recv_with_fds(socket, &mut bytes[got..], &mut Vec::new())?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the supervisor host closed its socket"));
        }
        got += n;
    }
    Ok(match i32::from_le_bytes(bytes) {
        pid if pid > 0 => Ok(pid),
        errno => Err(io::Error::from_raw_os_error(-errno)),
    })
}

fn send_with_fds(socket: BorrowedFd<'_>, bytes: &[u8], fds: &[RawFd]) -> io::Result<usize> {
    let mut iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    let mut control = vec![0u8; control_space(fds.len())];
    // SAFETY: msghdr and its control buffer are ours and sized by CMSG_SPACE; the descriptors
    // are copied into the buffer, not taken over.
    let sent = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !fds.is_empty() {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = control.len() as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of_val(fds) as u32) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast::<RawFd>(), fds.len());
        }
        retry(|| libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL))
    };
    usize::try_from(sent).map_err(|_| io::Error::last_os_error())
}

fn recv_with_fds(socket: BorrowedFd<'_>, bytes: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
    let mut iov = libc::iovec { iov_base: bytes.as_mut_ptr().cast(), iov_len: bytes.len() };
    let mut control = vec![0u8; control_space(FDS)];
    // SAFETY: as in `send_with_fds`; every descriptor the kernel delivered is owned below, and
    // arrives close-on-exec (MSG_CMSG_CLOEXEC) so no agent inherits one by accident.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
        let got = retry(|| libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC));
        let got = usize::try_from(got).map_err(|_| io::Error::last_os_error())?;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        if msg.msg_flags & libc::MSG_CTRUNC != 0 {
            return Err(invalid("more descriptors than a request carries"));
        }
        Ok(got)
    }
}

fn control_space(fds: usize) -> usize {
    // SAFETY: CMSG_SPACE only computes a size.
    unsafe { libc::CMSG_SPACE((fds * std::mem::size_of::<RawFd>()) as u32) as usize }
}

/// Repeats a system call interrupted by a signal.
fn retry(mut call: impl FnMut() -> isize) -> isize {
    loop {
        let rc = call();
        if rc >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return rc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn a_fork_request_carries_its_pipes_and_the_request_follows_on_the_lifeline() {
        let request = Request {
            args: vec!["--grace-ms".into(), "10".into(), "--".into(), "agent".into(), "héllo".into()],
            cwd: PathBuf::from("/tmp/a b"),
            env: vec![
                (OsString::from("PATH"), OsString::from("/bin")),
                (OsString::from("RAW"), OsString::from_vec(vec![0xff, 0])),
            ],
        };
        assert_eq!(Request::decode(&request.encode()).unwrap(), request);
        let (runner, host) = UnixStream::pair().unwrap();
        let ends: Vec<(OwnedFd, OwnedFd)> = (0..FDS).map(|_| crate::containment::clone_into::pipe().unwrap()).collect();
        let [a, b, c, d] = <[(OwnedFd, OwnedFd); FDS]>::try_from(ends).ok().unwrap();
        let pipes = Pipes { lifeline: a.0, stdout: b.1, stderr: c.1, status: d.1 };
        send(runner.as_fd(), &pipes).unwrap();
        drop(pipes);
        let received = receive(host.as_fd()).unwrap().unwrap();
        // The lifeline that arrived is the one sent: the request written to `a.1` is read
        // there, followed by what comes after it, untouched.
        let mut lifeline = std::fs::File::from(a.1);
        lifeline.write_all(&request.frame()).unwrap();
        lifeline.write_all(b"5\nhello").unwrap();
        drop(lifeline);
        let mut reader = std::io::BufReader::new(std::fs::File::from(received.lifeline));
        assert_eq!(read_request(&mut reader).unwrap(), Some(request));
        let mut rest = String::new();
        reader.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "5\nhello");
        // And the status pipe: what is written there reaches `d.0`.
        write_raw(&received.status, b"ok");
        drop((received.stdout, received.stderr, received.status));
        let mut read = String::new();
        std::fs::File::from(d.0).read_to_string(&mut read).unwrap();
        assert_eq!(read, "ok");
        answer(host.as_fd(), 4242).unwrap();
        assert_eq!(read_answer(runner.as_fd()).unwrap().unwrap(), 4242);
        answer(host.as_fd(), -libc::EAGAIN).unwrap();
        assert_eq!(read_answer(runner.as_fd()).unwrap().unwrap_err().raw_os_error(), Some(libc::EAGAIN));
        drop(runner);
        assert!(receive(host.as_fd()).unwrap().is_none(), "end of file is no request");
    }

    #[test]
    fn a_lifeline_that_ends_before_its_request_is_no_request() {
        assert_eq!(read_request(&mut &b""[..]).unwrap(), None);
        let framed = Request { args: vec!["x".into()], cwd: PathBuf::from("/"), env: vec![] }.frame();
        assert!(read_request(&mut &framed[..2]).is_err());
        assert!(read_request(&mut &framed[..framed.len() - 1]).is_err());
        let huge = ((MAX_MESSAGE + 1) as u32).to_le_bytes();
        assert!(read_request(&mut &huge[..]).is_err());
    }

    #[test]
    fn a_cut_short_body_is_refused() {
        let body = Request { args: vec!["x".into()], cwd: PathBuf::from("/"), env: vec![] }.encode();
        assert!(Request::decode(&body[..body.len() - 1]).is_err());
        let mut longer = body.clone();
        longer.push(0);
        assert!(Request::decode(&longer).is_err());
    }

    fn write_raw(fd: &OwnedFd, bytes: &[u8]) {
        // SAFETY: writing a buffer we own to a descriptor we own.
        assert_eq!(unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) }, bytes.len() as isize);
    }
}
