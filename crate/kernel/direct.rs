//! Direct I/O: `ext4_dio_read_iter` / `ext4_dio_write_iter` ->
//! `iomap_dio_rw` (flush and invalidate the page cache range,
//! `inode_dio_begin`, `ext4_iomap_begin` maps the blocks, bios submitted and
//! completed later as their own events, `inode_dio_end`).

use crate::scenario::history::Change;
use crate::sim::{smp_mb__after_atomic, submit_bio_blocks};

use super::inode_ops::ext4_map_blocks_lookup;
use super::pagecache::PAGE_SIZE;
use super::provenance::check_read;
use super::state::{inode_lock_shared, inode_unlock_shared, Ext4InodeInfo, KResult, Kernel};
use super::writeback::{filemap_write_and_wait_range, invalidate_inode_pages2_range};

/// The logical block size of the scenario's block device (a disk's usual
/// 512 bytes): what O_DIRECT offsets and lengths must be multiples of.
pub const BDEV_LOGICAL_BLOCK_SIZE: u64 = 512;

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
/// `iomap_apply` -> `ext4_iomap_begin` (an `ext4_map_blocks` lookup of the
/// rest of the range: one extent, or one hole, at a time) ->
/// `iomap_dio_actor`: a hole or an unwritten extent reads as zeros
/// (`iomap_dio_hole_actor`), a mapped extent gets one bio for its blocks
/// that completes as its own event, or -EINVAL when the range is not aligned
/// to the device's logical block size (`iomap_dio_bio_actor`); wait for the
/// bios; `inode_dio_end`. The kernel splits a bio at BIO_MAX_PAGES (256
/// pages), more than any scenario reads; the model does not. Bytes past
/// i_size stay zero (the kernel returns a short read; the model's reader
/// does not look at the count).
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
        let end = (pos + len).min(ei.i_size());
        // iomap_dio_bio_actor: `(pos | length | align)` must be a multiple
        // of the device's logical block size, else -EINVAL (a hole or an
        // unwritten extent goes to iomap_dio_hole_actor, which does not check).
        let misaligned = (pos | len) & (BDEV_LOGICAL_BLOCK_SIZE - 1) != 0;
        let mut waits = Vec::new();
        let mut failed = None;
        let mut off = pos;
        while off < end {
            let lblk = off / PAGE_SIZE;
            let want = ((end - 1) / PAGE_SIZE - lblk + 1) as u32;
            let m = {
                let _g = crate::kfn!("ext4_iomap_begin");
                ext4_map_blocks_lookup(k, ei, lblk as u32, want).await?
            };
            let n = u64::from(m.m_len);
            let ext_end = ((lblk + n) * PAGE_SIZE).min(end);
            if let (Some(pblk), false) = (m.m_pblk, m.unwritten) {
                if misaligned {
                    failed = Some(super::state::Errno::EINVAL);
                    break;
                }
                // IOMAP_MAPPED: one bio for the extent's blocks
                // (iomap_dio_bio_actor adds each page to the bio); it reads
                // them when it completes.
                let Some(kk) = k.me() else { break };
                let name = ei.name.clone();
                let out = out.clone();
                let reader = reader.clone();
                let from = off;
                let (_, done) = submit_bio_blocks(pblk, n as u32, false, move || {
                    let bs = kk.block_size() as usize;
                    let mut buf = vec![0u8; bs];
                    for i in 0..n {
                        let (b0, blk) = ((lblk + i) * PAGE_SIZE, pblk + i);
                        let (s, e) = (b0.max(from), (b0 + PAGE_SIZE).min(ext_end));
                        if s >= e {
                            continue;
                        }
                        if let Err(err) = kk.fs.borrow_mut().read_data_block(blk, &mut buf) {
                            kk.engine_error("iomap_dio_bio_end_io", err);
                            return;
                        }
                        let (a, z) = ((s - b0) as usize, (e - b0) as usize);
                        out.borrow_mut()[(s - pos) as usize..(e - pos) as usize]
                            .copy_from_slice(&buf[a..z]);
                        let log = kk.log.borrow();
                        let prov = log.block_prov(blk, bs);
                        let Ok(ei) = kk.inode(&name) else { return };
                        if let Some(mut o) = check_read(
                            &log,
                            ei.ino,
                            &ei.name,
                            s,
                            &prov[a.min(prov.len())..z.min(prov.len())],
                            Some(blk),
                            "iomap_dio_rw",
                            |i| kk.ino_name(i),
                        ) {
                            drop(log);
                            // attributed to the reader: the task that submitted
                            o.tasks.retain(|t| !t.starts_with("bio "));
                            o.tasks.insert(0, reader.clone());
                            crate::sim::report(o);
                        }
                    }
                });
                waits.push(done);
            }
            // IOMAP_HOLE / IOMAP_UNWRITTEN read as zeros
            off = ext_end;
        }
        for done in waits {
            done.wait().await;
        }
        failed.map_or(Ok(()), Err)
    }
    .await;
    inode_dio_end(ei).await;
    r.map(|_| out.borrow().clone())
}
