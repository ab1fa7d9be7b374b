//! `baton watch`: the namespace as it changes, redrawn when the store's change feed reports a
//! write by any process (pushed, never polled; a one-second tick only refreshes elapsed times).
//!
//! On a TTY it is a full-screen live view ([`screen`]) on the alternate screen, quit with `q`
//! or Ctrl-C, with the terminal restored on every exit path, panics included ([`term`]). Anywhere
//! else it prints one line per change ([`lines`]), for logs and pipes.
//!
//! It lives in the CLI because everything it needs points there: the store interface, the
//! terminal and the command that runs it; nothing of the HTTP server.

mod lines;
mod screen;
mod snapshot;
mod term;
#[cfg(test)]
mod tests;

use baton_core::time::now_ms;
use baton_core::{Error, Result, Store};
use snapshot::Snapshot;
use std::future::Future;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

/// Watches `namespace` until `shutdown` resolves (or, on a TTY, `q`/Ctrl-C is pressed).
///
/// `tty` says whether `out` is a terminal: then the live view is drawn on it (and keys are read
/// from stdin when stdin is a terminal too); otherwise one line per change is written, each
/// starting with a UTC timestamp, e.g. `2026-11-28T07:41:03Z job j4f8hw2c (implement) started`.
/// A closed output (`baton watch | head`) ends the watch quietly.
pub async fn watch(
    store: Arc<dyn Store>,
    namespace: &str,
    mut out: impl Write,
    tty: bool,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let result = if tty {
        live(store.as_ref(), namespace, &mut out, shutdown).await
    } else {
        changes(store.as_ref(), namespace, &mut out, shutdown).await
    };
    match result {
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn write_error(e: io::Error) -> Error {
    Error::io("writing the watch output", e)
}

/// One line per change.
async fn changes(store: &dyn Store, ns: &str, out: &mut impl Write, shutdown: impl Future<Output = ()>) -> Result<()> {
    // Subscribed before the first read, so nothing written in between is missed.
    let feed = store.subscribe()?;
    let mut prev = Snapshot::take(store, ns, None).await?;
    print(out, &[lines::summary(ns, &prev)])?;
    tokio::pin!(shutdown);
    loop {
        let changed = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            changed = feed.changed() => changed?,
        };
        if !changed.queue {
            continue;
        }
        let next = Snapshot::take(store, ns, Some(&prev)).await?;
        print(out, &lines::diff(&prev, &next))?;
        prev = next;
    }
}

fn print(out: &mut impl Write, lines: &[String]) -> Result<()> {
    let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    for line in lines {
        writeln!(out, "{stamp} {line}").map_err(write_error)?;
    }
    out.flush().map_err(write_error)
}

/// The full-screen view: entered, run, and always left, whatever ended it.
async fn live(store: &dyn Store, ns: &str, out: &mut impl Write, shutdown: impl Future<Output = ()>) -> Result<()> {
    let feed = store.subscribe()?;
    let raw = if term::is_tty(libc::STDIN_FILENO) { term::RawMode::enable().ok() } else { None };
    let keys = if raw.is_some() { term::Keys::start().ok() } else { None };
    term::screen_active(true);
    let mut result = out.write_all(screen::ENTER.as_bytes()).map_err(write_error);
    if result.is_ok() {
        result = live_loop(store, ns, out, feed.as_ref(), keys, shutdown).await;
    }
    let left = out.write_all(screen::LEAVE.as_bytes()).and_then(|()| out.flush());
    term::screen_active(false);
    drop(raw);
    result.and(left.map_err(write_error))
}

async fn live_loop(
    store: &dyn Store,
    ns: &str,
    out: &mut impl Write,
    feed: &dyn baton_core::store::ChangeFeed,
    mut keys: Option<term::Keys>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let mut snap = Snapshot::take(store, ns, None).await?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(shutdown);
    let mut redraw = true;
    loop {
        if redraw {
            let (width, height) = term::window_size();
            let rows = screen::frame(ns, &snap, now_ms());
            out.write_all(screen::paint(&rows, width, height).as_bytes()).map_err(write_error)?;
            out.flush().map_err(write_error)?;
        }
        redraw = true;
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            key = next_key(&mut keys) => match key {
                // q, Q, Ctrl-C, Ctrl-D.
                Some(b'q' | b'Q' | 3 | 4) => return Ok(()),
                Some(_) => {}
                None => keys = None,
            },
            changed = feed.changed() => {
                if changed?.queue {
                    snap = Snapshot::take(store, ns, Some(&snap)).await?;
                } else {
                    // Only transcript lines were written: nothing on this screen changed.
                    redraw = false;
                }
            }
            _ = tick.tick() => {}
        }
    }
}

/// The next key, or never when keys are not read.
async fn next_key(keys: &mut Option<term::Keys>) -> Option<u8> {
    match keys {
        Some(k) => k.next().await,
        None => std::future::pending().await,
    }
}
