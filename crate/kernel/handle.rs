//! The ext4<->jbd2 seam: `ext4_journal_start` / `ext4_journal_stop` and the
//! fsync commit, behind [`JournalOps`] so the journal glue
//! (crate/engine/ext4_jbd2.rs, crate/kernel/jbd2*.rs) can replace the
//! default. The default only takes and drops a handle on the sim journal
//! ([`crate::sim::Journal`], lock class `jbd2_handle`), so the deadlock and
//! lockdep oracles see every transaction start, and kjournald2 commits.

use std::future::Future;
use std::pin::Pin;

use crate::sim::Handle;

use super::state::{Ext4InodeInfo, KResult, Kernel};

/// `EXT4_HT_*` handle types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleType {
    WriteInode,
    WritePage,
    Map,
    Truncate,
    Migrate,
    Inode,
    Misc,
    /// `EXT4_HT_EXT_CONVERT`: the conversion of an io_end's unwritten
    /// extents.
    ExtConvert,
}

/// A boxed future borrowing the kernel.
pub type KFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What ext4 asks of jbd2.
pub trait JournalOps {
    /// `ext4_journal_start(inode, type, credits)`: a handle on the running
    /// transaction (waits while it is locked for commit).
    fn start<'a>(
        &'a self,
        k: &'a Kernel,
        ei: &'a Ext4InodeInfo,
        ht: HandleType,
        credits: u32,
    ) -> KFuture<'a, KResult<Handle>>;
    /// `ext4_journal_start_reserved(handle, type)`: start the handle
    /// reserved for an io_end (joins a transaction locked for commit;
    /// `None` when the kernel would fail it).
    fn start_reserved<'a>(&'a self, k: &'a Kernel, ht: HandleType) -> KFuture<'a, Option<Handle>>;
    /// `ext4_journal_stop(handle)`.
    fn stop(&self, k: &Kernel, handle: Handle);
    /// The journal part of `ext4_sync_file`: make the inode's metadata
    /// durable (`jbd2_complete_transaction`). Default: nothing to wait for.
    fn fsync_commit<'a>(&'a self, k: &'a Kernel, ei: &'a Ext4InodeInfo)
        -> KFuture<'a, KResult<()>>;
    /// The body of the kjournald2 task (`commits` commits at most).
    fn kjournald2<'a>(&'a self, k: &'a Kernel, commits: u32) -> KFuture<'a, ()>;
}

/// The core's journal: sim handles only (no on-disk journal writes).
pub struct DefaultJournalOps;

impl JournalOps for DefaultJournalOps {
    fn start<'a>(
        &'a self,
        k: &'a Kernel,
        _ei: &'a Ext4InodeInfo,
        _ht: HandleType,
        _credits: u32,
    ) -> KFuture<'a, KResult<Handle>> {
        Box::pin(async move { Ok(k.journal.start().await) })
    }
    fn start_reserved<'a>(&'a self, k: &'a Kernel, _ht: HandleType) -> KFuture<'a, Option<Handle>> {
        Box::pin(async move { k.journal.start_reserved().await })
    }
    fn stop(&self, _k: &Kernel, handle: Handle) {
        handle.stop();
    }
    fn fsync_commit<'a>(
        &'a self,
        _k: &'a Kernel,
        _ei: &'a Ext4InodeInfo,
    ) -> KFuture<'a, KResult<()>> {
        Box::pin(async { Ok(()) })
    }
    fn kjournald2<'a>(&'a self, k: &'a Kernel, commits: u32) -> KFuture<'a, ()> {
        Box::pin(async move {
            for _ in 0..commits {
                let _f = crate::kfn!("jbd2_journal_commit_transaction");
                let tid = k.journal.commit().await;
                k.journal.commit_done(tid);
            }
        })
    }
}

/// `ext4_journal_start(inode, type, credits)`: v4.13 fs/ext4/ext4_jbd2.h
/// -> `__ext4_journal_start_sb` -> `jbd2__journal_start` (the journal ops
/// the run installed: jbd2's, or none without a journal).
pub async fn ext4_journal_start(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    ht: HandleType,
    credits: u32,
) -> KResult<Handle> {
    let ops = k.jops.borrow().clone();
    ops.start(k, ei, ht, credits).await
}

/// `ext4_journal_start_reserved(handle, type)` (v5.5
/// fs/ext4/ext4_jbd2.c, -> `jbd2_journal_start_reserved`).
pub async fn ext4_journal_start_reserved(k: &Kernel, ht: HandleType) -> Option<Handle> {
    let ops = k.jops.borrow().clone();
    ops.start_reserved(k, ht).await
}

/// `ext4_journal_stop(handle)`.
pub fn ext4_journal_stop(k: &Kernel, handle: Handle) {
    let ops = k.jops.borrow().clone();
    ops.stop(k, handle)
}
