#![cfg(not(target_arch = "wasm32"))]
//! The engine's mkfs against e2fsck -fn and dumpe2fs.
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
