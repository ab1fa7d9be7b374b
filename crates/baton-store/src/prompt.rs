//! How an attempt's prompt is stored: DEFLATE-compressed, beside its size and SHA-256, so any
//! PM decision can be audited against exactly what the PM was shown, and a prompt whose text
//! retention dropped can still be recognised by its hash.
//!
//! The runner hands over the text its prompts are made of (its built-in templates) as a
//! [`PromptDictionary`]; compressed against it, a rendered prompt costs about a tenth of what it
//! does on its own, because the template text is then a back-reference, not literals. Each
//! backend keeps every dictionary it was given in `prompt_dictionaries`, and each attempt row
//! says which one (if any) its prompt needs, so rows written before dictionaries, or by a runner
//! with other templates, read back the same way.

use baton_core::prompt_dictionary::PromptDictionary;
use baton_core::{Error, Result};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use sha2::{Digest, Sha256};
use std::io;

/// A prompt as the attempts table keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct PackedPrompt {
    pub compressed: Vec<u8>,
    pub bytes: i64,
    pub sha256: String,
}

/// Compresses (against `dictionary`, when given) and hashes a prompt.
pub fn pack(prompt: &str, dictionary: Option<&PromptDictionary>) -> Result<PackedPrompt> {
    let compressed = deflate(prompt.as_bytes(), dictionary.map(PromptDictionary::text))
        .map_err(|e| Error::Io { what: "compressing a prompt".into(), source: e })?;
    Ok(PackedPrompt { compressed, bytes: i64::try_from(prompt.len()).unwrap_or(i64::MAX), sha256: sha256(prompt) })
}

/// The text of a stored prompt, checked against the SHA-256 recorded with it (when there is
/// one): a prompt read with the wrong dictionary would otherwise come back as plausible garbage.
pub fn unpack(compressed: &[u8], dictionary: Option<&[u8]>, recorded_sha256: Option<&str>) -> Result<String> {
    let reading = |source: io::Error| Error::Io { what: "reading a stored prompt".into(), source };
    let bytes = inflate(compressed, dictionary).map_err(reading)?;
    let text = String::from_utf8(bytes).map_err(|e| reading(io::Error::new(io::ErrorKind::InvalidData, e)))?;
    match recorded_sha256 {
        Some(recorded) if recorded != sha256(&text) => Err(reading(io::Error::new(
            io::ErrorKind::InvalidData,
            "its text does not match the SHA-256 recorded with it (was its row in prompt_dictionaries changed?)",
        ))),
        _ => Ok(text),
    }
}

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Raw DEFLATE (no zlib header: the row keeps the size and hash) of `input`.
fn deflate(input: &[u8], dictionary: Option<&[u8]>) -> io::Result<Vec<u8>> {
    let mut compress = Compress::new(Compression::default(), false);
    if let Some(dictionary) = dictionary {
        compress.set_dictionary(dictionary).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(input.len() / 4 + 64);
    loop {
        let consumed = usize::try_from(compress.total_in()).unwrap_or(input.len()).min(input.len());
        match compress.compress_vec(&input[consumed..], &mut out, FlushCompress::Finish).map_err(io::Error::other)? {
            Status::StreamEnd => return Ok(out),
            // Out of room: `compress_vec` only fills what is already reserved.
            Status::Ok | Status::BufError => out.reserve(out.capacity().max(256)),
        }
    }
}

fn inflate(input: &[u8], dictionary: Option<&[u8]>) -> io::Result<Vec<u8>> {
    let mut decompress = Decompress::new(false);
    if let Some(dictionary) = dictionary {
        decompress.set_dictionary(dictionary).map_err(io::Error::other)?;
    }
    let mut out = Vec::with_capacity(input.len() * 4 + 64);
    loop {
        let consumed = usize::try_from(decompress.total_in()).unwrap_or(input.len()).min(input.len());
        let written = out.len();
        let status = decompress
            .decompress_vec(&input[consumed..], &mut out, FlushDecompress::Finish)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        match status {
            Status::StreamEnd => return Ok(out),
            _ if out.len() == out.capacity() => out.reserve(out.capacity()),
            // Room left, nothing more written and no end of stream: the input stops short.
            _ if out.len() == written => {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the compressed text ends early"))
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMPT: &str = "Summary: `$HOME` 'quoted' \"double\" — ünïcode\n";

    #[test]
    fn a_prompt_round_trips_with_its_hash() {
        let prompt = PROMPT.repeat(200);
        let packed = pack(&prompt, None).unwrap();
        assert!(packed.compressed.len() < prompt.len() / 10, "repetitive text compresses");
        assert_eq!(packed.bytes, prompt.len() as i64);
        assert_eq!(unpack(&packed.compressed, None, Some(&packed.sha256)).unwrap(), prompt);
        assert_eq!(
            pack("abc", None).unwrap().sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(unpack(&pack("", None).unwrap().compressed, None, None).unwrap(), "");
    }

    #[test]
    fn a_dictionary_of_the_template_leaves_only_what_is_particular() {
        let template = "## Your task\n\nImplement the change in this working tree. How to work: read before you \
                        write; make the smallest complete change; add tests that fail without it.\n"
            .repeat(3);
        let dictionary = PromptDictionary::new(template.clone());
        let prompt = format!("# Job 7\n{template}> the north star of assignment a1b2c3\n");
        let alone = pack(&prompt, None).unwrap();
        let against = pack(&prompt, Some(&dictionary)).unwrap();
        assert!(
            against.compressed.len() * 2 < alone.compressed.len(),
            "{} bytes against the dictionary, {} alone",
            against.compressed.len(),
            alone.compressed.len()
        );
        assert_eq!(against.sha256, alone.sha256, "the hash is of the text, however it is stored");
        assert_eq!(unpack(&against.compressed, Some(dictionary.text()), Some(&against.sha256)).unwrap(), prompt);
    }

    #[test]
    fn a_prompt_read_with_the_wrong_dictionary_is_refused() {
        let prompt = PROMPT.repeat(20);
        let dictionary = PromptDictionary::new(PROMPT.repeat(3));
        let packed = pack(&prompt, Some(&dictionary)).unwrap();
        let other = PromptDictionary::new(PROMPT.replace('d', "D").repeat(3));
        let refused = [
            unpack(&packed.compressed, Some(other.text()), Some(&packed.sha256)),
            unpack(&packed.compressed, None, Some(&packed.sha256)),
        ];
        for result in refused {
            let message = result.unwrap_err().to_string();
            assert!(message.starts_with("reading a stored prompt: "), "{message}");
        }
    }

    #[test]
    fn a_cut_off_prompt_is_an_error_not_a_loop() {
        let prompt = "no two lines alike: "
            .chars()
            .cycle()
            .take(5000)
            .enumerate()
            .map(|(i, c)| format!("{c}{i}"))
            .collect::<String>();
        let packed = pack(&prompt, None).unwrap();
        let message = unpack(&packed.compressed[..packed.compressed.len() / 2], None, None).unwrap_err().to_string();
        assert!(message.contains("ends early"), "{message}");
    }
}
