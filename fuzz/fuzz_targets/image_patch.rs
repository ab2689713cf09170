//! Fuzz the engine's parsers on a valid image with fuzzer-chosen byte
//! patches in its metadata area: open, fsck, path lookups, reads and a few
//! writes must return errors, never panic or hang.
#![no_main]

use ext4lab::device::MemDevice;
use ext4lab::engine::fsck::fsck;
use ext4lab::engine::{mkfs, Ext4Fs, MkfsOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A small image with files, a directory, a symlink and inline data.
fn seed_image() -> &'static Vec<u8> {
    static IMG: OnceLock<Vec<u8>> = OnceLock::new();
    IMG.get_or_init(|| {
        let mut o = MkfsOptions { block_size: Some(1024), assume_zeroed: true, ..Default::default() };
        o.apply_features("inline_data").expect("features");
        let mut fs = mkfs(MemDevice::new(2 << 20), &o).expect("mkfs");
        let a = fs.create("/a", 0o644).expect("create");
        fs.write(a, 0, &[7u8; 5000]).expect("write");
        let b = fs.create("/b", 0o644).expect("create");
        fs.write(b, 0, b"inline bytes").expect("write");
        fs.mkdir("/d", 0o755).expect("mkdir");
        for i in 0..40 {
            fs.create(&format!("/d/name-{i}"), 0o644).expect("create");
        }
        fs.symlink("/a", "/s").expect("symlink");
        fs.sync().expect("sync");
        fs.into_device().to_bytes()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut img = seed_image().clone();
    // Each 3-byte record patches one byte in the first 256 KiB.
    for rec in data.chunks_exact(3) {
        let off = (u16::from_le_bytes([rec[0], rec[1]]) as usize) * 4 % img.len();
        img[off] = rec[2];
    }
    let _ = fsck(MemDevice::from_bytes(&img));
    if let Ok(mut fs) = Ext4Fs::open(MemDevice::from_bytes(&img), Default::default()) {
        for p in ["/a", "/b", "/d/name-7", "/s/x", "/d"] {
            if let Ok(ino) = fs.lookup(p) {
                let _ = fs.read(ino, 0, &mut [0u8; 65536]);
                let _ = fs.dir_entries(ino);
                let _ = fs.list_xattrs(ino);
            }
        }
        let _ = fs.create("/n", 0o644).and_then(|i| fs.write(i, 0, &[1u8; 3000]));
        let _ = fs.rename("/a", "/d/a");
        let _ = fs.unlink("/b");
        let _ = fs.truncate(2, 0);
        let _ = fs.sync();
    }
});
