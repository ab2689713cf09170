#![cfg(not(target_arch = "wasm32"))]
//! Issue 13's user scenario, as a user would write it (text only, no
//! Rust): on v4.0 a page fault that stores into a range being punched
//! re-reads the page from the block the punch is about to free, and its
//! writeback later lands on that block after another file got it: the
//! other file's fsynced data is overwritten (lost-write on g). With
//! ea3d7209ca01 (`i_mmap_sem`, v4.5-rc1) applied, no interleaving does it.
//!
//! The loss needs one preemption and a commit between the punch and g's
//! allocation (mballoc does not reuse a freed block before the freeing
//! transaction commits). Exhaustive at bound 1: about 190,000 and 250,000
//! executions, a minute or more each in the `tables` build, so both tests
//! are in the `tables` group.

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::{explore_text, outcome_kinds};

const TEXT: &str = include_str!("fixtures/history/punch-vs-fault.toml");

fn kinds(variant: &str, budget: u64) -> (Vec<String>, bool) {
    let rep = explore_text(TEXT, variant, 1, Some(budget));
    let kinds = outcome_kinds(&rep);
    (kinds, rep.stats.exhausted)
}

#[test]
#[ignore = "tables group: tens of thousands of executions"]
fn v4_0_punch_beside_a_fault_overwrites_another_files_block() {
    let (kinds, _) = kinds("v4.0", 60_000);
    assert_eq!(kinds, vec!["lost-write".to_string()]);
}

#[test]
#[ignore = "tables group: exhaustive at bound 1, about 250,000 executions"]
fn with_i_mmap_sem_no_interleaving_does() {
    let (kinds, exhausted) = kinds("with-ea3d7209ca01", 1_000_000);
    assert!(exhausted);
    assert_eq!(kinds, Vec::<String>::new());
}
