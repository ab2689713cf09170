#![cfg(not(target_arch = "wasm32"))]
//! The engine's errors are typed: corruption names the structure, the inode
//! or block and the reason as an enum; path, link and mkfs refusals are
//! their own `Ext4Error` variants, not `Invalid(String)`. Each case makes
//! the condition happen and matches the variant with its fields.

use ext4lab::device::{BlockDevice, MemDevice};
use ext4lab::engine::mkfs::{mkfs, MkfsOptions};
use ext4lab::engine::{
    dirops::EntryLoc, BitmapCorruption, CorruptKind, DirCorruption, Ext4Error, Ext4Fs, MkfsError,
};

fn fresh(features: &str) -> Ext4Fs<MemDevice> {
    let mut o = MkfsOptions {
        block_size: Some(1024),
        assume_zeroed: true,
        ..Default::default()
    };
    o.apply_features(features).unwrap();
    mkfs(MemDevice::new(8 << 20), &o).unwrap()
}

#[test]
fn mkfs_refusals_are_typed() {
    let small = mkfs(MemDevice::new(512 << 10), &MkfsOptions::default()).err();
    assert_eq!(
        small,
        Some(Ext4Error::Mkfs(MkfsError::DeviceTooSmall {
            bytes: 512 << 10
        }))
    );
    let o = MkfsOptions {
        block_size: Some(3000),
        ..Default::default()
    };
    assert_eq!(
        mkfs(MemDevice::new(8 << 20), &o).err(),
        Some(Ext4Error::Mkfs(MkfsError::BlockSize { block_size: 3000 }))
    );
    let mut o = MkfsOptions::default();
    assert_eq!(
        o.apply_features("extent,no_such_feature").err(),
        Some(Ext4Error::Mkfs(MkfsError::UnknownFeature {
            name: "no_such_feature".into()
        }))
    );
}

#[test]
fn path_and_link_refusals_are_typed() {
    let mut fs = fresh("^inline_data");
    let f = fs.create("/f", 0o644).unwrap();
    assert_eq!(fs.readlink(f).err(), Some(Ext4Error::NotSymlink { ino: f }));
    assert_eq!(
        fs.create("/d/..", 0o644).err(),
        Some(Ext4Error::BadName {
            path: "/d/..".into()
        })
    );
    fs.mkdir("/d", 0o755).unwrap();
    fs.mkdir("/d/e", 0o755).unwrap();
    assert_eq!(
        fs.rename("/d", "/d/e/x").err(),
        Some(Ext4Error::MoveIntoItself { path: "/d".into() })
    );
    // Each link's target goes through the other as a directory.
    fs.symlink("/b/y", "/a").unwrap();
    fs.symlink("/a/y", "/b").unwrap();
    assert!(matches!(
        fs.lookup("/a/x"),
        Err(Ext4Error::SymlinkLoop { .. })
    ));
}

/// A directory block whose first entry's `rec_len` is not a multiple of
/// 4: the error names the directory, the physical block and the field.
#[test]
fn a_corrupt_dirent_names_directory_block_and_field() {
    let mut fs = fresh("^inline_data,^metadata_csum");
    let d = fs.mkdir("/d", 0o755).unwrap();
    let pblk = fs
        .dir_entries(d)
        .unwrap()
        .iter()
        .find_map(|e| match e.loc {
            EntryLoc::Block { pblk, .. } => Some(pblk),
            _ => None,
        })
        .expect("a block directory");
    fs.sync().unwrap();
    let mut dev = fs.into_device();
    let bs = 1024u64;
    // The first entry (".") has rec_len 12; make it 13.
    let mut block = vec![0u8; bs as usize];
    dev.read_at(pblk * bs, &mut block).unwrap();
    block[4..6].copy_from_slice(&13u16.to_le_bytes());
    dev.write_at(pblk * bs, &block).unwrap();
    let mut fs = Ext4Fs::open(dev, Default::default()).unwrap();
    match fs.dir_entries(d) {
        Err(Ext4Error::Corrupt(CorruptKind::Dir { ino, block, why })) => {
            assert_eq!(ino, d);
            assert_eq!(block, pblk);
            assert_eq!(
                why,
                DirCorruption::RecLen {
                    rec_len: 13,
                    offset: 0
                }
            );
        }
        other => panic!("expected a typed Dir corruption, got {other:?}"),
    }
}

/// Freeing a block the bitmap already shows free is a typed bitmap
/// corruption naming the group and block.
#[test]
fn freeing_a_free_block_is_a_typed_bitmap_error() {
    let mut fs = fresh("^inline_data");
    // The last block of the 8 MiB filesystem is free after mkfs.
    let last = (8u64 << 20) / 1024 - 1;
    match fs.ext4_free_blocks(last, 1) {
        Err(Ext4Error::Corrupt(CorruptKind::Bitmap { block, why, .. })) => {
            assert_eq!(block, last);
            assert_eq!(why, BitmapCorruption::FreeingFreeBlock);
        }
        other => panic!("expected a typed Bitmap corruption, got {other:?}"),
    }
}
