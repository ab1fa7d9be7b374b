//! Drawing rows on the terminal without flicker — cursor home, each row followed by
//! clear-to-end-of-line, the rest of the screen cleared — so a redraw overwrites in place instead
//! of blanking the screen. Rows are styled runs of text, cut to the width so none ever wraps.

/// A styling of a run of text (an SGR sequence), or none.
pub(crate) type Style = Option<&'static str>;

pub(crate) const BOLD: Style = Some("\x1b[1m");
pub(crate) const DIM: Style = Some("\x1b[2m");
pub(crate) const GREEN: Style = Some("\x1b[32m");
pub(crate) const RED: Style = Some("\x1b[31m");
pub(crate) const BLOCKED: Style = Some("\x1b[1;30;43m");
pub(crate) const YELLOW: Style = Some("\x1b[33m");
/// The selected row.
pub(crate) const SELECTED: Style = Some("\x1b[7m");
const RESET: &str = "\x1b[0m";

/// Enter the alternate screen and hide the cursor.
pub(crate) const ENTER: &str = "\x1b[?1049h\x1b[?25l";
/// Show the cursor and leave the alternate screen (the shell's screen comes back as it was).
pub(crate) const LEAVE: &str = "\x1b[?25h\x1b[?1049l";

/// One screen row: styled runs of text.
pub(crate) type Line = Vec<(String, Style)>;

pub(crate) fn plain(text: impl Into<String>) -> Line {
    vec![(text.into(), None)]
}

/// A row drawn in one style, e.g. the selected one.
pub(crate) fn restyle(row: Line, style: Style) -> Line {
    row.into_iter().map(|(text, _)| (text, style)).collect()
}

/// A page: its rows, and a footer that always takes the last row of the screen.
pub(crate) struct Page {
    pub rows: Vec<Line>,
    pub footer: Line,
}

/// The escape sequences that draw `page` over the previous frame on a `width`×`height` screen.
pub(crate) fn paint(page: &Page, width: usize, height: usize) -> String {
    let mut out = String::from("\x1b[H");
    let room = height.max(2) - 1;
    let rows = &page.rows;
    for (i, row) in rows.iter().take(room).enumerate() {
        if i + 1 == room && rows.len() > room {
            let note: Line = vec![(format!("… {} more rows (enlarge the window)", rows.len() - room + 1), DIM)];
            push_row(&mut out, &note, width);
        } else {
            push_row(&mut out, row, width);
        }
        out.push_str("\r\n");
    }
    // Rows short of the screen are blanked so the footer sits on the last one.
    for _ in rows.len().min(room)..room {
        out.push_str("\x1b[K\r\n");
    }
    push_row(&mut out, &page.footer, width);
    out.push_str("\x1b[J");
    out
}

/// One row cut to the screen width (so it never wraps), then clear to the end of the line.
fn push_row(out: &mut String, row: &Line, width: usize) {
    let mut left = width;
    for (text, style) in row {
        if left == 0 {
            break;
        }
        let piece: String = text.chars().take(left).collect();
        left -= piece.chars().count();
        match style {
            Some(code) => {
                out.push_str(code);
                out.push_str(&piece);
                out.push_str(RESET);
            }
            None => out.push_str(&piece),
        }
    }
    out.push_str("\x1b[K");
}

/// Text on one line, at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Text on at most `rows` lines of `width` characters, broken at spaces where it can be; the
/// last line ends in `…` when text is left over.
pub(crate) fn wrap(text: &str, width: usize, rows: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let used = current.chars().count();
            let need = word.chars().count() + usize::from(used > 0);
            if used + need <= width {
                if used > 0 {
                    current.push(' ');
                }
                current.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            // A word longer than the line (a path, a URL) is broken wherever the line ends.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > rows {
        lines.truncate(rows);
        if let Some(last) = lines.last_mut() {
            *last = format!("{}…", last.chars().take(width.saturating_sub(1)).collect::<String>());
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_cut_to_the_width_and_the_footer_takes_the_last_row() {
        let page = Page {
            rows: vec![plain("abcdefghij"), vec![("xy".into(), BOLD), ("z".into(), None)]],
            footer: plain("keys"),
        };
        let painted = paint(&page, 4, 4);
        assert_eq!(painted, "\x1b[Habcd\x1b[K\r\n\x1b[1mxy\x1b[0mz\x1b[K\r\n\x1b[K\r\nkeys\x1b[K\x1b[J");
    }

    #[test]
    fn rows_past_the_height_are_counted() {
        let rows: Vec<Line> = (0..5).map(|i| plain(format!("row {i}"))).collect();
        let painted = paint(&Page { rows, footer: plain("keys") }, 80, 4);
        assert!(painted.contains("row 1") && !painted.contains("row 2"));
        assert!(painted.contains("… 3 more rows"), "{painted:?}");
        assert!(painted.ends_with("keys\x1b[K\x1b[J"));
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_inside_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 10, 3), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("/a/very/long/path/indeed", 10, 3), vec!["/a/very/lo", "ng/path/in", "deed"]);
        assert_eq!(wrap("one two three four five six", 10, 2), vec!["one two", "three fou…"]);
    }
}
