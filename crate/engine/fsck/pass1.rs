//! Pass 1 (e2fsck pass1.c `e2fsck_pass1`): every inode of every
//! initialized part of the inode tables. Reserved inodes by role (bad
//! blocks, root, journal, quota, orphan file, resize), then the fields of
//! each inode in use, its flags, its attributes and its block map
//! (`check_blocks.rs`: sizes and `i_blocks`). Pass 1B (duplicate blocks) and
//! the attribute-block reference counts close the pass.

use super::{
    owner_of, Checker, Finding, InodeProblem, InodeState, SpecialInode, I_BAD, I_DIR, I_REG,
    I_SCANNED, I_USED,
};
use crate::device::BlockDevice;
use crate::engine::error::Result;
use crate::engine::group_desc::EXT4_BG_INODE_UNINIT;
use crate::engine::inode::*;
use crate::engine::ondisk::le32;
use crate::engine::superblock::*;
use crate::engine::xattr::EXT4_XATTR_MAGIC;

/// `i_extra_isize` of a raw inode (0 for 128-byte inodes).
pub(super) fn extra_isize(raw: &[u8]) -> usize {
    if raw.len() > 128 {
        crate::engine::ondisk::le16(raw, 0x80) as usize
    } else {
        0
    }
}

impl<D: BlockDevice> Checker<'_, D> {
    pub(super) fn pass1(&mut self) -> Result<()> {
        let sb = self.sb.clone();
        let ipg = sb.s_inodes_per_group;
        let isz = sb.inode_size();
        let csum = sb.has_group_desc_csum();
        let per_block = (self.bs as usize / isz).max(1);
        for g in 0..self.fs.groups_count() {
            let Some(d) = self.fs.group_desc(g).cloned() else {
                continue;
            };
            if self.bad_groups[g as usize] {
                continue;
            }
            if csum && d.bg_flags & EXT4_BG_INODE_UNINIT != 0 {
                continue;
            }
            let limit = if csum {
                ipg.saturating_sub(d.itable_unused(&sb))
            } else {
                ipg
            };
            let table = d.inode_table(&sb);
            let mut block = Vec::new();
            for idx in 0..limit {
                let i = idx as usize % per_block;
                if i == 0 {
                    let b = table + (idx as usize / per_block) as u64;
                    if b >= sb.blocks_count() {
                        break;
                    }
                    block = self.fs.bread(b)?;
                }
                let ino = g * ipg + idx + 1;
                let raw = block[i * isz..(i + 1) * isz].to_vec();
                self.check_inode(ino, &raw)?;
            }
        }
        self.check_ea_refcounts();
        self.report_dups();
        Ok(())
    }

    /// Read inode `ino` without judging it (`None`: outside the tables).
    pub(super) fn read_inode_lenient(&mut self, ino: u32) -> Result<Option<Ext4Inode>> {
        let Ok((blk, off)) = self.fs.inode_location(ino) else {
            return Ok(None);
        };
        if blk == 0 || blk >= self.sb.blocks_count() {
            return Ok(None);
        }
        let data = self.fs.bread(blk)?;
        let isz = self.sb.inode_size();
        let raw = &data[off..(off + isz).min(data.len())];
        Ok(Some(decode(raw)))
    }

    fn check_inode(&mut self, ino: u32, raw: &[u8]) -> Result<()> {
        let sb = self.sb.clone();
        let inode = decode(raw);
        self.ea_ibody_quota = (0, 0);
        self.inodes[ino as usize] = InodeState {
            bits: I_SCANNED,
            mode: inode.i_mode,
            links: inode.i_links_count,
            counted: 0,
            i_flags: inode.i_flags,
        };
        // ext2fs_inode_csum_verify: an inode whose first 128 bytes are all
        // zero passes whatever its checksum.
        let all_zero = raw[..raw.len().min(128)].iter().all(|&b| b == 0);
        let failed_csum = !all_zero && !ext4_inode_csum_verify(&sb, ino, raw);
        let first_ino = self.first_ino();
        let quota_reserved = matches!(ino, 3 | 4);
        // PR_1_LOW_DTIME: a dtime that looks like an orphan-list link.
        if inode.i_dtime != 0 && self.low_dtime_check() && inode.i_dtime < sb.s_inodes_count {
            self.inode_problem(ino, InodeProblem::LowDtime);
        }
        if inode.i_links_count == 0 && ino >= first_ino && !quota_reserved {
            if inode.i_dtime == 0 && inode.i_mode != 0 {
                self.inode_problem(ino, InodeProblem::ZeroDtime);
            }
            return self.finish(ino, failed_csum);
        }
        if inode.has_flag(EXT4_CASEFOLD_FL) {
            if !inode.is_dir() {
                self.inode_problem(ino, InodeProblem::CasefoldNotDirectory);
            } else if !sb.has_incompat(INCOMPAT_CASEFOLD) {
                self.inode_problem(ino, InodeProblem::CasefoldWithoutFeature);
            }
        }
        let inline = inode.has_flag(EXT4_INLINE_DATA_FL);
        let extents = inode.has_flag(EXT4_EXTENTS_FL);
        if inline && extents {
            self.inode_problem(ino, InodeProblem::InlineDataAndExtents);
            return self.finish(ino, failed_csum);
        }
        let inline_fs = sb.has_incompat(INCOMPAT_INLINE_DATA);
        if inline && ino >= first_ino {
            if !inline_fs {
                self.inode_problem(ino, InodeProblem::InlineDataWithoutFeature);
                return self.finish(ino, failed_csum);
            }
            if inline_data_size(raw).is_none() {
                self.inode_problem(ino, InodeProblem::InlineDataNoAttr);
            }
        }
        let extent_fs = sb.has_incompat(INCOMPAT_EXTENTS);
        let special_ino = inode.i_links_count != 0 || matches!(ino, 1 | 2 | 8);
        if extents && !extent_fs && special_ino {
            self.inode_problem(ino, InodeProblem::ExtentsWithoutFeature);
            return self.finish(ino, failed_csum);
        }
        if extent_fs
            && !extents
            && special_ino
            && (inode.is_reg() || inode.is_dir())
            && extent_header_ok(&inode.i_block)
        {
            self.inode_problem(ino, InodeProblem::ExtentFlagMissing);
        }
        match ino {
            EXT4_BAD_INO => {
                if failed_csum
                    || inode.i_mode != 0
                    || inode.i_uid != 0
                    || inode.i_gid != 0
                    || inode.i_links_count != 0
                    || inline
                    || inode.file_acl_sb(&sb) != 0
                {
                    self.inode_problem(ino, InodeProblem::BadBlocksInode);
                }
                self.set_used(ino);
                // The bad-blocks list: its blocks are the filesystem's.
                self.check_bad_blocks_inode(&inode)?;
                return Ok(());
            }
            EXT4_ROOT_INO => {
                if !inode.is_dir() {
                    self.inode_problem(ino, InodeProblem::RootNotDirectory);
                    return self.finish(ino, failed_csum);
                }
                if inode.i_dtime != 0 && inode.i_links_count != 0 {
                    self.inode_problem(ino, InodeProblem::RootDtime);
                }
            }
            EXT4_JOURNAL_INO => {
                self.set_used(ino);
                if sb.s_journal_inum == EXT4_JOURNAL_INO {
                    if !inode.is_reg() {
                        self.inode_problem(
                            ino,
                            InodeProblem::SpecialBadMode(SpecialInode::Journal),
                        );
                    }
                    self.check_blocks(ino, &inode, raw)?;
                } else if inode.i_links_count != 0
                    || inode.i_blocks_lo != 0
                    || le32(&inode.i_block, 0) != 0
                {
                    self.inode_problem(ino, InodeProblem::SpecialNotClear(SpecialInode::Journal));
                }
                return self.finish(ino, failed_csum);
            }
            _ if quota_reserved => {
                self.set_used(ino);
                if sb.has_ro_compat(RO_COMPAT_QUOTA) && self.quota_inums().contains(&ino) {
                    if !inode.is_reg() {
                        self.inode_problem(ino, InodeProblem::SpecialBadMode(SpecialInode::Quota));
                    }
                    self.check_blocks(ino, &inode, raw)?;
                } else if inode.i_links_count != 0
                    || inode.i_blocks_lo != 0
                    || le32(&inode.i_block, 0) != 0
                {
                    self.inode_problem(ino, InodeProblem::SpecialNotClear(SpecialInode::Quota));
                }
                return self.finish(ino, failed_csum);
            }
            _ if ino == sb.s_orphan_file_inum => {
                self.set_used(ino);
                if sb.has_compat(COMPAT_ORPHAN_FILE) {
                    if !inode.is_reg() {
                        self.inode_problem(
                            ino,
                            InodeProblem::SpecialBadMode(SpecialInode::OrphanFile),
                        );
                    }
                    self.check_blocks(ino, &inode, raw)?;
                } else if inode.i_links_count != 0
                    || inode.i_blocks_lo != 0
                    || le32(&inode.i_block, 0) != 0
                {
                    self.inode_problem(
                        ino,
                        InodeProblem::SpecialNotClear(SpecialInode::OrphanFile),
                    );
                }
                return self.finish(ino, failed_csum);
            }
            _ if ino < first_ino => {
                self.set_used(ino);
                let bad = match ino {
                    5 => inode.is_dir(),
                    EXT4_RESIZE_INO => inode.i_mode != 0 && !inode.is_reg(),
                    _ => inode.i_mode != 0,
                };
                if bad {
                    self.inode_problem(ino, InodeProblem::ReservedBadMode);
                }
                if ino == EXT4_RESIZE_INO {
                    self.check_resize_blocks(&inode)?;
                } else {
                    self.check_blocks(ino, &inode, raw)?;
                }
                return self.finish(ino, failed_csum);
            }
            _ => {}
        }
        if inode.i_links_count == 0 {
            return self.finish(ino, failed_csum);
        }
        if inode.i_dtime != 0 {
            self.inode_problem(ino, InodeProblem::DtimeSet);
        }
        self.set_used(ino);
        let hurd = sb.s_creator_os == EXT4_OS_HURD;
        let (frag, fsize) = if hurd { (raw[0x74], raw[0x75]) } else { (0, 0) };
        if inode.i_obso_faddr != 0
            || frag != 0
            || fsize != 0
            || (!sb.has_incompat(INCOMPAT_LARGEDIR) && inode.is_dir() && inode.i_size_high != 0)
            || (!hurd && !sb.is_64bit() && inode.l_i_file_acl_high != 0)
            || (!hurd && !sb.has_ro_compat(RO_COMPAT_HUGE_FILE) && inode.l_i_blocks_high != 0)
        {
            self.mark_bad(ino);
        }
        if inode.has_flag(EXT4_EA_INODE_FL) && !sb.has_incompat(INCOMPAT_EA_INODE) {
            self.push(Finding::UnexpectedEaInodeFlag { ino });
        }
        if inode.has_flag(EXT4_IMAGIC_FL) && !sb.has_compat(COMPAT_IMAGIC_INODES) {
            self.inode_problem(ino, InodeProblem::Imagic);
        }
        self.check_inode_extra_space(ino, &inode, raw)?;
        if extent_fs && extents && inode.is_symlink() && !has_valid_blocks(&sb, &inode) {
            self.inode_problem(ino, InodeProblem::FastSymlinkExtents);
        }
        if inode.has_flag(EXT4_ENCRYPT_FL)
            && (inode.is_dir() || inode.is_reg() || inode.is_symlink())
        {
            match self.encryption_policy(ino, &inode, raw)? {
                None => self.inode_problem(ino, InodeProblem::MissingEncryptionXattr),
                Some(Err(())) => {
                    self.inode_problem(ino, InodeProblem::CorruptEncryptionXattr);
                    self.clear_inode(ino);
                    return self.finish(ino, failed_csum);
                }
                Some(Ok(p)) => {
                    self.policies.insert(ino, p);
                }
            }
        }
        let ft = inode.file_type();
        let device = matches!(ft, S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK);
        if inode.is_dir() {
            self.inodes[ino as usize].bits |= I_DIR;
            self.dirs.entry(ino).or_default().generation = inode.i_generation;
        } else if inode.is_reg() {
            self.inodes[ino as usize].bits |= I_REG;
        } else if device && check_device_inode(&inode) {
            if inode.i_flags & (EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL) != 0 {
                self.inode_problem(ino, InodeProblem::SpecialFileFlags);
            }
            if inode.i_flags & (EXT4_IMMUTABLE_FL | EXT4_APPEND_FL) != 0 {
                self.inode_problem(ino, InodeProblem::SpecialImmutable);
            }
            if inode.size() != 0 {
                self.inode_problem(ino, InodeProblem::SpecialSize);
            }
        } else if inode.is_symlink() && self.check_symlink(ino, &inode, raw)? {
            if inode.i_flags & (EXT4_IMMUTABLE_FL | EXT4_APPEND_FL) != 0 {
                self.inode_problem(ino, InodeProblem::SpecialImmutable);
            }
            if inline {
                return self.finish(ino, failed_csum);
            }
        } else {
            self.mark_bad(ino);
        }
        self.check_blocks(ino, &inode, raw)?;
        self.finish(ino, failed_csum)
    }

    /// `FINISH_INODE_LOOP`: a checksum that still fails.
    fn finish(&mut self, ino: u32, failed_csum: bool) -> Result<()> {
        if failed_csum {
            self.push(Finding::InodeChecksum { ino });
        }
        Ok(())
    }

    fn set_used(&mut self, ino: u32) {
        self.inodes[ino as usize].bits |= I_USED;
    }

    /// `e2fsck_clear_inode` under -n: the inode stays, but e2fsck goes on
    /// as if it were gone.
    pub(super) fn clear_inode(&mut self, ino: u32) {
        self.inodes[ino as usize].bits &= !(I_USED | I_DIR | I_REG | I_BAD);
        self.dirs.remove(&ino);
    }

    /// Low dtimes are orphan-list links only when the clock looks sane.
    fn low_dtime_check(&self) -> bool {
        let sb = &self.sb;
        let n = sb.s_inodes_count;
        !((sb.s_wtime != 0 && sb.s_wtime < n)
            || (sb.s_mtime != 0 && sb.s_mtime < n)
            || (sb.s_mkfs_time != 0 && sb.s_mkfs_time < n))
    }

    /// `check_inode_extra_space`: a sane `i_extra_isize`, the in-inode
    /// attributes, timestamps in the old pre-1970 encoding.
    fn check_inode_extra_space(&mut self, ino: u32, inode: &Ext4Inode, raw: &[u8]) -> Result<()> {
        let isz = raw.len();
        if isz <= 128 {
            return Ok(());
        }
        let extra = extra_isize(raw);
        let max = isz - 128;
        if extra != 0 && (extra < 4 || extra > max || extra & 3 != 0) {
            self.inode_problem(ino, InodeProblem::ExtraIsize);
            return Ok(());
        }
        if extra + 4 >= max {
            return Ok(());
        }
        if le32(raw, 128 + extra) == EXT4_XATTR_MAGIC {
            self.check_ea_in_inode(ino, inode, raw, extra)?;
        }
        let neg = |t: u32, extra_off: usize| {
            extra_off + 4 <= 128 + extra && t & (1 << 31) != 0 && le32(raw, extra_off) & 3 == 3
        };
        if neg(inode.i_atime, 0x8C)
            || neg(inode.i_ctime, 0x84)
            || neg(inode.i_mtime, 0x88)
            || neg(le32(raw, 0x90), 0x94)
        {
            self.inode_problem(ino, InodeProblem::TimeOutOfRange);
        }
        Ok(())
    }

    /// `e2fsck_pass1_check_symlink`.
    pub(super) fn check_symlink(
        &mut self,
        ino: u32,
        inode: &Ext4Inode,
        raw: &[u8],
    ) -> Result<bool> {
        let size = inode.size();
        if inode.i_size_high != 0 || size == 0 || inode.has_flag(EXT4_INDEX_FL) {
            return Ok(false);
        }
        let encrypted = inode.has_flag(EXT4_ENCRYPT_FL);
        if inode.has_flag(EXT4_INLINE_DATA_FL) {
            if inode.has_flag(EXT4_EXTENTS_FL) {
                return Ok(false);
            }
            return Ok(inline_data_size(raw) == Some(size));
        }
        let (buf, buflen) = if size < 60 {
            if inode.has_flag(EXT4_EXTENTS_FL) {
                return Ok(false);
            }
            (inode.i_block.to_vec(), 60usize)
        } else {
            let blk = if inode.has_flag(EXT4_EXTENTS_FL) {
                let r = &inode.i_block;
                if !extent_header_ok(r)
                    || crate::engine::ondisk::le16(r, 2) != 1
                    || crate::engine::ondisk::le16(r, 6) != 0
                    || le32(r, 12) != 0
                    || crate::engine::ondisk::le16(r, 16) != 1
                {
                    return Ok(false);
                }
                (u64::from(crate::engine::ondisk::le16(r, 18)) << 32) | u64::from(le32(r, 20))
            } else {
                if (1..15).any(|i| le32(&inode.i_block, 4 * i) != 0) {
                    return Ok(false);
                }
                u64::from(le32(&inode.i_block, 0))
            };
            if blk < u64::from(self.sb.s_first_data_block) || blk >= self.sb.blocks_count() {
                return Ok(false);
            }
            (self.fs.bread(blk)?, self.bs as usize)
        };
        let _ = ino;
        let len = if encrypted {
            usize::from(crate::engine::ondisk::le16(&buf, 0)) + 2
        } else {
            buf.iter()
                .take(buflen)
                .position(|&b| b == 0)
                .unwrap_or(buflen)
        };
        Ok(len < buflen && len as u64 == size)
    }

    /// `PR_1_EXTATTR_REFCOUNT`: each attribute block's `h_refcount` equals
    /// the inodes that reference it.
    fn check_ea_refcounts(&mut self) {
        let wrong: Vec<(u64, u32, u32)> = self
            .ea_blocks
            .iter()
            .filter(|(_, e)| e.valid && e.refcount != e.seen)
            .map(|(&b, e)| (b, e.refcount, e.seen))
            .collect();
        for (block, recorded, counted) in wrong {
            self.push(Finding::XattrRefcount {
                block,
                recorded,
                counted,
            });
        }
    }

    /// Pass 1B: the blocks claimed twice, coalesced into runs.
    fn report_dups(&mut self) {
        if self.sb.has_ro_compat(RO_COMPAT_SHARED_BLOCKS) {
            self.dups.clear();
            return;
        }
        let mut dups = std::mem::take(&mut self.dups);
        dups.sort_unstable();
        dups.dedup();
        let mut i = 0;
        while i < dups.len() {
            let (b, first, second) = dups[i];
            let mut n = 1;
            while i + (n as usize) < dups.len() && dups[i + n as usize] == (b + n, first, second) {
                n += 1;
            }
            self.push(Finding::BlockOwnedTwice {
                block: b,
                count: n,
                first: owner_of(first),
                second: owner_of(second),
            });
            i += n as usize;
        }
    }
}

/// Decode a raw inode, up to what `i_extra_isize` covers.
pub(super) fn decode(raw: &[u8]) -> Ext4Inode {
    let extra = extra_isize(raw);
    let n = if 128 + extra <= raw.len() {
        128 + extra
    } else {
        128.min(raw.len())
    };
    Ext4Inode::decode(&raw[..n])
}

/// `ext2fs_extent_header_verify` on `i_block`.
pub(super) fn extent_header_ok(i_block: &[u8]) -> bool {
    let le16 = crate::engine::ondisk::le16;
    le16(i_block, 0) == crate::engine::map::extent_disk::EXT4_EXT_MAGIC
        && le16(i_block, 2) <= le16(i_block, 4)
        && (2..=4).contains(&le16(i_block, 4))
}

/// `ext2fs_inode_has_valid_blocks2`.
pub(super) fn has_valid_blocks(sb: &Ext4SuperBlock, inode: &Ext4Inode) -> bool {
    if !inode.is_dir() && !inode.is_reg() && !inode.is_symlink() {
        return false;
    }
    if inode.is_symlink() {
        if inode.file_acl_sb(sb) == 0 {
            if inode.i_blocks_lo == 0 {
                return false;
            }
        } else {
            let size = inode.i_size_lo;
            if size >= 60 {
                return true;
            }
            if size > 4 && le32(&inode.i_block, 4) == 0 {
                return true;
            }
            return false;
        }
    }
    !inode.has_flag(EXT4_INLINE_DATA_FL)
}

/// `e2fsck_pass1_check_device_inode`.
fn check_device_inode(inode: &Ext4Inode) -> bool {
    if inode.i_flags & (EXT4_INDEX_FL | EXT4_EXTENTS_FL) != 0 {
        return false;
    }
    if inode.i_flags & (EXT4_IMMUTABLE_FL | EXT4_APPEND_FL) != 0
        && (4..15).any(|i| le32(&inode.i_block, 4 * i) != 0)
    {
        return false;
    }
    true
}

/// The `system.data` value of an inline-data inode (`None` without one).
pub(super) fn inline_system_data(raw: &[u8]) -> Option<Vec<u8>> {
    let header = 128 + extra_isize(raw);
    if raw.len() < header + 4 || le32(raw, header) != EXT4_XATTR_MAGIC {
        return None;
    }
    super::xattr::find_attr(
        &raw[header..],
        4,
        4,
        crate::engine::xattr::EXT4_XATTR_INDEX_SYSTEM,
        b"data",
    )
}

/// `ext2fs_inline_data_size`: 60 plus the `system.data` value's size, or
/// `None` without an in-inode `system.data` attribute.
pub(super) fn inline_data_size(raw: &[u8]) -> Option<u64> {
    inline_system_data(raw).map(|v| 60 + v.len() as u64)
}
