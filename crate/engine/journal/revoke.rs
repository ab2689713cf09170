//! Revoke (fs/jbd2/revoke.c).
//!
//! When a block that was journalled (metadata, or data under data=journal)
//! is freed, an older logged copy must not be replayed over whatever the
//! block holds next. `jbd2_journal_revoke` records the block in the running
//! transaction; the commit writes revoke blocks (`r_count` bytes used,
//! 4- or 8-byte entries, a tail checksum with CSUM_V2/V3) before the
//! descriptors. Recovery's PASS_REVOKE builds a [`RevokeTable`] mapping each
//! revoked block to the newest transaction that revoked it, and PASS_REPLAY
//! skips a logged copy of that block from that transaction or an older one.

use super::journal::Journal;
use super::ondisk::JBD2_FEATURE_INCOMPAT_REVOKE;
use super::transaction::{Handle, Tid};
use super::{tid_gt, Result};
use std::collections::BTreeMap;

/// Recovery's revoke hash (`j_revoke`): block -> newest revoking tid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevokeTable {
    records: BTreeMap<u64, Tid>,
}

impl RevokeTable {
    /// `jbd2_journal_set_revoke`: remember the newest revoking sequence.
    pub fn set_revoke(&mut self, blocknr: u64, sequence: Tid) {
        match self.records.get_mut(&blocknr) {
            Some(seq) => {
                if tid_gt(sequence, *seq) {
                    *seq = sequence;
                }
            }
            None => {
                self.records.insert(blocknr, sequence);
            }
        }
    }

    /// `jbd2_journal_test_revoke`: is the copy of `blocknr` logged in
    /// transaction `sequence` revoked (by that transaction or a later one)?
    pub fn test_revoke(&self, blocknr: u64, sequence: Tid) -> bool {
        match self.records.get(&blocknr) {
            Some(&seq) => !tid_gt(sequence, seq),
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

impl Journal {
    /// `jbd2_journal_revoke`: `blocknr` is being freed. Drops it from the
    /// running transaction (credit returned) and from committed
    /// transactions awaiting checkpoint (so checkpoint does not write a
    /// stale copy over the block's next owner), and adds a revoke record to
    /// the running transaction. Turns on INCOMPAT_REVOKE in the journal
    /// superblock (written at the next commit) like the kernel does.
    ///
    /// Preconditions: `handle` is open on the running transaction.
    pub fn jbd2_journal_revoke(&mut self, handle: &mut Handle, blocknr: u64) -> Result<()> {
        if self.j_format_version >= 2
            && self.j_superblock.s_feature_incompat & JBD2_FEATURE_INCOMPAT_REVOKE == 0
        {
            self.j_superblock.s_feature_incompat |= JBD2_FEATURE_INCOMPAT_REVOKE;
            self.j_sb_dirty = true;
        }
        let t = self.handle_transaction(handle)?;
        if t.remove_buffer(blocknr) {
            handle.h_buffer_credits += 1;
        }
        t.t_revoked.insert(blocknr);
        for cp in &mut self.j_checkpoint_transactions {
            cp.t_checkpoint_list.remove(&blocknr);
        }
        Ok(())
    }

    /// `jbd2_journal_cancel_revoke`: `blocknr` is journalled again; its
    /// revoke in the running transaction no longer applies. (Called by
    /// `jbd2_journal_dirty_metadata` itself; public for symmetry.)
    pub fn jbd2_journal_cancel_revoke(&mut self, handle: &Handle, blocknr: u64) -> Result<()> {
        let t = self.handle_transaction(handle)?;
        t.t_revoked.remove(&blocknr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_sequence_rules() {
        let mut r = RevokeTable::default();
        r.set_revoke(10, 5);
        r.set_revoke(10, 3);
        assert!(r.test_revoke(10, 5));
        assert!(r.test_revoke(10, 4));
        assert!(!r.test_revoke(10, 6));
        assert!(!r.test_revoke(11, 1));
        // Wrap-around: 0xFFFF_FFFF is older than 2.
        r.set_revoke(20, 0xFFFF_FFFF);
        r.set_revoke(20, 2);
        assert!(r.test_revoke(20, 1));
        assert!(!r.test_revoke(20, 3));
    }
}
