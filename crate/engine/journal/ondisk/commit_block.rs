//! The commit block (`struct commit_header`).

use super::*;

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

/// v2/v3 commit checksum: crc32c(seed, block with `h_chksum[0]` zeroed).
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
