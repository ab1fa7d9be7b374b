//! Cross-process wake-ups for the embedded backend.
//!
//! SQLite has no LISTEN/NOTIFY, and polling `PRAGMA data_version` fast enough for millisecond
//! pickup would keep idle runners busy. Instead every process that wants to hear about changes
//! (a runner, `baton watch`, the dashboard) binds a Unix datagram socket in a folder beside the
//! database, and every writer, after it commits, sends one byte to each socket there. Sends are
//! non-blocking: a full receive buffer already holds a pending wake-up, and a socket nobody is
//! bound to any more (its process died) is removed by the first writer that finds it.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// What changed: runners care about the queue, transcript followers about events too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Change {
    /// Assignments, jobs or runners changed.
    Queue = b'q',
    /// Only transcript events were appended.
    Events = b'e',
}

/// The kinds of change a wake-up carried (a burst is coalesced into one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changes {
    pub queue: bool,
    pub events: bool,
}

impl Changes {
    fn add(&mut self, byte: u8) {
        match byte {
            b'e' => self.events = true,
            _ => self.queue = true,
        }
    }
}

/// The folder of subscriber sockets for one database file.
#[derive(Debug, Clone)]
pub struct WakeDir {
    dir: PathBuf,
}

impl WakeDir {
    /// The wake folder of the database at `db_path` (`<db>.wake/`).
    pub fn for_database(db_path: &Path) -> WakeDir {
        let mut name = db_path.file_name().unwrap_or_default().to_os_string();
        name.push(".wake");
        WakeDir { dir: db_path.with_file_name(name) }
    }

    /// Wakes every subscriber with a change of `kind`. Errors are ignored on purpose: a missed
    /// wake-up only delays a subscriber until its fallback timer, while failing a committed write
    /// would be wrong.
    pub fn notify(&self, kind: Change) {
        self.notify_except(kind, None)
    }

    /// [`WakeDir::notify`], leaving out the subscriber bound at `except`: the one that made the
    /// change and follows it up itself.
    pub fn notify_except(&self, kind: Change, except: Option<&Path>) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let Ok(sender) = UnixDatagram::unbound() else {
            return;
        };
        if sender.set_nonblocking(true).is_err() {
            return;
        }
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "sock") || except == Some(path.as_path()) {
                continue;
            }
            match sender.send_to(&[kind as u8], &path) {
                Ok(_) => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionRefused | io::ErrorKind::NotFound) => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(_) => {}
            }
        }
    }

    /// Binds a new subscriber socket. The socket file is removed when the subscription drops.
    pub fn subscribe(&self) -> io::Result<Subscription> {
        std::fs::create_dir_all(&self.dir)?;
        let name = format!("{}-{:08x}.sock", std::process::id(), rand::random::<u32>());
        let path = self.dir.join(name);
        let socket = UnixDatagram::bind(&path)?;
        socket.set_nonblocking(true)?;
        let socket = tokio::net::UnixDatagram::from_std(socket)?;
        Ok(Subscription { socket, path })
    }
}

/// One process's end of the wake-ups.
#[derive(Debug)]
pub struct Subscription {
    socket: tokio::net::UnixDatagram,
    path: PathBuf,
}

impl Subscription {
    /// Where its socket is bound: what [`WakeDir::notify_except`] leaves out.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits until some writer committed a change, then drains queued wake-ups so a burst of
    /// writes costs one wake.
    pub async fn changed(&self) -> io::Result<Changes> {
        let mut buf = [0u8; 16];
        let mut changes = Changes::default();
        let n = self.socket.recv(&mut buf).await?;
        buf[..n].iter().for_each(|b| changes.add(*b));
        while let Ok(n) = self.socket.try_recv(&mut buf) {
            buf[..n].iter().for_each(|b| changes.add(*b));
        }
        Ok(changes)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notify_wakes_every_subscriber_and_stale_sockets_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let wake = WakeDir::for_database(&tmp.path().join("q.db"));
        let a = wake.subscribe().unwrap();
        let b = wake.subscribe().unwrap();
        // A stale socket: bound, then its owner went away without cleaning up.
        let stale = tmp.path().join("q.db.wake/999-dead.sock");
        drop(UnixDatagram::bind(&stale).unwrap());
        wake.notify(Change::Events);
        wake.notify(Change::Queue);
        assert_eq!(a.changed().await.unwrap(), Changes { queue: true, events: true });
        assert_eq!(b.changed().await.unwrap(), Changes { queue: true, events: true });
        assert!(!stale.exists());
        let path = a.path.clone();
        drop(a);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn a_notify_can_leave_out_the_subscriber_that_made_the_change() {
        let tmp = tempfile::tempdir().unwrap();
        let wake = WakeDir::for_database(&tmp.path().join("q.db"));
        let (maker, other) = (wake.subscribe().unwrap(), wake.subscribe().unwrap());
        wake.notify_except(Change::Queue, Some(maker.path()));
        // What the maker hears next is only what came after: the queue change never reached it.
        wake.notify(Change::Events);
        assert_eq!(maker.changed().await.unwrap(), Changes { queue: false, events: true });
        assert_eq!(other.changed().await.unwrap(), Changes { queue: true, events: true });
    }
}
