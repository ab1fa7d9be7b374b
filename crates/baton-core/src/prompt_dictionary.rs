//! The text most prompts repeat, which a backend gives DEFLATE as a preset dictionary when it
//! stores an attempt's prompt: a prompt rendered from baton's templates then costs little more
//! than what is particular to its job (its assignment, the reports before it), instead of the
//! template text over again in every attempt row.
//!
//! A dictionary is identified by the SHA-256 of its text. Backends keep each one they were given
//! once, beside the prompts compressed against it, so a prompt stays readable after the binary
//! that wrote it (and its templates) is gone.

use sha2::{Digest, Sha256};
use std::fmt;

/// A preset dictionary and the SHA-256 that names it.
#[derive(Clone, PartialEq, Eq)]
pub struct PromptDictionary {
    text: Vec<u8>,
    sha256: String,
}

impl PromptDictionary {
    /// A dictionary of `text`. DEFLATE looks back at most 32 KiB, so only the last 32 KiB of a
    /// longer text can help; the most common text belongs at the end.
    pub fn new(text: impl Into<Vec<u8>>) -> Self {
        let text = text.into();
        let sha256 = Sha256::digest(&text).iter().map(|b| format!("{b:02x}")).collect();
        PromptDictionary { text, sha256 }
    }

    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// Lower-case hex, as it is stored.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The text is long and of no interest in a log line: its size and name say which it is.
impl fmt::Debug for PromptDictionary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptDictionary").field("bytes", &self.text.len()).field("sha256", &self.sha256).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dictionary_is_named_by_the_hash_of_its_text() {
        let dictionary = PromptDictionary::new("abc");
        assert_eq!(dictionary.sha256(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(dictionary.text(), b"abc");
        assert_eq!(
            format!("{dictionary:?}"),
            format!("PromptDictionary {{ bytes: 3, sha256: {:?} }}", dictionary.sha256())
        );
    }
}
