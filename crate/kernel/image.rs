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
    /// The superblock has COMPAT_HAS_JOURNAL.
    journal: bool,
    /// The image as last mounted, see [`ScenarioImage::mount_with`].
    mounted: RefCell<Option<Mounted>>,
    /// The end-of-run fsck's answers for the disks runs left
    /// ([`super::fsck_memo`]): every run starts from `snap`.
    pub fsck_memo: super::fsck_memo::FsckMemo,
}

/// A mount kept for the next executions: the device snapshot taken right
/// after it and the filesystem as the mount left it, for the mount options
/// `key` names.
struct Mounted {
    key: MountKey,
    snap: SnapshotId,
    fs: Ext4Fs<SimDisk>,
}

/// What a mount of the image depends on besides the image: the
/// parameters of the journalled mount ([`super::jbd2::mount_params`]), or
/// `None` for the plain open of an image without a journal.
pub type MountKey = Option<super::jbd2::MountParams>;

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
    let journal = fs.sb.has_compat(COMPAT_HAS_JOURNAL);
    let dev = Rc::new(RefCell::new(fs.into_device()));
    let snap = dev.borrow_mut().snapshot();
    Ok(ScenarioImage {
        dev,
        snap,
        files,
        ino_names,
        base_log: log,
        journal,
        mounted: RefCell::new(None),
        fsck_memo: Default::default(),
    })
}

impl ScenarioImage {
    /// Restore the snapshot and mount the image for one execution.
    pub fn mount(&self) -> Result<Ext4Fs<SimDisk>, Ext4Error> {
        self.restore_built()?;
        Ext4Fs::open(SimDisk(self.dev.clone()), OpenOptions::default())
    }

    /// The image as built, mounted by `mount` for one execution, without
    /// mounting it again each time: the first call (and any call with
    /// another `key`) restores the built image, mounts it, snapshots the
    /// device and keeps a copy of the mounted filesystem
    /// ([`Ext4Fs::clone_mounted`]); the next ones restore that snapshot and
    /// copy the kept filesystem. Mounting is deterministic (the same bytes
    /// and options give the same in-memory state and the same device
    /// writes), so an execution cannot tell the copy from a mount. A mount
    /// that fails is not kept (each execution fails the same way).
    pub fn mount_with(
        &self,
        key: MountKey,
        mount: impl FnOnce(SimDisk) -> Result<Ext4Fs<SimDisk>, Ext4Error>,
    ) -> Result<Ext4Fs<SimDisk>, Ext4Error> {
        let mut kept = self.mounted.borrow_mut();
        if let Some(m) = kept.as_ref().filter(|m| m.key == key) {
            // A restore of the built image (`mount`) drops the snapshot:
            // then mount again.
            if self.dev.borrow_mut().restore(&m.snap).is_ok() {
                if let Some(fs) = m.fs.clone_mounted() {
                    return Ok(fs);
                }
            }
        }
        *kept = None;
        self.restore_built()?;
        let fs = mount(SimDisk(self.dev.clone()))?;
        if let Some(copy) = fs.clone_mounted() {
            let snap = self.dev.borrow_mut().snapshot();
            *kept = Some(Mounted {
                key,
                snap,
                fs: copy,
            });
        }
        Ok(fs)
    }

    fn restore_built(&self) -> Result<(), Ext4Error> {
        self.dev
            .borrow_mut()
            .restore(&self.snap)
            .map_err(|e| Ext4Error::Invalid(e.to_string()))
    }

    /// Whether the built image has a journal (`mount_with` needs to know
    /// before it mounts).
    pub fn has_journal(&self) -> bool {
        self.journal
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::engine::mount_opts::{DataMode, MountOptions};
    use crate::scenario::{builtin, parse_scenario};

    fn image(journal: bool) -> ScenarioImage {
        let mut sc = parse_scenario(builtin("s5").expect("s5").text).expect("parses");
        sc.image.journal = journal;
        build_image(&sc).expect("builds")
    }

    /// The kept mount gives each execution the state a mount gives: the
    /// device as the mount left it (whatever the last execution wrote) and
    /// the same in-memory filesystem; it mounts again after a restore of
    /// the built image or for other options.
    #[test]
    fn each_execution_starts_from_what_a_mount_leaves() {
        for journal in [true, false] {
            let img = image(journal);
            let mounts = Cell::new(0);
            let mount = |dev: SimDisk| {
                mounts.set(mounts.get() + 1);
                if journal {
                    let opts = MountOptions {
                        data: Some(DataMode::Ordered),
                        ..MountOptions::default()
                    };
                    Ext4Fs::ext4_mount(dev, &opts).map(|(fs, _)| fs)
                } else {
                    Ext4Fs::open(dev, OpenOptions::default())
                }
            };
            let key = journal.then_some(crate::kernel::jbd2::MountParams {
                data_mode: DataMode::Ordered,
                defer_data_frees: true,
            });
            let ino = img.files["f"];
            let mut fs = img.mount_with(key, mount).expect("mounts");
            let mounted = img.dev.borrow().to_bytes();
            let sb = format!("{:?}", fs.sb);
            let mut before = vec![0u8; 4096];
            fs.read(ino, 0, &mut before).expect("reads");
            // An execution writes, and its metadata and data reach the disk.
            fs.write(ino, 0, &[0x5a; 4096]).expect("writes");
            fs.sync().expect("syncs");
            assert_ne!(
                img.dev.borrow().to_bytes(),
                mounted,
                "the write reached the device"
            );
            for round in 0..2 {
                let mut fs = img.mount_with(key, mount).expect("mounts");
                assert_eq!(
                    mounts.get(),
                    1,
                    "journal {journal} round {round}: kept, not mounted"
                );
                assert!(
                    img.dev.borrow().to_bytes() == mounted,
                    "journal {journal}: device restored"
                );
                assert_eq!(format!("{:?}", fs.sb), sb);
                assert_eq!(fs.is_journalled(), journal);
                let mut now = vec![0u8; 4096];
                fs.read(ino, 0, &mut now).expect("reads");
                assert_eq!(now, before);
                fs.write(ino, 0, &[0xa5; 4096]).expect("writes");
                fs.sync().expect("syncs");
            }
            // `mount` restores the image as built: the kept snapshot is gone.
            drop(img.mount().expect("opens"));
            img.mount_with(key, mount).expect("mounts");
            assert_eq!(
                mounts.get(),
                2,
                "mounted again after a restore of the built image"
            );
            if journal {
                img.mount_with(
                    Some(crate::kernel::jbd2::MountParams {
                        data_mode: DataMode::Writeback,
                        defer_data_frees: true,
                    }),
                    mount,
                )
                .expect("mounts");
                assert_eq!(mounts.get(), 3, "other options: mounted again");
            }
        }
    }
}
