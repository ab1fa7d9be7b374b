//! Several read statements in one round trip, for reads that run once per process.
//!
//! Through the extended protocol every statement costs two round trips (parse and describe,
//! then bind and execute), and a CLI call never runs a statement twice, so preparing buys it
//! nothing. `baton queue` reads a dozen lists; sent as one simple-protocol message they cost one
//! round trip. The simple protocol has no parameters, so values go in as SQL literals
//! ([`text`], [`texts`], [`number`]), written so that no value can end the literal early. Rows
//! come back in text format, which the row readers decode like binary rows.

use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Either, Executor};

/// A string as an escape-string literal (`E'…'`): a quote is doubled and a backslash escaped,
/// which reads the same whatever `standard_conforming_strings` says. PostgreSQL text cannot
/// hold NUL, so NUL becomes U+FFFD, as in every text baton writes.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 3);
    out.push_str("E'");
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A `text[]` literal of `values`.
pub fn texts<S: AsRef<str>>(values: &[S]) -> String {
    let items: Vec<String> = values.iter().map(|v| text(v.as_ref())).collect();
    format!("ARRAY[{}]::text[]", items.join(", "))
}

/// A `bigint` literal.
pub fn number(value: i64) -> String {
    format!("'{value}'::bigint")
}

/// `sql` with its placeholders `$1`, `$2`, … replaced by `literals[0]`, `literals[1]`, …, so a
/// statement written for the extended protocol runs here unchanged. One pass over `sql`: a
/// literal put in is never scanned again, so a value spelling `$1` stays that text. The
/// statements given are baton's own, none of which has a `$` inside a string literal; a
/// placeholder without a literal is left as it is (and the server refuses the statement).
pub fn bind(sql: &str, literals: &[String]) -> String {
    let mut out = String::with_capacity(sql.len() + literals.iter().map(String::len).sum::<usize>());
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        let literal =
            after[..digits].parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| literals.get(i));
        match literal {
            Some(literal) => out.push_str(literal),
            None => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Runs `statements` as one message and returns each one's rows, in order.
pub async fn run(conn: &mut PgConnection, statements: &[String]) -> sqlx::Result<Vec<Vec<PgRow>>> {
    let sql = statements.join(";\n");
    let mut results: Vec<Vec<PgRow>> = Vec::with_capacity(statements.len());
    let mut current = Vec::new();
    let mut stream = conn.fetch_many(sql.as_str());
    // Every statement ends with one command-complete message, after its rows.
    while let Some(item) = stream.try_next().await? {
        match item {
            Either::Left(_) => results.push(std::mem::take(&mut current)),
            Either::Right(row) => current.push(row),
        }
    }
    if results.len() != statements.len() {
        return Err(sqlx::Error::Protocol(format!(
            "{} statements sent in one message, {} results received",
            statements.len(),
            results.len()
        )));
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_cannot_end_early() {
        assert_eq!(text("a'b\\c"), "E'a''b\\\\c'");
        assert_eq!(text("x\0"), "E'x\u{FFFD}'");
        assert_eq!(texts(&["a", "b'"]), "ARRAY[E'a', E'b''']::text[]");
        assert_eq!(number(-5), "'-5'::bigint");
    }

    #[test]
    fn placeholders_are_replaced_in_one_pass() {
        let literals: Vec<String> = (1..=12).map(|n| format!("v{n}")).collect();
        assert_eq!(bind("$1 $12 $2 $1", &literals), "v1 v12 v2 v1");
        // A value that spells a placeholder is not replaced again.
        let literals = [text("x"), text("$1")];
        assert_eq!(bind("a = $1 AND b = $2", &literals), "a = E'x' AND b = E'$1'");
        assert_eq!(bind("$3 $ $x", &literals), "$3 $ $x");
    }
}
