//! `struct ext4_super_block` (fs/ext4/ext4.h): every field, at byte 1024 of
//! the device, and the feature checks done at mount (`ext4_feature_set_ok`).

use super::csum::ext4_chksum;
use super::error::{CorruptKind, Ext4Error, Result};
use super::ondisk::ondisk;

/// Byte offset of the primary superblock.
pub const SUPERBLOCK_OFFSET: u64 = 1024;
pub const EXT4_SUPER_MAGIC: u16 = 0xEF53;
/// Offset of `s_checksum`.
pub const S_CHECKSUM_OFFSET: usize = 0x3FC;

ondisk! {
    /// The superblock, fields as in the kernel.
    pub struct Ext4SuperBlock[1024] {
        0x0 s_inodes_count: u32,
        0x4 s_blocks_count_lo: u32,
        0x8 s_r_blocks_count_lo: u32,
        0xC s_free_blocks_count_lo: u32,
        0x10 s_free_inodes_count: u32,
        0x14 s_first_data_block: u32,
        0x18 s_log_block_size: u32,
        0x1C s_log_cluster_size: u32,
        0x20 s_blocks_per_group: u32,
        0x24 s_clusters_per_group: u32,
        0x28 s_inodes_per_group: u32,
        0x2C s_mtime: u32,
        0x30 s_wtime: u32,
        0x34 s_mnt_count: u16,
        0x36 s_max_mnt_count: u16,
        0x38 s_magic: u16,
        0x3A s_state: u16,
        0x3C s_errors: u16,
        0x3E s_minor_rev_level: u16,
        0x40 s_lastcheck: u32,
        0x44 s_checkinterval: u32,
        0x48 s_creator_os: u32,
        0x4C s_rev_level: u32,
        0x50 s_def_resuid: u16,
        0x52 s_def_resgid: u16,
        0x54 s_first_ino: u32,
        0x58 s_inode_size: u16,
        0x5A s_block_group_nr: u16,
        0x5C s_feature_compat: u32,
        0x60 s_feature_incompat: u32,
        0x64 s_feature_ro_compat: u32,
        0x68 s_uuid: [u8; 16],
        0x78 s_volume_name: [u8; 16],
        0x88 s_last_mounted: [u8; 64],
        0xC8 s_algorithm_usage_bitmap: u32,
        0xCC s_prealloc_blocks: u8,
        0xCD s_prealloc_dir_blocks: u8,
        0xCE s_reserved_gdt_blocks: u16,
        0xD0 s_journal_uuid: [u8; 16],
        0xE0 s_journal_inum: u32,
        0xE4 s_journal_dev: u32,
        0xE8 s_last_orphan: u32,
        0xEC s_hash_seed: [u32; 4],
        0xFC s_def_hash_version: u8,
        0xFD s_jnl_backup_type: u8,
        0xFE s_desc_size: u16,
        0x100 s_default_mount_opts: u32,
        0x104 s_first_meta_bg: u32,
        0x108 s_mkfs_time: u32,
        0x10C s_jnl_blocks: [u32; 17],
        0x150 s_blocks_count_hi: u32,
        0x154 s_r_blocks_count_hi: u32,
        0x158 s_free_blocks_count_hi: u32,
        0x15C s_min_extra_isize: u16,
        0x15E s_want_extra_isize: u16,
        0x160 s_flags: u32,
        0x164 s_raid_stride: u16,
        0x166 s_mmp_update_interval: u16,
        0x168 s_mmp_block: u64,
        0x170 s_raid_stripe_width: u32,
        0x174 s_log_groups_per_flex: u8,
        0x175 s_checksum_type: u8,
        0x176 s_encryption_level: u8,
        0x177 s_reserved_pad: u8,
        0x178 s_kbytes_written: u64,
        0x180 s_snapshot_inum: u32,
        0x184 s_snapshot_id: u32,
        0x188 s_snapshot_r_blocks_count: u64,
        0x190 s_snapshot_list: u32,
        0x194 s_error_count: u32,
        0x198 s_first_error_time: u32,
        0x19C s_first_error_ino: u32,
        0x1A0 s_first_error_block: u64,
        0x1A8 s_first_error_func: [u8; 32],
        0x1C8 s_first_error_line: u32,
        0x1CC s_last_error_time: u32,
        0x1D0 s_last_error_ino: u32,
        0x1D4 s_last_error_line: u32,
        0x1D8 s_last_error_block: u64,
        0x1E0 s_last_error_func: [u8; 32],
        0x200 s_mount_opts: [u8; 64],
        0x240 s_usr_quota_inum: u32,
        0x244 s_grp_quota_inum: u32,
        0x248 s_overhead_clusters: u32,
        0x24C s_backup_bgs: [u32; 2],
        0x254 s_encrypt_algos: [u8; 4],
        0x258 s_encrypt_pw_salt: [u8; 16],
        0x268 s_lpf_ino: u32,
        0x26C s_prj_quota_inum: u32,
        0x270 s_checksum_seed: u32,
        0x274 s_wtime_hi: u8,
        0x275 s_mtime_hi: u8,
        0x276 s_mkfs_time_hi: u8,
        0x277 s_lastcheck_hi: u8,
        0x278 s_first_error_time_hi: u8,
        0x279 s_last_error_time_hi: u8,
        0x27A s_first_error_errcode: u8,
        0x27B s_last_error_errcode: u8,
        0x27C s_encoding: u16,
        0x27E s_encoding_flags: u16,
        0x280 s_orphan_file_inum: u32,
        0x284 s_reserved: [u32; 94],
        0x3FC s_checksum: u32,
    }
}

// s_feature_compat
pub const COMPAT_DIR_PREALLOC: u32 = 0x1;
pub const COMPAT_IMAGIC_INODES: u32 = 0x2;
pub const COMPAT_HAS_JOURNAL: u32 = 0x4;
pub const COMPAT_EXT_ATTR: u32 = 0x8;
pub const COMPAT_RESIZE_INODE: u32 = 0x10;
pub const COMPAT_DIR_INDEX: u32 = 0x20;
pub const COMPAT_SPARSE_SUPER2: u32 = 0x200;
pub const COMPAT_FAST_COMMIT: u32 = 0x400;
pub const COMPAT_STABLE_INODES: u32 = 0x800;
pub const COMPAT_ORPHAN_FILE: u32 = 0x1000;

// s_feature_ro_compat
pub const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub const RO_COMPAT_LARGE_FILE: u32 = 0x2;
pub const RO_COMPAT_HUGE_FILE: u32 = 0x8;
pub const RO_COMPAT_GDT_CSUM: u32 = 0x10;
pub const RO_COMPAT_DIR_NLINK: u32 = 0x20;
pub const RO_COMPAT_EXTRA_ISIZE: u32 = 0x40;
pub const RO_COMPAT_QUOTA: u32 = 0x100;
pub const RO_COMPAT_BIGALLOC: u32 = 0x200;
pub const RO_COMPAT_METADATA_CSUM: u32 = 0x400;
pub const RO_COMPAT_READONLY: u32 = 0x1000;
pub const RO_COMPAT_PROJECT: u32 = 0x2000;
pub const RO_COMPAT_SHARED_BLOCKS: u32 = 0x4000;
pub const RO_COMPAT_VERITY: u32 = 0x8000;
pub const RO_COMPAT_ORPHAN_PRESENT: u32 = 0x10000;

// s_feature_incompat
pub const INCOMPAT_COMPRESSION: u32 = 0x1;
pub const INCOMPAT_FILETYPE: u32 = 0x2;
pub const INCOMPAT_RECOVER: u32 = 0x4;
pub const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
pub const INCOMPAT_META_BG: u32 = 0x10;
pub const INCOMPAT_EXTENTS: u32 = 0x40;
pub const INCOMPAT_64BIT: u32 = 0x80;
pub const INCOMPAT_MMP: u32 = 0x100;
pub const INCOMPAT_FLEX_BG: u32 = 0x200;
pub const INCOMPAT_EA_INODE: u32 = 0x400;
pub const INCOMPAT_DIRDATA: u32 = 0x1000;
pub const INCOMPAT_CSUM_SEED: u32 = 0x2000;
pub const INCOMPAT_LARGEDIR: u32 = 0x4000;
pub const INCOMPAT_INLINE_DATA: u32 = 0x8000;
pub const INCOMPAT_ENCRYPT: u32 = 0x10000;
pub const INCOMPAT_CASEFOLD: u32 = 0x20000;

/// INCOMPAT features this engine reads (and checks). Of these, ea_inode,
/// mmp and casefold with an encoding it cannot hash make the filesystem
/// read-only ([`Ext4SuperBlock::unsupported_for_write`]); encrypt makes the
/// encrypted inodes read-only (their names and data are opaque bytes).
pub const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE
    | INCOMPAT_RECOVER
    | INCOMPAT_EXTENTS
    | INCOMPAT_64BIT
    | INCOMPAT_MMP
    | INCOMPAT_FLEX_BG
    | INCOMPAT_EA_INODE
    | INCOMPAT_CSUM_SEED
    | INCOMPAT_INLINE_DATA
    | INCOMPAT_LARGEDIR
    | INCOMPAT_ENCRYPT
    | INCOMPAT_CASEFOLD;
/// RO_COMPAT features this engine knows (reads; writes unless
/// [`Ext4SuperBlock::unsupported_for_write`] names one).
pub const RO_COMPAT_SUPPORTED: u32 = RO_COMPAT_QUOTA
    | RO_COMPAT_BIGALLOC
    | RO_COMPAT_READONLY
    | RO_COMPAT_PROJECT
    | RO_COMPAT_SHARED_BLOCKS
    | RO_COMPAT_VERITY
    | RO_COMPAT_ORPHAN_PRESENT
    | RO_COMPAT_SPARSE_SUPER
    | RO_COMPAT_LARGE_FILE
    | RO_COMPAT_HUGE_FILE
    | RO_COMPAT_GDT_CSUM
    | RO_COMPAT_DIR_NLINK
    | RO_COMPAT_EXTRA_ISIZE
    | RO_COMPAT_METADATA_CSUM;

/// `s_encoding`: UTF-8 (Unicode 12.1), the one encoding the kernel knows.
pub const EXT4_ENC_UTF8_12_1: u16 = 1;
/// `s_encoding_flags`: reject invalid names instead of treating them as bytes.
pub const EXT4_ENC_STRICT_MODE_FL: u16 = 0x1;

/// RO_COMPAT names, as `dumpe2fs` lists them.
pub const RO_COMPAT_NAMES: &[(u32, &str)] = &[
    (RO_COMPAT_SPARSE_SUPER, "sparse_super"),
    (RO_COMPAT_LARGE_FILE, "large_file"),
    (RO_COMPAT_HUGE_FILE, "huge_file"),
    (RO_COMPAT_GDT_CSUM, "uninit_bg"),
    (RO_COMPAT_DIR_NLINK, "dir_nlink"),
    (RO_COMPAT_EXTRA_ISIZE, "extra_isize"),
    (RO_COMPAT_QUOTA, "quota"),
    (RO_COMPAT_BIGALLOC, "bigalloc"),
    (RO_COMPAT_METADATA_CSUM, "metadata_csum"),
    (RO_COMPAT_READONLY, "read-only"),
    (RO_COMPAT_PROJECT, "project"),
    (RO_COMPAT_SHARED_BLOCKS, "shared_blocks"),
    (RO_COMPAT_VERITY, "verity"),
    (RO_COMPAT_ORPHAN_PRESENT, "orphan_present"),
];

const INCOMPAT_NAMES: &[(u32, &str)] = &[
    (INCOMPAT_COMPRESSION, "compression"),
    (INCOMPAT_FILETYPE, "filetype"),
    (INCOMPAT_RECOVER, "needs_recovery"),
    (INCOMPAT_JOURNAL_DEV, "journal_dev"),
    (INCOMPAT_META_BG, "meta_bg"),
    (INCOMPAT_EXTENTS, "extent"),
    (INCOMPAT_64BIT, "64bit"),
    (INCOMPAT_MMP, "mmp"),
    (INCOMPAT_FLEX_BG, "flex_bg"),
    (INCOMPAT_EA_INODE, "ea_inode"),
    (INCOMPAT_DIRDATA, "dirdata"),
    (INCOMPAT_CSUM_SEED, "metadata_csum_seed"),
    (INCOMPAT_LARGEDIR, "large_dir"),
    (INCOMPAT_INLINE_DATA, "inline_data"),
    (INCOMPAT_ENCRYPT, "encrypt"),
    (INCOMPAT_CASEFOLD, "casefold"),
];

/// The names of the INCOMPAT bits in `mask` (unknown bits as `0x...`).
pub fn incompat_names(mask: u32) -> String {
    let mut out = Vec::new();
    for bit in 0..32 {
        let b = 1u32 << bit;
        if mask & b != 0 {
            match INCOMPAT_NAMES.iter().find(|(v, _)| *v == b) {
                Some((_, n)) => out.push((*n).to_string()),
                None => out.push(format!("{b:#x}")),
            }
        }
    }
    out.join(",")
}

/// `EXT2_FLAGS_SIGNED_HASH` / `EXT2_FLAGS_UNSIGNED_HASH` in `s_flags`.
pub const EXT2_FLAGS_SIGNED_HASH: u32 = 0x1;
pub const EXT2_FLAGS_UNSIGNED_HASH: u32 = 0x2;
/// `s_state` bits.
pub const EXT4_VALID_FS: u16 = 0x1;
pub const EXT4_ERROR_FS: u16 = 0x2;

impl Ext4SuperBlock {
    pub fn has_compat(&self, f: u32) -> bool {
        self.s_feature_compat & f != 0
    }
    pub fn has_incompat(&self, f: u32) -> bool {
        self.s_feature_incompat & f != 0
    }
    pub fn has_ro_compat(&self, f: u32) -> bool {
        self.s_feature_ro_compat & f != 0
    }
    pub fn has_metadata_csum(&self) -> bool {
        self.has_ro_compat(RO_COMPAT_METADATA_CSUM)
    }
    /// Group descriptors carry a checksum (crc16 or crc32c).
    pub fn has_group_desc_csum(&self) -> bool {
        self.has_ro_compat(RO_COMPAT_METADATA_CSUM | RO_COMPAT_GDT_CSUM)
    }
    pub fn is_64bit(&self) -> bool {
        self.has_incompat(INCOMPAT_64BIT)
    }
    pub fn block_size(&self) -> u32 {
        1024u32 << self.s_log_block_size.min(6)
    }
    pub fn blocks_count(&self) -> u64 {
        let hi = if self.is_64bit() {
            self.s_blocks_count_hi as u64
        } else {
            0
        };
        (hi << 32) | self.s_blocks_count_lo as u64
    }
    pub fn set_blocks_count(&mut self, v: u64) {
        self.s_blocks_count_lo = v as u32;
        self.s_blocks_count_hi = if self.is_64bit() { (v >> 32) as u32 } else { 0 };
    }
    pub fn r_blocks_count(&self) -> u64 {
        let hi = if self.is_64bit() {
            self.s_r_blocks_count_hi as u64
        } else {
            0
        };
        (hi << 32) | self.s_r_blocks_count_lo as u64
    }
    pub fn set_r_blocks_count(&mut self, v: u64) {
        self.s_r_blocks_count_lo = v as u32;
        self.s_r_blocks_count_hi = if self.is_64bit() { (v >> 32) as u32 } else { 0 };
    }
    pub fn free_blocks_count(&self) -> u64 {
        let hi = if self.is_64bit() {
            self.s_free_blocks_count_hi as u64
        } else {
            0
        };
        (hi << 32) | self.s_free_blocks_count_lo as u64
    }
    pub fn set_free_blocks_count(&mut self, v: u64) {
        self.s_free_blocks_count_lo = v as u32;
        self.s_free_blocks_count_hi = if self.is_64bit() { (v >> 32) as u32 } else { 0 };
    }
    /// Group descriptor size in bytes (32 unless 64bit).
    pub fn desc_size(&self) -> usize {
        if self.is_64bit() {
            self.s_desc_size as usize
        } else {
            32
        }
    }
    pub fn inode_size(&self) -> usize {
        if self.s_rev_level == 0 {
            128
        } else {
            self.s_inode_size as usize
        }
    }
    pub fn first_ino(&self) -> u32 {
        if self.s_rev_level == 0 {
            11
        } else {
            self.s_first_ino
        }
    }
    pub fn groups_count(&self) -> u32 {
        let data = self
            .blocks_count()
            .saturating_sub(self.s_first_data_block as u64);
        data.div_ceil(self.s_blocks_per_group.max(1) as u64) as u32
    }
    /// `sbi->s_csum_seed`: the base of every metadata checksum.
    pub fn csum_seed(&self) -> u32 {
        if self.has_incompat(INCOMPAT_CSUM_SEED) {
            self.s_checksum_seed
        } else {
            ext4_chksum(!0, &self.s_uuid)
        }
    }

    /// `ext4_superblock_csum` over the encoded bytes.
    pub fn compute_checksum(raw: &[u8; 1024]) -> u32 {
        ext4_chksum(!0, &raw[..S_CHECKSUM_OFFSET])
    }

    /// Encode to a 1024-byte block, setting `s_checksum` when metadata_csum.
    pub fn to_bytes(&self) -> [u8; 1024] {
        let mut raw = [0u8; 1024];
        self.encode(&mut raw);
        if self.has_metadata_csum() {
            let c = Self::compute_checksum(&raw);
            raw[S_CHECKSUM_OFFSET..].copy_from_slice(&c.to_le_bytes());
        }
        raw
    }

    /// Decode and validate (magic, checksum, geometry) the bytes at offset 1024.
    pub fn parse(raw: &[u8; 1024]) -> Result<Self> {
        let sb = Self::decode(raw);
        if sb.s_magic != EXT4_SUPER_MAGIC {
            return Err(CorruptKind::SuperblockMagic { magic: sb.s_magic }.into());
        }
        if sb.has_metadata_csum() && Self::compute_checksum(raw) != sb.s_checksum {
            return Err(CorruptKind::SuperblockChecksum.into());
        }
        Self::parse_unchecked_csum(raw)
    }

    /// As `parse`, without the checksum check (fsck reports it separately).
    pub fn parse_unchecked_csum(raw: &[u8; 1024]) -> Result<Self> {
        let sb = Self::decode(raw);
        if sb.s_magic != EXT4_SUPER_MAGIC {
            return Err(CorruptKind::SuperblockMagic { magic: sb.s_magic }.into());
        }
        let bad = |field: &'static str, value: u64| -> Result<Self> {
            Err(CorruptKind::SuperblockField { field, value }.into())
        };
        if sb.s_log_block_size > 6 {
            return bad("s_log_block_size", sb.s_log_block_size as u64);
        }
        let bs = sb.block_size();
        // bigalloc: the bitmaps count clusters of 2^s_log_cluster_size KiB
        // (`check_super_block`: clusters_per_group up to 8 * block size,
        // blocks_per_group = clusters_per_group * cluster ratio).
        if sb.has_ro_compat(RO_COMPAT_BIGALLOC) {
            if sb.s_log_cluster_size < sb.s_log_block_size || sb.s_log_cluster_size > 16 + 6 {
                return bad("s_log_cluster_size", sb.s_log_cluster_size as u64);
            }
            if sb.s_clusters_per_group == 0 || sb.s_clusters_per_group > 8 * bs {
                return bad("s_clusters_per_group", sb.s_clusters_per_group as u64);
            }
            if u64::from(sb.s_clusters_per_group) << sb.cluster_bits()
                != u64::from(sb.s_blocks_per_group)
            {
                return bad("s_blocks_per_group", sb.s_blocks_per_group as u64);
            }
        } else if sb.s_blocks_per_group == 0 || sb.s_blocks_per_group > 8 * bs {
            return bad("s_blocks_per_group", sb.s_blocks_per_group as u64);
        }
        if sb.s_inodes_per_group == 0 || sb.s_inodes_per_group > 8 * bs {
            return bad("s_inodes_per_group", sb.s_inodes_per_group as u64);
        }
        let isz = sb.inode_size();
        if isz < 128 || isz > bs as usize || !isz.is_power_of_two() {
            return bad("s_inode_size", isz as u64);
        }
        // `check_super_block`: 1 on 1 KiB blocks without bigalloc, else 0.
        if sb.s_first_data_block != u32::from(bs == 1024 && sb.cluster_bits() == 0) {
            return bad("s_first_data_block", sb.s_first_data_block as u64);
        }
        if sb.is_64bit()
            && (sb.s_desc_size < 32
                || !sb.s_desc_size.is_power_of_two()
                || sb.s_desc_size as u32 > bs)
        {
            return bad("s_desc_size", sb.s_desc_size as u64);
        }
        if sb.blocks_count() <= sb.s_first_data_block as u64 {
            return bad("s_blocks_count", sb.blocks_count());
        }
        let groups = sb.groups_count() as u64;
        if groups.checked_mul(sb.s_inodes_per_group as u64) != Some(sb.s_inodes_count as u64) {
            return bad("s_inodes_count", sb.s_inodes_count as u64);
        }
        if sb.first_ino() < 11 || sb.first_ino() > sb.s_inodes_count {
            return bad("s_first_ino", sb.first_ino() as u64);
        }
        Ok(sb)
    }

    /// `ext4_feature_set_ok`: refuse unknown INCOMPAT features with their
    /// names; report whether unknown RO_COMPAT features force read-only.
    pub fn check_features(&self) -> Result<bool> {
        let unknown = self.s_feature_incompat & !INCOMPAT_SUPPORTED;
        if unknown != 0 {
            return Err(Ext4Error::UnsupportedFeatures {
                names: incompat_names(unknown),
                mask: unknown,
            });
        }
        Ok(self.s_feature_ro_compat & !RO_COMPAT_SUPPORTED != 0)
    }

    /// The feature that keeps the engine from writing this filesystem
    /// correctly, by name: it reads (and checks) such filesystems but
    /// refuses every change with `Ext4Error::Unsupported { feature }`.
    /// - bigalloc: allocation is per cluster (a write into a partly used
    ///   cluster must reuse it); the engine allocates blocks.
    /// - quota: every allocation and inode must be charged to the quota
    ///   files, which the engine does not maintain.
    /// - project: new inodes inherit the parent's project id (and quota).
    /// - shared_blocks: blocks may be shared; freeing one would free both.
    /// - orphan_present: the orphan file lists inodes still to be released.
    /// - read-only: the filesystem asks not to be written.
    /// - ea_inode: removing a file must drop its attribute-value inodes.
    /// - mmp: writers must hold the multi-mount protection block.
    /// - casefold with an encoding other than UTF-8 12.1, or strict mode:
    ///   names must be hashed (or refused) as the encoding says.
    ///
    /// verity and encrypt are handled per inode (`ext4_inode_write_check`).
    /// Unknown RO_COMPAT bits are reported by `check_features`.
    pub fn unsupported_for_write(&self) -> Option<&'static str> {
        for (bit, name) in [
            (RO_COMPAT_BIGALLOC, "bigalloc"),
            (RO_COMPAT_QUOTA, "quota"),
            (RO_COMPAT_PROJECT, "project"),
            (RO_COMPAT_SHARED_BLOCKS, "shared_blocks"),
            (RO_COMPAT_ORPHAN_PRESENT, "orphan_present"),
            (RO_COMPAT_READONLY, "read-only"),
        ] {
            if self.has_ro_compat(bit) {
                return Some(name);
            }
        }
        if self.has_incompat(INCOMPAT_EA_INODE) {
            return Some("ea_inode");
        }
        if self.has_incompat(INCOMPAT_MMP) {
            return Some("mmp");
        }
        if self.has_incompat(INCOMPAT_CASEFOLD) && !self.casefold_hashable() {
            return Some("casefold");
        }
        None
    }

    /// casefold names can be hashed: UTF-8 12.1 without strict mode.
    pub fn casefold_hashable(&self) -> bool {
        self.s_encoding == EXT4_ENC_UTF8_12_1
            && self.s_encoding_flags & EXT4_ENC_STRICT_MODE_FL == 0
    }

    /// `log2` of the cluster ratio (0 without bigalloc).
    pub fn cluster_bits(&self) -> u32 {
        if self.has_ro_compat(RO_COMPAT_BIGALLOC) {
            self.s_log_cluster_size
                .saturating_sub(self.s_log_block_size)
                .min(31)
        } else {
            0
        }
    }
}

/// `ext4_bg_has_super`: with sparse_super only groups 0, 1 and powers of
/// 3, 5 and 7 hold a backup superblock and descriptor table.
pub fn ext4_bg_has_super(sb: &Ext4SuperBlock, group: u32) -> bool {
    if group == 0 {
        return true;
    }
    if sb.has_compat(COMPAT_SPARSE_SUPER2) {
        return group == sb.s_backup_bgs[0] || group == sb.s_backup_bgs[1];
    }
    if !sb.has_ro_compat(RO_COMPAT_SPARSE_SUPER) || group == 1 {
        return true;
    }
    if group & 1 == 0 {
        return false;
    }
    [3u32, 5, 7].iter().any(|&base| {
        let mut p = base;
        while p < group {
            match p.checked_mul(base) {
                Some(n) => p = n,
                None => return false,
            }
        }
        p == group
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_groups() {
        let mut sb = Ext4SuperBlock::zeroed();
        sb.s_feature_ro_compat = RO_COMPAT_SPARSE_SUPER;
        let with: Vec<u32> = (0..130).filter(|&g| ext4_bg_has_super(&sb, g)).collect();
        assert_eq!(with, vec![0, 1, 3, 5, 7, 9, 25, 27, 49, 81, 125]);
    }

    #[test]
    fn incompat_names_lists_known_and_unknown() {
        assert_eq!(
            incompat_names(INCOMPAT_ENCRYPT | INCOMPAT_MMP | 0x8000_0000),
            "mmp,encrypt,0x80000000"
        );
    }

    #[test]
    fn parse_rejects_garbage_without_panicking() {
        let raw = [0xffu8; 1024];
        assert!(Ext4SuperBlock::parse(&raw).is_err());
        let raw = [0u8; 1024];
        assert!(matches!(
            Ext4SuperBlock::parse(&raw),
            Err(Ext4Error::Corrupt(CorruptKind::SuperblockMagic {
                magic: 0
            }))
        ));
    }
}
