//! S3 migrate-vs-mmap (2.6.25-rc5 with the 2008 ext4 patch queue): the
//! `load-only` rows (small enough for every debug run), PCT finding the
//! unguarded swap's outcomes, and the 2008 lock names in its trace. Every
//! row of the table, explored exhaustively, is in tests/scenario_rows.rs
//! (generated from the scenario file).

#[path = "common/rows.rs"]
mod kernel_common;

fn run_rows(variant: &str, racers: &str) {
    kernel_common::assert_rows(kernel_common::check_rows_with(
        "s3",
        variant,
        |o| o.get("racers").map(String::as_str) == Some(racers),
        20_000,
        kernel_common::FoundBy::PctAndDfs,
    ));
}

/// Aneesh's first patch clears the flag only on the allocating path of
/// ext4_get_blocks_wrap: T3's read fault (a lookup, create = 0) returns
/// before it, so the migration never fails for it (revision 1's false
/// alarm is gone); the image stays consistent.
#[test]
fn s3_flag_retval_load_only() {
    run_rows("flag-retval", "load-only");
}

/// The merged fix: T3 alone never causes EAGAIN; fsck clean (the in-memory
/// EXT4_EXT_MIGRATE bit never reaches the inode).
#[test]
fn s3_flag_buffer_new_load_only() {
    run_rows("flag-buffer-new", "load-only");
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

/// The kernel the scenario runs names its locks as 2.6.25 did: `i_mutex`,
/// `mmap_sem`, and no `i_mmap_sem` anywhere in the trace of the race.
#[test]
fn s3_trace_names_2008_locks() {
    use std::rc::Rc;
    let sc = kernel_common::scenario("s3");
    let opts = std::collections::BTreeMap::new();
    let (_, rep) = ext4lab::kernel::runner::explore_variant(
        &sc,
        "unguarded",
        &opts,
        Some(ext4lab::sim::Strategy::Pct { seed: 3, depth: 3 }),
        Some(50),
    )
    .unwrap();
    let rec = rep
        .outcomes
        .iter()
        .find(|o| o.key.kind == ext4lab::sim::OutcomeKind::LostWrite)
        .expect("lost write found");
    let rc = sc.resolve("unguarded", &opts).unwrap();
    let img = Rc::new(ext4lab::kernel::image::build_image(&sc).unwrap());
    let model = ext4lab::kernel::runner::scenario_model(sc.clone(), rc.clone(), img);
    let mut ro = ext4lab::kernel::runner::run_options(&sc, &rc);
    ro.trace = true;
    let exec = ext4lab::sim::replay(&model, &rec.shortest_token, &ro).unwrap();
    let lines = ext4lab::kernel::runner::timeline(exec.trace.as_ref().unwrap()).join("\n");
    assert!(lines.contains("i_mutex"), "{lines}");
    assert!(lines.contains("mmap_sem"), "{lines}");
    assert!(!lines.contains("i_mmap_sem"), "{lines}");
    assert!(!lines.contains("i_rwsem"), "{lines}");
}
