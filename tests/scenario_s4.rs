#![cfg(not(target_arch = "wasm32"))]
#![allow(dead_code)] // kernel_common helpers this file does not use
//! S4 journal-flag-switch (v4.13, mounted `-o dax`): `chattr -j` of a file
//! whose page T2 dirtied through a mapping. In v4.13
//! `ext4_change_inode_journal_flag` turns `S_DAX` on with no writeback or
//! invalidation; T3's DAX fault deletes the dirty page (the thread's
//! `__delete_from_page_cache` warning) and T3's fsync returns without the
//! bytes on disk.
//!
//! Fast tests use small budgets. Every row of the table, explored
//! exhaustively, is in tests/scenario_rows.rs (generated from the scenario
//! file).

#[path = "common/rows.rs"]
mod kernel_common;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::sim::Strategy;
use std::collections::BTreeMap;

type Seen = Vec<(String, Vec<String>, String)>;

fn kinds(variant: &str, opts: &[(&str, &str)], budget: u64) -> (Seen, bool, u64) {
    let sc = kernel_common::scenario("s4");
    let o: BTreeMap<String, String> = opts
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // Every row's schedule needs no preemption except the deadlock's: DFS
    // under bound 0 covers them in a few thousand runs.
    let strategy = Strategy::Dfs {
        preemption_bound: Some(0),
        dpor: true,
    };
    let (_, rep) = explore_variant(&sc, variant, &o, Some(strategy), Some(budget)).unwrap();
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

fn has_with(k: &Seen, kind: &str, tasks: &[&str]) -> bool {
    k.iter()
        .any(|(x, t, _)| x == kind && tasks.iter().all(|w| t.iter().any(|have| have == w)))
}

/// v4.13: T3's DAX fault meets T2's dirty page (the thread's warning), and
/// T2's bytes are not on disk when T3's fsync returns.
#[test]
fn s4_v4_13_dax_fault_deletes_the_dirty_page() {
    let (k, _, n) = kinds("v4.13", &[], 20_000);
    eprintln!("v4.13: {n} executions, {k:?}");
    assert!(has_with(&k, "kernel-warning", &["T3"]), "{k:?}");
    assert!(has_with(&k, "lost-write", &["T2", "T3"]), "{k:?}");
    assert!(!has(&k, "deadlock"), "{k:?}");
}

/// Ross's patch writes back and invalidates, yet T2's VMA (page-cache
/// vm_ops) can fault a page into the S_DAX inode after the flip.
#[test]
fn s4_ross_v1_old_vma_refaults_into_the_dax_inode() {
    let (k, _, n) = kinds("ross-v1", &[], 20_000);
    eprintln!("ross-v1: {n} executions, {k:?}");
    assert!(has_with(&k, "kernel-warning", &["T3"]), "{k:?}");
    assert!(!has(&k, "deadlock"), "{k:?}");
}

/// Writeback inside the handle: T1 (handle) waits for i_mmap_sem, T2's
/// fault holds it and waits to start a handle, kjournald2 (or the task
/// committing) waits for T1's handle.
#[test]
fn s4_wb_inside_handle_deadlocks() {
    let sc = kernel_common::scenario("s4");
    let pct = Strategy::Pct {
        seed: sc.explore.seed,
        depth: sc.explore.pct_depth.max(1),
    };
    let (_, rep) = explore_variant(
        &sc,
        "wb-inside-handle",
        &BTreeMap::new(),
        Some(pct),
        Some(2000),
    )
    .unwrap();
    let dl: Vec<_> = rep
        .outcomes
        .iter()
        .filter(|r| kind_name(&r.key.kind) == "deadlock")
        .collect();
    assert!(
        dl.iter().any(|r| ["T1", "T2"]
            .iter()
            .all(|t| r.key.tasks.contains(&t.to_string()))),
        "{:?}",
        rep.outcomes
    );
    assert!(
        rep.outcomes.iter().any(|r| {
            kind_name(&r.key.kind) == "lock-order-inversion"
                && r.key.locks.contains(&"jbd2_handle".to_string())
                && r.key.locks.contains(&"i_mmap_sem".to_string())
        }),
        "{:?}",
        rep.outcomes
    );
}

/// Jan's EBUSY while mapped: Q maps f for the whole run, so T1 gets EBUSY
/// and nothing is lost.
#[test]
fn s4_ebusy_if_mapped_refuses() {
    let (k, _, n) = kinds("ebusy-if-mapped", &[], 20_000);
    eprintln!("ebusy-if-mapped: {n} executions, {k:?}");
    assert!(
        k.iter()
            .any(|(x, t, m)| x == "user-error" && t.contains(&"T1".to_string()) && m == "EBUSY"),
        "{k:?}"
    );
    assert!(
        !has(&k, "lost-write") && !has(&k, "kernel-warning"),
        "{k:?}"
    );
}

/// The merged fix: EBUSY under -o dax, whatever is mapped.
#[test]
fn s4_ebusy_dax_mount_refuses_always() {
    let (k, _, n) = kinds("ebusy-dax-mount", &[("t2", "store-unmap")], 20_000);
    eprintln!("ebusy-dax-mount/store-unmap: {n} executions, {k:?}");
    assert!(has_with(&k, "user-error", &["T1"]), "{k:?}");
    assert!(
        !has(&k, "lost-write") && !has(&k, "kernel-warning"),
        "{k:?}"
    );
}

/// The variant timeline names the v4.13 lock classes: the flag change takes
/// s_journal_flag_rwsem (w) and writeback takes it (r).
#[test]
fn s4_timeline_shows_s_journal_flag_rwsem() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/replay/s4-v4.13-default-lost-write.json"
    ))
    .unwrap();
    let fx: serde_json::Value = serde_json::from_str(&text).unwrap();
    let link = ext4lab::scenario::link::decode_link(fx["link"].as_str().unwrap()).unwrap();
    let sc = kernel_common::scenario("s4");
    let rc = sc.resolve(&link.variant, &link.options).unwrap();
    let img = std::rc::Rc::new(ext4lab::kernel::image::build_image(&sc).unwrap());
    let model = ext4lab::kernel::runner::scenario_model(sc.clone(), rc.clone(), img);
    let mut opts = ext4lab::kernel::runner::run_options(&sc, &rc);
    opts.trace = true;
    let exec = ext4lab::sim::replay(&model, &link.schedule, &opts).unwrap();
    let tl = ext4lab::kernel::runner::timeline(exec.trace.as_ref().unwrap()).join("\n");
    assert!(
        tl.contains("acquires s_journal_flag_rwsem (Exclusive)"),
        "{tl}"
    );
    assert!(tl.contains("i_mmap_sem"), "{tl}");
    assert!(!tl.contains("invalidate_lock"), "{tl}");
}
