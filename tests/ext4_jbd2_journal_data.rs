#![cfg(not(target_arch = "wasm32"))]
//! Journalled data (`Ext4Fs::ext4_journal_data_block`, what the kernel
//! model's `write_end_fn` calls for an inode that journals its data): the
//! bytes join the running transaction, reads see them at once, the device
//! holds nothing new until the commit, and a crash keeps them exactly when
//! the commit made it to the log.

#[path = "common/ext4_jbd2.rs"]
mod ext4_jbd2_util;

use ext4_jbd2_util::fresh;
use ext4lab::engine::journal::crash::{CrashDevice, VecDevice};
use ext4lab::engine::map::MapFlags;
use ext4lab::engine::{DataMode, Ext4Fs, MountOptions};

type Fs = Ext4Fs<CrashDevice<VecDevice>>;

fn mount(dev: CrashDevice<VecDevice>) -> Fs {
    let opts = MountOptions {
        data: Some(DataMode::Ordered),
        ..Default::default()
    };
    Ext4Fs::ext4_mount(dev, &opts).unwrap().0
}

/// `/f` with one block of `A`, committed; its inode and block.
fn file(fs: &mut Fs) -> (u32, u64) {
    let ino = fs
        .ext4_journalled(None, 32, |fs| fs.create("/f", 0o644))
        .unwrap();
    fs.ext4_file_write(ino, 0, &[b'A'; 4096]).unwrap();
    fs.ext4_sync_file(ino).unwrap();
    let pblk = fs
        .ext4_map_blocks(ino, 0, 1, MapFlags::empty())
        .unwrap()
        .m_pblk
        .expect("mapped");
    (ino, pblk)
}

/// What a mount after a crash now (the device's completed writes) reads.
fn after_crash(fs: &mut Fs, ino: u32) -> Vec<u8> {
    let img = fs.device().final_image();
    let mut again = mount(CrashDevice::new(VecDevice::new(img)).unwrap());
    let mut buf = vec![0u8; 4096];
    again.read(ino, 0, &mut buf).unwrap();
    buf
}

#[test]
fn journalled_data_is_read_at_once_and_durable_only_after_the_commit() {
    let mut fs = mount(fresh(4096, ""));
    let (ino, pblk) = file(&mut fs);
    fs.ext4_journal_data_block(pblk, &[b'B'; 4096]).unwrap();
    assert_eq!(
        fs.ext4_journal().unwrap().stats.journalled_data_blocks,
        1,
        "counted as journalled data"
    );
    // Reads see the new bytes; a crash before the commit keeps the old.
    let mut buf = vec![0u8; 4096];
    fs.read(ino, 0, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == b'B'));
    assert!(after_crash(&mut fs, ino).iter().all(|&b| b == b'A'));
    // Committed: a crash now replays the logged copy.
    fs.ext4_sync_fs().unwrap();
    assert!(after_crash(&mut fs, ino).iter().all(|&b| b == b'B'));
}

#[test]
fn a_journalled_data_block_must_be_a_whole_data_block() {
    let mut fs = mount(fresh(4096, ""));
    let (_, pblk) = file(&mut fs);
    assert!(fs.ext4_journal_data_block(pblk, &[b'B'; 100]).is_err());
    // Block 1 holds group descriptors: never data.
    assert!(fs.ext4_journal_data_block(1, &[b'B'; 4096]).is_err());
}
