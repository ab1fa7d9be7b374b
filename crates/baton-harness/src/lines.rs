//! [`LineSplitter`]: turns arbitrary byte chunks from a child's stdout into
//! complete lines, with bounded memory.
//!
//! The agent CLIs write one JSON object per line, but the pipe delivers
//! chunks of any size. A single pathological line (a tool dumping a binary
//! file, a runaway process) must not make the runner buffer gigabytes, so
//! each line keeps at most `max_line` bytes; the rest of that line is
//! counted and dropped until the next `\n`.

/// A reasonable default for [`LineSplitter::new`]: big enough for a claude
/// `result` or a tool result carrying a large file, small enough that a
/// runaway line cannot exhaust memory.
pub const DEFAULT_MAX_LINE: usize = 8 * 1024 * 1024;

/// One line of output, without its terminator (`\n` or `\r\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The first `min(original_len, max_line)` bytes of the line.
    pub bytes: Vec<u8>,
    /// True when the line was longer than `max_line` and `bytes` holds only
    /// its beginning.
    pub truncated: bool,
    /// Length of the full line in bytes (terminator excluded).
    pub original_len: usize,
}

impl Line {
    /// A complete (untruncated) line; handy for tests and for feeding text
    /// that did not come through a splitter.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Line {
        let bytes = bytes.into();
        let original_len = bytes.len();
        Line { bytes, truncated: false, original_len }
    }
}

/// Splits a byte stream into [`Line`]s. Feed chunks with [`push`], and call
/// [`finish`] at EOF to get a final line that had no terminator.
///
/// The lines produced do not depend on how the input was chunked.
///
/// [`push`]: LineSplitter::push
/// [`finish`]: LineSplitter::finish
#[derive(Debug)]
pub struct LineSplitter {
    max_line: usize,
    /// Kept bytes of the current line (never more than `max_line`).
    buf: Vec<u8>,
    /// Bytes seen so far in the current line, kept or not.
    seen: usize,
    /// Whether the last byte seen in the current line was `\r`: needed to
    /// strip `\r\n` even when the `\r` itself was beyond the cap or arrived
    /// in a previous chunk.
    last_cr: bool,
}

impl LineSplitter {
    /// `max_line` is the most bytes kept per line.
    pub fn new(max_line: usize) -> LineSplitter {
        LineSplitter { max_line, buf: Vec::new(), seen: 0, last_cr: false }
    }

    /// Consumes a chunk and returns the lines it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Line> {
        let mut out = Vec::new();
        let mut rest = chunk;
        loop {
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.append(&rest[..i]);
                    out.push(self.take_line());
                    rest = &rest[i + 1..];
                }
                None => {
                    self.append(rest);
                    break;
                }
            }
        }
        out
    }

    /// Returns the final unterminated line, if the stream did not end with
    /// a newline.
    pub fn finish(mut self) -> Option<Line> {
        if self.seen == 0 {
            return None;
        }
        Some(self.take_line())
    }

    fn append(&mut self, seg: &[u8]) {
        if seg.is_empty() {
            return;
        }
        let room = self.max_line.saturating_sub(self.buf.len());
        let keep = room.min(seg.len());
        self.buf.extend_from_slice(&seg[..keep]);
        self.seen = self.seen.saturating_add(seg.len());
        self.last_cr = seg[seg.len() - 1] == b'\r';
    }

    fn take_line(&mut self) -> Line {
        // A trailing `\r` belongs to a `\r\n` terminator (or to EOF), not to
        // the content.
        let len = if self.last_cr { self.seen - 1 } else { self.seen };
        self.buf.truncate(len);
        let line = Line { bytes: std::mem::take(&mut self.buf), truncated: len > self.max_line, original_len: len };
        self.seen = 0;
        self.last_cr = false;
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(input: &[u8], max: usize, chunks: &[usize]) -> Vec<Line> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        let mut pos = 0;
        for &c in chunks {
            let end = (pos + c).min(input.len());
            out.extend(s.push(&input[pos..end]));
            pos = end;
        }
        out.extend(s.push(&input[pos..]));
        out.extend(s.finish());
        out
    }

    /// Straightforward reference implementation (buffers everything).
    fn reference(input: &[u8], max: usize) -> Vec<Line> {
        let mut out = Vec::new();
        if input.is_empty() {
            return out;
        }
        let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        if input.last() == Some(&b'\n') {
            parts.pop();
        }
        for p in parts {
            let p = p.strip_suffix(b"\r").unwrap_or(p);
            out.push(Line { bytes: p[..p.len().min(max)].to_vec(), truncated: p.len() > max, original_len: p.len() });
        }
        out
    }

    #[test]
    fn basic_lines() {
        let lines = split_all(b"a\nbc\n\nd", 100, &[]);
        let texts: Vec<&[u8]> = lines.iter().map(|l| l.bytes.as_slice()).collect();
        assert_eq!(texts, vec![&b"a"[..], b"bc", b"", b"d"]);
        assert!(lines.iter().all(|l| !l.truncated));
    }

    #[test]
    fn crlf_is_stripped_even_across_chunks() {
        let mut s = LineSplitter::new(100);
        assert!(s.push(b"abc\r").is_empty());
        let l = s.push(b"\nx\r\n");
        assert_eq!(l, vec![Line::new("abc"), Line::new("x")]);
        assert!(s.finish().is_none());
    }

    #[test]
    fn lone_cr_inside_line_is_kept() {
        let l = split_all(b"a\rb\n", 100, &[]);
        assert_eq!(l, vec![Line::new("a\rb")]);
    }

    #[test]
    fn long_line_is_truncated_and_rest_discarded() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\nok\n");
        let lines = split_all(&input, 16, &[3, 5000, 1]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].bytes, vec![b'x'; 16]);
        assert!(lines[0].truncated);
        assert_eq!(lines[0].original_len, 10_000);
        assert_eq!(lines[1], Line::new("ok"));
    }

    #[test]
    fn exactly_max_plus_cr_is_not_truncated() {
        let lines = split_all(b"abcd\r\n", 4, &[]);
        assert_eq!(lines, vec![Line::new("abcd")]);
    }

    #[test]
    fn memory_stays_bounded_for_a_huge_line() {
        let mut s = LineSplitter::new(1024);
        let chunk = vec![b'y'; 64 * 1024];
        for _ in 0..200 {
            // ~13 MB without a newline
            assert!(s.push(&chunk).is_empty());
            assert!(s.buf.capacity() <= 64 * 1024 + 1024);
        }
        let last = s.finish().unwrap();
        assert_eq!(last.bytes.len(), 1024);
        assert!(last.truncated);
        assert_eq!(last.original_len, 200 * 64 * 1024);
    }

    #[test]
    fn empty_input_and_final_line() {
        assert!(split_all(b"", 10, &[]).is_empty());
        assert_eq!(split_all(b"tail", 10, &[]), vec![Line::new("tail")]);
        assert_eq!(split_all(b"tail\r", 10, &[]), vec![Line::new("tail")]);
        assert_eq!(split_all(b"\n", 10, &[]), vec![Line::new("")]);
    }

    #[test]
    fn max_zero_keeps_nothing_but_counts() {
        let lines = split_all(b"abc\n\n", 0, &[]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].truncated && lines[0].bytes.is_empty() && lines[0].original_len == 3);
        assert!(!lines[1].truncated);
    }

    /// xorshift64*: tiny deterministic PRNG so the test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    #[test]
    fn chunking_never_changes_the_lines() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let alphabet = [b'a', b'b', b'\r', b'\n', b'\n', 0xC3, 0xA9, 0x00, b'{'];
        for case in 0..2000 {
            let len = rng.below(300) as usize;
            let input: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize]).collect();
            let max = rng.below(12) as usize;
            let whole = split_all(&input, max, &[]);
            assert_eq!(whole, reference(&input, max), "case {case}: {input:?}");
            let mut chunks = Vec::new();
            let mut left = len;
            while left > 0 {
                let c = 1 + rng.below(left as u64) as usize;
                let c = if rng.below(3) == 0 { 1 } else { c };
                chunks.push(c);
                left -= c.min(left);
            }
            let chunked = split_all(&input, max, &chunks);
            assert_eq!(chunked, whole, "case {case}: chunks {chunks:?} input {input:?}");
        }
    }
}
