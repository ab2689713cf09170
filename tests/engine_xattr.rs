#![cfg(not(target_arch = "wasm32"))]
//! Extended attributes in the inode and in an external block, read back
//! by debugfs and checked by e2fsck -fn (entry hashes, block checksum).
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::engine::Ext4Fs;

#[test]
fn xattrs_in_inode_and_block() {
    let d = tmpdir();
    let mut fs = engine_mkfs(16, "", Some(1024));
    let f = fs.create("/f", 0o644).unwrap();
    fs.set_xattr(f, "user.small", Some(b"value-1")).unwrap();
    fs.set_xattr(f, "trusted.t", Some(b"tt")).unwrap();
    // Too big for the inode: goes to an external block.
    let big = vec![b'z'; 300];
    fs.set_xattr(f, "user.big", Some(&big)).unwrap();
    assert_ne!(fs.ext4_iget(f).unwrap().file_acl(), 0);
    assert_eq!(fs.get_xattr(f, "user.big").unwrap(), Some(big.clone()));
    fs.set_xattr(f, "user.small", Some(b"value-2")).unwrap();
    let g = fs.create("/g", 0o644).unwrap();
    fs.set_xattr(g, "user.gone", Some(&[1u8; 400])).unwrap();
    fs.set_xattr(g, "user.gone", None).unwrap();
    assert_eq!(
        fs.ext4_iget(g).unwrap().file_acl(),
        0,
        "empty block released"
    );
    assert!(fs.set_xattr(g, "user.never", None).is_err());
    assert!(fs.set_xattr(g, "bogus.prefix", Some(b"x")).is_err());
    let img = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&img);
    let list = String::from_utf8_lossy(&debugfs(&img, "ea_list /f")).into_owned();
    assert!(list.contains("user.small (7) = \"value-2\""), "{list}");
    assert!(list.contains("trusted.t (2) = \"tt\""), "{list}");
    assert!(list.contains("user.big (300)"), "{list}");
    // debugfs-written attributes read back by the engine.
    debugfs_w(&img, "ea_set /g user.fromdebugfs hello");
    let mut fs = Ext4Fs::open(load(&img), Default::default()).unwrap();
    let g = fs.lookup("/g").unwrap();
    assert_eq!(
        fs.get_xattr(g, "user.fromdebugfs").unwrap(),
        Some(b"hello".to_vec())
    );
    let f = fs.lookup("/f").unwrap();
    let names: Vec<String> = fs
        .list_xattrs(f)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // Deleting the file frees its attribute block too.
    fs.unlink("/f").unwrap();
    let img2 = dump(fs, d.path(), "img2");
    assert_e2fsck_clean(&img2);
}

#[test]
fn inline_data_coexists_with_user_xattrs() {
    let d = tmpdir();
    let mut fs = engine_mkfs(16, "inline_data", Some(4096));
    let f = fs.create("/f", 0o644).unwrap();
    fs.set_xattr(f, "user.a", Some(b"12345678")).unwrap();
    fs.write(f, 0, &[b'q'; 80]).unwrap();
    assert!(fs
        .ext4_iget(f)
        .unwrap()
        .has_flag(ext4lab::engine::inode::EXT4_INLINE_DATA_FL));
    fs.write(f, 80, &[b'r'; 200]).unwrap(); // no longer fits: converted
    assert_eq!(
        fs.get_xattr(f, "user.a").unwrap(),
        Some(b"12345678".to_vec())
    );
    let img = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&img);
    let mut want = vec![b'q'; 80];
    want.extend([b'r'; 200]);
    assert_eq!(debugfs_cat(&img, "/f"), want);
}
