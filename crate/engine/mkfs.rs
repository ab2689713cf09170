//! The engine's formatter (like `mke2fs -t ext4`): geometry, flex_bg
//! placement of bitmaps and inode tables, sparse_super backups, root and
//! lost+found, and the journal inode with a jbd2 v2 superblock.
//!
//! Differences from mke2fs, on purpose: every bitmap is written
//! initialised (no BLOCK_UNINIT / INODE_UNINIT), and the metadata of each
//! flex group is packed from the start of its first group (bitmaps of all
//! its groups, then the inode tables). Geometry (block size, inode count,
//! reserved GDT blocks for resize_inode, journal size) follows mke2fs.

use super::balloc::{blocks_in_group, gdt_blocks, group_first_block, set_bit, test_bit};
use super::csum::ext4_chksum;
use super::dir::{empty_dir_block, init_dot_dotdot};
use super::error::{Ext4Error, MkfsError, Result};
use super::fs::{encode_inode_into, Ext4Fs, OpenOptions};
use super::group_desc::{Ext4GroupDesc, EXT4_BG_INODE_ZEROED};
use super::inode::{
    ext4_inode_csum_set, inode_csum_seed, Ext4Inode, Timespec, EXT4_EXTENTS_FL, EXT4_JOURNAL_INO,
    EXT4_ROOT_INO, S_IFDIR, S_IFREG,
};
use super::superblock::*;
use crate::device::BlockDevice;

/// Formatting options. `Default` gives mkfs.ext4's defaults.
#[derive(Debug, Clone)]
pub struct MkfsOptions {
    /// 1024, 2048 or 4096; `None`: 1024 below 512 MiB, else 4096.
    pub block_size: Option<u32>,
    /// 128 or 256 (or larger powers of two up to the block size).
    pub inode_size: u16,
    /// Bytes per inode; `None`: 4096 below 512 MiB, else 16384.
    pub inode_ratio: Option<u32>,
    pub feature_compat: u32,
    pub feature_incompat: u32,
    pub feature_ro_compat: u32,
    /// Journal size in blocks; `None`: `ext2fs_default_journal_size`.
    pub journal_blocks: Option<u32>,
    pub uuid: [u8; 16],
    pub hash_seed: [u8; 16],
    /// Creation time (seconds); deterministic by default.
    pub time: u32,
    pub volume_name: String,
    /// The device already reads as zeros (skip zeroing tables and journal).
    pub assume_zeroed: bool,
}

impl Default for MkfsOptions {
    fn default() -> Self {
        MkfsOptions {
            block_size: None,
            inode_size: 256,
            inode_ratio: None,
            feature_compat: COMPAT_HAS_JOURNAL
                | COMPAT_EXT_ATTR
                | COMPAT_DIR_INDEX
                | COMPAT_RESIZE_INODE,
            feature_incompat: INCOMPAT_FILETYPE
                | INCOMPAT_EXTENTS
                | INCOMPAT_64BIT
                | INCOMPAT_FLEX_BG,
            feature_ro_compat: RO_COMPAT_SPARSE_SUPER
                | RO_COMPAT_LARGE_FILE
                | RO_COMPAT_HUGE_FILE
                | RO_COMPAT_DIR_NLINK
                | RO_COMPAT_EXTRA_ISIZE
                | RO_COMPAT_METADATA_CSUM,
            journal_blocks: None,
            uuid: *b"ext4lab-uuid-v1!",
            hash_seed: *b"ext4lab-hashseed",
            time: 1_700_000_000,
            volume_name: String::new(),
            assume_zeroed: false,
        }
    }
}

const FEATURES: &[(&str, u8, u32)] = &[
    ("has_journal", 0, COMPAT_HAS_JOURNAL),
    ("ext_attr", 0, COMPAT_EXT_ATTR),
    ("dir_index", 0, COMPAT_DIR_INDEX),
    ("resize_inode", 0, COMPAT_RESIZE_INODE),
    ("filetype", 1, INCOMPAT_FILETYPE),
    ("extent", 1, INCOMPAT_EXTENTS),
    ("extents", 1, INCOMPAT_EXTENTS),
    ("64bit", 1, INCOMPAT_64BIT),
    ("flex_bg", 1, INCOMPAT_FLEX_BG),
    ("inline_data", 1, INCOMPAT_INLINE_DATA),
    ("metadata_csum_seed", 1, INCOMPAT_CSUM_SEED),
    ("sparse_super", 2, RO_COMPAT_SPARSE_SUPER),
    ("large_file", 2, RO_COMPAT_LARGE_FILE),
    ("huge_file", 2, RO_COMPAT_HUGE_FILE),
    ("dir_nlink", 2, RO_COMPAT_DIR_NLINK),
    ("extra_isize", 2, RO_COMPAT_EXTRA_ISIZE),
    ("metadata_csum", 2, RO_COMPAT_METADATA_CSUM),
    ("uninit_bg", 2, RO_COMPAT_GDT_CSUM),
    ("gdt_csum", 2, RO_COMPAT_GDT_CSUM),
];

impl MkfsOptions {
    /// Apply a `-O` list: `feat,^feat,...`.
    pub fn apply_features(&mut self, list: &str) -> Result<()> {
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (off, name) = match item.strip_prefix('^') {
                Some(n) => (true, n),
                None => (false, item),
            };
            let Some(&(_, kind, bit)) = FEATURES.iter().find(|(n, _, _)| *n == name) else {
                return Err(Ext4Error::Mkfs(MkfsError::UnknownFeature {
                    name: name.to_string(),
                }));
            };
            let field = match kind {
                0 => &mut self.feature_compat,
                1 => &mut self.feature_incompat,
                _ => &mut self.feature_ro_compat,
            };
            if off {
                *field &= !bit;
            } else {
                *field |= bit;
            }
        }
        if self.feature_ro_compat & RO_COMPAT_METADATA_CSUM != 0 {
            self.feature_ro_compat &= !RO_COMPAT_GDT_CSUM;
        }
        Ok(())
    }
}

/// `ext2fs_default_journal_size` (in blocks; 0: no journal).
pub fn default_journal_blocks(blocks: u64) -> u32 {
    match blocks {
        b if b < 2048 => 0,
        b if b < 32768 => 1024,
        b if b < 256 * 1024 => 4096,
        b if b < 512 * 1024 => 8192,
        b if b < 4096 * 1024 => 16384,
        _ => 32768,
    }
}

/// The jbd2 v2 superblock for an internal journal of `maxlen` blocks
/// (big-endian fields; `journal_superblock_t`).
pub fn jbd2_superblock(
    bs: u32,
    maxlen: u32,
    uuid: &[u8; 16],
    csum_v3: bool,
    is_64bit: bool,
) -> Vec<u8> {
    let mut b = vec![0u8; bs as usize];
    let mut put = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_be_bytes());
    put(0x0, 0xC03B_3998); // h_magic
    put(0x4, 4); // h_blocktype: JBD2_SUPERBLOCK_V2
    put(0x8, 0); // h_sequence
    put(0xC, bs); // s_blocksize
    put(0x10, maxlen); // s_maxlen
    put(0x14, 1); // s_first
    put(0x18, 1); // s_sequence
    put(0x1C, 0); // s_start: clean
    let mut incompat = 0;
    if csum_v3 {
        incompat |= 0x10; // JBD2_FEATURE_INCOMPAT_CSUM_V3
    }
    if is_64bit {
        incompat |= 0x2; // JBD2_FEATURE_INCOMPAT_64BIT
    }
    put(0x28, incompat);
    put(0x40, 1); // s_nr_users
    b[0x30..0x40].copy_from_slice(uuid);
    if csum_v3 {
        b[0x50] = 4; // s_checksum_type: JBD2_CRC32C_CHKSUM
        let c = ext4_chksum(!0, &b[..1024]);
        b[0xFC..0x100].copy_from_slice(&c.to_be_bytes());
    }
    b
}

struct Layout {
    bs: u32,
    blocks: u64,
    groups: u32,
    ipg: u32,
    itb: u64,
    used: Vec<Vec<u8>>,
}

impl Layout {
    fn mark(&mut self, sb: &Ext4SuperBlock, blk: u64) {
        let g = ((blk - sb.s_first_data_block as u64) / sb.s_blocks_per_group as u64) as usize;
        let bit = ((blk - sb.s_first_data_block as u64) % sb.s_blocks_per_group as u64) as u32;
        set_bit(&mut self.used[g], bit);
    }
    fn is_used(&self, sb: &Ext4SuperBlock, blk: u64) -> bool {
        let g = ((blk - sb.s_first_data_block as u64) / sb.s_blocks_per_group as u64) as usize;
        let bit = ((blk - sb.s_first_data_block as u64) % sb.s_blocks_per_group as u64) as u32;
        test_bit(&self.used[g], bit)
    }
    /// First run of `n` free blocks at or after `from`.
    fn find_run(&self, sb: &Ext4SuperBlock, from: u64, n: u64) -> Result<u64> {
        let mut start = from.max(sb.s_first_data_block as u64);
        let mut len = 0;
        let mut b = start;
        while b < self.blocks {
            if self.is_used(sb, b) {
                len = 0;
                start = b + 1;
            } else {
                len += 1;
                if len == n {
                    return Ok(start);
                }
            }
            b += 1;
        }
        Err(Ext4Error::NoSpace)
    }
    fn alloc(&mut self, sb: &Ext4SuperBlock, from: u64, n: u64) -> Result<u64> {
        let s = self.find_run(sb, from, n)?;
        for b in s..s + n {
            self.mark(sb, b);
        }
        Ok(s)
    }
}

/// Build extents for a contiguous run in `i_block` (depth 0, at most 4).
fn extents_for_run(i_block: &mut [u8; 60], start: u64, count: u64) -> Result<()> {
    super::map::ext4_ext_tree_init(i_block);
    let max = 32768u64;
    let n = count.div_ceil(max);
    if n > 4 {
        return Err(Ext4Error::Mkfs(MkfsError::RunTooLongForExtents {
            blocks: count,
        }));
    }
    i_block[2..4].copy_from_slice(&(n as u16).to_le_bytes()); // eh_entries
    for i in 0..n {
        let off = 12 + 12 * i as usize;
        let lblk = i * max;
        let len = (count - lblk).min(max);
        let p = start + lblk;
        i_block[off..off + 4].copy_from_slice(&(lblk as u32).to_le_bytes());
        i_block[off + 4..off + 6].copy_from_slice(&(len as u16).to_le_bytes());
        i_block[off + 6..off + 8].copy_from_slice(&((p >> 32) as u16).to_le_bytes());
        i_block[off + 8..off + 12].copy_from_slice(&(p as u32).to_le_bytes());
    }
    Ok(())
}

/// Map `count` data blocks from `start` with direct, IND and DIND blocks
/// (the indirect blocks taken in order from `meta`), writing the indirect
/// blocks and filling `i_block`.
fn write_block_map<D: BlockDevice>(
    dev: &mut D,
    inode: &mut Ext4Inode,
    bs: u32,
    start: u64,
    count: u64,
    meta: u64,
) -> Result<()> {
    let a = bs as u64 / 4;
    let put = |b: &mut [u8], i: usize, v: u64| {
        b[4 * i..4 * i + 4].copy_from_slice(&(v as u32).to_le_bytes())
    };
    for k in 0..count.min(12) {
        put(&mut inode.i_block, k as usize, start + k);
    }
    let mut next_meta = meta;
    let mut lblk = 12u64;
    let ind_block = |dev: &mut D, lblk: &mut u64, at: u64| -> Result<()> {
        let mut b = vec![0u8; bs as usize];
        let mut i = 0;
        while i < a && *lblk < count {
            put(&mut b, i as usize, start + *lblk);
            *lblk += 1;
            i += 1;
        }
        Ok(dev.write_at(at * bs as u64, &b)?)
    };
    if lblk < count {
        put(&mut inode.i_block, 12, next_meta);
        ind_block(dev, &mut lblk, next_meta)?;
        next_meta += 1;
    }
    if lblk < count {
        let dind = next_meta;
        next_meta += 1;
        put(&mut inode.i_block, 13, dind);
        let mut d = vec![0u8; bs as usize];
        let mut i = 0;
        while lblk < count && i < a {
            put(&mut d, i as usize, next_meta);
            ind_block(dev, &mut lblk, next_meta)?;
            next_meta += 1;
            i += 1;
        }
        dev.write_at(dind * bs as u64, &d)?;
    }
    Ok(())
}

/// `calc_reserved_gdt_blocks`: descriptor blocks to reserve so the
/// filesystem can grow 1024-fold (or to 2^32 blocks), at most one
/// indirect block's worth.
fn calc_reserved_gdt_blocks(sb: &Ext4SuperBlock) -> u16 {
    let blocks = sb.blocks_count();
    let max_blocks: u64 = if blocks < 0xffff_ffff / 1024 {
        blocks * 1024
    } else {
        0xffff_ffff
    };
    let rsv_groups =
        (max_blocks - sb.s_first_data_block as u64).div_ceil(sb.s_blocks_per_group as u64);
    let per = sb.block_size() as u64 / sb.desc_size() as u64;
    let rsv = rsv_groups.div_ceil(per).saturating_sub(gdt_blocks(sb));
    rsv.min(sb.block_size() as u64 / 4) as u16
}

/// `ext2fs_create_resize_inode`: the resize inode (7) maps the reserved
/// GDT blocks through its DIND block: DIND entry `(gdt_blocks + r) %
/// addr_per_block` is primary reserved block `r`, which in turn lists the
/// same block in every backup group. Returns the blocks it counts.
fn ext2fs_create_resize_inode<D: BlockDevice>(
    dev: &mut D,
    sb: &Ext4SuperBlock,
    dind: u64,
    inode: &mut Ext4Inode,
) -> Result<u64> {
    let bs = sb.block_size() as u64;
    let apb = bs / 4;
    let desc = gdt_blocks(sb);
    let backups: Vec<u32> = (1..sb.groups_count())
        .filter(|&g| ext4_bg_has_super(sb, g))
        .collect();
    let mut dind_buf = vec![0u8; bs as usize];
    let mut counted = 1u64;
    for r in 0..sb.s_reserved_gdt_blocks as u64 {
        let gdt_blk = sb.s_first_data_block as u64 + 1 + desc + r;
        let off = ((desc + r) % apb) as usize;
        dind_buf[4 * off..4 * off + 4].copy_from_slice(&(gdt_blk as u32).to_le_bytes());
        let mut ind = vec![0u8; bs as usize];
        for (k, &g) in backups.iter().enumerate().take(apb as usize) {
            let b = gdt_blk + g as u64 * sb.s_blocks_per_group as u64;
            ind[4 * k..4 * k + 4].copy_from_slice(&(b as u32).to_le_bytes());
        }
        counted += 1 + backups.len() as u64;
        dev.write_at(gdt_blk * bs, &ind)?;
    }
    dev.write_at(dind * bs, &dind_buf)?;
    inode.i_block = [0; 60];
    inode.i_block[52..56].copy_from_slice(&(dind as u32).to_le_bytes());
    inode.set_size((apb * apb + apb + 12) * bs);
    Ok(counted)
}

/// Where mkfs puts the first files: the resize inode's DIND block, the
/// root and lost+found directory blocks, the journal and a block-mapped
/// journal's IND/DIND blocks.
struct Placement {
    resize_dind: Option<u64>,
    root_blk: u64,
    lpf_blk: u64,
    lpf_n: u64,
    jblocks: u64,
    jstart: u64,
    /// A block-mapped journal's map blocks: (first, count).
    jmeta: Option<(u64, u64)>,
}

/// Format `dev` and return it opened. The phases follow mke2fs: geometry
/// (the superblock), group metadata placement (bitmaps, inode tables by
/// flex group), the first files' placement (resize inode, root,
/// lost+found, journal), the counts, then the writes.
pub fn mkfs<D: BlockDevice>(mut dev: D, opts: &MkfsOptions) -> Result<Ext4Fs<D>> {
    let mut sb = mkfs_geometry(dev.size(), opts)?;
    let (mut lay, mut gds) = place_group_metadata(&sb)?;
    let pl = place_first_files(&sb, &mut lay, opts)?;
    set_counts(&mut sb, &lay, &mut gds);
    write_tables_and_bitmaps(&mut dev, &sb, &lay, &mut gds, &pl, opts)?;
    write_first_inodes(&mut dev, &mut sb, &gds, &pl, opts)?;
    write_super_and_descriptors(&mut dev, &sb, &gds)?;
    dev.flush()?;
    Ext4Fs::open(dev, OpenOptions::default())
}

/// The superblock of a `size`-byte device: block and inode sizes, groups,
/// inodes per group, features, identity and times (mke2fs's
/// `ext2fs_initialize`).
fn mkfs_geometry(size: u64, opts: &MkfsOptions) -> Result<Ext4SuperBlock> {
    let bs = opts
        .block_size
        .unwrap_or(if size < 512 << 20 { 1024 } else { 4096 });
    if ![1024, 2048, 4096].contains(&bs) {
        return Err(Ext4Error::Mkfs(MkfsError::BlockSize { block_size: bs }));
    }
    let isz = opts.inode_size as u32;
    if isz < 128 || !isz.is_power_of_two() || isz > bs {
        return Err(Ext4Error::Mkfs(MkfsError::InodeSize { inode_size: isz }));
    }
    let mut sb = Ext4SuperBlock::zeroed();
    sb.s_feature_compat = opts.feature_compat;
    sb.s_feature_incompat = opts.feature_incompat;
    sb.s_feature_ro_compat = opts.feature_ro_compat;
    if isz == 128 {
        sb.s_feature_ro_compat &= !RO_COMPAT_EXTRA_ISIZE;
        sb.s_feature_incompat &= !INCOMPAT_INLINE_DATA;
    }
    if sb.s_feature_incompat & INCOMPAT_INLINE_DATA != 0 {
        sb.s_feature_compat |= COMPAT_EXT_ATTR;
    }
    let first_data = u32::from(bs == 1024);
    let bpg = 8 * bs;
    let mut blocks = size / bs as u64;
    if blocks < 1024 {
        return Err(Ext4Error::Mkfs(MkfsError::DeviceTooSmall { bytes: size }));
    }
    if !sb.has_incompat(INCOMPAT_64BIT) && blocks > u32::MAX as u64 {
        blocks = u32::MAX as u64;
    }
    sb.s_log_block_size = bs.trailing_zeros() - 10;
    sb.s_log_cluster_size = sb.s_log_block_size;
    sb.s_first_data_block = first_data;
    sb.s_blocks_per_group = bpg;
    sb.s_clusters_per_group = bpg;
    sb.s_desc_size = if sb.is_64bit() { 64 } else { 0 };
    sb.set_blocks_count(blocks);
    // Drop a runt last group that could not hold its own metadata.
    let groups = sb.groups_count();
    let last = blocks - group_first_block(&sb, groups - 1);
    if groups > 1 && last < 64 + gdt_blocks(&sb) {
        blocks = group_first_block(&sb, groups - 1);
        sb.set_blocks_count(blocks);
    }
    let groups = sb.groups_count();
    let ratio = opts
        .inode_ratio
        .unwrap_or(if size < 512 << 20 { 4096 } else { 16384 }) as u64;
    let ipb = bs / isz;
    let align = ipb.max(8);
    let want = (blocks * bs as u64 / ratio).div_ceil(groups as u64) as u32;
    let ipg = (want.div_ceil(align) * align).clamp(align, bpg);
    sb.s_inodes_per_group = ipg;
    sb.s_inodes_count = ipg * groups;
    sb.s_rev_level = 1;
    sb.s_first_ino = 11;
    sb.s_inode_size = isz as u16;
    if isz > 128 {
        sb.s_min_extra_isize = 32;
        sb.s_want_extra_isize = 32;
    }
    sb.s_magic = EXT4_SUPER_MAGIC;
    sb.s_state = EXT4_VALID_FS;
    sb.s_errors = 1;
    sb.s_max_mnt_count = 0xFFFF;
    sb.s_uuid = opts.uuid;
    let mut vn = [0u8; 16];
    let n = opts.volume_name.len().min(16);
    vn[..n].copy_from_slice(&opts.volume_name.as_bytes()[..n]);
    sb.s_volume_name = vn;
    for i in 0..4 {
        sb.s_hash_seed[i] = u32::from_le_bytes([
            opts.hash_seed[4 * i],
            opts.hash_seed[4 * i + 1],
            opts.hash_seed[4 * i + 2],
            opts.hash_seed[4 * i + 3],
        ]);
    }
    sb.s_def_hash_version = 1; // half_md4
    sb.s_flags = EXT2_FLAGS_SIGNED_HASH;
    sb.s_default_mount_opts = 0x000C; // user_xattr, acl
    sb.s_mkfs_time = opts.time;
    sb.s_wtime = opts.time;
    sb.s_lastcheck = opts.time;
    if sb.has_incompat(INCOMPAT_FLEX_BG) {
        sb.s_log_groups_per_flex = 4;
    }
    if sb.has_metadata_csum() {
        sb.s_checksum_type = 1;
    }
    if sb.has_incompat(INCOMPAT_CSUM_SEED) {
        sb.s_checksum_seed = ext4_chksum(!0, &sb.s_uuid);
    }
    sb.set_r_blocks_count(blocks / 20);
    if sb.has_compat(COMPAT_RESIZE_INODE) {
        sb.s_reserved_gdt_blocks = calc_reserved_gdt_blocks(&sb);
    }
    Ok(sb)
}

/// Marks each group's superblock/descriptor overhead used, then places the
/// block bitmaps, inode bitmaps and inode tables, packed per flex group as
/// mke2fs's `ext2fs_allocate_tables` does.
fn place_group_metadata(sb: &Ext4SuperBlock) -> Result<(Layout, Vec<Ext4GroupDesc>)> {
    let bs = sb.block_size();
    let groups = sb.groups_count();
    let ipg = sb.s_inodes_per_group;
    let itb = (ipg as u64 * sb.s_inode_size as u64).div_ceil(bs as u64);
    let mut lay = Layout {
        bs,
        blocks: sb.blocks_count(),
        groups,
        ipg,
        itb,
        used: vec![vec![0u8; bs as usize]; groups as usize],
    };
    // Block 0 of a 1 KiB-block filesystem is before s_first_data_block: in no group.
    for g in 0..groups {
        let first = group_first_block(sb, g);
        for i in 0..super::balloc::group_sb_overhead(sb, g) as u64 {
            lay.mark(sb, first + i);
        }
        for bit in blocks_in_group(sb, g)..bs * 8 {
            set_bit(&mut lay.used[g as usize], bit);
        }
    }
    let flex = if sb.has_incompat(INCOMPAT_FLEX_BG) {
        16u32
    } else {
        1
    };
    let mut gds = vec![Ext4GroupDesc::zeroed(); groups as usize];
    let mut fg = 0;
    while fg < groups {
        let members = fg..(fg + flex).min(groups);
        let base = group_first_block(sb, fg);
        let from = |g: u32| {
            if flex == 1 {
                group_first_block(sb, g)
            } else {
                base
            }
        };
        for g in members.clone() {
            let b = lay.alloc(sb, from(g), 1)?;
            gds[g as usize].set_block_bitmap(sb, b);
        }
        for g in members.clone() {
            let b = lay.alloc(sb, from(g), 1)?;
            gds[g as usize].set_inode_bitmap(sb, b);
        }
        for g in members {
            let b = lay.alloc(sb, from(g), itb)?;
            gds[g as usize].set_inode_table(sb, b);
        }
        fg += flex;
    }
    Ok((lay, gds))
}

/// The resize inode's DIND block, root and lost+found blocks, then the
/// journal in the middle group (and a block-mapped journal's map blocks).
fn place_first_files(
    sb: &Ext4SuperBlock,
    lay: &mut Layout,
    opts: &MkfsOptions,
) -> Result<Placement> {
    let bs = lay.bs;
    let first_data = sb.s_first_data_block as u64;
    let resize_dind = if sb.s_reserved_gdt_blocks > 0 {
        Some(lay.alloc(sb, first_data, 1)?)
    } else {
        None
    };
    let root_blk = lay.alloc(sb, first_data, 1)?;
    let lpf_n = (1..=12u64)
        .find(|&n| n * bs as u64 >= 16384 && n >= 2)
        .unwrap_or(12);
    let lpf_blk = lay.alloc(sb, root_blk, lpf_n)?;
    let jblocks = if sb.has_compat(COMPAT_HAS_JOURNAL) {
        opts.journal_blocks
            .unwrap_or_else(|| default_journal_blocks(lay.blocks)) as u64
    } else {
        0
    };
    if sb.has_compat(COMPAT_HAS_JOURNAL) && jblocks < 1024 {
        return Err(Ext4Error::Mkfs(MkfsError::JournalTooSmall {
            blocks: jblocks,
        }));
    }
    let jstart = if jblocks > 0 {
        let mid = group_first_block(sb, lay.groups / 2);
        match lay.find_run(sb, mid, jblocks) {
            Ok(s) => lay.alloc(sb, s, jblocks)?,
            Err(_) => lay.alloc(sb, first_data, jblocks)?,
        }
    } else {
        0
    };
    // A block-mapped journal (no extent feature) also needs IND/DIND blocks.
    let a = bs as u64 / 4;
    let jmeta = if jblocks > 0 && !sb.has_incompat(INCOMPAT_EXTENTS) {
        if jblocks > 12 + a + a * a {
            return Err(Ext4Error::Mkfs(MkfsError::JournalNeedsTind {
                blocks: jblocks,
            }));
        }
        let n = if jblocks <= 12 {
            0
        } else if jblocks <= 12 + a {
            1
        } else {
            2 + (jblocks - 12 - a).div_ceil(a)
        };
        let start = if n > 0 {
            lay.alloc(sb, jstart + jblocks, n)?
        } else {
            0
        };
        Some((start, n))
    } else {
        None
    };
    Ok(Placement {
        resize_dind,
        root_blk,
        lpf_blk,
        lpf_n,
        jblocks,
        jstart,
        jmeta,
    })
}

/// Free block and inode counts per group and in the superblock (11
/// reserved inodes and two directories in group 0).
fn set_counts(sb: &mut Ext4SuperBlock, lay: &Layout, gds: &mut [Ext4GroupDesc]) {
    let ipg = lay.ipg;
    let mut free_total = 0u64;
    for g in 0..lay.groups {
        let n = blocks_in_group(sb, g);
        let used = (0..n)
            .filter(|&i| test_bit(&lay.used[g as usize], i))
            .count() as u32;
        free_total += (n - used) as u64;
        let d = &mut gds[g as usize];
        d.set_free_blocks_count(sb, n - used);
        let used_inodes = if g == 0 { 11 } else { 0 };
        d.set_free_inodes_count(sb, ipg - used_inodes);
        d.set_used_dirs_count(sb, if g == 0 { 2 } else { 0 });
        if sb.has_group_desc_csum() {
            d.set_itable_unused(sb, ipg - used_inodes);
            d.bg_flags = EXT4_BG_INODE_ZEROED;
        }
    }
    sb.set_free_blocks_count(free_total);
    sb.s_free_inodes_count = sb.s_inodes_count - 11;
}

/// Zeroes the inode tables and the journal (unless the device already reads
/// as zeros), then writes each group's block and inode bitmaps with their
/// checksums in the descriptors.
fn write_tables_and_bitmaps<D: BlockDevice>(
    dev: &mut D,
    sb: &Ext4SuperBlock,
    lay: &Layout,
    gds: &mut [Ext4GroupDesc],
    pl: &Placement,
    opts: &MkfsOptions,
) -> Result<()> {
    let bs = lay.bs;
    if !opts.assume_zeroed {
        // Zero the inode tables (ITABLE_ZEROED) and the journal.
        let chunk = vec![0u8; bs as usize * 64];
        let mut runs: Vec<(u64, u64)> = gds.iter().map(|d| (d.inode_table(sb), lay.itb)).collect();
        if pl.jblocks > 0 {
            runs.push((pl.jstart, pl.jblocks));
        }
        runs.push((0, 1 + sb.s_first_data_block as u64));
        for (start, n) in runs {
            let mut b = start;
            while b < start + n {
                let k = (start + n - b).min(64);
                dev.write_at(b * bs as u64, &chunk[..(k * bs as u64) as usize])?;
                b += k;
            }
        }
    }
    for g in 0..lay.groups {
        let d = &mut gds[g as usize];
        let mut bb = lay.used[g as usize].clone();
        bb.truncate(bs as usize);
        let mut ib = vec![0u8; bs as usize];
        if g == 0 {
            for i in 0..11 {
                set_bit(&mut ib, i);
            }
        }
        for i in lay.ipg..bs * 8 {
            set_bit(&mut ib, i);
        }
        if sb.has_metadata_csum() {
            d.set_block_bitmap_csum(sb, super::balloc::block_bitmap_csum(sb, &bb));
            d.set_inode_bitmap_csum(sb, super::balloc::inode_bitmap_csum(sb, &ib));
        }
        dev.write_at(d.block_bitmap(sb) * bs as u64, &bb)?;
        dev.write_at(d.inode_bitmap(sb) * bs as u64, &ib)?;
    }
    Ok(())
}

/// Writes one inode into its table slot (read-modify-write of the block,
/// checksum set).
fn put_inode<D: BlockDevice>(
    dev: &mut D,
    sb: &Ext4SuperBlock,
    gds: &[Ext4GroupDesc],
    ino: u32,
    inode: &Ext4Inode,
) -> Result<()> {
    let bs = sb.block_size() as u64;
    let isz = sb.s_inode_size as u64;
    let ipg = sb.s_inodes_per_group;
    let g = (ino - 1) / ipg;
    let idx = ((ino - 1) % ipg) as u64;
    let off = idx * isz;
    let blk = gds[g as usize].inode_table(sb) + off / bs;
    let mut block = vec![0u8; bs as usize];
    dev.read_at(blk * bs, &mut block)?;
    let o = (off % bs) as usize;
    let raw = &mut block[o..o + isz as usize];
    raw.fill(0);
    encode_inode_into(inode, raw);
    ext4_inode_csum_set(sb, ino, raw);
    Ok(dev.write_at(blk * bs, &block)?)
}

/// Maps the contiguous run `start..start + n` into `i`: an extent tree,
/// or direct block pointers without the extent feature.
fn set_run_map(sb: &Ext4SuperBlock, i: &mut Ext4Inode, start: u64, n: u64) -> Result<()> {
    if sb.has_incompat(INCOMPAT_EXTENTS) {
        i.i_flags |= EXT4_EXTENTS_FL;
        extents_for_run(&mut i.i_block, start, n)
    } else {
        if n > 12 {
            return Err(Ext4Error::Mkfs(MkfsError::RunTooLongForBlockMap {
                blocks: n,
            }));
        }
        for k in 0..n as usize {
            i.i_block[4 * k..4 * k + 4].copy_from_slice(&((start + k as u64) as u32).to_le_bytes());
        }
        Ok(())
    }
}

/// The bad-blocks inode, the resize inode, root and lost+found (inodes and
/// directory blocks) and the journal inode with its jbd2 superblock; sets
/// the superblock's journal fields.
fn write_first_inodes<D: BlockDevice>(
    dev: &mut D,
    sb: &mut Ext4SuperBlock,
    gds: &[Ext4GroupDesc],
    pl: &Placement,
    opts: &MkfsOptions,
) -> Result<()> {
    let bs = sb.block_size();
    let t = Timespec {
        sec: opts.time as i64,
        nsec: 0,
    };
    let extra = if sb.s_inode_size > 128 { 32 } else { 0 };
    let base_inode = |mode: u16, links: u16| {
        let mut i = Ext4Inode::zeroed();
        i.i_mode = mode;
        i.i_links_count = links;
        i.i_extra_isize = extra;
        i.set_times(t);
        if extra > 0 {
            i.i_crtime = opts.time;
        }
        i
    };
    let per512 = bs as u64 / 512;
    let mut bad = Ext4Inode::zeroed();
    bad.set_times(t);
    put_inode(dev, sb, gds, 1, &bad)?;
    if let Some(dind) = pl.resize_dind {
        let mut r = base_inode(S_IFREG | 0o600, 1);
        let n = ext2fs_create_resize_inode(dev, sb, dind, &mut r)?;
        r.set_blocks_512(n * per512);
        put_inode(dev, sb, gds, super::inode::EXT4_RESIZE_INO, &r)?;
    }
    let mut root = base_inode(S_IFDIR | 0o755, 3);
    set_run_map(sb, &mut root, pl.root_blk, 1)?;
    root.set_size(bs as u64);
    root.set_blocks_512(per512);
    put_inode(dev, sb, gds, EXT4_ROOT_INO, &root)?;
    let mut lpf = base_inode(S_IFDIR | 0o700, 2);
    set_run_map(sb, &mut lpf, pl.lpf_blk, pl.lpf_n)?;
    lpf.set_size(pl.lpf_n * bs as u64);
    lpf.set_blocks_512(pl.lpf_n * per512);
    put_inode(dev, sb, gds, 11, &lpf)?;
    write_root_and_lost_found(dev, sb, pl)?;
    if pl.jblocks > 0 {
        let mut j = base_inode(S_IFREG | 0o600, 1);
        let mut meta_n = 0;
        match pl.jmeta {
            None => set_run_map(sb, &mut j, pl.jstart, pl.jblocks)?,
            Some((mstart, n)) => {
                meta_n = n;
                write_block_map(dev, &mut j, bs, pl.jstart, pl.jblocks, mstart)?;
            }
        }
        j.set_size(pl.jblocks * bs as u64);
        j.set_blocks_512((pl.jblocks + meta_n) * per512);
        put_inode(dev, sb, gds, EXT4_JOURNAL_INO, &j)?;
        sb.s_journal_inum = EXT4_JOURNAL_INO;
        sb.s_jnl_backup_type = 1; // EXT3_JNL_BACKUP_BLOCKS
        for k in 0..15 {
            sb.s_jnl_blocks[k] = super::ondisk::le32(&j.i_block, 4 * k);
        }
        sb.s_jnl_blocks[15] = j.i_size_high;
        sb.s_jnl_blocks[16] = j.i_size_lo;
        let jsb = jbd2_superblock(
            bs,
            pl.jblocks as u32,
            &sb.s_uuid,
            sb.has_metadata_csum(),
            sb.is_64bit(),
        );
        dev.write_at(pl.jstart * bs as u64, &jsb)?;
    }
    Ok(())
}

/// The root directory's block (`.`, `..`, `lost+found`, laid out to end
/// before the checksum tail) and lost+found's blocks.
fn write_root_and_lost_found<D: BlockDevice>(
    dev: &mut D,
    sb: &Ext4SuperBlock,
    pl: &Placement,
) -> Result<()> {
    let bs = sb.block_size() as usize;
    let seed_of = |ino: u32| sb.has_metadata_csum().then(|| inode_csum_seed(sb, ino, 0));
    let end = if sb.has_metadata_csum() { bs - 12 } else { bs };
    let mut rb = init_dot_dotdot(bs, EXT4_ROOT_INO, EXT4_ROOT_INO, seed_of(EXT4_ROOT_INO));
    let ft = if sb.has_incompat(INCOMPAT_FILETYPE) {
        super::dir::EXT4_FT_DIR
    } else {
        0
    };
    super::dir::add_entry(&mut rb[..end], 2, pl.root_blk, b"lost+found", 11, ft)?;
    if let Some(s) = seed_of(EXT4_ROOT_INO) {
        super::dir::dirblock_csum_set(s, &mut rb);
    }
    let at = |blk: u64| blk * bs as u64;
    dev.write_at(at(pl.root_blk), &rb)?;
    dev.write_at(
        at(pl.lpf_blk),
        &init_dot_dotdot(bs, 11, EXT4_ROOT_INO, seed_of(11)),
    )?;
    for k in 1..pl.lpf_n {
        dev.write_at(at(pl.lpf_blk + k), &empty_dir_block(bs, seed_of(11)))?;
    }
    Ok(())
}

/// The superblock and the group descriptor table, primary and every
/// backup group (`ext4_bg_has_super`).
fn write_super_and_descriptors<D: BlockDevice>(
    dev: &mut D,
    sb: &Ext4SuperBlock,
    gds: &[Ext4GroupDesc],
) -> Result<()> {
    let bs = sb.block_size() as u64;
    let ds = sb.desc_size();
    let mut gdt = vec![0u8; (gdt_blocks(sb) * bs) as usize];
    for (g, d) in gds.iter().enumerate() {
        gdt[g * ds..(g + 1) * ds].copy_from_slice(&d.to_bytes(sb, g as u32));
    }
    for g in 0..sb.groups_count() {
        if !ext4_bg_has_super(sb, g) {
            continue;
        }
        let mut copy = sb.clone();
        copy.s_block_group_nr = g as u16;
        let raw = copy.to_bytes();
        let first = group_first_block(sb, g);
        if g == 0 {
            dev.write_at(SUPERBLOCK_OFFSET, &raw)?;
        } else {
            let mut blk = vec![0u8; bs as usize];
            blk[..1024].copy_from_slice(&raw);
            dev.write_at(first * bs, &blk)?;
        }
        let gdt_start = if g == 0 {
            sb.s_first_data_block as u64 + 1
        } else {
            first + 1
        };
        dev.write_at(gdt_start * bs, &gdt)?;
    }
    Ok(())
}
