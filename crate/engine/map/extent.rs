//! Extent-mapped files (fs/ext4/extents.c): lookup, allocation into holes,
//! unwritten-to-written conversion, insertion of known mappings (migrate),
//! and the walk that lists every block a tree owns.
//!
//! Every public function takes the inode's `i_block` (the tree root) and
//! reaches the filesystem through [`MapContext`]. Callers hold `i_data_sem`
//! (read for lookups, write for anything with `CREATE`/`CONVERT`, inserts
//! and removals) and, when the filesystem journals, a running handle with
//! credits for the blocks they may dirty.

use super::extent_disk::*;
use super::extent_path::*;
use super::{Extent, MapContext, MapFlags, MapResult, Ownership};
use crate::engine::error::{CorruptKind, Ext4Error, ExtentCorruption, Result};
use std::collections::BTreeSet;

/// `ext4_ext_tree_init`: an empty depth-0 tree in `i_block`.
pub fn ext4_ext_tree_init(i_block: &mut [u8; 60]) {
    let root = Node {
        pblk: None,
        eh_max: EXT_ROOT_MAX,
        eh_depth: 0,
        eh_generation: 0,
        entries: Vec::new(),
    };
    write_node(&root, i_block, None);
}

/// Longest extent of this kind.
fn max_len(unwritten: bool) -> u32 {
    if unwritten {
        EXT_UNWRITTEN_MAX_LEN
    } else {
        EXT_INIT_MAX_LEN
    }
}

/// `ext4_can_extents_be_merged`: `b` follows `a` logically and physically,
/// same kind, and the sum fits one extent.
fn can_merge(a: &Ent, b: &Ent) -> bool {
    a.unwritten == b.unwritten
        && a.lblk as u64 + a.len as u64 == b.lblk as u64
        && a.pblk + a.len as u64 == b.pblk
        && a.len + b.len <= max_len(a.unwritten)
}

fn leaf(path: &Path) -> &PathLevel {
    &path[path.len() - 1]
}

fn invalid(what: String) -> Ext4Error {
    Ext4Error::Invalid(what)
}

/// `ext4_ext_find_goal`: the physical block where `lblk` would continue
/// the extent before it, else the leaf block, else 0 (the fs chooses).
fn find_goal(path: &Path, lblk: u32) -> u64 {
    let l = leaf(path);
    if let Some(e) = l.p.and_then(|i| l.node.entries.get(i)) {
        return e.pblk + (lblk - e.lblk) as u64;
    }
    if let Some(e) = l.node.entries.first() {
        return e.pblk.saturating_sub((e.lblk - lblk.min(e.lblk)) as u64);
    }
    l.node.pblk.unwrap_or(0)
}

/// Insert a new leaf extent that overlaps nothing, merging with its leaf
/// neighbours when contiguous (`ext4_ext_insert_extent`). Tree blocks the
/// insert needs are allocated first; on ENOSPC nothing changes.
fn insert_extent(ctx: &mut dyn MapContext, i_block: &mut [u8; 60], new: Ent) -> Result<()> {
    let mut path = ext4_find_extent(ctx, i_block, new.lblk)?;
    let last = path.len() - 1;
    let next = next_allocated_block(&path);
    let lf = &mut path[last];
    if let Some(e) = lf.p.and_then(|i| lf.node.entries.get(i)) {
        if e.last() >= new.lblk {
            return Err(invalid(format!(
                "extent at {} overlaps the mapping at {}",
                new.lblk, e.lblk
            )));
        }
    }
    if new.lblk as u64 + new.len as u64 > next as u64 {
        return Err(invalid(format!(
            "extent at {}+{} overlaps the mapping at {next}",
            new.lblk, new.len
        )));
    }
    let right_i = lf.p.map_or(0, |i| i + 1);
    // Merge into the left neighbour, then maybe the right one into it.
    if let Some(i) = lf.p {
        if can_merge(&lf.node.entries[i], &new) {
            lf.node.entries[i].len += new.len;
            if let Some(r) = lf.node.entries.get(i + 1).copied() {
                if can_merge(&lf.node.entries[i], &r) {
                    lf.node.entries[i].len += r.len;
                    lf.node.entries.remove(i + 1);
                }
            }
            return store_node(ctx, &path[last].node, i_block);
        }
    }
    if let Some(r) = lf.node.entries.get(right_i).copied() {
        if can_merge(&new, &r) {
            lf.node.entries[right_i] = Ent {
                len: new.len + r.len,
                ..new
            };
            lf.p = Some(right_i);
            store_node(ctx, &path[last].node, i_block)?;
            if right_i == 0 {
                correct_indexes(ctx, &mut path, last, i_block)?;
            }
            return Ok(());
        }
    }
    let need = blocks_needed_for_insert(&path);
    let goal = path[last].node.pblk.unwrap_or(new.pblk);
    let mut pool = MetaPool::alloc(ctx, need, goal)?;
    let r = insert_at(ctx, &mut path, last, right_i, new, &mut pool, i_block);
    pool.release(ctx)?;
    r
}

/// Insert a known mapping without allocating (what EXT4_IOC_MIGRATE does
/// for each run of the old block map, into the temporary inode's tree).
/// Fails with `Invalid` if it overlaps an existing mapping.
///
/// Preconditions: `i_data_sem` held for write on the inode owning `i_block`.
pub fn ext4_ext_insert_extent(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    ext: Extent,
) -> Result<()> {
    let ml = max_len(ext.unwritten);
    if ext.ee_len == 0
        || ext.pblk == 0
        || ext
            .pblk
            .checked_add(ext.ee_len as u64)
            .is_none_or(|e| e > ctx.blocks_count())
    {
        return Err(invalid(format!("bad extent {ext:?}")));
    }
    if ext.ee_block as u64 + ext.ee_len as u64 > EXT_MAX_BLOCKS as u64 {
        return Err(Ext4Error::FileTooBig);
    }
    // Long runs become several extents of at most `ml` blocks.
    let mut done = 0u32;
    while done < ext.ee_len {
        let n = (ext.ee_len - done).min(ml);
        let e = Ent {
            lblk: ext.ee_block + done,
            pblk: ext.pblk + done as u64,
            len: n,
            unwritten: ext.unwritten,
        };
        insert_extent(ctx, i_block, e)?;
        done += n;
    }
    Ok(())
}

/// Merge the extent holding `lblk` with its leaf neighbours when they are
/// contiguous and of the same kind (`ext4_ext_try_to_merge`).
fn try_to_merge(ctx: &mut dyn MapContext, i_block: &mut [u8; 60], lblk: u32) -> Result<()> {
    let mut path = ext4_find_extent(ctx, i_block, lblk)?;
    let last = path.len() - 1;
    let lf = &mut path[last];
    let Some(mut i) = lf.p else { return Ok(()) };
    let mut changed = false;
    if let Some(r) = lf.node.entries.get(i + 1).copied() {
        if can_merge(&lf.node.entries[i], &r) {
            lf.node.entries[i].len += r.len;
            lf.node.entries.remove(i + 1);
            changed = true;
        }
    }
    if i > 0 && can_merge(&lf.node.entries[i - 1], &lf.node.entries[i]) {
        let cur = lf.node.entries.remove(i);
        i -= 1;
        lf.node.entries[i].len += cur.len;
        changed = true;
    }
    lf.p = Some(i);
    if changed {
        store_node(ctx, &path[last].node, i_block)?;
    }
    Ok(())
}

/// Change the extent that starts exactly at `lblk` in place (same start).
fn update_extent_at(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    lblk: u32,
    f: impl FnOnce(&mut Ent),
) -> Result<()> {
    let path = ext4_find_extent(ctx, i_block, lblk)?;
    let last = path.len() - 1;
    let mut path = path;
    let lf = &mut path[last];
    match lf.p.and_then(|i| lf.node.entries.get_mut(i)) {
        Some(e) if e.lblk == lblk => f(e),
        _ => {
            return Err(CorruptKind::Extent {
                ino: ctx.ino(),
                block: 0,
                why: ExtentCorruption::Vanished { lblk },
            }
            .into())
        }
    }
    store_node(ctx, &path[last].node, i_block)
}

/// `ext4_split_extent_at`: make `at` the first block of an extent, if it
/// falls strictly inside one. Tree blocks are allocated first, and the
/// trimmed head and the new tail are written together, so the tree never
/// holds overlapping extents and ENOSPC changes nothing.
pub(crate) fn split_extent_at(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    at: u32,
) -> Result<()> {
    let mut path = ext4_find_extent(ctx, i_block, at)?;
    let last = path.len() - 1;
    let Some(i) = path[last].p else { return Ok(()) };
    let e = path[last].node.entries[i];
    if e.lblk == at || e.last() < at {
        return Ok(());
    }
    let head = at - e.lblk;
    let tail = Ent {
        lblk: at,
        pblk: e.pblk + head as u64,
        len: e.len - head,
        unwritten: e.unwritten,
    };
    let need = blocks_needed_for_insert(&path);
    let goal = path[last].node.pblk.unwrap_or(e.pblk);
    let mut pool = MetaPool::alloc(ctx, need, goal)?;
    path[last].node.entries[i].len = head;
    let r = insert_at(ctx, &mut path, last, i + 1, tail, &mut pool, i_block);
    pool.release(ctx)?;
    r
}

/// `ext4_ext_convert_to_initialized` (without the zero-out shortcuts):
/// mark `[lblk, lblk+len)` written, splitting the unwritten extent that
/// holds `lblk`. Returns how many blocks were converted.
fn convert_to_initialized(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    e: Ent,
    lblk: u32,
    len: u32,
) -> Result<u32> {
    let n = len.min(e.last() - lblk + 1);
    let end = lblk + n; // first block after the converted range
    if end <= e.last() {
        split_extent_at(ctx, i_block, end)?;
    }
    if lblk > e.lblk {
        split_extent_at(ctx, i_block, lblk)?;
    }
    update_extent_at(ctx, i_block, lblk, |x| x.unwritten = false)?;
    try_to_merge(ctx, i_block, lblk)?;
    Ok(n)
}

/// `ext4_ext_map_blocks`: map `len` blocks from `lblk`.
///
/// Without `CREATE` a hole is reported with its length (up to `len`). With
/// `CREATE` a hole is allocated (up to `len` blocks, fewer if the allocator
/// gives a shorter run or the next mapping starts sooner), unwritten with
/// `UNWRIT_EXT`, and `new` is set. An unwritten extent is converted to
/// written by `CONVERT`, or by `CREATE` without `UNWRIT_EXT` (a write into
/// preallocated space; then `new` is set as the kernel sets EXT4_MAP_NEW).
///
/// Preconditions: `i_data_sem` held (read without CREATE/CONVERT, write
/// with them); a journal handle running when the fs journals.
pub fn ext4_ext_map_blocks(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    lblk: u32,
    len: u32,
    flags: MapFlags,
) -> Result<MapResult> {
    let len = len.max(1);
    if lblk == EXT_MAX_BLOCKS {
        return Err(Ext4Error::FileTooBig);
    }
    let len = len.min(EXT_MAX_BLOCKS - lblk);
    let path = ext4_find_extent(ctx, i_block, lblk)?;
    let lf = leaf(&path);
    let found = lf.p.and_then(|i| lf.node.entries.get(i)).copied();
    if let Some(e) = found.filter(|e| e.last() >= lblk) {
        let off = lblk - e.lblk;
        let n = len.min(e.len - off);
        let pblk = e.pblk + off as u64;
        let mut res = MapResult {
            m_lblk: lblk,
            m_pblk: Some(pblk),
            m_len: n,
            unwritten: e.unwritten,
            new: false,
        };
        if e.unwritten {
            let write = flags.contains(MapFlags::CREATE) && !flags.contains(MapFlags::UNWRIT_EXT);
            if flags.contains(MapFlags::CONVERT) || write {
                res.m_len = convert_to_initialized(ctx, i_block, e, lblk, n)?;
                res.unwritten = false;
                res.new = write && !flags.contains(MapFlags::CONVERT);
            }
        }
        return Ok(res);
    }
    // A hole up to the next mapping.
    let next = next_allocated_block(&path);
    let hole = len.min(next - lblk).max(1);
    if !flags.contains(MapFlags::CREATE) {
        return Ok(MapResult {
            m_lblk: lblk,
            m_pblk: None,
            m_len: hole,
            unwritten: false,
            new: false,
        });
    }
    let unwritten = flags.contains(MapFlags::UNWRIT_EXT);
    let want = hole.min(max_len(unwritten));
    let goal = find_goal(&path, lblk);
    let (pblk, got) = super::alloc_checked(ctx, goal, want, false)?;
    let ent = Ent {
        lblk,
        pblk,
        len: got,
        unwritten,
    };
    if let Err(e) = insert_extent(ctx, i_block, ent) {
        ctx.free_blocks(pblk, got)?;
        return Err(e);
    }
    Ok(MapResult {
        m_lblk: lblk,
        m_pblk: Some(pblk),
        m_len: got,
        unwritten,
        new: true,
    })
}

/// `ext4_convert_unwritten_extents` (the I/O-completion side of unwritten
/// extents: dio, dioread_nolock writeback): mark every unwritten block in
/// `[lblk, lblk + len)` written, leaving holes and written blocks alone.
/// Returns how many blocks were converted.
///
/// Preconditions: `i_data_sem` held for write; a journal handle running
/// when the fs journals.
pub fn ext4_convert_unwritten_extents(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    lblk: u32,
    len: u32,
) -> Result<u32> {
    let end = (lblk as u64 + len as u64).min(EXT_MAX_BLOCKS as u64);
    let mut cur = lblk as u64;
    let mut converted = 0u32;
    while cur < end {
        let was = ext4_ext_map_blocks(
            ctx,
            i_block,
            cur as u32,
            (end - cur) as u32,
            MapFlags::empty(),
        )?;
        let step = if was.m_pblk.is_some() && was.unwritten {
            let r = ext4_ext_map_blocks(ctx, i_block, cur as u32, was.m_len, MapFlags::CONVERT)?;
            converted += r.m_len;
            r.m_len
        } else {
            was.m_len
        };
        cur += step.max(1) as u64;
    }
    Ok(converted)
}

/// List every data extent (in logical order) and every tree block of the
/// tree. Checks each node (magic, counts, depth, order, pointers, checksum
/// when the fs has one) and that no tree block is referenced twice and
/// extents never overlap across leaves.
///
/// Preconditions: `i_data_sem` held for read.
pub fn ext4_ext_walk(ctx: &mut dyn MapContext, i_block: &[u8; 60]) -> Result<Ownership> {
    let root = read_root(ctx, i_block)?;
    let mut own = Ownership::default();
    let mut seen = BTreeSet::new();
    walk_node(ctx, &root, &mut own, &mut seen)?;
    Ok(own)
}

fn walk_node(
    ctx: &mut dyn MapContext,
    node: &Node,
    own: &mut Ownership,
    seen: &mut BTreeSet<u64>,
) -> Result<()> {
    let ino = ctx.ino();
    let here = node.pblk.unwrap_or(0);
    if node.eh_depth == 0 {
        for e in &node.entries {
            if let Some(prev) = own.data.last() {
                if (e.lblk as u64) < prev.ee_block as u64 + prev.ee_len as u64 {
                    return Err(CorruptKind::Extent {
                        ino,
                        block: here,
                        why: ExtentCorruption::Overlap {
                            lblk: e.lblk,
                            prev: prev.ee_block,
                        },
                    }
                    .into());
                }
            }
            own.data.push(Extent {
                ee_block: e.lblk,
                ee_len: e.len,
                pblk: e.pblk,
                unwritten: e.unwritten,
            });
        }
        return Ok(());
    }
    for e in &node.entries {
        if !seen.insert(e.pblk) {
            return Err(CorruptKind::Extent {
                ino,
                block: here,
                why: ExtentCorruption::TreeBlockTwice { block: e.pblk },
            }
            .into());
        }
        own.metadata.push(e.pblk);
        let child = read_tree_block(
            ctx,
            e.pblk,
            NodeExpect {
                depth: node.eh_depth - 1,
                first_key: Some(e.lblk),
            },
        )?;
        walk_node(ctx, &child, own, seen)?;
    }
    Ok(())
}
