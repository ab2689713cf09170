//! Logical-to-physical block mapping of a file: extent trees
//! (`extent.rs`, fs/ext4/extents.c) and indirect block maps (`indirect.rs`,
//! fs/ext4/indirect.c). Both work on the inode's 60-byte `i_block` and reach
//! the rest of the filesystem only through [`MapContext`], so they are
//! tested on their own and reused by the inode layer, fsck and the simulated
//! kernel (`ext4_map_blocks`, migrate).
//!
//! Public API (all take `&mut dyn MapContext` and the inode's `i_block`):
//! - extents: [`ext4_ext_tree_init`], [`ext4_ext_map_blocks`] (lookup;
//!   `CREATE` allocates holes, `UNWRIT_EXT` makes them unwritten, `CONVERT`
//!   marks unwritten blocks written), [`ext4_convert_unwritten_extents`],
//!   [`ext4_ext_insert_extent`] (a known mapping, no data allocation: the
//!   migrate path), [`ext4_ext_remove_space`] / [`ext4_ext_truncate`]
//!   (inclusive `end`), [`ext4_ext_walk`] (every data extent and tree block);
//! - block maps: [`ext4_ind_map_blocks`], [`ext4_ind_remove_space`] /
//!   [`ext4_ind_truncate`] (inclusive `end`), [`ext4_ind_walk`] (data runs
//!   coalesced into [`Extent`]s, and the IND/DIND/TIND blocks);
//! - [`mem::MemMapContext`]: an in-memory context for tests.
//!
//! Every on-disk value is checked before use; corruption is
//! `CorruptKind::Extent`/`ExtentChecksum`/`BlockMap` naming inode and block.
//! For migrate, build the temporary tree with the *original* inode's
//! checksum seed (the kernel copies `i_csum_seed` to the temporary inode),
//! since the tree blocks keep their checksums when `i_data` is swapped.

use super::error::Result;

pub mod extent;
pub mod extent_disk;
pub mod extent_path;
pub mod extent_remove;
pub mod indirect;
pub mod mem;

pub use extent::{
    ext4_convert_unwritten_extents, ext4_ext_insert_extent, ext4_ext_map_blocks,
    ext4_ext_tree_init, ext4_ext_walk,
};
pub use extent_remove::{ext4_ext_remove_space, ext4_ext_truncate};
pub use indirect::{ext4_ind_map_blocks, ext4_ind_remove_space, ext4_ind_truncate, ext4_ind_walk};

/// Size of `i_block` in bytes (EXT4_N_BLOCKS * 4).
pub const I_BLOCK_SIZE: usize = 60;

/// What block mapping needs from the filesystem.
pub trait MapContext {
    /// Filesystem block size in bytes.
    fn block_size(&self) -> u32;
    /// `s_blocks_count`: any pointer at or past it is corrupt.
    fn blocks_count(&self) -> u64;
    /// The inode whose tree this is (named in errors).
    fn ino(&self) -> u32;
    /// The per-inode checksum seed when metadata_csum is on (extent block
    /// tails are `ext4_chksum(seed, block[..tail])`); `None` otherwise.
    fn inode_csum_seed(&self) -> Option<u32>;
    /// Read a metadata block (index/leaf/indirect block).
    fn read_block(&mut self, pblk: u64, buf: &mut [u8]) -> Result<()>;
    /// Write a metadata block. The filesystem journals it when it journals.
    fn write_block(&mut self, pblk: u64, buf: &[u8]) -> Result<()>;
    /// Allocate up to `count` contiguous blocks, preferring `goal`. Returns
    /// the first block and how many were allocated (1..=count). Blocks for
    /// tree/indirect metadata pass `metadata = true`.
    fn alloc_blocks(&mut self, goal: u64, count: u32, metadata: bool) -> Result<(u64, u32)>;
    /// Free `count` blocks starting at `pblk`.
    fn free_blocks(&mut self, pblk: u64, count: u32) -> Result<()>;
}

bitflags_lite! {
    /// `EXT4_GET_BLOCKS_*` flags for `ext4_map_blocks`.
    MapFlags {
        /// Allocate blocks for holes.
        CREATE = 0x1,
        /// Allocate as unwritten extents (fallocate, dioread_nolock,
        /// get_block_unwritten).
        UNWRIT_EXT = 0x2,
        /// Convert an unwritten range to written.
        CONVERT = 0x10,
        /// `EXT4_GET_BLOCKS_IO_SUBMIT`: the caller is writeback mapping
        /// blocks for pages it is about to submit (the mapper ignores it;
        /// the simulated kernel's data=ordered filing reads it).
        IO_SUBMIT = 0x400,
    }
}

/// The answer of a lookup/allocation for logical block `lblk`
/// (`struct ext4_map_blocks` after the call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapResult {
    /// First logical block asked for.
    pub m_lblk: u32,
    /// Physical block, or `None` for a hole.
    pub m_pblk: Option<u64>,
    /// Number of blocks mapped (or the length of the hole, at least 1).
    pub m_len: u32,
    /// EXT4_MAP_UNWRITTEN: allocated but reads as zeros.
    pub unwritten: bool,
    /// EXT4_MAP_NEW (buffer_new): the blocks were allocated by this call.
    pub new: bool,
}

/// One extent as stored (also used to report indirect-map runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Extent {
    pub ee_block: u32,
    pub ee_len: u32,
    pub pblk: u64,
    pub unwritten: bool,
}

/// Every block a mapping owns: data runs and the tree's own blocks
/// (index/leaf blocks, or IND/DIND/TIND blocks). fsck uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ownership {
    pub data: Vec<Extent>,
    pub metadata: Vec<u64>,
}

/// `alloc_blocks` with its contract enforced: no empty run (ENOSPC), no
/// more than asked (the excess goes back), nothing at block 0 or past
/// `blocks_count`.
pub(crate) fn alloc_checked(
    ctx: &mut dyn MapContext,
    goal: u64,
    want: u32,
    metadata: bool,
) -> Result<(u64, u32)> {
    let (p, n) = ctx.alloc_blocks(goal, want.max(1), metadata)?;
    if n == 0 {
        return Err(super::error::Ext4Error::NoSpace);
    }
    if n > want.max(1) {
        ctx.free_blocks(p + want.max(1) as u64, n - want.max(1))?;
    }
    let n = n.min(want.max(1));
    if p == 0
        || p.checked_add(n as u64)
            .is_none_or(|e| e > ctx.blocks_count())
    {
        ctx.free_blocks(p, n)?;
        return Err(super::error::Ext4Error::Invalid(format!(
            "allocator returned blocks {p}+{n}"
        )));
    }
    Ok((p, n))
}

/// A tiny bitflags helper (avoids a dependency for three constants).
macro_rules! bitflags_lite {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident = $v:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name(pub u32);
        impl $name {
            $($(#[$fm])* pub const $f: $name = $name($v);)*
            pub const fn empty() -> Self { $name(0) }
            pub const fn contains(self, o: $name) -> bool { self.0 & o.0 == o.0 }
        }
        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, o: $name) -> $name { $name(self.0 | o.0) }
        }
    };
}
use bitflags_lite;
