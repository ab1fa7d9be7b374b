//! Identifiers: short, typable, unique across processes without coordination.
//!
//! An id is a one-letter kind prefix followed by random characters from an alphabet without
//! look-alikes (no `0/o`, `1/l/i`), e.g. `a7k2m9qxp` for an assignment, `j4f8hw2cq` for a job.
//! 8 random characters give 31^8 ≈ 8.5 × 10^11 values: short enough to type, but by the
//! birthday bound a namespace of a million jobs is likely to draw one id twice. Backends
//! therefore insert jobs and assignments with `ON CONFLICT (id) DO NOTHING` and draw again when
//! nothing was inserted (up to [`MAX_DRAWS`] times), so a collision costs one more statement
//! instead of failing the write.

use rand::Rng;

const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const RANDOM_LEN: usize = 8;

/// How many ids a backend draws for one insert before giving up. Eight draws all taken would
/// need a table holding most of the id space, which a real database never does.
pub const MAX_DRAWS: usize = 8;

fn random_id(prefix: char) -> String {
    #[cfg(feature = "scripted-ids")]
    if let Some(id) = scripted::take(prefix) {
        return id;
    }
    let mut rng = rand::thread_rng();
    let mut id = String::with_capacity(RANDOM_LEN + 1);
    id.push(prefix);
    for _ in 0..RANDOM_LEN {
        id.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    id
}

/// A new assignment id (`a…`).
pub fn new_assignment_id() -> String {
    random_id('a')
}

/// A new job id (`j…`).
pub fn new_job_id() -> String {
    random_id('j')
}

/// A new schedule id (`s…`).
pub fn new_schedule_id() -> String {
    random_id('s')
}

/// A new runner id (`r…`).
pub fn new_runner_id() -> String {
    random_id('r')
}

/// Stores a row under a fresh id: `insert` tries one id and returns how many rows it stored
/// (0 when the id was taken, its statement saying `ON CONFLICT (id) DO NOTHING`); ids are drawn
/// until one is stored. The error when every draw was taken names `context`.
pub fn insert_unique<E>(
    draw: fn() -> String,
    context: &'static str,
    mut insert: impl FnMut(&str) -> std::result::Result<usize, E>,
) -> std::result::Result<String, E>
where
    E: From<crate::Error>,
{
    for _ in 0..MAX_DRAWS {
        let id = draw();
        if insert(&id)? > 0 {
            return Ok(id);
        }
    }
    Err(exhausted(context).into())
}

/// The error when [`MAX_DRAWS`] ids in a row were all taken.
pub fn exhausted(context: &'static str) -> crate::Error {
    crate::Error::database(context, format!("{MAX_DRAWS} freshly drawn ids were all taken"))
}

/// Ids handed out in a given order, so a test can make two inserts draw the same id and see
/// the second one draw again. Only built with the `scripted-ids` feature (store tests).
#[cfg(feature = "scripted-ids")]
pub mod scripted {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    // Process-wide, not per thread: backends may generate ids on a thread of their own.
    static NEXT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

    /// Queues ids; each later id of the same kind (first letter) takes the first queued one.
    pub fn queue<'a>(ids: impl IntoIterator<Item = &'a str>) {
        let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
        next.extend(ids.into_iter().map(str::to_string));
    }

    pub(super) fn take(prefix: char) -> Option<String> {
        let mut next = NEXT.lock().unwrap_or_else(|e| e.into_inner());
        let at = next.iter().position(|id| id.starts_with(prefix))?;
        next.remove(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_length() {
        let a = new_assignment_id();
        assert!(a.starts_with('a') && a.len() == 9, "{a}");
        assert!(new_job_id().starts_with('j'));
        assert_ne!(new_job_id(), new_job_id());
    }
}
