//! Inode operations over the engine: `ext4_map_blocks` with its locking,
//! fsync, sync, truncate, fallocate and punch hole.

use crate::engine::map::{MapFlags, MapResult};

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::state::{inode_lock, inode_unlock, Ext4InodeInfo, KResult, Kernel, EXT4_EXT_MIGRATE};
use super::writeback::{filemap_write_and_wait_range, truncate_pagecache_range};

/// `ext4_map_blocks(handle, inode, map, flags)` for one block: takes
/// `i_data_sem` (read to look up, write to allocate or convert), records
/// which task allocated a new block, and (S3) clears `EXT4_EXT_MIGRATE`
/// as the variant's `migrate_guard` says (`ext4_get_blocks_wrap` in 2008).
///
/// Precondition: `i_data_sem` not held by the caller.
pub async fn ext4_map_blocks(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    lblk: u32,
    flags: MapFlags,
) -> KResult<MapResult> {
    let _f = crate::kfn!("ext4_map_blocks");
    let write = flags.0 != 0;
    if write {
        ei.i_data_sem.down_write().await;
        k.balloc_loc.write().await;
    } else {
        ei.i_data_sem.down_read().await;
    }
    let r = map_locked(k, ei, lblk, flags);
    if write {
        ei.i_data_sem.up_write();
    } else {
        ei.i_data_sem.up_read();
    }
    r
}

/// The body of [`ext4_map_blocks`]. Precondition: `i_data_sem` held
/// (write when `flags` is not empty).
pub fn map_locked(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    lblk: u32,
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
            .ext4_map_blocks_inode(ei.ino, &mut raw, lblk, 1, flags)
            .map_err(|e| k.engine_error("ext4_map_blocks", e))?;
    let changed = raw != before;
    {
        let mut m = ei.mem.borrow_mut();
        m.raw = raw;
        match k.switch("migrate_guard") {
            // first patch: any get_blocks result > 0 counts as an allocation
            "flag-retval" if r.m_pblk.is_some() => m.i_flags &= !EXT4_EXT_MIGRATE,
            // the review: only a real allocation (buffer_new)
            "flag-buffer-new" if r.new => m.i_flags &= !EXT4_EXT_MIGRATE,
            _ => {}
        }
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

/// fsync(2): `ext4_sync_file`: write back and wait on the whole file, then
/// the journal part (the glue's [`super::handle::JournalOps::fsync_commit`]).
/// Every write completed before the call is durable when it returns.
pub async fn ext4_sync_file(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_sync_file");
    let upto = k.log.borrow().writes.len();
    if super::s4_flags::ext4_should_journal_data(k, ei) {
        // jbd2glue (S4): a journal-data inode: ext4_force_commit only.
        super::s4_flags::ext4_sync_file_journal_data(k, ei).await?;
        k.log
            .borrow_mut()
            .mark_durable(Some(ei.ino), upto, &crate::sim::current_task_name());
        return Ok(());
    }
    filemap_write_and_wait_range(k, ei, 0, u64::MAX / 2).await?;
    let ops = k.jops.borrow().clone();
    ops.fsync_commit(k, ei).await?;
    k.log
        .borrow_mut()
        .mark_durable(Some(ei.ino), upto, &crate::sim::current_task_name());
    Ok(())
}

/// sync(2): write back every inode, then commit.
pub async fn ksys_sync(k: &Kernel) -> KResult<()> {
    let _f = crate::kfn!("ksys_sync");
    let upto = k.log.borrow().writes.len();
    for ei in k.inodes.values() {
        filemap_write_and_wait_range(k, ei, 0, u64::MAX / 2).await?;
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

/// truncate / fallocate / punch hole: `i_rwsem`, `inode_dio_wait`,
/// `invalidate_lock` (write), write back and drop the affected page cache,
/// then a handle and `i_data_sem` (write) around the engine's operation.
pub async fn ext4_setattr_like(k: &Kernel, ei: &Ext4InodeInfo, op: SpaceOp) -> KResult<()> {
    let _f = crate::kfn!(match op {
        SpaceOp::Truncate(_) => "ext4_truncate",
        SpaceOp::Fallocate { .. } => "ext4_fallocate",
        SpaceOp::PunchHole { .. } => "ext4_punch_hole",
    });
    inode_lock(ei).await;
    // inode_dio_wait
    while ei.i_dio_count.read().await != 0 {
        crate::sim::preempt_point().await;
    }
    ei.invalidate_lock.down_write().await;
    let (first, last) = match op {
        SpaceOp::Truncate(size) => (size, u64::MAX / 2),
        SpaceOp::Fallocate { offset, len, .. } | SpaceOp::PunchHole { offset, len } => {
            (offset, offset.saturating_add(len).saturating_sub(1))
        }
    };
    let mut r = filemap_write_and_wait_range(k, ei, first, last).await;
    if r.is_ok() && !matches!(op, SpaceOp::Fallocate { .. }) {
        truncate_pagecache_range(k, ei, first, last).await;
    }
    if r.is_ok() {
        r = async {
            let h = ext4_journal_start(k, ei, HandleType::Truncate, 8).await?;
            ei.i_data_sem.down_write().await;
            k.balloc_loc.write().await;
            // the engine works on the on-disk inode: write ours first
            let res = k.ext4_mark_inode_dirty(ei).and_then(|_| {
                let mut fs = k.fs.borrow_mut();
                let e = match op {
                    SpaceOp::Truncate(size) => fs.truncate(ei.ino, size),
                    SpaceOp::Fallocate {
                        offset,
                        len,
                        keep_size,
                    } => fs.fallocate(ei.ino, offset, len, keep_size),
                    SpaceOp::PunchHole { offset, len } => fs.punch_hole(ei.ino, offset, len),
                };
                e.and_then(|_| fs.ext4_iget(ei.ino))
                    .map_err(|e| k.engine_error("ext4_setattr", e))
            });
            if let Ok(raw) = &res {
                let mut m = ei.mem.borrow_mut();
                m.i_size = raw.size();
                m.i_disksize = raw.size();
                m.raw = raw.clone();
            }
            ei.i_data_sem.up_write();
            ext4_journal_stop(k, h);
            res.map(|_| ())
        }
        .await;
    }
    ei.invalidate_lock.up_write();
    inode_unlock(ei);
    r
}
