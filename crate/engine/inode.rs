//! `struct ext4_inode` (128 bytes plus `i_extra_isize` extra bytes), its
//! checksum (`ext4_inode_csum`) and nanosecond timestamps.

use super::csum::ext4_chksum;
use super::ondisk::ondisk;
use super::superblock::{Ext4SuperBlock, RO_COMPAT_HUGE_FILE};

/// The good-old inode size (fields up to `l_i_reserved`).
pub const EXT4_GOOD_OLD_INODE_SIZE: usize = 128;

ondisk! {
    /// An on-disk inode; fields past 0x80 exist when `i_extra_isize` covers them.
    pub struct Ext4Inode[0xA0] {
        0x0 i_mode: u16,
        0x2 i_uid: u16,
        0x4 i_size_lo: u32,
        0x8 i_atime: u32,
        0xC i_ctime: u32,
        0x10 i_mtime: u32,
        0x14 i_dtime: u32,
        0x18 i_gid: u16,
        0x1A i_links_count: u16,
        0x1C i_blocks_lo: u32,
        0x20 i_flags: u32,
        0x24 l_i_version: u32,
        0x28 i_block: [u8; 60],
        0x64 i_generation: u32,
        0x68 i_file_acl_lo: u32,
        0x6C i_size_high: u32,
        0x70 i_obso_faddr: u32,
        0x74 l_i_blocks_high: u16,
        0x76 l_i_file_acl_high: u16,
        0x78 l_i_uid_high: u16,
        0x7A l_i_gid_high: u16,
        0x7C l_i_checksum_lo: u16,
        0x7E l_i_reserved: u16,
        0x80 i_extra_isize: u16,
        0x82 i_checksum_hi: u16,
        0x84 i_ctime_extra: u32,
        0x88 i_mtime_extra: u32,
        0x8C i_atime_extra: u32,
        0x90 i_crtime: u32,
        0x94 i_crtime_extra: u32,
        0x98 i_version_hi: u32,
        0x9C i_projid: u32,
    }
}

// i_mode file types
pub const S_IFMT: u16 = 0xF000;
pub const S_IFSOCK: u16 = 0xC000;
pub const S_IFLNK: u16 = 0xA000;
pub const S_IFREG: u16 = 0x8000;
pub const S_IFBLK: u16 = 0x6000;
pub const S_IFDIR: u16 = 0x4000;
pub const S_IFCHR: u16 = 0x2000;
pub const S_IFIFO: u16 = 0x1000;

// i_flags
pub const EXT4_SECRM_FL: u32 = 0x1;
pub const EXT4_SYNC_FL: u32 = 0x8;
pub const EXT4_IMMUTABLE_FL: u32 = 0x10;
pub const EXT4_APPEND_FL: u32 = 0x20;
pub const EXT4_NOATIME_FL: u32 = 0x80;
pub const EXT4_ENCRYPT_FL: u32 = 0x800;
pub const EXT4_IMAGIC_FL: u32 = 0x2000;
pub const EXT4_INDEX_FL: u32 = 0x1000;
pub const EXT4_JOURNAL_DATA_FL: u32 = 0x4000;
pub const EXT4_DIRSYNC_FL: u32 = 0x10000;
pub const EXT4_TOPDIR_FL: u32 = 0x20000;
pub const EXT4_HUGE_FILE_FL: u32 = 0x40000;
pub const EXT4_EXTENTS_FL: u32 = 0x80000;
pub const EXT4_VERITY_FL: u32 = 0x100000;
pub const EXT4_EA_INODE_FL: u32 = 0x200000;
pub const EXT4_INLINE_DATA_FL: u32 = 0x10000000;
pub const EXT4_PROJINHERIT_FL: u32 = 0x20000000;
pub const EXT4_CASEFOLD_FL: u32 = 0x40000000;
/// Flags a user may set with setattr (`EXT4_FL_USER_MODIFIABLE`).
pub const EXT4_FL_USER_MODIFIABLE: u32 = 0x604BC0FF;

/// Reserved inode numbers.
pub const EXT4_BAD_INO: u32 = 1;
pub const EXT4_ROOT_INO: u32 = 2;
pub const EXT4_RESIZE_INO: u32 = 7;
pub const EXT4_UNDEL_DIR_INO: u32 = 6;
pub const EXT4_JOURNAL_INO: u32 = 8;
/// `s_creator_os` of the GNU Hurd: `osd1`/`osd2` hold the translator,
/// fragment fields and the high mode bits, not `l_i_blocks_high` or
/// `l_i_file_acl_high`.
pub const EXT4_OS_HURD: u32 = 1;

/// A timestamp: seconds (with the 2 epoch bits of `_extra`) and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, serde::Serialize)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u32,
}

impl Timespec {
    /// Decode `(i_xtime, i_xtime_extra)`.
    pub fn decode(sec: u32, extra: u32) -> Self {
        let epoch = (extra & 3) as i64;
        Timespec {
            sec: sec as i32 as i64 + (epoch << 32),
            nsec: extra >> 2,
        }
    }
    /// Encode to `(i_xtime, i_xtime_extra)`.
    pub fn encode(self) -> (u32, u32) {
        let epoch = ((self.sec - self.sec as i32 as i64) >> 32) as u32 & 3;
        (self.sec as u32, (self.nsec.min(999_999_999) << 2) | epoch)
    }
}

impl Ext4Inode {
    pub fn file_type(&self) -> u16 {
        self.i_mode & S_IFMT
    }
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }
    pub fn is_reg(&self) -> bool {
        self.file_type() == S_IFREG
    }
    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }
    pub fn size(&self) -> u64 {
        ((self.i_size_high as u64) << 32) | self.i_size_lo as u64
    }
    pub fn set_size(&mut self, v: u64) {
        self.i_size_lo = v as u32;
        self.i_size_high = (v >> 32) as u32;
    }
    pub fn file_acl(&self) -> u64 {
        ((self.l_i_file_acl_high as u64) << 32) | self.i_file_acl_lo as u64
    }
    pub fn set_file_acl(&mut self, v: u64) {
        self.i_file_acl_lo = v as u32;
        self.l_i_file_acl_high = (v >> 32) as u16;
    }
    /// `ext4_inode_blocks`: `i_blocks` in 512-byte sectors. The high half
    /// counts only with huge_file (elsewhere, and on the Hurd, those bytes
    /// mean something else); huge_file in fs blocks is not produced.
    pub fn blocks_512(&self, sb: &Ext4SuperBlock) -> u64 {
        if !sb.has_ro_compat(RO_COMPAT_HUGE_FILE) {
            return self.i_blocks_lo as u64;
        }
        let raw = ((self.l_i_blocks_high as u64) << 32) | self.i_blocks_lo as u64;
        if self.i_flags & EXT4_HUGE_FILE_FL != 0 {
            raw * (sb.block_size() as u64 / 512)
        } else {
            raw
        }
    }
    /// `i_file_acl` as `ext4_iget` reads it: the high half only with 64bit.
    pub fn file_acl_sb(&self, sb: &Ext4SuperBlock) -> u64 {
        if sb.is_64bit() {
            self.file_acl()
        } else {
            self.i_file_acl_lo as u64
        }
    }
    pub fn set_blocks_512(&mut self, v: u64) {
        self.i_blocks_lo = v as u32;
        self.l_i_blocks_high = (v >> 32) as u16;
        self.i_flags &= !EXT4_HUGE_FILE_FL;
    }
    pub fn has_flag(&self, f: u32) -> bool {
        self.i_flags & f != 0
    }
    pub fn mtime(&self) -> Timespec {
        Timespec::decode(self.i_mtime, self.extra_field(0x88, self.i_mtime_extra))
    }
    pub fn set_times(&mut self, t: Timespec) {
        let (s, e) = t.encode();
        self.i_atime = s;
        self.i_ctime = s;
        self.i_mtime = s;
        self.i_atime_extra = e;
        self.i_ctime_extra = e;
        self.i_mtime_extra = e;
    }
    /// An extra field's value if `i_extra_isize` covers it, else 0.
    fn extra_field(&self, off: usize, v: u32) -> u32 {
        if EXT4_GOOD_OLD_INODE_SIZE + self.i_extra_isize as usize >= off + 4 {
            v
        } else {
            0
        }
    }
}

/// `ei->i_csum_seed`: crc32c of the inode number and generation, seeded by
/// `s_csum_seed`.
pub fn inode_csum_seed(sb: &Ext4SuperBlock, ino: u32, generation: u32) -> u32 {
    let c = ext4_chksum(sb.csum_seed(), &ino.to_le_bytes());
    ext4_chksum(c, &generation.to_le_bytes())
}

/// `ext4_inode_csum` over the full on-disk inode `raw` (s_inode_size bytes),
/// with both checksum fields treated as zero.
pub fn ext4_inode_csum(sb: &Ext4SuperBlock, ino: u32, raw: &[u8]) -> u32 {
    let gen = super::ondisk::le32(raw, 0x64);
    let mut c = inode_csum_seed(sb, ino, gen);
    let n = raw.len();
    let lo = 0x7C.min(n);
    c = ext4_chksum(c, &raw[..lo]);
    c = ext4_chksum(c, &[0, 0]);
    if n <= 0x7E {
        return c;
    }
    c = ext4_chksum(c, &raw[0x7E..0x80.min(n)]);
    if n > EXT4_GOOD_OLD_INODE_SIZE {
        let extra = super::ondisk::le16(raw, 0x80) as usize;
        c = ext4_chksum(c, &raw[0x80..0x82.min(n)]);
        let mut pos = 0x82;
        if extra >= 4 {
            c = ext4_chksum(c, &[0, 0]);
            pos = 0x84;
        }
        if pos < n {
            c = ext4_chksum(c, &raw[pos..]);
        }
    }
    c
}

/// Whether the inode records the high 16 bits of its checksum.
fn has_csum_hi(raw: &[u8]) -> bool {
    raw.len() > EXT4_GOOD_OLD_INODE_SIZE && super::ondisk::le16(raw, 0x80) >= 4
}

/// Store the checksum in `raw` (no-op without metadata_csum).
pub fn ext4_inode_csum_set(sb: &Ext4SuperBlock, ino: u32, raw: &mut [u8]) {
    if !sb.has_metadata_csum() {
        return;
    }
    let c = ext4_inode_csum(sb, ino, raw);
    super::ondisk::put_le16(raw, 0x7C, c as u16);
    if has_csum_hi(raw) {
        super::ondisk::put_le16(raw, 0x82, (c >> 16) as u16);
    }
}

/// `ext4_inode_csum_verify`: true when right, or when there is no checksum.
pub fn ext4_inode_csum_verify(sb: &Ext4SuperBlock, ino: u32, raw: &[u8]) -> bool {
    if !sb.has_metadata_csum() {
        return true;
    }
    let c = ext4_inode_csum(sb, ino, raw);
    let lo = super::ondisk::le16(raw, 0x7C) as u32;
    if has_csum_hi(raw) {
        let hi = super::ondisk::le16(raw, 0x82) as u32;
        (hi << 16 | lo) == c
    } else {
        lo == c & 0xffff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_round_trip_with_epoch_bits() {
        for t in [
            Timespec { sec: 0, nsec: 0 },
            Timespec { sec: -1, nsec: 5 },
            Timespec {
                sec: 1_700_000_000,
                nsec: 123_456_789,
            },
            Timespec {
                sec: (1i64 << 32) + 7,
                nsec: 1,
            },
        ] {
            let (s, e) = t.encode();
            assert_eq!(Timespec::decode(s, e), t);
        }
    }

    #[test]
    fn checksum_set_then_verify_and_detect_flip() {
        let mut sb = Ext4SuperBlock::zeroed();
        sb.s_feature_ro_compat = super::super::superblock::RO_COMPAT_METADATA_CSUM;
        sb.s_uuid = [7; 16];
        let mut raw = vec![0u8; 256];
        let mut ino = Ext4Inode::zeroed();
        ino.i_mode = S_IFREG | 0o644;
        ino.i_extra_isize = 32;
        ino.encode(&mut raw);
        ext4_inode_csum_set(&sb, 12, &mut raw);
        assert!(ext4_inode_csum_verify(&sb, 12, &raw));
        assert!(!ext4_inode_csum_verify(&sb, 13, &raw));
        raw[200] ^= 1;
        assert!(!ext4_inode_csum_verify(&sb, 12, &raw));
    }
}
