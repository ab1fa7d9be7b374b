//! `baton merge ASSIGNMENT [--into BRANCH] [--squash]`: a person brings a complete assignment's
//! work into its base branch in the main checkout. The git work is
//! [`baton_runner::merge`]'s (the dashboard does the same); this command checks who asks, runs
//! it, and records the merge in the assignment's history.

use crate::cli::MergeArgs;
use crate::context::Context;
use crate::error::CliResult;
use baton_core::Error;
use baton_runner::merge::{self, MergeError, MergeRequest};

pub async fn run(ctx: &mut Context, args: MergeArgs) -> CliResult {
    let request = MergeRequest { into: args.into, squash: args.squash };
    // An agent is refused before anything is read or touched.
    if ctx.actor.job_id().is_some() {
        return Err(
            Error::Scope { refusal: "merging is a person's decision: an agent cannot run baton merge".into() }.into()
        );
    }
    let store = ctx.store().await?;
    let ns = ctx.ns().to_string();
    let a = store.assignment(&ns, &args.assignment_id).await?.assignment;
    let merged = merge::merge(&ctx.config.repo_root, &a, &request, &ctx.actor).await.map_err(|e| match e {
        MergeError::Refused(reason) => Error::invalid(reason),
        MergeError::Git(e) => Error::invalid(e.to_string()),
    })?;
    let detail = store.record_merge(&ns, &a.id, &merged.commit, &merged.into, &ctx.actor).await?;
    if ctx.out.json {
        return ctx.out.json(&detail);
    }
    let short: String = merged.commit.chars().take(12).collect();
    ctx.out.text(&format!(
        "{} {} into {} ({}); {} is now at {short}\nnext: baton clean --assignment {}\n",
        merged.branch,
        merged.kind.describe(),
        ctx.out.style.bold(&merged.into),
        a.id,
        merged.into,
        a.id
    ))
}
