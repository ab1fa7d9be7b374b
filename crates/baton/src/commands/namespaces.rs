//! `baton namespaces`: the namespaces of the database with what each holds — and the hint a list
//! command prints on stderr when its namespace holds nothing (a mistyped `--namespace` would
//! otherwise look like an empty queue).

use crate::context::Context;
use crate::error::CliResult;
use crate::output::table::Table;
use baton_core::store::NamespaceCount;
use std::io::Write;

pub async fn run(ctx: &mut Context) -> CliResult {
    let store = ctx.store().await?;
    let list = store.namespaces().await?;
    if ctx.out.json {
        return ctx.out.json(&list);
    }
    if list.is_empty() {
        return ctx.out.text("no namespaces yet: `baton create` files the first assignment\n");
    }
    let mut t = Table::new(&["NAMESPACE", "ASSIGNMENTS", "JOBS"]);
    for n in &list {
        let current = if n.namespace == ctx.ns() { " (current)" } else { "" };
        t.row(vec![
            format!("{}{current}", n.namespace).into(),
            n.assignments.to_string().into(),
            n.jobs.to_string().into(),
        ]);
    }
    ctx.out.text(&t.render(&ctx.out.style, ctx.out.width))
}

/// When this command's namespace holds nothing at all, says so on stderr and names those that
/// hold something. Called only after a list came back empty, so a full namespace pays nothing.
pub async fn hint_if_empty(ctx: &mut Context) -> CliResult {
    let store = ctx.store().await?;
    let list = store.namespaces().await?;
    if let Some(message) = empty_namespace_hint(ctx.ns(), &list) {
        let _ = writeln!(std::io::stderr().lock(), "hint: {message}");
    }
    Ok(())
}

/// The hint for namespace `ns`, or `None` when it holds something (or nothing holds anything).
fn empty_namespace_hint(ns: &str, list: &[NamespaceCount]) -> Option<String> {
    // A database with nothing in it is a new one, not a mistyped name: nothing to hint at.
    if list.is_empty() || list.iter().any(|n| n.namespace == ns) {
        return None;
    }
    let names: Vec<String> = list
        .iter()
        .map(|n| {
            let s = if n.assignments == 1 { "" } else { "s" };
            format!("{} ({} assignment{s})", n.namespace, n.assignments)
        })
        .collect();
    Some(format!(
        "namespace {ns} holds nothing; the database has {}: pass one with --namespace NAME (`baton namespaces` lists them)",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_names_the_namespaces_that_exist() {
        let n = |name: &str, a| NamespaceCount { namespace: name.into(), assignments: a, jobs: 0 };
        assert_eq!(empty_namespace_hint("repo", &[n("repo", 1)]), None);
        let hint = empty_namespace_hint("rpeo", &[n("repo", 2), n("web", 1)]).unwrap();
        assert!(hint.contains("repo (2 assignments), web (1 assignment)"), "{hint}");
        assert_eq!(empty_namespace_hint("x", &[]), None);
    }
}
