//! Pass 1's walk of one inode's block map (pass1.c `check_blocks_extents`
//! and `scan_extent_node` for extent trees, `process_block` over
//! `ext2fs_block_iterate3` for indirect maps): every block claimed, the
//! number of blocks counted for `i_blocks`, the last logical blocks for
//! the size check, directory blocks listed for pass 2.
//!
//! Like e2fsck, the walk reads tree nodes itself instead of through the
//! engine's mapping code: a bad entry is reported and skipped (`-n`
//! answers "no" to deleting it), and the rest of the tree is still walked.
//! A child node whose `eh_depth` disagrees with its parent is walked
//! by position, as libext2fs does (the kernel would refuse it).

use super::{Checker, DirBlock, ExtentProblem, Finding, InodeProblem};
use crate::device::BlockDevice;
use crate::engine::csum::ext4_chksum;
use crate::engine::error::Result;
use crate::engine::inode::{Ext4Inode, EXT4_VERITY_FL};
use crate::engine::map::extent_disk::{ext4_extent_tail_offset, EXT4_EXT_MAGIC, EXT_INIT_MAX_LEN};
use crate::engine::ondisk::{le16, le32};
use crate::engine::superblock::INCOMPAT_LARGEDIR;

/// Per-inode accumulators (`struct process_block_struct`).
#[derive(Debug, Default)]
pub(super) struct BlockScan {
    pub ino: u32,
    pub is_dir: bool,
    pub is_reg: bool,
    /// Clusters charged to the inode.
    pub num_blocks: u64,
    /// Last logical block mapped (`None`: none).
    pub last_block: Option<u64>,
    /// Last initialized logical block of a file.
    pub last_init_lblock: Option<u64>,
    /// Last directory block put on the list (`last_db_block`).
    pub last_db_block: Option<u64>,
    /// First logical block not yet mapped (`next_lblock`).
    pub next_lblock: u64,
    /// Last physical block mapped (`previous_block`).
    pub previous_block: u64,
    /// Whether an error stopped the walk (`PR_1_EXTENT_ITERATE_FAILURE`).
    pub aborted: bool,
    pub size_high: bool,
    pub verity: bool,
    /// The inode's checksum seed (metadata_csum).
    pub csum_seed: Option<u32>,
}

/// `ext2fs_extent_header_verify` on a node of `size` bytes: magic,
/// entries <= max, and max within two entries of what fits.
fn header_ok(buf: &[u8], size: usize) -> bool {
    if le16(buf, 0) != EXT4_EXT_MAGIC {
        return false;
    }
    let entries = le16(buf, 2) as usize;
    let max = le16(buf, 4) as usize;
    let fit = (size - 12) / 12;
    entries <= max && max <= fit && max + 2 >= fit
}

/// `ext2fs_max_extent_depth`: the depth a tree needs to map every
/// logical block (e2fsck notes deeper trees, `PR_1_EXTENT_BAD_MAX_DEPTH`).
pub(super) fn max_extent_depth(block_size: u64) -> u16 {
    let log2 = |x: u64| 63 - x.leading_zeros() as u64;
    let per_block = (block_size - 12) / 12;
    (1 + (log2(u64::from(u32::MAX)) - log2(4)) / log2(per_block)) as u16
}

/// One entry as libext2fs's `ext2fs_extent_get` returns it.
#[derive(Debug, Clone, Copy)]
struct Ext {
    lblk: u64,
    pblk: u64,
    len: u32,
    leaf: bool,
    uninit: bool,
}

impl<D: BlockDevice> Checker<'_, D> {
    /// `check_blocks_extents`.
    pub(super) fn check_blocks_extents(
        &mut self,
        inode: &Ext4Inode,
        pb: &mut BlockScan,
    ) -> Result<()> {
        let ino = pb.ino;
        let root = inode.i_block;
        if !header_ok(&root, 60) {
            self.push(Finding::BadInode {
                ino,
                problem: InodeProblem::BadExtentHeader,
            });
            return Ok(());
        }
        let depth = le16(&root, 6);
        let max = max_extent_depth(self.bs);
        if depth > max {
            self.push(Finding::ExtentTreeTooDeep { ino, depth, max });
        }
        let eof_blocks = inode.size().div_ceil(self.bs);
        let eof_block = eof_blocks.wrapping_sub(1);
        let mut path = vec![0u64];
        self.scan_extent_node(
            pb, &root, depth, 0, 0, eof_blocks, eof_block, false, &mut path,
        )?;
        if pb.aborted {
            self.push(Finding::BadExtent {
                ino,
                lblk: 0,
                block: 0,
                problem: ExtentProblem::BadNodeHeader,
            });
        }
        Ok(())
    }

    /// `scan_extent_node` over the node in `buf` at `level` of a tree of
    /// depth `max_depth`: `start_block..=end_block` is the range its parent
    /// gives it (`end_block` 0 at the root: unbounded), `node_end` the
    /// parent's `end_blk` (for the length of the last index entry).
    #[allow(clippy::too_many_arguments)]
    fn scan_extent_node(
        &mut self,
        pb: &mut BlockScan,
        buf: &[u8],
        max_depth: u16,
        mut start_block: u64,
        end_block: u64,
        node_end: u64,
        eof_block: u64,
        failed_csum: bool,
        path: &mut Vec<u64>,
    ) -> Result<()> {
        let ino = pb.ino;
        let level = (path.len() - 1) as u16;
        let is_leaf = level >= max_depth;
        let entries = le16(buf, 2) as usize;
        let blocks_count = self.sb.blocks_count();
        let first_data = u64::from(self.sb.s_first_data_block);
        let largedir = self.sb.has_incompat(INCOMPAT_LARGEDIR);
        let dir_limit = 1u64 << (21 - self.sb.s_log_block_size.min(21));
        for i in 0..entries {
            let off = 12 + 12 * i;
            let e = if is_leaf {
                let raw_len = u32::from(le16(buf, off + 4));
                let (len, uninit) = if raw_len > EXT_INIT_MAX_LEN {
                    (raw_len - EXT_INIT_MAX_LEN, true)
                } else {
                    (raw_len, false)
                };
                Ext {
                    lblk: u64::from(le32(buf, off)),
                    pblk: (u64::from(le16(buf, off + 6)) << 32) | u64::from(le32(buf, off + 8)),
                    len,
                    leaf: true,
                    uninit,
                }
            } else {
                let lblk = u64::from(le32(buf, off));
                let end = if i + 1 < entries {
                    u64::from(le32(buf, off + 12))
                } else {
                    node_end
                };
                Ext {
                    lblk,
                    pblk: (u64::from(le16(buf, off + 8)) << 32) | u64::from(le32(buf, off + 4)),
                    len: end.wrapping_sub(lblk) as u32,
                    leaf: false,
                    uninit: false,
                }
            };
            let last_lblk = e.lblk.wrapping_add(u64::from(e.len)).wrapping_sub(1);
            let mut problem = if e.pblk == 0 || e.pblk < first_data || e.pblk >= blocks_count {
                Some(ExtentProblem::BadStart)
            } else if e.lblk < start_block {
                Some(ExtentProblem::OutOfOrder)
            } else if end_block != 0
                && last_lblk > end_block
                && !(last_lblk > eof_block && (e.uninit || pb.verity))
            {
                Some(ExtentProblem::EndOutOfBounds)
            } else if e.leaf && e.len == 0 {
                Some(ExtentProblem::ZeroLength)
            } else if e.leaf && e.pblk + u64::from(e.len) > blocks_count {
                Some(ExtentProblem::EndsBeyond)
            } else if e.leaf
                && pb.is_dir
                && !pb.size_high
                && !largedir
                && e.lblk + u64::from(e.len) > dir_limit
            {
                Some(ExtentProblem::TooBigDir)
            } else {
                None
            };
            if e.leaf && problem.is_none() && e.len > 0 {
                if e.lblk < pb.next_lblock {
                    problem = Some(ExtentProblem::Collision);
                } else if e.lblk + u64::from(e.len) > pb.next_lblock {
                    pb.next_lblock = e.lblk + u64::from(e.len);
                }
            }
            if let Some(problem) = problem {
                self.push(Finding::BadExtent {
                    ino,
                    lblk: e.lblk as u32,
                    block: e.pblk,
                    problem,
                });
                continue;
            }
            if !e.leaf {
                // EXT2_EXTENT_DOWN: read the child, check its header.
                if path.contains(&e.pblk) {
                    pb.aborted = true;
                    return Ok(());
                }
                let child = self.fs.bread(e.pblk)?;
                if !header_ok(&child, self.bs as usize) {
                    self.push(Finding::BadExtent {
                        ino,
                        lblk: e.lblk as u32,
                        block: e.pblk,
                        problem: ExtentProblem::BadNodeHeader,
                    });
                    continue;
                }
                if le16(&child, 2) == 0 {
                    // EXT2_ET_EXTENT_NO_DOWN stops the whole walk.
                    pb.aborted = true;
                    return Ok(());
                }
                let bad_csum = !self.extent_block_csum_ok(pb, &child);
                if u64::from(le32(&child, 12)) != e.lblk {
                    self.push(Finding::BadExtent {
                        ino,
                        lblk: e.lblk as u32,
                        block: e.pblk,
                        problem: ExtentProblem::IndexStartInvalid,
                    });
                }
                let child_end = if i + 1 < entries {
                    u64::from(le32(buf, 12 + 12 * (i + 1)))
                } else {
                    node_end
                };
                path.push(e.pblk);
                self.scan_extent_node(
                    pb,
                    &child,
                    max_depth,
                    u64::from(le32(&child, 12)),
                    last_lblk,
                    child_end,
                    eof_block,
                    bad_csum,
                    path,
                )?;
                path.pop();
                if pb.aborted {
                    return Ok(());
                }
                self.claim(e.pblk, ino);
                pb.num_blocks += 1;
                continue;
            }
            if pb.is_dir && e.uninit {
                self.push(Finding::BadExtent {
                    ino,
                    lblk: e.lblk as u32,
                    block: e.pblk,
                    problem: ExtentProblem::UninitDirBlock,
                });
            }
            // A leaf extent: directory blocks (holes included) for pass 2.
            if pb.is_dir {
                let mut next = pb.last_db_block.map_or(0, |b| b + 1);
                while next < e.lblk {
                    self.dblist.push(DirBlock {
                        ino,
                        lblk: next as u32,
                        pblk: 0,
                        inline: false,
                    });
                    next += 1;
                }
                for k in 0..u64::from(e.len) {
                    self.dblist.push(DirBlock {
                        ino,
                        lblk: (e.lblk + k) as u32,
                        pblk: e.pblk + k,
                        inline: false,
                    });
                }
                pb.last_db_block = Some(e.lblk + u64::from(e.len) - 1);
            }
            self.claim_extent(pb, e.lblk, e.pblk, e.len);
            pb.last_block = Some(last_lblk);
            start_block = last_lblk;
            if !pb.is_dir && !e.uninit {
                pb.last_init_lblock = Some(last_lblk);
            }
        }
        if failed_csum {
            self.push(Finding::BadExtent {
                ino,
                lblk: start_block as u32,
                block: *path.last().unwrap_or(&0),
                problem: ExtentProblem::NodeChecksum,
            });
        }
        Ok(())
    }

    /// Claim a leaf extent's blocks, whole clusters on bigalloc (from the
    /// start of its first cluster, or of the next one when the previous
    /// extent ended in it), counting clusters.
    fn claim_extent(&mut self, pb: &mut BlockScan, lblk: u64, pblk: u64, len: u32) {
        let bits = self.cluster_bits;
        let end = pblk + u64::from(len);
        if bits > 0 && self.unaligned_cluster(pb, pblk, lblk) {
            for k in 0..u64::from(len) {
                self.push(Finding::MisalignedCluster {
                    ino: pb.ino,
                    lblk: (lblk + k) as u32,
                    block: pblk + k,
                });
                self.claim(pblk + k, pb.ino);
                self.claim(pblk + k, pb.ino);
            }
        }
        let blk = if bits > 0 && pb.previous_block != 0 && pblk >> bits == pb.previous_block >> bits
        {
            ((pblk >> bits) + 1) << bits
        } else {
            (pblk >> bits) << bits
        };
        if blk < end {
            for b in blk..end {
                self.claim(b, pb.ino);
            }
            pb.num_blocks += (end - blk).div_ceil(1 << bits);
        }
        pb.previous_block = end - 1;
    }

    /// `has_unaligned_cluster_map`.
    pub(super) fn unaligned_cluster(&self, pb: &BlockScan, pblk: u64, lblk: u64) -> bool {
        let bits = self.cluster_bits;
        let mask = (1u64 << bits) - 1;
        if lblk & mask != pblk & mask {
            return true;
        }
        let last_l = pb.last_block.unwrap_or(u64::MAX);
        pb.previous_block != 0
            && lblk & mask != 0
            && lblk >> bits == last_l >> bits
            && pblk >> bits != pb.previous_block >> bits
    }

    /// `ext2fs_extent_block_csum_verify`.
    fn extent_block_csum_ok(&self, pb: &BlockScan, buf: &[u8]) -> bool {
        let Some(seed) = pb.csum_seed else {
            return true;
        };
        let max = le16(buf, 4);
        let off = ext4_extent_tail_offset(max);
        off + 4 <= buf.len() && le32(buf, off) == ext4_chksum(seed, &buf[..off])
    }

    /// Walk an indirect block map (`ext2fs_block_iterate3` +
    /// `process_block`): direct blocks, then IND, DIND and TIND trees;
    /// each metadata block claimed before the blocks it lists.
    pub(super) fn check_blocks_indirect(
        &mut self,
        inode: &Ext4Inode,
        pb: &mut BlockScan,
    ) -> Result<()> {
        let apb = self.bs / 4;
        for i in 0..12u64 {
            let blk = u64::from(le32(&inode.i_block, 4 * i as usize));
            self.process_block(pb, blk, Some(i));
        }
        let mut lblk = 12u64;
        for (slot, level) in [(12usize, 1u32), (13, 2), (14, 3)] {
            let blk = u64::from(le32(&inode.i_block, 4 * slot));
            let span = apb.pow(level);
            if blk != 0 {
                self.walk_ind(pb, blk, level, lblk)?;
            }
            lblk += span;
        }
        Ok(())
    }

    fn walk_ind(&mut self, pb: &mut BlockScan, blk: u64, level: u32, lblk0: u64) -> Result<()> {
        // The metadata block itself (negative blockcnt in libext2fs).
        self.process_block(pb, blk, None);
        if blk >= self.sb.blocks_count() || blk < u64::from(self.sb.s_first_data_block) {
            // EXT2_ET_BAD_IND_BLOCK: the tree below is not read.
            return Ok(());
        }
        let data = self.fs.bread(blk)?;
        let apb = self.bs / 4;
        let span = apb.pow(level - 1);
        for k in 0..apb {
            let child = u64::from(le32(&data, 4 * k as usize));
            let lblk = lblk0 + k * span;
            if level == 1 {
                self.process_block(pb, child, Some(lblk));
            } else if child != 0 {
                self.walk_ind(pb, child, level - 1, lblk)?;
            }
        }
        Ok(())
    }

    /// `process_block` for one entry (`lblk` `None`: a metadata block).
    fn process_block(&mut self, pb: &mut BlockScan, blk: u64, lblk: Option<u64>) {
        let ino = pb.ino;
        if pb.is_dir && lblk == Some(0) && blk == 0 {
            self.dblist.push(DirBlock {
                ino,
                lblk: 0,
                pblk: 0,
                inline: false,
            });
            pb.last_db_block = Some(0);
        }
        if blk == 0 {
            return;
        }
        let bits = self.sb.s_log_block_size.min(21);
        let max_blocks = 1u64 << (31 - bits);
        let mut problem = None;
        if let Some(l) = lblk {
            if pb.is_dir
                && !self.sb.has_incompat(INCOMPAT_LARGEDIR)
                && !pb.size_high
                && l > 1 << (21 - bits)
            {
                problem = Some(InodeProblem::TooBig);
            }
            if !pb.is_dir && !pb.is_reg && l > 0 {
                problem = Some(InodeProblem::TooBig);
            }
        }
        if (pb.is_dir || pb.is_reg) && pb.num_blocks + 1 >= max_blocks {
            problem = Some(InodeProblem::TooBig);
        }
        if blk < u64::from(self.sb.s_first_data_block) || blk >= self.sb.blocks_count() {
            self.push(Finding::IllegalBlock { ino, block: blk });
            return;
        }
        if let Some(problem) = problem {
            self.push(Finding::BadInode { ino, problem });
            return;
        }
        let bits = self.cluster_bits;
        let mask = (1u64 << bits) - 1;
        let same_cluster = bits > 0
            && pb.previous_block != 0
            && blk >> bits == pb.previous_block >> bits
            && lblk.is_some_and(|l| blk & mask == l & mask);
        if !same_cluster {
            self.claim(blk, ino);
            pb.num_blocks += 1;
        } else if let Some(l) = lblk {
            if self.unaligned_cluster(pb, blk, l) {
                self.push(Finding::MisalignedCluster {
                    ino,
                    lblk: l as u32,
                    block: blk,
                });
                self.claim(blk, ino);
                self.claim(blk, ino);
            }
        }
        if let Some(l) = lblk {
            pb.last_block = Some(l);
            if pb.is_dir {
                let mut next = pb.last_db_block.map_or(0, |b| b + 1);
                while next < l {
                    self.dblist.push(DirBlock {
                        ino,
                        lblk: next as u32,
                        pblk: 0,
                        inline: false,
                    });
                    next += 1;
                }
                self.dblist.push(DirBlock {
                    ino,
                    lblk: l as u32,
                    pblk: blk,
                    inline: false,
                });
                pb.last_db_block = Some(l);
            }
        }
        pb.previous_block = blk;
    }
}

/// Whether extents past EOF are allowed to be initialized (verity keeps
/// its Merkle tree there).
pub(super) fn is_verity(inode: &Ext4Inode) -> bool {
    inode.has_flag(EXT4_VERITY_FL)
}
