//! jbd2 on-disk structures (include/linux/jbd2.h): the journal superblock,
//! the block header every log block starts with, descriptor tags, the commit
//! block, the revoke block, and the checksums each carries.
//!
//! Everything in the journal is big-endian. Parsers take raw block bytes and
//! never panic: a short or malformed block is an error naming the log block.

use super::JournalError;
use crate::engine::csum::ext4_chksum;

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

/// `journal_superblock_t`, every field (v1 uses only the first 0x24 bytes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JournalSuperblock {
    /// 0x00
    pub s_header: JournalHeader,
    /// 0x0C
    pub s_blocksize: u32,
    /// 0x10
    pub s_maxlen: u32,
    /// 0x14
    pub s_first: u32,
    /// 0x18
    pub s_sequence: u32,
    /// 0x1C: 0 iff the journal is empty (clean).
    pub s_start: u32,
    /// 0x20
    pub s_errno: i32,
    /// 0x24
    pub s_feature_compat: u32,
    /// 0x28
    pub s_feature_incompat: u32,
    /// 0x2C
    pub s_feature_ro_compat: u32,
    /// 0x30
    pub s_uuid: [u8; 16],
    /// 0x40
    pub s_nr_users: u32,
    /// 0x44
    pub s_dynsuper: u32,
    /// 0x48
    pub s_max_transaction: u32,
    /// 0x4C
    pub s_max_trans_data: u32,
    /// 0x50
    pub s_checksum_type: u8,
    /// 0x51..0x54
    pub s_padding2: [u8; 3],
    /// 0x54
    pub s_num_fc_blks: u32,
    /// 0x58 (newer kernels: log head while clean)
    pub s_head: u32,
    /// 0x5C..0xFC, kept verbatim.
    pub s_padding: Vec<u8>,
    /// 0xFC: crc32c of the 1 KiB superblock with this field zeroed.
    pub s_checksum: u32,
    /// 0x100..0x400: 16-byte ids of the filesystems sharing the log.
    pub s_users: Vec<u8>,
}

impl JournalSuperblock {
    /// Parse the 1 KiB superblock at the start of `b`. Checks only that the
    /// bytes are there; [`super::Journal::load`] validates.
    pub fn parse(b: &[u8]) -> Result<JournalSuperblock, JournalError> {
        let b = b
            .get(..JOURNAL_SUPERBLOCK_SIZE)
            .ok_or(JournalError::Corrupt {
                block: 0,
                what: format!("journal superblock needs {JOURNAL_SUPERBLOCK_SIZE} bytes"),
            })?;
        let mut s_uuid = [0u8; 16];
        s_uuid.copy_from_slice(&b[0x30..0x40]);
        Ok(JournalSuperblock {
            s_header: JournalHeader::parse(b),
            s_blocksize: be32(b, 0x0C),
            s_maxlen: be32(b, 0x10),
            s_first: be32(b, 0x14),
            s_sequence: be32(b, 0x18),
            s_start: be32(b, 0x1C),
            s_errno: be32(b, 0x20) as i32,
            s_feature_compat: be32(b, 0x24),
            s_feature_incompat: be32(b, 0x28),
            s_feature_ro_compat: be32(b, 0x2C),
            s_uuid,
            s_nr_users: be32(b, 0x40),
            s_dynsuper: be32(b, 0x44),
            s_max_transaction: be32(b, 0x48),
            s_max_trans_data: be32(b, 0x4C),
            s_checksum_type: b[0x50],
            s_padding2: [b[0x51], b[0x52], b[0x53]],
            s_num_fc_blks: be32(b, 0x54),
            s_head: be32(b, 0x58),
            s_padding: b[0x5C..0xFC].to_vec(),
            s_checksum: be32(b, 0xFC),
            s_users: b[0x100..0x400].to_vec(),
        })
    }

    /// Serialize into the first 1 KiB of `b` (the rest of the block is left
    /// alone). Does not recompute `s_checksum`; see [`Self::csum_set`].
    pub fn write(&self, b: &mut [u8]) {
        if b.len() < JOURNAL_SUPERBLOCK_SIZE {
            return;
        }
        self.s_header.write(b);
        put_be32(b, 0x0C, self.s_blocksize);
        put_be32(b, 0x10, self.s_maxlen);
        put_be32(b, 0x14, self.s_first);
        put_be32(b, 0x18, self.s_sequence);
        put_be32(b, 0x1C, self.s_start);
        put_be32(b, 0x20, self.s_errno as u32);
        put_be32(b, 0x24, self.s_feature_compat);
        put_be32(b, 0x28, self.s_feature_incompat);
        put_be32(b, 0x2C, self.s_feature_ro_compat);
        b[0x30..0x40].copy_from_slice(&self.s_uuid);
        put_be32(b, 0x40, self.s_nr_users);
        put_be32(b, 0x44, self.s_dynsuper);
        put_be32(b, 0x48, self.s_max_transaction);
        put_be32(b, 0x4C, self.s_max_trans_data);
        b[0x50] = self.s_checksum_type;
        b[0x51..0x54].copy_from_slice(&self.s_padding2);
        put_be32(b, 0x54, self.s_num_fc_blks);
        put_be32(b, 0x58, self.s_head);
        let pad = &mut b[0x5C..0xFC];
        pad.fill(0);
        let n = self.s_padding.len().min(pad.len());
        pad[..n].copy_from_slice(&self.s_padding[..n]);
        put_be32(b, 0xFC, self.s_checksum);
        let users = &mut b[0x100..0x400];
        users.fill(0);
        let n = self.s_users.len().min(users.len());
        users[..n].copy_from_slice(&self.s_users[..n]);
    }

    pub fn has_csum_v2or3(&self) -> bool {
        self.s_header.h_blocktype == JBD2_SUPERBLOCK_V2
            && self.s_feature_incompat
                & (JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_CSUM_V3)
                != 0
    }

    /// The superblock checksum: crc32c(~0, sb with s_checksum = 0).
    pub fn csum(&self) -> u32 {
        let mut b = vec![0u8; JOURNAL_SUPERBLOCK_SIZE];
        let mut copy = self.clone();
        copy.s_checksum = 0;
        copy.write(&mut b);
        ext4_chksum(!0, &b)
    }

    /// Recompute `s_checksum` when v2/v3 checksums are on.
    pub fn csum_set(&mut self) {
        if self.has_csum_v2or3() {
            self.s_checksum = self.csum();
        }
    }

    /// `j_csum_seed`: crc32c(~0, s_uuid).
    pub fn csum_seed(&self) -> u32 {
        ext4_chksum(!0, &self.s_uuid)
    }
}

/// Which checksum scheme the journal uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CsumVersion {
    None,
    /// COMPAT_CHECKSUM: crc32_be over descriptor+data blocks in the commit.
    V1,
    /// INCOMPAT_CSUM_V2: crc32c, 16-bit tag checksums.
    V2,
    /// INCOMPAT_CSUM_V3: crc32c, 32-bit tag checksums (tag3).
    V3,
}

/// The tag layout of a journal: derived from its features like
/// `journal_tag_bytes()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagFormat {
    pub csum: CsumVersion,
    pub is_64bit: bool,
}

impl TagFormat {
    /// `journal_tag_bytes`: 16 with CSUM_V3; else 12 (+2 with CSUM_V2),
    /// minus 4 without 64BIT.
    pub fn tag_bytes(&self) -> usize {
        if self.csum == CsumVersion::V3 {
            return TAG3_SIZE;
        }
        let mut sz = 12;
        if self.csum == CsumVersion::V2 {
            sz += 2;
        }
        if self.is_64bit {
            sz
        } else {
            sz - 4
        }
    }

    /// Bytes at the end of a descriptor/revoke block reserved for the tail.
    pub fn tail_size(&self) -> usize {
        match self.csum {
            CsumVersion::V2 | CsumVersion::V3 => BLOCK_TAIL_SIZE,
            _ => 0,
        }
    }
}

/// One descriptor tag, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockTag {
    /// Home block number (`t_blocknr | t_blocknr_high << 32` with 64BIT).
    pub blocknr: u64,
    /// `t_flags` (JBD2_FLAG_*); tag3's 32-bit field or the v2 16-bit one.
    pub flags: u32,
    /// `t_checksum` (16 significant bits in v2).
    pub checksum: u32,
}

impl BlockTag {
    /// Decode the tag at `off`. Reads flags the way recovery.c does: the
    /// low 16 bits at offset 6 are `t_flags` in both layouts.
    pub fn parse(fmt: TagFormat, b: &[u8], off: usize) -> BlockTag {
        let mut blocknr = u64::from(be32(b, off));
        if fmt.is_64bit && fmt.tag_bytes() > TAG_SIZE32 {
            blocknr |= u64::from(be32(b, off + 8)) << 32;
        }
        let flags = u32::from(be16(b, off + 6));
        let checksum = match fmt.csum {
            CsumVersion::V3 => be32(b, off + 12),
            _ => u32::from(be16(b, off + 4)),
        };
        BlockTag {
            blocknr,
            flags,
            checksum,
        }
    }

    /// Encode at `off` in the layout `fmt` gives.
    pub fn write(&self, fmt: TagFormat, b: &mut [u8], off: usize) {
        put_be32(b, off, self.blocknr as u32);
        if fmt.csum == CsumVersion::V3 {
            put_be32(b, off + 4, self.flags);
            put_be32(b, off + 8, (self.blocknr >> 32) as u32);
            put_be32(b, off + 12, self.checksum);
        } else {
            put_be16(b, off + 4, self.checksum as u16);
            put_be16(b, off + 6, self.flags as u16);
            if fmt.is_64bit {
                put_be32(b, off + 8, (self.blocknr >> 32) as u32);
            }
        }
    }
}

/// Walk the tags of a descriptor block like `count_tags`: stops at
/// LAST_TAG or when the next tag would not fit before the tail. Returns
/// each tag with its offset. Bounded by the block size.
pub fn descriptor_tags(fmt: TagFormat, b: &[u8]) -> Vec<(usize, BlockTag)> {
    let tag_bytes = fmt.tag_bytes();
    let size = b.len().saturating_sub(fmt.tail_size());
    let mut out = Vec::new();
    let mut off = JOURNAL_HEADER_SIZE;
    while off + tag_bytes <= size {
        let tag = BlockTag::parse(fmt, b, off);
        out.push((off, tag));
        off += tag_bytes;
        if tag.flags & JBD2_FLAG_SAME_UUID == 0 {
            off += UUID_SIZE;
        }
        if tag.flags & JBD2_FLAG_LAST_TAG != 0 {
            break;
        }
    }
    out
}

/// The tail checksum of a descriptor or revoke block:
/// crc32c(seed, block with the last 4 bytes zeroed).
pub fn block_tail_csum(seed: u32, b: &[u8]) -> u32 {
    let n = b.len().saturating_sub(BLOCK_TAIL_SIZE);
    let c = ext4_chksum(seed, &b[..n]);
    ext4_chksum(c, &[0u8; BLOCK_TAIL_SIZE])
}

/// Verify a descriptor/revoke tail (`jbd2_descriptor_block_csum_verify`).
pub fn block_tail_verify(seed: u32, b: &[u8]) -> bool {
    let n = b.len().saturating_sub(BLOCK_TAIL_SIZE);
    be32(b, n) == block_tail_csum(seed, b)
}

/// Set the tail checksum in place.
pub fn block_tail_set(seed: u32, b: &mut [u8]) {
    let c = block_tail_csum(seed, b);
    let n = b.len().saturating_sub(BLOCK_TAIL_SIZE);
    put_be32(b, n, c);
}

/// The data-block checksum stored in a tag: crc32c(seed, be32(sequence)),
/// continued over the block. CSUM_V2 keeps the low 16 bits.
pub fn block_tag_csum(seed: u32, sequence: u32, data: &[u8]) -> u32 {
    let c = ext4_chksum(seed, &sequence.to_be_bytes());
    ext4_chksum(c, data)
}

/// `struct commit_header` offsets.
pub const COMMIT_CHKSUM_TYPE: usize = 0x0C;
pub const COMMIT_CHKSUM_SIZE: usize = 0x0D;
pub const COMMIT_CHKSUM: usize = 0x10;
pub const COMMIT_SEC: usize = 0x30;
pub const COMMIT_NSEC: usize = 0x38;

/// `struct commit_header`, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitHeader {
    pub h_header: JournalHeader,
    pub h_chksum_type: u8,
    pub h_chksum_size: u8,
    /// `h_chksum[0]` (the only word any version uses).
    pub h_chksum0: u32,
    pub h_commit_sec: u64,
    pub h_commit_nsec: u32,
}

impl CommitHeader {
    pub fn parse(b: &[u8]) -> CommitHeader {
        CommitHeader {
            h_header: JournalHeader::parse(b),
            h_chksum_type: b.get(COMMIT_CHKSUM_TYPE).copied().unwrap_or(0),
            h_chksum_size: b.get(COMMIT_CHKSUM_SIZE).copied().unwrap_or(0),
            h_chksum0: be32(b, COMMIT_CHKSUM),
            h_commit_sec: be64(b, COMMIT_SEC),
            h_commit_nsec: be32(b, COMMIT_NSEC),
        }
    }
}

/// v2/v3 commit checksum: crc32c(seed, block with h_chksum[0] zeroed).
pub fn commit_block_csum(seed: u32, b: &[u8]) -> u32 {
    let mut copy = b.to_vec();
    put_be32(&mut copy, COMMIT_CHKSUM, 0);
    ext4_chksum(seed, &copy)
}

/// Build a commit block for `sequence`. `v1_crc` is the crc32_be of the
/// transaction's descriptor and data blocks when checksum v1 is on.
/// `commit_time` is (seconds, nanoseconds) from the caller: never a clock.
pub fn build_commit_block(
    blocksize: usize,
    sequence: u32,
    csum: CsumVersion,
    seed: u32,
    v1_crc: u32,
    commit_time: (u64, u32),
) -> Vec<u8> {
    let mut b = vec![0u8; blocksize];
    JournalHeader::new(JBD2_COMMIT_BLOCK, sequence).write(&mut b);
    if csum == CsumVersion::V1 {
        b[COMMIT_CHKSUM_TYPE] = JBD2_CRC32_CHKSUM;
        b[COMMIT_CHKSUM_SIZE] = JBD2_CRC32_CHKSUM_SIZE;
        put_be32(&mut b, COMMIT_CHKSUM, v1_crc);
    }
    put_be64(&mut b, COMMIT_SEC, commit_time.0);
    put_be32(&mut b, COMMIT_NSEC, commit_time.1);
    if matches!(csum, CsumVersion::V2 | CsumVersion::V3) {
        let c = commit_block_csum(seed, &b);
        put_be32(&mut b, COMMIT_CHKSUM, c);
    }
    b
}

/// Decode the revoke records of a revoke block, like `scan_revoke_records`:
/// `r_count` (0xC) counts bytes used including the 16-byte header; it may
/// not exceed the block minus the tail. Entries are 8 bytes with 64BIT.
pub fn revoke_records(fmt: TagFormat, block: u32, b: &[u8]) -> Result<Vec<u64>, JournalError> {
    let rcount = be32(b, 0x0C) as usize;
    let max = b.len().saturating_sub(fmt.tail_size());
    if rcount > max {
        return Err(JournalError::Corrupt {
            block,
            what: format!("revoke block r_count {rcount} exceeds {max} usable bytes"),
        });
    }
    let record_len = if fmt.is_64bit { 8 } else { 4 };
    let mut out = Vec::new();
    let mut off = REVOKE_HEADER_SIZE;
    while off + record_len <= rcount {
        out.push(if record_len == 8 {
            be64(b, off)
        } else {
            u64::from(be32(b, off))
        });
        off += record_len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_be_check_value() {
        // CRC-32/MPEG-2 (init ~0, no final xor) check value of "123456789".
        assert_eq!(crc32_be(!0, b"123456789"), 0x0376_E6E7);
    }

    #[test]
    fn tag_bytes_match_journal_tag_bytes() {
        let f = |csum, is_64bit| TagFormat { csum, is_64bit }.tag_bytes();
        assert_eq!(f(CsumVersion::V3, false), 16);
        assert_eq!(f(CsumVersion::V3, true), 16);
        assert_eq!(f(CsumVersion::V2, true), 14);
        assert_eq!(f(CsumVersion::V2, false), 10);
        assert_eq!(f(CsumVersion::None, true), 12);
        assert_eq!(f(CsumVersion::None, false), 8);
    }

    #[test]
    fn superblock_roundtrip() {
        let mut b = vec![0u8; 1024];
        for (i, x) in b.iter_mut().enumerate() {
            *x = (i * 7 + 3) as u8;
        }
        let sb = JournalSuperblock::parse(&b).unwrap();
        let mut out = vec![0u8; 1024];
        sb.write(&mut out);
        assert_eq!(b, out);
    }

    #[test]
    fn tags_roundtrip_and_stop_at_last() {
        for fmt in [
            TagFormat {
                csum: CsumVersion::V3,
                is_64bit: true,
            },
            TagFormat {
                csum: CsumVersion::V2,
                is_64bit: true,
            },
            TagFormat {
                csum: CsumVersion::None,
                is_64bit: false,
            },
        ] {
            let mut b = vec![0u8; 1024];
            let t1 = BlockTag {
                blocknr: 0x1_0000_0005 & if fmt.is_64bit { !0 } else { 0xFFFF_FFFF },
                flags: 0,
                checksum: 0xBEEF,
            };
            t1.write(fmt, &mut b, 12);
            let off2 = 12 + fmt.tag_bytes() + 16;
            let t2 = BlockTag {
                blocknr: 9,
                flags: JBD2_FLAG_SAME_UUID | JBD2_FLAG_LAST_TAG,
                checksum: 1,
            };
            t2.write(fmt, &mut b, off2);
            let tags = descriptor_tags(fmt, &b);
            assert_eq!(tags.len(), 2);
            assert_eq!(tags[0].1, t1);
            assert_eq!(tags[1], (off2, t2));
        }
    }

    #[test]
    fn revoke_rcount_bounds() {
        let fmt = TagFormat {
            csum: CsumVersion::V3,
            is_64bit: true,
        };
        let mut b = vec![0u8; 1024];
        put_be32(&mut b, 0x0C, 16 + 16);
        put_be64(&mut b, 16, 77);
        put_be64(&mut b, 24, 78);
        assert_eq!(revoke_records(fmt, 3, &b).unwrap(), vec![77, 78]);
        put_be32(&mut b, 0x0C, 1021);
        assert!(revoke_records(fmt, 3, &b).is_err());
    }
}
