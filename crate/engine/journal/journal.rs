//! `journal_t` (fs/jbd2/journal.c): creating a journal superblock, loading
//! and validating an existing one, block I/O through the log map, the log
//! head/tail and free space.

use super::checkpoint::CheckpointTransaction;
use super::ondisk::*;
use super::transaction::{Tid, Transaction};
use super::{JournalError, Result};
use crate::device::BlockDevice;

/// What `jbd2_journal_init` should create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalInitOptions {
    /// Checksums: V3 (INCOMPAT_CSUM_V3, what the kernel turns on for
    /// metadata_csum filesystems), V2, V1 (COMPAT_CHECKSUM) or none.
    pub csum: CsumVersion,
    /// Set INCOMPAT_64BIT (tags carry t_blocknr_high).
    pub is_64bit: bool,
    /// `s_uuid`: for an internal journal, the filesystem's UUID.
    pub uuid: [u8; 16],
    /// First transaction ID (`s_sequence`); mke2fs uses 1.
    pub first_sequence: Tid,
}

impl Default for JournalInitOptions {
    fn default() -> Self {
        JournalInitOptions {
            csum: CsumVersion::None,
            is_64bit: false,
            uuid: [0; 16],
            first_sequence: 1,
        }
    }
}

/// The in-memory journal (`journal_t`).
#[derive(Debug, Clone)]
pub struct Journal {
    /// Filesystem (and journal) block size.
    pub j_blocksize: u32,
    /// Journal logical block -> filesystem block.
    pub j_map: Vec<u64>,
    /// Blocks in the filesystem: replay never writes at or past this.
    pub j_fs_blocks: u64,
    /// The journal superblock as last read or written.
    pub j_superblock: JournalSuperblock,
    /// 1 or 2 (`s_header.h_blocktype` 3 or 4).
    pub j_format_version: u32,
    /// First usable log block (`s_first`).
    pub j_first: u32,
    /// One past the last usable log block (`s_maxlen`).
    pub j_last: u32,
    /// Oldest log block still needed (start of the oldest un-checkpointed
    /// transaction, or `j_head` when there is none).
    pub j_tail: u32,
    /// Transaction ID at `j_tail`.
    pub j_tail_sequence: Tid,
    /// Next log block to write.
    pub j_head: u32,
    /// Free log blocks between head and tail.
    pub j_free: u32,
    /// The next transaction ID to hand out.
    pub j_transaction_sequence: Tid,
    /// The last committed transaction ID.
    pub j_commit_sequence: Tid,
    /// crc32c seed (from s_uuid) for v2/v3 checksums.
    pub j_csum_seed: u32,
    /// Set by recovery when a commit block's checksum failed.
    pub j_failed_commit: Tid,
    /// Handles join this transaction.
    pub j_running_transaction: Option<Transaction>,
    /// The transaction being written to the log (between
    /// `jbd2_journal_commit_start` and `jbd2_journal_commit_write`).
    pub j_committing_transaction: Option<Transaction>,
    /// Committed transactions whose blocks are not all home yet, oldest
    /// first.
    pub j_checkpoint_transactions: Vec<CheckpointTransaction>,
    /// Most log blocks one transaction may use (a quarter of the log).
    pub j_max_transaction_buffers: u32,
    /// `jbd2_journal_lock_updates` callers holding the barrier.
    pub j_barrier_count: u32,
    /// The superblock changed in memory (features) and must be written.
    pub(crate) j_sb_dirty: bool,
}

impl Journal {
    fn byte_offset(&self, lblk: u32) -> Result<u64> {
        let pblk = *self
            .j_map
            .get(lblk as usize)
            .ok_or_else(|| JournalError::Corrupt {
                block: lblk,
                what: format!("outside the journal map of {} blocks", self.j_map.len()),
            })?;
        pblk.checked_mul(u64::from(self.j_blocksize))
            .ok_or_else(|| JournalError::Corrupt {
                block: lblk,
                what: format!("maps to impossible block {pblk}"),
            })
    }

    /// `jread`: read journal block `lblk`.
    pub fn jread(&self, dev: &mut dyn BlockDevice, lblk: u32) -> Result<Vec<u8>> {
        let off = self.byte_offset(lblk)?;
        let mut buf = vec![0u8; self.j_blocksize as usize];
        dev.read_at(off, &mut buf)?;
        Ok(buf)
    }

    /// Write journal block `lblk`.
    pub fn jwrite(&self, dev: &mut dyn BlockDevice, lblk: u32, data: &[u8]) -> Result<()> {
        let off = self.byte_offset(lblk)?;
        dev.write_at(off, data)?;
        Ok(())
    }

    /// Checksum scheme of this journal.
    pub fn csum_version(&self) -> CsumVersion {
        let sb = &self.j_superblock;
        if self.j_format_version < 2 {
            CsumVersion::None
        } else if sb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3 != 0 {
            CsumVersion::V3
        } else if sb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2 != 0 {
            CsumVersion::V2
        } else if sb.s_feature_compat & JBD2_FEATURE_COMPAT_CHECKSUM != 0 {
            CsumVersion::V1
        } else {
            CsumVersion::None
        }
    }

    /// Tag layout (`journal_tag_bytes`).
    pub fn tag_format(&self) -> TagFormat {
        TagFormat {
            csum: self.csum_version(),
            is_64bit: self.j_format_version >= 2
                && self.j_superblock.s_feature_incompat & JBD2_FEATURE_INCOMPAT_64BIT != 0,
        }
    }

    pub fn has_incompat(&self, mask: u32) -> bool {
        self.j_format_version >= 2 && self.j_superblock.s_feature_incompat & mask != 0
    }

    /// `jbd2_journal_init` as mkfs uses it: build and write a fresh journal
    /// superblock at journal block 0 and zero the rest of the first block.
    /// The log blocks are not zeroed (like mke2fs's lazy_journal_init): the
    /// sequence number makes stale blocks harmless.
    pub fn jbd2_journal_init(
        dev: &mut dyn BlockDevice,
        blocksize: u32,
        map: Vec<u64>,
        fs_blocks: u64,
        opts: &JournalInitOptions,
    ) -> Result<Journal> {
        let maxlen = u32::try_from(map.len())
            .map_err(|_| JournalError::Invalid(format!("journal of {} blocks", map.len())))?;
        if maxlen < 8 || blocksize < 1024 || !blocksize.is_power_of_two() {
            return Err(JournalError::Invalid(format!(
                "journal of {maxlen} blocks of {blocksize} bytes is too small"
            )));
        }
        let mut incompat = 0;
        let mut compat = 0;
        match opts.csum {
            CsumVersion::V3 => incompat |= JBD2_FEATURE_INCOMPAT_CSUM_V3,
            CsumVersion::V2 => incompat |= JBD2_FEATURE_INCOMPAT_CSUM_V2,
            CsumVersion::V1 => compat |= JBD2_FEATURE_COMPAT_CHECKSUM,
            CsumVersion::None => {}
        }
        let v2or3 = matches!(opts.csum, CsumVersion::V2 | CsumVersion::V3);
        if opts.is_64bit {
            incompat |= JBD2_FEATURE_INCOMPAT_64BIT;
        }
        let mut sb = JournalSuperblock {
            s_header: JournalHeader::new(JBD2_SUPERBLOCK_V2, 0),
            s_blocksize: blocksize,
            s_maxlen: maxlen,
            s_first: 1,
            s_sequence: opts.first_sequence,
            s_start: 0,
            s_errno: 0,
            s_feature_compat: compat,
            s_feature_incompat: incompat,
            s_feature_ro_compat: 0,
            s_uuid: opts.uuid,
            s_nr_users: 1,
            s_dynsuper: 0,
            s_max_transaction: 0,
            s_max_trans_data: 0,
            s_checksum_type: if v2or3 { JBD2_CRC32C_CHKSUM } else { 0 },
            s_padding2: [0; 3],
            s_num_fc_blks: 0,
            s_head: 0,
            s_padding: vec![0; 0xFC - 0x5C],
            s_checksum: 0,
            s_users: vec![0; 0x300],
        };
        sb.csum_set();
        let mut j = Journal::from_superblock(blocksize, map, fs_blocks, sb)?;
        j.write_superblock(dev)?;
        dev.flush()?;
        Ok(j)
    }

    /// Read and validate the journal superblock (`jbd2_journal_load` up to
    /// recovery; the checks of e2fsck's `e2fsck_journal_load`).
    pub fn jbd2_journal_load(
        dev: &mut dyn BlockDevice,
        blocksize: u32,
        map: Vec<u64>,
        fs_blocks: u64,
    ) -> Result<Journal> {
        let first = *map
            .first()
            .ok_or_else(|| JournalError::Invalid("empty journal map".into()))?;
        let off = first
            .checked_mul(u64::from(blocksize))
            .ok_or_else(|| JournalError::Invalid(format!("journal block 0 at {first}")))?;
        let mut buf = vec![0u8; blocksize as usize];
        dev.read_at(off, &mut buf)?;
        let sb = JournalSuperblock::parse(&buf)?;
        Journal::from_superblock(blocksize, map, fs_blocks, sb)
    }

    fn from_superblock(
        blocksize: u32,
        map: Vec<u64>,
        fs_blocks: u64,
        sb: JournalSuperblock,
    ) -> Result<Journal> {
        let bad = |what: String| JournalError::Corrupt { block: 0, what };
        if sb.s_header.h_magic != JBD2_MAGIC_NUMBER {
            return Err(bad(format!(
                "bad superblock magic {:#010x}",
                sb.s_header.h_magic
            )));
        }
        let version = match sb.s_header.h_blocktype {
            JBD2_SUPERBLOCK_V1 => 1,
            JBD2_SUPERBLOCK_V2 => 2,
            t @ (JBD2_DESCRIPTOR_BLOCK | JBD2_COMMIT_BLOCK | JBD2_REVOKE_BLOCK) => {
                return Err(bad(format!("superblock has block type {t}")))
            }
            t => {
                return Err(JournalError::Unsupported {
                    what: format!("superblock type {t}"),
                })
            }
        };
        if version == 2 {
            if sb.s_nr_users > 1 {
                return Err(JournalError::Unsupported {
                    what: format!("{} filesystems share this journal", sb.s_nr_users),
                });
            }
            let unknown = sb.s_feature_incompat & !JBD2_KNOWN_INCOMPAT_FEATURES;
            if unknown != 0 {
                return Err(JournalError::Unsupported {
                    what: format!("incompat features {unknown:#x}"),
                });
            }
            if sb.s_feature_ro_compat & !JBD2_KNOWN_ROCOMPAT_FEATURES != 0 {
                return Err(JournalError::Unsupported {
                    what: format!("ro_compat features {:#x}", sb.s_feature_ro_compat),
                });
            }
            if sb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT != 0 {
                return Err(JournalError::Unsupported {
                    what: "fast commit".into(),
                });
            }
            let v2 = sb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2 != 0;
            let v3 = sb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3 != 0;
            if v2 && v3 {
                return Err(bad("both CSUM_V2 and CSUM_V3".into()));
            }
            if (v2 || v3) && sb.s_feature_compat & JBD2_FEATURE_COMPAT_CHECKSUM != 0 {
                return Err(bad("CSUM_V2/V3 together with COMPAT_CHECKSUM".into()));
            }
            if v2 || v3 {
                if sb.s_checksum_type != JBD2_CRC32C_CHKSUM {
                    return Err(bad(format!("s_checksum_type {}", sb.s_checksum_type)));
                }
                if sb.s_checksum != sb.csum() {
                    return Err(JournalError::Checksum {
                        block: 0,
                        what: format!("superblock s_checksum {:#010x}", sb.s_checksum),
                    });
                }
            }
        }
        if sb.s_blocksize != blocksize {
            return Err(bad(format!(
                "s_blocksize {} != fs block size {blocksize}",
                sb.s_blocksize
            )));
        }
        let total = u32::try_from(map.len()).unwrap_or(u32::MAX);
        if sb.s_maxlen > total {
            return Err(bad(format!(
                "s_maxlen {} but the journal has {total} blocks",
                sb.s_maxlen
            )));
        }
        if sb.s_first == 0 || sb.s_first >= sb.s_maxlen {
            return Err(bad(format!(
                "s_first {} with s_maxlen {}",
                sb.s_first, sb.s_maxlen
            )));
        }
        if sb.s_start != 0 && (sb.s_start < sb.s_first || sb.s_start >= sb.s_maxlen) {
            return Err(bad(format!("s_start {} outside the log", sb.s_start)));
        }
        let j_first = sb.s_first;
        let j_last = sb.s_maxlen;
        let mut j = Journal {
            j_blocksize: blocksize,
            j_map: map,
            j_fs_blocks: fs_blocks,
            j_format_version: version,
            j_first,
            j_last,
            j_tail: if sb.s_start == 0 { j_first } else { sb.s_start },
            j_tail_sequence: sb.s_sequence,
            j_head: if sb.s_start == 0 { j_first } else { sb.s_start },
            j_free: j_last - j_first,
            j_transaction_sequence: sb.s_sequence,
            j_commit_sequence: sb.s_sequence.wrapping_sub(1),
            j_csum_seed: sb.csum_seed(),
            j_failed_commit: 0,
            j_running_transaction: None,
            j_committing_transaction: None,
            j_checkpoint_transactions: Vec::new(),
            j_max_transaction_buffers: (j_last - j_first) / 4,
            j_superblock: sb,
            j_sb_dirty: false,
            j_barrier_count: 0,
        };
        j.j_max_transaction_buffers = j.j_max_transaction_buffers.max(4);
        Ok(j)
    }

    /// Whether the log holds transactions to replay (`s_start != 0`).
    pub fn needs_recovery(&self) -> bool {
        self.j_superblock.s_start != 0
    }

    /// Write the in-memory superblock (checksum recomputed) to block 0.
    /// No flush: callers order it with their own barriers.
    pub fn write_superblock(&mut self, dev: &mut dyn BlockDevice) -> Result<()> {
        self.j_superblock.csum_set();
        let mut buf = self.jread(dev, 0)?;
        self.j_superblock.write(&mut buf);
        self.jwrite(dev, 0, &buf)?;
        self.j_sb_dirty = false;
        Ok(())
    }

    /// `jbd2_journal_update_sb_log_tail`: record the tail in the superblock,
    /// write it and flush (REQ_FUA).
    pub fn jbd2_journal_update_sb_log_tail(
        &mut self,
        dev: &mut dyn BlockDevice,
        tail_tid: Tid,
        tail_block: u32,
    ) -> Result<()> {
        self.j_superblock.s_sequence = tail_tid;
        self.j_superblock.s_start = tail_block;
        self.write_superblock(dev)?;
        dev.flush()?;
        Ok(())
    }

    /// `jbd2_mark_journal_empty`: s_start = 0, s_sequence = the next tid.
    /// Precondition: nothing left to checkpoint and no running transaction
    /// with buffers (else the log content would be thrown away).
    pub fn jbd2_mark_journal_empty(&mut self, dev: &mut dyn BlockDevice) -> Result<()> {
        let seq = self.j_transaction_sequence;
        self.j_tail_sequence = seq;
        self.j_tail = self.j_head;
        self.jbd2_journal_update_sb_log_tail(dev, seq, 0)
    }

    /// The next log block after `blk`, wrapping from `j_last` to `j_first`.
    pub fn wrap(&self, blk: u32) -> u32 {
        if blk >= self.j_last {
            blk - (self.j_last - self.j_first)
        } else {
            blk
        }
    }

    /// `jbd2_journal_next_log_block`: take the block at the head.
    pub(crate) fn next_log_block(&mut self) -> Result<u32> {
        if self.j_free == 0 {
            return Err(JournalError::NoSpace { need: 1, free: 0 });
        }
        let blk = self.j_head;
        self.j_head = self.wrap(self.j_head + 1);
        self.j_free -= 1;
        Ok(blk)
    }

    /// Tags one descriptor block holds.
    pub fn tags_per_descriptor(&self) -> u32 {
        let fmt = self.tag_format();
        let usable = self.j_blocksize as usize - JOURNAL_HEADER_SIZE - fmt.tail_size() - UUID_SIZE;
        (usable / fmt.tag_bytes()).max(1) as u32
    }

    /// Revoke records one revoke block holds.
    pub fn revokes_per_block(&self) -> u32 {
        let fmt = self.tag_format();
        let rec = if fmt.is_64bit { 8 } else { 4 };
        ((self.j_blocksize as usize - REVOKE_HEADER_SIZE - fmt.tail_size()) / rec) as u32
    }

    /// Log blocks a transaction of `buffers` blocks and `revokes` revoke
    /// records needs: descriptors, the blocks, revoke blocks, the commit.
    pub fn jbd2_log_space_needed(&self, buffers: u32, revokes: u32) -> u32 {
        let desc = buffers.div_ceil(self.tags_per_descriptor());
        let rev = revokes.div_ceil(self.revokes_per_block());
        buffers + desc + rev + 1
    }
}
