//! The jbd2 journal, split like fs/jbd2: on-disk blocks ([`ondisk`]), the
//! journal object, creation and loading ([`journal`]), handles and the
//! running transaction ([`transaction`]), commit ([`commit`]), checkpoint
//! ([`checkpoint`]), revoke ([`revoke`]), recovery ([`recovery`]), plus a
//! crash-state enumerator for testing ([`crash`]).
//!
//! The journal is independent of ext4's structures. It sees storage through
//! a [`BlockDevice`](crate::device::BlockDevice) passed to every call that
//! does I/O, and it knows where its blocks are through a log map: `j_map[l]`
//! is the filesystem block holding journal block `l` (the ext4 side resolves
//! inode 8's extents into that list). Journal block 0 is the journal
//! superblock.
//!
//! # The contract with the filesystem (ext4 side)
//!
//! * mkfs: [`Journal::jbd2_journal_init`] writes a fresh journal superblock
//!   (v2, `s_first = 1`, `s_maxlen = j_map.len()`, CSUM_V3/64BIT on request).
//! * mount: [`Journal::jbd2_journal_load`] validates the superblock like
//!   e2fsck's `e2fsck_journal_load`; if the ext4 superblock has
//!   `INCOMPAT_RECOVER` (0x4 in `s_feature_incompat`) or `s_start != 0`, call
//!   [`Journal::jbd2_journal_recover`], which replays, flushes, and marks the
//!   journal empty (s_start = 0). The fs then clears `INCOMPAT_RECOVER`.
//!   While mounted read-write the fs keeps `INCOMPAT_RECOVER` set on disk
//!   (written and flushed before the first commit), and clears it only after
//!   [`Journal::jbd2_journal_destroy`] at a clean unmount.
//! * every metadata change: `jbd2_journal_start(credits)` -> for each block:
//!   `jbd2_journal_get_write_access` then `jbd2_journal_dirty_metadata(handle,
//!   blocknr, bytes)` with the full new block contents -> `jbd2_journal_stop`.
//!   The fs must NOT write journalled blocks to their home location itself:
//!   checkpoint does that after the commit.
//! * data=journal (or an inode with the journal-data flag): data blocks go
//!   through `jbd2_journal_dirty_metadata` exactly like metadata.
//! * data=ordered: `jbd2_journal_inode_ranged_write(handle, ino)` puts the
//!   inode on the transaction; at commit the [`commit::CommitHooks`] the fs
//!   supplies write and wait that inode's dirty data before the commit block.
//! * commit (the kjournald2 task): `jbd2_journal_commit_start` (T_LOCKED;
//!   `WouldBlock(UpdatesPending)` until handles stop; then the transaction
//!   becomes `j_committing_transaction` and new handles open a new running
//!   one) and `jbd2_journal_commit_write` (log writes, flushes, commit
//!   block); or both at once with `jbd2_journal_commit_transaction`. fsync
//!   = commit the transaction that holds the inode's last change.
//! * checkpoint: `jbd2_log_do_checkpoint` (oldest transaction home, tail
//!   moved) when `jbd2_journal_start` says `WouldBlock(LogFull)`; commit
//!   also checkpoints by itself when the log is short of room.
//! * a block the fs writes home itself after it was journalled (writeback
//!   of a once-journalled block): `jbd2_journal_remove_checkpoint`, so the
//!   checkpoint does not write the older logged copy over it.
//! * freeing a block that was journalled as metadata (or as data under
//!   data=journal): `jbd2_journal_revoke`, so replay does not write an old
//!   copy over the block's new owner. `jbd2_journal_forget` drops a block
//!   from the running transaction without a revoke record.

pub mod checkpoint;
pub mod commit;
pub mod crash;
#[allow(clippy::module_inception)]
pub mod journal;
pub mod logview;
pub mod ondisk;
pub mod recovery;
pub mod revoke;
pub mod transaction;

use crate::device::DeviceError;
use thiserror::Error;

pub use commit::{CommitHooks, CommitInfo, NoOrderedData};
pub use journal::{Journal, JournalInitOptions};
pub use recovery::{LogEnd, RecoveryInfo};
pub use transaction::{BlockReason, Handle, Tid, Transaction, TransactionState};

/// Errors of the jbd2 layer. Corruption names the journal (logical) block
/// and what is wrong; nothing here is produced by a panic.
#[derive(Debug, Error, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum JournalError {
    /// The block device failed.
    #[error("device: {0}")]
    Device(String),
    /// A journal block is malformed.
    #[error("journal block {block}: {what}")]
    Corrupt { block: u32, what: String },
    /// A checksum in a journal block does not match.
    #[error("journal block {block}: checksum mismatch ({what})")]
    Checksum { block: u32, what: String },
    /// The journal uses a feature this code does not implement.
    #[error("unsupported journal: {what}")]
    Unsupported { what: String },
    /// The caller must wait (the simulator turns this into a sleep) and
    /// retry: see [`BlockReason`].
    #[error("would block: {0:?}")]
    WouldBlock(BlockReason),
    /// A handle dirtied more new blocks than it reserved credits for.
    #[error("handle of transaction {tid} has no credits left for block {blocknr}")]
    NoCredits { tid: Tid, blocknr: u64 },
    /// The log has no room even after checkpointing everything.
    #[error("journal full: need {need} log blocks, {free} free")]
    NoSpace { need: u32, free: u32 },
    /// An API precondition does not hold (stale handle, wrong state).
    #[error("invalid journal operation: {0}")]
    Invalid(String),
}

impl From<DeviceError> for JournalError {
    fn from(e: DeviceError) -> Self {
        JournalError::Device(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, JournalError>;

/// `tid_gt`: sequence comparison with wrap-around.
pub fn tid_gt(x: Tid, y: Tid) -> bool {
    (x.wrapping_sub(y) as i32) > 0
}

/// `tid_geq`.
pub fn tid_geq(x: Tid, y: Tid) -> bool {
    (x.wrapping_sub(y) as i32) >= 0
}
