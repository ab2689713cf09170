//! Shared helpers for the journal tests: e2fsprogs as the oracle.
#![allow(dead_code, unused_imports)]

use ext4lab::engine::csum::ext4_chksum;
use ext4lab::engine::journal::crash::VecDevice;
use ext4lab::engine::journal::Journal;
use std::path::Path;

pub const SB: usize = 1024;

#[path = "e2fsprogs.rs"]
mod e2fsprogs;
pub use e2fsprogs::tool;

/// `mkfs.ext4 -q -F -b bs -O features img size_k`, deterministic UUID,
/// hash seed and time, so images are byte-stable.
pub fn mkfs(img: &Path, size_mib: u32, bs: u32, features: &str) {
    let bs = bs.to_string();
    let mut args = vec![
        "-b",
        &bs,
        "-U",
        "6b1f1ad3-0c38-4a7e-9e4a-3cbb8d7b6a11",
        "-E",
        "hash_seed=0f5e2b2c-2f0e-4d5b-9a3c-1a2b3c4d5e6f,lazy_itable_init=0",
    ];
    if !features.is_empty() {
        args.extend(["-O", features]);
    }
    let size = format!("{}k", size_mib * 1024);
    e2fsprogs::mkfs_ext4(
        img,
        &args,
        Some(&size),
        &[("E2FSPROGS_FAKE_TIME", "1700000000")],
    );
}

/// Run debugfs with a command file (`-w -f`); returns stdout+stderr.
pub fn debugfs_cmds(img: &Path, cmds: &str) -> String {
    e2fsprogs::debugfs_f(img, &["-w"], cmds, &[("E2FSPROGS_FAKE_TIME", "1700000100")]).1
}

/// `debugfs -R req img` (read-only).
pub fn debugfs_req(img: &Path, req: &str) -> String {
    String::from_utf8_lossy(&e2fsprogs::debugfs(img, req)).into_owned()
}

/// The journal's block list (`debugfs -R "blocks <8>"`).
pub fn journal_map(img: &Path) -> Vec<u64> {
    debugfs_req(img, "blocks <8>")
        .split_whitespace()
        .map(|s| s.parse().expect("block number"))
        .collect()
}

/// Run e2fsck with `args` at a fixed fake time; returns (exit code, output).
pub fn e2fsck(img: &Path, args: &[&str]) -> (i32, String) {
    e2fsprogs::e2fsck(img, args, &[("E2FSPROGS_FAKE_TIME", "1700000200")])
}

pub fn le32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

pub fn block_size(img: &[u8]) -> u32 {
    1024 << le32(img, SB + 0x18)
}

pub fn blocks_count(img: &[u8]) -> u64 {
    let lo = u64::from(le32(img, SB + 0x4));
    let incompat = le32(img, SB + 0x60);
    let hi = if incompat & 0x80 != 0 {
        u64::from(le32(img, SB + 0x150))
    } else {
        0
    };
    lo | (hi << 32)
}

fn sb_csum_fix(img: &mut [u8]) {
    // metadata_csum: RO_COMPAT 0x400; s_checksum at 0x3FC over 0..0x3FC.
    if le32(img, SB + 0x64) & 0x400 != 0 {
        let c = ext4_chksum(!0, &img[SB..SB + 0x3FC]);
        img[SB + 0x3FC..SB + 0x400].copy_from_slice(&c.to_le_bytes());
    }
}

/// Set or clear INCOMPAT_RECOVER (0x4 at superblock offset 0x60).
pub fn set_recover(img: &mut [u8], on: bool) {
    let mut v = le32(img, SB + 0x60);
    if on {
        v |= 0x4;
    } else {
        v &= !0x4;
    }
    img[SB + 0x60..SB + 0x64].copy_from_slice(&v.to_le_bytes());
    sb_csum_fix(img);
}

pub fn has_recover(img: &[u8]) -> bool {
    le32(img, SB + 0x60) & 0x4 != 0
}

/// Load the journal of an image held in memory.
pub fn load_journal(dev: &mut VecDevice, map: &[u64]) -> Journal {
    let bs = block_size(&dev.data);
    let fs_blocks = blocks_count(&dev.data);
    Journal::jbd2_journal_load(dev, bs, map.to_vec(), fs_blocks).expect("load journal")
}

/// Filesystem blocks whose contents differ between two images, skipping
/// `skip` (e.g. the journal) and the block(s) holding the primary
/// superblock when `skip_sb`.
pub fn diff_blocks(a: &[u8], b: &[u8], bs: u32, skip: &[u64], skip_sb: bool) -> Vec<u64> {
    let bs = bs as usize;
    let n = a.len().min(b.len()) / bs;
    let skip: std::collections::BTreeSet<u64> = skip.iter().copied().collect();
    (0..n as u64)
        .filter(|&blk| {
            if skip.contains(&blk) {
                return false;
            }
            if skip_sb && (blk as usize * bs) < 2048 && (blk as usize * bs + bs) > 1024 {
                return false;
            }
            let o = blk as usize * bs;
            a[o..o + bs] != b[o..o + bs]
        })
        .collect()
}

/// A fresh temporary directory.
pub fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

use ext4lab::engine::journal::ondisk::CsumVersion;
use ext4lab::engine::journal::{CommitInfo, JournalInitOptions, NoOrderedData, RecoveryInfo};

/// A fresh filesystem with a journal initialised by our code, and free
/// blocks to log into.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub bs: u32,
    pub map: Vec<u64>,
    pub free: Vec<u64>,
    pub fs_blocks: u64,
    /// The image before any transaction (INCOMPAT_RECOVER set).
    pub pristine: Vec<u8>,
    pub dev: VecDevice,
    pub j: Journal,
}

pub fn fixture(bs: u32, mib: u32, features: &str, csum: CsumVersion, is_64bit: bool) -> Fixture {
    let dir = tmpdir();
    let img = dir.path().join("fx.img");
    mkfs(&img, mib, bs, features);
    let goal = if bs == 1024 { 3000 } else { 1500 };
    let out = debugfs_req(&img, &format!("ffb 300 {goal}"));
    let free: Vec<u64> = out
        .split(':')
        .nth(1)
        .expect("ffb")
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(free.len(), 300);
    let map = journal_map(&img);
    let mut data = std::fs::read(&img).unwrap();
    set_recover(&mut data, true);
    let fs_blocks = blocks_count(&data);
    let uuid: [u8; 16] = data[SB + 0x68..SB + 0x78].try_into().unwrap();
    let mut dev = VecDevice::new(data);
    let opts = JournalInitOptions {
        csum,
        is_64bit,
        uuid,
        first_sequence: 1,
    };
    let j = Journal::jbd2_journal_init(&mut dev, bs, map.clone(), fs_blocks, &opts).unwrap();
    let pristine = dev.data.clone();
    Fixture {
        dir,
        bs,
        map,
        free,
        fs_blocks,
        pristine,
        dev,
        j,
    }
}

/// Deterministic block contents named by `tag`.
pub fn pattern(bs: u32, tag: u32) -> Vec<u8> {
    let mut x = tag.wrapping_mul(2_654_435_761).wrapping_add(12345);
    (0..bs)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

impl Fixture {
    /// Commit one transaction logging `blocks` and revoking `revokes`.
    pub fn commit(&mut self, blocks: &[(u64, Vec<u8>)], revokes: &[u64]) -> CommitInfo {
        let mut h = self.j.jbd2_journal_start(blocks.len() as u32).unwrap();
        for (b, d) in blocks {
            self.j.jbd2_journal_get_write_access(&h, *b).unwrap();
            self.j.jbd2_journal_dirty_metadata(&mut h, *b, d).unwrap();
        }
        for &r in revokes {
            self.j.jbd2_journal_revoke(&mut h, r).unwrap();
        }
        self.j.jbd2_journal_stop(h).unwrap();
        self.j
            .jbd2_journal_commit_transaction(&mut self.dev, &mut NoOrderedData)
            .unwrap()
            .unwrap()
    }

    pub fn block<'a>(&self, img: &'a [u8], b: u64) -> &'a [u8] {
        let bs = self.bs as usize;
        &img[b as usize * bs..(b as usize + 1) * bs]
    }

    /// Byte offset of journal block `l`.
    pub fn jblock_off(&self, l: u32) -> usize {
        self.map[l as usize] as usize * self.bs as usize
    }

    /// Recover `raw` with our code and with `e2fsck -fy`. Returns (ours,
    /// info, theirs, e2fsck output). Ours has RECOVER cleared, as the fs
    /// side does after recovery.
    pub fn recover_both(&self, raw: &[u8]) -> (Vec<u8>, RecoveryInfo, Vec<u8>, String) {
        let mut dev = VecDevice::new(raw.to_vec());
        let mut j = Journal::jbd2_journal_load(&mut dev, self.bs, self.map.clone(), self.fs_blocks)
            .expect("load");
        let info = j.jbd2_journal_recover(&mut dev).expect("recover");
        set_recover(&mut dev.data, false);
        let p = self.dir.path().join("theirs.img");
        std::fs::write(&p, raw).unwrap();
        let (code, text) = e2fsck(&p, &["-fy"]);
        assert!(
            code <= 2 || code == 4 || code == 8,
            "e2fsck -fy exit {code}: {text}"
        );
        let theirs = std::fs::read(&p).unwrap();
        (dev.data, info, theirs, text)
    }

    /// Assert our replay wrote the same filesystem blocks as e2fsck's.
    pub fn assert_same(&self, ours: &[u8], theirs: &[u8]) {
        let d = diff_blocks(ours, theirs, self.bs, &self.map, true);
        assert!(d.is_empty(), "blocks differ from e2fsck's replay: {d:?}");
    }
}
