//! An id of the other kind: `baton job <an assignment id>` says that the id is an assignment's
//! (and the reverse), instead of "no job", since both ids look alike at a glance.

use crate::context::Context;
use baton_core::Error;

/// `err` unchanged, unless it is a "not found" for an id that names the other kind of thing in
/// the same namespace: then the error says so and which command shows it.
pub async fn explain(ctx: &mut Context, err: Error) -> Error {
    let Ok(store) = ctx.store().await else { return err };
    match &err {
        Error::JobNotFound { namespace, id } => match store.assignment(namespace, id).await {
            Ok(_) => Error::invalid(format!(
                "{id} is an assignment, not a job; show it with `baton assignment {id}` (its jobs: `baton jobs \
                 --assignment {id}`)"
            )),
            Err(_) => err,
        },
        Error::AssignmentNotFound { namespace, id } => match store.job(namespace, id).await {
            Ok(job) => Error::invalid(format!(
                "{id} is a job (of assignment {}), not an assignment; show it with `baton job {id}`",
                job.assignment_id
            )),
            Err(_) => err,
        },
        _ => err,
    }
}
