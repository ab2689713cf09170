#![cfg(not(target_arch = "wasm32"))]
//! Our commit and checkpoint, checked by e2fsck over every crash state.
//!
//! Realistic metadata transactions without the ext4 engine: image A is made
//! by mkfs.ext4; B1..B4 by applying debugfs changes one step at a time. The
//! blocks each step changed become one transaction, committed into A's
//! journal by our commit code on a recording device; step 4's file data goes
//! the data=ordered way (written home by the commit's ordered-data hook, not
//! journalled), and step 3 frees a file whose blocks step 2 journalled, so
//! its revoke records are what keeps replay from writing stale copies over
//! step 4's data. Then everything is checkpointed. For every crash state:
//! our recovery gives exactly one of A, B1..B4 (never older than the last
//! durable commit), `e2fsck -fn` passes on it, and `e2fsck -fy` on the same
//! raw crash state gives the same blocks.

#[path = "common/journal.rs"]
mod journal_util;

use ext4lab::device::BlockDevice;
use ext4lab::engine::csum::crc32c;
use ext4lab::engine::journal::crash::{CrashDevice, CrashOptions, VecDevice};
use ext4lab::engine::journal::ondisk::CsumVersion;
use ext4lab::engine::journal::{CommitHooks, Journal, JournalInitOptions, Result as JResult, Tid};
use journal_util::*;
use std::collections::BTreeMap;
use std::path::Path;

/// data=ordered hook: writes the given blocks home at commit.
struct Ordered {
    blocks: Vec<(u64, Vec<u8>)>,
    bs: u64,
    submitted: u32,
}

impl CommitHooks for Ordered {
    fn jbd2_submit_inode_data(
        &mut self,
        dev: &mut dyn BlockDevice,
        _tid: Tid,
        inodes: &[u32],
    ) -> JResult<()> {
        assert_eq!(inodes, &[12], "the ordered inode list reaches the hook");
        for (b, d) in &self.blocks {
            dev.write_at(b * self.bs, d)?;
        }
        self.submitted += 1;
        Ok(())
    }
    fn commit_time(&mut self, tid: Tid) -> (u64, u32) {
        (1_700_000_000 + u64::from(tid), 0)
    }
}

fn host_file(dir: &Path, name: &str, len: usize, seed: u8) -> String {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

fn blocks_of(img: &Path, path: &str) -> Vec<u64> {
    debugfs_req(img, &format!("blocks {path}"))
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect()
}

struct Config {
    name: &'static str,
    bs: u32,
    mib: u32,
    features: &'static str,
    csum: CsumVersion,
    is_64bit: bool,
    subset_k: u32,
    /// Run e2fsck -fy on every n-th raw crash state (it is the slow part).
    fy_stride: usize,
    /// Also tear writes at 512-byte sector boundaries.
    torn: bool,
}

fn run(cfg: &Config) {
    let dir = tmpdir();
    let d = dir.path();
    let bs = cfg.bs as usize;
    let a_path = d.join("a.img");
    mkfs(&a_path, cfg.mib, cfg.bs, cfg.features);
    let f1 = host_file(d, "f1", 5000, 1);
    let big = host_file(d, "big", 20 * 1024, 2);
    let h = host_file(d, "h", 9000, 3);
    let steps = [
        format!("mkdir d1\nwrite {f1} d1/f1\nsymlink d1/s1 /some/where/else\n"),
        format!("write {big} big\nsif d1/f1 mtime 0x5f000000\nln d1/f1 d1/g1\nunlink d1/f1\n"),
        "rm big\n".to_string(),
        format!("write {h} d1/h\n"),
    ];
    // B0 = A, B1..B4.
    let mut images = vec![std::fs::read(&a_path).unwrap()];
    let mut big_blocks = Vec::new();
    let mut h_blocks = Vec::new();
    for (i, cmds) in steps.iter().enumerate() {
        let p = d.join(format!("b{}.img", i + 1));
        std::fs::write(&p, images.last().unwrap()).unwrap();
        debugfs_cmds(&p, cmds);
        if i == 1 {
            big_blocks = blocks_of(&p, "big");
        }
        if i == 3 {
            h_blocks = blocks_of(&p, "d1/h");
            let (code, text) = e2fsck(&p, &["-fn"]);
            assert_eq!(code, 0, "debugfs made an inconsistent B4: {text}");
        }
        images.push(std::fs::read(&p).unwrap());
    }
    assert!(!big_blocks.is_empty() && !h_blocks.is_empty());
    // The allocator gives h some of big's freed blocks: the revoke matters.
    assert!(
        h_blocks.iter().any(|b| big_blocks.contains(b)),
        "h does not reuse big's blocks: {h_blocks:?} {big_blocks:?}"
    );

    let map = journal_map(&a_path);
    let fs_blocks = blocks_count(&images[0]);
    // The fs keeps INCOMPAT_RECOVER set while mounted: in A on disk, and in
    // every superblock copy it journals.
    for img in images.iter_mut() {
        set_recover(img, true);
    }

    // Fresh journal superblock as the engine's mkfs/mount would write it.
    let mut base = VecDevice::new(images[0].clone());
    let uuid: [u8; 16] = images[0][SB + 0x68..SB + 0x78].try_into().unwrap();
    let opts = JournalInitOptions {
        csum: cfg.csum,
        is_64bit: cfg.is_64bit,
        uuid,
        first_sequence: 7,
    };
    Journal::jbd2_journal_init(&mut base, cfg.bs, map.clone(), fs_blocks, &opts).unwrap();
    let expected: Vec<Vec<u8>> = images.clone();
    let mut dev = CrashDevice::new(base).unwrap();
    let mut j = Journal::jbd2_journal_load(&mut dev, cfg.bs, map.clone(), fs_blocks).unwrap();
    assert!(!j.needs_recovery());

    let blk = |img: &[u8], b: u64| img[b as usize * bs..(b as usize + 1) * bs].to_vec();
    // Epoch index after each commit: a crash at or after it keeps that step.
    let mut durable_after: Vec<usize> = Vec::new();
    for step in 1..=4 {
        let changed = diff_blocks(&images[step - 1], &images[step], cfg.bs, &map, false);
        assert!(!changed.is_empty());
        let ordered: Vec<u64> = if step == 4 {
            h_blocks.clone()
        } else {
            Vec::new()
        };
        let logged: Vec<u64> = changed
            .iter()
            .copied()
            .filter(|b| !ordered.contains(b))
            .collect();
        let mut handle = j.jbd2_journal_start(logged.len() as u32).unwrap();
        for &b in &logged {
            j.jbd2_journal_get_write_access(&handle, b).unwrap();
            j.jbd2_journal_dirty_metadata(&mut handle, b, &blk(&images[step], b))
                .unwrap();
        }
        if step == 3 {
            for &b in &big_blocks {
                j.jbd2_journal_revoke(&mut handle, b).unwrap();
            }
        }
        let mut hooks = Ordered {
            blocks: Vec::new(),
            bs: cfg.bs as u64,
            submitted: 0,
        };
        if step == 4 {
            j.jbd2_journal_inode_ranged_write(&handle, 12).unwrap();
            hooks.blocks = ordered.iter().map(|&b| (b, blk(&images[4], b))).collect();
        }
        j.jbd2_journal_stop(handle).unwrap();
        let info = j
            .jbd2_journal_commit_transaction(&mut dev, &mut hooks)
            .unwrap()
            .unwrap();
        assert_eq!(info.logged_blocks as usize, logged.len());
        assert_eq!(hooks.submitted, u32::from(step == 4));
        durable_after.push(dev.epochs() - 1);
    }
    // Freed and revoked: big's blocks that h does not reuse are free in B4
    // and must keep B4's contents (never rewritten by checkpoint).
    j.jbd2_log_checkpoint_all(&mut dev).unwrap();
    assert!(j.j_checkpoint_transactions.is_empty());
    // Blocks big had that h did not reuse are free in B3 and B4: revoked,
    // so never checkpointed; their contents do not matter. For B3, h's
    // blocks are free too and may already hold step 4's ordered data.
    let freed: Vec<u64> = big_blocks
        .iter()
        .copied()
        .filter(|b| !h_blocks.contains(b))
        .collect();
    let ignore_b4: Vec<u64> = map.iter().chain(&freed).copied().collect();
    let ignore_b3: Vec<u64> = ignore_b4.iter().chain(&h_blocks).copied().collect();
    let final_img = dev.final_image();
    let d4 = diff_blocks(&final_img, &expected[4], cfg.bs, &ignore_b4, false);
    assert_eq!(d4, Vec::<u64>::new(), "checkpointed image is not B4");
    // The revoked blocks were not written home by the checkpoint.
    for &b in &freed {
        assert!(
            blk(&final_img, b) == blk(&images[0], b),
            "checkpoint wrote revoked block {b}"
        );
    }
    let opts = CrashOptions {
        subset_k: cfg.subset_k,
        torn: cfg.torn,
        max_states: 5000,
    };
    let states = dev.crash_states(&opts);
    assert!(states.len() > 20, "too few crash states: {}", states.len());
    let mut fsck_seen: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    let mut outcome_counts = [0usize; 5];
    let mut torn_sb = 0usize;
    for (si, st) in states.iter().enumerate() {
        let raw = dev.materialize(st);
        let mut rdev = VecDevice::new(raw.clone());
        let mut rj = Journal::jbd2_journal_load(&mut rdev, cfg.bs, map.clone(), fs_blocks).unwrap();
        let info = rj.jbd2_journal_recover(&mut rdev).unwrap();
        assert!(info.error.is_none(), "state {si} {st:?}: {info:?}");
        let got = rdev.data.clone();
        let which = (0..5).rev().find(|&i| {
            let skip: &[u64] = match i {
                3 => &ignore_b3,
                4 => &ignore_b4,
                _ => &map,
            };
            diff_blocks(&got, &expected[i], cfg.bs, skip, false).is_empty()
        });
        let Some(which) = which else {
            let near: Vec<_> = (0..5)
                .map(|i| diff_blocks(&got, &expected[i], cfg.bs, &map, false))
                .collect();
            panic!(
                "{}: state {si} {st:?} recovers to none of A..B4: diffs {near:?}; {info:?}",
                cfg.name
            );
        };
        outcome_counts[which] += 1;
        let must = durable_after.iter().filter(|&&e| st.epoch > e).count();
        assert!(
            which >= must,
            "{}: state {si} lost committed step {must} (got B{which})",
            cfg.name
        );

        // e2fsck -fn on our result (RECOVER cleared by the fs side), then
        // e2fsck -fy on it: e2fsck normalises a few fields when it writes
        // (bg_itable_unused, checksums), so the fair comparison is its -fy
        // of our replay against its -fy of the raw crash state.
        let mut clean = got.clone();
        set_recover(&mut clean, false);
        // Results that differ only in the journal area fsck the same.
        let mut keyed = clean.clone();
        for &b in &map {
            keyed[b as usize * bs..(b as usize + 1) * bs].fill(0);
        }
        let key = crc32c(&keyed);
        if let std::collections::btree_map::Entry::Vacant(slot) = fsck_seen.entry(key) {
            let p = d.join("ours.img");
            std::fs::write(&p, &clean).unwrap();
            let (code, text) = e2fsck(&p, &["-fn"]);
            assert_eq!(
                code, 0,
                "{}: state {si}: e2fsck -fn after our recovery: {text}",
                cfg.name
            );
            let (code, text) = e2fsck(&p, &["-fy"]);
            assert_eq!(
                code, 0,
                "{}: state {si}: e2fsck -fy after our recovery changed something: {text}",
                cfg.name
            );
            slot.insert(std::fs::read(&p).unwrap());
        }
        let ours_fy = &fsck_seen[&key];
        // A torn write of the ext4 superblock itself (checkpoint writing
        // block 1 of a 1 KiB filesystem) leaves a superblock whose checksum
        // fails: e2fsck cannot open the image to replay (no backup in one
        // group), while our replay above rewrote it whole from the log.
        if let Some(t) = st.torn {
            let w = &dev.writes()[t.write];
            if w.offset < 2048 && w.offset + w.data.len() as u64 > 1024 {
                torn_sb += 1;
                continue;
            }
        }
        if si % cfg.fy_stride != 0 {
            continue;
        }
        let p = d.join("theirs.img");
        std::fs::write(&p, &raw).unwrap();
        let (code, text) = e2fsck(&p, &["-fy"]);
        assert!(
            code == 0 || code == 1,
            "{}: state {si}: e2fsck -fy exit {code}: {text}",
            cfg.name
        );
        let theirs = std::fs::read(&p).unwrap();
        let dd = diff_blocks(ours_fy, &theirs, cfg.bs, &map, true);
        if !dd.is_empty() && std::env::var_os("JOURNAL_TEST_DUMP").is_some() {
            std::fs::write("/tmp/jt_ours.img", ours_fy).unwrap();
            std::fs::write("/tmp/jt_theirs.img", &theirs).unwrap();
            std::fs::write("/tmp/jt_raw.img", &raw).unwrap();
        }
        assert!(
            dd.is_empty(),
            "{}: state {si} {st:?}: e2fsck's replay differs in blocks {dd:?}",
            cfg.name
        );
    }
    // Every outcome is reachable (A when nothing committed, B4 at the end).
    assert!(
        outcome_counts.iter().all(|&c| c > 0),
        "{}: outcomes {outcome_counts:?}",
        cfg.name
    );
    eprintln!(
        "{}: {} crash states ({} epochs, {} writes), outcomes A..B4 {:?}, {} distinct results fsck'd, {} torn-superblock states not given to e2fsck",
        cfg.name,
        states.len(),
        dev.epochs(),
        dev.writes().len(),
        outcome_counts,
        fsck_seen.len(),
        torn_sb
    );
}

#[test]
fn crash_states_v3_64bit_1k() {
    run(&Config {
        name: "v3-64-1k",
        bs: 1024,
        mib: 8,
        features: "metadata_csum,64bit",
        csum: CsumVersion::V3,
        is_64bit: true,
        subset_k: 3,
        fy_stride: 3,
        torn: true,
    });
}

#[test]
fn crash_states_v2_32bit_4k() {
    run(&Config {
        name: "v2-32-4k",
        bs: 4096,
        mib: 16,
        features: "^metadata_csum,^64bit",
        csum: CsumVersion::V2,
        is_64bit: false,
        subset_k: 3,
        fy_stride: 3,
        torn: false,
    });
}

#[test]
fn crash_states_v1_and_none() {
    for (name, csum) in [("v1-1k", CsumVersion::V1), ("none-1k", CsumVersion::None)] {
        run(&Config {
            name,
            bs: 1024,
            mib: 8,
            features: "^metadata_csum,64bit",
            csum,
            is_64bit: true,
            subset_k: 2,
            fy_stride: 5,
            torn: false,
        });
    }
}
