#![cfg(not(target_arch = "wasm32"))]
//! `preemption_bound = "none"` in a scenario's `[explore]`: the text says
//! its rows are claimed over every interleaving, not under a bound. The
//! value parses, is written back as `"none"`, makes the scenario's own DFS
//! (the rows' check, `refind`, `ext4lab explore` without `--bound`)
//! unbounded (the pruned search over every interleaving), and the rows of a small race are
//! checked that way. Bad values are schema errors at their place.

#[path = "common/rows.rs"]
mod rows;

use std::rc::Rc;

use ext4lab::kernel::runner::explore_config;
use ext4lab::scenario::link::NO_BOUND;
use ext4lab::scenario::{parse_scenario, scenario_to_text, ErrorKind};
use ext4lab::sim::Strategy;

/// An O_DIRECT read of a page against a store into it through a mapping,
/// on v5.5: the read's page-cache invalidation can meet the page the fault
/// dirtied (the kernel warns and the read goes on); nothing else goes wrong
/// in any interleaving.
const TEXT: &str = r#"
format = 2

[meta]
id = "dio-vs-store"
name = "dio-vs-store"
title = "An O_DIRECT read against a store through a mapping"
story = "T1 reads page 0 of f with O_DIRECT; T2 stores into page 0 through a shared mapping."

[kernel]
version = "v5.5"

[image]
journal = true

[[image.files]]
name = "f"
size = 8192
runs = [{ offset = 0, len = 8192, fill = "A" }]

[explore]
preemption_bound = "none"

[[variants]]
name = "v5.5"

  [[variants.expect]]
  kind = "kernel-warning"
  expect = "found"
  tasks = ["T1"]

  [[variants.expect]]
  kind = "stale-data"
  expect = "absent"

  [[variants.expect]]
  kind = "lost-write"
  expect = "absent"

  [[variants.expect]]
  kind = "deadlock"
  expect = "absent"

  [[variants.expect]]
  kind = "fsck"
  expect = "absent"

[[processes]]
name = "P"
mappings = [{ name = "m", file = "f", len = 8192 }]

[[tasks]]
name = "T1"
steps = [{ op = "read", file = "f", len = 4096, direct = true }]

[[tasks]]
name = "T2"
process = "P"
steps = [{ op = "store", mapping = "m", offset = 0, len = 16, fill = "B" }]
"#;

#[test]
fn none_parses_writes_back_and_unbinds_the_scenarios_own_search() {
    let sc = parse_scenario(TEXT).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.explore.preemption_bound, NO_BOUND);
    assert_eq!(sc.explore.bound(), None);
    let text = scenario_to_text(&sc).expect("writes");
    assert!(text.contains("preemption_bound = \"none\""), "{text}");
    assert_eq!(parse_scenario(&text).expect("reparses").explore, sc.explore);
    let rc = sc.resolve("v5.5", &Default::default()).expect("resolves");
    match explore_config(&sc, &rc, None).strategy {
        Strategy::Dfs {
            preemption_bound,
            dpor,
        } => assert_eq!((preemption_bound, dpor), (None, true)),
        s => panic!("{s:?}"),
    }
    // A number stays a bound.
    let two = parse_scenario(&TEXT.replace("\"none\"", "2")).expect("parses");
    assert_eq!(two.explore.bound(), Some(2));
    assert!(scenario_to_text(&two)
        .expect("writes")
        .contains("preemption_bound = 2"));
}

/// Bad bound values (as `make` writes them into a text) are schema errors
/// located at the `preemption_bound` line that holds them, naming "none".
fn bad_bounds_are_rejected_at_their_line(make: impl Fn(&str) -> String) {
    for bad in ["\"nine\"", "-1", "4294967295", "1.5", "true"] {
        let text = make(bad);
        let err = parse_scenario(&text).expect_err(bad);
        assert_eq!(err.kind, ErrorKind::Schema, "{bad}: {err}");
        let loc = err
            .location
            .unwrap_or_else(|| panic!("{bad}: no location: {err}"));
        let line = text
            .lines()
            .position(|l| l.starts_with("preemption_bound") && l.contains(bad))
            .expect("line") as u32
            + 1;
        assert_eq!(loc.line, line, "{bad}: {err}");
        assert!(err.to_string().contains("\"none\""), "{bad}: {err}");
    }
}

#[test]
fn bad_bounds_are_schema_errors_at_the_value() {
    bad_bounds_are_rejected_at_their_line(|bad| TEXT.replace("\"none\"", bad));
}

/// The rows of the text, checked with the scenario's own search: every
/// interleaving, complete; the warning is found, nothing else happens.
#[test]
fn rows_are_checked_over_every_interleaving() {
    let lines = v55_rows_hold_in_every_interleaving(parse_scenario(TEXT).expect("parses"));
    assert_eq!(lines.len(), 5, "{lines:#?}");
}

/// Checks `sc`'s rows of `v5.5` with its own search and requires them all
/// to hold, each claimed over every interleaving and complete.
fn v55_rows_hold_in_every_interleaving(sc: ext4lab::scenario::Scenario) -> Vec<String> {
    let sc = Rc::new(sc);
    let (lines, ok) =
        rows::check_scenario_rows(&sc, "v5.5", |_| true, 1_000_000, rows::FoundBy::Dfs);
    for l in &lines {
        eprintln!("{l}");
    }
    assert!(ok, "{lines:#?}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("dfs every interleaving:") && l.contains("complete true")),
        "{lines:#?}"
    );
    lines
}

/// TEXT with the scenario bounded (1) and `v5.5` naming its own bound
/// (`value`), plus a variant `bounded` that names none.
fn per_variant(value: &str) -> String {
    let text = TEXT
        .replace(
            "[explore]\npreemption_bound = \"none\"",
            "[explore]\npreemption_bound = 1",
        )
        .replace(
            "name = \"v5.5\"\n",
            &format!("name = \"v5.5\"\npreemption_bound = {value}\n"),
        );
    assert_ne!(text, TEXT);
    format!("{text}\n[[variants]]\nname = \"bounded\"\n")
}

/// A variant's own `preemption_bound` overrides the scenario's for that
/// variant alone: its DFS (explore_config, hence refind, the CLI and the
/// rows) is unbounded, the other variant's keeps the scenario's bound, and
/// the text writes it back.
#[test]
fn a_variant_names_its_own_bound() {
    let sc = parse_scenario(&per_variant("\"none\"")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sc.explore.bound(), Some(1));
    assert_eq!(sc.bound_of("v5.5"), None);
    assert_eq!(sc.preemption_bound_of("v5.5"), NO_BOUND);
    assert_eq!(sc.bound_of("bounded"), Some(1));
    assert_eq!(sc.bound_of("no such variant"), Some(1));
    for (variant, want) in [("v5.5", None), ("bounded", Some(1))] {
        let rc = sc.resolve(variant, &Default::default()).expect("resolves");
        match explore_config(&sc, &rc, None).strategy {
            Strategy::Dfs {
                preemption_bound, ..
            } => assert_eq!(preemption_bound, want, "{variant}"),
            s => panic!("{s:?}"),
        }
    }
    let text = scenario_to_text(&sc).expect("writes");
    let back = parse_scenario(&text).expect("reparses");
    assert_eq!(back.variants, sc.variants);
    assert_eq!(back.bound_of("v5.5"), None);
    // A number is a bound too, below or above the scenario's.
    let three = parse_scenario(&per_variant("3")).expect("parses");
    assert_eq!(three.bound_of("v5.5"), Some(3));
    // The rows of v5.5 are claimed over every interleaving.
    v55_rows_hold_in_every_interleaving(sc);
}

#[test]
fn bad_variant_bounds_are_schema_errors_at_the_value() {
    bad_bounds_are_rejected_at_their_line(per_variant);
}
