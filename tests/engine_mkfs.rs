#![cfg(not(target_arch = "wasm32"))]
//! The engine's mkfs against e2fsck -fn and dumpe2fs.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;

fn check(mb: u64, features: &str, bs: Option<u32>) {
    let d = tmpdir();
    let fs = engine_mkfs(mb, features, bs);
    let p = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&p);
}

#[test]
fn mkfs_default_1k() {
    check(64, "", None);
}

#[test]
fn mkfs_4k() {
    check(64, "", Some(4096));
}

#[test]
fn mkfs_2k_inline() {
    check(32, "inline_data", Some(2048));
}

#[test]
fn mkfs_no_csum_no_64bit() {
    check(16, "^metadata_csum,^64bit,uninit_bg", None);
}

#[test]
fn mkfs_no_journal_no_flex() {
    check(8, "^has_journal,^flex_bg", Some(1024));
}

#[test]
#[ignore]
fn write_sample_image() {
    let fs = engine_mkfs(64, "", None);
    dump(fs, std::path::Path::new("/tmp"), "eng.img");
}

#[test]
fn mkfs_block_mapped_ext3_style() {
    // No extents: the journal is mapped with IND/DIND blocks.
    check(32, "^extent,^64bit", None);
    check(16, "^extent,^64bit,^metadata_csum", Some(4096));
}

/// Geometry, features and reserved GDT blocks match mkfs.ext4's for the same size.
#[test]
fn geometry_matches_mkfs_ext4() {
    use ext4lab::device::MemDevice;
    use ext4lab::engine::superblock::COMPAT_RESIZE_INODE;
    use ext4lab::engine::{mkfs, Ext4Fs, MkfsOptions};
    let d = tmpdir();
    for mb in [8u64, 64, 1024] {
        let p = mkfs_ext4(d.path(), "ref.img", mb, &[]);
        let mut theirs = Ext4Fs::open(
            ext4lab::device::FileDevice::open(&p, true).unwrap(),
            Default::default(),
        )
        .unwrap();
        let opts = MkfsOptions {
            assume_zeroed: true,
            ..Default::default()
        };
        let mut ours = mkfs(MemDevice::new(mb << 20), &opts).unwrap();
        let (a, b) = (&theirs.sb, &ours.sb);
        assert_eq!(a.blocks_count(), b.blocks_count(), "{mb} MiB");
        assert_eq!(a.s_log_block_size, b.s_log_block_size, "{mb} MiB");
        assert_eq!(a.s_inodes_count, b.s_inodes_count, "{mb} MiB");
        assert_eq!(a.s_inodes_per_group, b.s_inodes_per_group, "{mb} MiB");
        assert_eq!(a.r_blocks_count(), b.r_blocks_count(), "{mb} MiB");
        assert_eq!(a.s_desc_size, b.s_desc_size, "{mb} MiB");
        assert_eq!(a.s_inode_size, b.s_inode_size, "{mb} MiB");
        assert_eq!(a.s_log_groups_per_flex, b.s_log_groups_per_flex, "{mb} MiB");
        assert_eq!(a.s_feature_compat, b.s_feature_compat, "{mb} MiB");
        assert!(b.s_feature_compat & COMPAT_RESIZE_INODE != 0);
        assert_eq!(a.s_reserved_gdt_blocks, b.s_reserved_gdt_blocks, "{mb} MiB");
        // The same first blocks: bitmaps start after the reserved GDT blocks.
        assert_eq!(
            theirs.group_desc(0).unwrap().block_bitmap(a),
            ours.group_desc(0).unwrap().block_bitmap(b),
            "{mb} MiB"
        );
        assert_eq!(a.s_feature_incompat, b.s_feature_incompat, "{mb} MiB");
        assert_eq!(a.s_feature_ro_compat, b.s_feature_ro_compat, "{mb} MiB");
        let jt = theirs.ext4_iget(8).unwrap().size();
        let jo = ours.ext4_iget(8).unwrap().size();
        assert_eq!(jt, jo, "journal size, {mb} MiB");
        std::fs::remove_file(&p).unwrap();
    }
}
