#![cfg(not(target_arch = "wasm32"))]
//! `ext4lab recover` (`ext4_recover_device`) leaves the superblocks as
//! e2fsck's journal replay does (`e2fsck -y -E journal_only`), also when
//! the replay stops at a corrupt transaction: the ext4 superblock's state
//! and counts, INCOMPAT_RECOVER, and the journal superblock's `s_start`,
//! `s_sequence` and `s_errno`. Afterwards the engine's fsck and
//! `e2fsck -fn` agree on the recovered image.
#[path = "common/journal.rs"]
mod journal_util;

use ext4lab::device::MemDevice;
use ext4lab::engine::journal::crash::VecDevice;
use ext4lab::engine::journal::ondisk::*;
use ext4lab::engine::superblock::Ext4SuperBlock;
use journal_util::*;

/// The fields compared: ext4 (s_state, incompat, free blocks, free
/// inodes) and jbd2 (s_start, s_sequence, s_errno).
#[derive(Debug, PartialEq, Eq)]
struct State {
    s_state: u16,
    incompat: u32,
    free_blocks: u64,
    free_inodes: u32,
    j_start: u32,
    j_sequence: u32,
    j_errno: i32,
}

fn state(img: &[u8], journal0: u64, bs: u32) -> State {
    let sb = Ext4SuperBlock::decode(&img[1024..2048]);
    let off = (journal0 * u64::from(bs)) as usize;
    let j = JournalSuperblock::parse(&img[off..off + bs as usize]).unwrap();
    State {
        s_state: sb.s_state,
        incompat: sb.s_feature_incompat,
        free_blocks: sb.free_blocks_count(),
        free_inodes: sb.s_free_inodes_count,
        j_start: j.s_start,
        j_sequence: j.s_sequence,
        j_errno: j.s_errno,
    }
}

/// Recover `raw` both ways; compare the states and the replayed blocks;
/// check both fscks agree afterwards. Returns our state.
fn both(fx: &Fixture, raw: &[u8]) -> State {
    let (dev, _) = ext4lab::engine::ext4_recover_device(VecDevice::new(raw.to_vec()))
        .expect("ext4lab recover");
    let ours = dev.data;
    let p = fx.dir.path().join("theirs.img");
    std::fs::write(&p, raw).unwrap();
    let (code, text) = e2fsck(&p, &["-y", "-E", "journal_only"]);
    assert!(code <= 1, "e2fsck -E journal_only exit {code}: {text}");
    let theirs = std::fs::read(&p).unwrap();
    fx.assert_same(&ours, &theirs);
    let (a, b) = (
        state(&ours, fx.map[0], fx.bs),
        state(&theirs, fx.map[0], fx.bs),
    );
    assert_eq!(a, b, "ext4lab recover vs e2fsck -E journal_only\n{text}");
    // The recovered image: the engine's verdict is e2fsck -fn's.
    let po = fx.dir.path().join("ours.img");
    std::fs::write(&po, &ours).unwrap();
    let (code, text) = e2fsck(&po, &["-fn"]);
    let r = ext4lab::engine::fsck::fsck(MemDevice::from_bytes(&ours)).unwrap();
    assert_eq!(
        r.is_clean(),
        code == 0,
        "engine {:?}\ne2fsck -fn exit {code}:\n{text}",
        r.findings
    );
    a
}

fn log() -> (Fixture, Vec<u8>) {
    let mut fx = fixture(1024, 8, "metadata_csum,64bit", CsumVersion::V3, true);
    let f = fx.free.clone();
    fx.commit(&[(f[0], pattern(1024, 1)), (f[1], pattern(1024, 2))], &[]);
    fx.commit(&[(f[2], pattern(1024, 3)), (f[3], pattern(1024, 4))], &[]);
    fx.commit(&[(f[4], pattern(1024, 5))], &[f[5]]);
    let raw = fx.dev.data.clone();
    (fx, raw)
}

#[test]
fn intact_log() {
    let (fx, raw) = log();
    let s = both(&fx, &raw);
    assert_eq!(s.s_state, 1, "{s:?}");
    assert_eq!(s.incompat & 0x4, 0);
    assert_eq!((s.j_start, s.j_sequence, s.j_errno), (0, 5, 0));
}

/// T2's commit block fails its checksum: T1 is replayed, the journal's
/// -EINVAL goes into the superblock's error state and is cleared.
#[test]
fn corrupt_commit_block() {
    let (fx, mut raw) = log();
    let off = fx.jblock_off(8);
    raw[off + 0x40] ^= 0x10;
    let s = both(&fx, &raw);
    assert_eq!(s.s_state, 1 | 2, "VALID | ERROR: {s:?}");
    assert_eq!((s.j_start, s.j_errno), (0, 0), "{s:?}");
}

/// A descriptor block with a bad checksum: recovery fails, nothing is
/// replayed, the filesystem is left not-valid (needs a full check).
#[test]
fn failed_recovery() {
    let (fx, mut raw) = log();
    let off = fx.jblock_off(5);
    raw[off + 600] ^= 0x01;
    let s = both(&fx, &raw);
    assert_eq!(s.s_state & 1, 0, "not VALID: {s:?}");
    assert_eq!(s.j_start, 0);
}

/// An empty journal whose superblock records an error (an abort): the
/// mount moves it into the superblock (`ext4_clear_journal_err`).
#[test]
fn journal_errno_without_recovery() {
    let (mut fx, _) = log();
    let mut raw = fx.pristine.clone();
    set_recover(&mut raw, false);
    let mut dev = VecDevice::new(raw);
    fx.j.j_superblock.s_errno = -5;
    fx.j.j_superblock.s_start = 0;
    fx.j.write_superblock(&mut dev).unwrap();
    let s = both(&fx, &dev.data);
    assert_eq!((s.s_state, s.j_errno), (1 | 2, 0), "{s:?}");
}
