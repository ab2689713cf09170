//! Checkpoint (fs/jbd2/checkpoint.c): write committed blocks to their home
//! locations, then move the log tail past the transactions that no longer
//! need the log.
//!
//! Order: home writes of the oldest transaction, flush (so they are durable
//! before the log stops protecting them), then the journal superblock with
//! the new `s_start`/`s_sequence`, flush.

use super::commit::CommitHooks;
use super::journal::Journal;
use super::transaction::Tid;
use super::{JournalError, Result};
use crate::device::BlockDevice;
use std::collections::BTreeMap;

/// A committed transaction whose blocks may not all be home yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointTransaction {
    pub t_tid: Tid,
    /// Its first log block (the tail while it is the oldest).
    pub t_log_start: u32,
    /// The log block after its commit block.
    pub t_log_end: u32,
    /// Blocks still to write home: blocknr -> committed contents.
    pub t_checkpoint_list: BTreeMap<u64, Vec<u8>>,
}

impl Journal {
    /// Write the home copies of the oldest checkpoint transaction and drop
    /// it (`jbd2_log_do_checkpoint`), then advance the tail
    /// (`jbd2_cleanup_journal_tail`). Returns the tid checkpointed, or
    /// `None` when the checkpoint list is empty.
    ///
    /// Preconditions: the caller holds the (simulated) `j_checkpoint_mutex`.
    pub fn jbd2_log_do_checkpoint(&mut self, dev: &mut dyn BlockDevice) -> Result<Option<Tid>> {
        if self.j_checkpoint_transactions.is_empty() {
            return Ok(None);
        }
        let cp = self.j_checkpoint_transactions.remove(0);
        let bs = u64::from(self.j_blocksize);
        for (&blocknr, data) in &cp.t_checkpoint_list {
            let off = blocknr
                .checked_mul(bs)
                .ok_or_else(|| JournalError::Invalid(format!("block {blocknr}")))?;
            dev.write_at(off, data)?;
        }
        self.jbd2_cleanup_journal_tail(dev)?;
        Ok(Some(cp.t_tid))
    }

    /// The fs wrote `blocknr` home itself, with contents newer than any
    /// committed copy (e.g. writeback of a block that was once journalled
    /// as metadata, the S1 inline-data conversion). The kernel's checkpoint
    /// finds such a buffer clean and only drops it from the checkpoint list
    /// (`__jbd2_journal_remove_checkpoint`); so does this. The logged copy
    /// stays in the log until the tail passes it, so a crash before that
    /// still replays the older copy over the newer data, exactly as in the
    /// kernel.
    pub fn jbd2_journal_remove_checkpoint(&mut self, blocknr: u64) {
        for cp in &mut self.j_checkpoint_transactions {
            cp.t_checkpoint_list.remove(&blocknr);
        }
    }

    /// `jbd2_journal_get_log_tail`: the oldest transaction still needing
    /// the log, and where it starts.
    pub fn jbd2_journal_get_log_tail(&self) -> (Tid, u32) {
        if let Some(cp) = self.j_checkpoint_transactions.first() {
            return (cp.t_tid, cp.t_log_start);
        }
        match &self.j_committing_transaction {
            // Not written yet: it will start at the head.
            Some(c) => (c.t_tid, self.j_head),
            None => {
                let tid = match &self.j_running_transaction {
                    Some(t) => t.t_tid,
                    None => self.j_transaction_sequence,
                };
                (tid, self.j_head)
            }
        }
    }

    /// `jbd2_cleanup_journal_tail`: if the tail can move, flush the home
    /// writes, record the new tail in the superblock (flushed) and free the
    /// log blocks behind it.
    pub fn jbd2_cleanup_journal_tail(&mut self, dev: &mut dyn BlockDevice) -> Result<()> {
        let (tid, block) = self.jbd2_journal_get_log_tail();
        if tid == self.j_tail_sequence && block == self.j_tail {
            return Ok(());
        }
        dev.flush()?;
        // Free the blocks between the old and new tail.
        let old = self.j_tail;
        let freed = if block >= old {
            block - old
        } else {
            (self.j_last - old) + (block - self.j_first)
        };
        self.j_free = if self.j_checkpoint_transactions.is_empty() {
            self.j_last - self.j_first
        } else {
            (self.j_free + freed).min(self.j_last - self.j_first)
        };
        self.j_tail = block;
        self.j_tail_sequence = tid;
        if self.j_superblock.s_start != 0 {
            self.jbd2_journal_update_sb_log_tail(dev, tid, block)?;
        }
        Ok(())
    }

    /// Checkpoint everything committed.
    pub fn jbd2_log_checkpoint_all(&mut self, dev: &mut dyn BlockDevice) -> Result<()> {
        let mut guard = self.j_checkpoint_transactions.len() + 1;
        while self.jbd2_log_do_checkpoint(dev)?.is_some() {
            guard -= 1;
            if guard == 0 {
                return Err(JournalError::Invalid("checkpoint made no progress".into()));
            }
        }
        Ok(())
    }

    /// `jbd2_journal_flush`: commit the running transaction, checkpoint
    /// everything, and mark the journal empty (`s_start = 0`).
    ///
    /// Preconditions: no open handles.
    pub fn jbd2_journal_flush(
        &mut self,
        dev: &mut dyn BlockDevice,
        hooks: &mut dyn CommitHooks,
    ) -> Result<()> {
        self.jbd2_journal_commit_transaction(dev, hooks)?;
        self.jbd2_log_checkpoint_all(dev)?;
        self.jbd2_mark_journal_empty(dev)
    }

    /// `jbd2_journal_destroy` at unmount: flush, leaving an empty journal.
    /// The fs clears INCOMPAT_RECOVER afterwards.
    pub fn jbd2_journal_destroy(
        &mut self,
        dev: &mut dyn BlockDevice,
        hooks: &mut dyn CommitHooks,
    ) -> Result<()> {
        self.jbd2_journal_flush(dev, hooks)
    }
}
