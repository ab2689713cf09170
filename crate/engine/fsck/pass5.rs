//! Pass 5 (e2fsck pass5.c): the on-disk bitmaps against what passes 1-4
//! found in use, their padding, the group and superblock free counts and
//! directory counts, and the bitmap checksums.
//!
//! The bitmaps are read as libext2fs reads them (rw_bitmaps.c): a
//! BLOCK_UNINIT group (with a valid descriptor checksum) reads as its own
//! metadata only, an INODE_UNINIT group as empty; a bad checksum does not
//! stop the comparison (e2fsck reads with `EXT2_FLAG_IGNORE_CSUM_ERRORS`).

use super::{BitmapKind, Checker, Finding};
use crate::device::BlockDevice;
use crate::engine::balloc::{
    block_bitmap_csum, group_first_block, inode_bitmap_csum, set_bit, test_bit,
};
use crate::engine::error::Result;
use crate::engine::group_desc::{
    Ext4GroupDesc, EXT4_BG_BLOCK_BITMAP_CSUM_HI_END, EXT4_BG_BLOCK_UNINIT,
    EXT4_BG_INODE_BITMAP_CSUM_HI_END, EXT4_BG_INODE_UNINIT,
};

impl<D: BlockDevice> Checker<'_, D> {
    /// Returns (inodes used, blocks used).
    pub(super) fn pass5(&mut self) -> Result<(u64, u64)> {
        let sb = self.sb.clone();
        let bits = self.cluster_bits;
        let blocks = sb.blocks_count();
        let nclusters = blocks.div_ceil(1 << bits);
        // A cluster is in use when any of its blocks is.
        let mut used = vec![false; nclusters as usize];
        for (b, &o) in self.owner.iter().enumerate() {
            if o != 0 {
                used[b >> bits] = true;
            }
        }
        let cpg = u64::from(sb.s_clusters_per_group);
        let ipg = sb.s_inodes_per_group;
        let first_cluster = u64::from(sb.s_first_data_block) >> bits;
        let csum = sb.has_group_desc_csum();
        let (_, gd_bad) = self.fs.checksum_errors();
        let gd_bad = gd_bad.to_vec();
        let bs = self.bs as usize;
        let mut free_blocks_total = 0u64;
        let mut free_inodes_total = 0u64;
        let mut padding_reported = (false, false);
        for g in 0..self.fs.groups_count() {
            let Some(d) = self.fs.group_desc(g).cloned() else {
                continue;
            };
            let gd_ok = !gd_bad.contains(&g);
            // ---- blocks ----
            let bb_blk = d.block_bitmap(&sb);
            let from_disk =
                !(csum && d.bg_flags & EXT4_BG_BLOCK_UNINIT != 0 && gd_ok) && bb_blk < blocks;
            let bm = if from_disk {
                self.fs.bread(bb_blk)?
            } else {
                self.uninit_block_bitmap(g, &d)
            };
            if from_disk && !padding_reported.0 && !tail_ok(&bm, (cpg / 8) as usize, bs) {
                self.push(Finding::BitmapPadding {
                    group: g,
                    bitmap: BitmapKind::Block,
                });
                padding_reported.0 = true;
            }
            // The group's clusters inside the filesystem, compared with
            // the bitmap eight at a time where a whole byte agrees (the
            // common case), one at a time where it does not.
            let g0 = first_cluster + u64::from(g) * cpg;
            let valid = nclusters.saturating_sub(g0).min(cpg);
            let mut free = 0u32;
            let mut run: Option<(bool, u64, u64)> = None;
            let mut i = 0u64;
            while i < valid {
                if i % 8 == 0 && i + 8 <= valid {
                    let disk = bm.get((i / 8) as usize).copied().unwrap_or(0);
                    let want = (0..8u64)
                        .fold(0u8, |w, j| w | (u8::from(used[(g0 + i + j) as usize]) << j));
                    if disk == want {
                        free += want.count_zeros();
                        self.flush_run(run.take(), bits);
                        i += 8;
                        continue;
                    }
                }
                let c = g0 + i;
                let bit = test_bit(&bm, i as u32);
                let actual = used[c as usize];
                if !actual {
                    free += 1;
                }
                if actual != bit {
                    match &mut run {
                        Some((set, start, n)) if *set == bit && *start + *n == c => *n += 1,
                        _ => {
                            self.flush_run(run.take(), bits);
                            run = Some((bit, c, 1));
                        }
                    }
                } else {
                    self.flush_run(run.take(), bits);
                }
                i += 1;
            }
            // Clusters past the end of the filesystem must read as in use.
            if !padding_reported.0 && !all_set(&bm, valid, cpg) {
                self.push(Finding::BitmapPadding {
                    group: g,
                    bitmap: BitmapKind::Block,
                });
                padding_reported.0 = true;
            }
            self.flush_run(run.take(), bits);
            free_blocks_total += u64::from(free);
            if d.free_blocks_count(&sb) != free {
                self.push(Finding::WrongGroupFreeBlocks {
                    group: g,
                    recorded: d.free_blocks_count(&sb),
                    counted: free,
                });
            }
            let block_csum_bad = from_disk
                && sb.has_metadata_csum()
                && d.bg_flags & EXT4_BG_BLOCK_UNINIT == 0
                && !csum_matches(
                    &sb,
                    d.block_bitmap_csum(&sb),
                    block_bitmap_csum(&sb, &bm),
                    EXT4_BG_BLOCK_BITMAP_CSUM_HI_END,
                );
            // ---- inodes ----
            let ib_blk = d.inode_bitmap(&sb);
            let ifrom_disk =
                !(csum && d.bg_flags & EXT4_BG_INODE_UNINIT != 0 && gd_ok) && ib_blk < blocks;
            let ibm = if ifrom_disk {
                self.fs.bread(ib_blk)?
            } else {
                vec![0u8; bs]
            };
            if ifrom_disk && !padding_reported.1 && !tail_ok(&ibm, (ipg / 8) as usize, bs) {
                self.push(Finding::BitmapPadding {
                    group: g,
                    bitmap: BitmapKind::Inode,
                });
                padding_reported.1 = true;
            }
            let mut ifree = 0u32;
            let mut dirs = 0u32;
            for idx in 0..ipg {
                let ino = g * ipg + idx + 1;
                let actual = self.used(ino);
                if actual && self.is_dir(ino) {
                    dirs += 1;
                }
                if !actual {
                    ifree += 1;
                }
                match (actual, test_bit(&ibm, idx)) {
                    (true, false) => self.push(Finding::InodeInUseButFree { ino }),
                    (false, true) => self.push(Finding::InodeFreeButMarked { ino }),
                    _ => {}
                }
            }
            free_inodes_total += u64::from(ifree);
            if d.free_inodes_count(&sb) != ifree {
                self.push(Finding::WrongGroupFreeInodes {
                    group: g,
                    recorded: d.free_inodes_count(&sb),
                    counted: ifree,
                });
            }
            if d.used_dirs_count(&sb) != dirs {
                self.push(Finding::WrongGroupDirs {
                    group: g,
                    recorded: d.used_dirs_count(&sb),
                    counted: dirs,
                });
            }
            let inode_csum_bad = ifrom_disk
                && sb.has_metadata_csum()
                && d.bg_flags & EXT4_BG_INODE_UNINIT == 0
                && !csum_matches(
                    &sb,
                    d.inode_bitmap_csum(&sb),
                    inode_bitmap_csum(&sb, &ibm),
                    EXT4_BG_INODE_BITMAP_CSUM_HI_END,
                );
            if inode_csum_bad {
                self.push(Finding::BitmapChecksum {
                    group: g,
                    bitmap: BitmapKind::Inode,
                });
            }
            if block_csum_bad {
                self.push(Finding::BitmapChecksum {
                    group: g,
                    bitmap: BitmapKind::Block,
                });
            }
        }
        let free_blocks = free_blocks_total << bits;
        if sb.free_blocks_count() != free_blocks {
            self.push(Finding::WrongFreeBlocks {
                recorded: sb.free_blocks_count(),
                counted: free_blocks,
            });
        }
        if u64::from(sb.s_free_inodes_count) != free_inodes_total {
            self.push(Finding::WrongFreeInodes {
                recorded: u64::from(sb.s_free_inodes_count),
                counted: free_inodes_total,
            });
        }
        Ok((
            u64::from(sb.s_inodes_count).saturating_sub(free_inodes_total),
            blocks.saturating_sub(free_blocks),
        ))
    }

    /// One run of bitmap differences, in blocks.
    fn flush_run(&mut self, run: Option<(bool, u64, u64)>, bits: u32) {
        if let Some((set, c, n)) = run {
            let (start, count) = (c << bits, n << bits);
            self.push(if set {
                Finding::BlockInUseButUnowned { start, count }
            } else {
                Finding::BlockOwnedButFree { start, count }
            });
        }
    }

    /// The block bitmap libext2fs makes for a BLOCK_UNINIT group
    /// (`mark_uninit_bg_group_blocks`): the superblock copy, descriptor
    /// tables and this group's bitmaps and inode table, wherever they are.
    fn uninit_block_bitmap(&self, g: u32, d: &Ext4GroupDesc) -> Vec<u8> {
        let sb = &self.sb;
        let bits = self.cluster_bits;
        let mut bm = vec![0u8; self.bs as usize];
        let first = group_first_block(sb, g);
        let cpg = u64::from(sb.s_clusters_per_group);
        let first_c = first >> bits;
        let mut mark = |b: u64| {
            let c = b >> bits;
            if c >= first_c && c < first_c + cpg {
                set_bit(&mut bm, (c - first_c) as u32);
            }
        };
        for b in first..first + u64::from(crate::engine::balloc::group_sb_overhead(sb, g)) {
            mark(b);
        }
        mark(d.block_bitmap(sb));
        mark(d.inode_bitmap(sb));
        let it = d.inode_table(sb);
        for b in it..it + self.itable_blocks() {
            mark(b);
        }
        bm
    }
}

/// Whether bits `from..to` of `bm` are all set (bits past its end read as clear).
fn all_set(bm: &[u8], from: u64, to: u64) -> bool {
    let mut i = from;
    while i < to {
        if i % 8 == 0 && i + 8 <= to {
            if bm.get((i / 8) as usize) != Some(&0xff) {
                return false;
            }
            i += 8;
        } else {
            if !test_bit(bm, i as u32) {
                return false;
            }
            i += 1;
        }
    }
    true
}

/// `bitmap_tail_verify`: the bytes after the group's bits are all 0xff.
fn tail_ok(bm: &[u8], nbytes: usize, bs: usize) -> bool {
    bm.get(nbytes..bs)
        .is_none_or(|t| t.iter().all(|&b| b == 0xff))
}

fn csum_matches(
    sb: &crate::engine::superblock::Ext4SuperBlock,
    stored: u32,
    computed: u32,
    hi_end: usize,
) -> bool {
    if sb.desc_size() >= hi_end {
        stored == computed
    } else {
        stored & 0xffff == computed & 0xffff
    }
}

#[cfg(test)]
mod tests {
    use super::all_set;

    #[test]
    fn all_set_checks_every_bit_of_the_range() {
        let mut bm = vec![0xffu8; 4];
        assert!(all_set(&bm, 0, 32));
        assert!(all_set(&bm, 3, 29));
        assert!(all_set(&bm, 7, 7), "an empty range");
        // One clear bit, in a whole byte and in a partial one.
        bm[2] = 0xfe; // bit 16
        assert!(!all_set(&bm, 8, 32));
        assert!(!all_set(&bm, 16, 17));
        assert!(all_set(&bm, 17, 32));
        assert!(all_set(&bm, 0, 16));
        bm[2] = 0xff;
        bm[1] = 0x7f; // bit 15
        assert!(!all_set(&bm, 13, 20));
        assert!(all_set(&bm, 0, 15));
        // Bits past the end of the bitmap read as clear.
        assert!(!all_set(&bm, 30, 40));
    }
}
