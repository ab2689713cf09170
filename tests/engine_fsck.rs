#![cfg(not(target_arch = "wasm32"))]
//! The engine's fsck on images the engine made: clean where e2fsck -fn is
//! clean; unreadable images are typed errors; the system zone keeps a
//! damaged mapping from spreading. The corruption classes themselves are
//! the corpus (tests/fsck_corpus.rs) and the random flips
//! (tests/fsck_random.rs).
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::device::{BlockDevice, MemDevice};
use ext4lab::engine::fsck::{fsck, FsckReport};
use ext4lab::engine::{CorruptKind, Ext4Error, Ext4Fs};
use std::path::{Path, PathBuf};

fn engine_fsck(p: &Path) -> FsckReport {
    fsck(load(p)).expect("fsck runs")
}

/// Both checkers agree that the image is (un)clean; returns ours.
fn both(p: &Path, want_clean: bool) -> FsckReport {
    let r = engine_fsck(p);
    let (ok, text) = e2fsck_fn(p);
    assert_eq!(
        ok, want_clean,
        "e2fsck -fn clean={ok}, expected {want_clean}:\n{text}"
    );
    assert_eq!(
        r.is_clean(),
        want_clean,
        "engine fsck findings {:#?}\ne2fsck:\n{text}",
        r.findings
    );
    r
}

/// An image made by the engine with some files, and its path.
fn sample(dir: &Path, features: &str) -> PathBuf {
    let mut fs = engine_mkfs(16, features, Some(1024));
    for (i, len) in [10usize, 3000, 40_000].iter().enumerate() {
        let ino = fs.create(&format!("/f{i}"), 0o644).unwrap();
        fs.write(ino, 0, &vec![b'a' + i as u8; *len]).unwrap();
    }
    fs.mkdir("/d", 0o755).unwrap();
    fs.create("/d/x", 0o644).unwrap();
    fs.symlink("/f0", "/s").unwrap();
    dump(fs, dir, "img")
}

#[test]
fn clean_images_are_clean() {
    let d = tmpdir();
    for f in [
        "",
        "inline_data",
        "^metadata_csum,^64bit,uninit_bg",
        "^has_journal,^flex_bg",
    ] {
        let p = sample(d.path(), f);
        let r = both(&p, true);
        assert!(r.findings.is_empty(), "{f:?}: {:?}", r.findings);
    }
    // mkfs.ext4 images (resize_inode, BLOCK_UNINIT groups) populated by debugfs.
    for args in [
        &[][..],
        &["-O", "inline_data"][..],
        &["-O", "^extent,^64bit", "-I", "128"][..],
        &["-b", "4096"][..],
    ] {
        let p = mkfs_ext4(d.path(), "m.img", 32, args);
        let host = d.path().join("data");
        std::fs::write(&host, vec![7u8; 50_000]).unwrap();
        debugfs_w(&p, &format!("write {} file", host.display()));
        debugfs_w(&p, "mkdir dd");
        debugfs_w(&p, "symlink sl /file");
        let r = both(&p, true);
        assert!(r.findings.is_empty(), "{args:?}: {:?}", r.findings);
    }
}

/// A block of /f1 also mapped by /f2 (engine-made image): both the
/// duplicate and the leaked block are found.
#[test]
fn block_owned_twice_on_an_engine_image() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    let mut fs = Ext4Fs::open(load(&p), Default::default()).unwrap();
    let f1 = fs.lookup("/f1").unwrap();
    let f2 = fs.lookup("/f2").unwrap();
    let src = fs.ext4_iget(f2).unwrap();
    let mut dst = fs.ext4_iget(f1).unwrap();
    dst.i_block = src.i_block;
    fs.write_inode(f1, &dst).unwrap();
    let p = dump(fs, d.path(), "twice.img");
    let r = both(&p, false);
    for code in ["PR_1B_DUP_BLOCK", "PR_5_BLOCK_UNUSED"] {
        assert!(
            r.findings.iter().any(|f| f.problem() == code),
            "{code}: {:?}",
            r.findings
        );
    }
}

#[test]
fn unreadable_images_are_typed_errors() {
    assert!(matches!(
        fsck(MemDevice::new(1 << 20)),
        Err(Ext4Error::Corrupt(CorruptKind::SuperblockMagic {
            magic: 0
        }))
    ));
    // Unknown INCOMPAT feature bits are refused by name.
    let fs = engine_mkfs(8, "", None);
    let mut dev2 = fs.into_device();
    let mut sb = [0u8; 1024];
    dev2.read_at(1024, &mut sb).unwrap();
    let mut s = ext4lab::engine::superblock::Ext4SuperBlock::decode(&sb);
    s.s_feature_incompat |= ext4lab::engine::superblock::INCOMPAT_COMPRESSION | 0x100_0000;
    dev2.write_at(1024, &s.to_bytes()).unwrap();
    match Ext4Fs::open(dev2, Default::default()) {
        Err(Ext4Error::UnsupportedFeatures { names, .. }) => {
            assert_eq!(names, "compression,0x1000000")
        }
        other => panic!("expected UnsupportedFeatures, got {:?}", other.err()),
    }
}

/// An extent pointing into the inode table: writes through it and frees of
/// it are refused (the system zone), so corruption does not spread.
#[test]
fn system_zone_protects_metadata() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    let mut fs = Ext4Fs::open(load(&p), Default::default()).unwrap();
    let f1 = fs.lookup("/f1").unwrap();
    let table = fs.group_desc(0).unwrap().inode_table(&fs.sb);
    assert!(fs.in_system_zone(table, 1));
    assert!(!fs.in_system_zone(fs.sb.blocks_count() - 1, 1));
    let mut inode = fs.ext4_iget(f1).unwrap();
    // Depth-0 extent root: first extent's start_lo at i_block[20..24].
    inode.i_block[20..24].copy_from_slice(&(table as u32).to_le_bytes());
    inode.i_block[18..20].copy_from_slice(&0u16.to_le_bytes());
    fs.write_inode(f1, &inode).unwrap();
    let before = fs.read_inode_raw(2).unwrap();
    assert!(matches!(
        fs.write(f1, 0, &[0xffu8; 1024]),
        Err(Ext4Error::Corrupt(_))
    ));
    assert!(fs.unlink("/f1").is_err());
    assert_eq!(
        fs.read_inode_raw(2).unwrap(),
        before,
        "the root inode was not overwritten"
    );
}

/// Random byte flips in the metadata never panic the engine's other
/// paths either (reads, writes, sync on whatever opens).
#[test]
fn corrupt_metadata_never_panics_the_engine() {
    let d = tmpdir();
    let p = sample(d.path(), "inline_data");
    let clean = std::fs::read(&p).unwrap();
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut rnd = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..100 {
        let mut img = clean.clone();
        for _ in 0..4 {
            let at = (rnd() % (700 * 1024)) as usize;
            img[at] ^= (rnd() % 255 + 1) as u8;
        }
        if let Ok(mut fs) = Ext4Fs::open(MemDevice::from_bytes(&img), Default::default()) {
            for path in ["/f0", "/f1", "/f2", "/d/x", "/s"] {
                if let Ok(ino) = fs.lookup(path) {
                    let _ = fs.read(ino, 0, &mut [0u8; 65536]);
                }
            }
            let _ = fs
                .create("/new", 0o644)
                .and_then(|i| fs.write(i, 0, &[1u8; 5000]));
            let _ = fs.unlink("/f1");
            let _ = fs.mkdir("/d/y", 0o755);
            let _ = fs.sync();
        }
    }
}
