//! Inode operations over the engine: `ext4_map_blocks` with its locking,
//! fsync, sync, truncate, fallocate and punch hole.
//!
//! [`ext4_map_blocks`] looks blocks up under `i_data_sem` read-locked and
//! allocates under it write-locked.

use crate::engine::map::{MapFlags, MapResult};
use crate::engine::Ext4Fs;
use crate::scenario::history::{Change, KernelVersion};

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::pagecache::PAGE_SIZE;
use super::state::{
    inode_lock, inode_unlock, Errno, Ext4InodeInfo, KResult, Kernel, EXT4_EXT_MIGRATE, S_DAX,
};
use super::writeback::{
    filemap_write_and_wait_range, invalidate_inode_pages2_range, truncate_pagecache_range,
};

/// `ext4_map_blocks(handle, inode, map, flags)` for one block, locked as
/// v5.5 fs/ext4/inode.c `ext4_map_blocks` and 2.6.25 fs/ext4/inode.c
/// `ext4_get_blocks_wrap` both do: look the block up under `i_data_sem`
/// (read); return for a lookup (no `EXT4_GET_BLOCKS_CREATE`) or a block
/// already mapped (written); only then take `i_data_sem` (write) and call
/// the mapper with the caller's flags (allocate, or convert an unwritten
/// extent). Records which task allocated a new block.
///
/// The 2008 migrate flag is cleared only on the allocating path, as the
/// patches put it: 267e4db9ac28 (v2.6.26-rc1) in the indirect branch when
/// the mapper allocated (`retval > 0 && buffer_new(bh)`); Aneesh's first
/// posting (PQ@36c86f09 ext4-migration-locking-fix.patch) after either
/// branch whenever `retval > 0`.
///
/// Simplifications: no extent status tree (v5.5 looks there first, with no
/// lock; the model always takes `i_data_sem` (read) for the lookup, an
/// extra shared acquisition that cannot block a reader or create a
/// dependency a writer of the map does not already have); one block per
/// call ([`ext4_map_blocks_lookup`] is the lookup of a range).
/// Precondition: `i_data_sem` not held by the caller.
pub async fn ext4_map_blocks(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    lblk: u32,
    flags: MapFlags,
) -> KResult<MapResult> {
    let _f = crate::kfn!("ext4_map_blocks");
    // Try to see if we can get the block without requesting a new
    // file system block.
    let r = map_lookup(k, ei, lblk, 1).await?;
    // If it is only a block(s) look up
    if !flags.contains(MapFlags::CREATE) {
        return Ok(r);
    }
    // Returns if the blocks have already allocated
    if r.m_pblk.is_some() && !r.unwritten {
        return Ok(r);
    }
    // New blocks allocate and/or writing to unwritten extent will possibly
    // result in updating i_data, so we take the write lock of i_data_sem.
    ei.i_data_sem.down_write().await;
    k.balloc_loc.write().await;
    ei.i_data_loc.write().await;
    let r = map_locked(k, ei, lblk, flags);
    if let Ok(m) = &r {
        let indirect = !ei.test_flag(crate::engine::inode::EXT4_EXTENTS_FL);
        let clear = (k.applied(Change::MigrateVsMmapWrite) && indirect && m.new)
            || (k.applied(Change::AneeshMigrateFlagRetval) && m.m_pblk.is_some());
        if clear {
            // We allocated new blocks which will result in i_data's format
            // changing. Force the migrate to fail by clearing migrate flags
            ei.mem.borrow_mut().i_flags &= !EXT4_EXT_MIGRATE;
        }
    }
    ei.i_data_sem.up_write();
    if let Ok(m) = &r {
        super::jbd2::ext4_map_blocks_file_inode(k, ei, m, flags).await;
    }
    r
}

/// `ext4_map_blocks` without `EXT4_GET_BLOCKS_CREATE` for `map->m_len =
/// len` blocks from `lblk` (v5.5 fs/ext4/inode.c, the lookup half of
/// [`ext4_map_blocks`], as `ext4_iomap_begin` calls it for a direct read):
/// under `i_data_sem` (read), the extent (or indirect) mapper returns how
/// many blocks from `lblk` are mapped contiguously, or how long the hole
/// is, at most `len`. Same simplifications as [`ext4_map_blocks`].
pub async fn ext4_map_blocks_lookup(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    lblk: u32,
    len: u32,
) -> KResult<MapResult> {
    let _f = crate::kfn!("ext4_map_blocks");
    let mut r = map_lookup(k, ei, lblk, len.max(1)).await?;
    r.m_len = r.m_len.clamp(1, len.max(1));
    Ok(r)
}

/// The lookup both start with: the mapper under `i_data_sem` (read).
async fn map_lookup(k: &Kernel, ei: &Ext4InodeInfo, lblk: u32, len: u32) -> KResult<MapResult> {
    ei.i_data_sem.down_read().await;
    let r = map_locked_len(k, ei, lblk, len, MapFlags::empty());
    ei.i_data_sem.up_read();
    r
}

/// The body of [`ext4_map_blocks`] for one block.
pub fn map_locked(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    lblk: u32,
    flags: MapFlags,
) -> KResult<MapResult> {
    map_locked_len(k, ei, lblk, 1, flags)
}

/// The body of [`ext4_map_blocks`]: the engine's `ext4_ext_map_blocks` /
/// `ext4_ind_map_blocks` on the in-memory inode for up to `len` blocks.
/// Precondition: `i_data_sem` held (write when `flags` is not empty).
fn map_locked_len(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    lblk: u32,
    len: u32,
    flags: MapFlags,
) -> KResult<MapResult> {
    let mut raw = {
        let m = ei.mem.borrow();
        let mut raw = m.raw.clone();
        raw.i_flags = m.i_flags & !EXT4_EXT_MIGRATE;
        raw
    };
    let before = raw.clone();
    let r =
        k.fs.borrow_mut()
            .ext4_map_blocks_inode(ei.ino, &mut raw, lblk, len, flags)
            .map_err(|e| k.engine_error("ext4_map_blocks", e))?;
    let changed = raw != before;
    {
        // The engine maps by the in-memory flags (`EXT4_EXTENTS_FL`); the
        // in-memory copy of the on-disk inode keeps its own, which
        // `ext4_mark_inode_dirty` replaces when it writes the inode. A
        // lookup that stored the flags there would change the copy by
        // whatever flag another task just set, with no access to it.
        let mut m = ei.mem.borrow_mut();
        raw.i_flags = m.raw.i_flags;
        m.raw = raw;
    }
    if r.new {
        if let Some(p) = r.m_pblk {
            k.log
                .borrow_mut()
                .alloc_by
                .insert(p, crate::sim::current_task_name());
        }
    }
    if changed {
        k.ext4_mark_inode_dirty(ei)?;
    }
    Ok(r)
}

/// fsync(2): v4.13 fs/ext4/fsync.c `ext4_sync_file`:
/// `file_write_and_wait_range` first (for every data mode: a dirty page of
/// a journal-data inode goes out through `ext4_writepages`' journalled
/// branch), then `ext4_force_commit` for a journal-data inode or
/// `jbd2_complete_transaction` otherwise (both: the glue's
/// [`super::handle::JournalOps::fsync_commit`]). Every write completed
/// before the call is durable when it returns. Simplification: the whole
/// file is written back (fsync(2) passes the whole range).
pub async fn ext4_sync_file(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_sync_file");
    let upto = k
        .log
        .borrow()
        .writes_so_far(&crate::sim::current_task_name(), Some(ei.ino));
    filemap_write_and_wait_range(k, ei, 0, u64::MAX / 2).await?;
    let ops = k.jops.borrow().clone();
    if ext4_should_journal_data(k, ei) {
        let _c = crate::kfn!("ext4_force_commit");
        ops.fsync_commit(k, ei).await?;
    } else {
        ops.fsync_commit(k, ei).await?;
    }
    k.log
        .borrow_mut()
        .mark_durable(Some(ei.ino), upto, &crate::sim::current_task_name());
    Ok(())
}

/// v4.13 fs/ext4/ext4_jbd2.h `ext4_should_journal_data`: data=journal, or
/// the inode's `EXT4_JOURNAL_DATA_FL` (`chattr +j`). (Not for an inode with
/// inline data, whose data is metadata anyway; no built-in journals an
/// inline inode's data.)
pub fn ext4_should_journal_data(k: &Kernel, ei: &Ext4InodeInfo) -> bool {
    k.rc.mount.data == crate::scenario::DataMode::Journal
        || ei.test_flag(crate::engine::inode::EXT4_JOURNAL_DATA_FL)
}

/// v4.13 fs/ext4/inode.c `ext4_set_inode_flags`: the VFS flags from the
/// ext4 ones. Only `S_DAX` is modelled, by the rule of Jan Kara's "ext4:
/// only set S_DAX if DAX is really supported" (v4.10): mounted `-o dax`, a
/// regular file, no data journalling, no inline data (nor encryption,
/// which no scenario uses). Called at iget, by `ext4_ioctl_setflags`, and
/// by `ext4_change_inode_journal_flag` before e9072d859df3.
pub fn ext4_set_inode_flags(k: &Kernel, ei: &Ext4InodeInfo) {
    let dax = k.rc.mount.dax
        && !ext4_should_journal_data(k, ei)
        && !ei.test_flag(crate::engine::inode::EXT4_INLINE_DATA_FL);
    let mut m = ei.mem.borrow_mut();
    if dax {
        m.vfs_i_flags |= S_DAX;
    } else {
        m.vfs_i_flags &= !S_DAX;
    }
}

/// v4.13 fs/ext4/inode.c `ext4_change_inode_journal_flag(inode, val)`,
/// called by `ext4_ioctl_setflags` with `i_rwsem` held and no handle:
///
/// 1. `ext4_inode_block_unlocked_dio` + `inode_dio_wait`;
/// 2. `val` = 1 only (4c54659269ec, v4.7): `i_mmap_sem` (w) and
///    `filemap_write_and_wait`, so no delalloc or unwritten buffer meets
///    the journalled aops;
/// 3. `percpu_down_write(s_journal_flag_rwsem)` (c8585c6fcaf2, v4.7; after
///    the writeback, whose `ext4_writepages` takes it for read);
/// 4. `jbd2_journal_lock_updates`; `val` = 0: `jbd2_journal_flush`;
/// 5. flip `EXT4_JOURNAL_DATA_FL`, `ext4_set_aops` (the model picks the
///    aops by the flag at each call), and `ext4_set_inode_flags`, so under
///    `-o dax` `S_DAX` follows the flag (removed by e9072d859df3);
/// 6. unlock in reverse order; then a handle marks the inode dirty and, as
///    `ext4_handle_sync` asks, its stop waits for the commit.
///
/// Variants, each one branch: `p:ross-2017-09-05` locks out faults, writes
/// back and invalidates for both values of `val`;
/// `p:jan-2017-09-ebusy-if-mapped` (on top of it) returns EBUSY when the
/// flip would change `S_DAX` of a mapped file; `h:wb-inside-handle` means
/// the caller did the fault lock-out and the writeback inside its handle
/// (`fault_lock_held`).
///
/// Simplification: `jbd2_journal_flush` commits but does not checkpoint
/// (see [`super::jbd2::jbd2_journal_flush`]).
pub async fn ext4_change_inode_journal_flag(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    val: bool,
    fault_lock_held: bool,
) -> KResult<()> {
    let _f = crate::kfn!("ext4_change_inode_journal_flag");
    if !k.fs.borrow().is_journalled() {
        return Ok(());
    }
    // ext4_inode_block_unlocked_dio + inode_dio_wait
    while ei.i_dio_count.read().await != 0 {
        crate::sim::preempt_point().await;
    }
    if k.applied(Change::JanEbusyIfMapped)
        && k.rc.mount.dax
        && super::mm::mapping_mapped(k, &ei.name).await?
    {
        // Jan Kara: VMAs keep the vm_ops chosen at mmap time, so refuse
        // to flip S_DAX under them.
        return Err(Errno::EBUSY);
    }
    let lock_faults = !fault_lock_held
        && (k.applied(Change::RossFlagSwitchV1)
            || (val && k.applied(Change::JournalFlagWriteback)));
    if lock_faults {
        ei.invalidate_lock.down_write().await;
        let mut r = filemap_write_and_wait_range(k, ei, 0, u64::MAX / 2).await;
        if r.is_ok() && k.applied(Change::RossFlagSwitchV1) {
            r = invalidate_inode_pages2_range(k, ei, 0, u64::MAX / 2).await;
        }
        if let Err(e) = r {
            ei.invalidate_lock.up_write();
            return Err(e);
        }
    }
    if let Some(s) = k.s_journal_flag_rwsem {
        s.down_write().await;
    }
    k.journal.lock_updates().await;
    let r = if val {
        Ok(())
    } else {
        super::jbd2::jbd2_journal_flush(k, ei).await
    };
    if r.is_ok() {
        ei.i_flags_loc.write().await;
        {
            let mut m = ei.mem.borrow_mut();
            if val {
                m.i_flags |= crate::engine::inode::EXT4_JOURNAL_DATA_FL;
            } else {
                m.i_flags &= !crate::engine::inode::EXT4_JOURNAL_DATA_FL;
            }
        }
        if !k.applied(Change::JournalFlagEbusyDax) {
            ext4_set_inode_flags(k, ei);
        }
    }
    k.journal.unlock_updates();
    if let Some(s) = k.s_journal_flag_rwsem {
        s.up_write();
    }
    if lock_faults {
        ei.invalidate_lock.up_write();
    }
    r?;
    // Finally we can mark the inode as dirty.
    let h = ext4_journal_start(k, ei, HandleType::Inode, 1).await?;
    let r = k.ext4_mark_inode_dirty(ei);
    ext4_journal_stop(k, h);
    // ext4_handle_sync: jbd2_journal_stop of a sync handle waits for the
    // commit of its transaction.
    let ops = k.jops.borrow().clone();
    ops.fsync_commit(k, ei).await?;
    r
}

/// sync(2): v5.5 fs/sync.c `ksys_sync` (`sys_sync` before v4.17): `sync_inodes_sb`, a WB_SYNC_ALL
/// writeback of every inode (`I_SYNC` waits for another writer of the
/// same inode), then `sync_fs` (the commit).
pub async fn ksys_sync(k: &Kernel) -> KResult<()> {
    let _f = crate::kfn!("ksys_sync");
    let upto = k
        .log
        .borrow()
        .writes_so_far(&crate::sim::current_task_name(), None);
    // sync_inodes_sb: WB_SYNC_ALL writeback of every inode
    for ei in k.inodes.values() {
        super::writeback::writeback_single_inode(k, ei, true).await?;
    }
    if let Some(ei) = k.inodes.values().next() {
        let ops = k.jops.borrow().clone();
        ops.fsync_commit(k, ei).await?;
    }
    k.log
        .borrow_mut()
        .mark_durable(None, upto, &crate::sim::current_task_name());
    Ok(())
}

/// Which size-changing operation [`ext4_setattr_like`] runs.
#[derive(Clone, Copy, Debug)]
pub enum SpaceOp {
    /// truncate(2) to a size.
    Truncate(u64),
    /// fallocate(2) mode 0 / KEEP_SIZE.
    Fallocate {
        offset: u64,
        len: u64,
        keep_size: bool,
    },
    /// FALLOC_FL_PUNCH_HOLE.
    PunchHole { offset: u64, len: u64 },
}

/// truncate(2), fallocate(2) and FALLOC_FL_PUNCH_HOLE, each as v4.13 has
/// it (the same in v5.5 for what the model keeps; the fault lock is
/// `i_mmap_sem` from v4.5, ea3d7209ca01, and none before):
/// [`ext4_setattr`], [`ext4_fallocate`], [`ext4_punch_hole`].
pub async fn ext4_setattr_like(k: &Kernel, ei: &Ext4InodeInfo, op: SpaceOp) -> KResult<()> {
    match op {
        SpaceOp::Truncate(size) => ext4_setattr(k, ei, size).await,
        SpaceOp::Fallocate {
            offset,
            len,
            keep_size,
        } => ext4_fallocate(k, ei, offset, len, keep_size).await,
        SpaceOp::PunchHole { offset, len } => {
            // From f87c7a4b084a ext4_fallocate converts inline data before
            // dispatching a punch too. Before it, v4.13's ext4_punch_hole
            // runs on the inline inode as it is (not modelled: a later
            // stable fix of ext4_punch_hole converting under i_mmap_sem).
            if k.applied(Change::FallocateInlineUnderInodeLock) {
                let _f = crate::kfn!("ext4_fallocate");
                ext4_fallocate_convert_inline(k, ei).await?;
            }
            ext4_punch_hole(k, ei, offset, len).await
        }
    }
}

/// v4.13 fs/ext4/namei.c `ext4_orphan_add` under the caller's handle: a
/// shrinking truncate puts the inode on the superblock's orphan list in
/// the transaction that writes the new size, so that a crash before
/// `ext4_truncate` freed the blocks past it is finished by
/// `ext4_orphan_cleanup` at the next mount (crate/engine/orphan.rs). Only
/// with a journal ("if (!sbi->s_journal) return 0").
pub(super) fn ext4_orphan_add(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    orphan_list_op(k, ei, "ext4_orphan_add", Ext4Fs::ext4_orphan_add)
}

/// v6.9 fs/ext4/orphan.c `ext4_orphan_del` under the caller's handle:
/// the inode leaves the orphan list (nothing if it is not on it). Only
/// with a journal, like [`ext4_orphan_add`].
pub(super) fn ext4_orphan_del(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    orphan_list_op(k, ei, "ext4_orphan_del", Ext4Fs::ext4_orphan_del)
}

/// The engine's orphan-list change `op` on `ei` when there is a journal,
/// then every inode's in-memory orphan link reloaded from disk.
fn orphan_list_op(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    site: &str,
    op: fn(&mut Ext4Fs<super::state::SimDisk>, u32) -> crate::engine::error::Result<()>,
) -> KResult<()> {
    let mut fs = k.fs.borrow_mut();
    if !fs.is_journalled() {
        return Ok(());
    }
    let r = op(&mut fs, ei.ino);
    drop(fs);
    match r {
        Ok(()) => orphan_links_from_disk(k),
        Err(e) => Err(k.engine_error(site, e)),
    }
}

/// The orphan links (`NEXT_ORPHAN(inode)`, the in-memory `i_dtime`) of
/// every inode the run knows, as `ext4_orphan_add`/`ext4_orphan_del` left
/// them on disk (the latter relinks the previous orphan, another inode),
/// so that the next `ext4_mark_inode_dirty` writes them back unchanged.
fn orphan_links_from_disk(k: &Kernel) -> KResult<()> {
    for ei in k.inodes.values() {
        let r = k.fs.borrow_mut().ext4_iget(ei.ino);
        match r {
            Ok(raw) => ei.mem.borrow_mut().raw.i_dtime = raw.i_dtime,
            Err(e) => return Err(k.engine_error("ext4_orphan_del", e)),
        }
    }
    Ok(())
}

/// Run the engine's size-changing operation `f` on the on-disk inode
/// (written from ours first) and reload ours from it. Preconditions: a
/// handle and `i_data_sem` (w) held.
async fn engine_space_op(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    f: impl FnOnce(
        &mut crate::engine::fs::Ext4Fs<super::state::SimDisk>,
    ) -> crate::engine::error::Result<()>,
) -> KResult<()> {
    k.balloc_loc.write().await;
    let res = k.ext4_mark_inode_dirty(ei).and_then(|_| {
        let mut fs = k.fs.borrow_mut();
        f(&mut fs)
            .and_then(|_| fs.ext4_iget(ei.ino))
            .map_err(|e| k.engine_error("ext4_setattr", e))
    });
    if let Ok(raw) = &res {
        // The on-disk size is i_disksize (written from ours above); the
        // operation may only have grown it (fallocate without KEEP_SIZE:
        // ext4_update_inode_size grows both). i_size stays ours: a buffered
        // write past EOF under delalloc has i_size > i_disksize until
        // writeback, and neither punch hole nor fallocate KEEP_SIZE touches
        // it (v6.9 fs/ext4/extents.c ext4_fallocate, ext4_punch_hole).
        let mut m = ei.mem.borrow_mut();
        m.i_size = m.i_size.max(raw.size());
        m.i_disksize = raw.size();
        m.raw = raw.clone();
    }
    res.map(|_| ())
}

/// `ext4_truncate`'s block freeing on the engine: every block of `ino`
/// past `size`, where the blocks may reach `blocks_end`. The engine's
/// truncate frees between the size it finds on disk and the new one, so
/// it is handed `blocks_end` (when larger) first.
fn truncate_blocks(
    fs: &mut Ext4Fs<super::state::SimDisk>,
    ino: u32,
    blocks_end: u64,
    size: u64,
) -> crate::engine::error::Result<()> {
    let mut raw = fs.ext4_iget(ino)?;
    raw.set_size(blocks_end.max(size));
    fs.write_inode(ino, &raw)?;
    fs.truncate(ino, size)
}

/// v6.9 fs/ext4/truncate.h `ext4_truncate_failed_write`, for a write that
/// allocated blocks past EOF and failed (`ext4_inode_extension_cleanup`):
/// under `invalidate_lock` (w), drop the pages past `i_size`
/// (`truncate_inode_pages`) and `ext4_truncate`: a handle and `i_data_sem`
/// (w) around freeing every block past `i_size`. `alloc_end`: where the
/// failed write's blocks end (the engine frees from the size it finds on
/// disk, so it is handed that one first). Precondition: `i_rwsem` held
/// for write.
pub(super) async fn ext4_truncate_failed_write(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    alloc_end: u64,
) -> KResult<()> {
    let _f = crate::kfn!("ext4_truncate_failed_write");
    ei.invalidate_lock.down_write().await;
    let size = ei.i_size();
    truncate_pagecache_range(k, ei, size.div_ceil(PAGE_SIZE) * PAGE_SIZE, u64::MAX / 2).await;
    let r = async {
        let _t = crate::kfn!("ext4_truncate");
        let h = ext4_journal_start(k, ei, HandleType::Truncate, 8).await?;
        ei.i_data_sem.down_write().await;
        let res = engine_space_op(k, ei, |fs| {
            let on_disk = fs.ext4_iget(ei.ino)?.size();
            truncate_blocks(fs, ei.ino, alloc_end.max(on_disk), size)
        })
        .await;
        ei.i_data_sem.up_write();
        ext4_journal_stop(k, h);
        res
    }
    .await;
    ei.invalidate_lock.up_write();
    r
}

/// `inode_dio_wait`.
pub(super) async fn inode_dio_wait(ei: &Ext4InodeInfo) {
    while ei.i_dio_count.read().await != 0 {
        crate::sim::preempt_point().await;
    }
}

/// The first release whose `ext4_setattr` waits for direct I/O and takes
/// the fault lock (`i_mmap_sem`, later `invalidate_lock`) before it starts
/// the handle that writes the new size: Ross Zwisler's 430657b6be89
/// ("ext4: handle layout changes to pinned DAX mappings", v4.19-rc1), which
/// added `ext4_break_layouts` under `i_mmap_sem` there. Before (v4.13),
/// both came after that handle stopped.
pub const SETATTR_FAULT_LOCK_FIRST: KernelVersion = KernelVersion {
    major: 4,
    minor: 19,
    sub: 0,
    rc: Some(1),
};

/// truncate(2): v4.13 and v6.9 fs/open.c `do_truncate` (`inode_lock`) ->
/// fs/ext4/inode.c `ext4_setattr`, `ATTR_SIZE`:
/// - shrinking an inode that orders its data:
///   `ext4_begin_ordered_truncate`
///   ([`super::jbd2::jbd2_journal_begin_ordered_truncate`]);
/// - from [`SETATTR_FAULT_LOCK_FIRST`]: shrinking, `inode_dio_wait`; then
///   the fault lock (w) (`i_mmap_sem`, `invalidate_lock` from v5.15);
/// - a handle: shrinking, `ext4_orphan_add`; under `i_data_sem` (w)
///   `i_disksize`, `ext4_mark_inode_dirty`, `i_size_write`;
/// - before [`SETATTR_FAULT_LOCK_FIRST`] (v4.13): shrinking,
///   `inode_dio_wait`; the fault lock (w) (`i_mmap_sem`, v4.5+);
/// - `truncate_pagecache` (unmap, drop the pages past the size, zero the
///   partial page; nothing is written back), and, shrinking,
///   `ext4_truncate` (handle, `i_data_sem` (w), free the blocks, the
///   inode off the orphan list).
///
/// Simplifications: the handle is started even when the size does not
/// change (v6.9 skips it; no scenario truncates to the current size);
/// data=journal's `ext4_wait_for_tail_page_commit` is not modelled (a
/// journalled page is never left dirty by the model's write paths for a
/// commit to wait on); `ext4_break_layouts` is a no-op without DAX.
pub async fn ext4_setattr(k: &Kernel, ei: &Ext4InodeInfo, size: u64) -> KResult<()> {
    let _f = crate::kfn!("ext4_setattr");
    inode_lock(ei).await;
    let shrink = size < ei.i_size();
    if shrink && super::jbd2::ext4_should_order_data(k, ei) {
        if let Err(e) = super::jbd2::jbd2_journal_begin_ordered_truncate(k, ei, size).await {
            inode_unlock(ei);
            return Err(e);
        }
    }
    let fault_lock = k.applied(Change::FaultsVsHolePunch);
    let lock_first = k.version() >= SETATTR_FAULT_LOCK_FIRST;
    if lock_first {
        if shrink {
            inode_dio_wait(ei).await;
        }
        if fault_lock {
            ei.invalidate_lock.down_write().await;
        }
    }
    let old_disksize = {
        let m = ei.mem.borrow();
        m.i_disksize.max(m.i_size)
    };
    let mut r = async {
        let h = ext4_journal_start(k, ei, HandleType::Inode, 3).await?;
        let mut r = if shrink {
            ext4_orphan_add(k, ei)
        } else {
            Ok(())
        };
        ei.i_data_sem.down_write().await;
        ei.i_flags_loc.write().await;
        ei.mem.borrow_mut().i_disksize = size;
        let rc = k.ext4_mark_inode_dirty(ei);
        r = r.and(rc);
        if r.is_ok() {
            ei.mem.borrow_mut().i_size = size; // i_size_write
        }
        ei.i_data_sem.up_write();
        ext4_journal_stop(k, h);
        r
    }
    .await;
    let locked = lock_first || r.is_ok();
    if r.is_ok() {
        if !lock_first {
            if shrink {
                inode_dio_wait(ei).await;
            }
            if fault_lock {
                ei.invalidate_lock.down_write().await;
            }
        }
        truncate_pagecache(k, ei, size).await;
        if shrink {
            let _t = crate::kfn!("ext4_truncate");
            r = async {
                let h = ext4_journal_start(k, ei, HandleType::Truncate, 8).await?;
                ei.i_data_sem.down_write().await;
                // ext4_truncate frees every block past i_size. The engine's
                // truncate frees those between the size it finds on disk and
                // the new one: hand it the old size for this call.
                // ... and, under the same handle, `ext4_orphan_del` (the
                // inode has links).
                let res = engine_space_op(k, ei, |fs| {
                    truncate_blocks(fs, ei.ino, old_disksize, size)?;
                    fs.ext4_orphan_del(ei.ino)
                })
                .await
                .and_then(|()| orphan_links_from_disk(k));
                ei.i_data_sem.up_write();
                ext4_journal_stop(k, h);
                res
            }
            .await;
        }
    }
    if fault_lock && locked {
        ei.invalidate_lock.up_write();
    }
    inode_unlock(ei);
    r
}

/// The inline-data conversion at the top of `ext4_fallocate`. v4.13
/// fs/ext4/extents.c: `ext4_convert_inline_data(inode)` after the
/// punch-hole dispatch, with no lock of the caller's; f87c7a4b084a (v5.19)
/// takes `inode_lock` around it and does it before every mode.
async fn ext4_fallocate_convert_inline(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    if k.applied(Change::FallocateInlineUnderInodeLock) {
        inode_lock(ei).await;
        let r = super::inline::ext4_convert_inline_data(k, ei).await;
        inode_unlock(ei);
        r
    } else {
        super::inline::ext4_convert_inline_data(k, ei).await
    }
}

/// fallocate(2) mode 0 / KEEP_SIZE: v4.13 fs/ext4/extents.c
/// `ext4_fallocate`: an inline inode's data goes to a block first
/// ([`ext4_fallocate_convert_inline`]); then `ext4_alloc_file_blocks`
/// under `inode_lock`: a handle and `i_data_sem` (w) around the
/// allocation; the page cache is not touched. A block-mapped inode gets
/// EOPNOTSUPP once `inode_lock` is held ("We only support preallocation
/// for extent-based files only": v4.13 and v6.9 fs/ext4/extents.c
/// `ext4_fallocate` test `EXT4_INODE_EXTENTS` right after `inode_lock`).
pub async fn ext4_fallocate(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    offset: u64,
    len: u64,
    keep_size: bool,
) -> KResult<()> {
    let _f = crate::kfn!("ext4_fallocate");
    ext4_fallocate_convert_inline(k, ei).await?;
    inode_lock(ei).await;
    if !ei.test_flag(crate::engine::inode::EXT4_EXTENTS_FL) {
        inode_unlock(ei);
        return Err(Errno::EOPNOTSUPP);
    }
    inode_dio_wait(ei).await;
    let r = async {
        let h = ext4_journal_start(k, ei, HandleType::Map, 8).await?;
        ei.i_data_sem.down_write().await;
        let res = engine_space_op(k, ei, |fs| fs.fallocate(ei.ino, offset, len, keep_size)).await;
        ei.i_data_sem.up_write();
        ext4_journal_stop(k, h);
        res
    }
    .await;
    inode_unlock(ei);
    r
}

/// FALLOC_FL_PUNCH_HOLE: v4.13 fs/ext4/inode.c `ext4_punch_hole`: write
/// back the dirty pages of the range first (`filemap_write_and_wait_range`,
/// before `inode_lock`), then `inode_lock`, `inode_dio_wait`, `i_mmap_sem`
/// (w) (v4.5+), drop the page cache of the whole blocks in the range
/// (`truncate_pagecache_range`, no writeback), and under a handle zero the
/// partial blocks (`ext4_zero_partial_blocks`, in the page cache) and
/// remove the blocks under `i_data_sem` (w).
pub async fn ext4_punch_hole(k: &Kernel, ei: &Ext4InodeInfo, offset: u64, len: u64) -> KResult<()> {
    let _f = crate::kfn!("ext4_punch_hole");
    let end = offset.saturating_add(len);
    let (fi, li) = (offset / PAGE_SIZE, end.saturating_sub(1) / PAGE_SIZE);
    ei.mapping.i_pages_loc.read().await;
    if !ei.mapping.dirty_pages(fi, li).is_empty() {
        filemap_write_and_wait_range(k, ei, offset, end.saturating_sub(1)).await?;
    }
    inode_lock(ei).await;
    if offset >= ei.i_size() {
        inode_unlock(ei);
        return Ok(());
    }
    inode_dio_wait(ei).await;
    let fault_lock = k.applied(Change::FaultsVsHolePunch);
    if fault_lock {
        ei.invalidate_lock.down_write().await;
    }
    let first_block = offset.div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let last_block = (end / PAGE_SIZE * PAGE_SIZE).saturating_sub(1);
    if last_block > first_block {
        truncate_pagecache_range(k, ei, first_block, last_block).await;
    }
    let r = async {
        let h = ext4_journal_start(k, ei, HandleType::Truncate, 8).await?;
        // ext4_zero_partial_blocks: the partial blocks' bytes in the cache.
        zero_cached_range(ei, offset, end.min(first_block)).await;
        if end > first_block {
            zero_cached_range(ei, (end / PAGE_SIZE * PAGE_SIZE).max(first_block), end).await;
        }
        ei.i_data_sem.down_write().await;
        let res = engine_space_op(k, ei, |fs| fs.punch_hole(ei.ino, offset, len)).await;
        ei.i_data_sem.up_write();
        ext4_journal_stop(k, h);
        res
    }
    .await;
    if fault_lock {
        ei.invalidate_lock.up_write();
    }
    inode_unlock(ei);
    r
}

/// Zero bytes `[from, to)` of their page if it is cached (locked while
/// zeroed). The engine zeroes the same bytes on disk, so a clean page
/// stays clean and a dirty one stays dirty.
async fn zero_cached_range(ei: &Ext4InodeInfo, from: u64, to: u64) {
    if from >= to {
        return;
    }
    let idx = from / PAGE_SIZE;
    ei.mapping.i_pages_loc.read().await;
    let Some(page) = ei.mapping.find_get_page(idx) else {
        return;
    };
    page.lock().await;
    if ei.mapping.find_get_page(idx) == Some(page) {
        let (a, b) = ((from % PAGE_SIZE) as usize, (to - idx * PAGE_SIZE) as usize);
        ei.mapping.with_page(idx, |ps| {
            ps.data_loc.note_write();
            ps.data[a..b].fill(0);
            ps.prov[a..b].fill(0);
        });
    }
    page.unlock();
}

/// v4.13 mm/truncate.c `truncate_pagecache(inode, newsize)`:
/// `unmap_mapping_range` (under `i_mmap_rwsem`), then
/// `truncate_inode_pages`: the partial page past `newsize` is zeroed,
/// every page wholly past it dropped (waiting for writeback, never
/// writing it). Precondition: `i_rwsem` held, and `i_mmap_sem` (w) where
/// the kernel has it.
pub async fn truncate_pagecache(k: &Kernel, ei: &Ext4InodeInfo, newsize: u64) {
    let _f = crate::kfn!("truncate_pagecache");
    unmap_mapping_range(ei, newsize).await;
    if newsize % PAGE_SIZE != 0 {
        zero_cached_range(ei, newsize, (newsize / PAGE_SIZE + 1) * PAGE_SIZE).await;
    }
    truncate_pagecache_range(k, ei, newsize.div_ceil(PAGE_SIZE) * PAGE_SIZE, u64::MAX / 2).await;
}

/// v4.13 mm/memory.c `unmap_mapping_range` from `holebegin` to the end:
/// `i_mmap_lock_write` and zap the PTEs of the pages there (a later access
/// faults). The model's PTE state is the page's `pte_writable` bit.
pub async fn unmap_mapping_range(ei: &Ext4InodeInfo, holebegin: u64) {
    let _f = crate::kfn!("unmap_mapping_range");
    ei.mapping.i_mmap_rwsem.down_write().await;
    ei.mapping.i_pages_loc.read().await;
    for idx in ei
        .mapping
        .cached_pages(holebegin / PAGE_SIZE, u64::MAX / 2 / PAGE_SIZE)
    {
        ei.mapping.set_pte_writable(idx, false);
    }
    ei.mapping.i_mmap_rwsem.up_write();
}

/// `echo 1 > /proc/sys/vm/drop_caches`: v4.13 fs/drop_caches.c
/// `drop_pagecache_sb` -> mm/truncate.c `invalidate_mapping_pages` for
/// every inode: a page is dropped only if it can be locked at once
/// (`trylock_page`) and is clean, not under writeback and not mapped
/// (`invalidate_inode_page`). The model takes a page as mapped while some
/// process maps it writable (`pte_writable`).
///
/// Simplification: the inode cache (`echo 2`, `drop_slab`) is not
/// dropped: every inode of a scenario is open or mapped by its tasks, and
/// the kernel evicts only unused inodes.
pub async fn drop_pagecache_sb(k: &Kernel) {
    let _f = crate::kfn!("drop_pagecache_sb");
    for ei in k.inodes.values() {
        let _i = crate::kfn!("invalidate_mapping_pages");
        ei.mapping.i_pages_loc.read().await;
        for (idx, page) in ei.mapping.find_get_pages(0, u64::MAX / 2 / PAGE_SIZE) {
            if !page.try_lock().await {
                continue;
            }
            let droppable = super::fault::still_cached(ei, idx, page)
                && !page.is_writeback()
                && ei
                    .mapping
                    .with_page(idx, |ps| !ps.dirty && ps.b_count == 0)
                    .unwrap_or(false)
                && !ei.mapping.pte_writable(idx);
            if droppable {
                ei.mapping.i_pages_loc.write().await;
                ei.mapping.remove_page(idx);
            }
            page.unlock();
        }
    }
}
