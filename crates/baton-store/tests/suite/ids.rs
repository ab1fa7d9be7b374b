//! Ids that collide: an insert whose fresh id is already taken draws another instead of failing
//! (ids are short and random, so a namespace of a million jobs is likely to draw one twice).

use super::*;
use baton_core::ids::{self, scripted};

pub async fn a_taken_id_is_drawn_again(store: Shared) {
    scripted::queue(["a22222222", "a22222222", "a33333333"]);
    let first = store.create_assignment(new_assignment("first"), &person()).await.unwrap();
    let second = store.create_assignment(new_assignment("second"), &person()).await.unwrap();
    assert_eq!((first.assignment.id.as_str(), second.assignment.id.as_str()), ("a22222222", "a33333333"));
    assert_eq!(store.assignment(NS, "a22222222").await.unwrap().assignment.north_star, "first");

    scripted::queue(["j22222222", "j22222222", "j33333333"]);
    let j1 = store.insert_job(NS, &first.assignment.id, job(JobType::Plan), &person()).await.unwrap();
    let j2 = store.insert_job(NS, &second.assignment.id, job(JobType::Plan), &person()).await.unwrap();
    assert_eq!((j1.id.as_str(), j2.id.as_str()), ("j22222222", "j33333333"));
    // The redrawn job is the one in the second assignment, with its own history line.
    let read = store.assignment(NS, &second.assignment.id).await.unwrap();
    assert_eq!(read.jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["j33333333"]);
    assert_eq!(read.history.iter().filter(|h| h.job_id.as_deref() == Some("j33333333")).count(), 1);
    super::queue::assert_queue_matches_a_recount(&store, "after redrawn ids").await;
}

pub async fn an_id_space_that_is_all_taken_is_an_error_with_nothing_stored(store: Shared) {
    let a = store.create_assignment(new_assignment("taken"), &person()).await.unwrap().assignment;
    scripted::queue(std::iter::repeat_n(a.id.as_str(), ids::MAX_DRAWS));
    let err = store.create_assignment(new_assignment("never"), &person()).await.unwrap_err().to_string();
    assert!(err.contains("creating an assignment") && err.contains("were all taken"), "{err}");
    assert_eq!(store.assignments(NS, &AssignmentFilter::default()).await.unwrap().len(), 1, "nothing stored");
    assert_eq!(store.assignment(NS, &a.id).await.unwrap().history.len(), 1, "the taken one is untouched");
}
