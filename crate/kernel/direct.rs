//! Direct I/O: `ext4_dio_read_iter` / `ext4_dio_write_iter` ->
//! `iomap_dio_rw` (flush and invalidate the page cache range,
//! `inode_dio_begin`, `ext4_iomap_begin` maps the blocks, bios submitted and
//! completed later as their own events, `inode_dio_end`).

use crate::engine::map::MapFlags;
use crate::scenario::history::Change;
use crate::sim::{smp_mb__after_atomic, submit_bio};

use super::inode_ops::ext4_map_blocks;
use super::pagecache::PAGE_SIZE;
use super::provenance::check_read;
use super::state::{inode_lock_shared, inode_unlock_shared, Ext4InodeInfo, KResult, Kernel};
use super::writeback::{filemap_write_and_wait_range, invalidate_inode_pages2_range};

/// `inode_dio_begin` (include/linux/fs.h, unchanged v4.x..v6.x):
/// `atomic_inc(&inode->i_dio_count)`, a non-value-returning RMW: unordered
/// under `lkmm`, a full barrier under `x86`.
pub async fn inode_dio_begin(ei: &Ext4InodeInfo) {
    let _f = crate::kfn!("inode_dio_begin");
    ei.i_dio_count.inc().await;
}

/// `inode_dio_end` (fs/inode.c): `atomic_dec_and_test(&inode->i_dio_count)`
/// (value-returning: fully ordered) and, at zero, `wake_up_bit` (the
/// model's `inode_dio_wait` polls the count instead of sleeping on the bit).
pub async fn inode_dio_end(ei: &Ext4InodeInfo) {
    let _f = crate::kfn!("inode_dio_end");
    ei.i_dio_count.add_return(-1).await;
}

/// read(2) with O_DIRECT of `len` bytes at `pos` (block aligned): v5.5
/// fs/ext4/file.c `ext4_dio_read_iter` takes `i_rwsem` shared around
/// `iomap_dio_rw`; when `ext4_dio_supported` says no (the inode journals
/// its data: data=journal or `chattr +j`) it drops the lock and falls back
/// to buffered I/O (`generic_file_read_iter` without IOCB_DIRECT). Kernels
/// before v5.5 do the same from `ext4_direct_IO` ("If we are doing data
/// journalling we don't support O_DIRECT": it returns 0 and
/// `generic_file_read_iter` reads through the page cache), there without
/// `i_rwsem`; the extra shared acquisition only orders the check against
/// `chattr`, which takes the lock exclusively. Inline data is checked by
/// the caller. Returns the bytes read.
pub async fn ext4_dio_read_iter(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    len: u64,
) -> KResult<Vec<u8>> {
    let _f = crate::kfn!("ext4_dio_read_iter");
    inode_lock_shared(ei).await;
    if super::inode_ops::ext4_should_journal_data(k, ei) {
        inode_unlock_shared(ei);
        return super::buffered::filemap_read(k, ei, pos, len).await;
    }
    let r = iomap_dio_rw_read(k, ei, pos, len).await;
    inode_unlock_shared(ei);
    r
}

/// The kernel's message when a direct I/O finds page cache it could not
/// invalidate (v5.5 fs/direct-io.c `dio_warn_stale_pagecache`).
pub const DIO_STALE_PAGECACHE: &str =
    "dio_warn_stale_pagecache: Page cache invalidation failure on direct I/O.  Possible data corruption due to collision with buffered I/O!";

/// `dio_warn_stale_pagecache` (v5.5 fs/direct-io.c):
/// `errseq_set(&inode->i_mapping->wb_err, -EIO)` and, rate limited (10
/// per day), two `pr_crit` lines. Not a WARN (no backtrace, no taint);
/// reported as a kernel-warning outcome named after the function, since it
/// is what the kernel prints about a possible corruption. Simplification:
/// the `wb_err` the next fsync of an open file would return as EIO is not
/// kept (no built-in fsyncs after a direct I/O of the same file).
pub fn dio_warn_stale_pagecache(_k: &Kernel, _ei: &Ext4InodeInfo) {
    crate::sim::warn_on(true, DIO_STALE_PAGECACHE);
}

/// `iomap_dio_rw` for a read (v5.5 fs/iomap/direct-io.c):
/// `filemap_write_and_wait_range`; `invalidate_inode_pages2_range`, and on
/// failure `dio_warn_stale_pagecache`, the read going on; `inode_dio_begin`;
/// `iomap_apply` -> `ext4_iomap_begin` (`ext4_map_blocks` lookup; a hole or
/// an unwritten extent reads as zeros, a mapped block gets a bio that
/// completes as its own event); wait for the bios; `inode_dio_end`.
/// Jan's 2019-11-29 proposal moves `inode_dio_begin` before the
/// invalidation with `smp_mb__after_atomic()` after it (the hypothetical
/// `h:no-mb-after-dio-begin` drops the barrier).
/// Precondition: `i_rwsem` held (shared).
pub async fn iomap_dio_rw_read(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    len: u64,
) -> KResult<Vec<u8>> {
    let _f = crate::kfn!("iomap_dio_rw");
    let end = pos + len.max(1) - 1;
    filemap_write_and_wait_range(k, ei, pos, end).await?;
    let early = k.applied(Change::JanDioBeginEarly);
    if early {
        inode_dio_begin(ei).await;
        if !k.applied(Change::NoBarrierAfterDioBegin) {
            smp_mb__after_atomic();
        }
    }
    // Try to invalidate cache pages for the range we're direct writing.
    // If this invalidation fails, tough, the write will still work.
    if invalidate_inode_pages2_range(k, ei, pos, end)
        .await
        .is_err()
    {
        dio_warn_stale_pagecache(k, ei);
    }
    if !early {
        inode_dio_begin(ei).await;
    }
    let out = std::rc::Rc::new(std::cell::RefCell::new(vec![0u8; len as usize]));
    let reader = crate::sim::current_task_name();
    let r = async {
        let size = ei.i_size();
        let mut waits = Vec::new();
        let mut off = pos;
        while off < pos + len && off < size {
            let lblk = off / PAGE_SIZE;
            let m = {
                let _g = crate::kfn!("ext4_iomap_begin");
                ext4_map_blocks(k, ei, lblk as u32, MapFlags::empty()).await?
            };
            if let (Some(pblk), false) = (m.m_pblk, m.unwritten) {
                // IOMAP_MAPPED: the bio reads the block when it completes
                let Some(kk) = k.me() else { break };
                let name = ei.name.clone();
                let file_off = off;
                let out = out.clone();
                let reader = reader.clone();
                let at = (off - pos) as usize;
                let (_, done) = submit_bio(pblk, false, move || {
                    let bs = kk.block_size() as usize;
                    let mut buf = vec![0u8; bs];
                    if let Err(e) = kk.fs.borrow_mut().read_data_block(pblk, &mut buf) {
                        kk.engine_error("iomap_dio_bio_end_io", e);
                        return;
                    }
                    {
                        let mut o = out.borrow_mut();
                        let n = bs.min(o.len().saturating_sub(at));
                        o[at..at + n].copy_from_slice(&buf[..n]);
                    }
                    let log = kk.log.borrow();
                    let prov = log.block_prov(pblk, bs);
                    let Ok(ei) = kk.inode(&name) else { return };
                    if let Some(o) = check_read(
                        &log,
                        ei.ino,
                        &ei.name,
                        file_off,
                        &prov,
                        Some(pblk),
                        "iomap_dio_rw",
                        |i| kk.ino_name(i),
                    ) {
                        drop(log);
                        // attributed to the reader: the task that submitted
                        let mut o = o;
                        o.tasks.retain(|t| !t.starts_with("bio "));
                        o.tasks.insert(0, reader);
                        crate::sim::report(o);
                    }
                });
                waits.push((off, done));
            }
            // IOMAP_HOLE / IOMAP_UNWRITTEN read as zeros
            off += PAGE_SIZE;
        }
        for (_, done) in waits {
            done.wait().await;
        }
        Ok::<(), super::state::Errno>(())
    }
    .await;
    inode_dio_end(ei).await;
    r.map(|_| out.borrow().clone())
}
