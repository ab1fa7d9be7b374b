//! Which of a repository's template copies are stale: so that improvements to the built-in
//! templates reach repositories where an older `baton init` copied them into `.baton/templates/`.
//!
//! The binary keeps the SHA-256 of every earlier version of each built-in (`templates/history.txt`).
//! A copy identical to one of them was never edited, so the current built-in is used instead; an
//! edited copy of a built-in that has changed since is still used (it is the person's), and
//! `baton run` warns about it once.

use crate::templates::{override_dir, BUILTIN};
use sha2::{Digest, Sha256};
use std::path::Path;

/// `<file> <sha256>` lines, `#` comments.
const HISTORY: &str = include_str!("../templates/history.txt");

/// The hashes of the earlier versions of the built-in `name`.
fn earlier_versions(name: &str) -> impl Iterator<Item = &'static str> + '_ {
    HISTORY
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .filter(move |(file, _)| *file == name)
        .map(|(_, hash)| hash.trim())
}

fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Is `text` an untouched copy of an earlier version of the built-in `name`?
pub fn is_untouched_old_copy(name: &str, text: &str) -> bool {
    let hash = sha256_hex(text);
    earlier_versions(name).any(|h| h.eq_ignore_ascii_case(&hash))
}

/// The built-in templates the repository at `repo_root` overrides with an edited copy although
/// the built-in has changed since it was first shipped (an earlier version differs from it); by
/// file name.
pub fn edited_overrides_of_changed_builtins(repo_root: &Path) -> Vec<&'static str> {
    let dir = override_dir(repo_root);
    BUILTIN
        .iter()
        .filter(|(name, builtin)| {
            let Ok(text) = std::fs::read_to_string(dir.join(name)) else { return false };
            let current = sha256_hex(builtin);
            let changed = earlier_versions(name).any(|h| !h.eq_ignore_ascii_case(&current));
            changed && text != *builtin && !is_untouched_old_copy(name, &text)
        })
        .map(|(name, _)| *name)
        .collect()
}

/// The warning `baton run` prints once for such a template.
pub fn override_warning(name: &str) -> String {
    let short = name.strip_suffix(".md").unwrap_or(name);
    format!("template {name} overrides a newer built-in; diff it with baton templates diff {short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lines_name_built_in_files_and_hold_sha256_hashes() {
        for line in HISTORY.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let (file, hash) = line.split_once(' ').unwrap();
            assert!(BUILTIN.iter().any(|(n, _)| *n == file), "{line}");
            assert_eq!(hash.len(), 64, "{line}");
        }
    }

    #[test]
    fn only_exact_earlier_versions_count_as_untouched() {
        let (name, hash) = ("pm.md", earlier_versions("pm.md").next().unwrap());
        assert!(!is_untouched_old_copy(name, "edited"));
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hash.len(), 64);
    }
}
