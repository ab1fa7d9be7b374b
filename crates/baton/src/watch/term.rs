//! The terminal side of the live view, on libc directly: keys as they are pressed, without echo (and
//! Ctrl-C as a key, so quitting always restores the screen), read on a thread that a pipe can
//! wake, the window size, and a panic hook that puts the terminal back as it was.

use super::keys::{decode, Key};
use super::paint::LEAVE;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, Once};
use std::thread::JoinHandle;
use tokio::sync::mpsc;

/// What must be undone if the process panics while the view is up.
struct Undo {
    termios: Option<libc::termios>,
    screen: bool,
}

static UNDO: Mutex<Undo> = Mutex::new(Undo { termios: None, screen: false });

fn undo() -> std::sync::MutexGuard<'static, Undo> {
    UNDO.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether a file descriptor is a terminal.
pub(crate) fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// The screen size `(columns, rows)`, 80×24 when unknown.
pub(crate) fn window_size() -> (usize, usize) {
    let mut ws = MaybeUninit::<libc::winsize>::zeroed();
    // SAFETY: TIOCGWINSZ writes a winsize into the pointer it is given, which is valid.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, ws.as_mut_ptr()) } == 0;
    // SAFETY: zeroed is a valid winsize whether or not the ioctl wrote it.
    let ws = unsafe { ws.assume_init() };
    if ok && ws.ws_col > 0 && ws.ws_row > 0 {
        (ws.ws_col as usize, ws.ws_row as usize)
    } else {
        (80, 24)
    }
}

/// Marks the alternate screen as entered or left, for the panic hook.
pub(crate) fn screen_active(active: bool) {
    install_panic_hook();
    undo().screen = active;
}

/// Keys arrive unbuffered and unechoed on stdin while this lives; dropping it restores the mode.
pub(crate) struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    pub fn enable() -> io::Result<RawMode> {
        let mut t = MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the termios on success, checked before it is read.
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, t.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: initialised by the successful tcgetattr above.
        let saved = unsafe { t.assume_init() };
        let mut raw = saved;
        // Not full raw mode: output processing stays on, only input is taken key by key.
        raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
        raw.c_iflag &= !(libc::IXON | libc::ICRNL);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        set_termios(&raw)?;
        install_panic_hook();
        undo().termios = Some(saved);
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = set_termios(&self.saved);
        undo().termios = None;
    }
}

fn set_termios(t: &libc::termios) -> io::Result<()> {
    // SAFETY: `t` is a valid termios for the duration of the call.
    if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// On a panic, restore the terminal before the message is printed, so it is readable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let mut u = undo();
            if let Some(saved) = u.termios.take() {
                let _ = set_termios(&saved);
            }
            if std::mem::take(&mut u.screen) {
                // SAFETY: writes a static buffer to stdout.
                unsafe { libc::write(libc::STDOUT_FILENO, LEAVE.as_ptr().cast(), LEAVE.len()) };
            }
            drop(u);
            previous(info);
        }));
    });
}

/// Keys read from stdin on a thread; dropping it wakes the thread through a pipe and joins it.
pub(crate) struct Keys {
    rx: mpsc::UnboundedReceiver<Key>,
    wake: Option<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl Keys {
    pub fn start() -> io::Result<Keys> {
        let mut fds = [0i32; 2];
        // SAFETY: pipe writes two descriptors into the array on success.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (stop, wake) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let (tx, rx) = mpsc::unbounded_channel();
        let thread =
            std::thread::Builder::new().name("baton-watch-keys".into()).spawn(move || read_keys(&stop, &tx))?;
        Ok(Keys { rx, wake: Some(wake), thread: Some(thread) })
    }

    /// The next key; `None` once stdin is closed.
    pub async fn next(&mut self) -> Option<Key> {
        self.rx.recv().await
    }
}

/// Blocks in poll() on stdin and the stop pipe (no timeout: it sleeps until a key or the stop).
fn read_keys(stop: &OwnedFd, tx: &mpsc::UnboundedSender<Key>) {
    let mut buf = [0u8; 64];
    loop {
        let mut fds = [
            libc::pollfd { fd: libc::STDIN_FILENO, events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: stop.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        if fds[1].revents != 0 {
            return;
        }
        if fds[0].revents != 0 {
            // SAFETY: reads at most buf.len() bytes into buf.
            let got = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
            if got <= 0 {
                return;
            }
            for key in decode(&buf[..got as usize]) {
                if tx.send(key).is_err() {
                    return;
                }
            }
        }
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        if let Some(wake) = self.wake.take() {
            // SAFETY: writes one byte from a valid buffer to our own pipe.
            unsafe { libc::write(wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
