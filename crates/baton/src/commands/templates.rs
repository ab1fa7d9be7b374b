//! `baton templates diff TYPE`: how the repository's copy of a prompt template
//! (`.baton/templates/TYPE.md`) differs from the built-in this binary carries, as a unified diff
//! (`-` the built-in, `+` the copy), so a person can carry their edits over to a newer built-in.

use crate::cli::{TemplatesAction, TemplatesArgs};
use crate::context::Context;
use crate::error::CliResult;
use baton_core::Error;
use baton_runner::{template_history, templates};

pub async fn run(ctx: &mut Context, args: TemplatesArgs) -> CliResult {
    let TemplatesAction::Diff { name } = args.action;
    let file = if name.ends_with(".md") { name.clone() } else { format!("{name}.md") };
    let Some(builtin) = templates::builtin(&file) else {
        let known: Vec<&str> = templates::BUILTIN.iter().map(|(n, _)| n.trim_end_matches(".md")).collect();
        return Err(
            Error::invalid(format!("no built-in template `{name}`; the templates are {}", known.join(", "))).into()
        );
    };
    let path = templates::override_dir(&ctx.config.repo_root).join(&file);
    let copy = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return ctx.out.text(&format!("{} does not exist: the built-in {file} is used\n", path.display()));
        }
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e).into()),
    };
    if copy == builtin {
        return ctx.out.text(&format!("{} is identical to the built-in {file}\n", path.display()));
    }
    let mut text = String::new();
    if template_history::is_untouched_old_copy(&file, &copy) {
        text.push_str(&format!(
            "# {} is an untouched copy of an earlier built-in: the current built-in is used instead\n",
            path.display()
        ));
    }
    text.push_str(&format!("--- built-in {file}\n+++ {}\n", path.display()));
    text.push_str(&unified_diff::hunks(&builtin, &copy, 3));
    ctx.out.text(&text)
}

/// A line diff (longest common subsequence) printed as unified-diff hunks. Templates are a few
/// hundred lines, so the quadratic table is small.
mod unified_diff {
    enum Op {
        Same,
        Removed,
        Added,
    }

    /// The hunks turning `old` into `new`, with `context` unchanged lines around each change.
    pub fn hunks(old: &str, new: &str, context: usize) -> String {
        let a: Vec<&str> = old.lines().collect();
        let b: Vec<&str> = new.lines().collect();
        let ops = script(&a, &b);
        // Positions (in `ops`) of changed lines, grouped into hunks that share context.
        let changed: Vec<usize> =
            ops.iter().enumerate().filter(|(_, (op, _))| !matches!(op, Op::Same)).map(|(i, _)| i).collect();
        let mut out = String::new();
        let mut start = 0;
        while start < changed.len() {
            let mut end = start;
            while end + 1 < changed.len() && changed[end + 1] - changed[end] <= 2 * context + 1 {
                end += 1;
            }
            let from = changed[start].saturating_sub(context);
            let to = (changed[end] + context + 1).min(ops.len());
            let (mut old_line, mut new_line) = (1, 1);
            for (op, _) in &ops[..from] {
                match op {
                    Op::Same => {
                        old_line += 1;
                        new_line += 1;
                    }
                    Op::Removed => old_line += 1,
                    Op::Added => new_line += 1,
                }
            }
            let old_count = ops[from..to].iter().filter(|(op, _)| !matches!(op, Op::Added)).count();
            let new_count = ops[from..to].iter().filter(|(op, _)| !matches!(op, Op::Removed)).count();
            let at = |line: usize, count: usize| if count == 0 { line - 1 } else { line };
            out.push_str(&format!(
                "@@ -{},{old_count} +{},{new_count} @@\n",
                at(old_line, old_count),
                at(new_line, new_count)
            ));
            for (op, line) in &ops[from..to] {
                let mark = match op {
                    Op::Same => ' ',
                    Op::Removed => '-',
                    Op::Added => '+',
                };
                out.push(mark);
                out.push_str(line);
                out.push('\n');
            }
            start = end + 1;
        }
        out
    }

    fn script<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Op, &'a str)> {
        // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
        let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
            }
        }
        let (mut i, mut j, mut ops) = (0, 0, Vec::new());
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                ops.push((Op::Same, a[i]));
                i += 1;
                j += 1;
            } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
                ops.push((Op::Removed, a[i]));
                i += 1;
            } else {
                ops.push((Op::Added, b[j]));
                j += 1;
            }
        }
        ops
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn one_changed_line_is_one_hunk_with_context() {
            let old = "a\nb\nc\nd\ne\nf\ng\n";
            let new = "a\nb\nc\nD\ne\nf\ng\n";
            assert_eq!(super::hunks(old, new, 2), "@@ -2,5 +2,5 @@\n b\n c\n-d\n+D\n e\n f\n");
        }

        #[test]
        fn identical_texts_have_no_hunks() {
            assert_eq!(super::hunks("x\ny\n", "x\ny\n", 3), "");
        }
    }
}
