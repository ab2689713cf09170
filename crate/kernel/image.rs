//! A scenario's starting image, built once with the engine's own mkfs from
//! the recipe (files with holes, indirect maps, inline data, unwritten
//! runs, and deleted files whose freed blocks keep their bytes), then
//! snapshotted; every explored execution restores the snapshot.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::device::mem::{MemDevice, SnapshotId};
use crate::engine::error::Ext4Error;
use crate::engine::fs::{Ext4Fs, OpenOptions};
use crate::engine::inode::{EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL};
use crate::engine::mkfs::{mkfs, MkfsOptions};
use crate::engine::superblock::COMPAT_HAS_JOURNAL;
use crate::scenario::{Layout, Scenario, SegmentData};

use super::provenance::DataLog;
use super::state::SimDisk;

/// Provenance origin of the bytes of the recipe's deleted file number N
/// (`DELETED_ORIGIN_BASE + N`): never an inode number.
pub const DELETED_ORIGIN_BASE: u32 = 0x8000_0000;

/// The built image and what the oracles know about it.
pub struct ScenarioImage {
    pub dev: Rc<RefCell<MemDevice>>,
    pub snap: SnapshotId,
    /// Live files: name -> inode number.
    pub files: BTreeMap<String, u32>,
    /// Every file's inode number -> name (deleted ones too).
    pub ino_names: BTreeMap<u32, String>,
    /// Provenance of the blocks as built.
    pub base_log: DataLog,
}

fn feature_list(sc: &Scenario) -> String {
    sc.image.features.join(",")
}

/// Build `sc`'s image (engine mkfs + the recipe's files) and snapshot it.
pub fn build_image(sc: &Scenario) -> Result<ScenarioImage, Ext4Error> {
    let img = &sc.image;
    let bs = img.block_size;
    let dev = MemDevice::new(img.blocks_count * bs as u64);
    let mut opts = MkfsOptions {
        block_size: Some(bs),
        inode_size: img.inode_size,
        journal_blocks: img.journal_blocks,
        assume_zeroed: true,
        ..MkfsOptions::default()
    };
    opts.apply_features(&feature_list(sc))?;
    if !img.journal {
        opts.feature_compat &= !COMPAT_HAS_JOURNAL;
    }
    let fs = mkfs(dev, &opts)?;
    populate(fs, sc)
}

/// Create the recipe's files (and delete the deleted ones) on `fs`, sync,
/// and snapshot the device: the part of [`build_image`] after mkfs, shared
/// with [`super::base_image::build_image_on`] (a stored image as the base).
pub fn populate(mut fs: Ext4Fs<MemDevice>, sc: &Scenario) -> Result<ScenarioImage, Ext4Error> {
    let img = &sc.image;
    let bs = fs.block_size();
    let mut files = BTreeMap::new();
    let mut ino_names = BTreeMap::new();
    let mut log = DataLog::default();
    let mut deleted = Vec::new();
    for (fi, f) in img.files.iter().enumerate() {
        let path = format!("/{}", f.name);
        let ino = fs.create(&path, 0o644)?;
        // A deleted file's inode number is reused by the next file created:
        // its bytes get an origin of their own.
        let origin = if f.deleted {
            DELETED_ORIGIN_BASE + fi as u32
        } else {
            ino
        };
        ino_names.insert(origin, f.name.clone());
        let mut inode = fs.ext4_iget(ino)?;
        match f.layout {
            Layout::Inline => {}
            Layout::Extents | Layout::Indirect => {
                if inode.has_flag(EXT4_INLINE_DATA_FL) {
                    fs.ext4_convert_inline_data(ino)?;
                    inode = fs.ext4_iget(ino)?;
                }
                if f.layout == Layout::Indirect {
                    inode.i_flags &= !EXT4_EXTENTS_FL;
                    inode.i_block = [0; 60];
                    fs.write_inode(ino, &inode)?;
                }
            }
        }
        for seg in f.segments() {
            match &seg.data {
                SegmentData::Bytes { pattern } => {
                    let mut buf = vec![0u8; seg.len as usize];
                    pattern.fill(0, &mut buf);
                    fs.write(ino, seg.offset, &buf)?;
                }
                SegmentData::Unwritten => fs.fallocate(ino, seg.offset, seg.len, true)?,
            }
        }
        if let Some(size) = f.size {
            let cur = fs.ext4_iget(ino)?.size();
            if size != cur {
                fs.truncate(ino, size)?;
            }
        }
        if f.journal_data {
            // chattr +j once the file is written.
            let mut inode = fs.ext4_iget(ino)?;
            inode.i_flags |= crate::engine::inode::EXT4_JOURNAL_DATA_FL;
            fs.write_inode(ino, &inode)?;
        }
        let inode = fs.ext4_iget(ino)?;
        if !inode.has_flag(EXT4_INLINE_DATA_FL) {
            let own = fs.walk_mapping(ino, &inode)?;
            for e in own.data {
                for b in e.pblk..e.pblk + e.ee_len as u64 {
                    log.set_block_prov(b, vec![origin; bs as usize]);
                }
            }
        }
        if f.deleted {
            fs.unlink(&path)?;
            deleted.push(ino);
        } else {
            files.insert(f.name.clone(), ino);
        }
    }
    fs.sync()?;
    let dev = Rc::new(RefCell::new(fs.into_device()));
    let snap = dev.borrow_mut().snapshot();
    Ok(ScenarioImage {
        dev,
        snap,
        files,
        ino_names,
        base_log: log,
    })
}

impl ScenarioImage {
    /// Restore the snapshot and mount the image for one execution.
    pub fn mount(&self) -> Result<Ext4Fs<SimDisk>, Ext4Error> {
        self.dev
            .borrow_mut()
            .restore(&self.snap)
            .map_err(|e| Ext4Error::Invalid(e.to_string()))?;
        Ext4Fs::open(SimDisk(self.dev.clone()), OpenOptions::default())
    }
}
