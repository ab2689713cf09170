//! Every stored shortest failing schedule (tests/fixtures/replay/*.json)
//! replays in the browser to the outcome and trace hash recorded natively
//! (tests/kernel_replay.rs checks the same files natively, and checks that
//! the list below names every fixture, so a new one cannot be forgotten).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

#[path = "common/replay_fixture.rs"]
mod replay_fixture;

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("fixtures/replay/", $name)))),*]
    };
}

/// Keep in step with the directory: tests/kernel_replay.rs fails when a
/// fixture file is missing here.
const FIXTURES: &[(&str, &str)] = fixtures![
    "s1-jbd2-convert-default-lost-write.json",
    "s1-ted-2017-as-posted-default-deadlock.json",
    "s1-ted-2017-as-posted-default-lock-order-inversion.json",
    "s2-convert-under-mmap-lock-default-deadlock.json",
    "s2-convert-xattr-sem-only-default-lost-write.json",
    "s2-fault-retry-fault-gup-user-error.json",
    "s2-no-convert-in-mkwrite-default-kernel-warning.json",
    "s2-no-convert-in-mkwrite-writeback-on-kernel-warning.json",
    "s3-flag-buffer-new-default-user-error.json",
    "s3-flag-retval-default-user-error.json",
    "s3-unguarded-default-fsck.json",
    "s3-unguarded-default-lost-write.json",
    "s4-ebusy-dax-mount-default-user-error.json",
    "s4-ebusy-if-mapped-default-user-error.json",
    "s4-ross-v1-default-kernel-warning.json",
    "s4-v4.13-default-kernel-warning.json",
    "s4-v4.13-default-lost-write.json",
    "s4-wb-inside-handle-default-deadlock.json",
    "s4-wb-inside-handle-default-lock-order-inversion.json",
    "s5-dioread-nolock-default-file-indirect-stale-data.json",
    "s5-dioread-nolock-default-mount-nodelalloc-stale-data.json",
    "s5-jan-dio-begin-early-default-kernel-warning.json",
    "s5-jan-dio-begin-early-mount-nodelalloc-stale-data.json",
    "s5-no-barrier-memory-lkmm-stale-data.json",
    "s5-ritesh-check-get-block-mount-nodelalloc-stale-data.json",
    "s5-v5.5-default-kernel-warning.json",
    "s5-v5.5-mount-delalloc-stale-data.json",
    "s5-v5.5-mount-nodelalloc-stale-data.json",
    "s6-v4.4-default-lost-write.json",
    "s7-v4.4-default-lost-write.json",
    "s8-v5.5-default-lost-write.json",
];

#[wasm_bindgen_test]
fn every_stored_schedule_replays_to_its_native_outcome_and_trace_hash() {
    assert!(FIXTURES.len() >= 8);
    for (name, text) in FIXTURES {
        let r = replay_fixture::replay_fixture(name, text);
        assert_eq!(
            r.hash,
            r.fixture["trace_hash"].as_str().expect("hash"),
            "{name}"
        );
        // The image it leaves is an ext4 image (magic 0xEF53 at 0x438), and
        // the engine's fsck finds it damaged exactly where natively it did
        // (tests/kernel_replay.rs holds that verdict to e2fsck -fn).
        assert_eq!(r.image.get(0x438..0x43a), Some(&[0x53, 0xef][..]), "{name}");
        assert_eq!(r.engine_says_bad, r.fixture["fsck_bad"] == true, "{name}");
    }
}
