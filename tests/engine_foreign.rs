#![cfg(not(target_arch = "wasm32"))]
//! Writing into images made by mkfs.ext4: resize_inode, reserved GDT
//! blocks, BLOCK_UNINIT / INODE_UNINIT groups and lazily zeroed tables are
//! kept intact; e2fsck -fn stays clean.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::engine::Ext4Fs;

fn fill(args: &[&str]) {
    let d = tmpdir();
    let img = mkfs_ext4(d.path(), "img", 32, args);
    let mut fs = Ext4Fs::open(load(&img), Default::default()).unwrap();
    // A file larger than one group forces allocation in BLOCK_UNINIT groups.
    let big = fs.create("/big", 0o644).unwrap();
    let data: Vec<u8> = (0..9 << 20)
        .map(|i: usize| (i / 4096 % 251) as u8)
        .collect();
    fs.write(big, 0, &data).unwrap();
    // More inodes than one group holds: INODE_UNINIT groups get initialised.
    fs.mkdir("/many", 0o755).unwrap();
    let n = (fs.sb.s_inodes_per_group + 50).min(fs.sb.s_free_inodes_count - 10);
    for i in 0..n {
        fs.create(&format!("/many/f{i}"), 0o644).unwrap();
    }
    fs.truncate(big, 5 << 20).unwrap();
    let img2 = dump(fs, d.path(), "img2");
    assert_e2fsck_clean(&img2);
    assert_eq!(debugfs_cat(&img2, "/big"), data[..5 << 20]);
}

#[test]
fn fill_default_mkfs_image() {
    fill(&[]);
}

#[test]
fn fill_4k_mkfs_image() {
    fill(&["-b", "4096"]);
}

#[test]
fn fill_no_csum_image() {
    fill(&["-O", "^metadata_csum,uninit_bg"]);
}

#[test]
fn fill_csum_seed_inline_image() {
    fill(&["-O", "metadata_csum_seed,inline_data"]);
}
