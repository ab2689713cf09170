//! S2 mkwrite-inline: the expected-outcome table (from the scenario file).
//! The fast tests look for every "found" row with PCT within the scenario's
//! budget. The full-table tests (`#[ignore]`; run by `scripts/test.sh
//! tables` in a release build, where each variant takes seconds) check
//! every row strictly: a "found" row must be found both by PCT within the
//! budget and by DFS+DPOR under the scenario's preemption bound, and an
//! "absent" row needs that DFS to finish with no such outcome.

mod kernel_common;

/// Executions a full-table DFS may take (the largest S2 variant needs
/// about 20 000 under bound 2).
const DFS_BUDGET: u64 = 2_000_000;

fn found(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_found_by_pct("s2", variant));
}

fn full(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_variant_strict(
        "s2", variant, DFS_BUDGET,
    ));
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

#[test]
#[ignore]
fn s2_no_convert_in_mkwrite() {
    full("no-convert-in-mkwrite");
}
#[test]
#[ignore]
fn s2_convert_under_mmap_lock() {
    full("convert-under-mmap-lock");
}
#[test]
#[ignore]
fn s2_convert_xattr_sem_only() {
    full("convert-xattr-sem-only");
}
/// Ordinary faults: no deadlock, inversion, warning, lost write or user
/// error in any schedule within the bound; gup: SIGBUS.
#[test]
#[ignore]
fn s2_fault_retry() {
    full("fault-retry");
}
