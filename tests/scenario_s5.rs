//! S5 dio-vs-mkwrite (v5.5): PCT within the scenario's budget finds the
//! stale read. Every row of the table, explored exhaustively under the
//! scenario's bound, is in tests/scenario_rows.rs (generated from the
//! scenario file).

#[path = "common/rows.rs"]
mod kernel_common;

/// PCT (the random strategy with priority change points) within the
/// scenario's budget finds the delalloc stale read of v5.5.
#[test]
fn s5_pct_finds_stale_data() {
    let opts = std::collections::BTreeMap::new();
    assert!(kernel_common::pct_finds("s5", "v5.5", "stale-data", &opts));
}
