//! Aligned columns for people, fitted to the terminal width (off a terminal the width is
//! unlimited and nothing is cut).
//!
//! Widths are measured on the plain text and colour is applied after padding, so escape codes
//! never disturb the alignment. Some columns are marked flexible (the free-text ones: north star,
//! result, action, reason): when a row would not fit, the widest flexible column is cut with `…`
//! first; the others stay whole because ids and statuses are useless when truncated.

use super::format::truncate;
use super::style::Style;

/// One cell: its text (one line) and an optional colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub code: Option<&'static str>,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), code: None }
    }

    pub fn painted(text: impl Into<String>, code: Option<&'static str>) -> Cell {
        Cell { text: text.into(), code }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::new(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::new(text)
    }
}

/// Columns with a header row.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    flex: Vec<usize>,
    indent: usize,
}

/// Space between columns.
const GAP: usize = 2;

fn width_of(text: &str) -> usize {
    text.chars().count()
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table { headers: headers.to_vec(), rows: Vec::new(), flex: Vec::new(), indent: 0 }
    }

    /// Marks a column that may be cut to fit the width.
    pub fn flex(mut self, column: usize) -> Table {
        if column < self.headers.len() {
            self.flex.push(column);
        }
        self
    }

    /// Indents every line by `spaces`.
    pub fn indent(mut self, spaces: usize) -> Table {
        self.indent = spaces;
        self
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, each line ending with a newline, at most `width` columns wide when the
    /// flexible column can absorb the excess.
    pub fn render(&self, style: &Style, width: usize) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width_of(h)).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(width_of(&cell.text));
            }
        }
        let total = self.indent + widths.iter().sum::<usize>() + GAP * columns.saturating_sub(1);
        let mut excess = total.saturating_sub(width);
        // Shrink the widest flexible column, one character at a time, until the row fits or
        // every flexible column is down to its header's width (narrower would hide what it is).
        let min = |c: usize| width_of(self.headers[c]).max(4);
        while excess > 0 {
            let widest = self.flex.iter().copied().filter(|c| widths[*c] > min(*c)).max_by_key(|c| widths[*c]);
            let Some(column) = widest else { break };
            widths[column] -= 1;
            excess -= 1;
        }

        let mut out = String::new();
        let header: Vec<Cell> = self.headers.iter().map(|h| Cell::painted(*h, Some(super::style::BOLD))).collect();
        self.render_row(&mut out, &header, &widths, style);
        for row in &self.rows {
            self.render_row(&mut out, row, &widths, style);
        }
        out
    }

    fn render_row(&self, out: &mut String, row: &[Cell], widths: &[usize], style: &Style) {
        let mut line = " ".repeat(self.indent);
        // Trailing empty cells would only add trailing spaces.
        let last = row.iter().take(widths.len()).rposition(|c| !c.text.is_empty()).unwrap_or(0);
        for (i, width) in widths.iter().enumerate().take(last + 1) {
            let text = row.get(i).map(|c| c.text.as_str()).unwrap_or("");
            let text = truncate(text, *width);
            let code = row.get(i).and_then(|c| c.code);
            line.push_str(&style.paint(code, &text));
            if i < last {
                let pad = width - width_of(&text) + GAP;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(&["ID", "STATUS"]);
        t.row(vec!["a1".into(), "active".into()]);
        t.row(vec!["a22222".into(), "blocked".into()]);
        assert_eq!(t.render(&Style::plain(), 100), "ID      STATUS\na1      active\na22222  blocked\n");
    }

    #[test]
    fn cuts_the_flexible_column_to_the_width() {
        let mut t = Table::new(&["ID", "TEXT"]).flex(1);
        t.row(vec!["a1".into(), "x".repeat(200).into()]);
        let out = t.render(&Style::plain(), 40);
        for line in out.lines() {
            assert!(line.chars().count() <= 40, "{line}");
        }
        assert!(out.contains('…'));
    }

    #[test]
    fn colour_does_not_change_alignment() {
        let style = Style::detect(crate::cli::ColorChoice::Always);
        let mut t = Table::new(&["S", "X"]);
        t.row(vec![Cell::painted("failed", Some(super::super::style::RED)), "1".into()]);
        let out = t.render(&style, 100);
        assert!(out.contains("\x1b[31mfailed\x1b[0m  1"), "{out:?}");
    }
}
