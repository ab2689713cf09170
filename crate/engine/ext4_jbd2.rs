//! The ext4 side of the journal (fs/ext4/ext4_jbd2.c, and the journal
//! parts of fsync.c, super.c and inode.c): handles, the metadata seam
//! routed into the running transaction, file data by data mode, revoke of
//! freed blocks, commit with the ordered-data hook, fsync, sync.
//!
//! # Handles
//!
//! The engine is synchronous, so the handle of the call in progress lives
//! in the journal state, like the kernel's `current->journal_info`:
//! [`Ext4Fs::ext4_journal_start`] opens it (nested starts take a
//! reference, as `h_ref`), [`Ext4Fs::ext4_journal_stop`] closes it. Every
//! metadata block handed to `ext4_handle_dirty_metadata` joins the running
//! transaction under that handle instead of being written home;
//! checkpoint writes it home after the commit. A modification made with
//! no handle open (an engine call outside [`Ext4Fs::ext4_journalled`])
//! opens an *implicit* handle that stays open until the next commit, so
//! such calls are journalled too, but they are atomic only together.
//!
//! # Data
//!
//! The mode of an inode is `ext4_inode_journal_mode`: data=journal at
//! mount or `EXT4_JOURNAL_DATA_FL` on the inode journals its data blocks
//! like metadata; otherwise data blocks are kept dirty (the page cache's
//! role) until written: by the commit's ordered-data hook (data=ordered),
//! by fsync / sync / explicit writeback (every mode).
//!
//! # Freed blocks
//!
//! The journal learns which blocks were freed from the block bitmap
//! transitions that pass the seam (a bit going from 1 to 0 is
//! `ext4_free_blocks`). A freed block that was journalled since mount is
//! revoked (`ext4_forget` -> `jbd2_journal_revoke`), and dirty data of a
//! freed block is dropped (truncate_inode_pages).
//!
//! A freed block is not handed out again before the transaction that freed
//! it commits (mballoc's `ext4_mb_free_metadata`: the on-disk bitmap is
//! cleared at once, the buddy keeps the block in use until
//! `ext4_free_data_callback` runs from the commit). That holds for metadata
//! and, when [`Ext4Journal::defer_data_frees`] is on, for the data blocks of
//! an inode not in data=writeback. Otherwise a crash before the commit
//! would leave the not-quite-deleted file owning a block another file has
//! already written.
//!
//! # Commit, fsync, sync
//!
//! A commit comes in two halves, [`Ext4Fs::jbd2_commit_start`] (the running
//! transaction becomes the committing one) and [`Ext4Fs::jbd2_commit_write`]
//! (ordered data, log, commit block), so the simulator can put the steps of
//! other tasks between them. fsync is [`Ext4Fs::ext4_sync_file`], sync(2)
//! [`Ext4Fs::ext4_sync_fs`].

use super::error::{Ext4Error, Result};
use super::fs::Ext4Fs;
use super::inode::{EXT4_INLINE_DATA_FL, EXT4_JOURNAL_DATA_FL};
use super::journal::{
    BlockReason, CommitHooks, CommitInfo, Handle, Journal, JournalError, RecoveryInfo, Tid,
};
use super::map::MapFlags;
use super::mount_opts::DataMode;
use super::superblock::{INCOMPAT_RECOVER, SUPERBLOCK_OFFSET};
use crate::device::BlockDevice;
use std::collections::{BTreeMap, BTreeSet};

/// Credits of a handle started for an engine call that did not say
/// (`EXT4_DATA_TRANS_BLOCKS`-sized; clamped to the transaction maximum).
pub const EXT4_DEFAULT_CREDITS: u32 = 64;

/// Most data blocks one handle of [`Ext4Fs::ext4_file_write`] covers (the
/// kernel starts one handle per page in write_begin/write_end).
pub const EXT4_WRITE_CHUNK_BLOCKS: u64 = 16;

/// A dirty data block not yet on disk (a dirty page-cache block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingData {
    pub ino: Option<u32>,
    pub mode: DataMode,
    pub data: Vec<u8>,
}

/// Counters, for reports and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Jbd2Stats {
    pub handles: u64,
    pub commits: u64,
    pub checkpoints: u64,
    pub revokes: u64,
    pub ordered_blocks_written: u64,
    pub writeback_blocks_written: u64,
    pub journalled_data_blocks: u64,
    pub handle_extends: u64,
}

/// `sbi->s_journal` plus the state of the journal glue.
#[derive(Debug)]
pub struct Ext4Journal {
    pub journal: Journal,
    /// The mount-wide data mode.
    pub s_data_mode: DataMode,
    /// `current->journal_info`.
    handle: Option<Handle>,
    h_ref: u32,
    h_implicit: bool,
    h_ino: Option<u32>,
    h_mode: DataMode,
    /// Dirty data blocks by physical block.
    pending: BTreeMap<u64, PendingData>,
    /// Blocks journalled since mount: the candidates for a revoke when freed.
    logged: BTreeSet<u64>,
    /// Blocks freed in a transaction that has not committed, with its tid:
    /// mballoc's `ext4_free_data` entries (the group's `bb_free_root`).
    /// The allocator skips them; the commit of their tid releases them
    /// (`ext4_free_data_callback`). In memory only, as in the kernel.
    free_data: BTreeMap<u64, Tid>,
    /// `ext4_free_blocks` treats the data blocks of an inode that is not in
    /// data=writeback as metadata, so they too wait for the commit (see
    /// `FREED_DATA_AFTER_COMMIT` in the kernel model for the versions).
    /// Off: only metadata and journalled data wait.
    pub defer_data_frees: bool,
    /// INCOMPAT_RECOVER is set in the on-disk superblock.
    recover_on_disk: bool,
    /// What the mount's recovery did.
    pub recovery: Option<RecoveryInfo>,
    pub stats: Jbd2Stats,
    /// Every commit since mount.
    pub commits: Vec<CommitInfo>,
    /// The caller models the page cache (the simulated kernel): a data
    /// write is a completed bio and goes to the device at once, unless the
    /// inode journals its data.
    pub data_writes_direct: bool,
    /// Blocks a file maps as data whose journalled buffer is the block
    /// device's own `buffer_head` (`sb_getblk`), not the file page's:
    /// v4.12..v6.9 fs/ext4/inline.c `ext4_convert_inline_data_nolock`
    /// journals the converted inline bytes that way. The file's page has a
    /// buffer of its own for the block (an alias), so a data write through
    /// the page leaves the journalled copy as it was, and the commit logs
    /// (and the checkpoint writes home) the old bytes. Dropped when the
    /// block is freed (`ext4_forget`).
    bdev_alias: BTreeSet<u64>,
}

impl Ext4Journal {
    /// A copy of the journal glue between handles (no `handle_t` open: a
    /// handle is never duplicated); `None` while one is open.
    pub(crate) fn clone_idle(&self) -> Option<Self> {
        if self.handle.is_some() || self.h_ref != 0 {
            return None;
        }
        Some(Ext4Journal {
            journal: self.journal.clone(),
            s_data_mode: self.s_data_mode,
            handle: None,
            h_ref: 0,
            h_implicit: self.h_implicit,
            h_ino: self.h_ino,
            h_mode: self.h_mode,
            pending: self.pending.clone(),
            logged: self.logged.clone(),
            free_data: self.free_data.clone(),
            defer_data_frees: self.defer_data_frees,
            recover_on_disk: self.recover_on_disk,
            recovery: self.recovery.clone(),
            stats: self.stats.clone(),
            commits: self.commits.clone(),
            data_writes_direct: self.data_writes_direct,
            bdev_alias: self.bdev_alias.clone(),
        })
    }

    pub(crate) fn new(journal: Journal, mode: DataMode, recovery: Option<RecoveryInfo>) -> Self {
        Ext4Journal {
            journal,
            s_data_mode: mode,
            handle: None,
            h_ref: 0,
            h_implicit: false,
            h_ino: None,
            h_mode: mode,
            pending: BTreeMap::new(),
            logged: BTreeSet::new(),
            free_data: BTreeMap::new(),
            defer_data_frees: true,
            recover_on_disk: false,
            recovery,
            stats: Jbd2Stats::default(),
            commits: Vec::new(),
            data_writes_direct: false,
            bdev_alias: BTreeSet::new(),
        }
    }

    /// Blocks of dirty data not yet written.
    pub fn pending_data(&self) -> impl Iterator<Item = (&u64, &PendingData)> {
        self.pending.iter()
    }

    /// The tid of the open handle, if any.
    pub fn current_handle_tid(&self) -> Option<Tid> {
        self.handle.as_ref().map(|h| h.h_transaction)
    }

    /// `blk` was freed by a transaction that has not committed yet: the
    /// allocator may not hand it out (the buddy still marks it in use).
    pub fn ext4_freed_busy(&self, blk: u64) -> bool {
        self.free_data.contains_key(&blk)
    }
}

/// `jbd2_journal_extend`: add `nblocks` credits to `handle` if the running
/// transaction and the log have room; false otherwise (the caller restarts).
pub fn jbd2_journal_extend(j: &mut Journal, handle: &mut Handle, nblocks: u32) -> Result<bool> {
    let max = j.j_max_transaction_buffers;
    let free = j.j_free;
    let (outstanding, revoked) = match j.j_running_transaction.as_ref() {
        Some(t) if t.t_tid == handle.h_transaction => {
            (t.t_outstanding_credits, t.t_revoked.len() as u32)
        }
        _ => {
            return Err(JournalError::Invalid("extend of a handle not running".into()).into());
        }
    };
    let want = outstanding + nblocks;
    if want > max || j.jbd2_log_space_needed(want, revoked) + j.jbd2_log_space_needed(0, 0) > free {
        return Ok(false);
    }
    if let Some(t) = j.j_running_transaction.as_mut() {
        t.t_outstanding_credits = want;
    }
    handle.h_buffer_credits += nblocks;
    Ok(true)
}

impl From<JournalError> for Ext4Error {
    fn from(e: JournalError) -> Self {
        Ext4Error::Journal(e)
    }
}

/// The hooks a commit calls: ordered data goes out before the commit block.
struct Ext4CommitHooks<'a> {
    pending: &'a mut BTreeMap<u64, PendingData>,
    block_size: u64,
    time: (u64, u32),
    written: u64,
}

impl CommitHooks for Ext4CommitHooks<'_> {
    /// `ext4_journal_submit_inode_data_buffers`: write the dirty data of
    /// the transaction's inodes (data=ordered), plus ordered data written
    /// with no inode known.
    fn jbd2_submit_inode_data(
        &mut self,
        dev: &mut dyn BlockDevice,
        _tid: Tid,
        inodes: &[u32],
    ) -> std::result::Result<(), JournalError> {
        let take: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| {
                p.mode == DataMode::Ordered && p.ino.is_none_or(|i| inodes.contains(&i))
            })
            .map(|(&b, _)| b)
            .collect();
        for b in take {
            if let Some(p) = self.pending.remove(&b) {
                dev.write_at(b * self.block_size, &p.data)?;
                self.written += 1;
            }
        }
        Ok(())
    }
    fn commit_time(&mut self, _tid: Tid) -> (u64, u32) {
        self.time
    }
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// Whether a journal is loaded (mounted with [`Ext4Fs::ext4_mount`]).
    pub fn is_journalled(&self) -> bool {
        self.s_journal.is_some()
    }

    /// The journal state, when journalled.
    pub fn ext4_journal(&self) -> Option<&Ext4Journal> {
        self.s_journal.as_deref()
    }

    /// The jbd2 journal itself (for the simulated kernel's commit thread).
    pub fn jbd2_journal_mut(&mut self) -> Option<&mut Journal> {
        self.s_journal.as_deref_mut().map(|j| &mut j.journal)
    }

    /// `ext4_inode_journal_mode`: data=journal at mount or the inode's
    /// `EXT4_JOURNAL_DATA_FL` journals its data; else the mount's mode.
    /// Without a journal: writeback.
    pub fn ext4_inode_journal_mode(&mut self, ino: u32) -> Result<DataMode> {
        let Some(mode) = self.s_journal.as_ref().map(|j| j.s_data_mode) else {
            return Ok(DataMode::Writeback);
        };
        if mode == DataMode::Journal {
            return Ok(mode);
        }
        let inode = self.ext4_iget(ino)?;
        if inode.is_reg() && inode.has_flag(EXT4_JOURNAL_DATA_FL) {
            return Ok(DataMode::Journal);
        }
        Ok(mode)
    }

    /// `ext4_should_journal_data`.
    pub fn ext4_should_journal_data(&mut self, ino: u32) -> Result<bool> {
        Ok(self.ext4_inode_journal_mode(ino)? == DataMode::Journal)
    }

    /// `ext4_journal_start(inode, type, nblocks)`: open a handle with
    /// `credits` on the running transaction (a no-op without a journal).
    /// `ino` is the inode whose data the handle writes, if any.
    /// A nested start takes a reference on the open handle (adding credits
    /// if needed). The synchronous engine never waits: a full transaction
    /// is committed, a full log checkpointed, then the start retried.
    ///
    /// Preconditions: no handle of another caller is open (one engine call
    /// at a time; the simulator models concurrent handles above this).
    pub fn ext4_journal_start(&mut self, ino: Option<u32>, credits: u32) -> Result<()> {
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        let credits = credits.clamp(1, j.journal.j_max_transaction_buffers);
        if j.h_implicit {
            self.ext4_journal_stop_implicit()?;
        }
        let mode = match ino {
            Some(i) => self.ext4_inode_journal_mode(i)?,
            None => self
                .s_journal
                .as_ref()
                .map_or(DataMode::Ordered, |j| j.s_data_mode),
        };
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        if let Some(h) = j.handle.as_mut() {
            j.h_ref += 1;
            if h.h_buffer_credits < credits {
                let more = credits - h.h_buffer_credits;
                if jbd2_journal_extend(&mut j.journal, h, more)? {
                    j.stats.handle_extends += 1;
                }
            }
            if j.h_ino.is_none() {
                j.h_ino = ino;
                j.h_mode = mode;
            }
            return Ok(());
        }
        let h = self.jbd2_start_waiting(credits)?;
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        j.handle = Some(h);
        j.h_ref = 1;
        j.h_implicit = false;
        j.h_ino = ino;
        j.h_mode = mode;
        j.stats.handles += 1;
        Ok(())
    }

    /// `jbd2_journal_start`, doing synchronously what a sleeper would wait
    /// for: commit a full transaction, checkpoint a full log.
    fn jbd2_start_waiting(&mut self, credits: u32) -> Result<Handle> {
        for _ in 0..8 {
            let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
            match j.journal.jbd2_journal_start(credits) {
                Ok(h) => return Ok(h),
                Err(JournalError::WouldBlock(BlockReason::TransactionFull { .. })) => {
                    self.jbd2_journal_commit_running()?;
                }
                Err(JournalError::WouldBlock(BlockReason::LogFull { .. })) => {
                    let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
                    if j.journal.j_checkpoint_transactions.is_empty() {
                        self.jbd2_journal_commit_running()?;
                    } else {
                        j.journal.jbd2_log_do_checkpoint(&mut self.dev)?;
                        j.stats.checkpoints += 1;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Ext4Error::Invalid(
            "jbd2_journal_start: no room after commit and checkpoint".into(),
        ))
    }

    /// `ext4_journal_stop`: drop a reference; the last one writes the dirty
    /// group descriptors into the transaction and stops the handle.
    pub fn ext4_journal_stop(&mut self) -> Result<()> {
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        if j.handle.is_none() || j.h_implicit {
            return Err(Ext4Error::Invalid(
                "ext4_journal_stop without a handle".into(),
            ));
        }
        j.h_ref = j.h_ref.saturating_sub(1);
        if j.h_ref > 0 {
            return Ok(());
        }
        self.ext4_jbd2_close_handle()
    }

    fn ext4_journal_stop_implicit(&mut self) -> Result<()> {
        match self.s_journal.as_deref() {
            Some(j) if j.h_implicit && j.handle.is_some() => self.ext4_jbd2_close_handle(),
            _ => Ok(()),
        }
    }

    fn ext4_jbd2_close_handle(&mut self) -> Result<()> {
        if !self.gd_dirty.is_empty() {
            self.flush_group_descs()?;
        }
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        j.h_implicit = false;
        j.h_ref = 0;
        j.h_ino = None;
        if let Some(h) = j.handle.take() {
            j.journal.jbd2_journal_stop(h)?;
        }
        Ok(())
    }

    /// Open an implicit handle when a modification arrives with none.
    fn ext4_jbd2_ensure_handle(&mut self) -> Result<()> {
        let Some(j) = self.s_journal.as_deref() else {
            return Ok(());
        };
        if j.handle.is_some() {
            return Ok(());
        }
        let h = self.jbd2_start_waiting(EXT4_DEFAULT_CREDITS)?;
        if let Some(j) = self.s_journal.as_deref_mut() {
            j.handle = Some(h);
            j.h_ref = 0;
            j.h_implicit = true;
            j.h_ino = None;
            j.h_mode = j.s_data_mode;
            j.stats.handles += 1;
        }
        Ok(())
    }

    /// Make sure the open handle has a credit for one more block: extend it,
    /// or (implicit handles only) restart it in a new transaction.
    fn ext4_jbd2_need_credit(&mut self, blk: u64) -> Result<()> {
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        let in_trans = j
            .journal
            .j_running_transaction
            .as_ref()
            .is_some_and(|t| t.buffer(blk).is_some());
        let Some(h) = j.handle.as_mut() else {
            return Ok(());
        };
        if in_trans || h.h_buffer_credits > 0 {
            return Ok(());
        }
        if jbd2_journal_extend(&mut j.journal, h, EXT4_DEFAULT_CREDITS.min(8))? {
            j.stats.handle_extends += 1;
            return Ok(());
        }
        if !j.h_implicit {
            return Err(JournalError::NoCredits {
                tid: h.h_transaction,
                blocknr: blk,
            }
            .into());
        }
        // jbd2_journal_restart of an implicit handle.
        self.ext4_jbd2_close_handle()?;
        self.jbd2_journal_commit_running()?;
        self.ext4_jbd2_ensure_handle()
    }

    /// `ext4_journal_get_write_access`: declare the intent to modify `blk`.
    pub fn ext4_journal_get_write_access(&mut self, blk: u64) -> Result<()> {
        if self.s_journal.is_none() {
            return Ok(());
        }
        self.ext4_jbd2_ensure_handle()?;
        let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
        if let Some(h) = j.handle.as_ref() {
            j.journal.jbd2_journal_get_write_access(h, blk)?;
        }
        Ok(())
    }

    /// A data block of an inode that journals its data, journalled as the
    /// kernel's `write_end_fn` does (`do_journal_get_write_access`, then
    /// `ext4_handle_dirty_metadata` on the page's buffer): the bytes join the
    /// running transaction whatever the mount's data mode (`chattr +j` on a
    /// data=ordered mount included), the commit writes them to the log and
    /// the checkpoint home; reads see them meanwhile. `data` is the whole
    /// block.
    pub fn ext4_journal_data_block(&mut self, pblk: u64, data: &[u8]) -> Result<()> {
        self.check_data_write(
            pblk,
            crate::engine::error::BlockMapCorruption::JournalledDataIntoMetadata,
        )?;
        let bs = self.block_size() as usize;
        if data.len() != bs {
            return Err(Ext4Error::Invalid(format!(
                "journalled data block {pblk}: {} bytes, not one block",
                data.len()
            )));
        }
        self.ext4_jbd2_journal_data(pblk, data.to_vec())
    }

    /// Journal one whole data block as the running transaction's (counted
    /// as journalled data): the common end of [`Ext4Fs::ext4_journal_data_block`]
    /// and of a data=journal write through `write_data_block`.
    fn ext4_jbd2_journal_data(&mut self, pblk: u64, full: Vec<u8>) -> Result<()> {
        let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
        j.stats.journalled_data_blocks += 1;
        self.ext4_jbd2_dirty_metadata(pblk, full)
    }

    /// jbd2 logs a journalled buffer as it is when the commit takes the
    /// transaction: the kernel's buffer is the page itself, so a store made
    /// after `write_end_fn` journalled the page is in the log if it came
    /// before the commit. `data` is the page now; the running transaction's
    /// copy of `blk`, if it has one, takes it, and so does the cached block
    /// the checkpoint writes home. Returns whether the transaction had it.
    pub fn jbd2_journalled_data_as_committed(&mut self, blk: u64, data: &[u8]) -> bool {
        let Some(j) = self.s_journal.as_deref_mut() else {
            return false;
        };
        let Some(t) = j.journal.j_running_transaction.as_mut() else {
            return false;
        };
        match t.buffer_mut(blk) {
            Some(b) if b.len() == data.len() => b.copy_from_slice(data),
            _ => return false,
        }
        if let Some(c) = self.cache.blocks.get_mut(&blk) {
            if c.data.len() == data.len() {
                c.data.copy_from_slice(data);
            }
        }
        true
    }

    /// The journalled half of `ext4_handle_dirty_metadata`: the block joins
    /// the running transaction (and stays dirty in the cache, so reads see
    /// it, until checkpoint writes it home).
    pub(crate) fn ext4_jbd2_dirty_metadata(&mut self, blk: u64, data: Vec<u8>) -> Result<()> {
        self.ext4_jbd2_ensure_handle()?;
        let busy = self.ext4_jbd2_note_frees(blk, &data)?;
        self.ext4_journal_get_write_access(blk)?;
        self.ext4_jbd2_need_credit(blk)?;
        let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
        let h = j
            .handle
            .as_mut()
            .ok_or_else(|| Ext4Error::Invalid("no handle".into()))?;
        // ext4_mb_free_metadata: new_entry->efd_tid = the transaction the
        // bitmap change is in (taken after a restart of an implicit handle).
        for b in busy {
            j.free_data.insert(b, h.h_transaction);
        }
        j.journal.jbd2_journal_dirty_metadata(h, blk, &data)?;
        j.logged.insert(blk);
        j.pending.remove(&blk);
        self.cache.insert_dirty(blk, data);
        self.dirtied.push(blk);
        Ok(())
    }

    /// Blocks whose bitmap bit goes from 1 to 0 in this new block bitmap
    /// were freed: revoke the journalled ones, drop their dirty data.
    /// Returns the freed blocks the allocator must not reuse before the
    /// commit (v4.0 fs/ext4/mballoc.c `ext4_free_blocks`: with a handle,
    /// metadata (`EXT4_FREE_BLOCKS_METADATA`) and the blocks of an inode
    /// not in data=writeback go to `ext4_mb_free_metadata` instead of back
    /// to the buddy). Simplification: the engine does not
    /// carry the caller's METADATA flag, so a block journalled since mount
    /// (an extent or indirect block, a directory block) stands for
    /// metadata; a metadata block not written since mount and freed in
    /// data=writeback is reusable at once here, in the kernel only after
    /// the commit. No scenario frees one in data=writeback.
    fn ext4_jbd2_note_frees(&mut self, blk: u64, new: &[u8]) -> Result<Vec<u64>> {
        let sb = &self.sb;
        let Some(group) = self.groups.iter().position(|d| d.block_bitmap(sb) == blk) else {
            return Ok(Vec::new());
        };
        let read;
        let old: &[u8] = match self.cache.blocks.get(&blk) {
            Some(b) => &b.data,
            None => {
                let mut b = vec![0u8; new.len()];
                self.dev.read_at(blk * new.len() as u64, &mut b)?;
                read = b;
                &read
            }
        };
        let first = super::balloc::group_first_block(&self.sb, group as u32);
        let nbits = super::balloc::blocks_in_group(&self.sb, group as u32);
        // Bits set in the old bitmap and clear in the new one, a byte at a
        // time (most updates set bits; a whole-group bit loop was 5% of an
        // exploration's time).
        let mut freed = Vec::new();
        let nbytes = (nbits as usize).div_ceil(8).min(old.len()).min(new.len());
        for (i, (&o, &n)) in old[..nbytes].iter().zip(&new[..nbytes]).enumerate() {
            let mut cleared = o & !n;
            while cleared != 0 {
                let bit = i as u32 * 8 + cleared.trailing_zeros();
                cleared &= cleared - 1;
                if bit < nbits {
                    freed.push(first + u64::from(bit));
                }
            }
        }
        // Decided before ext4_forget, which drops the blocks from `logged`.
        let busy: Vec<u64> = match self.s_journal.as_deref() {
            Some(j) => {
                let mode = if j.handle.is_some() {
                    j.h_mode
                } else {
                    j.s_data_mode
                };
                let data_waits = mode == DataMode::Journal
                    || (j.defer_data_frees && mode != DataMode::Writeback);
                freed
                    .iter()
                    .copied()
                    .filter(|b| data_waits || j.logged.contains(b))
                    .collect()
            }
            None => Vec::new(),
        };
        for b in freed {
            self.ext4_forget(b)?;
        }
        Ok(busy)
    }

    /// `ext4_forget` for a freed block: revoke it if it was journalled
    /// since mount, and drop any dirty data of it.
    pub fn ext4_forget(&mut self, blk: u64) -> Result<()> {
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        j.pending.remove(&blk);
        j.bdev_alias.remove(&blk);
        if j.logged.remove(&blk) {
            let h = j
                .handle
                .as_mut()
                .ok_or_else(|| Ext4Error::Invalid("revoke without a handle".into()))?;
            j.journal.jbd2_journal_revoke(h, blk)?;
            j.stats.revokes += 1;
        }
        Ok(())
    }

    /// The journalled half of `write_data_block`: data=journal logs the
    /// block; otherwise it stays dirty (pending) and the journal's copies of
    /// the same block, if any, see the new bytes (the kernel shares one
    /// buffer between the page cache and the journal).
    pub(crate) fn ext4_jbd2_write_data(&mut self, pblk: u64, data: &[u8]) -> Result<()> {
        let bs = self.block_size() as usize;
        let mut full = data.to_vec();
        if full.len() != bs {
            let mut cur = vec![0u8; bs];
            self.read_data_block(pblk, &mut cur)?;
            let n = data.len().min(bs);
            cur[..n].copy_from_slice(&data[..n]);
            full = cur;
        }
        let (mode, ino) = match self.s_journal.as_deref() {
            Some(j) if j.handle.is_some() => (j.h_mode, j.h_ino),
            Some(j) => (j.s_data_mode, None),
            None => return Err(Ext4Error::ReadOnly),
        };
        if mode == DataMode::Journal {
            return self.ext4_jbd2_journal_data(pblk, full);
        }
        // A data block written to the device at once is a bio's completion
        // (the simulated kernel's): it runs in no handle, and must not open
        // one (which would join or start a transaction behind the
        // simulator's back). Written later, it is filed in one.
        let direct = self
            .s_journal
            .as_deref()
            .is_some_and(|j| j.data_writes_direct);
        if !direct {
            self.ext4_jbd2_ensure_handle()?;
        }
        self.cache.forget(pblk);
        let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
        // The page's buffer and the journalled one are different buffers
        // when the journal holds the block device's alias of the block.
        let shared = !j.bdev_alias.contains(&pblk);
        for t in [
            j.journal.j_running_transaction.as_mut(),
            j.journal.j_committing_transaction.as_mut(),
        ]
        .into_iter()
        .flatten()
        .filter(|_| shared)
        {
            if let Some(b) = t.buffer_mut(pblk) {
                b.copy_from_slice(&full);
            }
        }
        for cp in j
            .journal
            .j_checkpoint_transactions
            .iter_mut()
            .filter(|_| shared)
        {
            if let Some(b) = cp.t_checkpoint_list.get_mut(&pblk) {
                b.copy_from_slice(&full);
            }
        }
        if j.data_writes_direct {
            let bs = u64::from(j.journal.j_blocksize);
            self.dev.write_at(pblk * bs, &full)?;
            return Ok(());
        }
        if mode == DataMode::Ordered {
            if let (Some(i), Some(h)) = (ino, j.handle.as_ref()) {
                j.journal.jbd2_journal_inode_ranged_write(h, i)?;
            }
        }
        j.pending.insert(
            pblk,
            PendingData {
                ino,
                mode,
                data: full,
            },
        );
        Ok(())
    }

    /// Dirty data of `pblk` not yet on disk, if any.
    pub(crate) fn ext4_jbd2_pending_data(&self, pblk: u64) -> Option<&[u8]> {
        self.s_journal
            .as_deref()
            .and_then(|j| j.pending.get(&pblk))
            .map(|p| p.data.as_slice())
    }

    /// `filemap_write_and_wait` (no flush): write the dirty data blocks of
    /// `ino` (all inodes when `None`; data=journal blocks are not here).
    /// Returns how many blocks were written.
    pub fn ext4_writeback_data(&mut self, ino: Option<u32>) -> Result<u64> {
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(0);
        };
        let take: Vec<u64> = j
            .pending
            .iter()
            .filter(|(_, p)| ino.is_none() || p.ino.is_none() || p.ino == ino)
            .map(|(&b, _)| b)
            .collect();
        let bs = u64::from(j.journal.j_blocksize);
        let mut n = 0;
        for b in take {
            if let Some(p) = j.pending.remove(&b) {
                self.dev.write_at(b * bs, &p.data)?;
                n += 1;
            }
        }
        j.stats.writeback_blocks_written += n;
        Ok(n)
    }

    /// Write INCOMPAT_RECOVER into the on-disk superblock (and flush) before
    /// the log first holds a live transaction.
    fn ext4_set_recover_on_disk(&mut self, on: bool) -> Result<()> {
        let Some(j) = self.s_journal.as_deref_mut() else {
            return Ok(());
        };
        if j.recover_on_disk == on {
            return Ok(());
        }
        j.recover_on_disk = on;
        if on {
            self.sb.s_feature_incompat |= INCOMPAT_RECOVER;
        } else {
            self.sb.s_feature_incompat &= !INCOMPAT_RECOVER;
        }
        self.ext4_commit_super()?;
        self.dev.flush()?;
        Ok(())
    }

    /// `ext4_commit_super`: write the primary superblock (not journalled).
    pub fn ext4_commit_super(&mut self) -> Result<()> {
        let raw = self.sb.to_bytes();
        self.dev.write_at(SUPERBLOCK_OFFSET, &raw)?;
        self.sb_dirty = false;
        Ok(())
    }

    /// `jbd2_journal_commit_transaction` of the running transaction, as the
    /// commit thread does it: an implicit handle is stopped first; ordered
    /// data goes out through the commit hook. `Ok(None)`: nothing to commit.
    ///
    /// Preconditions: no explicit handle open.
    pub fn jbd2_journal_commit_running(&mut self) -> Result<Option<CommitInfo>> {
        if self.jbd2_commit_start()?.is_none() {
            return Ok(None);
        }
        self.jbd2_commit_write().map(Some)
    }

    /// First half of a commit (`jbd2_journal_commit_transaction` up to
    /// T_FLUSH): stop an implicit handle, put the dirty group descriptors in,
    /// set INCOMPAT_RECOVER on disk, and make the running transaction the
    /// committing one, so later modifications go to the next transaction.
    /// Returns its tid, `None` when nothing runs.
    ///
    /// Preconditions: no explicit handle open; no commit half-done.
    pub fn jbd2_commit_start(&mut self) -> Result<Option<Tid>> {
        if self.s_journal.is_none() {
            return Ok(None);
        }
        self.ext4_journal_stop_implicit()?;
        if !self.gd_dirty.is_empty() {
            self.ext4_jbd2_ensure_handle()?;
            self.ext4_journal_stop_implicit()?;
        }
        let j = self.s_journal.as_deref().ok_or(Ext4Error::ReadOnly)?;
        if j.handle.is_some() {
            return Err(Ext4Error::Invalid("commit while a handle is open".into()));
        }
        if j.journal.j_running_transaction.is_none() {
            return Ok(None);
        }
        self.ext4_set_recover_on_disk(true)?;
        let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
        Ok(j.journal.jbd2_journal_commit_start()?)
    }

    /// Second half: write the committing transaction to the log (ordered
    /// data first through the hook), commit block, flushes.
    ///
    /// Preconditions: after [`Ext4Fs::jbd2_commit_start`] returned a tid.
    pub fn jbd2_commit_write(&mut self) -> Result<CommitInfo> {
        let time = (self.now.sec.max(0) as u64, self.now.nsec);
        let bs = u64::from(self.block_size());
        let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
        // Ordered data written with no inode known still goes first.
        let has_unowned = j
            .pending
            .values()
            .any(|p| p.mode == DataMode::Ordered && p.ino.is_none());
        if let Some(t) = j.journal.j_committing_transaction.as_mut() {
            if has_unowned && t.t_inode_list.is_empty() {
                t.t_inode_list.insert(0);
            }
        }
        let mut hooks = Ext4CommitHooks {
            pending: &mut j.pending,
            block_size: bs,
            time,
            written: 0,
        };
        let info = match j
            .journal
            .jbd2_journal_commit_write(&mut self.dev, &mut hooks)
        {
            Err(JournalError::NoSpace { .. }) => {
                j.journal.jbd2_log_checkpoint_all(&mut self.dev)?;
                j.journal
                    .jbd2_journal_commit_write(&mut self.dev, &mut hooks)?
            }
            r => r?,
        };
        j.stats.ordered_blocks_written += hooks.written;
        j.stats.commits += 1;
        // j_commit_callback -> ext4_free_data_callback: the blocks this
        // transaction (and any older one) freed may be allocated again.
        j.free_data.retain(|_, t| *t > info.tid);
        j.commits.push(info.clone());
        Ok(info)
    }

    /// The simulated kernel models the page cache: data writes go to the
    /// device at once (see [`Ext4Journal::data_writes_direct`]).
    pub fn ext4_jbd2_set_data_writes_direct(&mut self, on: bool) {
        if let Some(j) = self.s_journal.as_deref_mut() {
            j.data_writes_direct = on;
        }
    }

    /// `ext4_sync_file` (fsync): write the inode's dirty data, commit the
    /// running transaction and wait for it (the commit's flushes make both
    /// durable); with nothing to commit, flush the device.
    pub fn ext4_sync_file(&mut self, ino: u32) -> Result<()> {
        if self.s_journal.is_none() {
            return self.sync();
        }
        self.ext4_writeback_data(Some(ino))?;
        if self.jbd2_journal_commit_running()?.is_none() {
            self.dev.flush()?;
        }
        Ok(())
    }

    /// `ext4_sync_fs` + `jbd2_journal_flush` (what `sync` and unmount do
    /// here): write all dirty data, commit, checkpoint everything, mark the
    /// journal empty, clear INCOMPAT_RECOVER and write the superblock.
    pub fn ext4_sync_fs(&mut self) -> Result<()> {
        if self.s_journal.is_none() {
            return self.sync();
        }
        self.ext4_writeback_data(None)?;
        // Group descriptors and the superblock's counters go into the
        // transaction like any other metadata.
        self.ext4_prepare_sync()?;
        self.jbd2_journal_commit_running()?;
        let j = self.s_journal.as_deref_mut().ok_or(Ext4Error::ReadOnly)?;
        let n = j.journal.j_checkpoint_transactions.len() as u64;
        j.journal.jbd2_log_checkpoint_all(&mut self.dev)?;
        j.stats.checkpoints += n;
        if j.journal.j_superblock.s_start != 0 {
            j.journal.jbd2_mark_journal_empty(&mut self.dev)?;
        }
        for blk in self.cache.dirty_blocks() {
            self.cache.mark_clean(blk);
        }
        self.dirtied.clear();
        if let Some(j) = self.s_journal.as_deref_mut() {
            j.recover_on_disk = true; // force the write below
        }
        self.ext4_set_recover_on_disk(false)
    }

    /// Run `f` under one handle of `credits` (`ext4_journal_start` ..
    /// `ext4_journal_stop`), for an engine call that touches `ino`'s data.
    pub fn ext4_journalled<T>(
        &mut self,
        ino: Option<u32>,
        credits: u32,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.ext4_journal_start(ino, credits)?;
        let r = f(self);
        let s = self.ext4_journal_stop();
        let v = r?;
        s?;
        Ok(v)
    }

    /// `write(2)` through the journal: one handle per chunk of
    /// [`EXT4_WRITE_CHUNK_BLOCKS`] blocks, as write_begin/write_end do.
    pub fn ext4_file_write(&mut self, ino: u32, off: u64, data: &[u8]) -> Result<usize> {
        let bs = u64::from(self.block_size());
        let chunk = (EXT4_WRITE_CHUNK_BLOCKS * bs) as usize;
        let mut done = 0usize;
        if data.is_empty() {
            return Ok(0);
        }
        while done < data.len() {
            let pos = off + done as u64;
            // Align chunk ends to block boundaries.
            let room = chunk - (pos % bs) as usize;
            let n = room.min(data.len() - done);
            let credits = 2 * EXT4_WRITE_CHUNK_BLOCKS as u32 + 16;
            self.ext4_journalled(Some(ino), credits, |fs| {
                fs.write(ino, pos, &data[done..done + n])
            })?;
            done += n;
        }
        Ok(done)
    }

    /// The old inline-data conversion (`ext4_convert_inline_data_nolock`
    /// before the 2017 fix): the inline bytes are copied into a new block
    /// that is journalled as metadata, whatever the data mode. A later
    /// ordered overwrite of that block can be undone by replaying this
    /// copy (scenario S1, variant `jbd2-convert`).
    ///
    /// Preconditions: a handle is open (or one is opened implicitly);
    /// `i_rwsem` and `xattr_sem` held by the caller.
    pub fn ext4_convert_inline_data_nolock(&mut self, ino: u32) -> Result<()> {
        self.check_writable()?;
        let inode = self.ext4_iget(ino)?;
        if !inode.has_flag(EXT4_INLINE_DATA_FL) {
            return Ok(());
        }
        // v4.12 ext4_convert_inline_data_nolock: the whole inline area
        // (ext4_get_inline_size), whatever i_size says.
        let mut data = self.read_inline_area(ino)?;
        if inode.size() < data.len() as u64 {
            data.truncate(inode.size() as usize);
        }
        self.ext4_destroy_inline_data(ino)?;
        if data.is_empty() {
            return Ok(());
        }
        let mut inode = self.ext4_iget(ino)?;
        let res = self.ext4_map_blocks_inode(ino, &mut inode, 0, 1, MapFlags::CREATE)?;
        self.write_inode(ino, &inode)?;
        let pblk = res
            .m_pblk
            .ok_or_else(|| Ext4Error::Invalid("no block after allocation".into()))?;
        let mut blk = vec![0u8; self.block_size() as usize];
        blk[..data.len()].copy_from_slice(&data);
        // ext4_journal_get_create_access + ext4_handle_dirty_metadata, on
        // the block device's buffer of the block (sb_getblk).
        self.ext4_handle_dirty_metadata(pblk, blk)?;
        if let Some(j) = self.s_journal.as_deref_mut() {
            j.bdev_alias.insert(pblk);
        }
        Ok(())
    }
}
