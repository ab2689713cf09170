//! Pass 2's hash-tree checks (pass2.c `parse_int_node`, the dx loop of
//! `e2fsck_pass2`, `update_parents`): index blocks' limits, counts,
//! block numbers and hash order; then, per indexed directory, that every
//! block is referenced once, leaves sit at the tree's depth and hold only
//! hashes inside the range their index entry gives them.

use super::{Checker, DirBlock, Finding, HtreeProblem};
use crate::device::BlockDevice;
use crate::engine::hash::ext4fs_dirhash;
use crate::engine::ondisk::{le16, le32};

/// `EXT4_DX_BLOCK_MASK`: the block number bits of a dx entry.
const DX_BLOCK_MASK: u32 = 0x0fff_ffff;

impl<D: BlockDevice> Checker<'_, D> {
    fn htree_problem(&mut self, ino: u32, block: u32, problem: HtreeProblem) {
        self.push(Finding::BadHtree {
            ino,
            block,
            problem,
        });
    }

    /// The hash of an entry of an indexed directory, as the index orders
    /// it (`None`: not hashed, e.g. `.` and `..` with SipHash).
    pub(super) fn entry_hash(
        &self,
        dir: u32,
        buf: &[u8],
        offset: usize,
        name: &[u8],
        dot_state: u32,
    ) -> Option<u32> {
        let dx = self.dx_dirs.get(&dir)?;
        if dx.hash_version == 6 {
            // SipHash (casefolded + encrypted): the hash is stored after the name.
            if dot_state <= 1 {
                return None;
            }
            let at = offset + 8 + ((name.len() + 3) & !3);
            return Some(le32(buf, at));
        }
        let folded;
        let key = if dx.casefold {
            folded = super::casefold::casefold(name);
            folded.as_deref().unwrap_or(name)
        } else {
            name
        };
        Some(ext4fs_dirhash(key, dx.hash_version, &self.sb.s_hash_seed).0)
    }

    /// `parse_int_node`: the root's or an interior node's entries.
    pub(super) fn parse_int_node(
        &mut self,
        db: &DirBlock,
        bi: usize,
        buf: &[u8],
        failed_csum: bool,
    ) {
        let ino = db.ino;
        let bs = self.bs as usize;
        let off = if bi == 0 { 24 + buf[29] as usize } else { 8 };
        if failed_csum {
            self.htree_problem(ino, db.lblk, HtreeProblem::NodeChecksum);
        }
        let csum_size = if self.sb.has_metadata_csum() { 8 } else { 0 };
        let limit = le16(buf, off) as usize;
        let mut count = le16(buf, off + 2) as usize;
        let expect = (bs - (csum_size + off)) / 8;
        if limit != expect {
            self.htree_problem(ino, db.lblk, HtreeProblem::BadLimit);
        }
        if count > expect {
            self.htree_problem(ino, db.lblk, HtreeProblem::BadCount);
            count = expect;
        }
        let Some(dx) = self.dx_dirs.get(&ino) else {
            return;
        };
        let numblocks = dx.numblocks as usize;
        let mut min_hash = u32::MAX;
        let mut max_hash = 0u32;
        let mut hash = 0u32;
        let mut problems = Vec::new();
        let mut updates = Vec::new();
        for i in 0..count {
            let e = off + 8 * i;
            let prev_hash = hash;
            hash = if i == 0 { 0 } else { le32(buf, e) & !1 };
            let blk = (le32(buf, e + 4) & DX_BLOCK_MASK) as usize;
            if blk >= numblocks {
                problems.push(HtreeProblem::BadBlock);
                continue;
            }
            if hash < prev_hash {
                problems.push(HtreeProblem::HashOrder);
            }
            let previous = if i > 0 {
                (le32(buf, e - 8 + 4) & DX_BLOCK_MASK) as usize
            } else {
                0
            };
            let node_max = if i + 1 < count {
                le32(buf, e + 8) & !1
            } else {
                0xffff_fffe
            };
            min_hash = min_hash.min(hash);
            max_hash = max_hash.max(hash);
            updates.push((blk, hash, node_max, previous, i == 0, i + 1 == count));
        }
        for p in problems {
            self.htree_problem(ino, db.lblk, p);
        }
        let Some(dx) = self.dx_dirs.get_mut(&ino) else {
            return;
        };
        for (blk, node_min, node_max, previous, first, last) in updates {
            let b = &mut dx.blocks[blk];
            if b.referenced {
                b.dup_ref = true;
            } else {
                b.referenced = true;
                b.parent = bi as u32;
            }
            b.previous = previous as u32;
            b.node_min_hash = node_min;
            b.node_max_hash = node_max;
            if first {
                b.first = true;
            }
            if last {
                b.last = true;
            }
        }
        dx.blocks[bi].min_hash = min_hash;
        dx.blocks[bi].max_hash = max_hash;
    }

    /// The end of pass 2 for every indexed directory.
    pub(super) fn check_dx_dirs(&mut self) {
        let dirs: Vec<u32> = self.dx_dirs.keys().copied().collect();
        for ino in dirs {
            let Some(mut dx) = self.dx_dirs.remove(&ino) else {
                continue;
            };
            if dx.numblocks == 0 || dx.blocks.is_empty() {
                continue;
            }
            if !self.used(ino) {
                continue;
            }
            {
                let root = &mut dx.blocks[0];
                if root.referenced {
                    root.dup_ref = true;
                } else {
                    root.referenced = true;
                }
            }
            update_parents(&mut dx.blocks, 0);
            update_parents(&mut dx.blocks, 2);
            let mut problems = Vec::new();
            for (b, blk) in dx.blocks.iter().enumerate() {
                if !blk.first && blk.min_hash < blk.node_min_hash {
                    problems.push((b, HtreeProblem::MinHash));
                }
                if blk.kind == 0 {
                    let mut depth = 0u32;
                    let mut cur = blk;
                    while cur.kind != 1 && depth < 32000 {
                        cur = &dx.blocks[cur.parent as usize];
                        depth += 1;
                    }
                    if depth != u32::from(dx.depth) {
                        problems.push((b, HtreeProblem::BadDepth));
                    }
                }
                if b != 0 && blk.max_hash > blk.node_max_hash {
                    problems.push((b, HtreeProblem::MaxHash));
                }
                if !blk.referenced {
                    problems.push((b, HtreeProblem::NotReferenced));
                } else if blk.dup_ref {
                    problems.push((b, HtreeProblem::ReferencedTwice));
                }
            }
            for (b, p) in problems {
                self.htree_problem(ino, b as u32, p);
            }
        }
    }
}

/// `update_parents`: a first child gives its parent its minimum hash (and
/// the parent's previous sibling its upper bound), a last child its maximum.
fn update_parents(blocks: &mut [super::DxBlock], kind: u8) {
    for b in 0..blocks.len() {
        let db = blocks[b];
        if db.kind != kind {
            continue;
        }
        let p = db.parent as usize;
        if db.first {
            blocks[p].min_hash = db.min_hash;
            let prev = blocks[p].previous as usize;
            if prev != 0 {
                let max = blocks[p].max_hash;
                blocks[prev].node_max_hash = max;
            }
        }
        if db.last {
            blocks[p].max_hash = db.max_hash;
        }
    }
}
