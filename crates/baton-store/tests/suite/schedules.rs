//! Schedules: added, listed, paused and removed with bad input refused and nothing stored; a slot
//! fires exactly once however many callers race for it; `overlap = skip` records a skip while the
//! previous assignment is open; a fire on demand keeps the slot; a refused assignment is a
//! skipped run and the slot still moves on.

use super::*;
use baton_core::store::{FireOutcome, FireRequest, NewSchedule};
use baton_core::time::now_ms;
use baton_core::{Overlap, ScheduleTemplate};

fn new_schedule(cron: &str, overlap: Overlap) -> NewSchedule {
    NewSchedule {
        namespace: NS.into(),
        cron: cron.into(),
        timezone: "UTC".into(),
        north_star: "update the dependencies".into(),
        overlap,
        creates: ScheduleTemplate { context: "weekly".into(), ..Default::default() },
    }
}

fn fire_slot(slot: i64) -> FireRequest {
    FireRequest { slot: Some(slot), assignment: Ok(new_assignment("update the dependencies")), by: "runner r1".into() }
}

/// Makes the schedule due: its next slot a minute ago.
async fn due(store: &Shared, id: &str) -> i64 {
    let slot = (now_ms() - 60_000) / 60_000 * 60_000;
    store.set_next_fire(NS, id, slot, &person()).await.unwrap();
    slot
}

async fn assignment_count(store: &Shared) -> usize {
    store.assignments(NS, &AssignmentFilter::default()).await.unwrap().len()
}

pub async fn schedules_are_added_listed_paused_and_removed(store: Shared) {
    for (cron, tz, says) in [
        ("61 * * * *", "UTC", "invalid cron expression `61 * * * *`"),
        ("* * * *", "UTC", "invalid cron expression"),
        ("0 9 * * 1", "Mars/Olympus", "unknown time zone `Mars/Olympus`"),
    ] {
        let mut bad = new_schedule(cron, Overlap::Skip);
        bad.timezone = tz.into();
        let err = store.add_schedule(bad, &person()).await.unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }
    let agent = store.add_schedule(new_schedule("@daily", Overlap::Skip), &Actor::job("j1")).await.unwrap_err();
    assert!(matches!(agent, Error::Scope { .. }), "{agent}");
    assert!(store.schedules(NS).await.unwrap().is_empty(), "nothing stored by a refusal");

    // Fields split by a tab or a line break are stored on one line.
    let mut berlin = new_schedule(" 0 9  * *\t1\n", Overlap::Skip);
    berlin.timezone = "Europe/Berlin".into();
    let s = store.add_schedule(berlin, &person()).await.unwrap();
    assert_eq!(s.cron, "0 9 * * 1");
    assert!(s.id.starts_with('s') && s.next_fire_at > now_ms(), "{s:?}");
    assert_eq!(
        (s.timezone.as_str(), s.paused, s.runs_total, s.created_by.as_str()),
        ("Europe/Berlin", false, 0, "person:ada")
    );
    assert_eq!(store.schedules(NS).await.unwrap(), vec![s.clone()]);
    assert!(store.schedules("other-ns").await.unwrap().is_empty());
    assert!(matches!(store.schedule("other-ns", &s.id).await.unwrap_err(), Error::ScheduleNotFound { .. }));

    assert_eq!(store.schedule_slots(NS).await.unwrap(), vec![(s.id.clone(), s.next_fire_at)]);
    // Resuming one that is not paused changes nothing: a due slot (runners were down) stays due.
    let slot = due(&store, &s.id).await;
    let resumed = store.pause_schedule(NS, &s.id, false, &person()).await.unwrap();
    assert_eq!((resumed.paused, resumed.next_fire_at), (false, slot), "its due slot is kept");
    let paused = store.pause_schedule(NS, &s.id, true, &person()).await.unwrap();
    assert!(paused.paused);
    assert!(store.schedule_slots(NS).await.unwrap().is_empty(), "runners do not wake for a paused schedule");
    let slot = due(&store, &s.id).await;
    assert_eq!(
        store.fire_schedule(NS, &s.id, fire_slot(slot), &Actor::Engine).await.unwrap(),
        FireOutcome::NotDue { schedule_id: s.id.clone() },
        "a paused schedule does not fire"
    );
    let resumed = store.pause_schedule(NS, &s.id, false, &person()).await.unwrap();
    assert!(!resumed.paused && resumed.next_fire_at > now_ms(), "resuming skips the missed slots");
    assert_eq!(assignment_count(&store).await, 0);

    let removed = store.remove_schedule(NS, &s.id, &person()).await.unwrap();
    assert_eq!(removed.id, s.id);
    assert!(store.schedules(NS).await.unwrap().is_empty());
    assert!(matches!(store.remove_schedule(NS, &s.id, &person()).await.unwrap_err(), Error::ScheduleNotFound { .. }));
}

pub async fn a_slot_fires_exactly_once_however_many_try(store: Shared) {
    let s = store.add_schedule(new_schedule("* * * * *", Overlap::Queue), &person()).await.unwrap();
    let slot = due(&store, &s.id).await;
    let tries = (0..8).map(|_| {
        let store = store.clone();
        let id = s.id.clone();
        tokio::spawn(async move { store.fire_schedule(NS, &id, fire_slot(slot), &Actor::Engine).await.unwrap() })
    });
    let mut fired = Vec::new();
    for t in tries {
        match t.await.unwrap() {
            FireOutcome::Fired { assignment_id, .. } => fired.push(assignment_id),
            FireOutcome::NotDue { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(fired.len(), 1, "one fire per slot");
    assert_eq!(assignment_count(&store).await, 1);
    let after = store.schedule(NS, &s.id).await.unwrap();
    assert!(after.next_fire_at > now_ms() - 1_000, "the slot moved past now: {after:?}");
    assert_eq!(after.last_assignment_id.as_deref(), Some(fired[0].as_str()));
    assert!(after.last_fired_at.is_some());
    assert_eq!(after.runs_total, 1);
    assert_eq!(after.runs[0].slot_at, Some(slot));
    assert_eq!(after.runs[0].by, "runner r1");
    let detail = store.assignment(NS, &fired[0]).await.unwrap();
    let line = detail.history.iter().find(|h| h.action == "scheduled").expect("the history names the schedule");
    assert!(line.reason.as_deref().unwrap_or_default().contains(&s.id), "{line:?}");
    // The same slot again (a runner that read it late) does nothing.
    assert!(matches!(
        store.fire_schedule(NS, &s.id, fire_slot(slot), &Actor::Engine).await.unwrap(),
        FireOutcome::NotDue { .. }
    ));
    assert_eq!(assignment_count(&store).await, 1);
}

pub async fn overlap_skip_waits_for_the_previous_assignment(store: Shared) {
    let s = store.add_schedule(new_schedule("* * * * *", Overlap::Skip), &person()).await.unwrap();
    let slot = due(&store, &s.id).await;
    let FireOutcome::Fired { assignment_id: first, .. } =
        store.fire_schedule(NS, &s.id, fire_slot(slot), &Actor::Engine).await.unwrap()
    else {
        panic!("the first slot fires")
    };
    let slot = due(&store, &s.id).await;
    let FireOutcome::Skipped { reason, .. } =
        store.fire_schedule(NS, &s.id, fire_slot(slot), &Actor::Engine).await.unwrap()
    else {
        panic!("an open previous assignment skips")
    };
    assert!(reason.contains(&first) && reason.contains("active"), "{reason}");
    let after = store.schedule(NS, &s.id).await.unwrap();
    assert!(after.next_fire_at > slot, "a skipped slot moves on too");
    assert_eq!((after.runs_total, after.runs[0].skipped.as_deref()), (2, Some(reason.as_str())));
    assert_eq!(assignment_count(&store).await, 1);

    store.update_assignment(NS, &first, &update(AssignmentStatus::Complete), &defaults(), &person()).await.unwrap();
    let slot = due(&store, &s.id).await;
    assert!(matches!(
        store.fire_schedule(NS, &s.id, fire_slot(slot), &Actor::Engine).await.unwrap(),
        FireOutcome::Fired { .. }
    ));
    assert_eq!(assignment_count(&store).await, 2);
}

pub async fn a_fire_on_demand_keeps_the_slot_and_obeys_overlap(store: Shared) {
    let s = store.add_schedule(new_schedule("@weekly", Overlap::Skip), &person()).await.unwrap();
    let on_demand = || FireRequest { slot: None, assignment: Ok(new_assignment("now")), by: "api".into() };
    let fired = store.fire_schedule(NS, &s.id, on_demand(), &person()).await.unwrap();
    assert!(matches!(fired, FireOutcome::Fired { .. }), "{fired:?}");
    let after = store.schedule(NS, &s.id).await.unwrap();
    assert_eq!(after.next_fire_at, s.next_fire_at, "on demand leaves the next slot alone");
    assert_eq!(after.runs[0].slot_at, None);
    let again = store.fire_schedule(NS, &s.id, on_demand(), &person()).await.unwrap();
    assert!(matches!(again, FireOutcome::Skipped { .. }), "{again:?}");
    store.pause_schedule(NS, &s.id, true, &person()).await.unwrap();
    let err = store.fire_schedule(NS, &s.id, on_demand(), &person()).await.unwrap_err().to_string();
    assert!(err.contains("paused"), "{err}");
}

pub async fn a_refused_assignment_is_a_skipped_run_and_the_slot_moves_on(store: Shared) {
    let s = store.add_schedule(new_schedule("* * * * *", Overlap::Queue), &person()).await.unwrap();
    let slot = due(&store, &s.id).await;
    let unbuildable =
        FireRequest { slot: Some(slot), assignment: Err("base v9 does not exist".into()), by: "r".into() };
    let FireOutcome::Skipped { reason, .. } =
        store.fire_schedule(NS, &s.id, unbuildable, &Actor::Engine).await.unwrap()
    else {
        panic!("skipped")
    };
    assert!(reason.contains("base v9"), "{reason}");
    let slot = due(&store, &s.id).await;
    let mut refused = new_assignment("x");
    refused.max_jobs = 0;
    let fire = FireRequest { slot: Some(slot), assignment: Ok(refused), by: "r".into() };
    let FireOutcome::Skipped { reason, .. } = store.fire_schedule(NS, &s.id, fire, &Actor::Engine).await.unwrap()
    else {
        panic!("skipped")
    };
    assert!(reason.contains("max_jobs"), "{reason}");
    let after = store.schedule(NS, &s.id).await.unwrap();
    assert!(after.next_fire_at > slot && after.runs_total == 2);
    assert_eq!(assignment_count(&store).await, 0, "nothing half-created");
}
