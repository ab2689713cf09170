//! The engine's checker (e2fsck's passes, in the engine's own words):
//! structured findings, no repair. Run after every explored execution, so
//! it reads each metadata block once and agrees with `e2fsck -fn` on clean
//! versus not clean.
//!
//! Pass 1: inodes (checksums, mappings, `i_blocks`, sizes) and block
//! ownership. Pass 2: directory entries. Pass 3/4: connectivity and link
//! counts. Pass 5: bitmaps and free counts against what was counted.

use super::balloc::{blocks_in_group, gdt_blocks, group_first_block, test_bit};
use super::dirops::EntryLoc;
use super::error::{Ext4Error, Result};
use super::fs::{Ext4Fs, OpenOptions};
use super::group_desc::{EXT4_BG_BLOCK_UNINIT, EXT4_BG_INODE_UNINIT};
use super::inode::*;
use super::superblock::{ext4_bg_has_super, COMPAT_HAS_JOURNAL, COMPAT_RESIZE_INODE};
use crate::device::BlockDevice;
use serde::Serialize;
use std::collections::BTreeMap;

/// Who owns a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "ino", rename_all = "snake_case")]
pub enum Owner {
    /// Filesystem metadata (superblocks, descriptors, bitmaps, inode tables).
    Fs,
    Inode(u32),
}

/// One inconsistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    SuperblockChecksum,
    GroupDescChecksum {
        group: u32,
    },
    BitmapChecksum {
        group: u32,
        bitmap: &'static str,
    },
    InodeChecksum {
        ino: u32,
    },
    BadInode {
        ino: u32,
        what: String,
    },
    BadMapping {
        ino: u32,
        what: String,
    },
    BlockOwnedTwice {
        block: u64,
        first: Owner,
        second: Owner,
    },
    BlockInUseButUnowned {
        start: u64,
        count: u64,
    },
    BlockOwnedButFree {
        start: u64,
        count: u64,
    },
    WrongIBlocks {
        ino: u32,
        recorded: u64,
        counted: u64,
    },
    WrongSize {
        ino: u32,
        size: u64,
        what: String,
    },
    InodeInUseButFree {
        ino: u32,
    },
    InodeFreeButMarked {
        ino: u32,
    },
    BadLinkCount {
        ino: u32,
        recorded: u32,
        counted: u32,
    },
    Unconnected {
        ino: u32,
    },
    BrokenDir {
        ino: u32,
        what: String,
    },
    DirEntryToUnusedInode {
        dir: u32,
        name: String,
        ino: u32,
    },
    WrongFileType {
        dir: u32,
        name: String,
        ino: u32,
        recorded: u8,
        expected: u8,
    },
    WrongGroupFreeBlocks {
        group: u32,
        recorded: u32,
        counted: u32,
    },
    WrongGroupFreeInodes {
        group: u32,
        recorded: u32,
        counted: u32,
    },
    WrongGroupDirs {
        group: u32,
        recorded: u32,
        counted: u32,
    },
    WrongItableUnused {
        group: u32,
        recorded: u32,
        highest_used: u32,
    },
    /// A directory has more than one name (a hard link to a directory).
    DirMultiplyLinked {
        ino: u32,
    },
    /// A directory's `..` is not the directory holding its name.
    WrongDotDot {
        ino: u32,
        recorded: u32,
        expected: u32,
    },
    /// `EXT4_EA_INODE_FL` on an inode reached through a directory, on a
    /// filesystem without ea_inode. e2fsck 1.47 -n does not object, so this
    /// is a note; the kernel's `ext4_iget` refuses such an inode
    /// ("unexpected EA_INODE flag", EFSCORRUPTED).
    UnexpectedEaInodeFlag {
        ino: u32,
    },
    /// The resize inode does not describe the reserved GDT blocks. e2fsck
    /// -n reports "Resize inode not valid" with exit status 0: a note.
    ResizeInodeInvalid {
        what: String,
    },
    /// Superblock totals: the kernel keeps these loosely, e2fsck only notes them.
    WrongFreeBlocks {
        recorded: u64,
        counted: u64,
    },
    WrongFreeInodes {
        recorded: u64,
        counted: u64,
    },
}

impl Finding {
    /// Whether e2fsck -n would call the filesystem unclean for this. The
    /// superblock totals and a bad descriptor checksum are reported by
    /// e2fsck -n with exit status 0, so they are notes here too (the kernel
    /// does refuse to mount with a bad descriptor checksum).
    pub fn is_error(&self) -> bool {
        !matches!(
            self,
            Finding::WrongFreeBlocks { .. }
                | Finding::WrongFreeInodes { .. }
                | Finding::GroupDescChecksum { .. }
                | Finding::UnexpectedEaInodeFlag { .. }
                | Finding::ResizeInodeInvalid { .. }
        )
    }
}

/// The checker's report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FsckReport {
    pub findings: Vec<Finding>,
    pub inodes_used: u64,
    pub blocks_used: u64,
}

impl FsckReport {
    pub fn is_clean(&self) -> bool {
        !self.findings.iter().any(Finding::is_error)
    }
}

struct InodeInfo {
    mode: u16,
    links: u16,
    is_dir: bool,
}

/// Check the filesystem on `dev`. `Err` only when it cannot be read at all.
pub fn fsck<D: BlockDevice>(dev: D) -> Result<FsckReport> {
    let mut fs = Ext4Fs::open(
        dev,
        OpenOptions {
            read_only: true,
            fsck: true,
        },
    )?;
    fs.ext4_fsck()
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// Run every pass (read-only; the cache is reused).
    pub fn ext4_fsck(&mut self) -> Result<FsckReport> {
        let mut f = Vec::new();
        let (sb_bad, gd_bad) = self.checksum_errors();
        if sb_bad {
            f.push(Finding::SuperblockChecksum);
        }
        f.extend(
            gd_bad
                .iter()
                .map(|&group| Finding::GroupDescChecksum { group }),
        );
        let sb = self.sb.clone();
        let nblocks = sb.blocks_count();
        let ngroups = self.groups_count();
        let ipg = sb.s_inodes_per_group;
        let bs = self.block_size() as u64;
        let mut owner: Vec<Option<Owner>> = vec![None; nblocks as usize];
        let mut claim = |f: &mut Vec<Finding>, blk: u64, who: Owner| -> bool {
            match owner.get_mut(blk as usize) {
                None => false,
                Some(slot @ None) => {
                    *slot = Some(who);
                    true
                }
                Some(Some(first)) => {
                    f.push(Finding::BlockOwnedTwice {
                        block: blk,
                        first: *first,
                        second: who,
                    });
                    true
                }
            }
        };
        // Filesystem metadata.
        let ipb = bs / sb.inode_size() as u64;
        let itb = (ipg as u64).div_ceil(ipb);
        if sb.s_first_data_block == 1 {
            // Block 0 of a 1 KiB filesystem is outside every group.
        }
        for g in 0..ngroups {
            if ext4_bg_has_super(&sb, g) {
                let first = group_first_block(&sb, g);
                let n = 1 + gdt_blocks(&sb) + sb.s_reserved_gdt_blocks as u64;
                for b in first..first + n {
                    claim(&mut f, b, Owner::Fs);
                }
            }
            let d = self.groups[g as usize].clone();
            claim(&mut f, d.block_bitmap(&sb), Owner::Fs);
            claim(&mut f, d.inode_bitmap(&sb), Owner::Fs);
            let it = d.inode_table(&sb);
            for b in it..(it + itb).min(nblocks) {
                claim(&mut f, b, Owner::Fs);
            }
        }
        // Pass 1: inodes.
        let mut inodes: BTreeMap<u32, InodeInfo> = BTreeMap::new();
        let mut in_use_by_group = vec![Vec::new(); ngroups as usize];
        let first_ino = sb.first_ino();
        let csum = sb.has_group_desc_csum();
        for g in 0..ngroups {
            let d = self.groups[g as usize].clone();
            if csum && d.bg_flags & EXT4_BG_INODE_UNINIT != 0 {
                continue;
            }
            let limit = if csum {
                ipg.saturating_sub(d.itable_unused(&sb))
            } else {
                ipg
            };
            for idx in 0..limit {
                let ino = g * ipg + idx + 1;
                let raw = match self.read_inode_raw(ino) {
                    Ok(r) => r,
                    Err(Ext4Error::Corrupt(super::error::CorruptKind::InodeChecksum {
                        ..
                    })) => {
                        f.push(Finding::InodeChecksum { ino });
                        in_use_by_group[g as usize].push(idx);
                        continue;
                    }
                    Err(Ext4Error::Corrupt(k)) => {
                        f.push(Finding::BadInode {
                            ino,
                            what: k.to_string(),
                        });
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let inode =
                    Ext4Inode::decode(&raw[..raw.len().min(128 + super::fs::extra_isize(&raw))]);
                let reserved = ino < first_ino && ino != EXT4_ROOT_INO;
                if reserved {
                    self.check_reserved(&mut f, &mut claim, ino, &inode)?;
                    continue;
                }
                if inode.i_links_count == 0 {
                    continue;
                }
                in_use_by_group[g as usize].push(idx);
                if inode.has_flag(EXT4_EA_INODE_FL)
                    && !sb.has_incompat(super::superblock::INCOMPAT_EA_INODE)
                {
                    f.push(Finding::UnexpectedEaInodeFlag { ino });
                }
                inodes.insert(
                    ino,
                    InodeInfo {
                        mode: inode.i_mode,
                        links: inode.i_links_count,
                        is_dir: inode.is_dir(),
                    },
                );
                self.check_inode_blocks(&mut f, &mut claim, ino, &inode)?;
            }
        }
        // Pass 2: directories.
        let mut refs: BTreeMap<u32, u32> = BTreeMap::new();
        // dir -> (directory holding its name, its own '..').
        let mut named_in: BTreeMap<u32, u32> = BTreeMap::new();
        let mut dotdot: BTreeMap<u32, u32> = BTreeMap::new();
        let dirs: Vec<u32> = inodes
            .iter()
            .filter(|(_, i)| i.is_dir)
            .map(|(&k, _)| k)
            .collect();
        for &dir in &dirs {
            let entries = match self.dir_entries(dir) {
                Ok(e) => e,
                Err(Ext4Error::Corrupt(k)) => {
                    f.push(Finding::BrokenDir {
                        ino: dir,
                        what: k.to_string(),
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let inline = entries
                .first()
                .is_some_and(|e| matches!(e.loc, EntryLoc::Inline { .. }));
            if !inline {
                let ok = entries.len() >= 2
                    && entries[0].entry.name == b"."
                    && entries[0].entry.inode == dir
                    && entries[0].entry.offset == 0
                    && entries[1].entry.name == b"..";
                if !ok {
                    f.push(Finding::BrokenDir {
                        ino: dir,
                        what: "missing or misplaced '.' / '..'".into(),
                    });
                }
            }
            for e in &entries {
                let name = String::from_utf8_lossy(&e.entry.name).into_owned();
                let t = e.entry.inode;
                if e.entry.name.is_empty()
                    || e.entry.name.contains(&b'/')
                    || e.entry.name.contains(&0)
                {
                    f.push(Finding::BrokenDir {
                        ino: dir,
                        what: format!("bad name {name:?}"),
                    });
                }
                match inodes.get(&t) {
                    None => {
                        f.push(Finding::DirEntryToUnusedInode { dir, name, ino: t });
                        continue;
                    }
                    Some(info) => {
                        let want = super::dir::ext4_type_by_mode(info.mode);
                        let has_ft = sb.has_incompat(super::superblock::INCOMPAT_FILETYPE);
                        let inline_dot = inline && (e.entry.name == b"." || e.entry.name == b"..");
                        if has_ft && !inline_dot && e.entry.file_type != want {
                            f.push(Finding::WrongFileType {
                                dir,
                                name,
                                ino: t,
                                recorded: e.entry.file_type,
                                expected: want,
                            });
                        }
                    }
                }
                *refs.entry(t).or_default() += 1;
                if e.entry.name == b".." {
                    dotdot.insert(dir, t);
                } else if e.entry.name != b"." && inodes.get(&t).is_some_and(|i| i.is_dir) {
                    match named_in.entry(t) {
                        std::collections::btree_map::Entry::Occupied(_) => {
                            f.push(Finding::DirMultiplyLinked { ino: t })
                        }
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(dir);
                        }
                    }
                }
            }
        }
        // Pass 3: each directory's '..' names its parent.
        for (&d, &parent) in &named_in {
            if let Some(&dd) = dotdot.get(&d) {
                if dd != parent {
                    f.push(Finding::WrongDotDot {
                        ino: d,
                        recorded: dd,
                        expected: parent,
                    });
                }
            }
        }
        if dotdot
            .get(&EXT4_ROOT_INO)
            .is_some_and(|&p| p != EXT4_ROOT_INO)
        {
            f.push(Finding::WrongDotDot {
                ino: EXT4_ROOT_INO,
                recorded: dotdot[&EXT4_ROOT_INO],
                expected: EXT4_ROOT_INO,
            });
        }
        // Pass 3/4: connectivity and link counts.
        let dir_nlink = sb.has_ro_compat(super::superblock::RO_COMPAT_DIR_NLINK);
        for (&ino, info) in &inodes {
            let counted = refs.get(&ino).copied().unwrap_or(0);
            if counted == 0 {
                f.push(Finding::Unconnected { ino });
                continue;
            }
            let ok = counted == info.links as u32
                || (info.is_dir && dir_nlink && info.links == 1 && counted >= 2);
            if !ok {
                f.push(Finding::BadLinkCount {
                    ino,
                    recorded: info.links as u32,
                    counted,
                });
            }
        }
        // Pass 5: bitmaps and counts.
        let mut total_free_blocks = 0u64;
        let mut total_free_inodes = 0u64;
        for g in 0..ngroups {
            let d = self.groups[g as usize].clone();
            let first = group_first_block(&sb, g);
            let n = blocks_in_group(&sb, g);
            match self.read_block_bitmap(g) {
                Ok(bm) => {
                    let mut i = 0u32;
                    while i < n {
                        let owned = owner
                            .get((first + i as u64) as usize)
                            .is_some_and(|o| o.is_some());
                        let set = test_bit(&bm, i);
                        if owned != set {
                            let start = i;
                            while i < n
                                && owner
                                    .get((first + i as u64) as usize)
                                    .is_some_and(|o| o.is_some())
                                    == owned
                                && test_bit(&bm, i) == set
                            {
                                i += 1;
                            }
                            let (s, c) = (first + start as u64, (i - start) as u64);
                            f.push(if set {
                                Finding::BlockInUseButUnowned { start: s, count: c }
                            } else {
                                Finding::BlockOwnedButFree { start: s, count: c }
                            });
                        } else {
                            i += 1;
                        }
                    }
                }
                Err(Ext4Error::Corrupt(_)) => f.push(Finding::BitmapChecksum {
                    group: g,
                    bitmap: "block",
                }),
                Err(e) => return Err(e),
            }
            let used = (0..n)
                .filter(|&i| {
                    owner
                        .get((first + i as u64) as usize)
                        .is_some_and(|o| o.is_some())
                })
                .count() as u32;
            let free = n - used;
            total_free_blocks += free as u64;
            if d.free_blocks_count(&sb) != free {
                f.push(Finding::WrongGroupFreeBlocks {
                    group: g,
                    recorded: d.free_blocks_count(&sb),
                    counted: free,
                });
            }
            let _ = d.bg_flags & EXT4_BG_BLOCK_UNINIT;
            let used_idx = &in_use_by_group[g as usize];
            match self.read_inode_bitmap(g) {
                Ok(bm) => {
                    for idx in 0..ipg {
                        let ino = g * ipg + idx + 1;
                        if ino < first_ino && ino != EXT4_ROOT_INO {
                            continue;
                        }
                        let used = used_idx.binary_search(&idx).is_ok();
                        match (used, test_bit(&bm, idx)) {
                            (true, false) => f.push(Finding::InodeInUseButFree { ino }),
                            (false, true) => f.push(Finding::InodeFreeButMarked { ino }),
                            _ => {}
                        }
                    }
                }
                Err(Ext4Error::Corrupt(_)) => f.push(Finding::BitmapChecksum {
                    group: g,
                    bitmap: "inode",
                }),
                Err(e) => return Err(e),
            }
            let reserved_here = (g * ipg + 1..(g + 1) * ipg + 1)
                .filter(|&i| i < first_ino && i != EXT4_ROOT_INO)
                .count() as u32;
            let used_here = used_idx.len() as u32 + reserved_here;
            let free_i = ipg - used_here.min(ipg);
            total_free_inodes += free_i as u64;
            if d.free_inodes_count(&sb) != free_i {
                f.push(Finding::WrongGroupFreeInodes {
                    group: g,
                    recorded: d.free_inodes_count(&sb),
                    counted: free_i,
                });
            }
            let ndirs = used_idx
                .iter()
                .filter(|&&i| inodes.get(&(g * ipg + i + 1)).is_some_and(|x| x.is_dir))
                .count() as u32;
            if d.used_dirs_count(&sb) != ndirs {
                f.push(Finding::WrongGroupDirs {
                    group: g,
                    recorded: d.used_dirs_count(&sb),
                    counted: ndirs,
                });
            }
            if csum {
                if let Some(&hi) = used_idx.last() {
                    if hi + 1 > ipg - d.itable_unused(&sb).min(ipg) {
                        f.push(Finding::WrongItableUnused {
                            group: g,
                            recorded: d.itable_unused(&sb),
                            highest_used: hi + 1,
                        });
                    }
                }
            }
        }
        if sb.free_blocks_count() != total_free_blocks {
            f.push(Finding::WrongFreeBlocks {
                recorded: sb.free_blocks_count(),
                counted: total_free_blocks,
            });
        }
        if sb.s_free_inodes_count as u64 != total_free_inodes {
            f.push(Finding::WrongFreeInodes {
                recorded: sb.s_free_inodes_count as u64,
                counted: total_free_inodes,
            });
        }
        Ok(FsckReport {
            findings: f,
            inodes_used: sb.s_inodes_count as u64 - total_free_inodes,
            blocks_used: nblocks - total_free_blocks,
        })
    }

    /// Reserved inodes: the journal and resize inodes own blocks.
    fn check_reserved(
        &mut self,
        f: &mut Vec<Finding>,
        claim: &mut impl FnMut(&mut Vec<Finding>, u64, Owner) -> bool,
        ino: u32,
        inode: &Ext4Inode,
    ) -> Result<()> {
        let sb = &self.sb;
        if ino == EXT4_JOURNAL_INO && sb.has_compat(COMPAT_HAS_JOURNAL) && sb.s_journal_inum == ino
        {
            return self.check_inode_blocks(f, claim, ino, inode);
        }
        if ino == EXT4_RESIZE_INO && sb.has_compat(COMPAT_RESIZE_INODE) {
            // Its DIND block; the blocks it maps are the reserved GDT blocks.
            let dind = super::ondisk::le32(&inode.i_block, 13 * 4) as u64;
            if dind != 0 && !claim(f, dind, Owner::Inode(ino)) {
                f.push(Finding::BadMapping {
                    ino,
                    what: format!("DIND block {dind} out of range"),
                });
                return Ok(());
            }
            if let Some(what) = self.check_resize_inode(inode, dind)? {
                f.push(Finding::ResizeInodeInvalid { what });
            }
            return Ok(());
        }
        if ino == EXT4_BAD_INO && inode.i_blocks_lo != 0 {
            return self.check_inode_blocks(f, claim, ino, inode);
        }
        Ok(())
    }

    /// `check_resize_inode`: the DIND block names each primary reserved
    /// GDT block, and each of those lists its copy in every backup group.
    fn check_resize_inode(&mut self, inode: &Ext4Inode, dind: u64) -> Result<Option<String>> {
        let sb = self.sb.clone();
        let rsv = sb.s_reserved_gdt_blocks as u64;
        if rsv == 0 {
            return Ok(None);
        }
        if dind == 0 || (0..15).any(|i| i != 13 && super::ondisk::le32(&inode.i_block, 4 * i) != 0)
        {
            return Ok(Some("resize inode must map only a DIND block".into()));
        }
        let apb = self.block_size() as u64 / 4;
        let desc = gdt_blocks(&sb);
        let dbuf = self.bread(dind)?;
        let backups: Vec<u32> = (1..self.groups_count())
            .filter(|&g| ext4_bg_has_super(&sb, g))
            .collect();
        for r in 0..rsv {
            let pblk = sb.s_first_data_block as u64 + 1 + desc + r;
            let off = ((desc + r) % apb) as usize;
            if super::ondisk::le32(&dbuf, 4 * off) as u64 != pblk {
                return Ok(Some(format!(
                    "resize DIND entry {off} is not reserved GDT block {pblk}"
                )));
            }
            let ind = self.bread(pblk)?;
            for (k, &g) in backups.iter().enumerate().take(apb as usize) {
                let expect = pblk + g as u64 * sb.s_blocks_per_group as u64;
                if super::ondisk::le32(&ind, 4 * k) as u64 != expect {
                    return Ok(Some(format!(
                        "reserved GDT block {pblk} entry {k} is not {expect}"
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Claim the blocks of one in-use inode and check `i_blocks` and size.
    fn check_inode_blocks(
        &mut self,
        f: &mut Vec<Finding>,
        claim: &mut impl FnMut(&mut Vec<Finding>, u64, Owner) -> bool,
        ino: u32,
        inode: &Ext4Inode,
    ) -> Result<()> {
        let bs = self.block_size() as u64;
        let who = Owner::Inode(ino);
        let mut counted = 0u64;
        let acl = inode.file_acl();
        if acl != 0 {
            if claim(f, acl, who) {
                counted += 1;
            } else {
                f.push(Finding::BadInode {
                    ino,
                    what: format!("xattr block {acl} out of range"),
                });
            }
        }
        let ft = inode.file_type();
        let has_map =
            matches!(ft, S_IFREG | S_IFDIR | S_IFLNK) && !inode.has_flag(EXT4_INLINE_DATA_FL);
        let fast_symlink = ft == S_IFLNK
            && !inode.has_flag(EXT4_EXTENTS_FL)
            && inode.blocks_512(&self.sb) == counted * (bs / 512);
        if ![
            S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK,
        ]
        .contains(&ft)
        {
            f.push(Finding::BadInode {
                ino,
                what: format!("bad mode {:#o}", inode.i_mode),
            });
            return Ok(());
        }
        let mut last_written: Option<u64> = None;
        if has_map && !fast_symlink {
            match self.walk_mapping(ino, inode) {
                Ok(own) => {
                    for e in &own.data {
                        for k in 0..e.ee_len as u64 {
                            if !claim(f, e.pblk + k, who) {
                                f.push(Finding::BadMapping {
                                    ino,
                                    what: format!("block {} out of range", e.pblk + k),
                                });
                                break;
                            }
                        }
                        counted += e.ee_len as u64;
                        if !e.unwritten {
                            let end = e.ee_block as u64 + e.ee_len as u64;
                            last_written = Some(last_written.map_or(end, |l: u64| l.max(end)));
                        }
                    }
                    for &m in &own.metadata {
                        claim(f, m, who);
                        counted += 1;
                    }
                }
                Err(Ext4Error::Corrupt(k)) => {
                    f.push(Finding::BadMapping {
                        ino,
                        what: k.to_string(),
                    });
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        let recorded = inode.blocks_512(&self.sb);
        if recorded != counted * (bs / 512) {
            f.push(Finding::WrongIBlocks {
                ino,
                recorded,
                counted: counted * (bs / 512),
            });
        }
        if let Some(end) = last_written {
            let size = inode.size();
            if ft == S_IFDIR && size != end * bs {
                f.push(Finding::WrongSize {
                    ino,
                    size,
                    what: format!("directory maps {end} blocks"),
                });
            } else if ft == S_IFREG && size < (end - 1) * bs + 1 {
                f.push(Finding::WrongSize {
                    ino,
                    size,
                    what: format!("blocks mapped up to {end}"),
                });
            }
        }
        Ok(())
    }
}
