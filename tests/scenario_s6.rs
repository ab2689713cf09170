//! S6 punch-vs-fault (v4.4, ea3d7209ca01): PCT finds the lost write. The
//! loss needs one preemption and the scenario explores under bound 1, about
//! 280,000 executions per variant: every row of the table is in
//! tests/scenario_rows.rs (generated from the scenario file; the `tables`
//! group).

#[path = "common/rows.rs"]
mod kernel_common;

/// PCT within the scenario's budget finds the loss too (no exhaustive
/// search needed to show it): cheap enough for every debug run.
#[test]
fn s6_pct_finds_the_lost_write() {
    let opts = std::collections::BTreeMap::new();
    assert!(kernel_common::pct_finds("s6", "v4.4", "lost-write", &opts));
}
