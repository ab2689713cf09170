//! Block and inode bitmaps (fs/ext4/balloc.c, bitmap.c, ialloc.c): reading
//! them (initialising BLOCK_UNINIT/INODE_UNINIT groups), their checksums,
//! and the allocators.

use super::csum::ext4_chksum;
use super::error::{BitmapCorruption, CorruptKind, Ext4Error, Result};
use super::fs::Ext4Fs;
use super::group_desc::{
    Ext4GroupDesc, EXT4_BG_BLOCK_BITMAP_CSUM_HI_END, EXT4_BG_BLOCK_UNINIT,
    EXT4_BG_INODE_BITMAP_CSUM_HI_END, EXT4_BG_INODE_UNINIT,
};
use super::superblock::{ext4_bg_has_super, Ext4SuperBlock};
use crate::device::BlockDevice;

pub fn test_bit(bm: &[u8], i: u32) -> bool {
    bm.get((i / 8) as usize)
        .is_some_and(|b| b & (1 << (i % 8)) != 0)
}
pub fn set_bit(bm: &mut [u8], i: u32) {
    if let Some(b) = bm.get_mut((i / 8) as usize) {
        *b |= 1 << (i % 8);
    }
}
pub fn clear_bit(bm: &mut [u8], i: u32) {
    if let Some(b) = bm.get_mut((i / 8) as usize) {
        *b &= !(1 << (i % 8));
    }
}

/// Number of blocks of the group descriptor table.
pub fn gdt_blocks(sb: &Ext4SuperBlock) -> u64 {
    let per = sb.block_size() as u64 / sb.desc_size() as u64;
    (sb.groups_count() as u64).div_ceil(per)
}

/// First block of `group`.
pub fn group_first_block(sb: &Ext4SuperBlock, group: u32) -> u64 {
    sb.s_first_data_block as u64 + group as u64 * sb.s_blocks_per_group as u64
}

/// Blocks in `group` (the last group may be short).
pub fn blocks_in_group(sb: &Ext4SuperBlock, group: u32) -> u32 {
    let first = group_first_block(sb, group);
    let end = (first + sb.s_blocks_per_group as u64).min(sb.blocks_count());
    end.saturating_sub(first) as u32
}

/// Block of `group`'s superblock copy (`ext2fs_super_and_bgd_loc2`): its
/// first block, except group 0 of a 1 KiB-block bigalloc filesystem,
/// whose group starts at block 0 (the boot block) with the superblock in
/// block 1.
pub fn group_sb_block(sb: &Ext4SuperBlock, group: u32) -> u64 {
    let first = group_first_block(sb, group);
    if group == 0 && sb.block_size() == 1024 && sb.cluster_bits() > 0 {
        first + 1
    } else {
        first
    }
}

/// First block of the primary group descriptor table.
pub fn gdt_first_block(sb: &Ext4SuperBlock) -> u64 {
    group_sb_block(sb, 0) + 1
}

/// Boot block (1 KiB bigalloc) + superblock + GDT + reserved GDT blocks
/// at the start of `group`.
pub fn group_sb_overhead(sb: &Ext4SuperBlock, group: u32) -> u32 {
    if ext4_bg_has_super(sb, group) {
        let lead = group_sb_block(sb, group) - group_first_block(sb, group);
        (lead + 1 + gdt_blocks(sb) + sb.s_reserved_gdt_blocks as u64) as u32
    } else {
        0
    }
}

/// `ext4_block_bitmap_csum_set` value for a bitmap.
pub fn block_bitmap_csum(sb: &Ext4SuperBlock, bm: &[u8]) -> u32 {
    let n = (sb.s_clusters_per_group / 8) as usize;
    ext4_chksum(sb.csum_seed(), &bm[..n.min(bm.len())])
}

/// `ext4_inode_bitmap_csum_set` value for a bitmap.
pub fn inode_bitmap_csum(sb: &Ext4SuperBlock, bm: &[u8]) -> u32 {
    let n = (sb.s_inodes_per_group / 8) as usize;
    ext4_chksum(sb.csum_seed(), &bm[..n.min(bm.len())])
}

fn csum_matches(sb: &Ext4SuperBlock, stored: u32, computed: u32, hi_end: usize) -> bool {
    if sb.desc_size() >= hi_end {
        stored == computed
    } else {
        stored & 0xffff == computed & 0xffff
    }
}

impl<D: BlockDevice> Ext4Fs<D> {
    fn gd(&self, group: u32) -> Result<&Ext4GroupDesc> {
        self.groups
            .get(group as usize)
            .ok_or_else(|| Ext4Error::Invalid(format!("group {group} out of range")))
    }

    /// `ext4_init_block_bitmap`: the bitmap of a BLOCK_UNINIT group.
    fn init_block_bitmap(&self, group: u32) -> Result<Vec<u8>> {
        let sb = &self.sb;
        let mut bm = vec![0u8; self.block_size() as usize];
        let first = group_first_block(sb, group);
        for i in 0..group_sb_overhead(sb, group) {
            set_bit(&mut bm, i);
        }
        let d = self.gd(group)?;
        let ipb = self.block_size() as u64 / sb.inode_size() as u64;
        let itb = (sb.s_inodes_per_group as u64).div_ceil(ipb);
        let mut own = vec![d.block_bitmap(sb), d.inode_bitmap(sb)];
        own.extend((0..itb).map(|i| d.inode_table(sb) + i));
        for b in own {
            if b >= first && b < first + sb.s_blocks_per_group as u64 {
                set_bit(&mut bm, (b - first) as u32);
            }
        }
        for i in blocks_in_group(sb, group)..self.block_size() * 8 {
            set_bit(&mut bm, i);
        }
        Ok(bm)
    }

    /// `ext4_read_block_bitmap`: verified against its checksum.
    pub fn read_block_bitmap(&mut self, group: u32) -> Result<Vec<u8>> {
        let d = self.gd(group)?.clone();
        if self.sb.has_group_desc_csum() && d.bg_flags & EXT4_BG_BLOCK_UNINIT != 0 {
            return self.init_block_bitmap(group);
        }
        let blk = d.block_bitmap(&self.sb);
        let bm = self.bread(blk)?;
        if self.sb.has_metadata_csum() {
            let c = block_bitmap_csum(&self.sb, &bm);
            if !csum_matches(
                &self.sb,
                d.block_bitmap_csum(&self.sb),
                c,
                EXT4_BG_BLOCK_BITMAP_CSUM_HI_END,
            ) {
                return Err(CorruptKind::Bitmap {
                    group,
                    block: blk,
                    why: BitmapCorruption::BlockBitmapChecksum,
                }
                .into());
            }
        }
        Ok(bm)
    }

    /// `ext4_read_inode_bitmap`.
    pub fn read_inode_bitmap(&mut self, group: u32) -> Result<Vec<u8>> {
        let d = self.gd(group)?.clone();
        if self.sb.has_group_desc_csum() && d.bg_flags & EXT4_BG_INODE_UNINIT != 0 {
            let mut bm = vec![0u8; self.block_size() as usize];
            for i in self.sb.s_inodes_per_group..self.block_size() * 8 {
                set_bit(&mut bm, i);
            }
            return Ok(bm);
        }
        let blk = d.inode_bitmap(&self.sb);
        let bm = self.bread(blk)?;
        if self.sb.has_metadata_csum() {
            let c = inode_bitmap_csum(&self.sb, &bm);
            if !csum_matches(
                &self.sb,
                d.inode_bitmap_csum(&self.sb),
                c,
                EXT4_BG_INODE_BITMAP_CSUM_HI_END,
            ) {
                return Err(CorruptKind::Bitmap {
                    group,
                    block: blk,
                    why: BitmapCorruption::InodeBitmapChecksum,
                }
                .into());
            }
        }
        Ok(bm)
    }

    fn write_block_bitmap(&mut self, group: u32, bm: Vec<u8>) -> Result<()> {
        let c = block_bitmap_csum(&self.sb, &bm);
        let sb = self.sb.clone();
        let d = &mut self.groups[group as usize];
        let blk = d.block_bitmap(&sb);
        if sb.has_metadata_csum() {
            d.set_block_bitmap_csum(&sb, c);
        }
        d.bg_flags &= !EXT4_BG_BLOCK_UNINIT;
        self.mark_gd_dirty(group);
        self.ext4_handle_dirty_metadata(blk, bm)
    }

    fn write_inode_bitmap(&mut self, group: u32, bm: Vec<u8>) -> Result<()> {
        let c = inode_bitmap_csum(&self.sb, &bm);
        let sb = self.sb.clone();
        let d = &mut self.groups[group as usize];
        let blk = d.inode_bitmap(&sb);
        if sb.has_metadata_csum() {
            d.set_inode_bitmap_csum(&sb, c);
        }
        d.bg_flags &= !EXT4_BG_INODE_UNINIT;
        self.mark_gd_dirty(group);
        self.ext4_handle_dirty_metadata(blk, bm)
    }

    /// `ext4_new_meta_blocks` / `ext4_mb_new_blocks`: allocate up to `count`
    /// contiguous blocks, searching from `goal`'s group onwards. Returns the
    /// first block and how many were allocated.
    pub fn ext4_new_blocks(&mut self, goal: u64, count: u32) -> Result<(u64, u32)> {
        self.check_writable()?;
        let count = count.max(1);
        if self.sb.free_blocks_count() == 0 {
            return Err(Ext4Error::NoSpace);
        }
        let ngroups = self.groups_count();
        let bpg = self.sb.s_blocks_per_group as u64;
        let goal = goal.clamp(
            self.sb.s_first_data_block as u64,
            self.sb.blocks_count() - 1,
        );
        let goal_group = ((goal - self.sb.s_first_data_block as u64) / bpg) as u32;
        for k in 0..=ngroups {
            let group = (goal_group + k) % ngroups;
            let d = self.gd(group)?;
            if d.free_blocks_count(&self.sb) == 0 {
                continue;
            }
            let mut bm = self.read_block_bitmap(group)?;
            let n = blocks_in_group(&self.sb, group);
            let first = group_first_block(&self.sb, group);
            let start_bit = if k == 0 { (goal - first) as u32 } else { 0 };
            // First free bit at or after the goal, then wrap within the group.
            // A block freed by a transaction not yet committed is free in
            // the bitmap but still in use in mballoc's buddy
            // (ext4_mb_free_metadata): it is skipped.
            let j = self.s_journal.as_deref();
            let usable = |i: u32| {
                !test_bit(&bm, i) && !j.is_some_and(|j| j.ext4_freed_busy(first + u64::from(i)))
            };
            let found = (start_bit..n).chain(0..start_bit).find(|&i| usable(i));
            let Some(bit) = found else { continue };
            let mut len = 1u32;
            while len < count && bit + len < n && usable(bit + len) {
                len += 1;
            }
            for i in bit..bit + len {
                set_bit(&mut bm, i);
            }
            self.write_block_bitmap(group, bm)?;
            let sb = self.sb.clone();
            let d = &mut self.groups[group as usize];
            let free = d.free_blocks_count(&sb).saturating_sub(len);
            d.set_free_blocks_count(&sb, free);
            let total = self.sb.free_blocks_count().saturating_sub(len as u64);
            self.sb.set_free_blocks_count(total);
            self.mark_sb_dirty();
            return Ok((first + bit as u64, len));
        }
        Err(Ext4Error::NoSpace)
    }

    /// `ext4_free_blocks`: free `count` blocks from `start` (may span groups).
    /// Freed metadata blocks are dropped from the cache (`bforget`).
    pub fn ext4_free_blocks(&mut self, start: u64, count: u32) -> Result<()> {
        self.check_writable()?;
        let end = start
            .checked_add(count as u64)
            .filter(|&e| e <= self.sb.blocks_count());
        if start < self.sb.s_first_data_block as u64 || end.is_none() {
            return Err(CorruptKind::Bitmap {
                group: 0,
                block: start,
                why: BitmapCorruption::FreeOutOfRange { count },
            }
            .into());
        }
        if self.in_system_zone(start, count as u64) {
            return Err(CorruptKind::Bitmap {
                group: 0,
                block: start,
                why: BitmapCorruption::FreeMetadata { count },
            }
            .into());
        }
        let bpg = self.sb.s_blocks_per_group as u64;
        let mut b = start;
        let end = start + count as u64;
        while b < end {
            let group = ((b - self.sb.s_first_data_block as u64) / bpg) as u32;
            let first = group_first_block(&self.sb, group);
            let stop = end.min(first + bpg);
            let mut bm = self.read_block_bitmap(group)?;
            let mut n = 0u32;
            for blk in b..stop {
                let bit = (blk - first) as u32;
                if !test_bit(&bm, bit) {
                    return Err(CorruptKind::Bitmap {
                        group,
                        block: blk,
                        why: BitmapCorruption::FreeingFreeBlock,
                    }
                    .into());
                }
                clear_bit(&mut bm, bit);
                self.cache.forget(blk);
                n += 1;
            }
            self.write_block_bitmap(group, bm)?;
            let sb = self.sb.clone();
            let d = &mut self.groups[group as usize];
            let free = d.free_blocks_count(&sb) + n;
            d.set_free_blocks_count(&sb, free);
            let total = self.sb.free_blocks_count() + n as u64;
            self.sb.set_free_blocks_count(total);
            self.mark_sb_dirty();
            b = stop;
        }
        Ok(())
    }

    /// `__ext4_new_inode`'s allocation: a free inode, preferring
    /// `goal_group` (the parent's group). Updates counts and `bg_itable_unused`.
    pub fn ext4_new_inode_number(&mut self, goal_group: u32, is_dir: bool) -> Result<u32> {
        self.check_writable()?;
        let ngroups = self.groups_count();
        let ipg = self.sb.s_inodes_per_group;
        for k in 0..ngroups {
            let group = (goal_group + k) % ngroups;
            if self.gd(group)?.free_inodes_count(&self.sb) == 0 {
                continue;
            }
            let mut bm = self.read_inode_bitmap(group)?;
            let lowest = if group == 0 {
                self.sb.first_ino() - 1
            } else {
                0
            };
            let Some(bit) = (lowest..ipg).find(|&i| !test_bit(&bm, i)) else {
                continue;
            };
            set_bit(&mut bm, bit);
            self.write_inode_bitmap(group, bm)?;
            let sb = self.sb.clone();
            let d = &mut self.groups[group as usize];
            d.set_free_inodes_count(&sb, d.free_inodes_count(&sb).saturating_sub(1));
            if is_dir {
                d.set_used_dirs_count(&sb, d.used_dirs_count(&sb) + 1);
            }
            if sb.has_group_desc_csum() {
                let used = ipg - d.itable_unused(&sb);
                if bit + 1 > used {
                    d.set_itable_unused(&sb, ipg - (bit + 1));
                }
            }
            self.sb.s_free_inodes_count = self.sb.s_free_inodes_count.saturating_sub(1);
            self.mark_sb_dirty();
            return Ok(group * ipg + bit + 1);
        }
        Err(Ext4Error::NoInodes)
    }

    /// `ext4_free_inode`'s bitmap half.
    pub fn ext4_free_inode_number(&mut self, ino: u32, is_dir: bool) -> Result<()> {
        self.check_writable()?;
        if ino == 0 || ino > self.sb.s_inodes_count {
            return Err(Ext4Error::Invalid(format!(
                "freeing inode {ino} out of range"
            )));
        }
        let ipg = self.sb.s_inodes_per_group;
        let group = (ino - 1) / ipg;
        let bit = (ino - 1) % ipg;
        let mut bm = self.read_inode_bitmap(group)?;
        if !test_bit(&bm, bit) {
            return Err(CorruptKind::Bitmap {
                group,
                block: 0,
                why: BitmapCorruption::FreeingFreeInode { ino },
            }
            .into());
        }
        clear_bit(&mut bm, bit);
        self.write_inode_bitmap(group, bm)?;
        let sb = self.sb.clone();
        let d = &mut self.groups[group as usize];
        d.set_free_inodes_count(&sb, d.free_inodes_count(&sb) + 1);
        if is_dir {
            d.set_used_dirs_count(&sb, d.used_dirs_count(&sb).saturating_sub(1));
        }
        self.sb.s_free_inodes_count += 1;
        self.mark_sb_dirty();
        Ok(())
    }
}
