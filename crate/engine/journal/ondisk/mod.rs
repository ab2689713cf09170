//! jbd2 on-disk structures (include/linux/jbd2.h): the journal superblock,
//! the block header every log block starts with, descriptor tags, the commit
//! block, the revoke block, and the checksums each carries.
//!
//! Everything in the journal is big-endian. Parsers take raw block bytes and
//! never panic: a short or malformed block is an error naming the log block.
//! One file per block type: [`superblock`], [`descriptor`] (tags, tails),
//! [`commit_block`], [`revoke_block`].

use super::JournalError;
use crate::engine::csum::ext4_chksum;

mod commit_block;
mod descriptor;
mod revoke_block;
mod superblock;

pub use commit_block::*;
pub use descriptor::*;
pub use revoke_block::*;
pub use superblock::*;

/// `JBD2_MAGIC_NUMBER`: first four bytes of every journal metadata block.
pub const JBD2_MAGIC_NUMBER: u32 = 0xC03B_3998;

/// `h_blocktype` values.
pub const JBD2_DESCRIPTOR_BLOCK: u32 = 1;
pub const JBD2_COMMIT_BLOCK: u32 = 2;
pub const JBD2_SUPERBLOCK_V1: u32 = 3;
pub const JBD2_SUPERBLOCK_V2: u32 = 4;
pub const JBD2_REVOKE_BLOCK: u32 = 5;

/// `s_feature_compat`: checksum v1 (crc32_be over the transaction).
pub const JBD2_FEATURE_COMPAT_CHECKSUM: u32 = 0x1;
/// `s_feature_incompat` bits.
pub const JBD2_FEATURE_INCOMPAT_REVOKE: u32 = 0x1;
pub const JBD2_FEATURE_INCOMPAT_64BIT: u32 = 0x2;
pub const JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
pub const JBD2_FEATURE_INCOMPAT_CSUM_V2: u32 = 0x8;
pub const JBD2_FEATURE_INCOMPAT_CSUM_V3: u32 = 0x10;
pub const JBD2_FEATURE_INCOMPAT_FAST_COMMIT: u32 = 0x20;
/// The incompat bits e2fsprogs 1.47 and Linux know.
pub const JBD2_KNOWN_INCOMPAT_FEATURES: u32 = JBD2_FEATURE_INCOMPAT_REVOKE
    | JBD2_FEATURE_INCOMPAT_64BIT
    | JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT
    | JBD2_FEATURE_INCOMPAT_CSUM_V2
    | JBD2_FEATURE_INCOMPAT_CSUM_V3
    | JBD2_FEATURE_INCOMPAT_FAST_COMMIT;
/// No ro_compat bits are defined.
pub const JBD2_KNOWN_ROCOMPAT_FEATURES: u32 = 0;

/// `h_chksum_type` / `s_checksum_type` values.
pub const JBD2_CRC32_CHKSUM: u8 = 1;
pub const JBD2_MD5_CHKSUM: u8 = 2;
pub const JBD2_SHA1_CHKSUM: u8 = 3;
pub const JBD2_CRC32C_CHKSUM: u8 = 4;
/// `h_chksum_size` for a v1 crc32 commit checksum.
pub const JBD2_CRC32_CHKSUM_SIZE: u8 = 4;

/// Tag flags (`t_flags`).
pub const JBD2_FLAG_ESCAPE: u32 = 1;
pub const JBD2_FLAG_SAME_UUID: u32 = 2;
pub const JBD2_FLAG_DELETED: u32 = 4;
pub const JBD2_FLAG_LAST_TAG: u32 = 8;

/// The kernel refuses journals shorter than this many blocks.
pub const JBD2_MIN_JOURNAL_BLOCKS: u32 = 1024;
/// Size of `journal_header_t`.
pub const JOURNAL_HEADER_SIZE: usize = 12;
/// Size of `jbd2_journal_revoke_header_t` (header + r_count).
pub const REVOKE_HEADER_SIZE: usize = 16;
/// Size of `struct jbd2_journal_block_tail`.
pub const BLOCK_TAIL_SIZE: usize = 4;
/// Size of `journal_superblock_t`.
pub const JOURNAL_SUPERBLOCK_SIZE: usize = 0x400;
/// Size of the tag3 (`journal_block_tag3_t`).
pub const TAG3_SIZE: usize = 16;
/// `JBD_TAG_SIZE32`: a v2/none tag without the high 32 bits.
pub const TAG_SIZE32: usize = 8;
/// Bytes of UUID following a tag without `JBD2_FLAG_SAME_UUID`.
pub const UUID_SIZE: usize = 16;

pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub(crate) fn be16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

pub(crate) fn be64(b: &[u8], off: usize) -> u64 {
    (u64::from(be32(b, off)) << 32) | u64::from(be32(b, off + 4))
}

pub(crate) fn put_be32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

pub(crate) fn put_be16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

pub(crate) fn put_be64(b: &mut [u8], off: usize, v: u64) {
    put_be32(b, off, (v >> 32) as u32);
    put_be32(b, off + 4, v as u32);
}

/// `crc32_be`: the big-endian (non-reflected, poly 0x04C11DB7) CRC32 the
/// checksum-v1 commit uses, a raw update like the kernel's.
pub fn crc32_be(mut crc: u32, data: &[u8]) -> u32 {
    for &byte in data {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// `journal_header_t` (0x0 h_magic, 0x4 h_blocktype, 0x8 h_sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JournalHeader {
    pub h_magic: u32,
    pub h_blocktype: u32,
    pub h_sequence: u32,
}

impl JournalHeader {
    pub fn parse(b: &[u8]) -> JournalHeader {
        JournalHeader {
            h_magic: be32(b, 0x0),
            h_blocktype: be32(b, 0x4),
            h_sequence: be32(b, 0x8),
        }
    }
    pub fn write(&self, b: &mut [u8]) {
        put_be32(b, 0x0, self.h_magic);
        put_be32(b, 0x4, self.h_blocktype);
        put_be32(b, 0x8, self.h_sequence);
    }
    pub fn new(blocktype: u32, sequence: u32) -> JournalHeader {
        JournalHeader {
            h_magic: JBD2_MAGIC_NUMBER,
            h_blocktype: blocktype,
            h_sequence: sequence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_be_check_value() {
        // CRC-32/MPEG-2 (init ~0, no final xor) check value of "123456789".
        assert_eq!(crc32_be(!0, b"123456789"), 0x0376_E6E7);
    }
}
