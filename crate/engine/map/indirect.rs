//! Indirect block maps, as ext2/ext3 made them (fs/ext4/indirect.c).
//!
//! `i_block` holds 15 little-endian `__le32` block numbers: 0..11 map the
//! first twelve logical blocks directly, 12 (`EXT4_IND_BLOCK`) points at a
//! block of `apb = block_size / 4` pointers, 13 (`EXT4_DIND_BLOCK`) at a
//! block of pointers to such blocks, 14 (`EXT4_TIND_BLOCK`) one level more.
//! A zero pointer is a hole (the whole subtree under it). There is no
//! unwritten state: `UNWRIT_EXT` and `CONVERT` do not apply (the kernel
//! never asks for them on a non-extent inode) and are ignored.

use super::{Extent, MapContext, MapFlags, MapResult, Ownership};
use crate::engine::error::{BlockMapCorruption, CorruptKind, Ext4Error, Result};
use std::collections::BTreeSet;

/// `EXT4_NDIR_BLOCKS`.
pub const EXT4_NDIR_BLOCKS: u32 = 12;
/// `EXT4_IND_BLOCK`, `EXT4_DIND_BLOCK`, `EXT4_TIND_BLOCK`.
pub const EXT4_IND_BLOCK: usize = 12;
pub const EXT4_DIND_BLOCK: usize = 13;
pub const EXT4_TIND_BLOCK: usize = 14;

fn apb(ctx: &dyn MapContext) -> u64 {
    (ctx.block_size() / 4) as u64
}

/// Highest number of logical blocks a block map can address
/// (12 + apb + apb^2 + apb^3, capped to the 32-bit logical block space).
pub fn ext4_ind_max_blocks(block_size: u32) -> u64 {
    let a = (block_size / 4) as u64;
    (EXT4_NDIR_BLOCKS as u64 + a + a * a + a * a * a).min(u32::MAX as u64)
}

fn get(arr: &[u8], i: usize) -> u32 {
    match arr.get(i * 4..i * 4 + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

fn set(arr: &mut [u8], i: usize, v: u32) {
    if let Some(s) = arr.get_mut(i * 4..i * 4 + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn bad(ctx: &dyn MapContext, block: u64, why: BlockMapCorruption) -> Ext4Error {
    CorruptKind::BlockMap {
        ino: ctx.ino(),
        block,
        why,
    }
    .into()
}

/// `ext4_block_to_path`: the offsets at each level for `lblk` (first in
/// `i_block`), and how many entries follow the last one in its array
/// (`blocks_to_boundary`).
pub fn ext4_block_to_path(block_size: u32, lblk: u32) -> Result<(Vec<usize>, u64)> {
    let a = (block_size / 4) as u64;
    let mut i = lblk as u64;
    if i < EXT4_NDIR_BLOCKS as u64 {
        return Ok((vec![i as usize], EXT4_NDIR_BLOCKS as u64 - 1 - i));
    }
    i -= EXT4_NDIR_BLOCKS as u64;
    let offs = if i < a {
        vec![EXT4_IND_BLOCK, i as usize]
    } else if i - a < a * a {
        i -= a;
        vec![EXT4_DIND_BLOCK, (i / a) as usize, (i % a) as usize]
    } else if i - a - a * a < a * a * a {
        i -= a + a * a;
        vec![
            EXT4_TIND_BLOCK,
            (i / (a * a)) as usize,
            ((i / a) % a) as usize,
            (i % a) as usize,
        ]
    } else {
        return Err(Ext4Error::FileTooBig);
    };
    let last = *offs.last().unwrap_or(&0) as u64;
    Ok((offs, a - 1 - last))
}

/// One step of a branch (`Indirect` in indirect.c): where the pointer
/// lives (`None` = `i_block`) and its value.
#[derive(Debug, Clone, Copy)]
struct Step {
    holder: Option<u64>,
    offset: usize,
    value: u32,
}

/// `ext4_get_branch`: follow `offs` while pointers are non-zero. Returns the
/// steps read (the last one is zero when the branch is incomplete) and the
/// array holding the last step's pointer.
fn get_branch(
    ctx: &mut dyn MapContext,
    i_block: &[u8; 60],
    offs: &[usize],
) -> Result<(Vec<Step>, Vec<u8>)> {
    let mut steps = Vec::with_capacity(offs.len());
    let mut arr = i_block.to_vec();
    let mut holder = None;
    for (k, &o) in offs.iter().enumerate() {
        let v = get(&arr, o);
        steps.push(Step {
            holder,
            offset: o,
            value: v,
        });
        if v == 0 || k + 1 == offs.len() {
            if v as u64 >= ctx.blocks_count() {
                return Err(bad(
                    ctx,
                    holder.unwrap_or(0),
                    BlockMapCorruption::PointerPastEnd {
                        offset: o,
                        value: v,
                    },
                ));
            }
            return Ok((steps, arr));
        }
        if v as u64 >= ctx.blocks_count() {
            return Err(bad(
                ctx,
                holder.unwrap_or(0),
                BlockMapCorruption::IndirectPointerPastEnd {
                    offset: o,
                    value: v,
                },
            ));
        }
        let mut buf = vec![0u8; ctx.block_size() as usize];
        ctx.read_block(v as u64, &mut buf)?;
        arr = buf;
        holder = Some(v as u64);
    }
    Ok((steps, arr))
}

/// The physical block of `lblk`, if mapped.
fn lookup(ctx: &mut dyn MapContext, i_block: &[u8; 60], lblk: u32) -> Result<Option<u64>> {
    let (offs, _) = ext4_block_to_path(ctx.block_size(), lblk)?;
    let (steps, _) = get_branch(ctx, i_block, &offs)?;
    Ok(match steps.last() {
        Some(s) if steps.len() == offs.len() && s.value != 0 => Some(s.value as u64),
        _ => None,
    })
}

/// Length of the hole at `lblk` (at most `len`), skipping whole empty
/// subtrees (the kernel's count, continued over following empty ones).
fn hole_len(ctx: &mut dyn MapContext, i_block: &[u8; 60], lblk: u32, len: u32) -> Result<u32> {
    let a = apb(ctx);
    let max = ext4_ind_max_blocks(ctx.block_size());
    let mut cur = lblk as u64;
    let end = (lblk as u64 + len as u64).min(max);
    while cur < end {
        let (offs, _) = ext4_block_to_path(ctx.block_size(), cur as u32)?;
        let (steps, _) = get_branch(ctx, i_block, &offs)?;
        let k = steps.len() - 1;
        if steps[k].value != 0 {
            break;
        }
        // Zero at level k: the subtree below covers a^(depth-1-k) blocks,
        // of which those before `cur` are behind us.
        let mut count: u64 = 0;
        for &o in &offs[k + 1..] {
            count = count * a + (a - o as u64 - 1);
        }
        cur += count + 1;
    }
    Ok((cur.min(end) - lblk as u64).max(1) as u32)
}

/// `ext4_find_near` + the brief's rule: right after the mapping of the
/// previous logical block, else the nearest earlier pointer in the array
/// that will hold the new one, else its holder block, else 0.
fn find_goal(
    ctx: &mut dyn MapContext,
    i_block: &[u8; 60],
    lblk: u32,
    steps: &[Step],
    arr: &[u8],
) -> Result<u64> {
    if lblk > 0 {
        if let Some(p) = lookup(ctx, i_block, lblk - 1)? {
            return Ok(p + 1);
        }
    }
    let Some(s) = steps.last() else { return Ok(0) };
    for o in (0..s.offset).rev() {
        let v = get(arr, o);
        if v != 0 {
            return Ok(v as u64);
        }
    }
    Ok(s.holder.unwrap_or(0))
}

/// `ext4_ind_map_blocks`: map `len` blocks from `lblk`. Mapped blocks are
/// reported as one run while physically contiguous within one pointer
/// array. With `CREATE`, a hole gets its missing indirect blocks (zeroed)
/// and up to `len` data blocks, no further than the end of that array
/// (`ext4_blks_to_allocate`); `new` is then set.
///
/// Preconditions: `i_data_sem` held (write with CREATE); a journal handle
/// running when the fs journals.
pub fn ext4_ind_map_blocks(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    lblk: u32,
    len: u32,
    flags: MapFlags,
) -> Result<MapResult> {
    let len = len.max(1);
    let (offs, boundary) = ext4_block_to_path(ctx.block_size(), lblk)?;
    let (steps, arr) = get_branch(ctx, i_block, &offs)?;
    let last = steps[steps.len() - 1];
    if steps.len() == offs.len() && last.value != 0 {
        let mut n: u32 = 1;
        let first = last.value;
        while (n as u64) <= boundary && n < len {
            let v = get(&arr, last.offset + n as usize);
            if v == 0 || Some(v) != first.checked_add(n) || v as u64 >= ctx.blocks_count() {
                break;
            }
            n += 1;
        }
        return Ok(MapResult {
            m_lblk: lblk,
            m_pblk: Some(first as u64),
            m_len: n,
            unwritten: false,
            new: false,
        });
    }
    if !flags.contains(MapFlags::CREATE) {
        let h = hole_len(ctx, i_block, lblk, len)?;
        return Ok(MapResult {
            m_lblk: lblk,
            m_pblk: None,
            m_len: h,
            unwritten: false,
            new: false,
        });
    }
    // How many data blocks: to the end of the last-level array, and only
    // over empty entries when that array exists.
    let mut count = (len as u64).min(boundary + 1) as u32;
    if steps.len() == offs.len() {
        let mut n = 1;
        while n < count && get(&arr, last.offset + n as usize) == 0 {
            n += 1;
        }
        count = n;
    }
    let missing = offs.len() - steps.len(); // indirect blocks to allocate
    let goal = find_goal(ctx, i_block, lblk, &steps, &arr)?;
    ext4_alloc_branch(ctx, i_block, &offs, &steps, missing, count, goal).map(|(p, n)| MapResult {
        m_lblk: lblk,
        m_pblk: Some(p),
        m_len: n,
        unwritten: false,
        new: true,
    })
}

/// `ext4_alloc_branch` + `ext4_splice_branch`: allocate `missing` zeroed
/// indirect blocks and up to `count` data blocks, write the new blocks
/// bottom-up, then link the branch in with one pointer write. On failure
/// everything allocated is freed and nothing is linked.
fn ext4_alloc_branch(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    offs: &[usize],
    steps: &[Step],
    missing: usize,
    count: u32,
    goal: u64,
) -> Result<(u64, u32)> {
    let mut meta: Vec<u64> = Vec::with_capacity(missing);
    let mut g = goal;
    let undo = |ctx: &mut dyn MapContext, meta: &[u64]| -> Result<()> {
        for &b in meta {
            ctx.free_blocks(b, 1)?;
        }
        Ok(())
    };
    for _ in 0..missing {
        match super::alloc_checked(ctx, g, 1, true) {
            Ok((b, _)) if b <= u32::MAX as u64 => {
                meta.push(b);
                g = b + 1;
            }
            Ok((b, _)) => {
                ctx.free_blocks(b, 1)?;
                undo(ctx, &meta)?;
                return Err(Ext4Error::NoSpace);
            }
            Err(e) => {
                undo(ctx, &meta)?;
                return Err(e);
            }
        }
    }
    let (data, got) = match super::alloc_checked(ctx, g, count, false) {
        Ok((d, n)) if d + n as u64 <= u32::MAX as u64 + 1 => (d, n),
        Ok((d, n)) => {
            ctx.free_blocks(d, n)?;
            undo(ctx, &meta)?;
            return Err(Ext4Error::NoSpace);
        }
        Err(e) => {
            undo(ctx, &meta)?;
            return Err(e);
        }
    };
    // New blocks: meta[j] sits at level steps.len() + j and holds the
    // pointer at offs[steps.len() + j]; the last one holds the data run.
    let bs = ctx.block_size() as usize;
    let first_new = steps.len(); // index into offs of the first new pointer array
    for j in (0..missing).rev() {
        let mut buf = vec![0u8; bs];
        let o = offs[first_new + j];
        if j + 1 == missing {
            for k in 0..got {
                set(&mut buf, o + k as usize, (data + k as u64) as u32);
            }
        } else {
            set(&mut buf, o, meta[j + 1] as u32);
        }
        ctx.write_block(meta[j], &buf)?;
    }
    // Splice: the pointer at the last existing step.
    let top = steps[steps.len() - 1];
    let mut holder_buf;
    let arr: &mut [u8] = match top.holder {
        None => i_block,
        Some(h) => {
            holder_buf = vec![0u8; bs];
            ctx.read_block(h, &mut holder_buf)?;
            &mut holder_buf
        }
    };
    if missing > 0 {
        set(arr, top.offset, meta[0] as u32);
    } else {
        for k in 0..got {
            set(arr, top.offset + k as usize, (data + k as u64) as u32);
        }
    }
    if let Some(h) = top.holder {
        let buf = arr.to_vec();
        ctx.write_block(h, &buf)?;
    }
    Ok((data, got))
}

/// Blocks one pointer at height `h` covers (h = 0: a data block).
fn span(a: u64, h: u32) -> u64 {
    a.pow(h)
}

/// The range being unmapped and the frees collected while pruning,
/// coalesced into runs at the end.
struct Frees(Vec<u64>, u64, u64);

impl Frees {
    fn flush(mut self, ctx: &mut dyn MapContext) -> Result<()> {
        // A corrupt map may list a block twice: free it once.
        self.0.sort_unstable();
        self.0.dedup();
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            let mut n = 1;
            while i + n < self.0.len() && self.0[i + n] == start + n as u64 && n < u32::MAX as usize
            {
                n += 1;
            }
            ctx.free_blocks(start, n as u32)?;
            i += n;
        }
        Ok(())
    }
}

fn read_ptr_block(ctx: &mut dyn MapContext, holder: u64, ptr: u32) -> Result<Vec<u8>> {
    if ptr as u64 >= ctx.blocks_count() {
        return Err(bad(ctx, holder, BlockMapCorruption::BlockPastEnd { ptr }));
    }
    let mut buf = vec![0u8; ctx.block_size() as usize];
    ctx.read_block(ptr as u64, &mut buf)?;
    Ok(buf)
}

/// Unmap `[start, end]` under pointer `ptr` of height `h` whose subtree
/// starts at logical `base`; returns the pointer's new value.
fn prune(
    ctx: &mut dyn MapContext,
    holder: u64,
    ptr: u32,
    h: u32,
    base: u64,
    frees: &mut Frees,
) -> Result<u32> {
    let (start, end) = (frees.1, frees.2);
    let a = apb(ctx);
    let sz = span(a, h);
    if ptr == 0 || base > end || base + sz <= start {
        return Ok(ptr);
    }
    if ptr as u64 >= ctx.blocks_count() {
        return Err(bad(ctx, holder, BlockMapCorruption::BlockPastEnd { ptr }));
    }
    if h == 0 {
        frees.0.push(ptr as u64);
        return Ok(0);
    }
    let mut buf = read_ptr_block(ctx, holder, ptr)?;
    let child = span(a, h - 1);
    let mut changed = false;
    for i in 0..a as usize {
        let cb = base + i as u64 * child;
        let v = get(&buf, i);
        let nv = prune(ctx, ptr as u64, v, h - 1, cb, frees)?;
        if nv != v {
            set(&mut buf, i, nv);
            changed = true;
        }
    }
    if buf.iter().all(|b| *b == 0) {
        frees.0.push(ptr as u64);
        return Ok(0);
    }
    if changed {
        ctx.write_block(ptr as u64, &buf)?;
    }
    Ok(ptr)
}

/// The top-level pointers: (index in `i_block`, height, first lblk).
fn roots(a: u64) -> [(usize, u32, u64); 15] {
    let mut r = [(0usize, 0u32, 0u64); 15];
    for (i, x) in r.iter_mut().enumerate().take(12) {
        *x = (i, 0, i as u64);
    }
    r[12] = (EXT4_IND_BLOCK, 1, 12);
    r[13] = (EXT4_DIND_BLOCK, 2, 12 + a);
    r[14] = (EXT4_TIND_BLOCK, 3, 12 + a + a * a);
    r
}

/// `ext4_ind_remove_space`: unmap logical blocks `start..=end` (inclusive,
/// like `ext4_ext_remove_space`; the kernel's indirect version takes an
/// exclusive end), freeing data blocks and every indirect block left
/// empty. Block pointers are cleared and written before any block is freed.
///
/// Preconditions: `i_data_sem` held for write; a journal handle running
/// when the fs journals.
pub fn ext4_ind_remove_space(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    start: u32,
    end: u32,
) -> Result<()> {
    if start > end {
        return Ok(());
    }
    let a = apb(ctx);
    let mut frees = Frees(Vec::new(), start as u64, end as u64);
    for (i, h, base) in roots(a) {
        let v = get(i_block, i);
        let nv = prune(ctx, 0, v, h, base, &mut frees)?;
        if nv != v {
            set(i_block, i, nv);
        }
    }
    frees.flush(ctx)
}

/// `ext4_ind_truncate`: unmap every block from `first` on.
///
/// Preconditions: as [`ext4_ind_remove_space`].
pub fn ext4_ind_truncate(
    ctx: &mut dyn MapContext,
    i_block: &mut [u8; 60],
    first: u32,
) -> Result<()> {
    ext4_ind_remove_space(ctx, i_block, first, u32::MAX)
}

struct Walk {
    own: Ownership,
    meta: BTreeSet<u64>,
}

impl Walk {
    fn data(&mut self, lblk: u64, pblk: u64) {
        if let Some(e) = self.own.data.last_mut() {
            if e.ee_block as u64 + e.ee_len as u64 == lblk
                && e.pblk + e.ee_len as u64 == pblk
                && e.ee_len < u32::MAX
            {
                e.ee_len += 1;
                return;
            }
        }
        self.own.data.push(Extent {
            ee_block: lblk as u32,
            ee_len: 1,
            pblk,
            unwritten: false,
        });
    }
}

fn walk_ptr(
    ctx: &mut dyn MapContext,
    w: &mut Walk,
    holder: u64,
    ptr: u32,
    h: u32,
    base: u64,
) -> Result<()> {
    if ptr == 0 {
        return Ok(());
    }
    if ptr as u64 >= ctx.blocks_count() {
        return Err(bad(
            ctx,
            holder,
            BlockMapCorruption::MappedPastEnd { ptr, lblk: base },
        ));
    }
    if h == 0 {
        // With 64 KiB blocks TIND reaches past the 32-bit logical space.
        if base > u32::MAX as u64 - 1 {
            return Err(bad(
                ctx,
                holder,
                BlockMapCorruption::LblkPast32Bits { ptr, lblk: base },
            ));
        }
        w.data(base, ptr as u64);
        return Ok(());
    }
    if !w.meta.insert(ptr as u64) {
        return Err(bad(
            ctx,
            holder,
            BlockMapCorruption::IndirectTwice { block: ptr },
        ));
    }
    w.own.metadata.push(ptr as u64);
    let buf = read_ptr_block(ctx, holder, ptr)?;
    let a = apb(ctx);
    let child = span(a, h - 1);
    for i in 0..a as usize {
        walk_ptr(
            ctx,
            w,
            ptr as u64,
            get(&buf, i),
            h - 1,
            base + i as u64 * child,
        )?;
    }
    Ok(())
}

/// `ext4_ind_walk`: every data run (contiguous blocks coalesced into
/// [`Extent`]s, as EXT4_IOC_MIGRATE inserts them) and every indirect
/// block, in logical order. Pointers past `blocks_count`, an indirect block
/// referenced twice, or one also used as data are `CorruptKind::BlockMap`.
///
/// Preconditions: `i_data_sem` held for read.
pub fn ext4_ind_walk(ctx: &mut dyn MapContext, i_block: &[u8; 60]) -> Result<Ownership> {
    let mut w = Walk {
        own: Ownership::default(),
        meta: BTreeSet::new(),
    };
    for (i, h, base) in roots(apb(ctx)) {
        walk_ptr(ctx, &mut w, 0, get(i_block, i), h, base)?;
    }
    for e in &w.own.data {
        if let Some(m) = w.meta.range(e.pblk..e.pblk + e.ee_len as u64).next() {
            return Err(bad(
                ctx,
                *m,
                BlockMapCorruption::IndirectAlsoData {
                    block: *m,
                    lblk: e.ee_block,
                },
            ));
        }
    }
    Ok(w.own)
}
