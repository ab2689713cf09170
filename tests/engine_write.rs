#![cfg(not(target_arch = "wasm32"))]
//! The engine writes (create, write, mkdir, unlink, rename, truncate,
//! inline data and its conversion); e2fsck -fn stays clean and debugfs
//! reads back the same bytes.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::engine::inode::{EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL};

fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 7 + salt as usize * 13 + i / 509) % 253) as u8)
        .collect()
}

fn basic_ops(features: &str, bs: Option<u32>) {
    let d = tmpdir();
    let mut fs = engine_mkfs(32, features, bs);
    let a = fs.create("/a", 0o644).unwrap();
    fs.write(a, 0, &pattern(100_000, 1)).unwrap();
    fs.mkdir("/dir", 0o755).unwrap();
    fs.mkdir("/dir/inner", 0o755).unwrap();
    let b = fs.create("/dir/b", 0o600).unwrap();
    fs.write(b, 0, b"hello world").unwrap();
    fs.write(b, 5000, b"tail").unwrap(); // a hole in between
    let c = fs.create("/c", 0o644).unwrap();
    fs.write(c, 0, &pattern(20_000, 2)).unwrap();
    fs.truncate(c, 7_777).unwrap();
    fs.rename("/dir/b", "/b2").unwrap();
    fs.rename("/dir/inner", "/inner").unwrap();
    fs.link("/a", "/dir/a-link").unwrap();
    fs.symlink("/a", "/sym").unwrap();
    fs.symlink(&"y".repeat(100), "/longsym").unwrap();
    let gone = fs.create("/gone", 0o644).unwrap();
    fs.write(gone, 0, &pattern(50_000, 3)).unwrap();
    fs.unlink("/gone").unwrap();
    fs.mkdir("/rmme", 0o755).unwrap();
    fs.rmdir("/rmme").unwrap();
    for i in 0..120 {
        // Enough names to grow directories past one block.
        let f = fs
            .create(&format!("/dir/file-with-a-longish-name-{i:03}"), 0o644)
            .unwrap();
        fs.write(f, 0, format!("file {i}").as_bytes()).unwrap();
    }
    for i in (0..120).step_by(3) {
        fs.unlink(&format!("/dir/file-with-a-longish-name-{i:03}"))
            .unwrap();
    }
    let img = dump(fs, d.path(), "img");
    if std::env::var("KEEP_IMG").is_ok() {
        std::fs::copy(&img, "/tmp/ops.img").unwrap();
    }
    assert_e2fsck_clean(&img);
    assert_eq!(debugfs_cat(&img, "/a"), pattern(100_000, 1));
    assert_eq!(debugfs_cat(&img, "/dir/a-link"), pattern(100_000, 1));
    let mut want_b = b"hello world".to_vec();
    want_b.resize(5000, 0);
    want_b.extend_from_slice(b"tail");
    let mut fs = ext4lab::engine::Ext4Fs::open(load(&img), Default::default()).unwrap();
    let b2 = fs.lookup("/b2").unwrap();
    assert_eq!(fs.read_all(b2).unwrap(), want_b);
    if !fs.ext4_iget(b2).unwrap().has_flag(EXT4_INLINE_DATA_FL) {
        assert_eq!(debugfs_cat(&img, "/b2"), want_b);
    }
    assert_eq!(debugfs_cat(&img, "/c"), pattern(7_777, 2));
    let sym = fs.lookup("/sym").unwrap();
    assert_eq!(fs.readlink(sym).unwrap(), b"/a");
    let names = debugfs_names(&img, "/");
    assert_eq!(
        names,
        vec![
            "a",
            "b2",
            "c",
            "dir",
            "inner",
            "longsym",
            "lost+found",
            "sym"
        ]
    );
    assert_eq!(debugfs_names(&img, "/dir").len(), 1 + 80);
    assert_eq!(
        debugfs_cat(&img, "/dir/file-with-a-longish-name-119"),
        b"file 119"
    );
}

#[test]
fn ops_default_1k() {
    basic_ops("", None);
}

#[test]
fn ops_4k() {
    basic_ops("", Some(4096));
}

#[test]
fn ops_inline_data() {
    basic_ops("inline_data", Some(1024));
}

#[test]
fn ops_block_mapped() {
    basic_ops("^extent,^64bit", None);
}

#[test]
fn ops_no_csum_32bit() {
    basic_ops("^metadata_csum,^64bit,uninit_bg", None);
}

#[test]
fn inline_grow_and_convert() {
    let d = tmpdir();
    let mut fs = engine_mkfs(16, "inline_data", Some(4096));
    let f = fs.create("/f", 0o644).unwrap();
    fs.write(f, 0, &[b'A'; 40]).unwrap();
    let i = fs.ext4_iget(f).unwrap();
    assert!(i.has_flag(EXT4_INLINE_DATA_FL));
    assert_eq!(i.size(), 40);
    // Grows into the system.data xattr, still inline.
    fs.write(f, 40, &[b'B'; 60]).unwrap();
    assert!(fs.ext4_iget(f).unwrap().has_flag(EXT4_INLINE_DATA_FL));
    // No longer fits: converted to an extent-mapped file.
    fs.write(f, 100, &[b'C'; 400]).unwrap();
    let i = fs.ext4_iget(f).unwrap();
    assert!(!i.has_flag(EXT4_INLINE_DATA_FL));
    assert!(i.has_flag(EXT4_EXTENTS_FL));
    let mut want = vec![b'A'; 40];
    want.extend([b'B'; 60]);
    want.extend([b'C'; 400]);
    assert_eq!(fs.read_all(f).unwrap(), want);
    // An inline directory that overflows is converted to a block directory.
    fs.mkdir("/d", 0o755).unwrap();
    let dino = fs.lookup("/d").unwrap();
    assert!(fs.ext4_iget(dino).unwrap().has_flag(EXT4_INLINE_DATA_FL));
    for k in 0..30 {
        fs.create(&format!("/d/entry{k}"), 0o644).unwrap();
    }
    assert!(!fs.ext4_iget(dino).unwrap().has_flag(EXT4_INLINE_DATA_FL));
    fs.unlink("/d/entry3").unwrap();
    let img = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&img);
    assert_eq!(debugfs_cat(&img, "/f"), want);
    assert_eq!(debugfs_names(&img, "/d").len(), 29);
}

#[test]
fn truncate_fallocate_punch() {
    let d = tmpdir();
    let mut fs = engine_mkfs(16, "", Some(1024));
    let f = fs.create("/f", 0o644).unwrap();
    fs.write(f, 0, &pattern(64 * 1024, 5)).unwrap();
    fs.punch_hole(f, 1000, 10_000).unwrap();
    fs.fallocate(f, 200 * 1024, 50 * 1024, false).unwrap();
    fs.write(f, 210 * 1024 + 3, b"in the middle of unwritten")
        .unwrap();
    fs.truncate(f, 230 * 1024).unwrap();
    let mut want = pattern(64 * 1024, 5);
    want[1000..11_000].fill(0);
    want.resize(230 * 1024, 0);
    want[210 * 1024 + 3..210 * 1024 + 3 + 26].copy_from_slice(b"in the middle of unwritten");
    assert_eq!(fs.read_all(f).unwrap(), want);
    let img = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&img);
    assert_eq!(debugfs_cat(&img, "/f"), want);
}

/// A long write reaches the device as one write per contiguous run of
/// whole blocks plus one per partial edge block (not one per 4 KiB block),
/// and the result is what e2fsck and debugfs expect.
#[test]
fn sequential_write_is_one_device_write_per_run() {
    let d = tmpdir();
    let img = mkfs_ext4(d.path(), "img", 32, &["-b", "4096"]);
    let dev = ext4lab::device::CountingDevice::new(load(&img));
    let mut fs = ext4lab::engine::Ext4Fs::open(dev, Default::default()).unwrap();
    let ino = fs.create("/seq", 0o644).unwrap();
    fs.sync().unwrap();
    // 2 MiB + 100 bytes from offset 2048: a partial head block, 511 whole
    // blocks, a partial tail block; then 1 MiB appended at the block edge.
    let data = pattern((2 << 20) + 100, 9);
    fs.device().reset();
    fs.write(ino, 2048, &data).unwrap();
    let c = fs.device().counts;
    let inode = fs.ext4_iget(ino).unwrap();
    let extents = fs.walk_mapping(ino, &inode).unwrap().data.len() as u64;
    assert!(extents >= 1);
    assert!(
        c.writes <= 2 + extents,
        "head + one per run + tail, got {c:?} for {extents} extent(s)"
    );
    assert_eq!(c.bytes_written, 513 * 4096, "{c:?}");
    let more = pattern(1 << 20, 10);
    let at = 2048 + data.len() as u64;
    fs.write(ino, at, &more).unwrap();
    fs.sync().unwrap();
    let mem = fs.into_device().inner;
    let out = d.path().join("out");
    std::fs::write(&out, mem.to_bytes()).unwrap();
    assert_e2fsck_clean(&out);
    let mut want = vec![0u8; 2048];
    want.extend_from_slice(&data);
    want.extend_from_slice(&more);
    assert_eq!(debugfs_cat(&out, "/seq"), want);
}
