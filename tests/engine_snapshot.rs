#![cfg(not(target_arch = "wasm32"))]
//! The simulator's reset loop: snapshot the memory device under a mounted
//! filesystem, run an execution, restore, reload; each restore costs only
//! the chunks that execution dirtied.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;

#[test]
fn snapshot_restore_reload() {
    let mut fs = engine_mkfs(32, "inline_data", Some(4096));
    let f = fs.create("/f", 0o644).unwrap();
    fs.write(f, 0, b"before").unwrap();
    fs.sync().unwrap();
    let snap = fs.device().snapshot();
    for round in 0..3u8 {
        fs.write(f, 0, &vec![round; 100_000]).unwrap();
        let g = fs.create(&format!("/g{round}"), 0o644).unwrap();
        fs.write(g, 0, &[1u8; 20_000]).unwrap();
        fs.sync().unwrap();
        assert!(fs.ext4_fsck().unwrap().is_clean());
        let dirty = fs.device().dirty_chunks();
        fs.device().restore(&snap).unwrap();
        assert_eq!(fs.device().stats().last_restore_chunks as usize, dirty);
        assert!(
            dirty < 64,
            "an execution touching ~30 blocks dirtied {dirty} chunks"
        );
        fs.ext4_reload().unwrap();
        assert_eq!(fs.read_all(f).unwrap(), b"before");
        assert!(fs.lookup(&format!("/g{round}")).is_err());
        let r = fs.ext4_fsck().unwrap();
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }
    // Unsynced changes vanish on reload (a crash drops the cache).
    fs.write(f, 0, b"lost").unwrap();
    fs.create("/never", 0o644).unwrap();
    fs.ext4_reload().unwrap();
    assert!(fs.lookup("/never").is_err());
}

/// The journal seam: every metadata change, the superblock and group
/// descriptors included, shows up as a dirty buffer before write-back.
#[test]
fn dirty_buffers_cover_every_metadata_change() {
    use ext4lab::engine::inode::Timespec;
    use ext4lab::engine::namei::SetAttr;
    let mut fs = engine_mkfs(16, "", Some(1024));
    fs.sync().unwrap();
    assert!(fs.dirty_buffers().is_empty());
    let f = fs.create("/f", 0o644).unwrap();
    fs.write(f, 0, &[5u8; 3000]).unwrap();
    let t = Timespec {
        sec: 1_800_000_000,
        nsec: 42,
    };
    fs.setattr(
        f,
        &SetAttr {
            mode: Some(0o600),
            uid: Some(70_000),
            mtime: Some(t),
            ..Default::default()
        },
    )
    .unwrap();
    fs.ext4_prepare_sync().unwrap();
    let dirty: Vec<u64> = fs.dirty_buffers().into_iter().map(|(b, _)| b).collect();
    let bitmap = fs.group_desc(0).unwrap().block_bitmap(&fs.sb);
    assert!(dirty.contains(&1), "superblock buffer: {dirty:?}");
    assert!(dirty.contains(&2), "descriptor table: {dirty:?}");
    assert!(dirty.contains(&bitmap), "block bitmap: {dirty:?}");
    // Nothing reached the device yet: a fresh mount does not see /f.
    let copy = ext4lab::device::MemDevice::from_bytes(&fs.device().to_bytes());
    let mut other = ext4lab::engine::Ext4Fs::open(copy, Default::default()).unwrap();
    assert!(other.lookup("/f").is_err());
    fs.sync().unwrap();
    let i = fs.ext4_iget(f).unwrap();
    assert_eq!(i.i_mode & 0o7777, 0o600);
    assert_eq!((i.i_uid as u32) | ((i.l_i_uid_high as u32) << 16), 70_000);
    assert_eq!(i.mtime(), t);
    let d = tmpdir();
    let img = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&img);
}
