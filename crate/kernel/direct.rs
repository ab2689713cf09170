//! Direct I/O: `ext4_dio_read_iter` / `ext4_dio_write_iter` ->
//! `iomap_dio_rw` (flush and invalidate the page cache range,
//! `inode_dio_begin`, `ext4_iomap_begin` maps the blocks, bios submitted and
//! completed later as their own events, `inode_dio_end`).
//!
//! Reads go through `iomap_dio_rw`; O_DIRECT writes are modelled from v6.9
//! on (`ext4_dio_write_iter`). A failed page-cache invalidation is reported
//! with [`dio_warn_stale_pagecache`].

use crate::engine::map::MapFlags;
use crate::scenario::history::{Change, KernelVersion};
use crate::sim::{smp_mb__after_atomic, submit_bio_blocks};

use super::handle::HandleType;
use super::inode_ops::ext4_map_blocks_lookup;
use super::pagecache::PAGE_SIZE;
use super::provenance::check_read;
use super::state::{inode_lock_shared, inode_unlock_shared, Errno, Ext4InodeInfo, KResult, Kernel};
use super::writeback::{filemap_write_and_wait_range, invalidate_inode_pages2_range};

/// The logical block size of the scenario's block device (a disk's usual
/// 512 bytes): what O_DIRECT offsets and lengths must be multiples of.
pub const BDEV_LOGICAL_BLOCK_SIZE: u64 = 512;

/// v5.5 include/linux/fs.h `inode_dio_begin` (unchanged v4.x..v6.x):
/// `atomic_inc(&inode->i_dio_count)`, a non-value-returning RMW: unordered
/// under `lkmm`, a full barrier under `x86`.
pub async fn inode_dio_begin(ei: &Ext4InodeInfo) {
    let _f = crate::kfn!("inode_dio_begin");
    ei.i_dio_count.inc().await;
}

/// v5.5 fs/inode.c `inode_dio_end`: `atomic_dec_and_test(&inode->i_dio_count)`
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

/// The first kernel whose O_DIRECT write the model runs (its v6.9 code).
/// Older kernels differ in what matters here: v5.5 always takes `i_rwsem`
/// exclusively and downgrades only for dioread_nolock overwrites, ignores a
/// failed invalidation, and updates `i_size` after `inode_dio_end`; v4.13
/// runs `__blockdev_direct_IO` with its own unlocked overwrite case. Until
/// those are modelled a write with `direct = true` runs buffered there
/// (docs/scenario-format.md).
pub const DIO_WRITE_MODELLED: KernelVersion = KernelVersion::new(6, 9);

/// How a direct write stops early: -ENOTBLK (the rest of the range goes
/// through the page cache: `ext4_dio_write_iter`'s fallback) or an error
/// for the caller.
enum DioStop {
    NotBlk,
    Err(Errno),
}

impl From<Errno> for DioStop {
    fn from(e: Errno) -> DioStop {
        DioStop::Err(e)
    }
}

/// write(2) with O_DIRECT of `bytes` at `pos`: v6.9 fs/ext4/file.c
/// `ext4_dio_write_iter`.
/// - `i_rwsem` shared unless an unlocked look at `i_size` says the write
///   extends the file; an inode that cannot do direct I/O
///   (`ext4_should_use_dio`: journalled data, inline data) unlocks and
///   writes through the page cache.
/// - `ext4_dio_write_checks`: the write is unaligned to the block size,
///   extending (past `i_size` or `i_disksize`), or an overwrite of blocks
///   all allocated (`ext4_overwrite_io`: one `ext4_map_blocks` lookup,
///   `unwritten` when they are not all written). Shared and (extending, not
///   an overwrite, or unaligned into unwritten blocks): drop the lock, take
///   it exclusively, check again. Exclusive and (unaligned or extending):
///   wait for other direct I/O when unaligned and not a pure overwrite
///   (`inode_dio_wait`); the I/O completes before the call returns
///   (`IOMAP_DIO_FORCE_WAIT`; the model's writes are all synchronous).
/// - Extending: the inode goes on the orphan list in its own handle.
/// - [`iomap_dio_rw_write`]; on -ENOTBLK (invalidation failed, a hole in a
///   block-mapped file) the rest is written through the page cache after
///   the unlock, then written back (`filemap_write_and_wait_range`; the
///   kernel then drops it with `invalidate_mapping_pages`).
/// - Extending: `ext4_inode_extension_cleanup` takes the inode off the
///   orphan list if the end_io could not.
///
/// Simplifications: IOCB_NOWAIT, `file_modified` (suid/security bits) and
/// encryption/verity are not modelled (no scenario has them); the
/// remainder after -ENOTBLK is the whole range (the model maps before it
/// writes anything); the fallback's `invalidate_mapping_pages` is not
/// modelled: the pages written back stay cached, clean, and a later read
/// returns the same bytes from them as from the disk.
pub async fn ext4_dio_write_iter(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    bytes: &[u8],
) -> KResult<()> {
    let _f = crate::kfn!("ext4_dio_write_iter");
    let len = bytes.len() as u64;
    let mut shared = pos + len <= ei.i_size();
    let lock = |shared: bool| async move {
        if shared {
            inode_lock_shared(ei).await
        } else {
            super::state::inode_lock(ei).await
        }
    };
    let unlock = |shared: bool| {
        if shared {
            inode_unlock_shared(ei)
        } else {
            super::state::inode_unlock(ei)
        }
    };
    lock(shared).await;
    if super::inode_ops::ext4_should_journal_data(k, ei) || super::inline::ext4_has_inline_data(ei)
    {
        unlock(shared);
        let src = super::buffered::WriteSource::Bytes(bytes);
        return super::buffered::ext4_buffered_write_iter(k, ei, pos, len, src)
            .await
            .map(|_| ());
    }
    // ext4_dio_write_checks
    let (extend, overwrite, unwritten, unaligned) = loop {
        let _g = crate::kfn!("ext4_dio_write_checks");
        let unaligned = (pos | len) & (PAGE_SIZE - 1) != 0;
        let extend = {
            let m = ei.mem.borrow();
            pos + len > m.i_size || pos + len > m.i_disksize
        };
        let (overwrite, unwritten) = ext4_overwrite_io(k, ei, pos, len).await?;
        if shared && (extend || !overwrite || (unaligned && unwritten)) {
            unlock(true);
            shared = false;
            lock(false).await;
            continue;
        }
        break (extend, overwrite, unwritten, unaligned);
    };
    if !shared && unaligned && (!overwrite || unwritten) {
        super::inode_ops::inode_dio_wait(ei).await;
    }
    let mut r = Ok(());
    if extend {
        r = async {
            let h = super::handle::ext4_journal_start(k, ei, HandleType::Inode, 2).await?;
            let r = super::inode_ops::ext4_orphan_add(k, ei);
            super::handle::ext4_journal_stop(k, h);
            r
        }
        .await;
    }
    let mut fallback = false;
    if r.is_ok() {
        // ext4_iomap_overwrite_ops when shared and nothing is unwritten:
        // a lookup, never an allocation.
        match iomap_dio_rw_write(k, ei, pos, bytes, shared && !unwritten).await {
            Ok(()) => {}
            Err(DioStop::NotBlk) => fallback = true,
            Err(DioStop::Err(e)) => r = Err(e),
        }
    }
    if extend && r.is_err() {
        // ext4_inode_extension_cleanup(inode, ret < 0): the blocks the
        // write allocated past EOF go again (ext4_truncate_failed_write).
        let alloc_end = (pos + len).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let r2 = super::inode_ops::ext4_truncate_failed_write(k, ei, alloc_end).await;
        r = r.and(r2);
    }
    if extend {
        // ext4_inode_extension_cleanup: off the orphan list if the end_io
        // left it there (an error, or i_disksize moved meanwhile; after an
        // error ext4_truncate takes it off in its own handle: the same
        // end state).
        let on_list =
            k.fs.borrow_mut()
                .orphan_list()
                .is_ok_and(|l| l.contains(&ei.ino));
        if on_list {
            if let Ok(h) = super::handle::ext4_journal_start(k, ei, HandleType::Inode, 2).await {
                let r2 = super::inode_ops::ext4_orphan_del(k, ei);
                super::handle::ext4_journal_stop(k, h);
                r = r.and(r2);
            }
        }
    }
    unlock(shared);
    r?;
    if fallback {
        let src = super::buffered::WriteSource::Bytes(bytes);
        super::buffered::ext4_buffered_write_iter(k, ei, pos, len, src).await?;
        filemap_write_and_wait_range(k, ei, pos, pos + len - 1).await?;
    }
    Ok(())
}

/// v6.9 fs/ext4/file.c `ext4_overwrite_io`: the write ends inside
/// `i_size` and one `ext4_map_blocks` lookup (no handle) finds every
/// block of it allocated; `unwritten` when they are not all written.
/// Returns (overwrite, unwritten).
async fn ext4_overwrite_io(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    len: u64,
) -> KResult<(bool, bool)> {
    if pos + len > ei.i_size() {
        return Ok((false, false));
    }
    let lblk = pos / PAGE_SIZE;
    let blklen = ((pos + len - 1) / PAGE_SIZE - lblk + 1) as u32;
    let m = ext4_map_blocks_lookup(k, ei, lblk as u32, blklen).await?;
    if m.m_pblk.is_none() || m.m_len < blklen {
        return Ok((false, false));
    }
    Ok((true, m.unwritten))
}

/// `iomap_dio_rw` for a write (v6.9 fs/iomap/direct-io.c `__iomap_dio_rw`
/// with ext4's `ext4_iomap_begin` and `ext4_dio_write_end_io`):
/// - `kiocb_invalidate_pages`: write back the range and invalidate its
///   page cache; any failure is -ENOTBLK, before `inode_dio_begin`;
/// - `inode_dio_begin`; per block, `ext4_iomap_begin`: a lookup; an
///   allocated block (written or unwritten) is used as it is, a hole is
///   allocated by `ext4_iomap_alloc` in its own handle: a written block at
///   or past `i_size` (`EXT4_GET_BLOCKS_CREATE`), an unwritten one inside
///   it (`EXT4_GET_BLOCKS_IO_CREATE_EXT`), or -ENOTBLK for a hole in a
///   block-mapped file ("We cannot fill holes in indirect tree based
///   inodes"); with `overwrite_only` (ext4_iomap_overwrite_ops) a lookup
///   only;
/// - `iomap_dio_bio_iter`: -EINVAL when the range is not aligned to the
///   device's logical block size (the blocks may already be allocated);
///   one write bio per block; the part of a new or unwritten block the
///   write does not cover is written as zeros (`iomap_dio_zero`);
/// - wait for the bios; `ext4_dio_write_end_io`: convert the unwritten
///   blocks (`ext4_convert_unwritten_extents`, a handle per block here),
///   then, past `i_disksize` or `i_size`, `ext4_handle_inode_extension`
///   (a handle: both sizes move up, the inode is written and taken off the
///   orphan list);
/// - `kiocb_invalidate_post_direct_write` when the write completed with
///   no error: invalidate the range again; a failure is
///   `dio_warn_stale_pagecache`; `inode_dio_end`.
///
/// The lost-write oracle records the write once its end_io ran.
/// Simplifications: one `ext4_map_blocks` per block where the kernel maps
/// an extent at a time (the same locks, as often as there are blocks); one
/// bio per block; every block is mapped before the first bio, so a
/// -ENOTBLK from a later extent falls back for the whole write where the
/// kernel has written the extents before it directly (the buffered
/// fallback then writes the same bytes through the page cache: only the
/// path differs, and no built-in row writes directly into a block-mapped
/// hole). Precondition: `i_rwsem` held.
async fn iomap_dio_rw_write(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    bytes: &[u8],
    overwrite_only: bool,
) -> Result<(), DioStop> {
    let _f = crate::kfn!("iomap_dio_rw");
    let len = bytes.len() as u64;
    let end = pos + len - 1;
    // kiocb_invalidate_pages
    if filemap_write_and_wait_range(k, ei, pos, end).await.is_err()
        || invalidate_inode_pages2_range(k, ei, pos, end)
            .await
            .is_err()
    {
        return Err(DioStop::NotBlk);
    }
    inode_dio_begin(ei).await;
    let r: Result<(), DioStop> = async {
        let mut blocks = Vec::new(); // (lblk, pblk, zero the rest)
        let mut any_unwritten = false;
        for lblk in pos / PAGE_SIZE..=end / PAGE_SIZE {
            let _g = crate::kfn!("ext4_iomap_begin");
            let m = ext4_map_blocks_lookup(k, ei, lblk as u32, 1).await?;
            let m = match m.m_pblk {
                Some(_) => m,
                // An overwrite found every block allocated under i_rwsem,
                // which every remover holds exclusively: cannot happen.
                None if overwrite_only => return Err(DioStop::Err(Errno::EIO)),
                None => {
                    let _a = crate::kfn!("ext4_iomap_alloc");
                    let flags = if lblk * PAGE_SIZE >= ei.i_size() {
                        MapFlags::CREATE
                    } else if ei.test_flag(crate::engine::inode::EXT4_EXTENTS_FL) {
                        MapFlags::CREATE | MapFlags::UNWRIT_EXT
                    } else {
                        return Err(DioStop::NotBlk);
                    };
                    let h = super::handle::ext4_journal_start(k, ei, HandleType::Map, 8).await?;
                    let m = super::inode_ops::ext4_map_blocks(k, ei, lblk as u32, flags).await;
                    super::handle::ext4_journal_stop(k, h);
                    m?
                }
            };
            let Some(pblk) = m.m_pblk else {
                return Err(Errno::EIO.into());
            };
            any_unwritten |= m.unwritten;
            blocks.push((lblk, pblk, m.new || m.unwritten));
        }
        // iomap_dio_bio_iter
        if (pos | len) & (BDEV_LOGICAL_BLOCK_SIZE - 1) != 0 {
            return Err(Errno::EINVAL.into());
        }
        let mut waits = Vec::new();
        for (lblk, pblk, zero_rest) in blocks.iter().copied() {
            let Some(kk) = k.me() else { break };
            let b0 = lblk * PAGE_SIZE;
            let (s, e) = (pos.max(b0), (pos + len).min(b0 + PAGE_SIZE));
            let part = bytes[(s - pos) as usize..(e - pos) as usize].to_vec();
            let at = (s - b0) as usize;
            let ino = ei.ino;
            let (_, done) = submit_bio_blocks(pblk, 1, true, move || {
                let bs = kk.block_size() as usize;
                let mut buf = vec![0u8; bs];
                let mut prov = vec![0u32; bs];
                if !zero_rest {
                    if let Err(err) = kk.fs.borrow_mut().read_data_block(pblk, &mut buf) {
                        kk.engine_error("iomap_dio_bio_end_io", err);
                        return;
                    }
                    prov = kk.log.borrow().block_prov(pblk, bs);
                }
                buf[at..at + part.len()].copy_from_slice(&part);
                prov[at..at + part.len()].fill(ino);
                if let Err(err) = kk.fs.borrow_mut().write_data_block(pblk, &buf) {
                    kk.engine_error("iomap_dio_bio_end_io", err);
                }
                kk.log.borrow_mut().set_block_prov(pblk, prov);
            });
            waits.push(done);
        }
        for done in waits {
            done.wait().await;
        }
        // ext4_dio_write_end_io
        if any_unwritten {
            let unw: Vec<(u64, u64)> = blocks.iter().map(|&(l, p, _)| (l, p)).collect();
            super::writeback::ext4_end_io_rsv_work(k, ei, &unw, false).await;
        }
        let past = {
            let m = ei.mem.borrow();
            pos + len > m.i_disksize || pos + len > m.i_size
        };
        if past {
            let _e = crate::kfn!("ext4_handle_inode_extension");
            let h = super::handle::ext4_journal_start(k, ei, HandleType::Inode, 2).await?;
            {
                let mut m = ei.mem.borrow_mut();
                m.i_size = m.i_size.max(pos + len);
                m.i_disksize = m.i_disksize.max(pos + len);
            }
            let r = k
                .ext4_mark_inode_dirty(ei)
                .and_then(|()| super::inode_ops::ext4_orphan_del(k, ei));
            super::handle::ext4_journal_stop(k, h);
            r?;
        }
        k.log.borrow_mut().record_write(
            ei.ino,
            pos,
            bytes.to_vec(),
            crate::sim::current_task_name(),
        );
        Ok(())
    }
    .await;
    // v6.9 fs/iomap/direct-io.c iomap_dio_complete: "if (!dio->error &&
    // dio->size && (dio->flags & IOMAP_DIO_WRITE))
    // kiocb_invalidate_post_direct_write()". An error skips it, and so does
    // a -ENOTBLK (which __iomap_dio_rw turns into 0 without setting
    // dio->error) here: the model maps every block before it submits a
    // bio, so a -ENOTBLK leaves dio->size at 0.
    if r.is_ok()
        && invalidate_inode_pages2_range(k, ei, pos, end)
            .await
            .is_err()
    {
        dio_warn_stale_pagecache(k, ei);
    }
    inode_dio_end(ei).await;
    r
}
