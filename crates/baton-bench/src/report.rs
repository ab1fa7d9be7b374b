//! The printed result: one table per section, `what | median/p50 | p90/p99 | floor | ratio |
//! target | verdict`, and free-form notes under it. The ratio is the measure over its floor,
//! both from the same run, so load on the machine moves them together and the ratio holds.

/// Whether a figure met its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// A figure shown for context (a floor, a breakdown), with no target of its own.
    Info,
}

impl Verdict {
    pub fn of(met: bool) -> Verdict {
        if met {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    fn text(self) -> &'static str {
        match self {
            Verdict::Met => "ok",
            Verdict::Missed => "MISSED",
            Verdict::Info => "",
        }
    }
}

/// One line of a section's table.
#[derive(Debug, Clone)]
pub struct Row {
    pub what: String,
    pub central: String,
    pub tail: String,
    pub floor: String,
    /// The measure over its floor (`0.42×`), empty when the row has none.
    pub ratio: String,
    pub target: String,
    pub verdict: Verdict,
}

impl Row {
    pub fn new(what: impl Into<String>, central: impl Into<String>, tail: impl Into<String>) -> Row {
        Row {
            what: what.into(),
            central: central.into(),
            tail: tail.into(),
            floor: String::new(),
            ratio: String::new(),
            target: String::new(),
            verdict: Verdict::Info,
        }
    }

    pub fn floor(mut self, floor: impl Into<String>) -> Row {
        self.floor = floor.into();
        self
    }

    /// The measure over its floor.
    pub fn ratio(mut self, ratio: f64) -> Row {
        self.ratio = format_ratio(ratio);
        self
    }

    /// A ratio target (`≤ 2×`, `≥ 0.8×`) with its verdict.
    pub fn ratio_target(self, ratio: f64, bound: Bound) -> Row {
        let met = match bound {
            Bound::AtMost(limit) => ratio <= limit,
            Bound::AtLeast(limit) => ratio >= limit,
        };
        self.ratio(ratio).target(bound.to_string(), Verdict::of(met))
    }

    pub fn target(mut self, target: impl Into<String>, verdict: Verdict) -> Row {
        self.target = target.into();
        self.verdict = verdict;
        self
    }
}

/// The bound a ratio must keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::AtMost(limit) => write!(f, "≤ {}", format_ratio(*limit)),
            Bound::AtLeast(limit) => write!(f, "≥ {}", format_ratio(*limit)),
        }
    }
}

/// `0.42×`, `2×`, `1.2×`.
pub fn format_ratio(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "–".into();
    }
    let text = format!("{ratio:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}×")
}

/// One section's figures.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    /// Headers of the second and third columns (e.g. `median`, `p90`).
    pub central: &'static str,
    pub tail: &'static str,
    /// Header of the floor column (`floor` unless [`Section::floor_header`] changed it).
    pub floor_header: &'static str,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(title: impl Into<String>, central: &'static str, tail: &'static str) -> Section {
        Section { title: title.into(), central, tail, floor_header: "floor", rows: Vec::new(), notes: Vec::new() }
    }

    /// Renames the floor column (e.g. `floor(s)` when it holds one floor per backend).
    pub fn floor_header(mut self, header: &'static str) -> Section {
        self.floor_header = header;
        self
    }

    pub fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// How many figures missed their target.
    pub fn missed(&self) -> usize {
        self.rows.iter().filter(|r| r.verdict == Verdict::Missed).count()
    }

    /// The section as a Markdown-compatible table with its notes.
    pub fn render(&self) -> String {
        let header = ["what", self.central, self.tail, self.floor_header, "ratio", "target", "verdict"];
        let cells: Vec<[&str; 7]> = self
            .rows
            .iter()
            .map(|r| [&*r.what, &*r.central, &*r.tail, &*r.floor, &*r.ratio, &*r.target, r.verdict.text()])
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |row: &[&str; 7]| {
            let padded: Vec<String> =
                row.iter().zip(widths).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut out = format!("## {}\n\n", self.title);
        out.push_str(&line(&header));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
        for row in &cells {
            out.push_str(&line(row));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_aligned_columns() {
        let mut s = Section::new("t", "median", "p90");
        s.row(Row::new("baton queue", "3.00 ms", "4.00 ms").floor("1.00 ms").target("≤ 5 ms", Verdict::Met));
        s.row(Row::new("x", "1", "2").target("≤ 0", Verdict::Missed));
        let text = s.render();
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(lines.len(), 4);
        assert!(lines.iter().all(|l| l.chars().count() == lines[0].chars().count()), "{text}");
        assert_eq!(s.missed(), 1);
    }

    #[test]
    fn ratios_print_short_and_judge_their_bound() {
        assert_eq!(format_ratio(2.0), "2×");
        assert_eq!(format_ratio(0.4249), "0.42×");
        assert_eq!(format_ratio(1.2), "1.2×");
        let row = Row::new("loop", "100", "").ratio_target(0.5, Bound::AtLeast(0.8));
        assert_eq!((row.ratio.as_str(), row.target.as_str(), row.verdict), ("0.5×", "≥ 0.8×", Verdict::Missed));
        assert_eq!(Row::new("cli", "", "").ratio_target(1.9, Bound::AtMost(2.0)).verdict, Verdict::Met);
    }
}
