//! Before pass 1 (e2fsck super.c `check_super_block`, `check_resize_inode`,
//! pass1.c `mark_table_blocks`): the superblock's state, each group
//! descriptor's checksum, flags and table locations, the resize inode,
//! the quota inode numbers; and the filesystem's own blocks claimed.
//!
//! Everything found here is a note for `e2fsck -n`: e2fsck marks the
//! filesystem valid again once these checks are done (unix.c), so only
//! what they lead to in the passes (a bitmap that disagrees, say) decides.

use super::{Checker, Finding, GroupTable, OWNER_FS};
use crate::device::BlockDevice;
use crate::engine::balloc::{gdt_blocks, gdt_first_block, group_first_block, group_sb_overhead};
use crate::engine::error::Result;
use crate::engine::group_desc::{EXT4_BG_BLOCK_UNINIT, EXT4_BG_INODE_UNINIT};
use crate::engine::inode::{Ext4Inode, EXT4_RESIZE_INO};
use crate::engine::ondisk::le32;
use crate::engine::superblock::{
    ext4_bg_has_super, COMPAT_RESIZE_INODE, EXT4_ERROR_FS, INCOMPAT_FLEX_BG, INCOMPAT_MMP,
    RO_COMPAT_QUOTA,
};

impl<D: BlockDevice> Checker<'_, D> {
    /// The checks of `check_super_block` and `check_resize_inode`, and
    /// `mark_table_blocks`.
    pub(super) fn pass0(&mut self) -> Result<()> {
        let (sb_bad, gd_bad) = self.fs.checksum_errors();
        let gd_bad = gd_bad.to_vec();
        if sb_bad {
            self.push(Finding::SuperblockChecksum);
        }
        if self.sb.s_state & EXT4_ERROR_FS != 0 {
            self.push(Finding::ErrorState);
        }
        for group in gd_bad {
            self.push(Finding::GroupDescChecksum { group });
        }
        self.check_groups();
        self.mark_table_blocks();
        if self.sb.has_incompat(INCOMPAT_MMP) {
            let b = self.sb.s_mmp_block;
            if b < u64::from(self.sb.s_first_data_block) + 1 || !self.claim(b, OWNER_FS) {
                self.push(Finding::MmpInvalid { block: b });
            }
        }
        // release_orphan_inodes: the head of the orphan list (the list
        // itself is released by e2fsck before pass 1; not modelled).
        let orphan = self.sb.s_last_orphan;
        if orphan != 0
            && self.sb.s_state & EXT4_ERROR_FS == 0
            && (orphan < self.sb.first_ino() || orphan > self.sb.s_inodes_count)
        {
            self.push(Finding::OrphanListInvalid { ino: orphan });
        }
        self.check_quota_inums();
        self.check_resize_inode()?;
        Ok(())
    }

    /// Per group: tables inside the group (or the filesystem, with
    /// flex_bg), counts that fit, uninit flags only with a checksum feature.
    fn check_groups(&mut self) {
        let sb = self.sb.clone();
        let ngroups = self.fs.groups_count();
        let csum = sb.has_group_desc_csum();
        for g in 0..ngroups {
            let Some(d) = self.fs.group_desc(g).cloned() else {
                continue;
            };
            let (first, last) = if sb.has_incompat(INCOMPAT_FLEX_BG) {
                (u64::from(sb.s_first_data_block), sb.blocks_count() - 1)
            } else {
                let f = group_first_block(&sb, g);
                let l = (f + u64::from(sb.s_blocks_per_group) - 1).min(sb.blocks_count() - 1);
                (f, l)
            };
            let itb = self.itable_blocks();
            for (table, b, len) in [
                (GroupTable::BlockBitmap, d.block_bitmap(&sb), 1),
                (GroupTable::InodeBitmap, d.inode_bitmap(&sb), 1),
                (GroupTable::InodeTable, d.inode_table(&sb), itb),
            ] {
                if b < first || b + len - 1 > last {
                    self.push(Finding::GroupTableNotInGroup {
                        group: g,
                        table,
                        block: b,
                    });
                    self.bad_groups[g as usize] = true;
                }
            }
            let flags = d.bg_flags;
            if !csum && flags & (EXT4_BG_BLOCK_UNINIT | EXT4_BG_INODE_UNINIT) != 0 {
                self.push(Finding::GroupUninitWithoutFeature { group: g });
            }
            if csum && g == ngroups - 1 && flags & EXT4_BG_BLOCK_UNINIT != 0 {
                self.push(Finding::LastGroupBlockUninit { group: g });
            }
            if csum && d.itable_unused(&sb) > sb.s_inodes_per_group {
                self.push(Finding::GroupItableUnusedInvalid {
                    group: g,
                    recorded: d.itable_unused(&sb),
                });
            }
        }
    }

    /// Blocks of one group's inode table.
    pub(super) fn itable_blocks(&self) -> u64 {
        (u64::from(self.sb.s_inodes_per_group) * self.sb.inode_size() as u64).div_ceil(self.bs)
    }

    /// `mark_table_blocks` + `ext2fs_reserve_super_and_bgd`: the
    /// superblock copies, descriptor tables (and reserved GDT blocks),
    /// bitmaps and inode tables belong to the filesystem. A table block
    /// claimed twice is `PR_1_*_CONFLICT`.
    fn mark_table_blocks(&mut self) {
        let sb = self.sb.clone();
        let itb = self.itable_blocks();
        // Block 0 of a 1 KiB-block filesystem (the boot block) is outside
        // every group and in no bitmap; elsewhere it is group 0's first.
        for g in 0..self.fs.groups_count() {
            let first = group_first_block(&sb, g);
            let n = u64::from(group_sb_overhead(&sb, g));
            for b in first..(first + n).min(sb.blocks_count()) {
                self.claim(b, OWNER_FS);
            }
        }
        for g in 0..self.fs.groups_count() {
            if self.bad_groups[g as usize] {
                continue;
            }
            let Some(d) = self.fs.group_desc(g).cloned() else {
                continue;
            };
            for (table, start, len) in [
                (GroupTable::BlockBitmap, d.block_bitmap(&sb), 1),
                (GroupTable::InodeBitmap, d.inode_bitmap(&sb), 1),
                (GroupTable::InodeTable, d.inode_table(&sb), itb),
            ] {
                for b in start..(start + len).min(sb.blocks_count()) {
                    let c = (b >> self.cluster_bits) as usize;
                    if self.owner.get(c).is_some_and(|&o| o != 0)
                        && !(self.cluster_bits > 0 && self.owner[c] == OWNER_FS)
                    {
                        self.push(Finding::GroupTableConflict {
                            group: g,
                            table,
                            block: b,
                        });
                        break;
                    }
                    self.claim(b, OWNER_FS);
                }
            }
        }
    }

    /// `e2fsck_validate_quota_inodes`: a quota inode number must not be a
    /// reserved inode of another role, nor past the inode count.
    fn check_quota_inums(&mut self) {
        if !self.sb.has_ro_compat(RO_COMPAT_QUOTA) {
            return;
        }
        for ino in self.quota_inums() {
            if ino != 0 && (matches!(ino, 1 | 2 | 5..=10) || ino > self.sb.s_inodes_count) {
                self.push(Finding::QuotaInodeInvalid { ino });
            }
        }
    }

    /// `s_usr_quota_inum`, `s_grp_quota_inum`, `s_prj_quota_inum`.
    pub(super) fn quota_inums(&self) -> [u32; 3] {
        [
            self.sb.s_usr_quota_inum,
            self.sb.s_grp_quota_inum,
            self.sb.s_prj_quota_inum,
        ]
    }

    /// `check_resize_inode`: with resize_inode, inode 7 maps only a DIND
    /// block whose entries name the primary reserved GDT blocks, each of
    /// which lists its copy in every backup group. Without the feature,
    /// inode 7 must be empty and `s_reserved_gdt_blocks` 0.
    fn check_resize_inode(&mut self) -> Result<()> {
        let sb = self.sb.clone();
        let raw = match self.fs.read_inode_raw(EXT4_RESIZE_INO) {
            Ok(r) => r,
            // A bad checksum is reported by pass 1.
            Err(crate::engine::Ext4Error::Corrupt(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let inode = Ext4Inode::decode(&raw[..raw.len().min(128)]);
        let i_block = |i: usize| le32(&inode.i_block, 4 * i);
        if !sb.has_compat(COMPAT_RESIZE_INODE) {
            if sb.s_reserved_gdt_blocks != 0 || (0..15).any(|i| i_block(i) != 0) {
                self.push(Finding::ResizeInodeInvalid);
            }
            return Ok(());
        }
        let rsv = u64::from(sb.s_reserved_gdt_blocks);
        let dind = u64::from(i_block(13));
        if (0..15).any(|i| i != 13 && i_block(i) != 0)
            || (rsv > 0 && (dind == 0 || dind >= sb.blocks_count()))
        {
            self.push(Finding::ResizeInodeInvalid);
            return Ok(());
        }
        if dind == 0 {
            return Ok(());
        }
        let apb = self.bs / 4;
        let desc = gdt_blocks(&sb);
        let dbuf = self.fs.bread(dind)?;
        let backups: Vec<u32> = (1..self.fs.groups_count())
            .filter(|&g| ext4_bg_has_super(&sb, g))
            .collect();
        for r in 0..rsv {
            let pblk = gdt_first_block(&sb) + desc + r;
            let off = ((desc + r) % apb) as usize;
            if u64::from(le32(&dbuf, 4 * off)) != pblk || pblk >= sb.blocks_count() {
                self.push(Finding::ResizeInodeInvalid);
                return Ok(());
            }
            let ind = self.fs.bread(pblk)?;
            for (k, &g) in backups.iter().enumerate().take(apb as usize) {
                let expect = pblk + u64::from(g) * u64::from(sb.s_blocks_per_group);
                if u64::from(le32(&ind, 4 * k)) != expect {
                    self.push(Finding::ResizeInodeInvalid);
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// `ext2fs_check_desc`: every group's bitmaps and inode table inside its
/// group (the filesystem, with flex_bg) and not on top of the superblock
/// copies, descriptor tables or another table.
pub(super) fn check_desc<D: BlockDevice>(fs: &crate::engine::Ext4Fs<D>) -> bool {
    let sb = &fs.sb;
    let blocks = sb.blocks_count();
    // A bitmap of the blocks seen so far; `insert` is false when set.
    struct Seen(Vec<u64>);
    impl Seen {
        fn insert(&mut self, b: u64) -> bool {
            let (w, m) = ((b / 64) as usize, 1u64 << (b % 64));
            let fresh = self.0[w] & m == 0;
            self.0[w] |= m;
            fresh
        }
    }
    let mut used = Seen(vec![0; blocks.div_ceil(64) as usize]);
    for g in 0..fs.groups_count() {
        let first = group_first_block(sb, g);
        for b in first..(first + u64::from(group_sb_overhead(sb, g))).min(blocks) {
            used.insert(b);
        }
    }
    let itb = (u64::from(sb.s_inodes_per_group) * sb.inode_size() as u64)
        .div_ceil(u64::from(sb.block_size()));
    for g in 0..fs.groups_count() {
        let Some(d) = fs.group_desc(g) else {
            return false;
        };
        let (first, last) = if sb.has_incompat(INCOMPAT_FLEX_BG) {
            (u64::from(sb.s_first_data_block), blocks - 1)
        } else {
            let f = group_first_block(sb, g);
            (
                f,
                (f + u64::from(sb.s_blocks_per_group) - 1).min(blocks - 1),
            )
        };
        for b in [d.block_bitmap(sb), d.inode_bitmap(sb)] {
            if b < first || b > last || !used.insert(b) {
                return false;
            }
        }
        let it = d.inode_table(sb);
        if it < first || it + itb - 1 > last {
            return false;
        }
        for b in it..it + itb {
            if !used.insert(b) {
                return false;
            }
        }
    }
    true
}
