#![cfg(not(target_arch = "wasm32"))]
//! The journalled engine against crashes: a workload of create, write,
//! fsync, rename, unlink, truncate, mkdir (and chattr +j) runs through
//! handles on a crash-recording device, for each data mode and for 1 KiB
//! and 4 KiB blocks. For every enumerated crash state (all prefixes of each
//! flush epoch plus all subsets of its last 4 writes; no torn writes) the
//! engine's recovery must leave an image its fsck finds clean, with every
//! fsynced file holding its fsynced bytes. A sample of at most
//! `E2FSCK_SAMPLE` states per workload (evenly spaced, plus the last) is
//! also checked with e2fsprogs: `e2fsck -fn` of our recovered image exits 0,
//! and `e2fsck -fy` of the raw crash image gives the same tree and bytes
//! (`debugfs rdump`) as our recovery.

#[path = "common/ext4_jbd2.rs"]
mod ext4_jbd2_util;

use ext4_jbd2_util::*;
use ext4lab::engine::journal::crash::CrashOptions;
use ext4lab::engine::DataMode;

/// Crash states per workload checked with e2fsprogs.
const E2FSCK_SAMPLE: usize = 10;

fn opts() -> CrashOptions {
    CrashOptions {
        subset_k: 4,
        torn: false,
        max_states: 2000,
    }
}

fn workload(bs: u64) -> Vec<Op> {
    use Op::*;
    vec![
        Mkdir("/d"),
        Create("/d/a"),
        Write("/d/a", 0, 3 * bs as usize + 100, 1),
        Fsync("/d/a"),
        Create("/b"),
        Write("/b", 0, 5000, 2),
        Commit,
        Rename("/b", "/d/c"),
        Create("/e"),
        Write("/e", 0, 2 * bs as usize, 3),
        Truncate("/e", 100),
        Commit,
        Unlink("/d/c"),
        Create("/f"),
        Write("/f", 0, 7000, 4),
        Fsync("/f"),
        Create("/g"),
        Write("/g", 10, 300, 5),
        Mkdir("/d/sub"),
        Commit,
    ]
}

fn check(bs: u32, mode: DataMode, extra: &[Op]) {
    let dev = fresh(bs, "");
    let mut ops = workload(u64::from(bs));
    ops.extend_from_slice(extra);
    let run = run(dev, mode, &ops);
    assert!(run.commits >= 4, "commits {}", run.commits);
    let tmp = tempfile::tempdir().unwrap();
    let f = check_states(&run, &opts(), E2FSCK_SAMPLE, tmp.path());
    eprintln!(
        "bs={bs} data={}: {} writes, {} commits, {} revokes; crash states {} (engine ok {}, replayed {}), e2fsck checked {} agree {}",
        mode.name(),
        run.dev.writes().len(),
        run.commits,
        run.revokes,
        f.states,
        f.engine_ok,
        f.replayed,
        f.e2fsck_checked,
        f.e2fsck_agree
    );
    assert!(f.states > 20);
    assert_eq!(f.engine_ok, f.states);
    assert!(f.replayed * 4 > f.states, "few states replay anything");
    assert!(f.e2fsck_checked >= E2FSCK_SAMPLE.min(f.states));
}

#[test]
fn ordered_1k() {
    check(1024, DataMode::Ordered, &[]);
}

#[test]
fn ordered_4k() {
    check(4096, DataMode::Ordered, &[]);
}

#[test]
fn writeback_1k() {
    check(1024, DataMode::Writeback, &[]);
}

#[test]
fn writeback_4k() {
    check(4096, DataMode::Writeback, &[]);
}

#[test]
fn journal_1k() {
    check(1024, DataMode::Journal, &[]);
}

#[test]
fn journal_4k() {
    check(4096, DataMode::Journal, &[]);
}

/// chattr +j on one file of an ordered mount: its data is journalled, and
/// freeing it revokes the journalled blocks.
#[test]
fn ordered_with_journal_data_flag_1k() {
    use Op::*;
    let extra = [
        Create("/j"),
        JournalData("/j"),
        Write("/j", 0, 3000, 6),
        Fsync("/j"),
        Create("/k"),
        JournalData("/k"),
        Write("/k", 0, 2048, 7),
        Commit,
        Unlink("/k"),
        Create("/l"),
        Write("/l", 0, 4096, 8),
        Fsync("/l"),
    ];
    check(1024, DataMode::Ordered, &extra);
}
