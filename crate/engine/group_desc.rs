//! `struct ext4_group_desc` (32 or 64 bytes) and its checksum
//! (`ext4_group_desc_csum`: crc32c with metadata_csum, crc16 with GDT_CSUM).

use super::csum::ext4_chksum;
use super::ondisk::ondisk;
use super::superblock::Ext4SuperBlock;

ondisk! {
    /// A block group descriptor; the `_hi` halves exist only in 64-byte descriptors.
    pub struct Ext4GroupDesc[64] {
        0x0 bg_block_bitmap_lo: u32,
        0x4 bg_inode_bitmap_lo: u32,
        0x8 bg_inode_table_lo: u32,
        0xC bg_free_blocks_count_lo: u16,
        0xE bg_free_inodes_count_lo: u16,
        0x10 bg_used_dirs_count_lo: u16,
        0x12 bg_flags: u16,
        0x14 bg_exclude_bitmap_lo: u32,
        0x18 bg_block_bitmap_csum_lo: u16,
        0x1A bg_inode_bitmap_csum_lo: u16,
        0x1C bg_itable_unused_lo: u16,
        0x1E bg_checksum: u16,
        0x20 bg_block_bitmap_hi: u32,
        0x24 bg_inode_bitmap_hi: u32,
        0x28 bg_inode_table_hi: u32,
        0x2C bg_free_blocks_count_hi: u16,
        0x2E bg_free_inodes_count_hi: u16,
        0x30 bg_used_dirs_count_hi: u16,
        0x32 bg_itable_unused_hi: u16,
        0x34 bg_exclude_bitmap_hi: u32,
        0x38 bg_block_bitmap_csum_hi: u16,
        0x3A bg_inode_bitmap_csum_hi: u16,
        0x3C bg_reserved: u32,
    }
}

/// `bg_flags`
pub const EXT4_BG_INODE_UNINIT: u16 = 0x1;
pub const EXT4_BG_BLOCK_UNINIT: u16 = 0x2;
pub const EXT4_BG_INODE_ZEROED: u16 = 0x4;

/// Offset of `bg_checksum`.
const BG_CHECKSUM_OFFSET: usize = 0x1E;
/// `EXT4_BG_BLOCK_BITMAP_CSUM_HI_END` / `..._INODE_..._END`.
pub const EXT4_BG_BLOCK_BITMAP_CSUM_HI_END: usize = 0x3A;
pub const EXT4_BG_INODE_BITMAP_CSUM_HI_END: usize = 0x3C;

macro_rules! lohi {
    ($get:ident, $set:ident, $lo:ident, $hi:ident, $t:ty, $shift:expr) => {
        pub fn $get(&self, sb: &Ext4SuperBlock) -> $t {
            let hi = if sb.desc_size() >= 64 {
                self.$hi as $t
            } else {
                0
            };
            (hi << $shift) | self.$lo as $t
        }
        pub fn $set(&mut self, sb: &Ext4SuperBlock, v: $t) {
            self.$lo = v as _;
            self.$hi = if sb.desc_size() >= 64 {
                (v >> $shift) as _
            } else {
                0
            };
        }
    };
}

impl Ext4GroupDesc {
    lohi!(
        block_bitmap,
        set_block_bitmap,
        bg_block_bitmap_lo,
        bg_block_bitmap_hi,
        u64,
        32
    );
    lohi!(
        inode_bitmap,
        set_inode_bitmap,
        bg_inode_bitmap_lo,
        bg_inode_bitmap_hi,
        u64,
        32
    );
    lohi!(
        inode_table,
        set_inode_table,
        bg_inode_table_lo,
        bg_inode_table_hi,
        u64,
        32
    );
    lohi!(
        free_blocks_count,
        set_free_blocks_count,
        bg_free_blocks_count_lo,
        bg_free_blocks_count_hi,
        u32,
        16
    );
    lohi!(
        free_inodes_count,
        set_free_inodes_count,
        bg_free_inodes_count_lo,
        bg_free_inodes_count_hi,
        u32,
        16
    );
    lohi!(
        used_dirs_count,
        set_used_dirs_count,
        bg_used_dirs_count_lo,
        bg_used_dirs_count_hi,
        u32,
        16
    );
    lohi!(
        itable_unused,
        set_itable_unused,
        bg_itable_unused_lo,
        bg_itable_unused_hi,
        u32,
        16
    );
    lohi!(
        block_bitmap_csum,
        set_block_bitmap_csum,
        bg_block_bitmap_csum_lo,
        bg_block_bitmap_csum_hi,
        u32,
        16
    );
    lohi!(
        inode_bitmap_csum,
        set_inode_bitmap_csum,
        bg_inode_bitmap_csum_lo,
        bg_inode_bitmap_csum_hi,
        u32,
        16
    );

    /// `ext4_group_desc_csum` over the descriptor bytes `raw` (desc_size long).
    pub fn compute_checksum(sb: &Ext4SuperBlock, group: u32, raw: &[u8]) -> u16 {
        let size = sb.desc_size().min(raw.len());
        let end = BG_CHECKSUM_OFFSET + 2;
        if sb.has_metadata_csum() {
            let mut c = ext4_chksum(sb.csum_seed(), &group.to_le_bytes());
            c = ext4_chksum(c, &raw[..BG_CHECKSUM_OFFSET.min(size)]);
            c = ext4_chksum(c, &[0, 0]);
            if end < size {
                c = ext4_chksum(c, &raw[end..size]);
            }
            return (c & 0xffff) as u16;
        }
        if sb.has_ro_compat(super::superblock::RO_COMPAT_GDT_CSUM) {
            let mut c = crc16(!0, &sb.s_uuid);
            c = crc16(c, &group.to_le_bytes());
            c = crc16(c, &raw[..BG_CHECKSUM_OFFSET.min(size)]);
            if sb.is_64bit() && end < size {
                c = crc16(c, &raw[end..size]);
            }
            return c;
        }
        0
    }

    /// Encode into a `desc_size` buffer with `bg_checksum` set.
    pub fn to_bytes(&self, sb: &Ext4SuperBlock, group: u32) -> Vec<u8> {
        let mut raw = vec![0u8; sb.desc_size()];
        self.encode(&mut raw);
        let c = Self::compute_checksum(sb, group, &raw);
        raw[BG_CHECKSUM_OFFSET..BG_CHECKSUM_OFFSET + 2].copy_from_slice(&c.to_le_bytes());
        raw
    }

    /// The checksum in `raw` is right (always true without checksums).
    pub fn verify(sb: &Ext4SuperBlock, group: u32, raw: &[u8]) -> bool {
        if !sb.has_group_desc_csum() {
            return true;
        }
        let d = Self::decode(raw);
        Self::compute_checksum(sb, group, raw) == d.bg_checksum
    }
}

/// crc16 (ANSI, reflected polynomial 0xA001) as used by `ext2fs_crc16`.
pub fn crc16(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        crc ^= b as u16;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_check_value() {
        // CRC-16/ARC of "123456789" is 0xBB3D (init 0).
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
    }

    #[test]
    fn lohi_split() {
        let mut sb = Ext4SuperBlock::zeroed();
        sb.s_feature_incompat = super::super::superblock::INCOMPAT_64BIT;
        sb.s_desc_size = 64;
        let mut d = Ext4GroupDesc::zeroed();
        d.set_inode_table(&sb, 0x1_0000_0002);
        assert_eq!((d.bg_inode_table_lo, d.bg_inode_table_hi), (2, 1));
        assert_eq!(d.inode_table(&sb), 0x1_0000_0002);
        sb.s_feature_incompat = 0;
        assert_eq!(d.inode_table(&sb), 2);
    }
}
