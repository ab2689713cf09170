//! On-disk extent tree nodes (fs/ext4/ext4_extents.h): `ext4_extent_header`,
//! `ext4_extent_idx`, `ext4_extent` and `ext4_extent_tail`, their parsing with
//! the checks of the kernel's `__ext4_ext_check`, and their serialisation
//! with the tail checksum.
//!
//! A node is the 60-byte root in `i_block` or one filesystem block. Both hold
//! a 12-byte header followed by `eh_max` 12-byte entries; a block node ends
//! with a 4-byte `ext4_extent_tail` right after the last possible entry.

use super::MapContext;
use crate::engine::csum::ext4_chksum;
use crate::engine::error::{CorruptKind, ExtentCorruption, Result};

/// `EXT4_EXT_MAGIC`.
pub const EXT4_EXT_MAGIC: u16 = 0xF30A;
/// `EXT4_MAX_EXTENT_DEPTH`: the deepest tree the kernel accepts.
pub const EXT4_MAX_EXTENT_DEPTH: u16 = 5;
/// `EXT_INIT_MAX_LEN`: longest initialized extent (ee_len up to 32768).
pub const EXT_INIT_MAX_LEN: u32 = 1 << 15;
/// `EXT_UNWRITTEN_MAX_LEN`: longest unwritten extent (ee_len - 32768).
pub const EXT_UNWRITTEN_MAX_LEN: u32 = EXT_INIT_MAX_LEN - 1;
/// `EXT_MAX_BLOCKS`: one past the last addressable logical block.
pub const EXT_MAX_BLOCKS: u32 = 0xFFFF_FFFF;
/// Size of the header and of each entry.
pub const EXT_HDR_SIZE: usize = 12;
pub const EXT_ENTRY_SIZE: usize = 12;
/// Entries that fit in the root (`ext4_ext_space_root`).
pub const EXT_ROOT_MAX: u16 = 4;

/// `ext4_ext_space_block`: entries that fit in a tree block.
pub fn ext4_ext_space_block(block_size: u32) -> u16 {
    let n = (block_size as usize).saturating_sub(EXT_HDR_SIZE) / EXT_ENTRY_SIZE;
    n.min(u16::MAX as usize) as u16
}

/// One entry of a node. In a leaf it is an `ext4_extent` (`len` > 0); in an
/// index node an `ext4_extent_idx` (`len` is 0, `pblk` is `ei_leaf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ent {
    /// `ee_block` / `ei_block`.
    pub lblk: u32,
    /// `ee_start_hi:lo` / `ei_leaf_hi:lo`.
    pub pblk: u64,
    /// Decoded extent length (1..=32768); 0 for an index entry.
    pub len: u32,
    /// `ee_len > EXT_INIT_MAX_LEN`: the extent is unwritten.
    pub unwritten: bool,
}

impl Ent {
    /// Last logical block of a leaf extent (inclusive).
    pub fn last(&self) -> u32 {
        self.lblk.saturating_add(self.len.saturating_sub(1))
    }
}

/// A parsed node: `ext4_extent_header` fields plus its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The block holding it, `None` for the root in `i_block`.
    pub pblk: Option<u64>,
    pub eh_max: u16,
    pub eh_depth: u16,
    pub eh_generation: u32,
    pub entries: Vec<Ent>,
}

fn le16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

fn le32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

fn put16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off + 2) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Offset of `ext4_extent_tail` in a block whose header says `eh_max`
/// (`EXT4_EXTENT_TAIL_OFFSET`).
pub fn ext4_extent_tail_offset(eh_max: u16) -> usize {
    EXT_HDR_SIZE + EXT_ENTRY_SIZE * eh_max as usize
}

/// `ext4_extent_block_csum`: crc32c of the block up to the tail, seeded
/// with the inode's checksum seed.
pub fn ext4_extent_block_csum(seed: u32, buf: &[u8], eh_max: u16) -> u32 {
    let end = ext4_extent_tail_offset(eh_max).min(buf.len());
    ext4_chksum(seed, &buf[..end])
}

/// What the parent says about a node being read: its depth and (for a
/// non-root node) the key its index entry carries.
#[derive(Debug, Clone, Copy)]
pub struct NodeExpect {
    pub depth: u16,
    pub first_key: Option<u32>,
}

fn corrupt(ino: u32, block: u64, why: ExtentCorruption) -> crate::engine::Ext4Error {
    CorruptKind::Extent { ino, block, why }.into()
}

/// Parse and check a node (`__ext4_ext_check` + `ext4_valid_extent_entries`).
/// `pblk` is `None` for the root (then `buf` is `i_block`).
pub fn parse_node(
    ctx: &dyn MapContext,
    buf: &[u8],
    pblk: Option<u64>,
    expect: Option<NodeExpect>,
) -> Result<Node> {
    let ino = ctx.ino();
    let blk = pblk.unwrap_or(0);
    let bad = |why: ExtentCorruption| corrupt(ino, blk, why);
    if le16(buf, 0x0) != EXT4_EXT_MAGIC {
        return Err(bad(ExtentCorruption::BadMagic {
            magic: le16(buf, 0x0),
        }));
    }
    let eh_entries = le16(buf, 0x2);
    let eh_max = le16(buf, 0x4);
    let eh_depth = le16(buf, 0x6);
    let eh_generation = le32(buf, 0x8);
    let space = match pblk {
        None => EXT_ROOT_MAX,
        Some(_) => ext4_ext_space_block(ctx.block_size()),
    };
    if eh_depth > EXT4_MAX_EXTENT_DEPTH {
        return Err(bad(ExtentCorruption::DepthTooLarge { depth: eh_depth }));
    }
    if let Some(e) = expect {
        if eh_depth != e.depth {
            return Err(bad(ExtentCorruption::DepthMismatch {
                depth: eh_depth,
                parent: e.depth,
            }));
        }
    }
    // The kernel takes any 1..=space; e2fsprogs wants space-2..=space
    // (`ext2fs_extent_header_verify`). Trees this engine reads must pass
    // e2fsck, so take the stricter rule.
    if eh_max == 0 || eh_max > space || eh_max < space.saturating_sub(2) {
        return Err(bad(ExtentCorruption::BadMax { eh_max, space }));
    }
    if eh_entries > eh_max {
        return Err(bad(ExtentCorruption::EntriesOverMax {
            entries: eh_entries,
            eh_max,
        }));
    }
    if eh_entries == 0 && eh_depth > 0 {
        return Err(bad(ExtentCorruption::NoEntriesWithDepth));
    }
    if pblk.is_some() && eh_entries == 0 {
        return Err(bad(ExtentCorruption::EmptyNonRoot));
    }
    if let (Some(p), Some(seed)) = (pblk, ctx.inode_csum_seed()) {
        let off = ext4_extent_tail_offset(eh_max);
        let want = ext4_extent_block_csum(seed, buf, eh_max);
        if buf.len() < off + 4 || le32(buf, off) != want {
            return Err(CorruptKind::ExtentChecksum { ino, block: p }.into());
        }
    }
    let blocks_count = ctx.blocks_count();
    let mut entries = Vec::with_capacity(eh_entries as usize);
    let mut next_free: u64 = 0; // first logical block after the previous entry
    for i in 0..eh_entries as usize {
        let off = EXT_HDR_SIZE + i * EXT_ENTRY_SIZE;
        let lblk = le32(buf, off);
        let ent = if eh_depth == 0 {
            let raw_len = le16(buf, off + 0x4) as u32;
            let start = ((le16(buf, off + 0x6) as u64) << 32) | le32(buf, off + 0x8) as u64;
            let (len, unwritten) = if raw_len > EXT_INIT_MAX_LEN {
                (raw_len - EXT_INIT_MAX_LEN, true)
            } else {
                (raw_len, false)
            };
            if len == 0 {
                return Err(bad(ExtentCorruption::ZeroLength { index: i }));
            }
            let end = start.checked_add(len as u64);
            if start == 0 || end.is_none_or(|e| e > blocks_count) {
                return Err(bad(ExtentCorruption::PastBlocksCount {
                    index: i,
                    lblk,
                    start,
                    len,
                    blocks_count,
                }));
            }
            if lblk as u64 + len as u64 > EXT_MAX_BLOCKS as u64 {
                return Err(bad(ExtentCorruption::PastLastLogical { index: i }));
            }
            Ent {
                lblk,
                pblk: start,
                len,
                unwritten,
            }
        } else {
            let leaf = ((le16(buf, off + 0x8) as u64) << 32) | le32(buf, off + 0x4) as u64;
            if leaf == 0 || leaf >= blocks_count {
                return Err(bad(ExtentCorruption::IndexOutOfRange {
                    index: i,
                    leaf,
                    blocks_count,
                }));
            }
            if Some(leaf) == pblk {
                return Err(bad(ExtentCorruption::IndexSelf { index: i }));
            }
            Ent {
                lblk,
                pblk: leaf,
                len: 0,
                unwritten: false,
            }
        };
        if i > 0 && (lblk as u64) < next_free {
            return Err(bad(ExtentCorruption::OutOfOrder { index: i, lblk }));
        }
        next_free = lblk as u64 + ent.len.max(1) as u64;
        entries.push(ent);
    }
    if let (Some(e), Some(first)) = (expect, entries.first()) {
        if let Some(k) = e.first_key {
            if first.lblk != k {
                return Err(bad(ExtentCorruption::KeyMismatch {
                    lblk: first.lblk,
                    key: k,
                }));
            }
        }
    }
    Ok(Node {
        pblk,
        eh_max,
        eh_depth,
        eh_generation,
        entries,
    })
}

/// Serialise a node into `buf` (60 bytes for the root, a whole block
/// otherwise), setting the tail checksum of a block node when `seed` is
/// given. Bytes past the entries are zeroed.
pub fn write_node(node: &Node, buf: &mut [u8], seed: Option<u32>) {
    buf.fill(0);
    put16(buf, 0x0, EXT4_EXT_MAGIC);
    put16(buf, 0x2, node.entries.len() as u16);
    put16(buf, 0x4, node.eh_max);
    put16(buf, 0x6, node.eh_depth);
    put32(buf, 0x8, node.eh_generation);
    for (i, e) in node.entries.iter().enumerate() {
        let off = EXT_HDR_SIZE + i * EXT_ENTRY_SIZE;
        put32(buf, off, e.lblk);
        if node.eh_depth == 0 {
            let raw = if e.unwritten {
                e.len + EXT_INIT_MAX_LEN
            } else {
                e.len
            };
            put16(buf, off + 0x4, raw as u16);
            put16(buf, off + 0x6, (e.pblk >> 32) as u16);
            put32(buf, off + 0x8, e.pblk as u32);
        } else {
            put32(buf, off + 0x4, e.pblk as u32);
            put16(buf, off + 0x8, (e.pblk >> 32) as u16);
        }
    }
    if let (Some(_), Some(seed)) = (node.pblk, seed) {
        let csum = ext4_extent_block_csum(seed, buf, node.eh_max);
        put32(buf, ext4_extent_tail_offset(node.eh_max), csum);
    }
}

/// Read tree block `pblk` through `ctx` and parse it.
pub fn read_tree_block(ctx: &mut dyn MapContext, pblk: u64, expect: NodeExpect) -> Result<Node> {
    let mut buf = vec![0u8; ctx.block_size() as usize];
    ctx.read_block(pblk, &mut buf)?;
    parse_node(ctx, &buf, Some(pblk), Some(expect))
}

/// Write a node: a block node through `ctx`, the root into `i_block`.
pub fn store_node(ctx: &mut dyn MapContext, node: &Node, i_block: &mut [u8; 60]) -> Result<()> {
    match node.pblk {
        None => {
            write_node(node, i_block, None);
            Ok(())
        }
        Some(p) => {
            let mut buf = vec![0u8; ctx.block_size() as usize];
            let seed = ctx.inode_csum_seed();
            write_node(node, &mut buf, seed);
            ctx.write_block(p, &buf)
        }
    }
}
