//! Pass 2 (e2fsck pass2.c `check_dir_block`): every directory block on
//! pass 1's list, in e2fsck's order (first blocks first, then by physical
//! block). Entries are parsed the way e2fsck does: `.` and `..` first,
//! each entry's inode number, name and file type, the inode it names in
//! use, a directory named once; hash-tree blocks are collected for the
//! index checks in `htree.rs`; the "bad inode" fields noted in pass 1 are
//! reported when a name reaches the inode (`e2fsck_process_bad_inode`).
//!
//! `-n` refuses every repair: after `PR_2_DIR_CORRUPTED` e2fsck stops
//! ("abort"); here the rest of that block is skipped and the check goes
//! on, which finds more but never less.

use super::{
    Checker, DirBlock, DirProblem, Finding, InodeProblem, XattrProblem, I_BAD, I_DIR, I_REG,
};
use crate::device::BlockDevice;
use crate::engine::dir::ext4_type_by_mode;
use crate::engine::error::Result;
use crate::engine::group_desc::EXT4_BG_INODE_UNINIT;
use crate::engine::inode::*;
use crate::engine::ondisk::{le16, le32};
use crate::engine::superblock::*;
use std::collections::BTreeSet;

/// A directory block as pass 2 reads it.
struct Block {
    buf: Vec<u8>,
    /// Where parsing stops (`max_block_size`).
    max: usize,
    failed_csum: bool,
    is_leaf: bool,
    /// Index of this block in the htree (`Some` for an indexed directory).
    dx: Option<usize>,
}

impl<D: BlockDevice> Checker<'_, D> {
    pub(super) fn pass2(&mut self) -> Result<()> {
        let mut list = std::mem::take(&mut self.dblist);
        if self.sb.has_compat(COMPAT_DIR_INDEX) {
            list.sort_by_key(|d| (d.lblk != 0, d.pblk, d.ino, d.lblk));
        } else {
            list.sort_by_key(|d| (d.pblk, d.lblk, d.ino));
        }
        let mut bad_reported = BTreeSet::new();
        for db in &list {
            self.check_dir_block(db, &mut bad_reported)?;
        }
        self.check_dx_dirs();
        Ok(())
    }

    fn dir_problem(&mut self, db: &DirBlock, offset: usize, entry: u32, problem: DirProblem) {
        self.push(Finding::BadDirEntry {
            dir: db.ino,
            block: db.lblk,
            offset: offset as u32,
            entry,
            problem,
        });
    }

    /// Read one block of the list (or the inline area) and classify it.
    fn read_dir_block(&mut self, db: &DirBlock) -> Result<Option<Block>> {
        let ino = db.ino;
        let sb = self.sb.clone();
        let bs = self.bs as usize;
        if db.inline {
            let Some(raw) = self.read_inode_raw_lenient(ino)? else {
                return Ok(None);
            };
            let inode = super::pass1::decode(&raw);
            let size = super::pass1::inline_data_size(&raw).unwrap_or(60) as usize;
            if size & 3 != 0 || (size > 60 && size < 60 + 12) {
                self.dir_problem(db, 0, 0, DirProblem::BadInlineSize);
            }
            let (buf, max) = if db.lblk == 0 {
                (inode.i_block.to_vec(), 60)
            } else {
                let mut all = inode.i_block.to_vec();
                all.extend(super::pass1::inline_system_data(&raw).unwrap_or_default());
                let v = all.get(60..).unwrap_or(&[]).to_vec();
                let n = size.saturating_sub(60).min(v.len());
                (v, n)
            };
            return Ok(Some(Block {
                buf,
                max,
                failed_csum: false,
                is_leaf: true,
                dx: None,
            }));
        }
        if db.pblk == 0 {
            if sb.has_incompat(INCOMPAT_LARGEDIR) && !sb.has_incompat(INCOMPAT_INLINE_DATA) {
                return Ok(None);
            }
            self.dir_problem(db, 0, 0, DirProblem::Hole);
            return Ok(None);
        }
        let buf = self.fs.bread(db.pblk)?;
        let gen = self.dirs.get(&ino).map_or(0, |d| d.generation);
        let failed_csum = sb.has_metadata_csum() && !self.dir_block_csum_ok(ino, gen, &buf);
        let mut is_leaf = true;
        let mut dx = None;
        if let Some(dxd) = self.dx_dirs.get_mut(&ino).filter(|d| d.numblocks > 0) {
            if db.lblk >= dxd.numblocks {
                let p = DirProblem::UnexpectedHtreeBlock;
                self.dir_problem(db, 0, 0, p);
                self.dx_dirs.remove(&ino);
            } else {
                let b = db.lblk as usize;
                let blk = &mut dxd.blocks[b];
                blk.kind = 0;
                blk.min_hash = u32::MAX;
                blk.max_hash = 0;
                let limit_ok = le16(&buf, 8)
                    == ((bs - (8 + if sb.has_metadata_csum() { 8 } else { 0 })) / 8) as u16;
                if db.lblk == 0 {
                    blk.kind = 1;
                    blk.first = true;
                    blk.last = true;
                    let levels = buf[30];
                    let max_levels = if sb.has_incompat(INCOMPAT_LARGEDIR) {
                        3
                    } else {
                        2
                    };
                    let version = buf[28];
                    if le32(&buf, 24) != 0 || buf[29] < 8 || levels >= max_levels {
                        self.push(Finding::BadHtree {
                            ino,
                            block: 0,
                            problem: super::HtreeProblem::BadRoot,
                        });
                        self.dx_dirs.remove(&ino);
                    } else {
                        let unsigned = sb.s_flags & EXT2_FLAGS_UNSIGNED_HASH != 0;
                        dxd.hash_version = if version <= 2 && unsigned {
                            version + 3
                        } else {
                            version
                        };
                        dxd.depth = levels + 1;
                        dx = Some(0);
                    }
                } else {
                    let rec_len = crate::engine::dir::rec_len_from_disk(le16(&buf, 4), bs);
                    if le32(&buf, 0) == 0 && rec_len == bs && buf[6] == 0 && limit_ok {
                        blk.kind = 2;
                    }
                    dx = Some(b);
                }
                is_leaf =
                    dx.is_some_and(|b| self.dx_dirs[&ino].blocks[b].kind == 0) || dx.is_none();
                if dx.is_none() && db.lblk == 0 {
                    is_leaf = true;
                }
            }
        }
        let mut max = bs;
        if sb.has_metadata_csum() && is_leaf {
            if failed_csum && !self.has_dirent_tail(&buf) {
                self.dir_problem(db, 0, 0, DirProblem::MissingChecksum);
                return Ok(Some(Block {
                    buf,
                    max: bs,
                    failed_csum: false,
                    is_leaf,
                    dx,
                }));
            }
            max = bs - 12;
        }
        Ok(Some(Block {
            buf,
            max,
            failed_csum,
            is_leaf,
            dx,
        }))
    }

    /// `check_dir_block`.
    fn check_dir_block(&mut self, db: &DirBlock, bad_reported: &mut BTreeSet<u32>) -> Result<()> {
        let ino = db.ino;
        if !self.used(ino) || !self.is_dir(ino) {
            return Ok(());
        }
        let Some(b) = self.read_dir_block(db)? else {
            return Ok(());
        };
        let sb = self.sb.clone();
        let bs = self.bs as usize;
        let filetype_fs = sb.has_incompat(INCOMPAT_FILETYPE);
        let dir_policy = self.policies.get(&ino).cloned();
        let dir_flags = self.inodes[ino as usize].i_flags;
        let casefolded = dir_flags & EXT4_CASEFOLD_FL != 0 && sb.has_incompat(INCOMPAT_CASEFOLD);
        let strict = sb.s_encoding_flags & EXT4_ENC_STRICT_MODE_FL != 0;
        let hash_in_dirent = casefolded && dir_policy.is_some();
        let mut dot_state = if db.lblk == 0 { 0 } else { 2 };
        let mut offset = 0usize;
        let mut names: BTreeSet<Vec<u8>> = BTreeSet::new();
        let ipg = sb.s_inodes_per_group;
        loop {
            let (d_ino, rec_len, name): (u32, usize, Vec<u8>);
            let mut file_type: u8;
            let name_term: u8;
            let synthetic = db.inline && db.lblk == 0 && dot_state < 2;
            if synthetic {
                // Inline directories keep '.' implicit and '..' in the first
                // four bytes (check_dir_block's on-stack entries).
                d_ino = if dot_state == 0 { ino } else { le32(&b.buf, 0) };
                rec_len = 0;
                name = if dot_state == 0 {
                    b".".to_vec()
                } else {
                    b"..".to_vec()
                };
                file_type = if filetype_fs { 2 } else { 0 };
                name_term = 0;
            } else {
                let extended = dot_state > 1 && hash_in_dirent;
                // ext2fs_dir_rec_len(1, extended)
                let min_len = 12 + if extended { 8 } else { 0 };
                let raw_len = if b.max - offset < 8 {
                    min_len
                } else {
                    let v = le16(&b.buf, offset + 4);
                    if v == 0 || v as usize == 0xFFFF {
                        bs
                    } else {
                        (v as usize & 65532) | ((v as usize & 3) << 16)
                    }
                };
                let name_len = *b.buf.get(offset + 6).unwrap_or(&0) as usize;
                let need = ((name_len + 8 + 3) & !3) + if extended { 8 } else { 0 };
                if offset + raw_len > b.max
                    || raw_len < min_len
                    || raw_len % 4 != 0
                    || need > raw_len
                {
                    self.dir_problem(db, offset, 0, DirProblem::Corrupted);
                    return Ok(());
                }
                d_ino = le32(&b.buf, offset);
                rec_len = raw_len;
                name = b.buf[offset + 8..offset + 8 + name_len].to_vec();
                file_type = b.buf[offset + 7];
                name_term = *b.buf.get(offset + 8 + name_len).unwrap_or(&0);
            }
            let mut skip = false;
            if dot_state == 0 {
                let p = if d_ino == 0 {
                    Some(DirProblem::MissingDot)
                } else if name != b"." {
                    Some(DirProblem::FirstNotDot)
                } else if name_term != 0 && !synthetic {
                    Some(DirProblem::DotNotTerminated)
                } else {
                    None
                };
                if let Some(p) = p {
                    self.dir_problem(db, offset, d_ino, p);
                }
                if d_ino != ino {
                    self.dir_problem(db, offset, d_ino, DirProblem::BadInodeDot);
                }
                if rec_len > 12 && rec_len - 12 > 12 {
                    self.dir_problem(db, offset, d_ino, DirProblem::BigDot);
                }
            } else if dot_state == 1 {
                let p = if d_ino == 0 {
                    Some(DirProblem::MissingDotDot)
                } else if name != b".." {
                    Some(DirProblem::SecondNotDotDot)
                } else if name_term != 0 && !synthetic {
                    Some(DirProblem::DotDotNotTerminated)
                } else {
                    None
                };
                if let Some(p) = p {
                    self.dir_problem(db, offset, d_ino, p);
                } else if let Some(d) = self.dirs.get_mut(&ino) {
                    d.dotdot = d_ino;
                }
            } else if d_ino == ino {
                self.dir_problem(db, offset, d_ino, DirProblem::LinkToDot);
            }
            if d_ino != 0 && !skip {
                let mut problem = None;
                let quota = self.quota_inums();
                if (d_ino != EXT4_ROOT_INO && d_ino < self.first_ino())
                    || d_ino > sb.s_inodes_count
                    || quota.contains(&d_ino)
                    || (d_ino == sb.s_orphan_file_inum && sb.s_orphan_file_inum != 0)
                {
                    problem = Some(DirProblem::BadInode);
                } else if dot_state > 1 && name == b"." {
                    problem = Some(DirProblem::DuplicateDot);
                } else if dot_state > 1 && name == b".." {
                    problem = Some(DirProblem::DuplicateDotDot);
                } else if dot_state > 1 && d_ino == EXT4_ROOT_INO {
                    problem = Some(DirProblem::LinkToRoot);
                } else if dot_state > 1 && name.is_empty() {
                    problem = Some(DirProblem::NullName);
                }
                if let Some(p) = problem {
                    self.dir_problem(db, offset, d_ino, p);
                    if p == DirProblem::BadInode {
                        skip = true;
                    }
                }
                if !skip {
                    if self.inodes[d_ino as usize].bits & I_BAD != 0 && bad_reported.insert(d_ino) {
                        self.process_bad_inode(d_ino)?;
                    }
                    let group = (d_ino - 1) / ipg;
                    let d = self.fs.group_desc(group).cloned();
                    let unused = d.as_ref().map_or(0, |d| d.itable_unused(&sb));
                    let first_unused = group * ipg + 1 + ipg.saturating_sub(unused);
                    if d.is_some_and(|d| d.bg_flags & EXT4_BG_INODE_UNINIT != 0) {
                        self.dir_problem(db, offset, d_ino, DirProblem::InodeInUninitGroup);
                    } else if d_ino >= first_unused {
                        self.dir_problem(db, offset, d_ino, DirProblem::InodeInUnusedArea);
                    }
                    if !self.used(d_ino) {
                        self.dir_problem(db, offset, d_ino, DirProblem::UnusedInode);
                        skip = true;
                    }
                }
                if !skip {
                    // check_filetype
                    if !filetype_fs {
                        if file_type != 0 {
                            self.dir_problem(db, offset, d_ino, DirProblem::FileTypeWithoutFeature);
                        }
                    } else {
                        let st = self.inodes[d_ino as usize];
                        let should_be = if st.bits & I_DIR != 0 {
                            2
                        } else if st.bits & I_REG != 0 {
                            1
                        } else if st.bits & I_BAD != 0 {
                            0
                        } else {
                            ext4_type_by_mode(st.mode)
                        };
                        if file_type != should_be {
                            let p = if file_type != 0 {
                                DirProblem::BadFileType
                            } else {
                                DirProblem::FileTypeNotSet
                            };
                            self.dir_problem(db, offset, d_ino, p);
                            file_type = should_be;
                        }
                    }
                    if let Some(pol) = &dir_policy {
                        if dot_state > 1 {
                            if name.len() < 16 {
                                self.dir_problem(db, offset, d_ino, DirProblem::BadEncryptedName);
                            }
                            let child = self.policies.get(&d_ino);
                            if child != Some(pol) {
                                let needs = match file_type {
                                    0 => {
                                        let st = self.inodes[d_ino as usize];
                                        matches!(st.mode & S_IFMT, S_IFREG | S_IFDIR | S_IFLNK)
                                    }
                                    t => matches!(t, 1 | 2 | 7),
                                };
                                if child.is_none() {
                                    if needs {
                                        self.dir_problem(
                                            db,
                                            offset,
                                            d_ino,
                                            DirProblem::UnencryptedFile,
                                        );
                                    }
                                } else {
                                    self.dir_problem(
                                        db,
                                        offset,
                                        d_ino,
                                        DirProblem::InconsistentEncryptionPolicy,
                                    );
                                }
                            }
                        }
                    } else {
                        if casefolded && strict && super::casefold::casefold(&name).is_none() {
                            self.dir_problem(db, offset, d_ino, DirProblem::BadEncodedName);
                        }
                        if name.iter().any(|&c| c == b'/' || c == 0) {
                            self.dir_problem(db, offset, d_ino, DirProblem::BadName);
                        }
                    }
                    if let Some(bi) = b.dx {
                        let hash = self.entry_hash(ino, &b.buf, offset, &name, dot_state);
                        if let Some(h) = hash {
                            if let Some(dxd) = self.dx_dirs.get_mut(&ino) {
                                let blk = &mut dxd.blocks[bi];
                                blk.min_hash = blk.min_hash.min(h);
                                blk.max_hash = blk.max_hash.max(h);
                            }
                        }
                    }
                    if dot_state > 1 && self.is_dir(d_ino) {
                        let parent = self.dirs.get(&d_ino).map_or(0, |d| d.parent);
                        if parent != 0 {
                            self.dir_problem(db, offset, d_ino, DirProblem::LinkToDirectory);
                            skip = true;
                        } else if let Some(d) = self.dirs.get_mut(&d_ino) {
                            d.parent = ino;
                        }
                    }
                    if !skip {
                        if !names.insert(name.clone()) {
                            self.dir_problem(db, offset, d_ino, DirProblem::DuplicateEntry);
                        }
                        let c = &mut self.inodes[d_ino as usize].counted;
                        *c = c.saturating_add(1);
                    }
                }
            }
            if synthetic {
                if dot_state == 1 {
                    offset = 4;
                }
            } else {
                offset += rec_len;
            }
            dot_state += 1;
            if offset >= b.max {
                break;
            }
        }
        if let Some(bi) = b.dx {
            let kind = self.dx_dirs.get(&ino).map_or(0, |d| d.blocks[bi].kind);
            if kind != 0 {
                self.parse_int_node(db, bi, &b.buf, b.failed_csum);
            }
        }
        if offset != b.max && !(db.inline && db.lblk == 0 && b.max == 60 && offset == 60) {
            self.dir_problem(db, offset, 0, DirProblem::FinalRecLen);
        }
        if b.is_leaf && b.failed_csum && !db.inline {
            self.dir_problem(db, 0, 0, DirProblem::Checksum);
        }
        Ok(())
    }

    /// `e2fsck_process_bad_inode`: the fields pass 1 found odd, reported
    /// when a name reaches the inode (pass 4 for unattached ones).
    pub(super) fn process_bad_inode(&mut self, ino: u32) -> Result<()> {
        let Some(raw) = self.read_inode_raw_lenient(ino)? else {
            return Ok(());
        };
        let sb = self.sb.clone();
        let inode = super::pass1::decode(&raw);
        let acl = inode.file_acl_sb(&sb);
        let xattr = |c: &mut Self, problem| {
            c.push(Finding::BadXattr {
                ino,
                block: acl,
                problem,
            })
        };
        if acl != 0 && !sb.has_compat(COMPAT_EXT_ATTR) {
            xattr(self, XattrProblem::WithoutFeature);
        }
        let ft = inode.file_type();
        let problem = if !matches!(
            ft,
            S_IFDIR | S_IFREG | S_IFCHR | S_IFBLK | S_IFLNK | S_IFIFO | S_IFSOCK
        ) {
            Some(InodeProblem::BadMode)
        } else if matches!(ft, S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK)
            && (inode.i_flags & (EXT4_INDEX_FL | EXT4_EXTENTS_FL) != 0
                || (inode.i_flags & (EXT4_IMMUTABLE_FL | EXT4_APPEND_FL) != 0
                    && (4..15).any(|i| le32(&inode.i_block, 4 * i) != 0)))
        {
            Some(InodeProblem::BadDevice)
        } else if ft == S_IFLNK && !self.check_symlink(ino, &inode, &raw)? {
            Some(InodeProblem::InvalidSymlink)
        } else {
            None
        };
        if let Some(p) = problem {
            self.inode_problem(ino, p);
        }
        if inode.i_obso_faddr != 0 {
            self.inode_problem(ino, InodeProblem::FaddrSet);
        }
        let hurd = sb.s_creator_os == EXT4_OS_HURD;
        if hurd && (raw[0x74] != 0 || raw[0x75] != 0) {
            self.inode_problem(ino, InodeProblem::FragmentSet);
        }
        if sb.s_creator_os == 0
            && !sb.has_ro_compat(RO_COMPAT_HUGE_FILE)
            && inode.l_i_blocks_high != 0
        {
            self.inode_problem(ino, InodeProblem::BlocksHiSet);
        }
        if sb.s_creator_os == 0 && !sb.is_64bit() && inode.l_i_file_acl_high != 0 {
            self.inode_problem(ino, InodeProblem::FileAclHiSet);
        }
        if acl != 0 && (acl < u64::from(sb.s_first_data_block) || acl >= sb.blocks_count()) {
            xattr(self, XattrProblem::BlockOutOfRange);
        }
        let bits = 10 + sb.s_log_block_size.min(6);
        if inode.i_size_high != 0
            && !sb.has_incompat(INCOMPAT_LARGEDIR)
            && u64::from(inode.i_blocks_lo) < 1u64 << (29 - bits.min(29))
            && inode.is_dir()
        {
            self.inode_problem(ino, InodeProblem::DirSizeHighSet);
        }
        Ok(())
    }

    /// A raw inode without judging its checksum.
    pub(super) fn read_inode_raw_lenient(&mut self, ino: u32) -> Result<Option<Vec<u8>>> {
        let Ok((blk, off)) = self.fs.inode_location(ino) else {
            return Ok(None);
        };
        if blk == 0 || blk >= self.sb.blocks_count() {
            return Ok(None);
        }
        let data = self.fs.bread(blk)?;
        let isz = self.sb.inode_size();
        Ok(data.get(off..off + isz).map(|s| s.to_vec()))
    }

    /// `__get_dirent_tail` found a tail (or a corrupt walk).
    pub(super) fn has_dirent_tail(&self, buf: &[u8]) -> bool {
        dirent_tail(buf) != TailState::NoSpace
    }

    /// `ext2fs_dir_block_csum_verify`: a leaf with its tail, or an index
    /// block with its dx tail.
    fn dir_block_csum_ok(&self, ino: u32, gen: u32, buf: &[u8]) -> bool {
        let seed = {
            let c = crate::engine::csum::ext4_chksum(self.sb.csum_seed(), &ino.to_le_bytes());
            crate::engine::csum::ext4_chksum(c, &gen.to_le_bytes())
        };
        match dirent_tail(buf) {
            TailState::Found => {
                let n = buf.len() - 12;
                le32(buf, n + 8) == crate::engine::csum::ext4_chksum(seed, &buf[..n])
            }
            _ => match dx_countlimit(buf) {
                Some(count_offset) => {
                    let limit = le16(buf, count_offset) as usize;
                    let count = le16(buf, count_offset + 2) as usize;
                    if count_offset + limit * 8 > buf.len() - 8 {
                        return false;
                    }
                    let t = count_offset + limit * 8;
                    let size = count_offset + count * 8;
                    let mut c = crate::engine::csum::ext4_chksum(seed, &buf[..size.min(buf.len())]);
                    c = crate::engine::csum::ext4_chksum(c, &buf[t..t + 4]);
                    c = crate::engine::csum::ext4_chksum(c, &[0; 4]);
                    le32(buf, t + 4) == c
                }
                None => false,
            },
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum TailState {
    Found,
    Corrupt,
    NoSpace,
}

/// `__get_dirent_tail`.
fn dirent_tail(buf: &[u8]) -> TailState {
    let top = buf.len() - 12;
    let mut d = 0usize;
    while d < top {
        let rec_len = le16(buf, d + 4) as usize;
        if rec_len < 8 || rec_len & 3 != 0 {
            return TailState::Corrupt;
        }
        d += rec_len;
    }
    if d > buf.len() {
        return TailState::Corrupt;
    }
    if d != top {
        return TailState::NoSpace;
    }
    if le32(buf, top) != 0 || le16(buf, top + 4) != 12 || le16(buf, top + 6) != 0xDE00 {
        return TailState::NoSpace;
    }
    TailState::Found
}

/// `__get_dx_countlimit`: the offset of the `dx_countlimit` of an index
/// block (root or node), if the block looks like one.
pub(super) fn dx_countlimit(buf: &[u8]) -> Option<usize> {
    let bs = buf.len();
    let rec_len = le16(buf, 4) as usize;
    let count_offset = if rec_len == bs && le16(buf, 6) == 0 {
        8
    } else if rec_len == 12 {
        if le16(buf, 12 + 4) as usize != bs - 12 {
            return None;
        }
        if le32(buf, 24) != 0 || buf[29] != 8 {
            return None;
        }
        32
    } else {
        return None;
    };
    let max_sane = (bs - count_offset) / 8;
    if le16(buf, count_offset) as usize > max_sane
        || le16(buf, count_offset + 2) as usize > max_sane
    {
        return None;
    }
    Some(count_offset)
}
