//! S3 migrate-vs-mmap: every row of the expected-outcome table (from the
//! scenario file). The full-table tests (`#[ignore]`; run by
//! `scripts/test.sh tables` in a release build) check every row strictly:
//! a "found" row must be found both by PCT within the scenario's budget and
//! by DFS+DPOR under its preemption bound, and an "absent" row needs that
//! DFS to finish with no such outcome. The `load-only` rows are small
//! enough for every debug run.

mod kernel_common;

/// Executions a full-table DFS may take.
const DFS_BUDGET: u64 = 2_000_000;

fn run(variant: &str) {
    kernel_common::assert_rows(kernel_common::check_variant_strict(
        "s3", variant, DFS_BUDGET,
    ));
}

#[test]
#[ignore]
fn s3_unguarded() {
    run("unguarded");
}
#[test]
#[ignore]
fn s3_migrate_flag_retval() {
    run("migrate-flag-retval");
}
#[test]
#[ignore]
fn s3_migrate_flag_buffer_new() {
    run("migrate-flag-buffer-new");
}

fn run_rows(variant: &str, racers: &str) {
    kernel_common::assert_rows(kernel_common::check_rows_with(
        "s3",
        variant,
        |o| o.get("racers").map(String::as_str) == Some(racers),
        20_000,
        true,
    ));
}

/// The first patch's false alarm: T3's read fault alone makes the
/// migration fail with EAGAIN; the image stays consistent.
#[test]
fn s3_flag_retval_load_only() {
    run_rows("migrate-flag-retval", "load-only");
}

/// The review's fix: T3 alone never causes EAGAIN; fsck clean (the
/// in-memory EXT4_EXT_MIGRATE bit never reaches the inode).
#[test]
fn s3_flag_buffer_new_load_only() {
    run_rows("migrate-flag-buffer-new", "load-only");
}

/// The unguarded swap: a block allocated by T2's page fault is marked used
/// but owned by no inode (fsck), and T2's fsynced bytes are lost.
#[test]
fn s3_unguarded_found_by_pct() {
    let opts = std::collections::BTreeMap::new();
    for kind in ["fsck", "lost-write"] {
        assert!(
            kernel_common::pct_finds("s3", "unguarded", kind, &opts),
            "{kind}"
        );
    }
}
