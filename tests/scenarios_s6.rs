//! S6 punch-vs-fault (v4.4, ea3d7209ca01): every row of the scenario's
//! expected-outcome table. The loss needs one preemption and the scenario
//! explores under bound 1: about 190,000 executions before the fix and
//! 250,000 with it, a minute or more each in the `tables` build, so both
//! tests are `#[ignore]`d and run in the `tables` group.

mod kernel_common;

/// Executions a DFS may take (both variants finish well inside it).
const DFS_BUDGET: u64 = 1_000_000;

fn run(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_rows(
        "s6",
        variant,
        |_| true,
        DFS_BUDGET,
    ));
}

#[test]
#[ignore = "tables group: about 190,000 executions"]
fn s6_v4_4() {
    run("v4.4");
}

#[test]
#[ignore = "tables group: about 250,000 executions"]
fn s6_ea3d7209ca01() {
    run("ea3d7209ca01");
}

/// PCT within the scenario's budget finds the loss too (no exhaustive
/// search needed to show it): cheap enough for every debug run.
#[test]
fn s6_pct_finds_the_lost_write() {
    let opts = std::collections::BTreeMap::new();
    assert!(kernel_common::pct_finds("s6", "v4.4", "lost-write", &opts));
}
