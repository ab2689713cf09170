#![cfg(not(target_arch = "wasm32"))]
//! The engine reads images made by mkfs.ext4 and populated by debugfs, and
//! agrees with debugfs on names, contents and symlink targets.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::engine::inode::EXT4_INLINE_DATA_FL;
use std::path::Path;

/// Deterministic file contents.
fn content(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + salt as usize * 7 + i / 253) % 251) as u8)
        .collect()
}

const FILES: &[(&str, usize, u8)] = &[
    ("tiny", 30, 1),
    ("small", 5000, 2),
    ("big", 300 * 1024, 3),
    ("empty", 0, 4),
];

fn populate(img: &Path, host: &Path) {
    for (name, len, salt) in FILES {
        let hp = host.join(name);
        std::fs::write(&hp, content(*len, *salt)).unwrap();
        debugfs_w(img, &format!("write {} {}", hp.display(), name));
    }
    debugfs_w(img, "mkdir sub");
    let hp = host.join("nested");
    std::fs::write(&hp, content(70_000, 9)).unwrap();
    debugfs_w(img, &format!("write {} sub/nested", hp.display()));
    debugfs_w(img, "symlink fastlink /sub/nested");
    let long = format!("/{}", "x".repeat(120));
    debugfs_w(img, &format!("symlink slowlink {long}"));
    for i in 0..40 {
        debugfs_w(img, &format!("mkdir sub/d{i:02}"));
    }
}

fn check_image(args: &[&str]) {
    let d = tmpdir();
    let img = mkfs_ext4(d.path(), "img", 32, args);
    populate(&img, d.path());
    assert_e2fsck_clean(&img);
    let mut fs = open_file(&img);
    // Root listing equals debugfs's.
    let mut names: Vec<String> = fs
        .dir_entries(2)
        .unwrap()
        .into_iter()
        .map(|e| String::from_utf8_lossy(&e.entry.name).into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    names.sort();
    assert_eq!(
        names,
        debugfs_names(&img, "/"),
        "root listing, mkfs args {args:?}"
    );
    let sub_ino = fs.lookup("/sub").unwrap();
    let mut sub: Vec<String> = fs
        .dir_entries(sub_ino)
        .unwrap()
        .into_iter()
        .map(|e| String::from_utf8_lossy(&e.entry.name).into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    sub.sort();
    assert_eq!(sub, debugfs_names(&img, "/sub"));
    assert_eq!(sub.len(), 41);
    for (name, len, salt) in FILES {
        let ino = fs.lookup(&format!("/{name}")).unwrap();
        let data = fs.read_all(ino).unwrap();
        assert_eq!(data.len(), *len, "{name} size with {args:?}");
        assert!(
            data == content(*len, *salt),
            "{name} contents with {args:?}"
        );
        let inline = fs.ext4_iget(ino).unwrap().has_flag(EXT4_INLINE_DATA_FL);
        if !inline {
            // (debugfs `cat` prints all 60 bytes of i_block for inline files.)
            assert_eq!(
                data,
                debugfs(&img, &format!("cat /{name}")),
                "{name} vs debugfs cat"
            );
        }
    }
    let ino = fs.lookup("/sub/nested").unwrap();
    assert_eq!(fs.read_all(ino).unwrap(), content(70_000, 9));
    let fl = fs.lookup("/fastlink").unwrap();
    assert_eq!(fs.readlink(fl).unwrap(), b"/sub/nested");
    let sl = fs.lookup("/slowlink").unwrap();
    assert_eq!(
        fs.readlink(sl).unwrap(),
        format!("/{}", "x".repeat(120)).as_bytes()
    );
    // Partial reads at odd offsets agree with the whole.
    let big = fs.lookup("/big").unwrap();
    let mut buf = vec![0u8; 10_000];
    let n = fs.read(big, 123_457, &mut buf).unwrap();
    assert_eq!(n, 10_000);
    assert_eq!(buf, content(300 * 1024, 3)[123_457..133_457]);
    if args.contains(&"inline_data") {
        let tiny = fs.lookup("/tiny").unwrap();
        assert!(
            fs.ext4_iget(tiny).unwrap().has_flag(EXT4_INLINE_DATA_FL),
            "debugfs stores tiny files inline"
        );
    }
}

#[test]
fn read_default_features() {
    check_image(&[]);
}

#[test]
fn read_4k_blocks() {
    check_image(&["-b", "4096"]);
}

#[test]
fn read_inline_data() {
    check_image(&["-O", "inline_data"]);
}

#[test]
fn read_no_metadata_csum() {
    check_image(&["-O", "^metadata_csum"]);
}

#[test]
fn read_no_64bit() {
    check_image(&["-O", "^64bit"]);
}

#[test]
fn read_128_byte_inodes() {
    check_image(&["-I", "128"]);
}

#[test]
fn read_indirect_block_maps() {
    check_image(&["-O", "^extent,^64bit"]);
}

#[test]
fn block_cache_avoids_rereading_metadata() {
    let d = tmpdir();
    let img = mkfs_ext4(d.path(), "img", 16, &[]);
    populate(&img, d.path());
    let dev = ext4lab::device::CountingDevice::new(load(&img));
    let mut fs = ext4lab::engine::Ext4Fs::open(dev, Default::default()).unwrap();
    let ino = fs.lookup("/big").unwrap();
    fs.read_all(ino).unwrap();
    fs.lookup("/sub/nested").unwrap();
    let first = fs.device().counts;
    fs.device().reset();
    fs.read_all(ino).unwrap();
    fs.lookup("/sub/nested").unwrap();
    let second = fs.device().counts;
    // The second pass reads only data blocks: 300 KiB of 1 KiB blocks, no metadata.
    assert_eq!(
        second.bytes_read,
        300 * 1024,
        "first pass {first:?}, second {second:?}"
    );
    assert!(first.reads > second.reads);
    assert!(fs.cache_stats().hits > 0);
}
