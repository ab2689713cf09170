//! Inline data in the simulated paths, one function per kernel function:
//!
//! - reads: `ext4_readpage_inline`;
//! - write(2): `ext4_da_write_inline_data_begin` (delalloc) and
//!   `ext4_try_to_write_inline_data` (nodelalloc), which keep a write that
//!   fits inline and otherwise convert through the page cache
//!   (`ext4_da_convert_inline_data_to_extent`,
//!   `ext4_convert_inline_data_to_extent`), then
//!   `ext4_write_inline_data_end`. write(2) never reaches
//!   `ext4_convert_inline_data`;
//! - `ext4_convert_inline_data`, which fallocate(2) and, from 7b4cc9787fe3
//!   (v4.12) on, `ext4_page_mkwrite` call: the bytes go into a new block
//!   journalled as metadata (`ext4_convert_inline_data_nolock`), or with
//!   Ted Ts'o's unmerged 2017 patch (`p:ted-2017-06-05`) through page 0 as
//!   ordered data (`reg_convert_inline_data_nolock`).

use crate::engine::inode::EXT4_INLINE_DATA_FL;
use crate::engine::map::MapFlags;
use crate::scenario::history::Change;
use crate::sim::{Handle, Page};

use super::buffered::grab_cache_page_write_begin;
use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::pagecache::PAGE_SIZE;
use super::state::{state_bits, Ext4InodeInfo, KResult, Kernel};

/// `ext4_has_inline_data`. Precondition: `xattr_sem` held, or the caller
/// accepts a racy answer.
pub fn ext4_has_inline_data(ei: &Ext4InodeInfo) -> bool {
    ei.i_flags_loc.note_read();
    ei.test_flag(EXT4_INLINE_DATA_FL)
}

/// `ext4_get_max_inline_size`: bytes that fit inline (0 on error).
pub fn max_inline_size(k: &Kernel, ei: &Ext4InodeInfo) -> u64 {
    let mut fs = k.fs.borrow_mut();
    fs.read_inode_raw(ei.ino)
        .ok()
        .and_then(|raw| crate::engine::inline::max_inline_size(&raw, ei.ino).ok())
        .unwrap_or(0) as u64
}

/// Re-read the on-disk inode after the engine changed it (inline ops),
/// sizes included: an inline write sets `i_size`.
fn refresh(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let size = reread_inode(k, ei)?;
    let mut m = ei.mem.borrow_mut();
    m.i_size = size;
    m.i_disksize = size;
    Ok(())
}

/// The on-disk inode's flags (the in-memory migrate bit kept) and body
/// into `ei`; returns its size.
fn reread_inode(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<u64> {
    let raw =
        k.fs.borrow_mut()
            .ext4_iget(ei.ino)
            .map_err(|e| k.engine_error("ext4_iget", e))?;
    let mut m = ei.mem.borrow_mut();
    let migrate = m.i_flags & super::state::EXT4_EXT_MIGRATE;
    if std::mem::replace(&mut m.i_flags, raw.i_flags | migrate) != m.i_flags {
        ei.i_flags_loc.note_write();
    }
    let size = raw.size();
    m.raw = raw;
    Ok(size)
}

/// v4.13 fs/ext4/inline.c `ext4_readpage_inline`: the page gets the inline
/// bytes, zero-filled. Under `xattr_sem` (read) it looks again: a
/// conversion (which holds `xattr_sem` for write) may have moved the data
/// to a block since the caller's check; then it answers -EAGAIN (`false`)
/// and `ext4_readpage` reads the block (`ext4_mpage_readpages`).
/// Precondition: the page is locked.
pub async fn ext4_readpage_inline(k: &Kernel, ei: &Ext4InodeInfo, index: u64) -> KResult<bool> {
    let _f = crate::kfn!("ext4_readpage_inline");
    ei.xattr_sem.down_read().await;
    if !ext4_has_inline_data(ei) {
        ei.xattr_sem.up_read();
        return Ok(false);
    }
    // ext4_read_inline_page: min(ext4_get_inline_size, i_size_read) bytes
    let data = if index == 0 {
        k.fs.borrow_mut().read_inline_area(ei.ino).map(|mut d| {
            d.truncate(d.len().min(ei.i_size() as usize));
            d
        })
    } else {
        Ok(Vec::new())
    };
    ei.xattr_sem.up_read();
    let data = data.map_err(|e| k.engine_error("ext4_readpage_inline", e))?;
    ei.mapping.with_page(index, |ps| {
        fill_page(ei, ps, &data);
        ps.bh = Default::default();
    });
    Ok(true)
}

/// The page gets `data` (the inline bytes) and zeros after them, and is
/// uptodate.
fn fill_page(ei: &Ext4InodeInfo, ps: &mut super::pagecache::PageState, data: &[u8]) {
    ps.data_loc.note_write();
    ps.data.fill(0);
    ps.prov.fill(0);
    let n = data.len().min(PAGE_SIZE as usize);
    ps.data[..n].copy_from_slice(&data[..n]);
    ps.prov[..n].fill(ei.ino);
    ps.set_uptodate();
}

/// v4.12 fs/ext4/inline.c `ext4_read_inline_page`: page 0 gets the inline
/// bytes. Preconditions: `xattr_sem` held, page 0 locked.
/// Reads `min(ext4_get_inline_size(inode), i_size_read(inode))` bytes:
/// `i_size` may be past the inline area after a delalloc conversion.
fn ext4_read_inline_page(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let mut data =
        k.fs.borrow_mut()
            .read_inline_area(ei.ino)
            .map_err(|e| k.engine_error("ext4_read_inline_page", e))?;
    data.truncate(data.len().min(ei.i_size() as usize));
    ei.mapping.with_page(0, |ps| fill_page(ei, ps, &data));
    Ok(())
}

/// Whether page 0 is uptodate (`PageUptodate`).
fn page0_uptodate(ei: &Ext4InodeInfo) -> bool {
    ei.mapping.with_page(0, |ps| ps.uptodate).unwrap_or(false)
}

/// `ext4_test_inode_state(inode, EXT4_STATE_MAY_INLINE_DATA)`.
pub fn may_inline_data(ei: &Ext4InodeInfo) -> bool {
    ei.i_flags_loc.note_read();
    ei.mem.borrow().i_state_flags & state_bits::EXT4_STATE_MAY_INLINE_DATA != 0
}

/// `ext4_clear_inode_state(inode, EXT4_STATE_MAY_INLINE_DATA)`.
fn clear_may_inline_data(ei: &Ext4InodeInfo) {
    let mut m = ei.mem.borrow_mut();
    if m.i_state_flags & state_bits::EXT4_STATE_MAY_INLINE_DATA != 0 {
        m.i_state_flags &= !state_bits::EXT4_STATE_MAY_INLINE_DATA;
        ei.i_flags_loc.note_write();
    }
}

/// v4.12 fs/ext4/inline.c `ext4_prepare_inline_data`: whether a write
/// ending at `len` can stay inline; when it can, the inline area is made
/// that large under `xattr_sem` (write) (`ext4_update_inline_data` /
/// `ext4_create_inline_data`). Simplified: the engine grows the area when
/// `ext4_write_inline_data_end` writes the bytes, so only the lock is
/// taken here (no other task can see the size of the inline area between
/// the two: both run under the caller's `i_rwsem`).
async fn ext4_prepare_inline_data(k: &Kernel, ei: &Ext4InodeInfo, len: u64) -> bool {
    if !may_inline_data(ei) || max_inline_size(k, ei) < len {
        return false; // -ENOSPC
    }
    ei.xattr_sem.down_write().await;
    ei.xattr_sem.up_write();
    true
}

/// v4.12 fs/ext4/inline.c `ext4_da_write_inline_data_begin` (from
/// `ext4_da_write_begin` while `EXT4_STATE_MAY_INLINE_DATA` is set): a
/// one-credit handle; a write that fits stays inline (page 0 locked, the
/// inline bytes read into it under `xattr_sem` (read); returned with the
/// handle, which `ext4_da_write_end` stops); one that does not goes through
/// [`ext4_da_convert_inline_data_to_extent`] with the handle held, and the
/// caller goes on with the ordinary delalloc write (`None`).
/// From 8bc1379b82b8 (v4.18; the v5.5 and v6.9 code) the handle is
/// stopped before the conversion, which then runs with no handle held.
/// Simplified: `ext4_get_inode_loc` and `ext4_journal_get_write_access` of
/// the inode's buffer are not modelled (no lock, no wait).
/// Precondition: `i_rwsem` held.
pub async fn ext4_da_write_inline_data_begin(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    len: u64,
) -> KResult<Option<(Page, Handle)>> {
    let _f = crate::kfn!("ext4_da_write_inline_data_begin");
    let handle = ext4_journal_start(k, ei, HandleType::Inode, 1).await?;
    if !ext4_prepare_inline_data(k, ei, pos + len).await {
        if k.applied(Change::InlineAppendStopsHandle) {
            ext4_journal_stop(k, handle);
            return ext4_da_convert_inline_data_to_extent(k, ei)
                .await
                .map(|()| None);
        }
        let r = ext4_da_convert_inline_data_to_extent(k, ei).await;
        ext4_journal_stop(k, handle);
        return r.map(|()| None);
    }
    inline_write_page(k, ei, handle).await
}

/// The tail of `ext4_da_write_inline_data_begin` and
/// `ext4_try_to_write_inline_data`: page 0 locked, `xattr_sem` (read),
/// the data still inline (else the caller writes through the page cache),
/// page 0 read from the inode when not uptodate.
async fn inline_write_page(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    handle: Handle,
) -> KResult<Option<(Page, Handle)>> {
    let page = grab_cache_page_write_begin(ei, 0).await;
    ei.xattr_sem.down_read().await;
    let r = if !ext4_has_inline_data(ei) {
        Ok(false)
    } else if !page0_uptodate(ei) {
        ext4_read_inline_page(k, ei).map(|()| true)
    } else {
        Ok(true)
    };
    ei.xattr_sem.up_read();
    match r {
        Ok(true) => Ok(Some((page, handle))),
        other => {
            page.unlock();
            ext4_journal_stop(k, handle);
            other.map(|_| None)
        }
    }
}

/// v4.12 fs/ext4/inline.c `ext4_da_convert_inline_data_to_extent`: page 0
/// locked, `xattr_sem` (read), the inline bytes read into it, block 0
/// reserved for delayed allocation (`__block_write_begin(page, 0,
/// inline_size, ext4_da_get_block_prep)`), page 0 dirtied and
/// `EXT4_STATE_MAY_INLINE_DATA` cleared. The inline data stays in the
/// inode until `ext4_writepages` destroys it. Called with the handle of
/// `ext4_da_write_inline_data_begin` open (handle -> page 0, ext4's order)
/// before 8bc1379b82b8, with none from it.
/// Simplified: the failure path (`ext4_truncate_failed_write`) is not
/// modelled: a reservation cannot fail here (no quota, no ENOSPC on a
/// one-block reservation in the scenario images).
async fn ext4_da_convert_inline_data_to_extent(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_da_convert_inline_data_to_extent");
    let page = grab_cache_page_write_begin(ei, 0).await;
    ei.xattr_sem.down_read().await;
    let r = async {
        if !ext4_has_inline_data(ei) {
            clear_may_inline_data(ei);
            return Ok(());
        }
        if !page0_uptodate(ei) {
            ext4_read_inline_page(k, ei)?;
        }
        super::fault::ext4_da_get_block_prep(k, ei, 0).await?;
        ei.mapping.set_page_uptodate(0);
        ei.mapping.set_page_dirty(0, true);
        clear_may_inline_data(ei);
        Ok(())
    }
    .await;
    ei.xattr_sem.up_read();
    page.unlock();
    r
}

/// v4.12 fs/ext4/inline.c `ext4_try_to_write_inline_data` (from
/// `ext4_write_begin`, nodelalloc, while `EXT4_STATE_MAY_INLINE_DATA` is
/// set): a write that fits stays inline (one-credit handle, then page 0 as
/// in [`ext4_da_write_inline_data_begin`]); one that does not converts
/// through [`ext4_convert_inline_data_to_extent`] and the caller goes on
/// with the ordinary write (`None`). Precondition: `i_rwsem` held.
pub async fn ext4_try_to_write_inline_data(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    len: u64,
) -> KResult<Option<(Page, Handle)>> {
    let _f = crate::kfn!("ext4_try_to_write_inline_data");
    if pos + len <= max_inline_size(k, ei) {
        let handle = ext4_journal_start(k, ei, HandleType::Inode, 1).await?;
        if ext4_prepare_inline_data(k, ei, pos + len).await {
            return inline_write_page(k, ei, handle).await;
        }
        ext4_journal_stop(k, handle);
    }
    ext4_convert_inline_data_to_extent(k, ei)
        .await
        .map(|()| None)
}

/// v4.12 fs/ext4/inline.c `ext4_convert_inline_data_to_extent`
/// (nodelalloc write(2)): a handle, page 0 locked, `xattr_sem` (write),
/// the inline bytes read into page 0, the inline data destroyed, block 0
/// allocated (`__block_write_begin(page, 0, inline_size, ext4_get_block)`,
/// or `ext4_get_block_write` under dioread_nolock) and page 0 dirtied
/// (`block_commit_write`): the bytes reach the block as ordered data.
/// Simplified: the journalled-data inode's `do_journal_get_write_access`
/// is not modelled (no scenario writes an inline file with data=journal),
/// nor the failure path (the allocation of one block does not fail in the
/// scenario images).
async fn ext4_convert_inline_data_to_extent(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_convert_inline_data_to_extent");
    if !ext4_has_inline_data(ei) {
        clear_may_inline_data(ei);
        return Ok(());
    }
    let handle = ext4_journal_start(k, ei, HandleType::WritePage, 8).await?;
    let page = grab_cache_page_write_begin(ei, 0).await;
    ei.xattr_sem.down_write().await;
    let r = async {
        if !ext4_has_inline_data(ei) {
            return Ok(());
        }
        inline_into_page0(k, ei)?;
        super::fault::ext4_get_block(k, ei, 0, k.ext4_should_dioread_nolock(ei)).await?;
        ei.mapping.set_page_dirty(0, true);
        Ok(())
    }
    .await;
    ei.xattr_sem.up_write();
    page.unlock();
    ext4_journal_stop(k, handle);
    r
}

/// v4.12 fs/ext4/inline.c `ext4_write_inline_data_end` (through
/// `ext4_da_write_inline_data_end` under delalloc): copy the page's first `new_size` bytes
/// into the inode under `xattr_sem` (write); the page is clean afterwards.
/// Returns false (nothing done) if the data no longer fits inline.
/// Precondition: the page is locked.
pub async fn ext4_write_inline_data_end(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    new_size: u64,
) -> KResult<bool> {
    let _f = crate::kfn!("ext4_write_inline_data_end");
    ei.xattr_sem.down_write().await;
    let r = async {
        if !ext4_has_inline_data(ei) {
            return Ok(false);
        }
        let data = ei
            .mapping
            .with_page(0, |ps| ps.data[..new_size.min(PAGE_SIZE) as usize].to_vec())
            .unwrap_or_default();
        k.ext4_mark_inode_dirty(ei)?;
        let fit =
            k.fs.borrow_mut()
                .write_inline_data(ei.ino, &data, true)
                .map_err(|e| k.engine_error("ext4_write_inline_data_end", e))?;
        refresh(k, ei)?;
        if fit {
            ei.mapping.set_page_dirty(0, false);
        }
        Ok(fit)
    }
    .await;
    ei.xattr_sem.up_write();
    r
}

/// v4.12 fs/ext4/inline.c `ext4_convert_inline_data` (fallocate(2), and
/// `ext4_page_mkwrite` from 7b4cc9787fe3 on; the same in v6.9): when the
/// inode still has inline data, a handle, `xattr_sem` (write,
/// `ext4_write_lock_xattr`) and [`ext4_convert_inline_data_nolock`]. With
/// `p:ted-2017-06-05` a regular file goes through page 0 instead:
/// `grab_cache_page_write_begin` (page 0 locked) before
/// `ext4_journal_start` as the patch was posted, after it with
/// `h:ted-2017-handle-first` (Eric Biggers' review: "Doesn't the page lock
/// rank below transaction start?"), then [`reg_convert_inline_data_nolock`].
/// Simplified: `ext4_get_inode_loc` and the credits are not modelled (no
/// lock, no wait: they cannot change an interleaving).
pub async fn ext4_convert_inline_data(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_convert_inline_data");
    ei.i_flags_loc.read().await;
    if !ext4_has_inline_data(ei) {
        clear_may_inline_data(ei);
        return Ok(());
    }
    if k.applied(Change::TedConvertThroughPagecache) {
        let lock_page_first = !k.applied(Change::TedConvertHandleFirst);
        let mut page = None;
        if lock_page_first {
            page = Some(grab_cache_page_write_begin(ei, 0).await);
        }
        let handle = match ext4_journal_start(k, ei, HandleType::WritePage, 8).await {
            Ok(h) => h,
            Err(e) => {
                if let Some(p) = page {
                    p.unlock();
                }
                return Err(e);
            }
        };
        let page = match page {
            Some(p) => p,
            None => grab_cache_page_write_begin(ei, 0).await,
        };
        ei.xattr_sem.down_write().await;
        let r = reg_convert_inline_data_nolock(k, ei).await;
        ei.xattr_sem.up_write();
        page.unlock();
        ext4_journal_stop(k, handle);
        return r;
    }
    let handle = ext4_journal_start(k, ei, HandleType::WritePage, 8).await?;
    ei.xattr_sem.down_write().await;
    let r = if ext4_has_inline_data(ei) {
        ext4_convert_inline_data_nolock(k, ei).await
    } else {
        Ok(())
    };
    ei.xattr_sem.up_write();
    ext4_journal_stop(k, handle);
    r
}

/// v4.12 fs/ext4/inline.c `ext4_convert_inline_data_nolock` (unchanged in
/// v6.9): read the inline bytes, destroy the inline data, allocate block 0
/// (`ext4_map_blocks(EXT4_GET_BLOCKS_CREATE)`: `i_data_sem` (write)) and
/// copy the bytes into a buffer of the block device that is journalled as
/// metadata (`ext4_journal_get_create_access`,
/// `ext4_handle_dirty_metadata`). A later ordered-data write of the file
/// goes to the same block in place, and nothing revokes the journalled
/// copy: replay after a crash writes the old bytes back (S1).
/// `EXT4_STATE_MAY_INLINE_DATA` is cleared by the destroy. Page 0, when
/// cached, is not touched; the model points its buffer at the new block,
/// which the kernel's next `ext4_get_block` on it would find (a lookup:
/// no lock another task could contend with in between, since
/// `xattr_sem` (write) is held). Whether page 0 is cached is read as a
/// lookup of `i_pages` (a write_begin may be inserting it meanwhile).
/// Preconditions: handle open, `xattr_sem` held (write).
pub async fn ext4_convert_inline_data_nolock(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_convert_inline_data_nolock");
    ei.i_data_sem.down_write().await;
    k.balloc_loc.write().await;
    let r = k.ext4_mark_inode_dirty(ei).and_then(|_| {
        k.fs.borrow_mut()
            .ext4_convert_inline_data_nolock(ei.ino)
            .map_err(|e| k.engine_error("ext4_convert_inline_data_nolock", e))
    });
    let r = r.and_then(|()| reload_inode(k, ei));
    if r.is_ok() {
        let pblk = super::inode_ops::map_locked(k, ei, 0, MapFlags::empty())
            .ok()
            .and_then(|m| m.m_pblk);
        ei.mapping.i_pages_loc.note_read();
        ei.mapping.with_page(0, |ps| ps.bh.b_blocknr = pblk);
    }
    ei.i_data_sem.up_write();
    // The tail of ext4_map_blocks(EXT4_GET_BLOCKS_CREATE): a new written
    // block files the inode for the commit's data write-out.
    if r.is_ok() && super::jbd2::ext4_should_order_data(k, ei) {
        let flags = super::state::JI_WRITE_DATA | super::state::JI_WAIT_DATA;
        super::jbd2::jbd2_journal_file_inode(k, ei, flags).await;
    }
    r
}

/// `reg_convert_inline_data_nolock` (`p:ted-2017-06-05`, unmerged): as
/// posted, `WARN_ON(!inode_is_locked(inode))` first ("The inode and page
/// must be locked when this function is called"; fallocate(2) and
/// `ext4_page_mkwrite` hold no `i_rwsem` in v4.12, Eric's point), then
/// page 0 gets the inline bytes, the inline data is destroyed, block 0 is
/// allocated (`__block_write_begin(page, 0, inline_size, ext4_get_block)`)
/// and page 0 is dirtied: ordered data, written by writeback.
/// Simplified: `ext4_inode_block_unlocked_dio` + `inode_dio_wait` are not
/// modelled (an inline file has no direct I/O in flight: `ext4_direct_IO`
/// returns 0 for it), nor the journalled-data branch (no scenario journals
/// an inline file's data).
/// Preconditions: handle open, page 0 locked, `xattr_sem` held (write).
pub async fn reg_convert_inline_data_nolock(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("reg_convert_inline_data_nolock");
    crate::sim::warn_on(!ei.inode_is_locked(), "reg_convert_inline_data_nolock");
    if !ext4_has_inline_data(ei) {
        return Ok(());
    }
    inline_into_page0(k, ei)?;
    super::fault::ext4_get_block(k, ei, 0, false).await?;
    ei.mapping.with_page(0, |ps| ps.bh.delay = false);
    ei.mapping.set_page_dirty(0, true);
    Ok(())
}

/// The common start of the page-cache conversions
/// (`ext4_convert_inline_data_to_extent`, `reg_convert_inline_data_nolock`):
/// page 0 gets the inline bytes unless it is uptodate, then
/// `ext4_destroy_inline_data_nolock`. Preconditions: page 0 locked,
/// `xattr_sem` held (write).
fn inline_into_page0(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    if !page0_uptodate(ei) {
        ext4_read_inline_page(k, ei)?;
    }
    k.fs.borrow_mut()
        .ext4_destroy_inline_data(ei.ino)
        .map_err(|e| k.engine_error("ext4_destroy_inline_data_nolock", e))?;
    reload_inode(k, ei)
}

/// Refresh the in-memory inode from the engine after a conversion
/// destroyed the inline data (`ext4_destroy_inline_data_nolock` clears
/// `EXT4_STATE_MAY_INLINE_DATA`). The size is not touched: a conversion
/// does not change it.
pub(super) fn reload_inode(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    reread_inode(k, ei)?;
    ei.mem.borrow_mut().i_state_flags &= !state_bits::EXT4_STATE_MAY_INLINE_DATA;
    Ok(())
}
