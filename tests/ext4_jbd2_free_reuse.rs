#![cfg(not(target_arch = "wasm32"))]
//! mballoc does not hand out a block freed by a transaction that has not
//! committed (v4.0 fs/ext4/mballoc.c `ext4_free_blocks` ->
//! `ext4_mb_free_metadata`; released by `ext4_free_data_callback` at the
//! commit): otherwise a crash before the commit leaves the not-quite-
//! truncated file owning a block another file has already written. Data
//! blocks of a data=writeback inode are the exception.

#[path = "common/ext4_jbd2.rs"]
mod ext4_jbd2_util;

use ext4_jbd2_util::fresh;
use ext4lab::engine::journal::crash::{CrashDevice, VecDevice};
use ext4lab::engine::map::MapFlags;
use ext4lab::engine::{DataMode, Ext4Fs, MountOptions};

type Fs = Ext4Fs<CrashDevice<VecDevice>>;

fn mount(mode: DataMode) -> Fs {
    let opts = MountOptions {
        data: Some(mode),
        ..Default::default()
    };
    Ext4Fs::ext4_mount(fresh(4096, ""), &opts).unwrap().0
}

fn blocks(fs: &mut Fs, ino: u32, n: u32) -> Vec<u64> {
    (0..n)
        .map(|l| {
            fs.ext4_map_blocks(ino, l, 1, MapFlags::empty())
                .unwrap()
                .m_pblk
                .expect("mapped")
        })
        .collect()
}

/// Create `p` with `n` blocks of data and commit; its blocks.
fn file_with_blocks(fs: &mut Fs, p: &str, n: u32) -> (u32, Vec<u64>) {
    let ino = fs
        .ext4_journalled(None, 32, |fs| fs.create(p, 0o644))
        .unwrap();
    fs.ext4_file_write(ino, 0, &vec![0x5a; n as usize * 4096])
        .unwrap();
    fs.ext4_sync_file(ino).unwrap();
    (ino, blocks(fs, ino, n))
}

fn truncate(fs: &mut Fs, ino: u32) {
    fs.ext4_journalled(Some(ino), 64, |fs| fs.truncate(ino, 0))
        .unwrap();
}

fn busy(fs: &Fs, b: &[u64]) -> Vec<bool> {
    let j = fs.ext4_journal().unwrap();
    b.iter().map(|&b| j.ext4_freed_busy(b)).collect()
}

#[test]
fn ordered_data_blocks_wait_for_the_commit() {
    let mut fs = mount(DataMode::Ordered);
    let (a, old) = file_with_blocks(&mut fs, "/a", 4);
    truncate(&mut fs, a);
    assert_eq!(busy(&fs, &old), vec![true; 4]);
    // A new file allocated before the commit gets other blocks.
    let (_, new) = file_with_blocks(&mut fs, "/b", 4);
    assert!(
        new.iter().all(|b| !old.contains(b)),
        "{old:?} reused as {new:?}"
    );
    // fsync of b committed the truncate too: the blocks are free again.
    assert_eq!(busy(&fs, &old), vec![false; 4]);
}

#[test]
fn a_commit_releases_them() {
    let mut fs = mount(DataMode::Ordered);
    let (a, old) = file_with_blocks(&mut fs, "/a", 2);
    truncate(&mut fs, a);
    assert_eq!(busy(&fs, &old), vec![true; 2]);
    fs.jbd2_journal_commit_running().unwrap();
    assert_eq!(busy(&fs, &old), vec![false; 2]);
}

#[test]
fn writeback_data_blocks_are_reusable_at_once() {
    let mut fs = mount(DataMode::Writeback);
    let (a, old) = file_with_blocks(&mut fs, "/a", 4);
    truncate(&mut fs, a);
    assert_eq!(busy(&fs, &old), vec![false; 4]);
}
