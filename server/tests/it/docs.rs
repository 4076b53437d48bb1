//! The docs name what exists: every path `ARCHITECTURE.md` names in backquotes is in the
//! checkout, so the map cannot point at a room that moved.

use std::path::{Path, PathBuf};

/// The checkout's root.
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where a path in the map may be written from: the root, or a crate's source folder
/// when the paragraph is about that crate.
const BASES: [&str; 8] = [
    "",
    "server",
    "server/src",
    "server/src/api",
    "shared/src",
    "frontend",
    "frontend/src",
    "notebook",
];

/// Paths the map names inside a run's folder (`<data>/runs/<id>/`), not the checkout.
const RUN_FOLDER: [&str; 2] = ["user_logs/std_log.txt", "control/exit.json"];

/// The backquoted spans of `text` outside fenced code blocks.
fn backquoted(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        spans.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    spans
}

/// A span that reads as a path of the checkout: it has a `/`, is not a URL route
/// (leading `/`) nor a pattern or command line.
fn is_path(span: &str) -> bool {
    span.contains('/')
        && !span.starts_with('/')
        && !span.contains("://")
        && !span.chars().any(|c| " <>{}*=$|:".contains(c))
}

#[test]
fn every_path_the_architecture_map_names_exists() {
    let root = checkout();
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    assert!(
        map.len() <= 12_000,
        "ARCHITECTURE.md is {} bytes; the map keeps to 12,000",
        map.len()
    );
    let paths: Vec<String> = backquoted(&map)
        .into_iter()
        .filter(|s| is_path(s) && !RUN_FOLDER.contains(&s.as_str()))
        .collect();
    assert!(paths.len() > 20, "the map names paths: {paths:?}");
    let missing: Vec<&String> = paths
        .iter()
        .filter(|p| {
            !BASES
                .iter()
                .any(|base| root.join(base).join(p.as_str()).exists())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
    // Its links to the docs it sends details to resolve too.
    for doc in ["docs/benchmarks.md", "docs/decisions.md"] {
        assert!(map.contains(&format!("]({doc})")), "no link to {doc}");
        assert!(root.join(doc).is_file(), "{doc} is missing");
    }
}

#[test]
fn spans_that_are_paths_are_told_from_routes_and_commands() {
    let spans = backquoted(
        "a `server/src/store.rs` b `/simple/` c `x = 1` \n```\n`in/code.rs`\n```\n`e2e/tests/`",
    );
    let paths: Vec<&String> = spans.iter().filter(|s| is_path(s)).collect();
    assert_eq!(paths, ["server/src/store.rs", "e2e/tests/"]);
}
