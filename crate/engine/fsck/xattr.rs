//! Extended attributes in pass 1 (pass1.c `check_ext_attr` for the
//! attribute block, `check_ea_in_inode` for the in-inode area,
//! `check_large_ea_inode` for values kept in EA inodes) and the
//! encryption context of encrypted inodes (encrypted_files.c).

use super::{Checker, EaBlock, Finding, InodeProblem, XattrProblem};
use crate::device::BlockDevice;
use crate::engine::error::Result;
use crate::engine::inode::{Ext4Inode, EXT4_EA_INODE_FL};
use crate::engine::ondisk::{le16, le32};
use crate::engine::superblock::COMPAT_EXT_ATTR;
use crate::engine::xattr::{xattr_block_csum, EXT4_XATTR_MAGIC};

/// `EXT4_XATTR_INDEX_ENCRYPTION`: the `c` attribute holds the fscrypt context.
const XATTR_INDEX_ENCRYPTION: u8 = 9;
/// `XATTR_SIZE_MAX`.
const XATTR_SIZE_MAX: u32 = 1 << 16;

/// A region allocator (e2fsck region.c): byte ranges that must not overlap
/// and must stay inside `0..max`.
struct Region {
    max: usize,
    used: Vec<(usize, usize)>,
}

impl Region {
    fn new(max: usize) -> Self {
        Region {
            max,
            used: Vec::new(),
        }
    }
    /// Returns true on a collision (or a range outside the region).
    fn allocate(&mut self, start: usize, n: usize) -> bool {
        let end = start.saturating_add(n);
        if end > self.max {
            return true;
        }
        if self.used.iter().any(|&(s, e)| start < e && s < end) {
            return true;
        }
        self.used.push((start, end));
        false
    }
}

/// `EXT2_EXT_ATTR_LEN(name_len)`.
fn entry_len(name_len: usize) -> usize {
    (name_len + 16 + 3) & !3
}

/// `EXT2_EXT_ATTR_SIZE(size)`.
fn value_len(size: usize) -> usize {
    (size + 3) & !3
}

/// `ext2fs_ext_attr_hash_entry` (unsigned) or `_signed`, over the entry
/// at `e` of `area` with its value starting at `value` (the value's
/// `e_value_size` rounded up to words, padding included, as e2fsck reads it).
fn entry_hash(area: &[u8], e: usize, value: Option<&[u8]>, signed: bool) -> u32 {
    let name_len = area[e] as usize;
    let mut h: u32 = 0;
    for &c in area.get(e + 16..e + 16 + name_len).unwrap_or(&[]) {
        let c = if signed {
            c as i8 as i32 as u32
        } else {
            u32::from(c)
        };
        h = (h << 5) ^ (h >> 27) ^ c;
    }
    if let Some(v) = value {
        let size = le32(area, e + 8) as usize;
        for w in 0..value_len(size) / 4 {
            h = (h << 16) ^ (h >> 16) ^ le32(v, 4 * w);
        }
    }
    h
}

impl<D: BlockDevice> Checker<'_, D> {
    /// `check_ext_attr`: the attribute block of `ino`. Returns what it
    /// charges to the inode (`ea_block_quota`): blocks (one cluster, plus
    /// the values kept in EA inodes) and EA inodes; `None` when nothing.
    pub(super) fn check_ext_attr(
        &mut self,
        ino: u32,
        inode: &Ext4Inode,
    ) -> Result<Option<(u64, u64)>> {
        let blk = inode.file_acl_sb(&self.sb);
        if blk == 0 {
            return Ok(None);
        }
        if !self.sb.has_compat(COMPAT_EXT_ATTR)
            || blk < u64::from(self.sb.s_first_data_block)
            || blk >= self.sb.blocks_count()
        {
            self.mark_bad(ino);
            return Ok(None);
        }
        if let Some(ea) = self.ea_blocks.get_mut(&blk) {
            if ea.valid {
                ea.seen += 1;
                return Ok(Some((ea.quota_blocks, ea.quota_inodes)));
            }
        }
        let buf = self.fs.bread(blk)?;
        let bad = |c: &mut Self, problem| {
            c.push(Finding::BadXattr {
                ino,
                block: blk,
                problem,
            });
            Ok(None)
        };
        let failed_csum = self.sb.has_metadata_csum()
            && xattr_block_csum(self.sb.csum_seed(), blk, &buf) != le32(&buf, 0x10);
        if le32(&buf, 0) != EXT4_XATTR_MAGIC {
            return bad(self, XattrProblem::BadMagic);
        }
        if le32(&buf, 8) != 1 {
            return bad(self, XattrProblem::MultiBlock);
        }
        let bs = buf.len();
        let mut region = Region::new(bs);
        region.allocate(0, 32);
        let mut e = 32usize;
        let mut inode_refs = Vec::new();
        let mut quota_blocks = 1u64 << self.cluster_bits;
        while e + 4 <= bs && le32(&buf, e) != 0 {
            let name_len = buf[e] as usize;
            if e + 16 > bs || region.allocate(e, entry_len(name_len)) {
                return bad(self, XattrProblem::Collision);
            }
            if buf[e + 1] == 0 {
                return bad(self, XattrProblem::BadName);
            }
            let offs = le16(&buf, e + 2) as usize;
            let inum = le32(&buf, e + 4);
            let size = le32(&buf, e + 8);
            let hash = le32(&buf, e + 12);
            if inum == 0 {
                if size > XATTR_SIZE_MAX || offs + size as usize > bs {
                    return bad(self, XattrProblem::BadValue);
                }
                if size != 0 && region.allocate(offs, value_len(size as usize)) {
                    return bad(self, XattrProblem::Collision);
                }
                let v = &buf[offs..];
                if hash != entry_hash(&buf, e, Some(v), false)
                    && hash != entry_hash(&buf, e, Some(v), true)
                {
                    return bad(self, XattrProblem::Hash);
                }
            } else {
                match self.check_large_ea_inode(ino, inode, &buf, e)? {
                    Err(problem) => return bad(self, problem),
                    Ok(q) => quota_blocks += q,
                }
                inode_refs.push(inum);
            }
            e += entry_len(name_len);
        }
        if region.allocate(e, 4) {
            return bad(self, XattrProblem::Collision);
        }
        if failed_csum {
            self.push(Finding::BadXattr {
                ino,
                block: blk,
                problem: XattrProblem::Checksum,
            });
        }
        let quota_inodes = inode_refs.len() as u64;
        for i in inode_refs {
            *self.ea_inode_refs.entry(i).or_default() += 1;
        }
        self.ea_blocks.insert(
            blk,
            EaBlock {
                refcount: le32(&buf, 4),
                seen: 1,
                valid: true,
                quota_blocks,
                quota_inodes,
            },
        );
        self.claim(blk, ino);
        Ok(Some((quota_blocks, quota_inodes)))
    }

    /// `check_ea_in_inode`: the in-inode attribute area after
    /// `i_extra_isize` (its magic already seen).
    pub(super) fn check_ea_in_inode(
        &mut self,
        ino: u32,
        inode: &Ext4Inode,
        raw: &[u8],
        extra: usize,
    ) -> Result<()> {
        let header = 128 + extra;
        let storage = raw.len().saturating_sub(header);
        let area = &raw[header..];
        let start = 4usize;
        let mut remain = storage.saturating_sub(4);
        let mut region = Region::new(storage);
        region.allocate(0, 4);
        let mut e = start;
        let mut refs = Vec::new();
        let mut quota_blocks = 0u64;
        let mut problem = None;
        while remain >= 16 && e + 4 <= area.len() && le32(area, e) != 0 {
            let name_len = area[e] as usize;
            if e + 16 > area.len() || region.allocate(e, entry_len(name_len)) {
                problem = Some(XattrProblem::Collision);
                break;
            }
            remain -= 16;
            if value_len(name_len) > remain {
                problem = Some(XattrProblem::NameLen);
                break;
            }
            remain -= value_len(name_len);
            let offs = le16(area, e + 2) as usize;
            let inum = le32(area, e + 4);
            let size = le32(area, e + 8) as usize;
            let hash = le32(area, e + 12);
            if inum == 0 {
                if size > remain {
                    problem = Some(XattrProblem::ValueSize);
                    break;
                }
                if size != 0 && region.allocate(4 + offs, value_len(size)) {
                    problem = Some(XattrProblem::Collision);
                    break;
                }
                let v = area.get(start + offs..).unwrap_or(&[]);
                if hash != 0
                    && hash != entry_hash(area, e, Some(v), false)
                    && hash != entry_hash(area, e, Some(v), true)
                {
                    problem = Some(XattrProblem::Hash);
                    break;
                }
                remain -= size;
            } else {
                match self.check_large_ea_inode(ino, inode, area, e)? {
                    Err(p) => {
                        problem = Some(p);
                        break;
                    }
                    Ok(q) => quota_blocks += q,
                }
                refs.push(inum);
            }
            e += entry_len(name_len);
        }
        if problem.is_none() && region.allocate(e, 4) {
            problem = Some(XattrProblem::Collision);
        }
        match problem {
            Some(problem) => self.push(Finding::BadXattr {
                ino,
                block: 0,
                problem,
            }),
            None => {
                self.ea_ibody_quota = (quota_blocks, refs.len() as u64);
                for i in refs {
                    *self.ea_inode_refs.entry(i).or_default() += 1;
                }
            }
        }
        Ok(())
    }

    /// `check_large_ea_inode`: an entry whose value lives in inode
    /// `e_value_inum` (ea_inode). Returns the blocks its value charges to
    /// the inode (`size_to_quota_blocks`), or the problem.
    fn check_large_ea_inode(
        &mut self,
        ino: u32,
        inode: &Ext4Inode,
        area: &[u8],
        e: usize,
    ) -> Result<std::result::Result<u64, XattrProblem>> {
        let inum = le32(area, e + 4);
        if inum < self.first_ino() || inum > self.sb.s_inodes_count {
            return Ok(Err(XattrProblem::ValueEaInode));
        }
        let Some(vi) = self.read_inode_lenient(inum)? else {
            return Ok(Err(XattrProblem::ValueEaInode));
        };
        let hash = le32(area, e + 12);
        let mix = |h: u32| (h << 16) ^ (h >> 16) ^ vi.i_atime;
        let ok = hash == mix(entry_hash(area, e, None, false))
            || hash == mix(entry_hash(area, e, None, true));
        let mut quota = 0;
        if ok {
            let csize = self.bs << self.cluster_bits;
            let clusters = u64::from(le32(area, e + 8)).div_ceil(csize);
            quota = clusters << self.cluster_bits;
        } else {
            let lustre = vi.i_mtime == ino && vi.i_generation == inode.i_generation;
            if !lustre {
                return Ok(Err(if vi.has_flag(EXT4_EA_INODE_FL) {
                    XattrProblem::Hash
                } else {
                    XattrProblem::ValueEaInode
                }));
            }
        }
        if !vi.has_flag(EXT4_EA_INODE_FL) {
            return Ok(Err(XattrProblem::NoEaInodeFlag));
        }
        Ok(Ok(quota))
    }

    /// The fscrypt context of an encrypted inode (the `c` attribute of
    /// index 9): `None` when missing, else the policy (context minus nonce)
    /// or `Err(())` when corrupt (`get_encryption_policy_id`).
    pub(super) fn encryption_policy(
        &mut self,
        ino: u32,
        inode: &Ext4Inode,
        raw: &[u8],
    ) -> Result<Option<std::result::Result<Vec<u8>, ()>>> {
        let mut value = None;
        let extra = super::pass1::extra_isize(raw);
        let header = 128 + extra;
        if raw.len() > header + 4 && le32(raw, header) == EXT4_XATTR_MAGIC {
            value = find_attr(&raw[header..], 4, 4, XATTR_INDEX_ENCRYPTION, b"c");
        }
        let blk = inode.file_acl_sb(&self.sb);
        if value.is_none() && blk != 0 && blk < self.sb.blocks_count() {
            let buf = self.fs.bread(blk)?;
            if le32(&buf, 0) == EXT4_XATTR_MAGIC {
                value = find_attr(&buf, 32, 0, XATTR_INDEX_ENCRYPTION, b"c");
            }
        }
        let _ = ino;
        Ok(value.map(|v| match v.first() {
            Some(1) if v.len() == 28 => Ok(v[..12].to_vec()),
            Some(2) if v.len() == 40 => Ok(v[..24].to_vec()),
            Some(0) | None => Err(()),
            Some(1) | Some(2) => Err(()),
            // An unrecognized version: a policy of its own.
            Some(_) => Ok(v),
        }))
    }

    pub(super) fn mark_bad(&mut self, ino: u32) {
        if let Some(s) = self.inodes.get_mut(ino as usize) {
            s.bits |= super::I_BAD;
        }
    }

    pub(super) fn inode_problem(&mut self, ino: u32, problem: InodeProblem) {
        self.push(Finding::BadInode { ino, problem });
    }
}

/// The value of attribute (`index`, `name`) in an attribute area whose
/// entries start at `start` and values at `value_base + e_value_offs`.
pub(super) fn find_attr(
    area: &[u8],
    start: usize,
    value_base: usize,
    index: u8,
    name: &[u8],
) -> Option<Vec<u8>> {
    let mut e = start;
    while e + 16 <= area.len() && le32(area, e) != 0 {
        let name_len = area[e] as usize;
        let n = area.get(e + 16..e + 16 + name_len)?;
        if area[e + 1] == index && n == name && le32(area, e + 4) == 0 {
            let offs = value_base + le16(area, e + 2) as usize;
            let size = le32(area, e + 8) as usize;
            return area.get(offs..offs + size).map(|v| v.to_vec());
        }
        e += entry_len(name_len);
    }
    None
}
