#![cfg(not(target_arch = "wasm32"))]
//! Kernel history the model shows on its own: on a data=journal file, a
//! store through a shared mapping and its fsync beside the flusher, then a
//! crash (tests/fixtures/history/data-journal-mmap-fsync.toml). On v5.5
//! `ext4_page_mkwrite` only takes write access to the page's buffers; they
//! join a transaction when writeback journals them. When the flusher has
//! cleared the page's dirty bit and unlocked it but not yet started its
//! handle, the fsync finds the page clean, commits without it and returns:
//! the crash loses the store (two preemptions). 64a9f1449950 (v5.10-rc1,
//! "ext4: data=journal: fixes for ext4_page_mkwrite()") journals the
//! buffers at fault time, so the fsync's commit carries them.
//!
//! The loss on v5.5 is the model's reading of the v5.5 code, not a report
//! confirmed on a running kernel (docs/oracles.md).

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::{explore_text, outcome_kinds};

const TEXT: &str = include_str!("fixtures/history/data-journal-mmap-fsync.toml");

/// Outcome kinds under DFS+DPOR with preemption bound 2, explored to the end.
fn kinds(variant: &str) -> Vec<String> {
    let rep = explore_text(TEXT, variant, 2, Some(100_000));
    assert!(rep.stats.exhausted, "{variant}: {:?}", rep.stats);
    outcome_kinds(&rep)
}

#[test]
fn v5_5_can_lose_a_store_its_fsync_returned_for() {
    assert_eq!(kinds("v5.5"), vec!["lost-write".to_string()]);
}

#[test]
fn journalling_the_page_at_fault_time_keeps_it() {
    assert_eq!(kinds("with-64a9f1449950"), Vec::<String>::new());
    assert_eq!(kinds("v5.10"), Vec::<String>::new());
}
