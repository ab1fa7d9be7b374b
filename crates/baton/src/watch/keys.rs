//! The keys of the live view, decoded from the bytes a terminal sends: printable characters,
//! Enter, Escape, Backspace and the arrow keys (`ESC [ A` or, in application mode, `ESC O A`).
//!
//! Decoding works on one read's bytes at a time: a terminal writes an escape sequence in one
//! piece, so an `ESC` at the end of a read is the Escape key itself, not the start of a sequence.

/// One key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Char(char),
    Enter,
    Escape,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    /// Ctrl-C or Ctrl-D: quit from anywhere, even while typing a filter.
    Interrupt,
}

/// The keys in one read from the terminal.
pub(crate) fn decode(bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let key = match c {
            '\x1b' => match chars.peek() {
                Some('[' | 'O') => {
                    chars.next();
                    // Parameters (digits, `;`) then one final byte; only the arrows mean something here.
                    let mut last = None;
                    for c in chars.by_ref() {
                        if !(c.is_ascii_digit() || c == ';') {
                            last = Some(c);
                            break;
                        }
                    }
                    match last {
                        Some('A') => Key::Up,
                        Some('B') => Key::Down,
                        Some('C') => Key::Right,
                        Some('D') => Key::Left,
                        _ => continue,
                    }
                }
                _ => Key::Escape,
            },
            '\r' | '\n' => Key::Enter,
            '\x7f' | '\x08' => Key::Backspace,
            '\x03' | '\x04' => Key::Interrupt,
            c if c.is_control() => continue,
            c => Key::Char(c),
        };
        keys.push(key);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_in_both_modes_and_plain_keys() {
        assert_eq!(decode(b"\x1b[A\x1b[B\x1bOC\x1b[1;5D"), vec![Key::Up, Key::Down, Key::Right, Key::Left]);
        assert_eq!(decode(b"jk/\r"), vec![Key::Char('j'), Key::Char('k'), Key::Char('/'), Key::Enter]);
        assert_eq!(decode(b"\x1b"), vec![Key::Escape]);
        assert_eq!(decode(b"\x7f\x03"), vec![Key::Backspace, Key::Interrupt]);
        assert_eq!(decode("é".as_bytes()), vec![Key::Char('é')]);
        // An unknown sequence (a function key) is dropped whole, not read as letters.
        assert_eq!(decode(b"\x1b[15~q"), vec![Key::Char('q')]);
    }
}
