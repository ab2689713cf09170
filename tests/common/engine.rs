//! Helpers shared by the engine's native tests: images in a tempdir and
//! e2fsprogs as the oracle.
#![allow(dead_code, unused_imports)]

use ext4lab::device::{FileDevice, MemDevice};
use ext4lab::engine::{mkfs, Ext4Fs, MkfsOptions};
use std::path::{Path, PathBuf};
#[path = "e2fsprogs.rs"]
pub mod e2fsprogs;
pub use e2fsprogs::{debugfs, debugfs_w, e2fsck_fn};

pub fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Run `mkfs.ext4 -q -F` with extra args on a fresh image of `mb` MiB.
pub fn mkfs_ext4(dir: &Path, name: &str, mb: u64, args: &[&str]) -> PathBuf {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(mb << 20).unwrap();
    e2fsprogs::mkfs_ext4(&p, args, None, &[]);
    p
}

/// e2fsck -fn and the engine's own fsck both find the image clean.
pub fn assert_e2fsck_clean(p: &Path) {
    let (ok, text) = e2fsck_fn(p);
    assert!(ok, "e2fsck -fn reports problems:\n{text}");
    let r = ext4lab::engine::fsck::fsck(load(p)).expect("engine fsck runs");
    assert!(
        r.findings.is_empty(),
        "engine fsck findings on an image e2fsck passes: {:#?}",
        r.findings
    );
}

/// Names listed by `debugfs -R "ls -p DIR"` (without . and ..).
pub fn debugfs_names(p: &Path, dir: &str) -> Vec<String> {
    let out = String::from_utf8_lossy(&debugfs(p, &format!("ls -p {dir}"))).into_owned();
    let mut v: Vec<String> = out
        .lines()
        // `ls -p` also shows emptied slots (inode 0); skip them.
        .filter(|l| l.split('/').nth(1).is_some_and(|i| i != "0"))
        .filter_map(|l| l.split('/').nth(5).map(|s| s.to_string()))
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .collect();
    v.sort();
    v
}

pub fn open_file(p: &Path) -> Ext4Fs<FileDevice> {
    Ext4Fs::open(FileDevice::open(p, false).unwrap(), Default::default()).unwrap()
}

/// Format a memory device with the engine's mkfs.
pub fn engine_mkfs(mb: u64, features: &str, bs: Option<u32>) -> Ext4Fs<MemDevice> {
    let mut o = MkfsOptions {
        block_size: bs,
        assume_zeroed: true,
        ..Default::default()
    };
    o.apply_features(features).unwrap();
    mkfs(MemDevice::new(mb << 20), &o).unwrap()
}

/// Sync and write a memory filesystem to an image file for e2fsprogs.
pub fn dump(fs: Ext4Fs<MemDevice>, dir: &Path, name: &str) -> PathBuf {
    let mut fs = fs;
    fs.sync().unwrap();
    let dev = fs.into_device();
    let p = dir.join(name);
    std::fs::write(&p, dev.to_bytes()).unwrap();
    p
}

pub fn load(p: &Path) -> MemDevice {
    let bytes = std::fs::read(p).unwrap();
    MemDevice::from_bytes(&bytes)
}

/// `debugfs cat`, trimmed to the size `debugfs stat` reports (debugfs
/// prints the whole 60-byte `i_block` of small inline files).
pub fn debugfs_cat(p: &Path, path: &str) -> Vec<u8> {
    let stat = String::from_utf8_lossy(&debugfs(p, &format!("stat {path}"))).into_owned();
    let size: usize = stat
        .split("Size: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("size in debugfs stat");
    let mut out = debugfs(p, &format!("cat {path}"));
    if out.len() > size && out.len() <= 60 {
        out.truncate(size);
    }
    out
}
