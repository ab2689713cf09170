//! The ext4<->jbd2 glue in the simulated kernel: [`Jbd2JournalOps`]
//! replaces the core's sim-only journal with the engine's real one.
//!
//! - A handle is the simulator's `jbd2_handle` lock class
//!   ([`crate::sim::Journal::start`]): `jbd2_journal_start` waits while the
//!   running transaction is T_LOCKED. Engine calls are atomic in the
//!   simulation, so the engine's own handle is opened and closed inside
//!   each call (implicitly); the sim handle is what other tasks wait on.
//! - [`jbd2_journal_commit_transaction`] is the commit, run by kjournald2
//!   only: lock the transaction and wait for its handles (`t_updates` to
//!   0), capture it in the engine in the same step (`jbd2_commit_start`),
//!   then write ordered data, log blocks and commit block with one bio whose
//!   completion is its own event. fsync asks for it
//!   (`jbd2_log_start_commit`) and waits (`jbd2_log_wait_commit`).
//! - Every journalled filesystem has its kjournald2 (the runner spawns one
//!   when the scenario lists none, with no timer commits).
//! - [`ext4_fill_super`] mounts the scenario image with the journal
//!   (replaying it if needed) and data writes as bios.
//!
//! - fsync and `jbd2_journal_flush` ask kjournald2 for a commit
//!   (`j_commit_request`, woken on `j_wait_commit`) and wait for it; idle,
//!   kjournald2 does not keep the run alive ([`crate::sim::idle_wait`]).
//! - Before the log, the commit writes out and waits for the dirty pages of
//!   the data=ordered inodes filed on the transaction (`ei.jinode`,
//!   [`jbd2_journal_file_inode`]).
//! - [`crash_and_recover`] drops the page cache and remounts (journal
//!   replay) before the oracles read the disk.

use std::cell::Cell;
use std::rc::Rc;

use crate::engine::error::Ext4Error;
use crate::engine::fs::Ext4Fs;
use crate::engine::mount_opts::{DataMode, MountOptions};
use crate::scenario::history::KernelVersion;
use crate::scenario::RunConfig;
use crate::sim::{Handle, Location, WaitQueue};

use super::handle::{HandleType, JournalOps, KFuture};
use super::image::ScenarioImage;
use super::state::{Errno, Ext4InodeInfo, KResult, Kernel, SimDisk, JI_WAIT_DATA, JI_WRITE_DATA};

/// The engine's data mode for a scenario's `[mount] data`.
pub fn data_mode(rc: &RunConfig) -> DataMode {
    match rc.mount.data {
        crate::scenario::DataMode::Ordered => DataMode::Ordered,
        crate::scenario::DataMode::Writeback => DataMode::Writeback,
        crate::scenario::DataMode::Journal => DataMode::Journal,
    }
}

/// `ext4_fill_super` for one execution: restore the image and mount it;
/// with a journal, load it (replaying a dirty log) and let data writes go
/// to the device as the bios of the simulated page cache. The image mounts
/// once per set of options and each execution starts from a copy of that
/// mount ([`ScenarioImage::mount_with`]).
pub fn ext4_fill_super(img: &ScenarioImage, rc: &RunConfig) -> Result<Ext4Fs<SimDisk>, Ext4Error> {
    if !img.has_journal() {
        return img.mount_with(None, |dev| {
            Ext4Fs::open(dev, crate::engine::fs::OpenOptions::default())
        });
    }
    let params = mount_params(rc);
    img.mount_with(Some(params), |dev| ext4_mount_sim(dev, params))
}

/// What [`ext4_mount_sim`] takes from the run configuration (and so what a
/// kept mount depends on besides the image, `image::MountKey`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MountParams {
    /// `data=` of the mount.
    pub data_mode: DataMode,
    /// Freed data blocks wait for their transaction's commit
    /// ([`FREED_DATA_AFTER_COMMIT`]).
    pub defer_data_frees: bool,
}

/// The mount parameters of a run configuration.
pub fn mount_params(rc: &RunConfig) -> MountParams {
    MountParams {
        data_mode: data_mode(rc),
        defer_data_frees: rc.kernel >= FREED_DATA_AFTER_COMMIT,
    }
}

/// The first release this model says keeps a freed *data* block from
/// reuse until the freeing transaction commits. v2.6.30 fs/ext4/balloc.c
/// `ext4_free_blocks` sets `metadata = 1` for a data block unless
/// `ext4_should_writeback_data(inode)`, so `ext4_mb_free_blocks` puts it
/// on the commit's free list (`ext4_mb_free_metadata`) instead of the
/// buddy; v4.0 and later (fs/ext4/mballoc.c `ext4_free_blocks`) say the
/// same with `EXT4_FREE_BLOCKS_METADATA`. v2.6.25's `ext4_free_blocks`
/// does it only for directories, symlinks and data=journal inodes, so a
/// regular file's data block is reusable at once there. The commit between
/// the two is not pinned here; no scenario runs a kernel between them.
pub const FREED_DATA_AFTER_COMMIT: KernelVersion = KernelVersion {
    major: 2,
    minor: 6,
    sub: 30,
    rc: None,
};

fn ext4_mount_sim(
    dev: SimDisk,
    MountParams {
        data_mode,
        defer_data_frees,
    }: MountParams,
) -> Result<Ext4Fs<SimDisk>, Ext4Error> {
    let opts = MountOptions {
        data: Some(data_mode),
        ..MountOptions::default()
    };
    let (mut fs, _report) = Ext4Fs::ext4_mount(dev, &opts)?;
    fs.ext4_jbd2_set_data_writes_direct(true);
    if let Some(j) = fs.s_journal.as_deref_mut() {
        j.defer_data_frees = defer_data_frees;
    }
    Ok(fs)
}

/// Install the glue on a kernel whose filesystem has a journal. Call
/// inside an execution (it creates sim objects).
pub fn jbd2_install(k: &Kernel) {
    if k.fs.borrow().is_journalled() {
        *k.jops.borrow_mut() = Rc::new(Jbd2JournalOps {
            j_commit_request: Cell::new(0),
            j_commit_request_loc: Location::new("j_commit_request"),
            j_wait_commit: WaitQueue::new("j_wait_commit"),
        });
    }
}

/// The glue's [`JournalOps`], with the part of `journal_t` that asks
/// kjournald2 for commits.
pub struct Jbd2JournalOps {
    /// `journal->j_commit_request`: the newest tid someone asked to commit
    /// (0: none). Read and written with `j_commit_request_loc`'s accesses.
    pub j_commit_request: Cell<u32>,
    /// Announces changes and reads of `j_commit_request` (both under
    /// `j_state_lock` in the kernel): kjournald2's check at the top of its
    /// loop reads it without touching `j_wait_commit`, so without this
    /// access a request made just before the check and one made just after
    /// looked alike to the reduction (found by `ext4lab explore
    /// --check-steps` on S4).
    pub j_commit_request_loc: Location,
    /// `journal->j_wait_commit`: kjournald2 sleeps here for work.
    pub j_wait_commit: WaitQueue,
}

impl Jbd2JournalOps {
    /// Whether a commit was asked for and not done yet.
    fn commit_pending(&self, k: &Kernel) -> bool {
        self.j_commit_request_loc.note_read();
        let r = self.j_commit_request.get();
        r != 0 && tid_gt(r, k.journal.read_commit_sequence())
    }
}

/// `tid_gt` (include/linux/jbd2.h): wrapping comparison of tids.
fn tid_gt(x: u32, y: u32) -> bool {
    (x.wrapping_sub(y) as i32) > 0
}

impl JournalOps for Jbd2JournalOps {
    fn start<'a>(
        &'a self,
        k: &'a Kernel,
        _ei: &'a Ext4InodeInfo,
        _ht: HandleType,
        _credits: u32,
    ) -> KFuture<'a, KResult<Handle>> {
        Box::pin(async move {
            let _f = crate::kfn!("jbd2__journal_start");
            Ok(k.journal.start().await)
        })
    }
    fn start_reserved<'a>(&'a self, k: &'a Kernel, _ht: HandleType) -> KFuture<'a, Option<Handle>> {
        Box::pin(async move {
            let _f = crate::kfn!("jbd2_journal_start_reserved");
            k.journal.start_reserved().await
        })
    }
    fn stop(&self, _k: &Kernel, handle: Handle) {
        let _f = crate::kfn!("jbd2_journal_stop");
        handle.stop();
    }
    /// v4.13 fs/jbd2/journal.c `jbd2_complete_transaction` /
    /// `jbd2_journal_force_commit`: `jbd2_log_start_commit` (set
    /// `j_commit_request`, wake kjournald2) and `jbd2_log_wait_commit`. The
    /// commit runs in kjournald2, so a wait-for cycle through a commit names
    /// kjournald2. Simplification: the transaction to commit is the running
    /// one (the kernel commits `ei->i_sync_tid`, the inode's last
    /// transaction, which is the running one or an older, committing or
    /// committed one): at most one commit more than the kernel would wait
    /// for, and a commit only waits for handles, which the kernel's own
    /// commit of that transaction would wait for too.
    fn fsync_commit<'a>(
        &'a self,
        k: &'a Kernel,
        _ei: &'a Ext4InodeInfo,
    ) -> KFuture<'a, KResult<()>> {
        Box::pin(async move {
            let _f = crate::kfn!("jbd2_complete_transaction");
            let tid = k.journal.running_tid_at().await;
            {
                let _s = crate::kfn!("jbd2_log_start_commit");
                if self.j_commit_request.get() == 0 || tid_gt(tid, self.j_commit_request.get()) {
                    self.j_commit_request.set(tid);
                    self.j_commit_request_loc.note_write();
                }
                self.j_wait_commit.wake_up();
            }
            let _w = crate::kfn!("jbd2_log_wait_commit");
            k.journal.wait_commit(tid).await;
            Ok(())
        })
    }
    /// v4.13 fs/jbd2/journal.c `kjournald2`: commit when asked
    /// (`j_commit_request`), or when the commit timer fires (`commits`
    /// times at most, at any point the scheduler picks), else sleep on
    /// `j_wait_commit`. Idle, it does not keep the run alive.
    fn kjournald2<'a>(&'a self, k: &'a Kernel, commits: u32) -> KFuture<'a, ()> {
        Box::pin(async move {
            let mut timer = commits;
            loop {
                if self.commit_pending(k) {
                    let _ = jbd2_journal_commit_transaction(k).await;
                    continue;
                }
                if timer > 0 {
                    timer -= 1;
                    let _ = jbd2_journal_commit_transaction(k).await;
                    continue;
                }
                crate::sim::idle_wait(self.j_wait_commit, || self.commit_pending(k)).await;
            }
        })
    }
}

/// v4.13 fs/jbd2/commit.c `jbd2_journal_commit_transaction` (kjournald2
/// only): lock the running transaction (T_LOCKED) and wait for its handles
/// (`t_updates` to 0), capture it in the engine in the same step
/// (`jbd2_commit_start`); write out the data of the inodes on its
/// ordered-data list ([`journal_submit_data_buffers`]) and wait for it
/// ([`journal_finish_inode_data_buffers`]); then the log blocks and the
/// commit block, with one bio; returns its tid once the commit block is on
/// disk.
/// Simplification: the kernel submits the log blocks before it waits for
/// the data and writes the commit record after; the model waits first and
/// writes log blocks and commit record together. A crash between the log
/// blocks and the commit record replays nothing of the transaction, so the
/// states a crash can leave are the same.
///
/// Preconditions: the current task holds no handle (it would wait for
/// itself: the deadlock oracle reports it).
pub async fn jbd2_journal_commit_transaction(k: &Kernel) -> KResult<u32> {
    let _f = crate::kfn!("jbd2_journal_commit_transaction");
    // T_LOCKED, wait for t_updates == 0, next transaction opens.
    let tid = k.journal.commit().await;
    // In the same step: the engine's transaction becomes the committing one,
    // its journalled data as the pages hold it now.
    journalled_data_as_committed(k);
    let started = k.fs.borrow_mut().jbd2_commit_start();
    // data=ordered: the inodes' data before the commit record.
    let ordered = journal_submit_data_buffers(k, tid).await;
    journal_finish_inode_data_buffers(k, tid, &ordered).await;
    let r = match started {
        Err(e) => Err(k.engine_error("jbd2_journal_commit_transaction", e)),
        Ok(None) => Ok(()),
        Ok(Some(_)) => {
            // Ordered data, log blocks, commit block: one bio.
            let Some(kk) = k.me() else {
                k.journal.commit_done(tid);
                return Err(Errno::EIO);
            };
            let head = k.fs.borrow().ext4_journal().map_or(0, |j| j.journal.j_head);
            let (_, done) = crate::sim::submit_bio(u64::from(head), true, move || {
                let r = kk.fs.borrow_mut().jbd2_commit_write();
                if let Err(e) = r {
                    kk.engine_error("jbd2_journal_commit_transaction", e);
                }
            });
            done.wait().await;
            Ok(())
        }
    };
    k.journal.commit_done(tid);
    r.map(|()| tid)
}

/// The first release this model runs the inode-based data=ordered mode
/// for: the commit writes out the data of the inodes on the transaction's
/// list (`journal_submit_data_buffers`). Jan Kara's c851ed540173 ("jbd2:
/// Implement data=ordered mode handling via inodes") and the ext4 side
/// (678aaf481496) were merged for v2.6.27 (`git describe --contains`:
/// v2.6.27~1837); before, ordered data went on per-buffer lists
/// (`jbd2_journal_dirty_data`), which the model does not have: the
/// 2.6.25 scenario (S3) has no crash, and its writeback is
/// `generic_writepages_2008`.
pub const ORDERED_BY_INODE: KernelVersion = KernelVersion {
    major: 2,
    minor: 6,
    sub: 27,
    rc: Some(1),
};

/// The first release with `JI_WAIT_DATA` (`ext4_jbd2_inode_add_wait`,
/// 41617e1a8dec "jbd2: add support for avoiding data writes during
/// transaction commits" and its ext4 half, v4.7): a
/// block allocated by writeback for pages it is about to submit
/// (`EXT4_GET_BLOCKS_IO_SUBMIT`) only makes the commit wait for them;
/// before, such an inode was filed to be written out like any other.
pub const ORDERED_ADD_WAIT: KernelVersion = KernelVersion {
    major: 4,
    minor: 7,
    sub: 0,
    rc: None,
};

/// The first release this model files an inode on the transaction from
/// `ext4_map_blocks` when it allocates a written block, and no longer from
/// `ext4_write_end`: Jan Kara's 06bd3c36a733 ("ext4: fix data exposure
/// after a crash"). The v4.4.1 tree files from `ext4_write_end` (and
/// `__ext4_block_zero_page_range`); the v4.6.2 tree from `ext4_map_blocks`
/// (with `ext4_jbd2_file_inode`, no `_add_wait` yet). No built-in runs a
/// v4.5 or v4.6 kernel, so which of the two first had it cannot move a
/// verdict; the model takes v4.6.
pub const ORDERED_FILE_ON_MAP: KernelVersion = KernelVersion {
    major: 4,
    minor: 6,
    sub: 0,
    rc: None,
};

/// v4.13 fs/ext4/inode.c `ext4_map_blocks`, its tail: "Inodes with freshly
/// allocated blocks where contents will be visible after transaction
/// commit must be on transaction's ordered data list": a new written
/// block (`EXT4_MAP_NEW`, not `EXT4_MAP_UNWRITTEN`) of an inode that
/// orders its data files the inode with `ext4_jbd2_inode_add_wait` when
/// writeback maps it (`EXT4_GET_BLOCKS_IO_SUBMIT`), else with
/// `ext4_jbd2_inode_add_write`. From [`ORDERED_FILE_ON_MAP`] only: before
/// (v4.4, S6 and S7) `ext4_map_blocks` files nothing, and a delalloc
/// block allocated by writeback can commit before its data is written
/// (the exposure 06bd3c36a733 fixed); nodelalloc writes are filed by
/// [`ext4_write_end_file_inode`].
pub async fn ext4_map_blocks_file_inode(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    m: &crate::engine::map::MapResult,
    flags: crate::engine::map::MapFlags,
) {
    if k.version() < ORDERED_FILE_ON_MAP
        || !m.new
        || m.unwritten
        || m.m_pblk.is_none()
        || !ext4_should_order_data(k, ei)
    {
        return;
    }
    let io_submit = flags.contains(crate::engine::map::MapFlags::IO_SUBMIT);
    let f = if io_submit && k.version() >= ORDERED_ADD_WAIT {
        JI_WAIT_DATA
    } else {
        JI_WRITE_DATA | JI_WAIT_DATA
    };
    jbd2_journal_file_inode(k, ei, f).await;
}

/// v4.4 fs/ext4/inode.c `ext4_write_end`, its head: "if
/// (ext4_test_inode_state(inode, EXT4_STATE_ORDERED_MODE)) ret =
/// ext4_jbd2_file_inode(handle, inode)": every nodelalloc write of an
/// inode that orders its data (`ext4_set_aops` sets ORDERED_MODE under the
/// same conditions as [`ext4_should_order_data`]) puts the inode on the
/// handle's transaction, new block or not. Before [`ORDERED_FILE_ON_MAP`]
/// only; from it, `ext4_map_blocks` files instead
/// ([`ext4_map_blocks_file_inode`]).
/// Simplification: `__ext4_block_zero_page_range` files the same way in
/// every version; the model's partial-block zeroing writes the engine's
/// blocks directly, so there is no page for a commit to write out.
pub async fn ext4_write_end_file_inode(k: &Kernel, ei: &Ext4InodeInfo) {
    if k.version() < ORDERED_FILE_ON_MAP && ext4_should_order_data(k, ei) {
        jbd2_journal_file_inode(k, ei, JI_WRITE_DATA | JI_WAIT_DATA).await;
    }
}

/// v4.13 fs/ext4/ext4_jbd2.h `ext4_should_order_data`: a journal, a
/// regular file not journalling its data, a data=ordered mount, on a
/// kernel with the inode-based ordered mode ([`ORDERED_BY_INODE`]).
pub fn ext4_should_order_data(k: &Kernel, ei: &Ext4InodeInfo) -> bool {
    k.version() >= ORDERED_BY_INODE
        && k.fs.borrow().is_journalled()
        && k.rc.mount.data == crate::scenario::DataMode::Ordered
        && !super::inode_ops::ext4_should_journal_data(k, ei)
}

/// v4.13 fs/jbd2/transaction.c `jbd2_journal_file_inode` (through
/// `jbd2_journal_inode_add_write` / `_add_wait`): under `j_list_lock`,
/// add `flags` to the jinode and put it on the list of the transaction
/// the current handle belongs to: `i_transaction`, or, while it is on the
/// committing transaction's list, `i_next_transaction`. No handle, no
/// filing (the kernel's callers always hold one).
/// Simplification: the kernel first checks without the lock whether the
/// inode is already there with those flags; the model always takes the
/// lock's access (one scheduling point either way).
pub async fn jbd2_journal_file_inode(k: &Kernel, ei: &Ext4InodeInfo, flags: u8) {
    let Some(tid) = k.journal.current_handle_tid() else {
        return;
    };
    let _f = crate::kfn!("jbd2_journal_file_inode");
    k.j_list_loc.write().await;
    let mut j = ei.jinode.borrow_mut();
    j.i_flags |= flags;
    if j.i_transaction == Some(tid) || j.i_next_transaction == Some(tid) {
        return;
    }
    if j.i_transaction.is_some() {
        j.i_next_transaction = Some(tid);
    } else {
        j.i_transaction = Some(tid);
    }
}

/// v4.13 fs/ext4/ext4.h `ext4_begin_ordered_truncate` -> fs/jbd2/
/// transaction.c `jbd2_journal_begin_ordered_truncate`: when the inode is
/// on the committing transaction's ordered-data list (read under
/// `j_list_lock`), write out its pages from `new_size` on
/// (`filemap_fdatawrite_range`, WB_SYNC_ALL, no wait) before truncate
/// drops them, so the commit that allocated their blocks does not commit
/// without their data. Precondition: `i_rwsem` held, no handle.
pub async fn jbd2_journal_begin_ordered_truncate(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    new_size: u64,
) -> KResult<()> {
    let _f = crate::kfn!("jbd2_journal_begin_ordered_truncate");
    k.j_list_loc.read().await;
    let inode_trans = ei.jinode.borrow().i_transaction;
    if inode_trans.is_none() || inode_trans != k.journal.committing_tid() {
        return Ok(());
    }
    super::writeback::ext4_writepages(k, ei, new_size, u64::MAX / 2, true).await
}

/// v4.13 fs/jbd2/commit.c `journal_submit_data_buffers`: for each inode
/// on the committing transaction's list with `JI_WRITE_DATA`,
/// [`journal_submit_inode_data_buffers`]. Returns the list (the inodes
/// filed on transaction `tid`).
async fn journal_submit_data_buffers(k: &Kernel, tid: u32) -> Vec<String> {
    if !k.fs.borrow().is_journalled() || k.version() < ORDERED_BY_INODE {
        return Vec::new();
    }
    k.j_list_loc.read().await;
    let list: Vec<String> = k
        .inodes
        .iter()
        .filter(|(_, ei)| ei.jinode.borrow().i_transaction == Some(tid))
        .map(|(n, _)| n.clone())
        .collect();
    for name in &list {
        let ei = &k.inodes[name];
        if ei.jinode.borrow().i_flags & JI_WRITE_DATA != 0 {
            journal_submit_inode_data_buffers(k, ei).await;
        }
    }
    list
}

/// v4.13 fs/jbd2/commit.c `journal_submit_inode_data_buffers`:
/// `generic_writepages` with WB_SYNC_ALL over `[0, i_size]`
/// (`write_cache_pages`: each dirty page locked, one already under
/// writeback waited for) with ext4's `ext4_writepage`, which writes a page
/// whose buffer is mapped and neither delayed nor unwritten
/// (`ext4_bio_write_page`: `PG_writeback`, the bio) and redirties the
/// others ("We cannot do block allocation or other extent handling in
/// this function"). No handle: the commit must not wait for its own
/// transaction.
/// Simplifications: one page per block (4 KiB blocks, as every scenario
/// image has), so a page is written whole or not at all.
async fn journal_submit_inode_data_buffers(k: &Kernel, ei: &Ext4InodeInfo) {
    let _f = crate::kfn!("journal_submit_inode_data_buffers");
    let size = ei.i_size();
    if size == 0 {
        return;
    }
    let last = (size - 1) / super::pagecache::PAGE_SIZE;
    ei.mapping.i_pages_loc.read().await;
    for (idx, page) in ei.mapping.dirty_pages(0, last) {
        if !super::writeback::write_cache_pages_lock(ei, idx, page, true).await {
            continue;
        };
        let _w = crate::kfn!("ext4_writepage");
        let writable = ei
            .mapping
            .with_page(idx, |ps| {
                ps.bh.b_blocknr.is_some() && !ps.bh.delay && !ps.bh.unwritten
            })
            .unwrap_or(false);
        if writable {
            super::writeback::ext4_bio_write_page(k, ei, idx, page);
        }
        page.unlock();
    }
}

/// v4.13 fs/jbd2/commit.c `journal_finish_inode_data_buffers`: for each
/// inode on the list with `JI_WAIT_DATA`, wait for its pages under
/// writeback (`filemap_fdatawait`), then, under `j_list_lock`, move each
/// inode to its `i_next_transaction` (or off every list).
async fn journal_finish_inode_data_buffers(k: &Kernel, tid: u32, list: &[String]) {
    if list.is_empty() {
        return;
    }
    let _f = crate::kfn!("journal_finish_inode_data_buffers");
    for name in list {
        let ei = &k.inodes[name];
        if ei.jinode.borrow().i_flags & JI_WAIT_DATA != 0 {
            super::writeback::filemap_fdatawait_range(ei, 0, u64::MAX / 2).await;
        }
    }
    k.j_list_loc.write().await;
    for name in list {
        let mut j = k.inodes[name].jinode.borrow_mut();
        if j.i_transaction == Some(tid) {
            j.i_transaction = j.i_next_transaction.take();
        }
    }
}

/// The journalled data buffers of the transaction being committed, as the
/// commit writes them (v5.5 fs/jbd2/commit.c and journal.c: the commit's
/// `jbd2_journal_write_metadata_buffer`
/// copies `bh->b_data` when it logs the buffer, and a journalled data
/// buffer's data is the page): every cached page of an inode that journals
/// its data gives its current bytes to its block's copy in the running
/// transaction, if there is one. Simplification: the frozen copy jbd2 takes
/// when a buffer of the committing transaction is written to again is not
/// needed, as the model's commit takes the transaction in one step.
fn journalled_data_as_committed(k: &Kernel) {
    let data_journal = k.rc.mount.data == crate::scenario::DataMode::Journal;
    for ei in k.inodes.values() {
        // the inode's EXT4_JOURNAL_DATA_FL (chattr +j) and its page cache
        // are read here without their locks
        if !data_journal {
            ei.i_flags_loc.note_read();
        }
        if !super::inode_ops::ext4_should_journal_data(k, ei) {
            continue;
        }
        ei.mapping.i_pages_loc.note_read();
        for idx in ei.mapping.cached_pages(0, u64::MAX) {
            let Some((pblk, data, prov)) = ei.mapping.page_block_contents(idx) else {
                continue;
            };
            if k.fs
                .borrow_mut()
                .jbd2_journalled_data_as_committed(pblk, &data)
            {
                k.log.borrow_mut().set_block_prov(pblk, prov);
            }
        }
    }
}

/// The crash: everything volatile is gone (page cache, in-flight bios, the
/// engine's cached metadata and running transaction); the disk keeps what
/// was written. Then the filesystem is mounted again, which replays the
/// journal (`ext4_load_journal`). The oracles then read the recovered disk.
pub fn crash_and_recover(k: &Kernel) {
    for ei in k.inodes.values() {
        ei.mapping.pages.borrow_mut().clear();
    }
    let journalled = k.fs.borrow().is_journalled();
    let dev = k.fs.borrow_mut().device().clone();
    let mounted = if journalled {
        ext4_mount_sim(dev, mount_params(&k.rc))
    } else {
        Ext4Fs::open(dev, crate::engine::fs::OpenOptions::default())
    };
    match mounted {
        Ok(mut fs) => {
            let replayed = fs
                .ext4_journal()
                .and_then(|j| j.recovery.as_ref())
                .map_or(0, |r| r.transactions_replayed);
            // ext4_fill_super -> ext4_orphan_cleanup: finish the truncates
            // the crash interrupted.
            let orphans = fs.ext4_orphan_cleanup();
            *k.fs.borrow_mut() = fs;
            match orphans {
                Ok(0) => crate::sim::note(format!(
                    "crash: page cache dropped, journal recovery replayed {replayed} transaction(s)"
                )),
                Ok(n) => crate::sim::note(format!(
                    "crash: page cache dropped, journal recovery replayed {replayed} transaction(s), orphan cleanup truncated {n} inode(s)"
                )),
                Err(e) => {
                    k.engine_error("ext4_orphan_cleanup", e);
                }
            }
        }
        Err(e) => {
            k.engine_error("ext4_load_journal", e);
        }
    }
}

/// v4.13 fs/jbd2/journal.c `jbd2_journal_flush`: commit the running
/// transaction (`__jbd2_log_start_commit` + `jbd2_log_wait_commit`), then
/// checkpoint the whole log and mark it empty.
///
/// Simplification: the checkpoint is not written here (the engine's
/// committed blocks stay in the log until its own checkpoint): the disk
/// after a crash replays to the same blocks, and no task can observe the
/// difference without a crash, which no row that flushes (S4's `chattr
/// -j`) has.
///
/// Precondition: the caller holds no handle (`jbd2_journal_lock_updates`
/// held is fine: the commit waits only for `t_updates`).
pub async fn jbd2_journal_flush(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("jbd2_journal_flush");
    let ops = k.jops.borrow().clone();
    ops.fsync_commit(k, ei).await
}
