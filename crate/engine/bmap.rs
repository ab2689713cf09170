//! The inode layer's side of block mapping: `Ext4Fs` implements
//! [`MapContext`] for one inode, and `ext4_map_blocks` dispatches to the
//! extent tree or the indirect map (crate/engine/map, fs/ext4/inode.c).

use super::error::Result;
use super::fs::Ext4Fs;
use super::inode::{inode_csum_seed, Ext4Inode, EXT4_EXTENTS_FL};
use super::map::{self, MapContext, MapFlags, MapResult, Ownership, I_BLOCK_SIZE};
use crate::device::BlockDevice;

/// A [`MapContext`] for inode `ino`: metadata through the block cache and
/// the journal seam, allocation through the bitmaps. Counts blocks
/// allocated/freed so the caller can update `i_blocks`.
pub struct InodeMapCtx<'a, D: BlockDevice> {
    pub fs: &'a mut Ext4Fs<D>,
    pub ino: u32,
    pub seed: Option<u32>,
    /// Blocks allocated minus blocks freed during this context's life.
    pub blocks_delta: i64,
}

impl<'a, D: BlockDevice> InodeMapCtx<'a, D> {
    pub fn new(fs: &'a mut Ext4Fs<D>, ino: u32, inode: &Ext4Inode) -> Self {
        let seed = fs
            .sb
            .has_metadata_csum()
            .then(|| inode_csum_seed(&fs.sb, ino, inode.i_generation));
        InodeMapCtx {
            fs,
            ino,
            seed,
            blocks_delta: 0,
        }
    }
}

impl<D: BlockDevice> MapContext for InodeMapCtx<'_, D> {
    fn block_size(&self) -> u32 {
        self.fs.block_size()
    }
    fn blocks_count(&self) -> u64 {
        self.fs.sb.blocks_count()
    }
    fn ino(&self) -> u32 {
        self.ino
    }
    fn inode_csum_seed(&self) -> Option<u32> {
        self.seed
    }
    fn read_block(&mut self, pblk: u64, buf: &mut [u8]) -> Result<()> {
        let data = self.fs.bread(pblk)?;
        let n = buf.len().min(data.len());
        buf[..n].copy_from_slice(&data[..n]);
        Ok(())
    }
    fn write_block(&mut self, pblk: u64, buf: &[u8]) -> Result<()> {
        self.fs.ext4_handle_dirty_metadata(pblk, buf.to_vec())
    }
    fn alloc_blocks(&mut self, goal: u64, count: u32, _metadata: bool) -> Result<(u64, u32)> {
        let (start, n) = self.fs.ext4_new_blocks(goal, count)?;
        self.blocks_delta += n as i64;
        Ok((start, n))
    }
    fn free_blocks(&mut self, pblk: u64, count: u32) -> Result<()> {
        self.fs.ext4_free_blocks(pblk, count)?;
        self.blocks_delta -= count as i64;
        Ok(())
    }
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// Add `delta` filesystem blocks to `i_blocks` (kept in 512-byte units).
    pub(crate) fn add_i_blocks(&self, inode: &mut Ext4Inode, delta: i64) {
        let per = self.block_size() as i64 / 512;
        let cur = inode.blocks_512(&self.sb) as i64;
        inode.set_blocks_512((cur + delta * per).max(0) as u64);
    }

    /// A goal block for new data of `ino`: near its inode table.
    pub(crate) fn data_goal(&self, ino: u32) -> u64 {
        let group = (ino.saturating_sub(1)) / self.sb.s_inodes_per_group.max(1);
        super::balloc::group_first_block(&self.sb, group)
    }

    /// `ext4_map_blocks` on an inode already read: look up (and with
    /// `CREATE` allocate) the mapping of `len` blocks from `lblk`. Updates
    /// `inode` (i_block, i_blocks) in memory; the caller writes it.
    ///
    /// Preconditions: `i_data_sem` held (write for CREATE/CONVERT).
    pub fn ext4_map_blocks_inode(
        &mut self,
        ino: u32,
        inode: &mut Ext4Inode,
        lblk: u32,
        len: u32,
        flags: MapFlags,
    ) -> Result<MapResult> {
        if flags.0 != 0 {
            self.check_writable()?;
        }
        let mut i_block: [u8; I_BLOCK_SIZE] = inode.i_block;
        let mut ctx = InodeMapCtx::new(self, ino, inode);
        let res = if inode.i_flags & EXT4_EXTENTS_FL != 0 {
            map::ext4_ext_map_blocks(&mut ctx, &mut i_block, lblk, len, flags)
        } else {
            map::ext4_ind_map_blocks(&mut ctx, &mut i_block, lblk, len, flags)
        };
        let delta = ctx.blocks_delta;
        inode.i_block = i_block;
        self.add_i_blocks(inode, delta);
        res
    }

    /// `ext4_map_blocks(ino, lblk, len, flags)`: as above, reading and
    /// (when anything changed) writing the inode.
    pub fn ext4_map_blocks(
        &mut self,
        ino: u32,
        lblk: u32,
        len: u32,
        flags: MapFlags,
    ) -> Result<MapResult> {
        let mut inode = self.ext4_iget(ino)?;
        let before = inode.clone();
        let res = self.ext4_map_blocks_inode(ino, &mut inode, lblk, len, flags);
        if inode != before {
            self.write_inode(ino, &inode)?;
        }
        res
    }

    /// Free the mapping of logical blocks `start..=end` (truncate, punch).
    pub(crate) fn remove_space(
        &mut self,
        ino: u32,
        inode: &mut Ext4Inode,
        start: u32,
        end: u32,
    ) -> Result<()> {
        let mut i_block = inode.i_block;
        let mut ctx = InodeMapCtx::new(self, ino, inode);
        let res = if inode.i_flags & EXT4_EXTENTS_FL != 0 {
            map::ext4_ext_remove_space(&mut ctx, &mut i_block, start, end)
        } else {
            map::ext4_ind_remove_space(&mut ctx, &mut i_block, start, end)
        };
        let delta = ctx.blocks_delta;
        inode.i_block = i_block;
        self.add_i_blocks(inode, delta);
        res
    }

    /// Every block the inode's mapping owns (data and tree blocks).
    pub fn walk_mapping(&mut self, ino: u32, inode: &Ext4Inode) -> Result<Ownership> {
        let i_block = inode.i_block;
        let mut ctx = InodeMapCtx::new(self, ino, inode);
        if inode.i_flags & EXT4_EXTENTS_FL != 0 {
            map::ext4_ext_walk(&mut ctx, &i_block)
        } else {
            map::ext4_ind_walk(&mut ctx, &i_block)
        }
    }
}
