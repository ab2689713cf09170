//! The engine's checker: e2fsck's passes in the engine's own words, with
//! structured findings and no repair. It is one of the simulator's oracles
//! (run after every explored execution), the image library's fsck and
//! `ext4lab fsck`; its verdict (clean or not) agrees with `e2fsck -fn`
//! (e2fsprogs 1.47), which the corpus in `tests/fsck_corpus.rs` checks
//! class by class. docs/fsck.md maps e2fsck's problem codes to findings.
//!
//! The passes follow e2fsck (e2fsprogs `e2fsck/`):
//! - `super_check.rs` (super.c `check_super_block`, `check_resize_inode`)
//!   and `journal.rs` (journal.c `e2fsck_check_ext3_journal`): superblock,
//!   group descriptors, resize inode, journal superblock; the filesystem's
//!   own metadata blocks are claimed.
//! - `pass1.rs` (pass1.c): every inode's fields, its block map
//!   (`check_blocks.rs`; `extents.rs`: extent trees and indirect maps),
//!   attributes (`xattr.rs`) and quota charge (`quota.rs`); blocks
//!   claimed, claimed twice (pass 1B), directory blocks listed for pass 2.
//! - `pass2.rs` (pass2.c): every directory block and entry; `htree.rs`
//!   the hash-tree index.
//! - `pass3.rs` (pass3.c): connectivity and `..`.
//! - `pass4.rs` (pass4.c): link counts, unattached inodes.
//! - `pass5.rs` (pass5.c): bitmaps against what was counted, group and
//!   superblock totals, bitmap checksums.
//! - `orphan.rs` (unix.c `check_init_orphan_file`): the orphan file;
//!   `quota.rs` (`quota_compare_and_update`): the quota files.
//!
//! Not checked (see docs/fsck.md): the orphan inode list's release, the
//! bad-blocks list's contents, external journals, and e2fsck's repair and
//! progress steps.

mod check_blocks;
mod extents;
mod finding;
mod htree;
mod journal;
mod orphan;
mod pass1;
mod pass2;
mod pass3;
mod pass4;
mod pass5;
mod quota;
mod super_check;
mod xattr;

pub use finding::{
    BitmapKind, DirProblem, ExtentProblem, Finding, GroupTable, HtreeProblem, InodeProblem,
    JournalProblem, OrphanFileProblem, Owner, SpecialInode, XattrProblem,
};

pub(crate) use super::casefold;
use super::error::{Ext4Error, Result};
use super::fs::{Ext4Fs, OpenOptions};
use super::superblock::Ext4SuperBlock;
use crate::device::{BlockDevice, DevRef};
use serde::Serialize;
use std::collections::BTreeMap;

/// The checker's report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FsckReport {
    pub findings: Vec<Finding>,
    pub inodes_used: u64,
    pub blocks_used: u64,
}

impl FsckReport {
    /// No finding that `e2fsck -n` would call an error.
    pub fn is_clean(&self) -> bool {
        !self.findings.iter().any(Finding::is_error)
    }
}

/// Check the filesystem on `dev`. `Err` only when it cannot be read at all
/// (no usable superblock, or INCOMPAT features the engine does not know).
///
/// Like e2fsck (unix.c), when the primary superblock is unusable (bad
/// magic, checksum or geometry) or its group descriptors fail
/// `ext2fs_check_desc`, the backup in group 1 and the descriptor table
/// after it are checked instead, if there is more than one group.
///
/// The engine is opened over `DevRef<dyn BlockDevice>` whatever `D` is: a
/// check is one pass, so the dynamic calls cost nothing that shows, and the
/// wasm module then holds one copy of the engine for fsck and the image
/// library instead of one per device type.
pub fn fsck<D: BlockDevice>(mut dev: D) -> Result<FsckReport> {
    let dev: &mut dyn BlockDevice = &mut dev;
    let opts = OpenOptions {
        read_only: true,
        fsck: true,
        backup: None,
    };
    let (reason, backup) = match Ext4Fs::open(DevRef(&mut *dev), opts.clone()) {
        Ok(mut fs) => {
            let reason = if fs.checksum_errors().0 {
                Some(Finding::SuperblockChecksum)
            } else if !super_check::check_desc(&fs) {
                Some(Finding::GroupDescriptorsInvalid)
            } else {
                None
            };
            match reason {
                None => return fs.ext4_fsck(),
                Some(r) if fs.groups_count() > 1 => {
                    let sb = &fs.sb;
                    let blk = u64::from(sb.s_blocks_per_group) + u64::from(sb.s_first_data_block);
                    (r, vec![(blk, sb.block_size())])
                }
                Some(r) => {
                    let mut rep = fs.ext4_fsck()?;
                    if r != Finding::SuperblockChecksum {
                        rep.findings.insert(0, r);
                    }
                    return Ok(rep);
                }
            }
        }
        Err(Ext4Error::Corrupt(_)) => (
            Finding::SuperblockInvalid,
            // get_backup_sb: group 1 of the usual geometries.
            (0..7)
                .map(|k| {
                    let bs = 1024u32 << k;
                    (u64::from(bs) * 8 + u64::from(bs == 1024), bs)
                })
                .collect(),
        ),
        Err(e) => return Err(e),
    };
    for b in backup {
        let o = OpenOptions {
            backup: Some(b),
            ..opts.clone()
        };
        if let Ok(mut fs) = Ext4Fs::open(DevRef(&mut *dev), o) {
            if fs.groups_count() > 1 {
                let mut rep = fs.ext4_fsck()?;
                rep.findings
                    .insert(0, Finding::BackupSuperblock { block: b.0 });
                rep.findings.insert(0, reason);
                return Ok(rep);
            }
        }
    }
    // No usable backup: the primary as it is (e2fsck reopens it).
    let mut fs = Ext4Fs::open(DevRef(&mut *dev), opts)?;
    let mut rep = fs.ext4_fsck()?;
    if reason != Finding::SuperblockChecksum {
        rep.findings.insert(0, reason);
    }
    Ok(rep)
}

/// Everything [`Ext4Fs::ext4_fsck`] reads besides the device's blocks: the
/// superblock and group descriptors in memory (the checker starts from
/// them, as e2fsck starts from the ones it read), the checksum errors found
/// when the filesystem was opened, the cached metadata blocks (`bread`
/// returns a cached copy before reading the device), the superblock copy in
/// use and the open's mode. The checker reads no other state: no clock, no
/// journal in memory (it reads the journal inode and superblock through
/// `bread`), no inode cache. So two filesystems with equal inputs, on devices
/// whose blocks are equal, get equal reports; the simulator's end-of-run
/// oracle memoizes the checker on that (crate/kernel/fsck_memo.rs). A new
/// pass that reads more of [`Ext4Fs`] must add it here.
#[derive(Debug, Clone, PartialEq)]
pub struct FsckInput {
    sb: Ext4SuperBlock,
    groups: Vec<super::group_desc::Ext4GroupDesc>,
    sb_csum_bad: bool,
    gd_csum_bad: Vec<u32>,
    /// (block, contents, dirty) of every cached block, by block number.
    cache: Vec<(u64, Vec<u8>, bool)>,
    backup_sb: Option<u64>,
    read_only: bool,
    fsck_mode: bool,
}

impl FsckInput {
    /// How many cached blocks it holds.
    pub fn cached_blocks(&self) -> usize {
        self.cache.len()
    }
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// What [`Ext4Fs::ext4_fsck`] would read now, besides the device.
    pub fn fsck_input(&self) -> FsckInput {
        FsckInput {
            sb: self.sb.clone(),
            groups: self.groups.clone(),
            sb_csum_bad: self.sb_csum_bad,
            gd_csum_bad: self.gd_csum_bad.clone(),
            cache: self
                .cache
                .blocks
                .iter()
                .map(|(&b, buf)| (b, buf.data.clone(), buf.dirty))
                .collect(),
            backup_sb: self.backup_sb,
            read_only: self.read_only.is_some(),
            fsck_mode: self.fsck_mode,
        }
    }

    /// Run every pass (read-only; the block cache is reused).
    pub fn ext4_fsck(&mut self) -> Result<FsckReport> {
        let mut c = Checker::new(self);
        c.pass0()?;
        c.check_journal()?;
        c.pass1()?;
        c.pass2()?;
        c.pass3();
        c.pass4()?;
        let (inodes_used, blocks_used) = c.pass5()?;
        c.check_orphan_file()?;
        c.check_quota()?;
        Ok(FsckReport {
            findings: c.f,
            inodes_used,
            blocks_used,
        })
    }
}

/// `inode_used_map` and friends: what pass 1 learnt about one inode.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InodeState {
    /// `I_*` bits.
    pub bits: u8,
    pub mode: u16,
    /// `i_links_count` as read.
    pub links: u16,
    /// Names found in directories (pass 2), `..` and `.` included.
    pub counted: u32,
    pub i_flags: u32,
}

pub(crate) const I_USED: u8 = 0x1;
pub(crate) const I_DIR: u8 = 0x2;
pub(crate) const I_REG: u8 = 0x4;
/// `inode_bad_map`: fields pass 2 looks at when a name reaches it.
pub(crate) const I_BAD: u8 = 0x8;
/// Scanned by pass 1 (an in-use check applies); unscanned inodes are in
/// an INODE_UNINIT group or past `bg_itable_unused`.
pub(crate) const I_SCANNED: u8 = 0x10;

/// `dir_info`: a directory's parent (the directory holding its first
/// name) and its `..`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DirInfo {
    pub parent: u32,
    pub dotdot: u32,
    /// `i_generation` (seeds the directory blocks' checksums).
    pub generation: u32,
}

/// One entry of `fs->dblist`: a directory block for pass 2. `pblk` 0 is a
/// hole; inline directories have `inline` set (block 0: `i_block`, block
/// 1: the `system.data` value).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirBlock {
    pub ino: u32,
    pub lblk: u32,
    pub pblk: u64,
    pub inline: bool,
}

/// `dx_dir_info`: an indexed directory seen in pass 1.
#[derive(Debug, Clone, Default)]
pub(crate) struct DxDir {
    pub numblocks: u32,
    pub hash_version: u8,
    pub depth: u8,
    pub casefold: bool,
    /// Per logical block: `dx_dirblock_info`.
    pub blocks: Vec<DxBlock>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DxBlock {
    /// 0 leaf, 1 root, 2 interior node.
    pub kind: u8,
    pub parent: u32,
    pub referenced: bool,
    pub dup_ref: bool,
    pub first: bool,
    pub min_hash: u32,
    pub max_hash: u32,
    pub node_min_hash: u32,
    pub node_max_hash: u32,
    /// The block before this one in its parent's entries.
    pub previous: u32,
    pub last: bool,
}

/// An attribute block seen in pass 1 (`block_ea_map` + `refcount`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EaBlock {
    /// `h_refcount` as stored.
    pub refcount: u32,
    /// References found.
    pub seen: u32,
    /// Passed the checks (only then is the refcount compared).
    pub valid: bool,
    /// What it charges each inode: blocks and EA inodes (`ea_block_quota`).
    pub quota_blocks: u64,
    pub quota_inodes: u64,
}

/// Owner value for filesystem metadata in `Checker::owner`.
pub(crate) const OWNER_FS: u32 = u32::MAX;

/// The state of one check (e2fsck's `e2fsck_t`).
pub(crate) struct Checker<'a, D: BlockDevice> {
    pub fs: &'a mut Ext4Fs<D>,
    pub sb: Ext4SuperBlock,
    pub bs: u64,
    pub f: Vec<Finding>,
    /// `log2(cluster ratio)`.
    pub cluster_bits: u32,
    /// Owner of each block: 0 free, `OWNER_FS`, or an inode (per block
    /// even on bigalloc, like e2fsck's subcluster `block_found_map`).
    pub owner: Vec<u32>,
    /// Blocks claimed twice: (block, first owner, second owner).
    pub dups: Vec<(u64, u32, u32)>,
    pub inodes: Vec<InodeState>,
    pub dirs: BTreeMap<u32, DirInfo>,
    pub dblist: Vec<DirBlock>,
    pub dx_dirs: BTreeMap<u32, DxDir>,
    pub ea_blocks: BTreeMap<u64, EaBlock>,
    /// References to EA inodes from attribute entries.
    pub ea_inode_refs: BTreeMap<u32, u64>,
    /// Groups whose bitmaps or table are unusable (`invalid_bitmaps`).
    pub bad_groups: Vec<bool>,
    /// Encryption policy of each encrypted inode (its context minus the nonce).
    pub policies: BTreeMap<u32, Vec<u8>>,
    /// The current inode's in-inode attributes' charge (`ea_ibody_quota`):
    /// blocks and EA inodes of values kept in EA inodes.
    pub ea_ibody_quota: (u64, u64),
    /// Usage counted per quota type (user, group, project) and id.
    pub quota: [BTreeMap<u32, quota::Usage>; 3],
}

impl<'a, D: BlockDevice> Checker<'a, D> {
    fn new(fs: &'a mut Ext4Fs<D>) -> Self {
        let sb = fs.sb.clone();
        let bs = u64::from(sb.block_size());
        let cluster_bits = sb.cluster_bits();
        let ngroups = fs.groups_count() as usize;
        Checker {
            fs,
            bs,
            cluster_bits,
            owner: vec![0; usize::try_from(sb.blocks_count()).unwrap_or(0)],
            dups: Vec::new(),
            inodes: vec![InodeState::default(); sb.s_inodes_count as usize + 1],
            dirs: BTreeMap::new(),
            dblist: Vec::new(),
            dx_dirs: BTreeMap::new(),
            ea_blocks: BTreeMap::new(),
            ea_inode_refs: BTreeMap::new(),
            bad_groups: vec![false; ngroups],
            policies: BTreeMap::new(),
            ea_ibody_quota: (0, 0),
            quota: Default::default(),
            f: Vec::new(),
            sb,
        }
    }

    pub(crate) fn push(&mut self, f: Finding) {
        self.f.push(f);
    }

    /// `mark_block_used`: claim `blk` for `who`. Returns false when the
    /// block is outside the filesystem. A second claim is a duplicate
    /// (pass 1B).
    pub(crate) fn claim(&mut self, blk: u64, who: u32) -> bool {
        let Some(slot) = self.owner.get_mut(blk as usize) else {
            return false;
        };
        match *slot {
            0 => *slot = who,
            first => self.dups.push((blk, first, who)),
        }
        true
    }

    /// Whether pass 1 found `ino` in use.
    pub(crate) fn used(&self, ino: u32) -> bool {
        self.inodes
            .get(ino as usize)
            .is_some_and(|s| s.bits & I_USED != 0)
    }

    pub(crate) fn is_dir(&self, ino: u32) -> bool {
        self.inodes
            .get(ino as usize)
            .is_some_and(|s| s.bits & I_DIR != 0)
    }

    pub(crate) fn first_ino(&self) -> u32 {
        self.sb.first_ino()
    }
}

/// Owner value to the reported form.
pub(crate) fn owner_of(v: u32) -> Owner {
    if v == OWNER_FS {
        Owner::Fs
    } else {
        Owner::Inode(v)
    }
}
