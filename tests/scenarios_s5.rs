//! S5 dio-vs-mkwrite: every row of the expected-outcome table (from the
//! scenario file), explored exhaustively under the scenario's preemption
//! bound with DPOR.

mod kernel_common;

fn run(variant: &str) {
    let (lines, ok) = kernel_common::check_variant("s5", variant);
    for l in &lines {
        eprintln!("{l}");
    }
    assert!(!lines.is_empty());
    assert!(ok, "{lines:#?}");
}

#[test]
fn s5_dio_begin_late() {
    run("dio-begin-late");
}
#[test]
fn s5_dio_begin_early() {
    run("dio-begin-early");
}
#[test]
fn s5_dio_check_get_block() {
    run("dio-check-get-block");
}
/// Known failing: the weak-memory rows (stale data found when the
/// `i_dio_count` increment becomes visible late) are not found yet; the
/// sequentially consistent rows pass. Slow (about a minute).
#[test]
#[ignore]
fn s5_dio_check_no_barrier() {
    run("dio-check-no-barrier");
}
#[test]
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
