//! `jbd2_journal_commit_transaction` (fs/jbd2/commit.c): write the running
//! transaction to the log.
//!
//! Order of writes (synchronous commit, the default):
//! 1. if the journal was empty (`s_start == 0`) or its superblock changed:
//!    the journal superblock with the tail, then a flush;
//! 2. ordered data: [`CommitHooks::jbd2_submit_inode_data`] (the fs writes
//!    the dirty data of `t_inode_list` to its home blocks);
//! 3. revoke blocks, then descriptor blocks each followed by the blocks it
//!    describes (a block starting with the jbd2 magic is logged with its
//!    first four bytes zeroed and `JBD2_FLAG_ESCAPE`);
//! 4. [`CommitHooks::jbd2_finish_inode_data`] (wait for the ordered data);
//! 5. flush (the commit block's REQ_PREFLUSH), the commit block, flush
//!    (REQ_FUA).
//!
//! After that the transaction's blocks move to the checkpoint list; home
//! locations are written only by checkpoint. The async-commit variant
//! (commit block without the preceding flush) is not implemented for
//! writing; recovery honours INCOMPAT_ASYNC_COMMIT.

use super::checkpoint::CheckpointTransaction;
use super::journal::Journal;
use super::ondisk::*;
use super::transaction::{BlockReason, Tid, TransactionState};
use super::{JournalError, Result};
use crate::device::BlockDevice;
use std::collections::BTreeMap;

/// What the filesystem supplies to a commit.
pub trait CommitHooks {
    /// data=ordered: write the dirty data of these inodes to their home
    /// blocks (`journal_submit_data_buffers` -> `ext4_journal_submit_inode_data_buffers`).
    fn jbd2_submit_inode_data(
        &mut self,
        dev: &mut dyn BlockDevice,
        tid: Tid,
        inodes: &[u32],
    ) -> Result<()>;
    /// Wait for that data (`journal_finish_inode_data_buffers`). The commit
    /// block follows a flush, so data written in submit is durable first.
    fn jbd2_finish_inode_data(
        &mut self,
        _dev: &mut dyn BlockDevice,
        _tid: Tid,
        _inodes: &[u32],
    ) -> Result<()> {
        Ok(())
    }
    /// `h_commit_sec`/`h_commit_nsec` for this commit: a deterministic value
    /// from the caller (simulated time), never a clock.
    fn commit_time(&mut self, tid: Tid) -> (u64, u32);
}

/// Hooks for a journal with no ordered data; commit time = (tid, 0).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOrderedData;

impl CommitHooks for NoOrderedData {
    fn jbd2_submit_inode_data(
        &mut self,
        _dev: &mut dyn BlockDevice,
        _tid: Tid,
        _inodes: &[u32],
    ) -> Result<()> {
        Ok(())
    }
    fn commit_time(&mut self, tid: Tid) -> (u64, u32) {
        (u64::from(tid), 0)
    }
}

/// What a commit wrote, for traces and tests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitInfo {
    pub tid: Tid,
    /// First log block of the transaction.
    pub log_start: u32,
    /// The log block of the commit block.
    pub commit_block: u32,
    pub descriptor_blocks: u32,
    pub revoke_blocks: u32,
    pub logged_blocks: u32,
    pub escaped_blocks: u32,
}

impl Journal {
    /// Build the revoke blocks for `revoked` (`jbd2_journal_write_revoke_records`).
    fn build_revoke_blocks(&self, tid: Tid, revoked: &[u64]) -> Vec<Vec<u8>> {
        let fmt = self.tag_format();
        let per = self.revokes_per_block().max(1) as usize;
        let rec = if fmt.is_64bit { 8 } else { 4 };
        revoked
            .chunks(per)
            .map(|chunk| {
                let mut b = vec![0u8; self.j_blocksize as usize];
                JournalHeader::new(JBD2_REVOKE_BLOCK, tid).write(&mut b);
                let mut off = REVOKE_HEADER_SIZE;
                for &blk in chunk {
                    if rec == 8 {
                        put_be64(&mut b, off, blk);
                    } else {
                        put_be32(&mut b, off, blk as u32);
                    }
                    off += rec;
                }
                put_be32(&mut b, 0x0C, off as u32);
                if fmt.tail_size() > 0 {
                    block_tail_set(self.j_csum_seed, &mut b);
                }
                b
            })
            .collect()
    }

    /// `jbd2_journal_commit_transaction`: commit the running transaction,
    /// start to finish ([`Journal::jbd2_journal_commit_start`] then
    /// [`Journal::jbd2_journal_commit_write`]).
    ///
    /// Preconditions: the caller is the commit thread; no other commit is
    /// in progress; the running transaction has no open handles
    /// (`t_updates == 0`, else `WouldBlock(UpdatesPending)`; it is left
    /// T_LOCKED so new handles wait). Returns `Ok(None)` when there is no
    /// running transaction.
    pub fn jbd2_journal_commit_transaction(
        &mut self,
        dev: &mut dyn BlockDevice,
        hooks: &mut dyn CommitHooks,
    ) -> Result<Option<CommitInfo>> {
        if self.jbd2_journal_commit_start()?.is_none() {
            return Ok(None);
        }
        self.jbd2_journal_commit_write(dev, hooks).map(Some)
    }

    /// First half of a commit: lock the running transaction, and once its
    /// handles are gone make it the committing transaction
    /// (`j_committing_transaction`), so that new handles start a new running
    /// transaction while this one is written. Returns its tid, or `None`
    /// when nothing runs.
    ///
    /// Preconditions: commit thread; `WouldBlock(CommitInProgress)` while an
    /// earlier commit has not been written.
    pub fn jbd2_journal_commit_start(&mut self) -> Result<Option<Tid>> {
        if let Some(c) = &self.j_committing_transaction {
            return Err(JournalError::WouldBlock(BlockReason::CommitInProgress {
                tid: c.t_tid,
            }));
        }
        let Some(tid) = self.jbd2_journal_lock_transaction()? else {
            return Ok(None);
        };
        if let Some(mut t) = self.j_running_transaction.take() {
            t.t_state = TransactionState::Flush;
            self.j_committing_transaction = Some(t);
        }
        Ok(Some(tid))
    }

    /// Second half of a commit: write the committing transaction to the log
    /// (see the module documentation for the order of writes and flushes)
    /// and put it on the checkpoint list.
    ///
    /// Preconditions: commit thread, after [`Journal::jbd2_journal_commit_start`].
    pub fn jbd2_journal_commit_write(
        &mut self,
        dev: &mut dyn BlockDevice,
        hooks: &mut dyn CommitHooks,
    ) -> Result<CommitInfo> {
        let Some(mut t) = self.j_committing_transaction.take() else {
            return Err(JournalError::Invalid("no committing transaction".into()));
        };
        let tid = t.t_tid;
        let revoked: Vec<u64> = t.t_revoked.iter().copied().collect();
        // One block more than the transaction needs, so a full log never
        // makes head == tail.
        let need = self.jbd2_log_space_needed(t.t_buffers.len() as u32, revoked.len() as u32) + 1;
        // Make room: checkpoint old transactions until the log fits this one.
        while self.j_free < need && !self.j_checkpoint_transactions.is_empty() {
            self.jbd2_log_do_checkpoint(dev)?;
        }
        if self.j_free < need {
            let free = self.j_free;
            self.j_committing_transaction = Some(t);
            return Err(JournalError::NoSpace { need, free });
        }

        // 1. An empty journal gets its tail recorded before the first log
        //    block is written, so recovery will look at it.
        if self.j_superblock.s_start == 0 || self.j_sb_dirty {
            if self.j_checkpoint_transactions.is_empty() {
                self.j_tail = self.j_head;
                self.j_tail_sequence = tid;
            }
            let (seq, tail) = (self.j_tail_sequence, self.j_tail);
            self.jbd2_journal_update_sb_log_tail(dev, seq, tail)?;
        }

        // 2. Ordered data.
        let inodes: Vec<u32> = t.t_inode_list.iter().copied().collect();
        if !inodes.is_empty() {
            hooks.jbd2_submit_inode_data(dev, tid, &inodes)?;
        }

        // 3. Revoke records, descriptors and the logged blocks.
        t.t_state = TransactionState::Commit;
        let log_start = self.j_head;
        let mut info = CommitInfo {
            tid,
            log_start,
            commit_block: 0,
            descriptor_blocks: 0,
            revoke_blocks: 0,
            logged_blocks: 0,
            escaped_blocks: 0,
        };
        for b in self.build_revoke_blocks(tid, &revoked) {
            let blk = self.next_log_block()?;
            self.jwrite(dev, blk, &b)?;
            info.revoke_blocks += 1;
        }
        let fmt = self.tag_format();
        let csum = fmt.csum;
        let mut v1_crc: u32 = !0;
        let per = self.tags_per_descriptor() as usize;
        for chunk in t.t_buffers.chunks(per) {
            let mut desc = vec![0u8; self.j_blocksize as usize];
            JournalHeader::new(JBD2_DESCRIPTOR_BLOCK, tid).write(&mut desc);
            let mut logged = Vec::with_capacity(chunk.len());
            let mut off = JOURNAL_HEADER_SIZE;
            for (i, jb) in chunk.iter().enumerate() {
                let mut data = jb.b_data.clone();
                let mut flags = 0;
                if be32(&data, 0) == JBD2_MAGIC_NUMBER {
                    data[..4].fill(0);
                    flags |= JBD2_FLAG_ESCAPE;
                    info.escaped_blocks += 1;
                }
                if i != 0 {
                    flags |= JBD2_FLAG_SAME_UUID;
                }
                if i + 1 == chunk.len() {
                    flags |= JBD2_FLAG_LAST_TAG;
                }
                let checksum = match csum {
                    CsumVersion::V2 | CsumVersion::V3 => {
                        block_tag_csum(self.j_csum_seed, tid, &data)
                    }
                    _ => 0,
                };
                let tag = BlockTag {
                    blocknr: jb.b_blocknr,
                    flags,
                    checksum,
                };
                tag.write(fmt, &mut desc, off);
                off += fmt.tag_bytes();
                if i == 0 {
                    desc[off..off + UUID_SIZE].copy_from_slice(&self.j_superblock.s_uuid);
                    off += UUID_SIZE;
                }
                logged.push(data);
            }
            if fmt.tail_size() > 0 {
                block_tail_set(self.j_csum_seed, &mut desc);
            }
            let blk = self.next_log_block()?;
            self.jwrite(dev, blk, &desc)?;
            info.descriptor_blocks += 1;
            if csum == CsumVersion::V1 {
                v1_crc = crc32_be(v1_crc, &desc);
            }
            for data in &logged {
                let blk = self.next_log_block()?;
                self.jwrite(dev, blk, data)?;
                info.logged_blocks += 1;
                if csum == CsumVersion::V1 {
                    v1_crc = crc32_be(v1_crc, data);
                }
            }
        }

        // 4. Wait for ordered data; 5. flush, commit block, flush.
        if !inodes.is_empty() {
            hooks.jbd2_finish_inode_data(dev, tid, &inodes)?;
        }
        t.t_state = TransactionState::CommitJflush;
        dev.flush()?;
        let commit = build_commit_block(
            self.j_blocksize as usize,
            tid,
            csum,
            self.j_csum_seed,
            v1_crc,
            hooks.commit_time(tid),
        );
        let cblk = self.next_log_block()?;
        self.jwrite(dev, cblk, &commit)?;
        dev.flush()?;
        info.commit_block = cblk;

        // The transaction's blocks are now safe in the log: checkpoint them
        // later. A block lives on the checkpoint list of its latest
        // transaction only, and a revoke drops it from older ones.
        t.t_state = TransactionState::Finished;
        let mut list = BTreeMap::new();
        for jb in t.t_buffers {
            list.insert(jb.b_blocknr, jb.b_data);
        }
        for cp in &mut self.j_checkpoint_transactions {
            cp.t_checkpoint_list
                .retain(|b, _| !list.contains_key(b) && !t.t_revoked.contains(b));
        }
        self.j_checkpoint_transactions.push(CheckpointTransaction {
            t_tid: tid,
            t_log_start: log_start,
            t_log_end: self.j_head,
            t_checkpoint_list: list,
        });
        self.j_commit_sequence = tid;
        Ok(info)
    }
}
