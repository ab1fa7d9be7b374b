//! How an attempt's prompt is stored: DEFLATE-compressed, beside its size and SHA-256, so any
//! PM decision can be audited against exactly what the PM was shown, and a prompt whose text
//! retention dropped can still be recognised by its hash.

use baton_core::{Error, Result};
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// A prompt as the attempts table keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedPrompt {
    pub compressed: Vec<u8>,
    pub bytes: i64,
    pub sha256: String,
}

/// Compresses and hashes a prompt.
pub fn pack(prompt: &str) -> Result<PackedPrompt> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    let compressed = encoder
        .write_all(prompt.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|e| Error::Io { what: "compressing a prompt".into(), source: e })?;
    let sha256 = Sha256::digest(prompt.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    Ok(PackedPrompt { compressed, bytes: i64::try_from(prompt.len()).unwrap_or(i64::MAX), sha256 })
}

/// The text of a stored prompt.
pub fn unpack(compressed: &[u8]) -> Result<String> {
    let mut text = String::new();
    DeflateDecoder::new(compressed)
        .read_to_string(&mut text)
        .map_err(|e| Error::Io { what: "reading a stored prompt".into(), source: e })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_round_trips_with_its_hash() {
        let prompt = "Summary: `$HOME` 'quoted' \"double\" — ünïcode\n".repeat(200);
        let packed = pack(&prompt).unwrap();
        assert!(packed.compressed.len() < prompt.len() / 10, "repetitive text compresses");
        assert_eq!(packed.bytes, prompt.len() as i64);
        assert_eq!(unpack(&packed.compressed).unwrap(), prompt);
        assert_eq!(pack("abc").unwrap().sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
