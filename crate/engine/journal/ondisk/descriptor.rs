//! Descriptor blocks: `journal_block_tag3_t` / `journal_block_tag_t`, the
//! UUID after the first tag, the block tail checksum, tag checksums.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
