//! S2 mkwrite-inline: every "found" row looked for with PCT within the
//! scenario's budget (fast). Every row of the table, found by PCT and by
//! DFS+DPOR under the scenario's bound, or absent when that DFS finishes,
//! is in tests/scenario_rows.rs (generated from the scenario file).

#[path = "common/rows.rs"]
mod kernel_common;

fn found(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_found_by_pct("s2", variant));
}

/// Writeback meets an inode that may still keep its data inline: the BUG
/// in ext4_writepages (T1's fsync, and T4 with `writeback=on`).
#[test]
fn s2_no_convert_in_mkwrite_found() {
    found("no-convert-in-mkwrite");
}
/// T1 (mmap_lock -> i_rwsem), T2 (i_rwsem -> mmap_lock behind T3's queued
/// writer), T3: deadlock, and the lockdep inversion.
#[test]
fn s2_convert_under_mmap_lock_found() {
    found("convert-under-mmap-lock");
}
/// get_user_pages without FAULT_FLAG_ALLOW_RETRY: SIGBUS.
#[test]
fn s2_fault_retry_gup_found() {
    found("fault-retry");
}
