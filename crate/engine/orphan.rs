//! The orphan list (v4.13 fs/ext4/namei.c `ext4_orphan_add`,
//! `ext4_orphan_del`; fs/ext4/super.c `ext4_orphan_cleanup`): inodes whose
//! blocks past `i_size` (or whose whole self, when unlinked) still have to
//! be freed if the machine stops before the operation finishes. The
//! superblock's `s_last_orphan` heads a singly linked list through each
//! orphan's `i_dtime`. A shrinking truncate puts the inode on the list in
//! the same transaction that writes the new size, so a crash between the
//! size and the freeing of the blocks is finished at the next mount.
//!
//! Not modelled: the in-memory `s_orphan` list (the on-disk chain is walked
//! instead: lists here hold a few inodes), the orphan file (the
//! `orphan_file` feature, v5.15), and deleting an unlinked orphan at
//! cleanup (nothing in the engine leaves an open, unlinked inode behind).

use super::error::{CorruptKind, Ext4Error, InodeCorruption, Result};
use super::file::EXT4_MAX_LBLK;
use super::fs::Ext4Fs;
use crate::device::BlockDevice;

impl<D: BlockDevice> Ext4Fs<D> {
    /// The orphan chain from `s_last_orphan`, checked: every link an inode
    /// number in range, no inode twice.
    pub fn orphan_list(&mut self) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        let mut ino = self.sb.s_last_orphan;
        while ino != 0 {
            if ino > self.sb.s_inodes_count || out.contains(&ino) || out.len() > 1 << 16 {
                return Err(Ext4Error::Corrupt(CorruptKind::Inode {
                    ino,
                    why: InodeCorruption::OrphanChain,
                }));
            }
            out.push(ino);
            ino = self.ext4_iget(ino)?.i_dtime;
        }
        Ok(out)
    }

    /// `ext4_orphan_add`: `ino` heads the orphan list (nothing if it is on
    /// it already).
    pub fn ext4_orphan_add(&mut self, ino: u32) -> Result<()> {
        if self.orphan_list()?.contains(&ino) {
            return Ok(());
        }
        let mut inode = self.ext4_iget(ino)?;
        inode.i_dtime = self.sb.s_last_orphan;
        self.write_inode(ino, &inode)?;
        self.sb.s_last_orphan = ino;
        // ext4_handle_dirty_super: the superblock buffer joins the
        // transaction with the inode (not only a later unjournalled write).
        self.ext4_superblock_to_buffer()
    }

    /// `ext4_orphan_del`: unlink `ino` from the orphan list (nothing if it
    /// is not on it).
    pub fn ext4_orphan_del(&mut self, ino: u32) -> Result<()> {
        let list = self.orphan_list()?;
        let Some(i) = list.iter().position(|&x| x == ino) else {
            return Ok(());
        };
        let mut inode = self.ext4_iget(ino)?;
        let next = inode.i_dtime;
        inode.i_dtime = 0;
        self.write_inode(ino, &inode)?;
        if i == 0 {
            self.sb.s_last_orphan = next;
            self.ext4_superblock_to_buffer()?;
        } else {
            let prev = list[i - 1];
            let mut p = self.ext4_iget(prev)?;
            p.i_dtime = next;
            self.write_inode(prev, &p)?;
        }
        Ok(())
    }

    /// `ext4_orphan_cleanup` at mount, after journal recovery: each orphan
    /// with links is truncated to its `i_size` (`ext4_truncate` frees every
    /// block past it, unwritten ones included) and leaves the list. Returns
    /// how many were processed. An unlinked orphan is refused (see the
    /// module doc).
    pub fn ext4_orphan_cleanup(&mut self) -> Result<u32> {
        let list = self.orphan_list()?;
        let bs = self.block_size() as u64;
        for &ino in &list {
            let mut inode = self.ext4_iget(ino)?;
            if inode.i_links_count == 0 {
                return Err(Ext4Error::Unsupported {
                    feature: "deleting an unlinked orphan inode",
                });
            }
            let first = inode.size().div_ceil(bs);
            if first <= EXT4_MAX_LBLK as u64 {
                self.remove_space(ino, &mut inode, first as u32, EXT4_MAX_LBLK)?;
            }
            inode.i_dtime = 0;
            self.write_inode(ino, &inode)?;
        }
        if !list.is_empty() {
            self.sb.s_last_orphan = 0;
            self.ext4_superblock_to_buffer()?;
        }
        Ok(list.len() as u32)
    }
}
