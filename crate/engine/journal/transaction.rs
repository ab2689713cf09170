//! Handles and the running transaction (fs/jbd2/transaction.c).
//!
//! A handle reserves credits (log blocks) in the running transaction; each
//! block it dirties for the first time in that transaction uses one credit.
//! The transaction keeps its own copy of every dirtied block (the kernel's
//! buffer contents as of the commit; since the copy is taken at
//! `jbd2_journal_dirty_metadata`, no frozen-data dance is needed when a block
//! is changed again while a commit writes the previous version).
//!
//! This layer is synchronous: where the kernel would sleep (the running
//! transaction is locked for commit, it is full, the log is full) it returns
//! [`JournalError::WouldBlock`] and the caller (the simulated kernel) waits
//! and retries.

use super::journal::Journal;
use super::{JournalError, Result};
use std::collections::{BTreeMap, BTreeSet};

/// Transaction ID (`tid_t`).
pub type Tid = u32;

/// `t_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransactionState {
    /// T_RUNNING: handles may join.
    Running,
    /// T_LOCKED: commit wants it; no new handles, waiting for t_updates to drop to 0.
    Locked,
    /// T_FLUSH: ordered data being submitted.
    Flush,
    /// T_COMMIT: log blocks being written.
    Commit,
    /// T_COMMIT_DFLUSH / T_COMMIT_JFLUSH: waiting for data, then the commit block.
    CommitJflush,
    /// T_FINISHED: on the checkpoint list.
    Finished,
}

/// Why a call would have slept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BlockReason {
    /// The running transaction is locked for commit (`wait_transaction_locked`).
    TransactionLocked { tid: Tid },
    /// The running transaction cannot take more credits: commit it.
    TransactionFull { tid: Tid },
    /// Not enough log space: checkpoint (`jbd2_log_do_checkpoint`).
    LogFull { free: u32, need: u32 },
    /// Commit must wait for handles to stop (`t_updates` > 0).
    UpdatesPending { tid: Tid, updates: u32 },
    /// A commit must wait for the previous one to be written.
    CommitInProgress { tid: Tid },
    /// `jbd2_journal_lock_updates` holds the journal barrier: new handles
    /// wait until `jbd2_journal_unlock_updates`.
    Barrier,
}

/// One block logged by a transaction: where it lives and the contents to
/// log (and later checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalBuffer {
    pub b_blocknr: u64,
    pub b_data: Vec<u8>,
}

/// `transaction_t`.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub t_tid: Tid,
    pub t_state: TransactionState,
    /// Handles open against this transaction.
    pub t_updates: u32,
    /// Credits reserved by open handles plus blocks already dirtied.
    pub t_outstanding_credits: u32,
    /// Logged blocks in the order first dirtied (the log order).
    pub t_buffers: Vec<JournalBuffer>,
    t_index: BTreeMap<u64, usize>,
    /// Blocks revoked by this transaction (written as revoke records).
    pub t_revoked: BTreeSet<u64>,
    /// Inodes with ordered data to write before the commit block.
    pub t_inode_list: BTreeSet<u32>,
    /// Handles started over the transaction's life.
    pub t_handle_count: u32,
}

impl Transaction {
    fn new(tid: Tid) -> Transaction {
        Transaction {
            t_tid: tid,
            t_state: TransactionState::Running,
            t_updates: 0,
            t_outstanding_credits: 0,
            t_buffers: Vec::new(),
            t_index: BTreeMap::new(),
            t_revoked: BTreeSet::new(),
            t_inode_list: BTreeSet::new(),
            t_handle_count: 0,
        }
    }

    /// The logged copy of `blocknr` in this transaction, if any.
    pub fn buffer(&self, blocknr: u64) -> Option<&[u8]> {
        self.t_index
            .get(&blocknr)
            .and_then(|&i| self.t_buffers.get(i))
            .map(|b| b.b_data.as_slice())
    }

    /// The logged copy of `blocknr` in this transaction, to change in place.
    pub(crate) fn buffer_mut(&mut self, blocknr: u64) -> Option<&mut Vec<u8>> {
        let i = *self.t_index.get(&blocknr)?;
        self.t_buffers.get_mut(i).map(|b| &mut b.b_data)
    }

    /// Remove `blocknr` from the logged blocks; true if it was there.
    pub(crate) fn remove_buffer(&mut self, blocknr: u64) -> bool {
        let Some(i) = self.t_index.remove(&blocknr) else {
            return false;
        };
        self.t_buffers.remove(i);
        for v in self.t_index.values_mut() {
            if *v > i {
                *v -= 1;
            }
        }
        true
    }
}

/// `handle_t`: an open reservation in one transaction. Not `Clone`: one
/// handle, one stop.
#[derive(Debug, PartialEq, Eq)]
pub struct Handle {
    pub h_transaction: Tid,
    /// Credits left.
    pub h_buffer_credits: u32,
    /// Credits asked for at start.
    pub h_requested_credits: u32,
}

impl Journal {
    /// Credits the running transaction may still promise.
    fn check_credits(&self, t: &Transaction, nblocks: u32) -> Result<()> {
        if t.t_outstanding_credits + nblocks > self.j_max_transaction_buffers {
            return Err(JournalError::WouldBlock(BlockReason::TransactionFull {
                tid: t.t_tid,
            }));
        }
        let need = self
            .jbd2_log_space_needed(t.t_outstanding_credits + nblocks, t.t_revoked.len() as u32)
            + self.jbd2_log_space_needed(0, 0);
        if need > self.j_free {
            return Err(JournalError::WouldBlock(BlockReason::LogFull {
                free: self.j_free,
                need,
            }));
        }
        Ok(())
    }

    /// `jbd2_journal_start`: open a handle with `nblocks` credits on the
    /// running transaction, creating one (with the next tid) if needed.
    ///
    /// Preconditions: none held. Would sleep (returns `WouldBlock`) while the
    /// running transaction is locked for commit, when it is full (commit
    /// first) or when the log has no room (checkpoint first).
    pub fn jbd2_journal_start(&mut self, nblocks: u32) -> Result<Handle> {
        if nblocks > self.j_max_transaction_buffers {
            return Err(JournalError::Invalid(format!(
                "handle wants {nblocks} credits, a transaction holds at most {}",
                self.j_max_transaction_buffers
            )));
        }
        if self.j_barrier_count > 0 {
            return Err(JournalError::WouldBlock(BlockReason::Barrier));
        }
        if self.j_running_transaction.is_none() {
            let tid = self.j_transaction_sequence;
            self.j_transaction_sequence = tid.wrapping_add(1);
            self.j_running_transaction = Some(Transaction::new(tid));
        }
        let t = self
            .j_running_transaction
            .as_ref()
            .ok_or_else(|| JournalError::Invalid("no transaction".into()))?;
        if t.t_state != TransactionState::Running {
            return Err(JournalError::WouldBlock(BlockReason::TransactionLocked {
                tid: t.t_tid,
            }));
        }
        self.check_credits(t, nblocks)?;
        let t = self.running_mut()?;
        t.t_updates += 1;
        t.t_handle_count += 1;
        t.t_outstanding_credits += nblocks;
        Ok(Handle {
            h_transaction: t.t_tid,
            h_buffer_credits: nblocks,
            h_requested_credits: nblocks,
        })
    }

    pub(crate) fn running_mut(&mut self) -> Result<&mut Transaction> {
        self.j_running_transaction
            .as_mut()
            .ok_or_else(|| JournalError::Invalid("no running transaction".into()))
    }

    /// The running transaction, checked to be the handle's.
    pub(crate) fn handle_transaction(&mut self, handle: &Handle) -> Result<&mut Transaction> {
        let t = self.running_mut()?;
        if t.t_tid != handle.h_transaction {
            return Err(JournalError::Invalid(format!(
                "handle of transaction {} used while {} runs",
                handle.h_transaction, t.t_tid
            )));
        }
        Ok(t)
    }

    /// `jbd2_journal_get_write_access`: declare the intent to modify
    /// `blocknr` under `handle`. The copy-on-dirty model needs no frozen
    /// data, so this only checks the handle; it is kept so the fs calls the
    /// same sequence as ext4 (and the simulator can place a step here).
    pub fn jbd2_journal_get_write_access(&mut self, handle: &Handle, _blocknr: u64) -> Result<()> {
        self.handle_transaction(handle).map(|_| ())
    }

    /// `jbd2_journal_get_create_access`: as get_write_access, for a block
    /// the fs just allocated (its old contents do not matter).
    pub fn jbd2_journal_get_create_access(&mut self, handle: &Handle, blocknr: u64) -> Result<()> {
        self.jbd2_journal_get_write_access(handle, blocknr)
    }

    /// `jbd2_journal_dirty_metadata`: log `data` (the whole new block) as
    /// `blocknr`'s contents in the running transaction. The first time a
    /// block joins the transaction it uses one of the handle's credits; a
    /// later dirtying replaces the copy. A revoke of the same block in this
    /// transaction is cancelled (`jbd2_journal_cancel_revoke`).
    ///
    /// data=journal uses this for file data blocks too.
    pub fn jbd2_journal_dirty_metadata(
        &mut self,
        handle: &mut Handle,
        blocknr: u64,
        data: &[u8],
    ) -> Result<()> {
        if data.len() != self.j_blocksize as usize {
            return Err(JournalError::Invalid(format!(
                "block {blocknr}: {} bytes, block size {}",
                data.len(),
                self.j_blocksize
            )));
        }
        if blocknr > u64::from(u32::MAX) && !self.tag_format().is_64bit {
            return Err(JournalError::Invalid(format!(
                "block {blocknr} needs a 64BIT journal"
            )));
        }
        let t = self.handle_transaction(handle)?;
        if let Some(&i) = t.t_index.get(&blocknr) {
            if let Some(b) = t.t_buffers.get_mut(i) {
                b.b_data.copy_from_slice(data);
            }
        } else {
            if handle.h_buffer_credits == 0 {
                return Err(JournalError::NoCredits {
                    tid: t.t_tid,
                    blocknr,
                });
            }
            handle.h_buffer_credits -= 1;
            t.t_index.insert(blocknr, t.t_buffers.len());
            t.t_buffers.push(JournalBuffer {
                b_blocknr: blocknr,
                b_data: data.to_vec(),
            });
        }
        t.t_revoked.remove(&blocknr);
        Ok(())
    }

    /// `jbd2_journal_inode_ranged_write`: data=ordered: the inode's dirty
    /// data must be on disk before this transaction's commit block.
    pub fn jbd2_journal_inode_ranged_write(&mut self, handle: &Handle, ino: u32) -> Result<()> {
        let t = self.handle_transaction(handle)?;
        t.t_inode_list.insert(ino);
        Ok(())
    }

    /// `jbd2_journal_forget`: the block is being freed and its logged copy
    /// in the running transaction is no longer wanted: drop it and give
    /// the credit back. Copies in committed transactions are left (use
    /// [`Journal::jbd2_journal_revoke`] to stop replay of those).
    pub fn jbd2_journal_forget(&mut self, handle: &mut Handle, blocknr: u64) -> Result<()> {
        let t = self.handle_transaction(handle)?;
        if t.remove_buffer(blocknr) {
            handle.h_buffer_credits += 1;
        }
        Ok(())
    }

    /// `jbd2_journal_stop`: close the handle; unused credits go back.
    pub fn jbd2_journal_stop(&mut self, handle: Handle) -> Result<()> {
        let t = self.handle_transaction(&handle)?;
        t.t_updates = t.t_updates.saturating_sub(1);
        t.t_outstanding_credits = t
            .t_outstanding_credits
            .saturating_sub(handle.h_buffer_credits);
        Ok(())
    }

    /// `jbd2_journal_lock_updates` as commit uses it: move the running
    /// transaction to T_LOCKED so no new handle joins. Returns
    /// `UpdatesPending` while handles are still open (the commit thread
    /// waits for them), `Ok(None)` when there is nothing to commit.
    pub fn jbd2_journal_lock_transaction(&mut self) -> Result<Option<Tid>> {
        let Some(t) = self.j_running_transaction.as_mut() else {
            return Ok(None);
        };
        if t.t_state == TransactionState::Running {
            t.t_state = TransactionState::Locked;
        }
        if t.t_updates > 0 {
            return Err(JournalError::WouldBlock(BlockReason::UpdatesPending {
                tid: t.t_tid,
                updates: t.t_updates,
            }));
        }
        Ok(Some(t.t_tid))
    }

    /// `jbd2_journal_lock_updates`: raise the journal barrier so no new
    /// handle starts (`WouldBlock(Barrier)`), and report how many handles
    /// are still open; the caller (e.g. `ext4_change_inode_journal_flag`)
    /// waits until [`Journal::jbd2_journal_updates_pending`] is 0.
    ///
    /// Preconditions: the caller holds no handle (it would wait for itself).
    pub fn jbd2_journal_lock_updates(&mut self) -> u32 {
        self.j_barrier_count += 1;
        self.jbd2_journal_updates_pending()
    }

    /// Handles open on the running transaction (`t_updates`).
    pub fn jbd2_journal_updates_pending(&self) -> u32 {
        self.j_running_transaction
            .as_ref()
            .map_or(0, |t| t.t_updates)
    }

    /// `jbd2_journal_unlock_updates`: drop the barrier.
    pub fn jbd2_journal_unlock_updates(&mut self) -> Result<()> {
        if self.j_barrier_count == 0 {
            return Err(JournalError::Invalid(
                "unlock_updates without lock_updates".into(),
            ));
        }
        self.j_barrier_count -= 1;
        Ok(())
    }
}
