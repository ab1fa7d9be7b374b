//! ARCHITECTURE.md stays true: every repository path it names in backticks exists.

use std::path::Path;

#[test]
fn every_path_the_architecture_map_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md at the repository root");
    let paths: Vec<&str> = text
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| span.starts_with("crates/") || span.starts_with("docs/"))
        .collect();
    assert!(paths.len() > 30, "the map names its paths: found {}", paths.len());
    let missing: Vec<&&str> = paths.iter().filter(|p| !root.join(p.trim_end_matches('/')).exists()).collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md names paths that no longer exist: {missing:?}");
}
