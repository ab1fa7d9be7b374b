//! `baton watch`: the namespace as it changes, redrawn when the store's change feed reports a
//! write by any process (pushed, never polled; a one-second tick only refreshes elapsed times).
//!
//! On a TTY it is a full-screen live view on the alternate screen: the list ([`screen`]), an
//! assignment's chain ([`chain`]) and a job's transcript ([`follow`]), moved between with keys
//! ([`view`], [`keys`]), quit with `q` or Ctrl-C, with the terminal restored on every exit path,
//! panics included ([`term`]). Anywhere else it prints one line per change ([`lines`]), for logs
//! and pipes.
//!
//! It lives in the CLI because everything it needs points there: the store interface, the
//! terminal and the command that runs it; nothing of the HTTP server.

mod chain;
mod follow;
mod idle;
mod keys;
mod lines;
mod paint;
mod screen;
mod snapshot;
mod term;
#[cfg(test)]
mod tests;
mod view;

use baton_core::time::now_ms;
use baton_core::{AssignmentDetail, Error, Result, Store};
use follow::Follow;
use snapshot::{still_there, Snapshot};
use std::future::Future;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;
use view::{Effect, Mode, Target, View};

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
    let mut result = out.write_all(paint::ENTER.as_bytes()).map_err(write_error);
    if result.is_ok() {
        result = live_loop(store, ns, out, feed.as_ref(), keys, shutdown).await;
    }
    let left = out.write_all(paint::LEAVE.as_bytes()).and_then(|()| out.flush());
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
    let mut view = View::new();
    // What the chain and transcript pages show, read when opened and on each change.
    let mut chain: Option<AssignmentDetail> = None;
    let mut follow: Option<Follow> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(shutdown);
    let mut redraw = true;
    let mut targets: Vec<Target> = Vec::new();
    let mut chain_jobs: Vec<String> = Vec::new();
    loop {
        if redraw {
            let (width, height) = term::window_size();
            let now = now_ms();
            let page = match (&view.mode, &chain, &follow) {
                (Mode::Chain(_), Some(detail), _) => {
                    let p = chain::chain_page(detail, now, &view, width, height);
                    chain_jobs = p.jobs;
                    p.page
                }
                (Mode::Transcript { .. }, _, Some(f)) => f.page(now, width, height),
                _ => {
                    let p = screen::list_page(ns, &snap, now, &view, width, height);
                    targets = p.targets;
                    p.page
                }
            };
            out.write_all(paint::paint(&page, width, height).as_bytes()).map_err(write_error)?;
            out.flush().map_err(write_error)?;
        }
        redraw = true;
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            key = next_key(&mut keys) => match key {
                Some(key) => match view.key(key, &targets, &chain_jobs) {
                    Effect::Quit => return Ok(()),
                    Effect::Redraw => {}
                    Effect::OpenChain(id) => {
                        chain = still_there(store.assignment(ns, &id).await)?;
                        view.mode = Mode::Chain(id);
                    }
                    Effect::Follow(job) => {
                        follow = still_there(Follow::open(store, ns, &job).await)?;
                        view.follow(job);
                    }
                },
                None => keys = None,
            },
            changed = feed.changed() => {
                let changed = changed?;
                if changed.queue {
                    snap = Snapshot::take(store, ns, Some(&snap)).await?;
                    if let Mode::Chain(id) = &view.mode {
                        chain = still_there(store.assignment(ns, id).await)?;
                    }
                }
                match (&view.mode, follow.as_mut()) {
                    (Mode::Transcript { .. }, Some(f)) if changed.queue || changed.events => f.refresh(store, ns).await?,
                    // Only transcript lines were written, and none is on screen.
                    _ if !changed.queue => redraw = false,
                    _ => {}
                }
            }
            _ = tick.tick() => {}
        }
    }
}

/// The next key, or never when keys are not read.
async fn next_key(keys: &mut Option<term::Keys>) -> Option<keys::Key> {
    match keys {
        Some(k) => k.next().await,
        None => std::future::pending().await,
    }
}
