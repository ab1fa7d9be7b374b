//! Many CLI processes writing at once: nothing lost, no "database is locked".

use crate::common::{id, Sandbox};
use std::sync::Arc;

#[test]
fn eight_processes_creating_and_inserting_at_once() {
    let s = Arc::new(Sandbox::new());
    // Create the database first so the eight writers race on writes, not on migrations.
    s.ok(&["assignments"]);
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                let mut errors = Vec::new();
                for i in 0..25 {
                    let out = s.cmd().args(["create", &format!("worker {w} item {i}"), "--json"]).output().unwrap();
                    if !out.status.success() {
                        errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
                        continue;
                    }
                    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    let out = s.cmd().args(["insert-job", &id(&a), "--type", "implement"]).output().unwrap();
                    if !out.status.success() || !out.stderr.is_empty() {
                        errors.push(String::from_utf8_lossy(&out.stderr).into_owned());
                    }
                }
                errors
            })
        })
        .collect();
    let errors: Vec<String> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let list = s.json(&["assignments"]);
    assert_eq!(list.as_array().unwrap().len(), 200);
    let jobs = s.json(&["jobs"]);
    assert_eq!(jobs.as_array().unwrap().len(), 200);
    assert_eq!(s.json(&["queue"])["jobs"]["pending"], 200);
}
