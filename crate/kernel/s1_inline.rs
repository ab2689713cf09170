//! S1 (inline-convert-replay): write(2) to a file whose data is inline,
//! converting it to a block when the write does not fit, in the three ways
//! the registry's changes select:
//!
//! - v4.12 as merged: `ext4_convert_inline_data_nolock`: the inline bytes
//!   go into a new block that is journalled as metadata.
//! - `p:ted-2017-06-05` + `h:ted-2017-handle-first`:
//!   `reg_convert_inline_data_nolock`: handle first, then page 0 is
//!   locked, filled and dirtied (ordered data).
//! - `p:ted-2017-06-05` alone (the patch as first posted): page 0 is
//!   grabbed and locked, then `ext4_journal_start` is called: page lock ->
//!   `jbd2_handle`, against ext4's order.

use crate::engine::inode::EXT4_INLINE_DATA_FL;
use crate::engine::map::MapFlags;
use crate::scenario::history::Change;

use super::buffered::{generic_perform_write, WriteSource};
use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::state::{inode_lock, inode_unlock, state_bits, Errno, Ext4InodeInfo, KResult, Kernel};

/// Whether `ei` still holds its data inline (`ext4_has_inline_data`).
pub fn ext4_has_inline_data(ei: &Ext4InodeInfo) -> bool {
    ei.mem.borrow().i_flags & EXT4_INLINE_DATA_FL != 0
}

/// write(2) of `bytes` at `pos` to an inline-data file
/// (`ext4_buffered_write_iter` -> `ext4_write_begin` ->
/// `ext4_try_to_write_inline_data`, which converts when the write does not
/// fit), then the ordinary page-cache write.
pub async fn ext4_write_inline_iter(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    bytes: &[u8],
) -> KResult<u64> {
    let _f = crate::kfn!("ext4_buffered_write_iter");
    inode_lock(ei).await;
    let mut r = Ok(());
    if ext4_has_inline_data(ei) {
        if ted_lock_page_first(k) {
            r = ext4_da_convert_inline_data_to_extent(k, ei).await;
        }
        if r.is_ok() {
            r = ext4_convert_inline_data(k, ei).await;
        }
    }
    let r = match r {
        Ok(()) => {
            generic_perform_write(k, ei, pos, bytes.len() as u64, WriteSource::Bytes(bytes)).await
        }
        Err(e) => Err(e),
    };
    // ext4_da_write_end -> ext4_da_should_update_i_disksize: the converted
    // page 0 is mapped (not delayed), so i_disksize follows i_size now.
    let mapped = ei
        .mapping
        .with_page(0, |ps| ps.bh.b_blocknr.is_some() && !ps.bh.delay)
        .unwrap_or(false);
    let r = r.and_then(|n| {
        let grow = {
            let mut m = ei.mem.borrow_mut();
            let grow = mapped && m.i_size > m.i_disksize && m.i_size <= PAGE_BYTES as u64;
            if grow {
                m.i_disksize = m.i_size;
            }
            grow
        };
        if grow {
            k.ext4_mark_inode_dirty(ei)?;
        }
        Ok(n)
    });
    inode_unlock(ei);
    r
}

/// `ext4_da_convert_inline_data_to_extent` (2017, delalloc): a write past
/// the inline size locks page 0, fills it with the inline bytes and dirties
/// it, leaving the inline data in the inode for writeback to destroy. Used
/// with `pagecache-lock-page-first` only: it is the state in which the
/// first posting's `ext4_convert_inline_data()` (page lock, then handle)
/// meets a dirty page 0 that `ext4_writepages` (handle, then page lock)
/// also wants. `EXT4_STATE_MAY_INLINE_DATA` is cleared: `ext4_writepages`
/// destroys the inline data before writing the page. Precondition: `i_rwsem` held; no handle held.
pub async fn ext4_da_convert_inline_data_to_extent(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_da_convert_inline_data_to_extent");
    ei.mapping.i_pages_loc.write().await;
    let page = ei.mapping.add_page(0);
    page.lock().await;
    ei.xattr_sem.down_write().await;
    let data = if ext4_has_inline_data(ei) {
        k.fs.borrow_mut()
            .read_inline_data(ei.ino)
            .map_err(|e| k.engine_error("ext4_read_inline_page", e))
    } else {
        Ok(Vec::new())
    };
    if let Ok(data) = &data {
        let ps = PAGE_BYTES.min(data.len());
        ei.mapping.with_page(0, |p| {
            if !p.uptodate {
                p.data[..ps].copy_from_slice(&data[..ps]);
                p.data[ps..].fill(0);
                p.prov[..ps].fill(ei.ino);
                p.prov[ps..].fill(0);
                p.uptodate = true;
            }
            p.dirty = !data.is_empty() || p.dirty;
        });
        // writeback destroys the inline data (ext4_writepages)
        ei.mem.borrow_mut().i_state_flags &= !state_bits::EXT4_STATE_MAY_INLINE_DATA;
    }
    ei.xattr_sem.up_write();
    page.unlock();
    data.map(|_| ())
}

/// Ted's 2017 conversion as posted (`p:ted-2017-06-05` without Eric's
/// `h:ted-2017-handle-first`): page 0 locked before the transaction starts.
fn ted_lock_page_first(k: &Kernel) -> bool {
    k.applied(Change::TedConvertThroughPagecache) && !k.applied(Change::TedConvertHandleFirst)
}

/// The conversion: v4.12 fs/ext4/inline.c `ext4_convert_inline_data`
/// (journal the new block as metadata), or with `p:ted-2017-06-05` through
/// the page cache (page 0 filled and dirtied as ordered data), the
/// transaction started after page 0 is locked as posted, or before it with
/// `h:ted-2017-handle-first`. Preconditions: `i_rwsem` held; no handle held.
pub async fn ext4_convert_inline_data(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_convert_inline_data");
    let credits = 8;
    match k.applied(Change::TedConvertThroughPagecache) {
        true => {
            let lock_page_first = ted_lock_page_first(k);
            let mut handle = None;
            if !lock_page_first {
                handle = Some(ext4_journal_start(k, ei, HandleType::WriteInode, credits).await?);
            }
            // grab_cache_page_write_begin
            ei.mapping.i_pages_loc.write().await;
            let page = ei.mapping.add_page(0);
            page.lock().await;
            if lock_page_first {
                match ext4_journal_start(k, ei, HandleType::WriteInode, credits).await {
                    Ok(h) => handle = Some(h),
                    Err(e) => {
                        page.unlock();
                        return Err(e);
                    }
                }
            }
            ei.xattr_sem.down_write().await;
            let r = reg_convert_inline_data_nolock(k, ei).await;
            ei.xattr_sem.up_write();
            page.unlock();
            if let Some(h) = handle {
                ext4_journal_stop(k, h);
            }
            r
        }
        false => {
            let h = ext4_journal_start(k, ei, HandleType::WriteInode, credits).await?;
            ei.xattr_sem.down_write().await;
            let r = ext4_convert_inline_data_nolock(k, ei).await;
            ei.xattr_sem.up_write();
            ext4_journal_stop(k, h);
            r
        }
    }
}

/// Refresh the in-memory inode from the engine after a conversion.
pub(super) fn reload_inode(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let raw =
        k.fs.borrow_mut()
            .ext4_iget(ei.ino)
            .map_err(|e| k.engine_error("ext4_iget", e))?;
    let mut m = ei.mem.borrow_mut();
    m.i_flags = raw.i_flags;
    m.raw = raw;
    m.i_state_flags &= !state_bits::EXT4_STATE_MAY_INLINE_DATA;
    Ok(())
}

/// `ext4_convert_inline_data_nolock` (old): the inline bytes are copied
/// into a new block journalled as metadata (`ext4_handle_dirty_metadata`).
/// Preconditions: handle open, `xattr_sem` held (write).
pub async fn ext4_convert_inline_data_nolock(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_convert_inline_data_nolock");
    ei.i_data_sem.down_write().await;
    k.balloc_loc.write().await;
    let r =
        k.fs.borrow_mut()
            .ext4_convert_inline_data_nolock(ei.ino)
            .map_err(|e| k.engine_error("ext4_convert_inline_data_nolock", e));
    let r = r.and_then(|()| reload_inode(k, ei));
    ei.i_data_sem.up_write();
    // Page 0, if cached, now maps the new block.
    let pblk = super::inode_ops::map_locked(k, ei, 0, MapFlags::empty())
        .ok()
        .and_then(|m| m.m_pblk);
    ei.mapping.with_page(0, |ps| ps.bh.b_blocknr = pblk);
    r
}

/// `reg_convert_inline_data_nolock` (the patch): page 0 gets the inline
/// bytes and is dirtied; the block is allocated and written by writeback
/// (ordered data). Preconditions: handle open, page 0 locked, `xattr_sem`
/// held (write), `i_rwsem` held (the patch's WARN_ON).
pub async fn reg_convert_inline_data_nolock(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("reg_convert_inline_data_nolock");
    crate::sim::warn_on(!ei.inode_is_locked(), "reg_convert_inline_data_nolock");
    if !ext4_has_inline_data(ei) {
        return Ok(());
    }
    let data = {
        let mut fs = k.fs.borrow_mut();
        let d = fs
            .read_inline_data(ei.ino)
            .map_err(|e| k.engine_error("ext4_read_inline_page", e))?;
        // ext4_destroy_inline_data_nolock
        fs.ext4_destroy_inline_data(ei.ino)
            .map_err(|e| k.engine_error("ext4_destroy_inline_data_nolock", e))?;
        d
    };
    reload_inode(k, ei)?;
    let ps = PAGE_BYTES.min(data.len());
    ei.mapping.with_page(0, |p| {
        p.data[..ps].copy_from_slice(&data[..ps]);
        p.data[ps..].fill(0);
        p.prov[..ps].fill(ei.ino);
        p.uptodate = true;
        p.dirty = true;
    });
    // __block_write_begin(page, 0, inline_size, ext4_get_block)
    let m = super::inode_ops::ext4_map_blocks(k, ei, 0, MapFlags::CREATE).await?;
    let pblk = m.m_pblk.ok_or(Errno::EIO)?;
    ei.mapping.with_page(0, |p| {
        p.bh.b_blocknr = Some(pblk);
        p.bh.delay = false;
        p.bh.new = false;
    });
    Ok(())
}

const PAGE_BYTES: usize = super::pagecache::PAGE_SIZE as usize;
