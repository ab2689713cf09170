//! S5 dio-vs-mkwrite (v5.5): every row of the expected-outcome table (from
//! the scenario file), explored exhaustively under the scenario's
//! preemption bound with DPOR ("found" rows also with PCT within the
//! budget). Most variants take 30-150 s in a debug build: they are
//! `#[ignore]`d; run them with `cargo test --test scenarios_s5 -- --ignored`
//! (seconds in the `tables` profile).

mod kernel_common;

fn run(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_variant("s5", variant));
}

#[test]
fn s5_v5_5() {
    run("v5.5");
}
#[test]
#[ignore]
fn s5_jan_dio_begin_early() {
    run("jan-dio-begin-early");
}
#[test]
#[ignore]
fn s5_ritesh_check_get_block() {
    run("ritesh-check-get-block");
}
#[test]
#[ignore]
fn s5_jan_mkwrite_unwritten() {
    run("jan-mkwrite-unwritten");
}
#[test]
#[ignore]
fn s5_dioread_nolock_default() {
    run("dioread-nolock-default");
}
#[test]
#[ignore]
fn s5_no_barrier() {
    run("no-barrier");
}

/// PCT (the random strategy with priority change points) within the
/// scenario's budget finds the delalloc stale read of v5.5.
#[test]
fn s5_pct_finds_stale_data() {
    let opts = std::collections::BTreeMap::new();
    assert!(kernel_common::pct_finds("s5", "v5.5", "stale-data", &opts));
}
