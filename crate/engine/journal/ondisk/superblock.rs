//! `journal_superblock_t` (journal block 0).

use super::*;

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
    /// bytes are there; [`Journal::jbd2_journal_load`](crate::engine::journal::journal::Journal::jbd2_journal_load)
    /// validates.
    pub fn parse(b: &[u8]) -> Result<JournalSuperblock, JournalError> {
        let b = b
            .get(..JOURNAL_SUPERBLOCK_SIZE)
            .ok_or_else(|| JournalError::Corrupt {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
