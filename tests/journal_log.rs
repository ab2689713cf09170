#![cfg(not(target_arch = "wasm32"))]
//! Our log writing: wrap-around, revoke, escape, credits; each replayed by
//! our recovery and by e2fsck with the same result.

#[path = "common/journal.rs"]
mod journal_util;

use ext4lab::engine::journal::ondisk::*;
use ext4lab::engine::journal::{BlockReason, JournalError, LogEnd};
use journal_util::*;

#[test]
fn log_wraps_past_s_maxlen() {
    for (csum, is_64bit) in [
        (CsumVersion::V3, true),
        (CsumVersion::None, false),
        (CsumVersion::V1, true),
    ] {
        let mut fx = fixture(1024, 8, "^metadata_csum,64bit", csum, is_64bit);
        let (first, last) = (fx.j.j_first, fx.j.j_last);
        assert_eq!((first, last), (1, 1024));
        // 40 blocks a transaction; checkpoint after each, until the head is
        // close to the end of the log.
        let mut tag = 0u32;
        let mut n = 0;
        while fx.j.j_head < last - 100 {
            let blocks: Vec<_> = (0..40)
                .map(|i| {
                    tag += 1;
                    (fx.free[i], pattern(1024, tag))
                })
                .collect();
            fx.commit(&blocks, &[]);
            fx.j.jbd2_log_checkpoint_all(&mut fx.dev).unwrap();
            n += 1;
            assert!(n < 100);
        }
        // Three more, not checkpointed: the second crosses the end.
        let mut wanted = std::collections::BTreeMap::new();
        let mut infos = Vec::new();
        for t in 0..3 {
            let blocks: Vec<_> = (0..45)
                .map(|i| {
                    tag += 1;
                    let b = fx.free[100 + t * 45 + i];
                    (b, pattern(1024, tag))
                })
                .collect();
            for (b, d) in &blocks {
                wanted.insert(*b, d.clone());
            }
            infos.push(fx.commit(&blocks, &[]));
        }
        assert!(
            infos[2].commit_block < infos[0].log_start,
            "log did not wrap: {infos:?}"
        );
        let raw = fx.dev.data.clone();
        let (ours, info, theirs, _) = fx.recover_both(&raw);
        assert!(info.error.is_none(), "{info:?}");
        assert_eq!(info.start_block, infos[0].log_start);
        assert_eq!(info.transactions_replayed, 3, "{info:?}");
        assert_eq!(info.replayed.len(), 135);
        for (b, d) in &wanted {
            assert!(fx.block(&ours, *b) == &d[..], "block {b} not replayed");
        }
        fx.assert_same(&ours, &theirs);
    }
}

#[test]
fn revoked_block_not_replayed_relogged_block_is() {
    let mut fx = fixture(4096, 16, "metadata_csum,64bit", CsumVersion::V3, true);
    let (x, y, z) = (fx.free[0], fx.free[1], fx.free[2]);
    fx.commit(&[(x, pattern(4096, 1)), (y, pattern(4096, 2))], &[]);
    fx.commit(&[(z, pattern(4096, 3))], &[x]);
    // y revoked in T3, logged again in T4: T4's copy is newer than the revoke.
    fx.commit(&[], &[y]);
    fx.commit(&[(y, pattern(4096, 4))], &[]);
    let raw = fx.dev.data.clone();
    let (ours, info, theirs, _) = fx.recover_both(&raw);
    assert!(info.error.is_none(), "{info:?}");
    assert_eq!(info.nr_revokes, 2);
    assert_eq!(info.nr_revoke_hits, 2, "T1's x and y are revoked: {info:?}");
    assert!(
        fx.block(&ours, x) == fx.block(&fx.pristine, x),
        "revoked x replayed"
    );
    assert!(fx.block(&ours, y) == &pattern(4096, 4)[..]);
    assert!(fx.block(&ours, z) == &pattern(4096, 3)[..]);
    fx.assert_same(&ours, &theirs);
    // Revoke records are big-endian 64-bit entries after the 16-byte header.
    assert!(fx.j.j_superblock.s_feature_incompat & JBD2_FEATURE_INCOMPAT_REVOKE != 0);
}

#[test]
fn revoke_of_block_in_running_transaction_drops_it() {
    let mut fx = fixture(1024, 8, "^metadata_csum,^64bit", CsumVersion::None, false);
    let (x, y) = (fx.free[0], fx.free[1]);
    let mut h = fx.j.jbd2_journal_start(2).unwrap();
    fx.j.jbd2_journal_dirty_metadata(&mut h, x, &pattern(1024, 1))
        .unwrap();
    fx.j.jbd2_journal_dirty_metadata(&mut h, y, &pattern(1024, 2))
        .unwrap();
    assert_eq!(h.h_buffer_credits, 0);
    fx.j.jbd2_journal_revoke(&mut h, x).unwrap();
    assert_eq!(h.h_buffer_credits, 1, "credit returned");
    fx.j.jbd2_journal_stop(h).unwrap();
    let info = fx
        .j
        .jbd2_journal_commit_transaction(&mut fx.dev, &mut ext4lab::engine::journal::NoOrderedData)
        .unwrap()
        .unwrap();
    assert_eq!(info.logged_blocks, 1);
    assert_eq!(info.revoke_blocks, 1);
    let raw = fx.dev.data.clone();
    let (ours, info, theirs, _) = fx.recover_both(&raw);
    assert_eq!(info.replayed, vec![y]);
    assert!(fx.block(&ours, x) == fx.block(&fx.pristine, x));
    fx.assert_same(&ours, &theirs);
}

#[test]
fn escaped_block_logged_and_restored() {
    for csum in [CsumVersion::V3, CsumVersion::V2, CsumVersion::None] {
        let mut fx = fixture(1024, 8, "^metadata_csum,64bit", csum, true);
        let mut m = pattern(1024, 9);
        m[..4].copy_from_slice(&JBD2_MAGIC_NUMBER.to_be_bytes());
        let x = fx.free[0];
        let info = fx.commit(&[(x, m.clone())], &[]);
        assert_eq!(info.escaped_blocks, 1);
        // On disk: descriptor at log_start, the escaped copy right after.
        let desc = fx
            .block(&fx.dev.data, fx.map[info.log_start as usize])
            .to_vec();
        let fmt = fx.j.tag_format();
        let tags = descriptor_tags(fmt, &desc);
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].1.blocknr, x);
        assert_eq!(tags[0].1.flags, JBD2_FLAG_ESCAPE | JBD2_FLAG_LAST_TAG);
        let logged = fx
            .block(&fx.dev.data, fx.map[info.log_start as usize + 1])
            .to_vec();
        assert_eq!(&logged[..4], &[0, 0, 0, 0]);
        assert_eq!(&logged[4..], &m[4..]);
        let raw = fx.dev.data.clone();
        let (ours, info, theirs, _) = fx.recover_both(&raw);
        assert!(info.error.is_none(), "{csum:?}: {info:?}");
        assert!(fx.block(&ours, x) == &m[..], "{csum:?}: magic not restored");
        fx.assert_same(&ours, &theirs);
    }
}

#[test]
fn many_tags_span_descriptors() {
    // More blocks than one descriptor holds (1 KiB, tag3: (1024-12-4-16)/16 = 62).
    let mut fx = fixture(1024, 8, "metadata_csum,64bit", CsumVersion::V3, true);
    assert_eq!(fx.j.tags_per_descriptor(), 62);
    let blocks: Vec<_> = (0..150)
        .map(|i| (fx.free[i], pattern(1024, 100 + i as u32)))
        .collect();
    let info = fx.commit(&blocks, &[]);
    assert_eq!(info.descriptor_blocks, 3);
    let raw = fx.dev.data.clone();
    let (ours, rinfo, theirs, _) = fx.recover_both(&raw);
    assert_eq!(rinfo.replayed.len(), 150);
    for (b, d) in &blocks {
        assert!(fx.block(&ours, *b) == &d[..]);
    }
    fx.assert_same(&ours, &theirs);
}

#[test]
fn handles_credits_and_locking() {
    let mut fx = fixture(1024, 8, "^metadata_csum,64bit", CsumVersion::V3, true);
    let x = fx.free[0];
    let mut h = fx.j.jbd2_journal_start(1).unwrap();
    let tid = h.h_transaction;
    fx.j.jbd2_journal_dirty_metadata(&mut h, x, &pattern(1024, 1))
        .unwrap();
    // Re-dirtying the same block costs nothing more.
    fx.j.jbd2_journal_dirty_metadata(&mut h, x, &pattern(1024, 2))
        .unwrap();
    let e =
        fx.j.jbd2_journal_dirty_metadata(&mut h, fx.free[1], &pattern(1024, 3))
            .unwrap_err();
    assert_eq!(
        e,
        JournalError::NoCredits {
            tid,
            blocknr: fx.free[1]
        }
    );
    // Commit waits for the open handle; new handles wait for the commit.
    let e = fx.j.jbd2_journal_lock_transaction().unwrap_err();
    assert_eq!(
        e,
        JournalError::WouldBlock(BlockReason::UpdatesPending { tid, updates: 1 })
    );
    let e = fx.j.jbd2_journal_start(1).unwrap_err();
    assert_eq!(
        e,
        JournalError::WouldBlock(BlockReason::TransactionLocked { tid })
    );
    fx.j.jbd2_journal_stop(h).unwrap();
    let info = fx
        .j
        .jbd2_journal_commit_transaction(&mut fx.dev, &mut ext4lab::engine::journal::NoOrderedData)
        .unwrap()
        .unwrap();
    assert_eq!(info.tid, tid);
    assert_eq!(info.logged_blocks, 1);
    // The next handle gets the next tid; the logged copy is the last one.
    let h2 = fx.j.jbd2_journal_start(1).unwrap();
    assert_eq!(h2.h_transaction, tid + 1);
    fx.j.jbd2_journal_stop(h2).unwrap();
    // A 64BIT journal takes any block number; see below for a 32-bit one.
    // Too many credits for one transaction.
    assert!(matches!(
        fx.j.jbd2_journal_start(100_000),
        Err(JournalError::Invalid(_))
    ));
    let raw = fx.dev.data.clone();
    let (ours, _, theirs, _) = fx.recover_both(&raw);
    assert!(fx.block(&ours, x) == &pattern(1024, 2)[..]);
    fx.assert_same(&ours, &theirs);
}

#[test]
fn flush_leaves_clean_journal_with_next_sequence() {
    let mut fx = fixture(1024, 8, "^metadata_csum,64bit", CsumVersion::V3, true);
    let x = fx.free[0];
    fx.commit(&[(x, pattern(1024, 1))], &[]);
    let mut h = fx.j.jbd2_journal_start(1).unwrap();
    fx.j.jbd2_journal_dirty_metadata(&mut h, fx.free[1], &pattern(1024, 2))
        .unwrap();
    fx.j.jbd2_journal_stop(h).unwrap();
    fx.j.jbd2_journal_destroy(&mut fx.dev, &mut ext4lab::engine::journal::NoOrderedData)
        .unwrap();
    assert_eq!(fx.j.j_superblock.s_start, 0);
    assert_eq!(fx.j.j_superblock.s_sequence, 3);
    assert!(
        fx.block(&fx.dev.data, x) == &pattern(1024, 1)[..],
        "checkpoint wrote home"
    );
    assert!(fx.block(&fx.dev.data, fx.free[1]) == &pattern(1024, 2)[..]);
    // A clean journal: e2fsck -fn (RECOVER cleared by the fs) is happy.
    let mut img = fx.dev.data.clone();
    set_recover(&mut img, false);
    let p = fx.dir.path().join("clean.img");
    std::fs::write(&p, &img).unwrap();
    let (code, text) = e2fsck(&p, &["-fn"]);
    assert_eq!(code, 0, "{text}");
    // Loading it again finds nothing to do.
    let mut dev = ext4lab::engine::journal::crash::VecDevice::new(img);
    let mut j = load_journal(&mut dev, &fx.map);
    let info = j.jbd2_journal_recover(&mut dev).unwrap();
    assert_eq!(info.end, LogEnd::Clean);
    assert_eq!(j.j_transaction_sequence, 4);
}

/// A commit in two halves: after `commit_start` new handles go to a new
/// running transaction while the old one is written.
#[test]
fn running_and_committing_transactions() {
    let mut fx = fixture(1024, 8, "metadata_csum,64bit", CsumVersion::V3, true);
    let (x, y) = (fx.free[0], fx.free[1]);
    let mut h = fx.j.jbd2_journal_start(1).unwrap();
    fx.j.jbd2_journal_dirty_metadata(&mut h, x, &pattern(1024, 1))
        .unwrap();
    fx.j.jbd2_journal_stop(h).unwrap();
    assert_eq!(fx.j.jbd2_journal_commit_start().unwrap(), Some(1));
    // T2 runs while T1 commits, and changes x again: T1 keeps its copy.
    let mut h = fx.j.jbd2_journal_start(2).unwrap();
    assert_eq!(h.h_transaction, 2);
    fx.j.jbd2_journal_dirty_metadata(&mut h, x, &pattern(1024, 2))
        .unwrap();
    fx.j.jbd2_journal_dirty_metadata(&mut h, y, &pattern(1024, 3))
        .unwrap();
    // Only one commit at a time.
    assert_eq!(
        fx.j.jbd2_journal_commit_start().unwrap_err(),
        JournalError::WouldBlock(BlockReason::CommitInProgress { tid: 1 })
    );
    let c1 =
        fx.j.jbd2_journal_commit_write(&mut fx.dev, &mut ext4lab::engine::journal::NoOrderedData)
            .unwrap();
    assert_eq!(c1.tid, 1);
    // Crash now: only T1 is in the log.
    let (ours, info, theirs, _) = fx.recover_both(&fx.dev.data.clone());
    assert_eq!(info.end_transaction, 2);
    assert!(fx.block(&ours, x) == &pattern(1024, 1)[..]);
    assert!(fx.block(&ours, y) == fx.block(&fx.pristine, y));
    fx.assert_same(&ours, &theirs);
    fx.j.jbd2_journal_stop(h).unwrap();
    fx.j.jbd2_journal_commit_transaction(&mut fx.dev, &mut ext4lab::engine::journal::NoOrderedData)
        .unwrap();
    let (ours, _, theirs, _) = fx.recover_both(&fx.dev.data.clone());
    assert!(fx.block(&ours, x) == &pattern(1024, 2)[..]);
    assert!(fx.block(&ours, y) == &pattern(1024, 3)[..]);
    fx.assert_same(&ours, &theirs);
}

/// Scenario S1's mechanism: a block journalled as metadata (the inline-data
/// conversion's copy), then rewritten home as ordered data and fsynced.
/// Checkpoint leaves the newer data alone, but a crash before the log tail
/// passes the old copy replays it over the fsynced data: the lost write,
/// as in the kernel before the fix, and e2fsck does the same.
#[test]
fn s1_logged_copy_replayed_over_newer_ordered_data() {
    let mut fx = fixture(1024, 8, "metadata_csum,64bit", CsumVersion::V3, true);
    let x = fx.free[0];
    let old = vec![b'A'; 1024];
    let new = vec![b'B'; 1024];
    fx.commit(&[(x, old.clone())], &[]);
    // Ordered write of the new data, then the fsync's commit (other metadata).
    fx.dev.data[x as usize * 1024..(x as usize + 1) * 1024].copy_from_slice(&new);
    fx.j.jbd2_journal_remove_checkpoint(x);
    fx.commit(&[(fx.free[1], pattern(1024, 7))], &[]);
    let crashed = fx.dev.data.clone();
    let (ours, info, theirs, _) = fx.recover_both(&crashed);
    assert_eq!(info.transactions_replayed, 2);
    assert!(
        fx.block(&ours, x) == &old[..],
        "the old logged copy wins after a crash"
    );
    fx.assert_same(&ours, &theirs);
    // Without a crash, checkpoint keeps the newer data.
    fx.j.jbd2_log_checkpoint_all(&mut fx.dev).unwrap();
    assert!(fx.block(&fx.dev.data, x) == &new[..]);
    // A revoke of the logged copy (what ext4 issues when it frees a
    // journalled block) makes replay skip it and the data survives.
    let mut fx = fixture(1024, 8, "metadata_csum,64bit", CsumVersion::V3, true);
    fx.commit(&[(x, old.clone())], &[]);
    fx.dev.data[x as usize * 1024..(x as usize + 1) * 1024].copy_from_slice(&new);
    fx.commit(&[(fx.free[1], pattern(1024, 7))], &[x]);
    let (ours, _, theirs, _) = fx.recover_both(&fx.dev.data.clone());
    assert!(fx.block(&ours, x) == &new[..]);
    fx.assert_same(&ours, &theirs);
}

/// Our `jbd2_journal_init` writes the same journal superblock as mke2fs
/// (no checksum feature, s_nr_users 1, the filesystem's UUID).
#[test]
fn init_matches_mke2fs_superblock() {
    for (bs, features) in [
        (1024u32, "metadata_csum,64bit"),
        (4096, "^metadata_csum,^64bit"),
    ] {
        let dir = tmpdir();
        let img = dir.path().join("m.img");
        mkfs(&img, 16, bs, features);
        let map = journal_map(&img);
        let data = std::fs::read(&img).unwrap();
        let o = map[0] as usize * bs as usize;
        let theirs = data[o..o + 1024].to_vec();
        let uuid: [u8; 16] = data[SB + 0x68..SB + 0x78].try_into().unwrap();
        let mut dev = ext4lab::engine::journal::crash::VecDevice::new(data.clone());
        let opts = ext4lab::engine::journal::JournalInitOptions {
            uuid,
            ..Default::default()
        };
        let j = ext4lab::engine::journal::Journal::jbd2_journal_init(
            &mut dev,
            bs,
            map.clone(),
            blocks_count(&data),
            &opts,
        )
        .unwrap();
        assert_eq!(j.j_superblock.s_maxlen as usize, map.len());
        assert_eq!(&dev.data[o..o + 1024], &theirs[..], "bs {bs}");
        // With CSUM_V3 + 64BIT, e2fsck accepts it as is.
        let opts = ext4lab::engine::journal::JournalInitOptions {
            uuid,
            csum: CsumVersion::V3,
            is_64bit: true,
            first_sequence: 1,
        };
        ext4lab::engine::journal::Journal::jbd2_journal_init(
            &mut dev,
            bs,
            map,
            blocks_count(&data),
            &opts,
        )
        .unwrap();
        std::fs::write(&img, &dev.data).unwrap();
        let (code, text) = e2fsck(&img, &["-fn"]);
        assert_eq!(code, 0, "{text}");
        let dump = std::process::Command::new(tool("dumpe2fs"))
            .arg("-h")
            .arg(&img)
            .output()
            .unwrap();
        let dump = String::from_utf8_lossy(&dump.stdout);
        assert!(dump.contains("journal_64bit journal_checksum_v3"), "{dump}");
    }
}

/// `jbd2_journal_lock_updates` (used when an inode's journal-data flag
/// flips, scenario S4): new handles wait, open ones are counted.
#[test]
fn lock_updates_barrier() {
    let mut fx = fixture(1024, 8, "^metadata_csum,64bit", CsumVersion::None, false);
    let h = fx.j.jbd2_journal_start(1).unwrap();
    assert_eq!(fx.j.jbd2_journal_lock_updates(), 1);
    assert_eq!(
        fx.j.jbd2_journal_start(1).unwrap_err(),
        JournalError::WouldBlock(BlockReason::Barrier)
    );
    fx.j.jbd2_journal_stop(h).unwrap();
    assert_eq!(fx.j.jbd2_journal_updates_pending(), 0);
    // Under the barrier the fs flushes the journal, then lets handles in.
    fx.j.jbd2_journal_flush(&mut fx.dev, &mut ext4lab::engine::journal::NoOrderedData)
        .unwrap();
    assert_eq!(fx.j.j_superblock.s_start, 0);
    fx.j.jbd2_journal_unlock_updates().unwrap();
    assert!(fx.j.jbd2_journal_unlock_updates().is_err());
    let h = fx.j.jbd2_journal_start(1).unwrap();
    fx.j.jbd2_journal_stop(h).unwrap();
}

#[test]
fn block_numbers_past_32_bits_need_64bit() {
    let mut fx = fixture(1024, 8, "^metadata_csum,^64bit", CsumVersion::None, false);
    let mut h = fx.j.jbd2_journal_start(1).unwrap();
    let e =
        fx.j.jbd2_journal_dirty_metadata(&mut h, 1 << 32, &pattern(1024, 1))
            .unwrap_err();
    assert!(matches!(e, JournalError::Invalid(_)), "{e:?}");
    assert_eq!(h.h_buffer_credits, 1, "no credit used");
    fx.j.jbd2_journal_stop(h).unwrap();
}
