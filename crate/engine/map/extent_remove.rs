//! Removing blocks from an extent tree (fs/ext4/extents.c:
//! `ext4_ext_remove_space`, `ext4_ext_rm_leaf`, `ext4_ext_truncate`), for
//! truncate and punch hole.

use super::extent::split_extent_at;
use super::extent_disk::*;
use super::extent_path::*;
use super::MapContext;
use crate::engine::error::{CorruptKind, ExtentCorruption, Result};

/// `ext4_ext_remove_space`: unmap logical blocks `start..=end` (inclusive,
/// like the kernel's), freeing their data blocks and every tree block left
/// empty; a partial extent is trimmed, and an extent straddling `end + 1`
/// is first split there (which may need a tree block: ENOSPC leaves the
/// tree unchanged). Afterwards the tree is made shallower while the root's
/// only child fits in the root.
///
/// Preconditions: `i_data_sem` held for write; a journal handle running
/// when the fs journals.
pub fn ext4_ext_remove_space(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    start: u32,
    end: u32,
) -> Result<()> {
    if start > end {
        return Ok(());
    }
    if end < EXT_MAX_BLOCKS - 1 {
        split_extent_at(ctx, i_block, end + 1)?;
    }
    // Right to left, one extent per step; every step unmaps at least one
    // block, and the bound guards against a tree that lies about that.
    let mut guard: u64 = 0;
    loop {
        guard += 1;
        if guard > (1 << 26) {
            return Err(CorruptKind::Extent {
                ino: ctx.ino(),
                block: 0,
                why: ExtentCorruption::RemoveSpaceLoops,
            }
            .into());
        }
        let mut path = ext4_find_extent(ctx, i_block, end)?;
        let last = path.len() - 1;
        let lf = &mut path[last];
        let Some(i) = lf.p else { break };
        let e = lf.node.entries[i];
        if e.last() < start {
            break;
        }
        if e.lblk >= start {
            // Wholly inside (the split made sure it ends by `end`).
            remove_at(ctx, &mut path, last, i, i_block)?;
            ctx.free_blocks(e.pblk, e.len)?;
        } else {
            let keep = start - e.lblk;
            let n = e.len - keep;
            lf.node.entries[i].len = keep;
            store_node(ctx, &path[last].node, i_block)?;
            ctx.free_blocks(e.pblk + keep as u64, n)?;
            break;
        }
    }
    try_to_shrink(ctx, i_block)
}

/// `ext4_ext_truncate`: unmap every block from `first` on.
///
/// Preconditions: as [`ext4_ext_remove_space`].
pub fn ext4_ext_truncate(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    first: u32,
) -> Result<()> {
    ext4_ext_remove_space(ctx, i_block, first, EXT_MAX_BLOCKS - 1)
}
