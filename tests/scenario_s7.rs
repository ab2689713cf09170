//! S7 journal-flag-unwritten (v4.4, 4c54659269ec): a kernel bug the
//! scenario fuzzer found on its own (program 2932, shrunk; docs/oracles.md).
//! The verdicts without preemptions, for every debug run (the loss needs
//! none); every row of the table under the scenario's bound 1 is in
//! tests/scenario_rows.rs (generated from the scenario file).

use std::collections::BTreeMap;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::sim::Strategy;

#[path = "common/rows.rs"]
mod kernel_common;

/// Outcome kinds under DFS without preemptions, explored to the end.
fn kinds_at_bound_0(variant: &str) -> Vec<String> {
    let sc = kernel_common::scenario("s7");
    let dfs = Strategy::Dfs {
        preemption_bound: Some(0),
        dpor: true,
    };
    let (_, rep) = explore_variant(&sc, variant, &BTreeMap::new(), Some(dfs), Some(100_000))
        .expect("explores");
    assert!(rep.stats.exhausted, "{variant}: {:?}", rep.stats);
    let mut kinds: Vec<String> = rep
        .outcomes
        .iter()
        .map(|o| kind_name(&o.key.kind).to_string())
        .collect();
    kinds.dedup();
    kinds
}

#[test]
fn v4_4_loses_an_fsynced_append_across_chattr_plus_j() {
    assert_eq!(kinds_at_bound_0("v4.4"), ["lost-write"]);
}

#[test]
fn writing_back_before_the_flip_keeps_it() {
    assert!(kinds_at_bound_0("4c54659269ec").is_empty());
    assert!(kinds_at_bound_0("v4.7").is_empty());
}
