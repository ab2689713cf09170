#![cfg(not(target_arch = "wasm32"))]
//! The engine's fsck: clean where e2fsck -fn is clean, and the right
//! structured finding (and e2fsck unclean) for each deliberate corruption.
mod engine_common;
use engine_common::*;
use ext4lab::device::{BlockDevice, MemDevice};
use ext4lab::engine::fsck::{fsck, Finding, FsckReport};
use ext4lab::engine::{CorruptKind, Ext4Error, Ext4Fs};
use std::path::{Path, PathBuf};

fn engine_fsck(p: &Path) -> FsckReport {
    fsck(load(p)).expect("fsck runs")
}

/// Both checkers agree that the image is (un)clean; returns ours.
fn both(p: &Path, want_clean: bool) -> FsckReport {
    let r = engine_fsck(p);
    let (ok, text) = e2fsck(p);
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

fn ino_of(p: &Path, path: &str) -> u32 {
    let mut fs = Ext4Fs::open(load(p), Default::default()).unwrap();
    fs.lookup(path).unwrap()
}

/// First data block of a file (through the engine's mapping).
fn first_block(p: &Path, path: &str) -> u64 {
    let mut fs = Ext4Fs::open(load(p), Default::default()).unwrap();
    let ino = fs.lookup(path).unwrap();
    fs.ext4_map_blocks(ino, 0, 1, Default::default())
        .unwrap()
        .m_pblk
        .unwrap()
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
        both(&p, true);
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

#[test]
fn block_marked_free_while_owned() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    let b = first_block(&p, "/f2");
    debugfs_w(&p, &format!("freeb {b}"));
    let r = both(&p, false);
    assert!(
        r.findings
            .contains(&Finding::BlockOwnedButFree { start: b, count: 1 }),
        "{:?}",
        r.findings
    );
}

#[test]
fn block_in_use_but_owned_by_nobody() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    let fs = Ext4Fs::open(load(&p), Default::default()).unwrap();
    let b = fs.sb.blocks_count() - 10;
    drop(fs);
    debugfs_w(&p, &format!("setb {b}"));
    let r = both(&p, false);
    assert!(
        r.findings
            .contains(&Finding::BlockInUseButUnowned { start: b, count: 1 }),
        "{:?}",
        r.findings
    );
}

#[test]
fn wrong_link_count() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    let ino = ino_of(&p, "/f1");
    debugfs_w(&p, "sif /f1 links_count 5");
    let r = both(&p, false);
    assert!(
        r.findings.contains(&Finding::BadLinkCount {
            ino,
            recorded: 5,
            counted: 1
        }),
        "{:?}",
        r.findings
    );
}

#[test]
fn bad_inode_checksum() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    let ino = ino_of(&p, "/f1");
    debugfs_w(&p, "sif /f1 checksum 0x1234");
    let r = both(&p, false);
    assert!(
        r.findings.contains(&Finding::InodeChecksum { ino }),
        "{:?}",
        r.findings
    );
}

#[test]
fn block_owned_twice() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    // Point /f1's extent root at /f2's blocks.
    let mut fs = Ext4Fs::open(load(&p), Default::default()).unwrap();
    let f1 = fs.lookup("/f1").unwrap();
    let f2 = fs.lookup("/f2").unwrap();
    let src = fs.ext4_iget(f2).unwrap();
    let mut dst = fs.ext4_iget(f1).unwrap();
    dst.i_block = src.i_block;
    fs.write_inode(f1, &dst).unwrap();
    let p = dump(fs, d.path(), "twice.img");
    let r = both(&p, false);
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::BlockOwnedTwice { .. })),
        "{:?}",
        r.findings
    );
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::BlockInUseButUnowned { .. })),
        "{:?}",
        r.findings
    );
}

#[test]
fn broken_directory_block() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    let b = first_block(&p, "/d");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[b as usize * 1024 + 30] ^= 0xff; // inside the entries: checksum no longer matches
    std::fs::write(&p, &bytes).unwrap();
    let r = both(&p, false);
    let dino = ino_of_lenient(&p);
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::BrokenDir { ino, .. } if *ino == dino)),
        "{:?}",
        r.findings
    );
}

fn ino_of_lenient(p: &Path) -> u32 {
    let mut fs = Ext4Fs::open(load(p), Default::default()).unwrap();
    fs.lookup_in(2, b"d").unwrap().unwrap()
}

#[test]
fn wrong_group_free_count() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    debugfs_w(&p, "set_bg 1 free_blocks_count 100");
    debugfs_w(&p, "set_bg 1 checksum calc");
    let r = both(&p, false);
    assert!(
        r.findings.iter().any(|f| matches!(
            f,
            Finding::WrongGroupFreeBlocks {
                group: 1,
                recorded: 100,
                ..
            }
        )),
        "{:?}",
        r.findings
    );
}

#[test]
fn superblock_totals_are_only_noted() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    debugfs_w(&p, "ssv free_blocks_count 100");
    let r = both(&p, true);
    assert!(r
        .findings
        .iter()
        .any(|f| matches!(f, Finding::WrongFreeBlocks { recorded: 100, .. })));
}

#[test]
fn bad_group_descriptor_checksum() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    debugfs_w(&p, "set_bg 1 itable_unused 7");
    // e2fsck -n reports it but exits 0 (the problem is "IGNORED"); so do we,
    // as a finding that is not an error. The kernel would refuse to mount.
    let r = both(&p, true);
    assert!(
        r.findings
            .contains(&Finding::GroupDescChecksum { group: 1 }),
        "{:?}",
        r.findings
    );
    // A normal open refuses it with a typed error.
    assert!(matches!(
        Ext4Fs::open(load(&p), Default::default()),
        Err(Ext4Error::Corrupt(CorruptKind::GroupDescChecksum {
            group: 1
        }))
    ));
}

#[test]
fn unreadable_images_are_typed_errors() {
    let mut dev = MemDevice::new(1 << 20);
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
    s.s_feature_incompat |= ext4lab::engine::superblock::INCOMPAT_ENCRYPT | 0x100_0000;
    dev2.write_at(1024, &s.to_bytes()).unwrap();
    match Ext4Fs::open(dev2, Default::default()) {
        Err(Ext4Error::UnsupportedFeatures { names, .. }) => assert_eq!(names, "encrypt,0x1000000"),
        other => panic!("expected UnsupportedFeatures, got {:?}", other.err()),
    }
    dev.write_at(0, &[0u8; 1024]).unwrap();
}

/// Random byte flips in the metadata of an image never panic the engine.
#[test]
fn corrupt_metadata_never_panics() {
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
    for _ in 0..200 {
        let mut img = clean.clone();
        for _ in 0..4 {
            // Metadata lives in the first ~700 blocks of this 1 KiB image.
            let at = (rnd() % (700 * 1024)) as usize;
            img[at] ^= (rnd() % 255 + 1) as u8;
        }
        let _ = fsck(MemDevice::from_bytes(&img));
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

#[test]
fn directory_hard_link_and_ea_inode_flag() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    debugfs_w(&p, "mkdir d/e");
    let e = ino_of(&p, "/d/e");
    debugfs_w(&p, "link /d/e /e2");
    let r = both(&p, false);
    assert!(
        r.findings.contains(&Finding::DirMultiplyLinked { ino: e }),
        "{:?}",
        r.findings
    );
    assert!(
        r.findings.contains(&Finding::WrongDotDot {
            ino: e,
            recorded: ino_of(&p, "/d"),
            expected: 2
        }),
        "{:?}",
        r.findings
    );
    // The flag S3's migrate must never leak: e2fsck -n lets it pass, we note it.
    let p2 = sample(d.path(), "");
    let f1 = ino_of(&p2, "/f1");
    debugfs_w(&p2, "sif /f1 flags 0x280000");
    let r = both(&p2, true);
    assert!(
        r.findings
            .contains(&Finding::UnexpectedEaInodeFlag { ino: f1 }),
        "{:?}",
        r.findings
    );
}

#[test]
fn broken_resize_inode() {
    let d = tmpdir();
    let p = sample(d.path(), "");
    // A primary reserved GDT block that no longer lists its backups.
    let fs = Ext4Fs::open(load(&p), Default::default()).unwrap();
    let desc = ext4lab::engine::balloc::gdt_blocks(&fs.sb);
    let pblk = fs.sb.s_first_data_block as u64 + 1 + desc + 3;
    drop(fs);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[pblk as usize * 1024] ^= 0x01;
    std::fs::write(&p, &bytes).unwrap();
    // e2fsck -n: "Resize inode not valid. Recreate? no", exit status 0.
    let r = both(&p, true);
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::ResizeInodeInvalid { .. })),
        "{:?}",
        r.findings
    );
    let (_, text) = e2fsck(&p);
    assert!(text.contains("Resize inode not valid"), "{text}");
}
