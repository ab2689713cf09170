//! Paths through an extent tree and the structural edits on them
//! (fs/ext4/extents.c: `ext4_find_extent`, `ext4_ext_insert_extent`,
//! `ext4_ext_split`, `ext4_ext_grow_indepth`, `ext4_ext_correct_indexes`,
//! `ext4_ext_rm_idx`).
//!
//! A [`Path`] holds every node from the root (level 0) down to the leaf,
//! each with the position of the entry that covers the searched block. Every
//! edit writes the nodes it changes at once; after an edit that splits or
//! grows the tree the path is stale and callers search again.

use super::extent_disk::*;
use super::MapContext;
use crate::engine::error::{CorruptKind, Ext4Error, ExtentCorruption, Result};

/// One level of a path (`struct ext4_ext_path`).
#[derive(Debug, Clone)]
pub struct PathLevel {
    pub node: Node,
    /// Index of the entry with the largest key <= the searched block, or
    /// `None` when the block is before every entry (or the node is empty).
    pub p: Option<usize>,
}

/// Root first, leaf last.
pub type Path = Vec<PathLevel>;

/// Parse the root in `i_block` (depth limit, magic, counts).
pub fn read_root(ctx: &mut dyn MapContext, i_block: &[u8; 60]) -> Result<Node> {
    parse_node(ctx, i_block, None, None)
}

/// Last entry whose key is <= `lblk` (binary search, `ext4_ext_binsearch`).
fn search(entries: &[Ent], lblk: u32) -> Option<usize> {
    let n = entries.partition_point(|e| e.lblk <= lblk);
    n.checked_sub(1)
}

/// `ext4_find_extent`: the path to the leaf that would hold `lblk`. Each
/// level is checked against its parent (depth, first key); the depth
/// strictly decreases, so a cyclic tree ends in an error, not a loop.
pub fn ext4_find_extent(ctx: &mut dyn MapContext, i_block: &[u8; 60], lblk: u32) -> Result<Path> {
    let root = read_root(ctx, i_block)?;
    let mut path: Path = Vec::with_capacity(root.eh_depth as usize + 1);
    let mut node = root;
    loop {
        let p = search(&node.entries, lblk);
        let depth = node.eh_depth;
        if depth == 0 {
            path.push(PathLevel { node, p });
            return Ok(path);
        }
        // An index node: descend into the covering child (or the first).
        let i = p.unwrap_or(0);
        let Some(ent) = node.entries.get(i).copied() else {
            return Err(CorruptKind::Extent {
                ino: ctx.ino(),
                block: node.pblk.unwrap_or(0),
                why: ExtentCorruption::EmptyIndexNode,
            }
            .into());
        };
        path.push(PathLevel { node, p: Some(i) });
        node = read_tree_block(
            ctx,
            ent.pblk,
            NodeExpect {
                depth: depth - 1,
                first_key: Some(ent.lblk),
            },
        )?;
    }
}

/// The first key after the leaf entry the path points at, looking up the
/// tree when the leaf has no next entry (`ext4_ext_next_allocated_block`).
/// `EXT_MAX_BLOCKS` when there is none.
pub fn next_allocated_block(path: &Path) -> u32 {
    for lvl in path.iter().rev() {
        let next = lvl.p.map_or(0, |i| i + 1);
        if let Some(e) = lvl.node.entries.get(next) {
            return e.lblk;
        }
    }
    EXT_MAX_BLOCKS
}

/// Store every node of the path from `level` up (used after key changes).
fn store(
    ctx: &mut dyn MapContext,
    path: &Path,
    level: usize,
    i_block: &mut [u8; 60],
) -> Result<()> {
    match path.get(level) {
        Some(l) => store_node(ctx, &l.node, i_block),
        None => Ok(()),
    }
}

/// `ext4_ext_correct_indexes`: after the first entry of the node at `level`
/// changed, carry its key up while each node is its parent's first child.
pub fn correct_indexes(
    ctx: &mut dyn MapContext,
    path: &mut Path,
    level: usize,
    i_block: &mut [u8; 60],
) -> Result<()> {
    let mut lvl = level;
    while lvl > 0 {
        let Some(key) = path[lvl].node.entries.first().map(|e| e.lblk) else {
            return Ok(());
        };
        let parent = &mut path[lvl - 1];
        let Some(pi) = parent.p else { return Ok(()) };
        if parent.node.entries[pi].lblk == key {
            return Ok(());
        }
        parent.node.entries[pi].lblk = key;
        store(ctx, path, lvl - 1, i_block)?;
        if pi != 0 {
            return Ok(());
        }
        lvl -= 1;
    }
    Ok(())
}

/// How many new tree blocks inserting one entry into the leaf of `path`
/// may need: one per full node from the leaf up, plus one to grow the root.
pub fn blocks_needed_for_insert(path: &Path) -> usize {
    let mut n = 0;
    for lvl in path.iter().rev() {
        if lvl.node.entries.len() < lvl.node.eh_max as usize {
            return n;
        }
        n += 1;
    }
    n
}

/// A pool of tree blocks allocated before an insert starts, so an insert
/// either completes or changes nothing (ENOSPC is found up front).
pub struct MetaPool {
    blocks: Vec<u64>,
}

impl MetaPool {
    /// Allocate `n` metadata blocks near `goal`.
    pub fn alloc(ctx: &mut dyn MapContext, n: usize, goal: u64) -> Result<MetaPool> {
        let mut blocks = Vec::with_capacity(n);
        let mut g = goal;
        for _ in 0..n {
            match super::alloc_checked(ctx, g, 1, true) {
                Ok((b, _)) => {
                    blocks.push(b);
                    g = b + 1;
                }
                Err(e) => {
                    let pool = MetaPool { blocks };
                    pool.release(ctx)?;
                    return Err(e);
                }
            }
        }
        Ok(MetaPool { blocks })
    }
    fn take(&mut self, ctx: &dyn MapContext) -> Result<u64> {
        self.blocks.pop().ok_or_else(|| {
            CorruptKind::Extent {
                ino: ctx.ino(),
                block: 0,
                why: ExtentCorruption::PoolExhausted,
            }
            .into()
        })
    }
    /// Free whatever was not used.
    pub fn release(self, ctx: &mut dyn MapContext) -> Result<()> {
        for b in self.blocks {
            ctx.free_blocks(b, 1)?;
        }
        Ok(())
    }
}

/// `ext4_ext_grow_indepth`: move the root's entries into a new block and
/// make the root a one-entry index over it. The path gains a level at 1.
pub fn ext4_ext_grow_indepth(
    ctx: &mut dyn MapContext,
    path: &mut Path,
    pool: &mut MetaPool,
    i_block: &mut [u8; 60],
) -> Result<()> {
    let root = &path[0].node;
    if root.eh_depth >= EXT4_MAX_EXTENT_DEPTH {
        return Err(Ext4Error::FileTooBig);
    }
    let nb = pool.take(ctx)?;
    let child = Node {
        pblk: Some(nb),
        eh_max: ext4_ext_space_block(ctx.block_size()),
        eh_depth: root.eh_depth,
        eh_generation: 0,
        entries: root.entries.clone(),
    };
    let key = child.entries.first().map(|e| e.lblk).unwrap_or(0);
    store_node(ctx, &child, i_block)?;
    let child_p = path[0].p;
    let root = &mut path[0].node;
    root.eh_depth += 1;
    root.entries = vec![Ent {
        lblk: key,
        pblk: nb,
        len: 0,
        unwritten: false,
    }];
    store_node(ctx, root, i_block)?;
    path[0].p = Some(0);
    path.insert(
        1,
        PathLevel {
            node: child,
            p: child_p,
        },
    );
    Ok(())
}

/// Insert `ent` into the node at `level` at position `pos`, splitting full
/// nodes (`ext4_ext_split`) and growing the root as needed. New blocks come
/// from `pool`. Afterwards the path is stale above `level`.
pub fn insert_at(
    ctx: &mut dyn MapContext,
    path: &mut Path,
    level: usize,
    pos: usize,
    ent: Ent,
    pool: &mut MetaPool,
    i_block: &mut [u8; 60],
) -> Result<()> {
    let mut level = level;
    if path[level].node.entries.len() >= path[level].node.eh_max as usize && level == 0 {
        ext4_ext_grow_indepth(ctx, path, pool, i_block)?;
        level = 1;
    }
    let lvl = &mut path[level];
    if lvl.node.entries.len() < lvl.node.eh_max as usize {
        let pos = pos.min(lvl.node.entries.len());
        lvl.node.entries.insert(pos, ent);
        lvl.p = Some(pos);
        store(ctx, path, level, i_block)?;
        if pos == 0 {
            correct_indexes(ctx, path, level, i_block)?;
        }
        return Ok(());
    }
    // A full non-root node: split. Appending puts only the new entry in
    // the new block (sequential writes fill nodes), otherwise halve.
    let n = lvl.node.entries.len();
    let split = if pos >= n { n } else { n / 2 };
    let nb = pool.take(ctx)?;
    let mut right = Node {
        pblk: Some(nb),
        eh_max: ext4_ext_space_block(ctx.block_size()),
        eh_depth: lvl.node.eh_depth,
        eh_generation: 0,
        entries: lvl.node.entries.split_off(split),
    };
    let left_changed_first = if pos < split || (pos == split && split < n) {
        lvl.node.entries.insert(pos, ent);
        pos == 0
    } else {
        right.entries.insert(pos - split, ent);
        false
    };
    let right_key = right.entries.first().map(|e| e.lblk).unwrap_or(ent.lblk);
    store_node(ctx, &right, i_block)?;
    store(ctx, path, level, i_block)?;
    if left_changed_first {
        correct_indexes(ctx, path, level, i_block)?;
    }
    let parent_pos = path[level - 1].p.map(|p| p + 1).unwrap_or(0);
    let idx = Ent {
        lblk: right_key,
        pblk: nb,
        len: 0,
        unwritten: false,
    };
    insert_at(ctx, path, level - 1, parent_pos, idx, pool, i_block)
}

/// Remove entry `pos` from the node at `level` (`ext4_ext_rm_idx` for
/// index levels). A non-root node left empty is freed and removed from its
/// parent; an emptied root becomes an empty depth-0 leaf.
pub fn remove_at(
    ctx: &mut dyn MapContext,
    path: &mut Path,
    level: usize,
    pos: usize,
    i_block: &mut [u8; 60],
) -> Result<()> {
    let mut level = level;
    let mut pos = pos;
    loop {
        let lvl = &mut path[level];
        if pos >= lvl.node.entries.len() {
            return Ok(());
        }
        lvl.node.entries.remove(pos);
        if !lvl.node.entries.is_empty() || level == 0 {
            if level == 0 && lvl.node.entries.is_empty() {
                lvl.node.eh_depth = 0;
                lvl.node.eh_max = EXT_ROOT_MAX;
            }
            lvl.p = if lvl.node.entries.is_empty() {
                None
            } else {
                Some(pos.saturating_sub(1))
            };
            store(ctx, path, level, i_block)?;
            if pos == 0 && level > 0 {
                correct_indexes(ctx, path, level, i_block)?;
            }
            return Ok(());
        }
        // This block is empty: free it and drop its index entry.
        if let Some(b) = lvl.node.pblk {
            ctx.free_blocks(b, 1)?;
        }
        level -= 1;
        pos = path[level].p.unwrap_or(0);
    }
}

/// `ext4_ext_try_to_merge_up` generalised: while the root has one child
/// whose entries fit in the root, pull them up and free the child.
pub fn try_to_shrink(ctx: &mut dyn MapContext, i_block: &mut [u8; 60]) -> Result<()> {
    for _ in 0..EXT4_MAX_EXTENT_DEPTH {
        let mut root = read_root(ctx, i_block)?;
        if root.eh_depth == 0 || root.entries.len() != 1 {
            return Ok(());
        }
        let ent = root.entries[0];
        let child = read_tree_block(
            ctx,
            ent.pblk,
            NodeExpect {
                depth: root.eh_depth - 1,
                first_key: Some(ent.lblk),
            },
        )?;
        if child.entries.len() > EXT_ROOT_MAX as usize {
            return Ok(());
        }
        root.entries = child.entries;
        root.eh_depth = child.eh_depth;
        store_node(ctx, &root, i_block)?;
        ctx.free_blocks(ent.pblk, 1)?;
    }
    Ok(())
}
