//! Store stories of the hourly upkeep: one runner per namespace and host holds it, and the disk
//! use it measured is kept per host.

use super::runner::wait_until_past;
use super::*;

pub async fn one_runner_per_namespace_and_host_holds_the_upkeep(store: Shared) {
    // Runners racing for the same namespace and host: exactly one gets it.
    let racers = (0..4).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.claim_maintenance(NS, "host-a", &format!("r{i}"), 60_000).await.unwrap() })
    });
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1, "exactly one racer holds the upkeep");
    // Another host, or another namespace, has its own upkeep.
    assert!(store.claim_maintenance(NS, "host-b", "rb", 60_000).await.unwrap());
    assert!(store.claim_maintenance("repo-b", "host-a", "rx", 60_000).await.unwrap());

    // The holder renews; nobody else takes it until it expires.
    assert!(store.claim_maintenance(NS, "host-c", "first", 300).await.unwrap());
    assert!(store.claim_maintenance(NS, "host-c", "first", 300).await.unwrap(), "the holder renews");
    let expires = baton_core::time::now_ms() + 300;
    assert!(!store.claim_maintenance(NS, "host-c", "second", 300).await.unwrap());
    wait_until_past(expires).await;
    assert!(store.claim_maintenance(NS, "host-c", "second", 60_000).await.unwrap(), "an expired claim is taken over");
    assert!(!store.claim_maintenance(NS, "host-c", "first", 60_000).await.unwrap());
}

pub async fn disk_use_is_kept_per_host_with_when_it_was_measured(store: Shared) {
    assert!(store.disk_use(NS).await.unwrap().is_empty());
    let before = baton_core::time::now_ms();
    let first = store.record_disk_use(NS, "host-a", 1000).await.unwrap();
    assert!(first.measured_at >= before);
    assert!(first.database_bytes.is_some_and(|b| b > 0), "the store measures its database");
    store.record_disk_use(NS, "host-b", 7).await.unwrap();
    store.record_disk_use(NS, "host-a", 2000).await.unwrap();
    let all = store.disk_use(NS).await.unwrap();
    let hosts: Vec<_> = all.iter().map(|d| (d.host.as_str(), d.worktrees_bytes)).collect();
    assert_eq!(hosts, [("host-a", 2000), ("host-b", 7)], "the newest measurement per host");
    assert!(store.disk_use("repo-b").await.unwrap().is_empty());
}

pub async fn a_holder_hands_the_upkeep_back(store: Shared) {
    assert!(store.claim_maintenance(NS, "host-a", "first", 3_600_000).await.unwrap());
    assert!(!store.claim_maintenance(NS, "host-a", "second", 60_000).await.unwrap());
    assert!(store.claim_maintenance(NS, "host-a", "first", 0).await.unwrap());
    assert!(store.claim_maintenance(NS, "host-a", "second", 60_000).await.unwrap(), "a handed-back lease is free");
}
