//! `Ext4Fs`: an opened filesystem (the kernel's `ext4_sb_info` plus the
//! block cache): mount checks, group descriptors, metadata block I/O through
//! the journal seam, inode table access (`ext4_iget`, `ext4_write_inode`)
//! and `sync`.

use super::cache::{BufferCache, CacheStats};
use super::error::{BlockMapCorruption, CorruptKind, Ext4Error, InodeCorruption, Result};
use super::group_desc::{Ext4GroupDesc, EXT4_BG_BLOCK_UNINIT, EXT4_BG_INODE_UNINIT};
use super::inode::{
    ext4_inode_csum_set, ext4_inode_csum_verify, Ext4Inode, Timespec, EXT4_GOOD_OLD_INODE_SIZE,
};
use super::superblock::{Ext4SuperBlock, INCOMPAT_RECOVER, SUPERBLOCK_OFFSET};
use crate::device::BlockDevice;
use std::collections::BTreeSet;

/// How to open a filesystem.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Refuse every modification.
    pub read_only: bool,
    /// fsck mode: a bad superblock or group descriptor checksum is recorded
    /// (see `Ext4Fs::checksum_errors`) instead of refusing to open, group
    /// descriptors naming blocks outside the filesystem are kept for the
    /// checker to judge, and the filesystem is read-only.
    pub fsck: bool,
    /// Use the backup superblock at (block, block size) and the descriptor
    /// table after it, like `e2fsck -b` (read-only). As libext2fs does for
    /// a backup, the groups' UNINIT flags and `bg_itable_unused` are
    /// cleared in memory (backups are not kept current).
    pub backup: Option<(u64, u32)>,
}

/// Why the filesystem is read-only, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ReadOnlyReason {
    Requested,
    /// Unknown RO_COMPAT features.
    RoCompatFeatures(u32),
    /// A feature the engine reads but cannot write
    /// (`Ext4SuperBlock::unsupported_for_write`).
    Unsupported(&'static str),
    /// INCOMPAT_RECOVER: the journal must be replayed first.
    NeedsRecovery,
}

/// An opened ext4 filesystem on device `D`.
pub struct Ext4Fs<D: BlockDevice> {
    pub(crate) dev: D,
    pub sb: Ext4SuperBlock,
    pub(crate) groups: Vec<Ext4GroupDesc>,
    pub(crate) cache: BufferCache,
    pub(crate) read_only: Option<ReadOnlyReason>,
    pub(crate) sb_dirty: bool,
    pub(crate) gd_dirty: BTreeSet<u32>,
    /// The simulated clock used for timestamps (deterministic).
    pub now: Timespec,
    pub(crate) next_generation: u32,
    /// Metadata blocks handed to `ext4_handle_dirty_metadata` since the last
    /// sync, in order (the journal will take these into transactions).
    pub(crate) dirtied: Vec<u64>,
    /// fsck mode: whether the superblock checksum was bad, and which group
    /// descriptors had bad checksums.
    pub(crate) sb_csum_bad: bool,
    pub(crate) gd_csum_bad: Vec<u32>,
    pub(crate) fsck_mode: bool,
    /// The block of the superblock in use when it is a backup.
    pub(crate) backup_sb: Option<u64>,
    /// `s_system_blks`: sorted (start, len) runs of filesystem metadata
    /// (superblocks, descriptor tables, bitmaps, inode tables).
    pub(crate) system_zones: Vec<(u64, u64)>,
    /// jbd2glue: the journal (`sbi->s_journal`), attached by
    /// `Ext4Fs::ext4_mount` (crate/engine/ext4_jbd2.rs).
    pub(crate) s_journal: Option<Box<super::ext4_jbd2::Ext4Journal>>,
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// Mount: read and check the superblock and group descriptors.
    ///
    /// Unknown INCOMPAT features are refused (`UnsupportedFeatures`);
    /// unknown RO_COMPAT features, or a journal needing recovery, open the
    /// filesystem read-only (writes fail with `ReadOnly`).
    pub fn open(mut dev: D, opts: OpenOptions) -> Result<Self> {
        let mut raw = [0u8; 1024];
        let at = match opts.backup {
            Some((blk, bs)) => blk.saturating_mul(u64::from(bs)),
            None => SUPERBLOCK_OFFSET,
        };
        if dev.size() < at.saturating_add(1024) {
            return Err(CorruptKind::Truncated {
                block: at / 1024,
                blocks: dev.size() / 1024,
            }
            .into());
        }
        dev.read_at(at, &mut raw)?;
        let (sb, sb_csum_bad) = match Ext4SuperBlock::parse(&raw) {
            Err(Ext4Error::Corrupt(CorruptKind::SuperblockChecksum)) if opts.fsck => {
                (Ext4SuperBlock::parse_unchecked_csum(&raw)?, true)
            }
            r => (r?, false),
        };
        if let Some((_, bs)) = opts.backup {
            if sb.block_size() != bs {
                return Err(CorruptKind::SuperblockField {
                    field: "s_log_block_size",
                    value: u64::from(sb.s_log_block_size),
                }
                .into());
            }
        }
        let ro_compat_unknown = sb.check_features()?;
        let bs = sb.block_size() as u64;
        let dev_blocks = dev.size() / bs;
        if sb.blocks_count() > dev_blocks {
            return Err(CorruptKind::Truncated {
                block: sb.blocks_count() - 1,
                blocks: dev_blocks,
            }
            .into());
        }
        let read_only = if opts.read_only || opts.fsck || opts.backup.is_some() {
            Some(ReadOnlyReason::Requested)
        } else if sb.has_incompat(INCOMPAT_RECOVER) {
            Some(ReadOnlyReason::NeedsRecovery)
        } else {
            write_refusal(&sb, ro_compat_unknown)
        };
        let next_generation = super::csum::ext4_chksum(0x5eed, &sb.s_uuid) ^ sb.s_wtime;
        let mut fs = Ext4Fs {
            dev,
            sb,
            groups: Vec::new(),
            cache: BufferCache::new(65536),
            read_only,
            sb_dirty: false,
            gd_dirty: BTreeSet::new(),
            now: Timespec {
                sec: i64::from(sb_time(&raw)),
                nsec: 0,
            },
            next_generation,
            dirtied: Vec::new(),
            sb_csum_bad,
            gd_csum_bad: Vec::new(),
            fsck_mode: opts.fsck,
            backup_sb: opts.backup.map(|(b, _)| b),
            system_zones: Vec::new(),
            s_journal: None,
        };
        fs.load_group_descs()?;
        Ok(fs)
    }

    fn load_group_descs(&mut self) -> Result<()> {
        let ngroups = self.sb.groups_count();
        let ds = self.sb.desc_size();
        let bs = self.block_size() as usize;
        let per_block = bs / ds;
        let first = match self.backup_sb {
            Some(b) => b + 1,
            None => super::balloc::gdt_first_block(&self.sb),
        };
        let mut groups = Vec::with_capacity(ngroups as usize);
        let mut blk = Vec::new();
        for g in 0..ngroups {
            let idx = g as usize % per_block;
            if idx == 0 {
                blk = self.bread(first + (g as usize / per_block) as u64)?;
            }
            let raw = &blk[idx * ds..(idx + 1) * ds];
            if !Ext4GroupDesc::verify(&self.sb, g, raw) {
                if !self.fsck_mode {
                    return Err(CorruptKind::GroupDescChecksum { group: g }.into());
                }
                self.gd_csum_bad.push(g);
            }
            let mut d = Ext4GroupDesc::decode(raw);
            let blocks = self.sb.blocks_count();
            for (what, b) in [
                ("bg_block_bitmap", d.block_bitmap(&self.sb)),
                ("bg_inode_bitmap", d.inode_bitmap(&self.sb)),
                ("bg_inode_table", d.inode_table(&self.sb)),
            ] {
                if (b == 0 || b >= blocks) && !self.fsck_mode {
                    return Err(CorruptKind::SuperblockField {
                        field: what,
                        value: b,
                    }
                    .into());
                }
            }
            if self.backup_sb.is_some() && self.sb.has_group_desc_csum() {
                d.bg_flags &= !(EXT4_BG_BLOCK_UNINIT | EXT4_BG_INODE_UNINIT);
                d.set_itable_unused(&self.sb, 0);
                self.gd_csum_bad.retain(|&x| x != g);
            }
            groups.push(d);
        }
        self.groups = groups;
        self.setup_system_zone();
        Ok(())
    }

    /// `ext4_setup_system_zone`: collect the metadata runs.
    fn setup_system_zone(&mut self) {
        let sb = &self.sb;
        let bs = self.block_size() as u64;
        let itb = (sb.s_inodes_per_group as u64 * sb.inode_size() as u64).div_ceil(bs);
        let mut z = Vec::new();
        if sb.s_first_data_block == 1 {
            z.push((0, 1));
        }
        for (g, d) in self.groups.iter().enumerate() {
            let over = super::balloc::group_sb_overhead(sb, g as u32) as u64;
            if over > 0 {
                z.push((super::balloc::group_first_block(sb, g as u32), over));
            }
            z.push((d.block_bitmap(sb), 1));
            z.push((d.inode_bitmap(sb), 1));
            z.push((d.inode_table(sb), itb));
        }
        z.sort_unstable();
        // Merge overlapping runs so the ends are sorted too.
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(z.len());
        for (s, l) in z {
            match merged.last_mut() {
                Some((ps, pl)) if s <= ps.saturating_add(*pl) => {
                    let end = s.saturating_add(l).max(ps.saturating_add(*pl));
                    *pl = end - *ps;
                }
                _ => merged.push((s, l)),
            }
        }
        self.system_zones = merged;
    }

    /// `ext4_inode_block_valid`'s test: whether `start..start+count`
    /// overlaps filesystem metadata.
    pub fn in_system_zone(&self, start: u64, count: u64) -> bool {
        let end = start.saturating_add(count);
        let i = self.system_zones.partition_point(|&(s, _)| s < end);
        i > 0 && {
            let (s, l) = self.system_zones[i - 1];
            s.saturating_add(l) > start
        }
    }

    /// Forget everything volatile (cached blocks, dirty ones included, as
    /// a crash does) and re-read the superblock and group descriptors from
    /// the device. Call after restoring a device snapshot.
    pub fn ext4_reload(&mut self) -> Result<()> {
        let mut raw = [0u8; 1024];
        self.dev.read_at(SUPERBLOCK_OFFSET, &mut raw)?;
        self.sb = if self.fsck_mode {
            Ext4SuperBlock::parse_unchecked_csum(&raw)?
        } else {
            Ext4SuperBlock::parse(&raw)?
        };
        self.cache = BufferCache::new(self.cache.capacity);
        self.gd_dirty.clear();
        self.sb_dirty = false;
        self.dirtied.clear();
        self.gd_csum_bad.clear();
        self.load_group_descs()
    }

    /// Give the device back (after `sync` if the changes should persist).
    pub fn into_device(self) -> D {
        self.dev
    }

    /// A second handle on the same mounted state: every in-memory structure
    /// (superblock, descriptors, buffer cache, journal) copied, the device
    /// cloned (for a shared device such as the simulator's, the same one).
    /// `None` while a journal handle is open: a `handle_t` is never
    /// duplicated. The scenario runner mounts an image once and starts each
    /// execution from such a copy (crate/kernel/image.rs).
    pub fn clone_mounted(&self) -> Option<Self>
    where
        D: Clone,
    {
        let s_journal = match &self.s_journal {
            Some(j) => Some(Box::new(j.clone_idle()?)),
            None => None,
        };
        Some(Ext4Fs {
            dev: self.dev.clone(),
            sb: self.sb.clone(),
            groups: self.groups.clone(),
            cache: self.cache.clone(),
            read_only: self.read_only,
            sb_dirty: self.sb_dirty,
            gd_dirty: self.gd_dirty.clone(),
            now: self.now,
            next_generation: self.next_generation,
            dirtied: self.dirtied.clone(),
            sb_csum_bad: self.sb_csum_bad,
            gd_csum_bad: self.gd_csum_bad.clone(),
            fsck_mode: self.fsck_mode,
            backup_sb: self.backup_sb,
            system_zones: self.system_zones.clone(),
            s_journal,
        })
    }

    pub fn device(&mut self) -> &mut D {
        &mut self.dev
    }

    pub fn block_size(&self) -> u32 {
        self.sb.block_size()
    }

    pub fn groups_count(&self) -> u32 {
        self.groups.len() as u32
    }

    pub fn group_desc(&self, group: u32) -> Option<&Ext4GroupDesc> {
        self.groups.get(group as usize)
    }

    /// fsck mode: (superblock checksum bad, groups with bad descriptor checksums).
    pub fn checksum_errors(&self) -> (bool, &[u32]) {
        (self.sb_csum_bad, &self.gd_csum_bad)
    }

    pub fn read_only_reason(&self) -> Option<ReadOnlyReason> {
        self.read_only
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats
    }

    /// `check_writable`, then refuse changing the data or entries of a
    /// verity or encrypted inode ([`check_inode_writable`]).
    pub(crate) fn check_inode_write(&mut self, ino: u32) -> Result<()> {
        self.check_writable()?;
        if self.sb.has_ro_compat(super::superblock::RO_COMPAT_VERITY)
            || self.sb.has_incompat(super::superblock::INCOMPAT_ENCRYPT)
        {
            check_inode_writable(&self.ext4_iget(ino)?)?;
        }
        Ok(())
    }

    /// Fail with a typed error when writes are not allowed.
    pub(crate) fn check_writable(&self) -> Result<()> {
        match self.read_only {
            None => Ok(()),
            Some(ReadOnlyReason::NeedsRecovery) => Err(Ext4Error::NeedsRecovery),
            Some(ReadOnlyReason::Unsupported(feature)) => Err(Ext4Error::Unsupported { feature }),
            Some(_) => Err(Ext4Error::ReadOnly),
        }
    }

    fn check_block(&self, blk: u64) -> Result<()> {
        if blk >= self.sb.blocks_count() {
            return Err(CorruptKind::Truncated {
                block: blk,
                blocks: self.sb.blocks_count(),
            }
            .into());
        }
        Ok(())
    }

    /// `sb_bread`: a metadata block through the cache (a copy).
    pub fn bread(&mut self, blk: u64) -> Result<Vec<u8>> {
        self.bread_with(blk, <[u8]>::to_vec)
    }

    /// `f` applied to block `blk` through the cache, as [`Ext4Fs::bread`]
    /// reads it, without copying the block (`read_inode_raw` reads 256
    /// bytes of a 4 KiB inode table block on nearly every inode access). A
    /// block not cached yet is read from the device and cached clean.
    pub fn bread_with<R>(&mut self, blk: u64, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        self.check_block(blk)?;
        if let Some(b) = self.cache.get(blk) {
            return Ok(f(&b.data));
        }
        let bs = self.block_size() as usize;
        let mut data = vec![0u8; bs];
        self.dev.read_at(blk * bs as u64, &mut data)?;
        let r = f(&data);
        self.cache.insert_clean(blk, data);
        Ok(r)
    }

    /// `ext4_handle_dirty_metadata`: the one place every metadata block
    /// modification passes. Today it stores the block in the cache as dirty
    /// (written by `sync`); the journal routes these into transactions.
    pub fn ext4_handle_dirty_metadata(&mut self, blk: u64, data: Vec<u8>) -> Result<()> {
        self.check_writable()?;
        self.check_block(blk)?;
        if data.len() != self.block_size() as usize {
            return Err(Ext4Error::Invalid(format!(
                "metadata block {blk}: buffer of {} bytes",
                data.len()
            )));
        }
        if self.s_journal.is_some() {
            // jbd2glue: into the running transaction.
            return self.ext4_jbd2_dirty_metadata(blk, data);
        }
        self.cache.insert_dirty(blk, data);
        self.dirtied.push(blk);
        Ok(())
    }

    /// Read a data block straight from the device (not cached).
    pub fn read_data_block(&mut self, pblk: u64, buf: &mut [u8]) -> Result<()> {
        self.check_block(pblk)?;
        let bs = self.block_size() as u64;
        if let Some(d) = self.ext4_jbd2_pending_data(pblk) {
            // jbd2glue: dirty data not yet written.
            let n = buf.len().min(d.len());
            buf[..n].copy_from_slice(&d[..n]);
            return Ok(());
        }
        if let Some(b) = self.cache.blocks.get(&pblk) {
            let n = buf.len().min(b.data.len());
            buf[..n].copy_from_slice(&b.data[..n]);
            return Ok(());
        }
        Ok(self.dev.read_at(pblk * bs, buf)?)
    }

    /// A data block may be written at `pblk`: the filesystem is writable,
    /// the block exists and is not filesystem metadata (`why` names the
    /// write in the error).
    pub(crate) fn check_data_write(&self, pblk: u64, why: BlockMapCorruption) -> Result<()> {
        self.check_writable()?;
        self.check_block(pblk)?;
        if self.in_system_zone(pblk, 1) {
            return Err(CorruptKind::BlockMap {
                ino: 0,
                block: pblk,
                why,
            }
            .into());
        }
        Ok(())
    }

    /// Write a data block straight to the device (ordered data: the caller
    /// writes data before the metadata that points at it is synced).
    pub fn write_data_block(&mut self, pblk: u64, data: &[u8]) -> Result<()> {
        self.check_data_write(pblk, BlockMapCorruption::DataIntoMetadata)?;
        if self.s_journal.is_some() {
            // jbd2glue: by data mode (journalled, or dirty until written).
            return self.ext4_jbd2_write_data(pblk, data);
        }
        self.cache.forget(pblk);
        let bs = self.block_size() as u64;
        Ok(self.dev.write_at(pblk * bs, data)?)
    }

    /// Write a run of whole data blocks `pblk..pblk + data.len() / bs`
    /// (physically contiguous; `data.len()` a multiple of the block size):
    /// one device write for the whole run when the data goes straight to
    /// the device (no journal), so a device that pays per call (OPFS) pays
    /// once per run, not once per block. Through the journal each block
    /// takes [`Ext4Fs::write_data_block`]'s path as before (data=journal
    /// logs it, data=ordered keeps it dirty until the commit writes it
    /// before the commit block).
    pub fn write_data_blocks(&mut self, pblk: u64, data: &[u8]) -> Result<()> {
        let bs = self.block_size() as usize;
        if data.is_empty() || data.len() % bs != 0 {
            return Err(Ext4Error::Invalid(format!(
                "data run at block {pblk}: {} bytes is not whole blocks",
                data.len()
            )));
        }
        let count = (data.len() / bs) as u64;
        if self.s_journal.is_some() {
            for (i, block) in data.chunks_exact(bs).enumerate() {
                self.write_data_block(pblk + i as u64, block)?;
            }
            return Ok(());
        }
        self.check_writable()?;
        let last = pblk.checked_add(count - 1).ok_or(CorruptKind::Truncated {
            block: pblk,
            blocks: self.sb.blocks_count(),
        })?;
        self.check_block(last)?;
        if self.in_system_zone(pblk, count) {
            return Err(CorruptKind::BlockMap {
                ino: 0,
                block: pblk,
                why: BlockMapCorruption::DataRunIntoMetadata { count },
            }
            .into());
        }
        self.cache.forget_range(pblk, count);
        Ok(self.dev.write_at(pblk * bs as u64, data)?)
    }

    /// Blocks dirtied through the journal seam since the last sync.
    pub fn dirtied_since_sync(&self) -> &[u64] {
        &self.dirtied
    }

    /// Mark the superblock for write-back.
    pub(crate) fn mark_sb_dirty(&mut self) {
        self.sb_dirty = true;
    }

    pub(crate) fn mark_gd_dirty(&mut self, group: u32) {
        self.gd_dirty.insert(group);
    }

    /// Write the primary descriptor table blocks holding the dirty groups.
    pub(crate) fn flush_group_descs(&mut self) -> Result<()> {
        let ds = self.sb.desc_size();
        let bs = self.block_size() as usize;
        let per_block = (bs / ds) as u32;
        let first = super::balloc::gdt_first_block(&self.sb);
        let dirty: BTreeSet<u32> = std::mem::take(&mut self.gd_dirty)
            .into_iter()
            .map(|g| g / per_block)
            .collect();
        for b in dirty {
            let blk = first + b as u64;
            let mut data = self.bread(blk)?;
            for i in 0..per_block {
                let g = b * per_block + i;
                let Some(d) = self.groups.get(g as usize) else {
                    break;
                };
                let raw = d.to_bytes(&self.sb, g);
                let off = i as usize * ds;
                data[off..off + ds].copy_from_slice(&raw);
            }
            self.ext4_handle_dirty_metadata(blk, data)?;
        }
        Ok(())
    }

    /// Put the in-memory superblock into its buffer (block 1 of a 1 KiB
    /// filesystem, bytes 1024..2048 of block 0 otherwise) through the
    /// journal seam, like the kernel journals `sbi->s_sbh`.
    pub fn ext4_superblock_to_buffer(&mut self) -> Result<()> {
        let bs = self.block_size() as u64;
        let blk = SUPERBLOCK_OFFSET / bs;
        let off = (SUPERBLOCK_OFFSET % bs) as usize;
        let mut data = self.bread(blk)?;
        data[off..off + 1024].copy_from_slice(&self.sb.to_bytes());
        self.sb_dirty = false;
        self.ext4_handle_dirty_metadata(blk, data)
    }

    /// Descriptors and superblock into their buffers (through the seam).
    pub fn ext4_prepare_sync(&mut self) -> Result<()> {
        self.flush_group_descs()?;
        if self.sb_dirty {
            self.ext4_superblock_to_buffer()?;
        }
        Ok(())
    }

    /// Every dirty metadata buffer, in block order, with its contents: what
    /// a journal commit writes to the log before `mark_buffers_clean` +
    /// checkpoint. Call `ext4_prepare_sync` first.
    pub fn dirty_buffers(&self) -> Vec<(u64, Vec<u8>)> {
        self.cache
            .blocks
            .iter()
            .filter(|(_, b)| b.dirty)
            .map(|(&k, b)| (k, b.data.clone()))
            .collect()
    }

    /// Mark buffers clean (their contents are safe elsewhere, e.g. in the journal).
    pub fn mark_buffers_clean(&mut self, blocks: &[u64]) {
        for &b in blocks {
            self.cache.mark_clean(b);
        }
    }

    /// `sync_filesystem` without a journal: descriptors and superblock
    /// into their buffers, then every dirty metadata buffer written home in
    /// block order, then a device flush.
    pub fn sync(&mut self) -> Result<()> {
        if self.read_only.is_some() {
            return Ok(());
        }
        if self.s_journal.is_some() {
            // jbd2glue: commit + checkpoint instead of writing home.
            return self.ext4_sync_fs();
        }
        self.ext4_prepare_sync()?;
        let bs = self.block_size() as u64;
        for blk in self.cache.dirty_blocks() {
            if let Some(b) = self.cache.blocks.get(&blk) {
                self.dev.write_at(blk * bs, &b.data)?;
                self.cache.stats.writebacks += 1;
            }
            self.cache.mark_clean(blk);
        }
        self.dirtied.clear();
        self.dev.flush()?;
        Ok(())
    }

    // ---- inode table -------------------------------------------------

    /// (block, byte offset) of inode `ino` in its group's inode table.
    pub fn inode_location(&self, ino: u32) -> Result<(u64, usize)> {
        if ino == 0 || ino > self.sb.s_inodes_count {
            return Err(Ext4Error::Invalid(format!(
                "inode number {ino} out of range"
            )));
        }
        let ipg = self.sb.s_inodes_per_group;
        let group = (ino - 1) / ipg;
        let index = ((ino - 1) % ipg) as u64;
        let isz = self.sb.inode_size() as u64;
        let bs = self.block_size() as u64;
        let table = self
            .groups
            .get(group as usize)
            .map(|d| d.inode_table(&self.sb))
            .unwrap_or(0);
        let off = index * isz;
        Ok((table + off / bs, (off % bs) as usize))
    }

    /// The raw on-disk inode (s_inode_size bytes), checksum verified.
    pub fn read_inode_raw(&mut self, ino: u32) -> Result<Vec<u8>> {
        let (blk, off) = self.inode_location(ino)?;
        let isz = self.sb.inode_size();
        let raw = self
            .bread_with(blk, |data| data.get(off..off + isz).map(|s| s.to_vec()))?
            .unwrap_or_default();
        if raw.len() != isz {
            return Err(CorruptKind::Inode {
                ino,
                why: InodeCorruption::OutsideTableBlock,
            }
            .into());
        }
        if !ext4_inode_csum_verify(&self.sb, ino, &raw) && raw.iter().any(|&b| b != 0) {
            return Err(CorruptKind::InodeChecksum { ino }.into());
        }
        if raw.len() > EXT4_GOOD_OLD_INODE_SIZE {
            let extra = super::ondisk::le16(&raw, 0x80) as usize;
            if EXT4_GOOD_OLD_INODE_SIZE + extra > isz || extra % 4 != 0 {
                return Err(CorruptKind::Inode {
                    ino,
                    why: InodeCorruption::ExtraIsize { extra },
                }
                .into());
            }
        }
        Ok(raw)
    }

    /// Store a raw inode (the checksum is computed here).
    pub fn write_inode_raw(&mut self, ino: u32, raw: &mut [u8]) -> Result<()> {
        self.check_writable()?;
        let (blk, off) = self.inode_location(ino)?;
        ext4_inode_csum_set(&self.sb, ino, raw);
        let mut data = self.bread(blk)?;
        let isz = self.sb.inode_size();
        if raw.len() != isz || off + isz > data.len() {
            return Err(Ext4Error::Invalid(format!(
                "inode {ino}: raw size {}",
                raw.len()
            )));
        }
        data[off..off + isz].copy_from_slice(raw);
        self.ext4_handle_dirty_metadata(blk, data)
    }

    /// `ext4_iget`: read and check inode `ino`.
    pub fn ext4_iget(&mut self, ino: u32) -> Result<Ext4Inode> {
        let raw = self.read_inode_raw(ino)?;
        Ok(Ext4Inode::decode(
            &raw[..raw.len().min(EXT4_GOOD_OLD_INODE_SIZE + extra_isize(&raw))],
        ))
    }

    /// `ext4_write_inode` / `ext4_mark_inode_dirty`: store the inode's
    /// fields (up to `i_extra_isize`), keeping the in-inode xattr area.
    pub fn write_inode(&mut self, ino: u32, inode: &Ext4Inode) -> Result<()> {
        let mut raw = self.read_inode_raw(ino).or_else(|e| match e {
            Ext4Error::Corrupt(CorruptKind::InodeChecksum { .. }) => {
                let isz = self.sb.inode_size();
                Ok(vec![0u8; isz])
            }
            e => Err(e),
        })?;
        encode_inode_into(inode, &mut raw);
        self.write_inode_raw(ino, &mut raw)
    }

    /// A fresh `i_generation` (deterministic sequence).
    pub(crate) fn new_generation(&mut self) -> u32 {
        self.next_generation = self
            .next_generation
            .wrapping_mul(1_103_515_245)
            .wrapping_add(12345);
        self.next_generation
    }
}

/// Why a filesystem with superblock `sb` cannot be written, if it cannot:
/// unknown RO_COMPAT bits, or a known feature the engine does not write.
pub(crate) fn write_refusal(
    sb: &Ext4SuperBlock,
    ro_compat_unknown: bool,
) -> Option<ReadOnlyReason> {
    if ro_compat_unknown {
        Some(ReadOnlyReason::RoCompatFeatures(
            sb.s_feature_ro_compat & !super::superblock::RO_COMPAT_SUPPORTED,
        ))
    } else {
        sb.unsupported_for_write().map(ReadOnlyReason::Unsupported)
    }
}

/// Refuse changing the data or entries of a verity or encrypted inode:
/// the engine treats their contents as opaque bytes (no Merkle tree, no
/// keys), as the kernel refuses writes to verity files and entries in
/// encrypted directories without the key.
pub(crate) fn check_inode_writable(inode: &Ext4Inode) -> Result<()> {
    if inode.has_flag(super::inode::EXT4_VERITY_FL) {
        return Err(Ext4Error::Unsupported { feature: "verity" });
    }
    if inode.has_flag(super::inode::EXT4_ENCRYPT_FL) {
        return Err(Ext4Error::Unsupported { feature: "encrypt" });
    }
    Ok(())
}

/// `i_extra_isize` of a raw inode (0 for 128-byte inodes).
pub(crate) fn extra_isize(raw: &[u8]) -> usize {
    if raw.len() > EXT4_GOOD_OLD_INODE_SIZE {
        super::ondisk::le16(raw, 0x80) as usize
    } else {
        0
    }
}

/// Encode the fields of `inode` into `raw`, only as far as its
/// `i_extra_isize` reaches (the rest is the in-inode xattr area).
pub(crate) fn encode_inode_into(inode: &Ext4Inode, raw: &mut [u8]) {
    let mut tmp = [0u8; Ext4Inode::SIZE];
    inode.encode(&mut tmp);
    let extra = if raw.len() > EXT4_GOOD_OLD_INODE_SIZE {
        inode.i_extra_isize as usize
    } else {
        0
    };
    let n = (EXT4_GOOD_OLD_INODE_SIZE + extra)
        .min(raw.len())
        .min(tmp.len());
    raw[..n].copy_from_slice(&tmp[..n]);
}

fn sb_time(raw: &[u8; 1024]) -> u32 {
    super::ondisk::le32(raw, 0x30)
}
