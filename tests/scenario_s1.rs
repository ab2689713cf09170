#![cfg(not(target_arch = "wasm32"))]
#![allow(dead_code)] // kernel_common helpers this file does not use
//! S1 inline-convert-replay in the simulator with the real journal. The
//! crash step drops the page cache and in-flight bios, and the mount
//! replays the journal before the lost-write oracle reads the file.
//!
//! Fast tests: "found" rows within a bounded DFS budget, and the
//! pagecache-handle-first lost-write row absent over that same budget.
//! Every row of the table, explored exhaustively, is in
//! tests/scenario_rows.rs (generated from the scenario file).

#[path = "common/rows.rs"]
mod kernel_common;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use std::collections::BTreeMap;

/// Explore `variant` with `budget` executions; the outcome kinds seen and
/// whether the exploration was exhaustive.
fn kinds(variant: &str, budget: u64) -> (Vec<(String, Vec<String>)>, bool, u64) {
    let sc = kernel_common::scenario("s1");
    let (_, rep) = explore_variant(&sc, variant, &BTreeMap::new(), None, Some(budget)).unwrap();
    let k = rep
        .outcomes
        .iter()
        .map(|r| (kind_name(&r.key.kind).to_string(), r.key.tasks.clone()))
        .collect();
    (k, rep.stats.exhausted, rep.stats.executions)
}

#[test]
fn s1_jbd2_convert_lost_write_found() {
    let (k, _, n) = kinds("jbd2-convert", 400);
    eprintln!("jbd2-convert: {n} executions, outcomes {k:?}");
    assert!(k
        .iter()
        .any(|(x, t)| x == "lost-write" && t.contains(&"T1".to_string())));
}

#[test]
fn s1_pagecache_handle_first_no_lost_write_in_budget() {
    let (k, _, n) = kinds("pagecache-handle-first", 400);
    eprintln!("pagecache-handle-first: {n} executions, outcomes {k:?}");
    assert!(!k.iter().any(|(x, _)| x == "lost-write"), "{k:?}");
    assert!(!k.iter().any(|(x, _)| x == "deadlock"), "{k:?}");
}

#[test]
fn s1_as_posted_inversion_found() {
    let (k, _, n) = kinds("ted-2017-as-posted", 400);
    eprintln!("ted-2017-as-posted: {n} executions, outcomes {k:?}");
    assert!(k.iter().any(|(x, _)| x == "lock-order-inversion"), "{k:?}");
}
