#![cfg(not(target_arch = "wasm32"))]
//! Corrupt journals: recovery stops where e2fsck stops, says why, never
//! panics.

#[path = "common/journal.rs"]
mod journal_util;

use ext4lab::engine::journal::crash::VecDevice;
use ext4lab::engine::journal::ondisk::*;
use ext4lab::engine::journal::{CommitInfo, Journal, JournalError, LogEnd};
use journal_util::*;

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::XorShift64Star;

/// T1 logs a,b; T2 logs c,d; T3 revokes z and logs e. V3 checksums, 1 KiB.
struct Log {
    fx: Fixture,
    t: Vec<CommitInfo>,
    raw: Vec<u8>,
    a: u64,
    b: u64,
    c: u64,
    d: u64,
    e: u64,
}

fn log() -> Log {
    let mut fx = fixture(1024, 8, "metadata_csum,64bit", CsumVersion::V3, true);
    let [a, b, c, d, e, z] = [
        fx.free[0], fx.free[1], fx.free[2], fx.free[3], fx.free[4], fx.free[5],
    ];
    let t1 = fx.commit(&[(a, pattern(1024, 1)), (b, pattern(1024, 2))], &[]);
    let t2 = fx.commit(&[(c, pattern(1024, 3)), (d, pattern(1024, 4))], &[]);
    let t3 = fx.commit(&[(e, pattern(1024, 5))], &[z]);
    assert_eq!((t1.log_start, t2.log_start, t3.log_start), (1, 5, 9));
    let raw = fx.dev.data.clone();
    Log {
        fx,
        t: vec![t1, t2, t3],
        raw,
        a,
        b,
        c,
        d,
        e,
    }
}

impl Log {
    fn jblock(&mut self, l: u32) -> &mut [u8] {
        let o = self.fx.jblock_off(l);
        &mut self.raw[o..o + 1024]
    }
    fn fix_tail(&mut self, l: u32) {
        let seed = self.fx.j.j_csum_seed;
        block_tail_set(seed, self.jblock(l));
    }
    fn fix_commit(&mut self, l: u32) {
        let seed = self.fx.j.j_csum_seed;
        let b = self.jblock(l);
        let c = commit_block_csum(seed, b);
        b[COMMIT_CHKSUM..COMMIT_CHKSUM + 4].copy_from_slice(&c.to_be_bytes());
    }
    /// Which of a..e hold their logged contents after `img`'s replay.
    fn replayed(&self, img: &[u8]) -> Vec<char> {
        let pairs = [
            ('a', self.a, 1),
            ('b', self.b, 2),
            ('c', self.c, 3),
            ('d', self.d, 4),
            ('e', self.e, 5),
        ];
        pairs
            .iter()
            .filter(|(_, blk, tag)| self.fx.block(img, *blk) == &pattern(1024, *tag)[..])
            .map(|p| p.0)
            .collect()
    }
    fn run(
        &self,
    ) -> (
        Vec<u8>,
        ext4lab::engine::journal::RecoveryInfo,
        Vec<u8>,
        String,
    ) {
        let r = self.fx.recover_both(&self.raw);
        self.fx.assert_same(&r.0, &r.2);
        assert_eq!(self.replayed(&r.0), self.replayed(&r.2));
        r
    }
}

#[test]
fn intact_log_replays_everything() {
    let l = log();
    let (ours, info, _, _) = l.run();
    assert_eq!(l.replayed(&ours), vec!['a', 'b', 'c', 'd', 'e']);
    assert!(info.error.is_none());
    // RecoveryInfo is plain serde data.
    let json = serde_json::to_string(&info).unwrap();
    assert!(json.contains("\"end_transaction\":4"), "{json}");
    let back: ext4lab::engine::journal::RecoveryInfo = serde_json::from_str(&json).unwrap();
    assert_eq!(back, info);
    // Revoke block first, then the descriptor (fs/jbd2/commit.c order).
    assert_eq!(
        (
            l.t[2].revoke_blocks,
            l.t[2].descriptor_blocks,
            l.t[2].commit_block
        ),
        (1, 1, 12)
    );
    assert_eq!(info.end, LogEnd::NoMagic { block: 13 });
}

#[test]
fn bad_magic_ends_the_log() {
    let mut l = log();
    l.jblock(5)[0] ^= 0xFF;
    let (ours, info, _, _) = l.run();
    assert_eq!(l.replayed(&ours), vec!['a', 'b']);
    assert_eq!(info.end, LogEnd::NoMagic { block: 5 });
    assert_eq!(info.end_transaction, 2);
    assert!(info.error.is_none());
}

#[test]
fn bad_descriptor_checksum_fails_recovery() {
    let mut l = log();
    l.jblock(5)[600] ^= 0x01;
    let (ours, info, _, text) = l.run();
    // Commit time of T2 is not older than T1's: corruption, not stale
    // data; e2fsck's recovery fails and nothing is replayed.
    assert!(l.replayed(&ours).is_empty(), "{info:?}");
    assert!(
        matches!(info.error, Some(JournalError::Checksum { block: 8, .. })),
        "{info:?}"
    );
    assert!(
        matches!(info.end, LogEnd::Error { block: 8, .. }),
        "{:?}",
        info.end
    );
    assert!(text.contains("recovering journal"), "{text}");
}

#[test]
fn stale_descriptor_with_older_commit_time_ends_cleanly() {
    let mut l = log();
    l.jblock(5)[600] ^= 0x01;
    // T2's commit time goes back in time: a stale block from an older use
    // of the log, so the log ends before T2 without an error.
    let b = l.jblock(8);
    b[COMMIT_SEC..COMMIT_SEC + 8].copy_from_slice(&0u64.to_be_bytes());
    l.fix_commit(8);
    let (ours, info, _, _) = l.run();
    assert_eq!(l.replayed(&ours), vec!['a', 'b']);
    assert_eq!(info.end, LogEnd::StaleChecksum { block: 8, tid: 2 });
    assert!(info.error.is_none());
}

#[test]
fn bad_commit_checksum_ends_before_that_transaction() {
    let mut l = log();
    l.jblock(8)[0x40] ^= 0x10;
    let (ours, info, theirs, text) = l.run();
    assert_eq!(l.replayed(&ours), vec!['a', 'b']);
    assert_eq!(info.failed_commit, Some(2));
    assert_eq!(info.end, LogEnd::CommitChecksum { block: 8, tid: 2 });
    assert!(text.contains("Journal transaction 2 was corrupt"), "{text}");
    let _ = theirs;
}

#[test]
fn bad_revoke_checksum_fails_recovery() {
    let mut l = log();
    l.jblock(9)[500] ^= 0x01;
    let (ours, info, _, _) = l.run();
    assert!(l.replayed(&ours).is_empty(), "{info:?}");
    assert!(
        matches!(info.error, Some(JournalError::Checksum { block: 12, .. })),
        "{info:?}"
    );
}

#[test]
fn revoke_rcount_too_large_fails_recovery() {
    let mut l = log();
    l.jblock(9)[0x0C..0x10].copy_from_slice(&1021u32.to_be_bytes());
    l.fix_tail(9);
    let (ours, info, _, _) = l.run();
    assert!(l.replayed(&ours).is_empty(), "{info:?}");
    assert!(
        matches!(&info.error, Some(JournalError::Corrupt { block: 9, what }) if what.contains("r_count")),
        "{info:?}"
    );
}

#[test]
fn sequence_gap_ends_the_log() {
    let mut l = log();
    l.jblock(9)[8..12].copy_from_slice(&7u32.to_be_bytes());
    l.fix_tail(9);
    let (ours, info, _, _) = l.run();
    assert_eq!(l.replayed(&ours), vec!['a', 'b', 'c', 'd']);
    assert_eq!(
        info.end,
        LogEnd::SequenceMismatch {
            block: 9,
            expected: 3,
            found: 7
        }
    );
    assert!(info.error.is_none());
}

#[test]
fn tag_outside_the_filesystem_is_skipped_and_reported() {
    let mut l = log();
    let fmt = l.fx.j.tag_format();
    let desc = l.jblock(5).to_vec();
    let tags = descriptor_tags(fmt, &desc);
    let (off, mut tag) = tags[1];
    let outside = l.fx.fs_blocks + 10;
    tag.blocknr = outside;
    tag.write(fmt, l.jblock(5), off);
    l.fix_tail(5);
    let (ours, info, theirs, _) = l.run();
    assert_eq!(l.replayed(&ours), vec!['a', 'b', 'c', 'e']);
    assert_eq!(info.skipped.len(), 1, "{info:?}");
    assert_eq!(info.skipped[0].blocknr, outside);
    assert!(
        matches!(info.error, Some(JournalError::Corrupt { block: 7, .. })),
        "{info:?}"
    );
    // e2fsck writes it past the end of the image file; within the
    // filesystem both agree (checked by run()).
    assert!(theirs.len() >= ours.len());
}

#[test]
fn bad_data_block_checksum_skips_that_block() {
    let mut l = log();
    l.jblock(6)[100] ^= 0x01;
    let (ours, info, _, _) = l.run();
    assert_eq!(l.replayed(&ours), vec!['a', 'b', 'd', 'e']);
    assert_eq!(info.skipped.len(), 1);
    assert_eq!(info.skipped[0].blocknr, l.c);
    assert!(
        matches!(info.error, Some(JournalError::Checksum { block: 6, .. })),
        "{info:?}"
    );
}

#[test]
fn bad_journal_superblock_is_refused() {
    let l = log();
    let o = l.fx.jblock_off(0);
    let mut raw = l.raw.clone();
    raw[o + 0x30] ^= 1; // s_uuid: checksum now wrong
    let mut dev = VecDevice::new(raw.clone());
    let e =
        Journal::jbd2_journal_load(&mut dev, 1024, l.fx.map.clone(), l.fx.fs_blocks).unwrap_err();
    assert!(
        matches!(e, JournalError::Checksum { block: 0, .. }),
        "{e:?}"
    );
    raw[o] ^= 1; // magic
    let mut dev = VecDevice::new(raw.clone());
    let e =
        Journal::jbd2_journal_load(&mut dev, 1024, l.fx.map.clone(), l.fx.fs_blocks).unwrap_err();
    assert!(matches!(e, JournalError::Corrupt { block: 0, .. }), "{e:?}");
    // A superblock saying s_maxlen is longer than the journal.
    // (checksum kept valid, so the field check is what refuses it), and
    // one whose s_start is outside the log.
    for (field, value) in [(0x10usize, 5000u32), (0x1C, 2000)] {
        let mut raw = l.raw.clone();
        raw[o + field..o + field + 4].copy_from_slice(&value.to_be_bytes());
        let mut sb = JournalSuperblock::parse(&raw[o..o + 1024]).unwrap();
        sb.csum_set();
        sb.write(&mut raw[o..o + 1024]);
        let mut dev = VecDevice::new(raw);
        let e = Journal::jbd2_journal_load(&mut dev, 1024, l.fx.map.clone(), l.fx.fs_blocks)
            .unwrap_err();
        assert!(matches!(e, JournalError::Corrupt { block: 0, .. }), "{e:?}");
    }
    // Wrong block size.
    let mut dev = VecDevice::new(l.raw.clone());
    assert!(Journal::jbd2_journal_load(&mut dev, 4096, l.fx.map.clone(), l.fx.fs_blocks).is_err());
}

/// Random damage to the log blocks never panics or hangs; a sample is
/// checked against e2fsck.
#[test]
fn fuzzed_logs_never_panic_and_agree_with_e2fsck() {
    let l = log();
    let mut rng = XorShift64Star(0x9E37_79B9_7F4A_7C15);
    let mut next = move || rng.next();
    let mut compared = 0;
    for i in 0..400 {
        let mut raw = l.raw.clone();
        let flips = 1 + next() % 4;
        for _ in 0..flips {
            let lb = 1 + (next() % 12) as u32;
            let off = l.fx.jblock_off(lb) + (next() % 1024) as usize;
            raw[off] ^= 1 << (next() % 8);
        }
        let mut dev = VecDevice::new(raw.clone());
        let mut j =
            Journal::jbd2_journal_load(&mut dev, 1024, l.fx.map.clone(), l.fx.fs_blocks).unwrap();
        let info = j.jbd2_journal_recover(&mut dev).unwrap();
        assert!(info.replayed.len() <= 5 + 64, "{info:?}");
        if i % 40 == 0 {
            let (ours, _, theirs, _) = l.fx.recover_both(&raw);
            l.fx.assert_same(&ours, &theirs);
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
}
