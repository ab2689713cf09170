#![cfg(not(target_arch = "wasm32"))]
//! `ext4lab history` lists the registry of modelled kernel changes, and
//! `ext4lab explore --kernel/--apply/--revert` runs a variant on another
//! kernel; a bad id is a clear error, not a run.

use std::process::Command;

fn ext4lab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(args)
        .output()
        .expect("ext4lab runs")
}

#[test]
fn history_json_lists_the_registry() {
    let out = ext4lab(&["history", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v.as_array().expect("array");
    assert!(rows.len() >= 15, "{} entries", rows.len());
    for r in rows {
        let id = r["id"].as_str().expect("id");
        assert!(
            !r["source"].as_str().unwrap_or("").is_empty(),
            "{id}: source"
        );
        assert!(!r["title"].as_str().unwrap_or("").is_empty(), "{id}: title");
        let merged = r["merged"].as_str().expect("merged");
        let is_commit = !id.contains(':');
        assert_eq!(merged == "unmerged", !is_commit, "{id}: merged = {merged}");
        assert!(r["used_by"].is_array(), "{id}");
    }
    assert!(rows.iter().any(|r| r["id"] == "ea3d7209ca01"));
    let text = ext4lab(&["history"]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("ea3d7209ca01"));
}

#[test]
fn explore_takes_an_ad_hoc_kernel_and_refuses_unknown_changes() {
    let out = ext4lab(&[
        "explore",
        "s5",
        "--kernel",
        "v4.4",
        "--apply",
        "ea3d7209ca01",
        "--strategy",
        "random",
        "--budget",
        "2",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["kernel"], "v4.4");
    let changes: Vec<&str> = v["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(changes.contains(&"ea3d7209ca01"), "{changes:?}");
    assert!(
        !changes.contains(&"7b4cc9787fe3"),
        "v4.12's commit in v4.4: {changes:?}"
    );
    let bad = ext4lab(&["explore", "s5", "--apply", "cafef00dcafe", "--json"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("unknown change `cafef00dcafe`"), "{err}");
}

/// `Change::modelled` is true exactly for the changes a kernel path (or the
/// resolver) reads as `Change::Name`; naming another in `--apply` is an
/// error that says why, not a run that silently ignores it.
#[test]
fn modelled_changes_are_exactly_those_the_kernel_paths_read() {
    use ext4lab::scenario::history::REGISTRY;
    let root = env!("CARGO_MANIFEST_DIR");
    let mut sources = String::new();
    for dir in ["crate/kernel", "crate/scenario"] {
        for e in std::fs::read_dir(format!("{root}/{dir}")).expect("dir") {
            let p = e.expect("entry").path();
            // the registry names every change; it does not read them
            if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("history.rs") {
                sources.push_str(&std::fs::read_to_string(&p).expect("source"));
            }
        }
    }
    for c in REGISTRY {
        let read = sources.contains(&format!("Change::{:?}", c.change));
        assert_eq!(read, c.change.modelled(), "{} ({:?})", c.id, c.change);
    }
    let out = ext4lab(&["explore", "s5", "--apply", "cb85f4d23f79", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no kernel path models it"), "{err}");
}
