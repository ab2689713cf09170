#![cfg(not(target_arch = "wasm32"))]
#![allow(dead_code)] // kernel_common helpers this file does not use
//! S4 journal-flag-switch in the simulator with the real journal: chattr +j
//! (`ext4_change_inode_journal_flag`) and the DAX flip on a mapped file
//! with a page dirtied through the mapping, then fsync and a crash; the
//! mount replays the journal before the lost-write oracle reads the file.
//!
//! Fast tests use a bounded DFS budget; `#[ignore]`d tests run every row of
//! the table exhaustively (minutes).

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
/// crash drops them. (DFS under the bound of 2 does not reach a crash
/// before the flusher T4 writes the page within 3000 executions.)
#[test]
fn s4_no_writeback_journal_flip_loses_the_mapped_write() {
    let (k, _, n) = kinds_with(
        "no-writeback",
        "journal",
        500,
        Some(Strategy::Random { seed: 4 }),
    );
    eprintln!("no-writeback/journal (random): {n} executions, {k:?}");
    assert!(
        k.iter()
            .any(|(x, t, _)| x == "lost-write" && t.contains(&"T0".to_string())),
        "{k:?}"
    );
}

/// The same random exploration of the fixed variant loses nothing.
#[test]
fn s4_outside_handle_random_keeps_it() {
    let (k, _, n) = kinds_with(
        "writeback-outside-handle",
        "journal",
        500,
        Some(Strategy::Random { seed: 4 }),
    );
    eprintln!("writeback-outside-handle/journal (random): {n} executions, {k:?}");
    assert!(!has(&k, "lost-write"), "{k:?}");
}

#[test]
fn s4_outside_handle_journal_flip_keeps_it() {
    let (k, ex, n) = kinds("writeback-outside-handle", "journal", 300);
    eprintln!("writeback-outside-handle/journal: {n} executions (exhausted {ex}), {k:?}");
    assert!(!has(&k, "lost-write") && !has(&k, "deadlock"), "{k:?}");
    assert!(!has(&k, "lock-order-inversion"), "{k:?}");
}

#[test]
fn s4_inside_handle_inversion_found() {
    let (k, _, n) = kinds("writeback-inside-handle", "journal", 300);
    eprintln!("writeback-inside-handle/journal: {n} executions, {k:?}");
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

/// Known failing: the DAX fault check is in place (`ext4_dax_fault_check`
/// from `handle_mm_fault`), but no explored schedule (300 DFS, 200 random)
/// has page 0 still dirty when T2 faults after the flip: debugging showed
/// the page uncached or already clean at every DAX fault.
#[test]
#[ignore]
fn s4_no_writeback_dax_flip_warns() {
    let (k, _, n) = kinds("no-writeback", "dax", 300);
    eprintln!("no-writeback/dax: {n} executions, {k:?}");
    assert!(
        k.iter()
            .any(|(x, t, _)| x == "kernel-warning" && t.contains(&"T2".to_string())),
        "{k:?}"
    );
}

#[test]
fn s4_outside_handle_dax_flip_no_warning() {
    let (k, ex, n) = kinds("writeback-outside-handle", "dax", 3000);
    eprintln!("writeback-outside-handle/dax: {n} executions (exhausted {ex}), {k:?}");
    assert!(!has(&k, "kernel-warning"), "{k:?}");
}

fn table(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_variant("s4", variant));
}

/// Known failing row: the lost-write row's task attribution (the oracle
/// names the writer, T0 or T2, not T1 whose fsync promised durability),
/// and DFS under the bound does not reach the crash before T4's writeback.
#[test]
#[ignore]
fn s4_table_no_writeback() {
    table("no-writeback");
}

/// Known failing row: the deadlock needs T2's page fault to start a handle
/// under invalidate_lock (r); ext4_page_mkwrite with delalloc and mapped
/// buffers starts none in this model.
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
