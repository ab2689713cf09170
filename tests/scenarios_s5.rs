//! S5 dio-vs-mkwrite: every row of the expected-outcome table (from the
//! scenario file), explored exhaustively under the scenario's preemption
//! bound with DPOR ("found" rows also with PCT within the budget).
//! Most variants take 30-150 s in a debug build: they are `#[ignore]`d;
//! run them with `cargo test --test scenarios_s5 -- --ignored`.

mod kernel_common;

fn run(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_variant("s5", variant));
}

#[test]
fn s5_dio_begin_late() {
    run("dio-begin-late");
}
#[test]
#[ignore]
fn s5_dio_begin_early() {
    run("dio-begin-early");
}
#[test]
#[ignore]
fn s5_dio_check_get_block() {
    run("dio-check-get-block");
}
#[test]
#[ignore]
fn s5_dio_check_no_barrier() {
    run("dio-check-no-barrier");
}
#[test]
#[ignore]
fn s5_dioread_nolock() {
    run("dioread-nolock");
}

/// PCT (the random strategy with priority change points) within the
/// scenario's budget finds the delalloc stale read of the "before" variant.
#[test]
fn s5_pct_finds_stale_data() {
    let opts = std::collections::BTreeMap::new();
    assert!(kernel_common::pct_finds(
        "s5",
        "dio-begin-late",
        "stale-data",
        &opts
    ));
}
