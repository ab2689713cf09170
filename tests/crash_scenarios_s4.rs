#![cfg(not(target_arch = "wasm32"))]
#![allow(dead_code)] // kernel_common helpers this file does not use
//! S4 journal-flag-switch in the simulator with the real journal: chattr +j
//! (`ext4_change_inode_journal_flag`) and the DAX flip on a mapped file
//! with a page dirtied through the mapping, then fsync and a crash; the
//! mount replays the journal before the lost-write oracle reads the file.
//!
//! Fast tests use small budgets; the `#[ignore]`d `s4_table_*` tests check
//! every row of the table: "found" rows by exhaustive DFS+DPOR under the
//! scenario's bound (0: switches only where a task sleeps) and by PCT
//! within the scenario's budget, "absent" rows by DFS explored to
//! completion. Run them in release:
//! `cargo test --release --test crash_scenarios_s4 -- --include-ignored`.

mod kernel_common;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::sim::Strategy;
use std::collections::BTreeMap;

type Seen = Vec<(String, Vec<String>, String)>;

fn kinds(variant: &str, flip: &str, budget: u64) -> (Seen, bool, u64) {
    kinds_with(variant, flip, budget, None)
}

fn kinds_with(
    variant: &str,
    flip: &str,
    budget: u64,
    strategy: Option<Strategy>,
) -> (Seen, bool, u64) {
    let sc = kernel_common::scenario("s4");
    let mut o = BTreeMap::new();
    o.insert("flip".to_string(), flip.to_string());
    let (_, rep) = explore_variant(&sc, variant, &o, strategy, Some(budget)).unwrap();
    let k = rep
        .outcomes
        .iter()
        .map(|r| {
            (
                kind_name(&r.key.kind).to_string(),
                r.key.tasks.clone(),
                r.first.message.clone(),
            )
        })
        .collect();
    (k, rep.stats.exhausted, rep.stats.executions)
}

fn has(k: &Seen, kind: &str) -> bool {
    k.iter().any(|(x, _, _)| x == kind)
}

/// The random scheduler (seed 4, the scenario's) finds the lost write:
/// T0's bytes, dirtied through the mapping before the flip, are neither
/// journalled nor written by fsync of the now journal-data inode, and the
/// crash drops them. The outcome names the writer (T0) and the task whose
/// fsync promised durability (T1).
#[test]
fn s4_no_writeback_journal_flip_loses_the_mapped_write() {
    let (k, _, n) = kinds_with(
        "no-writeback",
        "journal",
        200,
        Some(Strategy::Random { seed: 4 }),
    );
    eprintln!("no-writeback/journal (random): {n} executions, {k:?}");
    assert!(
        k.iter().any(|(x, t, _)| x == "lost-write"
            && t.contains(&"T0".to_string())
            && t.contains(&"T1".to_string())),
        "{k:?}"
    );
}

/// The same random exploration of the fixed variant loses nothing.
#[test]
fn s4_outside_handle_random_keeps_it() {
    let (k, _, n) = kinds_with(
        "writeback-outside-handle",
        "journal",
        300,
        Some(Strategy::Random { seed: 4 }),
    );
    eprintln!("writeback-outside-handle/journal (random): {n} executions, {k:?}");
    assert!(!has(&k, "lost-write") && !has(&k, "deadlock"), "{k:?}");
    assert!(!has(&k, "lock-order-inversion"), "{k:?}");
}

/// v1: T1 holds a handle (and sleeps reading the inode's buffer in
/// ext4_reserve_inode_write), kjournald2 locks the transaction and waits
/// for T1's handle, T2's fault takes invalidate_lock (read) and waits to
/// start a handle for the hole, T1 waits for invalidate_lock (write).
#[test]
fn s4_inside_handle_deadlock_found() {
    let sc = kernel_common::scenario("s4");
    let pct = Strategy::Pct {
        seed: sc.explore.seed,
        depth: sc.explore.pct_depth.max(1),
    };
    let (k, _, n) = kinds_with("writeback-inside-handle", "journal", 400, Some(pct));
    eprintln!("writeback-inside-handle/journal (pct): {n} executions, {k:?}");
    assert!(
        k.iter().any(|(x, t, _)| x == "deadlock"
            && ["T1", "T2", "T3"]
                .iter()
                .all(|w| t.contains(&w.to_string()))),
        "{k:?}"
    );
    assert!(has(&k, "lock-order-inversion"), "{k:?}");
}

#[test]
fn s4_ebusy_if_mapped_dax_flip() {
    let (k, _, n) = kinds("ebusy-if-mapped", "dax", 300);
    eprintln!("ebusy-if-mapped/dax: {n} executions, {k:?}");
    assert!(
        k.iter()
            .any(|(x, t, m)| x == "user-error" && t.contains(&"T1".to_string()) && m == "EBUSY"),
        "{k:?}"
    );
    assert!(!has(&k, "lost-write"), "{k:?}");
}

/// DAX flip without writeback: T2's DAX fault meets T0's dirty page 0.
#[test]
fn s4_no_writeback_dax_flip_warns() {
    let (k, _, n) = kinds_with(
        "no-writeback",
        "dax",
        300,
        Some(Strategy::Random { seed: 4 }),
    );
    eprintln!("no-writeback/dax: {n} executions, {k:?}");
    assert!(
        k.iter()
            .any(|(x, t, _)| x == "kernel-warning" && t.contains(&"T2".to_string())),
        "{k:?}"
    );
}

fn table(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_rows_strict(
        "s4",
        variant,
        |_| true,
        1_000_000,
    ));
}

#[test]
#[ignore]
fn s4_table_no_writeback() {
    table("no-writeback");
}

#[test]
#[ignore]
fn s4_table_writeback_inside_handle() {
    table("writeback-inside-handle");
}

#[test]
#[ignore]
fn s4_table_writeback_outside_handle() {
    table("writeback-outside-handle");
}

#[test]
#[ignore]
fn s4_table_ebusy_if_mapped() {
    table("ebusy-if-mapped");
}
