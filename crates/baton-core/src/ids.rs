//! Identifiers: short, typable, unique across processes without coordination.
//!
//! An id is a one-letter kind prefix followed by random characters from an alphabet without
//! look-alikes (no `0/o`, `1/l/i`), e.g. `a7k2m9qxp` for an assignment, `j4f8hw2cq` for a job.
//! 8 random characters give 32^8 ≈ 10^12 values; backends still insert with a uniqueness
//! constraint, so a collision is an error rather than silent corruption.

use rand::Rng;

const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const RANDOM_LEN: usize = 8;

fn random_id(prefix: char) -> String {
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
