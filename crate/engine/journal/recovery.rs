//! Journal recovery (fs/jbd2/recovery.c, e2fsck/recovery.c of e2fsprogs
//! 1.47): three passes over the log from `s_start`/`s_sequence`.
//!
//! * PASS_SCAN finds the end of the log: it walks descriptor, revoke and
//!   commit blocks while each carries the jbd2 magic and the expected
//!   sequence. It verifies commit checksums (v1 crc32_be over descriptor +
//!   data blocks; v2/v3 crc32c of the commit block) and descriptor/revoke
//!   tail checksums. A bad commit checksum ends the log before that
//!   transaction (`j_failed_commit`, unless ASYNC_COMMIT). A bad
//!   descriptor/revoke tail is judged at the next commit block: an older
//!   commit time means a stale block from a previous use of the log (the
//!   log ends cleanly there), otherwise the recovery fails.
//! * PASS_REVOKE collects revoke records with the transaction that wrote
//!   them.
//! * PASS_REPLAY writes each logged block home unless revoked by its own or
//!   a later transaction, restoring the magic of escaped blocks and
//!   skipping (and reporting) blocks whose v2/v3 tag checksum fails.
//!
//! Afterwards the device is flushed and the journal superblock reset the
//! way e2fsck does (s_start = 0, s_sequence = the next tid; s_errno =
//! -EINVAL when a commit checksum failed).

use super::journal::Journal;
use super::ondisk::*;
use super::revoke::RevokeTable;
use super::transaction::Tid;
use super::{tid_geq, JournalError, Result};
use crate::device::{BlockDevice, DeviceError};

/// Where and why the log ended during PASS_SCAN.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LogEnd {
    /// `s_start == 0`: the journal is empty, nothing to do.
    Clean,
    /// A block without the jbd2 magic (the normal end of a log).
    NoMagic { block: u32 },
    /// A block of another (older) transaction.
    SequenceMismatch {
        block: u32,
        expected: Tid,
        found: Tid,
    },
    /// A block type recovery does not know.
    UnknownBlockType { block: u32, blocktype: u32 },
    /// A commit block whose checksum does not match: that transaction and
    /// everything after it are not replayed.
    CommitChecksum { block: u32, tid: Tid },
    /// A transaction with a bad descriptor/revoke checksum whose commit is
    /// older than the previous one: stale blocks, the log ends cleanly.
    StaleChecksum { block: u32, tid: Tid },
    /// Checksum v1: a commit block after the end was already decided.
    AfterFailedCommit { block: u32, tid: Tid },
    /// Reading the log failed, or a fatal corruption stopped the scan.
    Error { block: u32, error: JournalError },
}

/// A logged block that was not replayed because of a problem.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkippedBlock {
    pub tid: Tid,
    /// Log block holding the copy.
    pub log_block: u32,
    /// Its home block.
    pub blocknr: u64,
    pub why: String,
}

/// The result of [`Journal::jbd2_journal_recover`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecoveryInfo {
    /// `s_sequence` at the start: the first transaction looked for.
    pub start_transaction: Tid,
    /// The first transaction not replayed.
    pub end_transaction: Tid,
    /// `end_transaction - start_transaction` (when the replay ran).
    pub transactions_replayed: u32,
    /// `s_start`: the log block the scan started at.
    pub start_block: u32,
    /// Why and where PASS_SCAN stopped.
    pub end: LogEnd,
    /// Home blocks written, in order (`nr_replays` = its length).
    pub replayed: Vec<u64>,
    /// Revoke records read (`nr_revokes`).
    pub nr_revokes: u32,
    /// Logged copies skipped because revoked (`nr_revoke_hits`).
    pub nr_revoke_hits: u32,
    /// `j_failed_commit`: the transaction whose commit checksum failed.
    pub failed_commit: Option<Tid>,
    /// Copies skipped for a bad tag checksum or a home block outside the
    /// filesystem.
    pub skipped: Vec<SkippedBlock>,
    /// Set when recovery reports failure (e2fsck then forces a full
    /// check): the first error met.
    pub error: Option<JournalError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Scan,
    Revoke,
    Replay,
}

struct PassState {
    end_transaction: Option<Tid>,
    end: Option<LogEnd>,
    revoke: RevokeTable,
}

impl Journal {
    /// `jbd2_journal_recover`: replay the log onto `dev`, flush, and mark
    /// the journal empty. Returns `Err` only when the journal cannot be
    /// read at all (device errors before any scan); corruption found while
    /// scanning is reported in [`RecoveryInfo::error`] and `end`.
    ///
    /// Preconditions: the journal was just loaded with
    /// [`Journal::jbd2_journal_load`]; no handles, no transactions.
    pub fn jbd2_journal_recover(&mut self, dev: &mut dyn BlockDevice) -> Result<RecoveryInfo> {
        self.recover(dev, true)
    }

    /// PASS_SCAN only: what recovery would do, without writing anything.
    pub fn jbd2_journal_scan(&mut self, dev: &mut dyn BlockDevice) -> Result<RecoveryInfo> {
        self.recover(dev, false)
    }

    fn recover(&mut self, dev: &mut dyn BlockDevice, write: bool) -> Result<RecoveryInfo> {
        let sb = self.j_superblock.clone();
        let mut info = RecoveryInfo {
            start_transaction: sb.s_sequence,
            end_transaction: sb.s_sequence,
            transactions_replayed: 0,
            start_block: sb.s_start,
            end: LogEnd::Clean,
            replayed: Vec::new(),
            nr_revokes: 0,
            nr_revoke_hits: 0,
            failed_commit: None,
            skipped: Vec::new(),
            error: None,
        };
        if sb.s_start == 0 {
            self.j_transaction_sequence = sb.s_sequence.wrapping_add(1);
            return Ok(info);
        }
        self.j_failed_commit = 0;
        let mut st = PassState {
            end_transaction: None,
            end: None,
            revoke: RevokeTable::default(),
        };
        let mut err = self.do_one_pass(dev, &mut info, &mut st, Pass::Scan, write);
        info.end = st.end.clone().unwrap_or(LogEnd::Clean);
        info.end_transaction = st.end_transaction.unwrap_or(sb.s_sequence);
        if !write {
            info.error = err.err();
            return Ok(info);
        }
        if err.is_ok() {
            err = self.do_one_pass(dev, &mut info, &mut st, Pass::Revoke, write);
        }
        if err.is_ok() {
            err = self.do_one_pass(dev, &mut info, &mut st, Pass::Replay, write);
            if err.is_ok() || !info.replayed.is_empty() {
                info.transactions_replayed =
                    info.end_transaction.wrapping_sub(info.start_transaction);
            }
        }
        if self.j_failed_commit != 0 {
            info.failed_commit = Some(self.j_failed_commit);
        }
        let ok = err.is_ok();
        info.error = err.err();
        dev.flush()?;

        // Reset the journal like e2fsck_journal_release(reset = 1).
        self.j_transaction_sequence = info.end_transaction.wrapping_add(1);
        if ok {
            self.j_superblock.s_sequence = self.j_transaction_sequence;
            if info.failed_commit.is_some() {
                self.j_superblock.s_errno = -22;
            }
        }
        self.j_superblock.s_start = 0;
        self.j_head = self.j_first;
        self.j_tail = self.j_first;
        self.j_tail_sequence = self.j_superblock.s_sequence;
        self.j_transaction_sequence = self.j_superblock.s_sequence;
        self.j_free = self.j_last - self.j_first;
        self.write_superblock(dev)?;
        dev.flush()?;
        Ok(info)
    }

    fn do_one_pass(
        &mut self,
        dev: &mut dyn BlockDevice,
        info: &mut RecoveryInfo,
        st: &mut PassState,
        pass: Pass,
        write: bool,
    ) -> std::result::Result<(), JournalError> {
        let fmt = self.tag_format();
        let csum_v2or3 = matches!(fmt.csum, CsumVersion::V2 | CsumVersion::V3);
        let has_v1 = fmt.csum == CsumVersion::V1;
        let async_commit = self.has_incompat(JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT);
        let seed = self.j_csum_seed;
        let mut next_commit_id = self.j_superblock.s_sequence;
        let mut next_log_block = self.j_superblock.s_start;
        let mut crc32_sum: u32 = !0;
        let mut need_check_commit_time = false;
        let mut last_trans_commit_time: u64 = 0;
        let mut success: Option<JournalError> = None;
        let mut block_error = false;
        let mut end: Option<LogEnd> = None;
        // Each iteration reads one log block and moves forward; a log longer
        // than a few laps is cyclic garbage.
        let max_iter = u64::from(self.j_last).saturating_mul(4).max(64);
        let mut iter = 0u64;

        loop {
            iter += 1;
            if iter > max_iter {
                end = Some(LogEnd::Error {
                    block: next_log_block,
                    error: JournalError::Corrupt {
                        block: next_log_block,
                        what: "log does not end".into(),
                    },
                });
                break;
            }
            if pass != Pass::Scan {
                if let Some(e) = st.end_transaction {
                    if tid_geq(next_commit_id, e) {
                        break;
                    }
                }
            }
            let this_block = next_log_block;
            let bh = match self.jread(dev, this_block) {
                Ok(b) => b,
                Err(e) => {
                    if pass == Pass::Scan {
                        st.end = Some(LogEnd::Error {
                            block: this_block,
                            error: e.clone(),
                        });
                    }
                    return Err(e);
                }
            };
            next_log_block = self.wrap(next_log_block + 1);

            let hdr = JournalHeader::parse(&bh);
            if hdr.h_magic != JBD2_MAGIC_NUMBER {
                end = Some(LogEnd::NoMagic { block: this_block });
                break;
            }
            if hdr.h_sequence != next_commit_id {
                end = Some(LogEnd::SequenceMismatch {
                    block: this_block,
                    expected: next_commit_id,
                    found: hdr.h_sequence,
                });
                break;
            }

            match hdr.h_blocktype {
                JBD2_DESCRIPTOR_BLOCK => {
                    if csum_v2or3 && !block_tail_verify(seed, &bh) {
                        if pass != Pass::Scan {
                            return Err(JournalError::Checksum {
                                block: this_block,
                                what: format!("descriptor block of transaction {next_commit_id}"),
                            });
                        }
                        need_check_commit_time = true;
                    }
                    let tags = descriptor_tags(fmt, &bh);
                    if pass != Pass::Replay {
                        if pass == Pass::Scan
                            && has_v1
                            && !need_check_commit_time
                            && st.end_transaction.is_none()
                        {
                            crc32_sum = crc32_be(crc32_sum, &bh);
                            let mut read_failed = false;
                            for _ in 0..tags.len() {
                                let io_block = next_log_block;
                                next_log_block = self.wrap(next_log_block + 1);
                                match self.jread(dev, io_block) {
                                    Ok(obh) => crc32_sum = crc32_be(crc32_sum, &obh),
                                    Err(e) => {
                                        end = Some(LogEnd::Error {
                                            block: io_block,
                                            error: e,
                                        });
                                        read_failed = true;
                                        break;
                                    }
                                }
                            }
                            if read_failed {
                                break;
                            }
                            continue;
                        }
                        next_log_block = self.wrap(next_log_block + tags.len() as u32);
                        continue;
                    }
                    for (off, tag) in tags {
                        let io_block = next_log_block;
                        next_log_block = self.wrap(next_log_block + 1);
                        let mut obh = match self.jread(dev, io_block) {
                            Ok(b) => b,
                            Err(e) => {
                                success.get_or_insert(e);
                                continue;
                            }
                        };
                        let blocknr = tag.blocknr;
                        if st.revoke.test_revoke(blocknr, next_commit_id) {
                            info.nr_revoke_hits += 1;
                            continue;
                        }
                        if csum_v2or3 {
                            let c = block_tag_csum(seed, hdr.h_sequence, &obh);
                            let ok = match fmt.csum {
                                CsumVersion::V3 => be32(&bh, off + 12) == c,
                                _ => u32::from(be16(&bh, off + 4)) == c & 0xFFFF,
                            };
                            if !ok {
                                let e = JournalError::Checksum {
                                    block: io_block,
                                    what: format!("logged copy of block {blocknr} in transaction {next_commit_id}"),
                                };
                                info.skipped.push(SkippedBlock {
                                    tid: next_commit_id,
                                    log_block: io_block,
                                    blocknr,
                                    why: e.to_string(),
                                });
                                success.get_or_insert(e);
                                block_error = true;
                                continue;
                            }
                        }
                        if tag.flags & JBD2_FLAG_ESCAPE != 0 {
                            put_be32(&mut obh, 0, JBD2_MAGIC_NUMBER);
                        }
                        let outside = self.j_fs_blocks != 0 && blocknr >= self.j_fs_blocks;
                        let res = if outside {
                            Err(DeviceError::OutOfRange {
                                offset: blocknr.saturating_mul(u64::from(self.j_blocksize)),
                                len: obh.len(),
                                size: self.j_fs_blocks.saturating_mul(u64::from(self.j_blocksize)),
                            })
                        } else if write {
                            match blocknr.checked_mul(u64::from(self.j_blocksize)) {
                                Some(o) => dev.write_at(o, &obh),
                                None => Err(DeviceError::OutOfRange {
                                    offset: u64::MAX,
                                    len: obh.len(),
                                    size: dev.size(),
                                }),
                            }
                        } else {
                            Ok(())
                        };
                        match res {
                            Ok(()) => info.replayed.push(blocknr),
                            Err(e) => {
                                let e = JournalError::Corrupt {
                                    block: io_block,
                                    what: format!("tag of transaction {next_commit_id} points to block {blocknr}: {e}"),
                                };
                                info.skipped.push(SkippedBlock {
                                    tid: next_commit_id,
                                    log_block: io_block,
                                    blocknr,
                                    why: e.to_string(),
                                });
                                success.get_or_insert(e);
                            }
                        }
                    }
                    continue;
                }
                JBD2_COMMIT_BLOCK => {
                    let cbh = CommitHeader::parse(&bh);
                    let commit_time = cbh.h_commit_sec;
                    if need_check_commit_time {
                        if commit_time >= last_trans_commit_time {
                            let e = JournalError::Checksum {
                                block: this_block,
                                what: format!(
                                    "descriptor or revoke block of transaction {next_commit_id}"
                                ),
                            };
                            if pass == Pass::Scan {
                                st.end = Some(LogEnd::Error {
                                    block: this_block,
                                    error: e.clone(),
                                });
                            }
                            return Err(e);
                        }
                        end = Some(LogEnd::StaleChecksum {
                            block: this_block,
                            tid: next_commit_id,
                        });
                        break;
                    }
                    let mut chksum_error = false;
                    if pass == Pass::Scan && has_v1 {
                        if let Some(e) = st.end_transaction {
                            self.j_failed_commit = e;
                            end = Some(LogEnd::AfterFailedCommit {
                                block: this_block,
                                tid: next_commit_id,
                            });
                            break;
                        }
                        let found = cbh.h_chksum0;
                        let v1_ok = crc32_sum == found
                            && cbh.h_chksum_type == JBD2_CRC32_CHKSUM
                            && cbh.h_chksum_size == JBD2_CRC32_CHKSUM_SIZE;
                        let unused = cbh.h_chksum_type == 0 && cbh.h_chksum_size == 0 && found == 0;
                        if !(v1_ok || unused) {
                            chksum_error = true;
                        } else {
                            crc32_sum = !0;
                        }
                    }
                    if pass == Pass::Scan
                        && !chksum_error
                        && csum_v2or3
                        && cbh.h_chksum0 != commit_block_csum(seed, &bh)
                    {
                        chksum_error = true;
                    }
                    if chksum_error {
                        if commit_time < last_trans_commit_time {
                            end = Some(LogEnd::StaleChecksum {
                                block: this_block,
                                tid: next_commit_id,
                            });
                            break;
                        }
                        st.end_transaction = Some(next_commit_id);
                        if end.is_none() {
                            end = Some(LogEnd::CommitChecksum {
                                block: this_block,
                                tid: next_commit_id,
                            });
                        }
                        if !async_commit {
                            self.j_failed_commit = next_commit_id;
                            break;
                        }
                    }
                    if pass == Pass::Scan {
                        last_trans_commit_time = commit_time;
                    }
                    next_commit_id = next_commit_id.wrapping_add(1);
                    continue;
                }
                JBD2_REVOKE_BLOCK => {
                    if pass == Pass::Scan && csum_v2or3 && !block_tail_verify(seed, &bh) {
                        need_check_commit_time = true;
                    }
                    if pass != Pass::Revoke {
                        continue;
                    }
                    let records = revoke_records(fmt, this_block, &bh)?;
                    for blocknr in records {
                        st.revoke.set_revoke(blocknr, next_commit_id);
                        info.nr_revokes += 1;
                    }
                    continue;
                }
                other => {
                    end = Some(LogEnd::UnknownBlockType {
                        block: this_block,
                        blocktype: other,
                    });
                    break;
                }
            }
        }

        // done:
        if pass == Pass::Scan {
            if st.end_transaction.is_none() {
                st.end_transaction = Some(next_commit_id);
            }
            st.end = end.or(Some(LogEnd::NoMagic {
                block: next_log_block,
            }));
        } else if st.end_transaction != Some(next_commit_id) && success.is_none() {
            success = Some(JournalError::Corrupt {
                block: next_log_block,
                what: format!(
                    "recovery pass ended at transaction {next_commit_id}, expected {:?}",
                    st.end_transaction
                ),
            });
        }
        if block_error && success.is_none() {
            success = Some(JournalError::Invalid("data block checksum errors".into()));
        }
        match success {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
