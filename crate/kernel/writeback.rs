//! Writeback: `ext4_writepages` -> `mpage_prepare_extent_to_map` (lock the
//! dirty pages) -> `mpage_map_and_submit_extent` (`mpage_map_one_extent`
//! allocates delayed/unmapped blocks) -> `ext4_bio_write_page` (a write
//! bio whose completion is its own schedulable event); also
//! `filemap_write_and_wait_range`, `invalidate_inode_pages2_range` and
//! `truncate_pagecache_range`.
//!
//! - Journalled data (data=journal or chattr +j) goes through
//!   [`write_end_fn`] into the running transaction, never a bio.
//! - [`writeback_single_inode`]: one inode's `I_SYNC` turn in sync(2)'s or
//!   the flusher's writeback.
//! - Kernels before v2.6.27 write page by page (2.6.25's
//!   `generic_writepages`).
//! - `invalidate_inode_pages2_range` fails on a page still dirty: ext4 has no
//!   `->launder_page` to write it first.
//! - The unwritten-extent conversion runs in the end_io worker
//!   (`ext4_end_io_rsv_work`).

use crate::engine::map::MapFlags;
use crate::sim::Page;

use super::handle::{
    ext4_journal_start, ext4_journal_start_reserved, ext4_journal_stop, HandleType,
};
use crate::scenario::history::Change;

use super::inode_ops::ext4_map_blocks;
use super::pagecache::PAGE_SIZE;
use super::state::{state_bits, Errno, Ext4InodeInfo, KResult, Kernel};

/// The BUG of `ext4_writepages` (v4.12/v4.13 fs/ext4/inode.c) when it meets
/// an inode that still has inline data and may keep it inline: only a
/// conversion clears `EXT4_STATE_MAY_INLINE_DATA`, so a dirty page of such
/// an inode (a store through a mapping that no conversion preceded) is a
/// bug, not a warning.
pub const BUG_INLINE_WRITEPAGES: &str =
    "ext4_writepages: BUG_ON(ext4_test_inode_state(inode, EXT4_STATE_MAY_INLINE_DATA))";

fn idx_range(first: u64, last: u64) -> (u64, u64) {
    (first / PAGE_SIZE, last / PAGE_SIZE)
}

/// `ext4_writepages` on the byte range `[first, last]` of `ei`
/// (`sync` = WB_SYNC_ALL: wait for pages already under writeback).
/// Kernels before v2.6.27 write page by page (`generic_writepages_2008`).
///
/// v4.13 (and v5.5) fs/ext4/inode.c `ext4_writepages`: `percpu_down_read`
/// of `s_journal_flag_rwsem` around everything (c8585c6fcaf2, v4.7;
/// `s_writepages_rwsem` from v5.6-rc3, the lock class name follows the
/// run's kernel), then by inode: `S_DAX` -> `dax_writeback_mapping_range`;
/// journalled data -> `write_cache_pages` with `ext4_writepage`
/// ([`ext4_journalled_writepages`]); otherwise the mpage path
/// ([`ext4_do_writepages`], the name v6.3 gave that body: handle, then
/// `mpage_prepare_extent_to_map` locks the dirty pages, then
/// `mpage_map_and_submit_extent`).
/// Lock order: `s_journal_flag_rwsem` (r) -> transaction start -> page
/// lock -> `i_data_sem`.
pub async fn ext4_writepages(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
    sync: bool,
) -> KResult<()> {
    if k.version() < super::state::DELALLOC_MERGED {
        return generic_writepages_2008(k, ei, first, last, sync).await;
    }
    let _f = crate::kfn!("ext4_writepages");
    if let Some(s) = k.s_journal_flag_rwsem {
        s.down_read().await;
    }
    ei.i_flags_loc.read().await;
    let r = if ei.is_dax() {
        super::dax::dax_writeback_mapping_range(ei).await
    } else if super::inode_ops::ext4_should_journal_data(k, ei) {
        ext4_journalled_writepages(k, ei, first, last, sync).await
    } else {
        ext4_do_writepages(k, ei, first, last, sync).await
    };
    if let Some(s) = k.s_journal_flag_rwsem {
        s.up_read();
    }
    r
}

/// The data=journal branch of v4.13 `ext4_writepages`: `write_cache_pages`
/// locks each dirty page, `clear_page_dirty_for_io`, and `ext4_writepage`
/// hands a `PageChecked` page (dirtied through a mapping:
/// `ext4_journalled_set_page_dirty`) to `__ext4_journalled_writepage`,
/// which unlocks the page, starts a handle, locks the page again, journals
/// its buffers and stops the handle.
///
/// The buffers are journalled in that handle ([`write_end_fn`]): no bio,
/// no `PG_writeback`; the commit that takes the handle's transaction
/// writes them to the log, the checkpoint home, and a crash before that
/// commit loses them.
///
/// A page whose buffer is delayed or unwritten is redirtied and skipped, as
/// `ext4_writepage` does: before 4c54659269ec (v4.7) `chattr +j` can leave
/// such pages, whose data then never reaches the disk through this path.
///
/// Simplification: every dirty page of a journal-data inode is taken as
/// `PageChecked`. A page is dirty here only through a mapping
/// (`ext4_journalled_set_page_dirty` sets the flag): write(2) journals in
/// `ext4_journalled_write_end` and leaves the page clean.
/// Precondition: `s_journal_flag_rwsem` held (read).
pub async fn ext4_journalled_writepages(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
    sync: bool,
) -> KResult<()> {
    let _f = crate::kfn!("write_cache_pages");
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    for (idx, page) in ei.mapping.dirty_pages(fi, li) {
        if !write_cache_pages_lock(ei, idx, page, sync).await {
            continue;
        }
        // ext4_writepage: "We cannot do block allocation or other extent
        // handling in this function": a page with a delayed or unwritten
        // buffer (ext4_bh_delay_or_unwritten) is redirtied and left as it
        // is (clear_page_dirty_for_io, then redirty_page_for_writepage).
        let delay_or_unwritten = ei
            .mapping
            .with_page(idx, |ps| ps.bh.delay || ps.bh.unwritten)
            .unwrap_or(false);
        if delay_or_unwritten {
            page.unlock();
            continue;
        }
        let _w = crate::kfn!("__ext4_journalled_writepage");
        // clear_page_dirty_for_io, ClearPageChecked, get_bh on the
        // buffers (bget_one); unlock before the handle starts.
        ei.mapping.set_page_dirty(idx, false);
        ei.mapping.with_page(idx, |ps| {
            ps.set_pte_writable(false);
            ps.b_count += 1;
        });
        page.unlock();
        let put_bh = || {
            ei.mapping
                .with_page(idx, |ps| ps.b_count = ps.b_count.saturating_sub(1));
        };
        let handle = match ext4_journal_start(k, ei, HandleType::WritePage, 8).await {
            Ok(h) => h,
            Err(e) => {
                put_bh();
                return Err(e);
            }
        };
        page.lock().await;
        if ei.mapping.find_get_page(idx) != Some(page) {
            // The page got truncated from under us.
            ext4_journal_stop(k, handle);
            page.unlock();
            continue;
        }
        put_bh();
        // do_journal_get_write_access + write_end_fn (an unmapped buffer
        // is skipped: "if (!buffer_mapped(bh) || buffer_freed(bh)) return
        // 0"). Nothing here maps or converts a block.
        let r = write_end_fn(k, ei, idx);
        ext4_journal_stop(k, handle);
        page.unlock();
        r?;
    }
    Ok(())
}

/// `write_cache_pages`'s turn for dirty page `page`, found at `idx` by the
/// tag lookup (v4.13 mm/page-writeback.c; v5.5 fs/ext4/inode.c
/// `mpage_prepare_extent_to_map` does the same): lock it; skip it if it
/// was truncated (`page->mapping != mapping`) or cleaned meanwhile; a page
/// under writeback is waited for by a data-integrity pass (`sync`,
/// WB_SYNC_ALL) and skipped by another. Returns whether the page is now
/// locked by the caller.
pub async fn write_cache_pages_lock(ei: &Ext4InodeInfo, idx: u64, page: Page, sync: bool) -> bool {
    page.lock().await;
    let ok = super::fault::still_cached(ei, idx, page)
        && ei.mapping.with_page(idx, |ps| ps.dirty).unwrap_or(false);
    if !ok {
        page.unlock();
        return false;
    }
    if page.is_writeback() {
        if sync {
            page.wait_on_writeback().await;
        } else {
            page.unlock();
            return false;
        }
    }
    true
}

/// `write_end_fn` on a page's buffer (v4.13 fs/ext4/inode.c, walked by
/// `__ext4_journalled_writepage` after `do_journal_get_write_access`, and
/// by `ext4_journalled_write_end`): `ext4_handle_dirty_metadata(handle,
/// NULL, bh)`, so the page's bytes join the running transaction as
/// journalled data (the engine's [`crate::engine::fs::Ext4Fs::ext4_journal_data_block`]).
/// A page with no block mapped has nothing to journal. Preconditions: a
/// handle held, the page locked.
pub fn write_end_fn(k: &Kernel, ei: &Ext4InodeInfo, idx: u64) -> KResult<()> {
    let Some((pblk, data, prov)) = ei.mapping.page_block_contents(idx) else {
        return Ok(());
    };
    k.fs.borrow_mut()
        .ext4_journal_data_block(pblk, &data)
        .map_err(|e| k.engine_error("write_end_fn", e))?;
    k.log.borrow_mut().set_block_prov(pblk, prov);
    Ok(())
}

/// The mpage body of `ext4_writepages` (v4.13 fs/ext4/inode.c; split out as
/// `ext4_do_writepages` in v6.3): `mpage_prepare_extent_to_map`,
/// `mpage_map_and_submit_extent`, `ext4_bio_write_page`.
/// Precondition: `s_journal_flag_rwsem` held (read) when the kernel has it.
pub async fn ext4_do_writepages(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
    sync: bool,
) -> KResult<()> {
    let (fi, li) = idx_range(first, last);
    // v5.5 ext4_writepages: `if (!mapping->nrpages ||
    // !mapping_tagged(mapping, PAGECACHE_TAG_DIRTY)) goto out_writepages`
    ei.mapping.i_pages_loc.read().await;
    if ei.mapping.dirty_pages(fi, li).is_empty() {
        return Ok(());
    }
    // "If we have inline data and arrive here, it means that we will soon
    // create the block for the 1st page, so we'd better clear the inline
    // data here."
    if super::inline::ext4_has_inline_data(ei) {
        ext4_writepages_destroy_inline_data(k, ei).await?;
    }
    let handle = ext4_journal_start(k, ei, HandleType::WritePage, 8).await?;
    // mpage_prepare_extent_to_map, under the handle:
    // pagevec_lookup_range_tag, then lock each page it found
    ei.mapping.i_pages_loc.note_read();
    let mut locked: Vec<(u64, Page)> = Vec::new();
    for (idx, page) in ei.mapping.dirty_pages(fi, li) {
        // the same lock-and-check as write_cache_pages
        if write_cache_pages_lock(ei, idx, page, sync).await {
            locked.push((idx, page));
        }
    }
    // mpage_map_and_submit_extent
    let mut r = Ok(());
    for &(idx, _) in &locked {
        let bh = ei.mapping.with_page(idx, |ps| ps.bh).unwrap_or_default();
        // mpage_add_bh_to_extent: delayed, unmapped and unwritten buffers
        if bh.delay || bh.b_blocknr.is_none() || bh.unwritten {
            if let Err(e) = mpage_map_one_extent(k, ei, idx).await {
                r = Err(e);
                break;
            }
        }
    }
    // ext4_bio_write_page -> io_submit_add_bh: a page whose block follows
    // the previous page's goes into the same bio; another block submits
    // the bio first (ext4_io_submit). The pages are unlocked once they are
    // in a bio; the last bio goes out before the handle stops.
    if r.is_ok() {
        let mut group: Vec<(u64, Page)> = Vec::new();
        let mut next: Option<u64> = None;
        for &(idx, page) in &locked {
            let pblk = ei.mapping.with_page(idx, |ps| ps.bh.b_blocknr).flatten();
            if pblk.is_none() || pblk != next {
                ext4_bio_write_pages(k, ei, &group);
                group.clear();
            }
            group.push((idx, page));
            next = pblk.map(|b| b + 1);
        }
        ext4_bio_write_pages(k, ei, &group);
    }
    for (_, page) in locked {
        page.unlock();
    }
    ext4_journal_stop(k, handle);
    r
}

/// One bio for `group`, pages whose blocks follow each other (v5.5
/// fs/ext4/page-io.c `io_submit_add_bh` adds them to `io->io_bio` while
/// `bh->b_blocknr == io->io_next_block`; `ext4_io_submit` submits it); see
/// [`ext4_bio_write_page`] for one page. The completion (`ext4_end_bio`)
/// writes every page's block; the written ones end writeback there, the
/// unwritten ones go to one conversion work for the bio's io_end
/// (`ext4_add_complete_io`), which converts each and then ends their
/// writeback.
fn ext4_bio_write_pages(k: &Kernel, ei: &Ext4InodeInfo, group: &[(u64, Page)]) {
    if group.is_empty() {
        return;
    }
    let _f = crate::kfn!("ext4_bio_write_page");
    let mut pages = Vec::new();
    for &(idx, page) in group {
        ei.mapping.set_page_dirty(idx, false);
        let Some(p) = ei
            .mapping
            .with_page(idx, |ps| {
                ps.set_pte_writable(false);
                let rsv = std::mem::take(&mut ps.io_end_rsv_handle);
                // The io_end remembers the extent is unwritten
                // (EXT4_IO_END_UNWRITTEN); the buffer itself is written
                // from here on: v4.13 fs/ext4/inode.c
                // mpage_map_and_submit_buffers (mpage_process_page in
                // later kernels) clears it (`clear_buffer_unwritten`) once
                // the extent is mapped, before the bio goes out.
                let unw = std::mem::take(&mut ps.bh.unwritten);
                ps.bh
                    .b_blocknr
                    .map(|b| (idx, page, b, unw, rsv, ps.data.clone(), ps.prov.clone()))
            })
            .flatten()
        else {
            continue;
        };
        page.set_writeback();
        pages.push(p);
    }
    let Some(first) = pages.first().map(|p| p.2) else {
        return;
    };
    let Some(k_rc) = k.me() else { return };
    let name = ei.name.clone();
    let n = pages.len() as u32;
    crate::sim::submit_bio_blocks(first, n, true, move || {
        let k = k_rc;
        let mut unwritten = Vec::new();
        let mut rsv_all = true;
        for (idx, page, pblk, unw, rsv, data, prov) in pages {
            if let Err(e) = k.fs.borrow_mut().write_data_block(pblk, &data) {
                k.engine_error("ext4_end_bio", e);
            }
            k.log.borrow_mut().set_block_prov(pblk, prov);
            if unw {
                rsv_all &= rsv;
                unwritten.push((idx, page, pblk));
            } else {
                // ext4_finish_bio
                page.end_writeback();
            }
        }
        let Some(&(first_idx, _, _)) = unwritten.first() else {
            return;
        };
        let has_journal = k.fs.borrow().is_journalled();
        crate::sim::warn_on(!rsv_all && has_journal, WARN_IO_END_NO_HANDLE);
        let worker = format!("kworker ext4-rsv-conversion {name} {first_idx}");
        crate::sim::spawn_in("kworker", worker, async move {
            if let Ok(ei) = k.inode(&name) {
                let blocks: Vec<(u64, u64)> = unwritten.iter().map(|&(i, _, b)| (i, b)).collect();
                ext4_end_io_rsv_work(&k, &ei, &blocks, rsv_all).await;
            }
            // ext4_release_io_end -> ext4_finish_bio
            for (_, page, _) in unwritten {
                page.end_writeback();
            }
        });
    });
}

/// The release that made waiting for writeback before changing a page
/// depend on the device: 1d1d1a767206 ("mm: only enforce stable page
/// writes if the backing device requires it", v3.9).
const STABLE_PAGES: crate::scenario::history::KernelVersion =
    crate::scenario::history::KernelVersion::new(3, 9);

/// `wait_for_stable_page(page)` (v3.9 mm/page-writeback.c; v5.10 tests
/// `SB_I_STABLE_WRITES` instead of `bdi_cap_stable_pages_required`,
/// 1cb039f3dc16; v5.16 `folio_wait_stable`): wait for `PG_writeback` to
/// clear only when the device needs the page's contents stable during I/O
/// (the scenario's `stable_writes`, off by default as for an ordinary
/// disk). Otherwise a writer changes the page under writeback and the page
/// is dirtied again, to be written once more. Callers hold the page lock.
///
/// Simplification: before v3.9 the model's kernels (2.6.25) do not wait
/// here at all (2.6.25 `__grab_cache_page` and `block_page_mkwrite` have
/// no such wait); v3.0..v3.8, whose `block_page_mkwrite` and
/// `grab_cache_page_write_begin` waited always, are no scenario's version.
pub async fn wait_for_stable_page(k: &Kernel, page: Page) {
    if k.version() >= STABLE_PAGES && k.rc.mount.stable_writes {
        page.wait_on_writeback().await;
    }
}

/// Writeback before v2.6.27: 2.6.25 mm/page-writeback.c
/// `generic_writepages` -> `write_cache_pages` locks each dirty page (for
/// WB_SYNC_ALL waiting for writeback already under way) and calls 2.6.25
/// fs/ext4/inode.c `ext4_ordered_writepage` (data=ordered): start a handle
/// with the page locked, `block_write_full_page(page, ext4_get_block)` maps
/// an unmapped buffer (`i_data_sem`), sets `PG_writeback`, unlocks the
/// page and submits the bio (completion ends writeback); then the handle
/// stops. Lock order page lock -> jbd2_handle -> i_data_sem, the 2008 one
/// (the "inverse locking order" rework of 2.6.27 made it handle first).
/// Simplification: the `jbd2_journal_dirty_data` ordered-data list is not
/// kept (the commit does not wait for these buffers).
async fn generic_writepages_2008(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
    sync: bool,
) -> KResult<()> {
    let _f = crate::kfn!("generic_writepages");
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    for (idx, page) in ei.mapping.dirty_pages(fi, li) {
        page.lock().await;
        let ok = super::fault::still_cached(ei, idx, page)
            && ei.mapping.with_page(idx, |ps| ps.dirty).unwrap_or(false);
        if !ok {
            page.unlock();
            continue;
        }
        if page.is_writeback() {
            if !sync {
                page.unlock();
                continue;
            }
            page.wait_on_writeback().await;
        }
        let _g = crate::kfn!("ext4_ordered_writepage");
        let handle = match ext4_journal_start(k, ei, HandleType::WritePage, 8).await {
            Ok(h) => h,
            Err(e) => {
                page.unlock();
                return Err(e);
            }
        };
        let bh = ei.mapping.with_page(idx, |ps| ps.bh).unwrap_or_default();
        let mut r = Ok(());
        if bh.b_blocknr.is_none() {
            // block_write_full_page -> ext4_get_block(create = 1)
            match ext4_map_blocks(k, ei, idx as u32, MapFlags::CREATE).await {
                Ok(m) => {
                    ei.mapping.with_page(idx, |ps| {
                        ps.bh.b_blocknr = m.m_pblk;
                        ps.bh.new = false;
                    });
                }
                Err(e) => r = Err(e),
            }
        }
        if r.is_ok() {
            ext4_bio_write_page(k, ei, idx, page);
        }
        page.unlock();
        ext4_journal_stop(k, handle);
        r?;
    }
    Ok(())
}

/// The start of `ext4_writepages` (v4.12 and v4.13 fs/ext4/inode.c, the
/// `ext4_has_inline_data(inode)` block before the mpage loop) for an inode
/// that still has inline data: start a one-credit handle,
/// `BUG_ON(ext4_test_inode_state(inode, EXT4_STATE_MAY_INLINE_DATA))`, then
/// `ext4_destroy_inline_data` under that handle, stopped before any page is
/// locked. The state bit is clear when a delalloc write converted
/// (`ext4_da_convert_inline_data_to_extent` dirtied page 0); it is still
/// set when a store through a mapping dirtied the page with no conversion
/// (before 7b4cc9787fe3 put one in `ext4_page_mkwrite`): the BUG.
/// Precondition: no handle held, no page locked.
async fn ext4_writepages_destroy_inline_data(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let handle = ext4_journal_start(k, ei, HandleType::Inode, 1).await?;
    if ei.mem.borrow().i_state_flags & state_bits::EXT4_STATE_MAY_INLINE_DATA != 0 {
        crate::sim::bug(BUG_INLINE_WRITEPAGES).await;
    }
    ei.xattr_sem.down_write().await;
    let r = if super::inline::ext4_has_inline_data(ei) {
        let r = k.fs.borrow_mut().ext4_destroy_inline_data(ei.ino);
        r.map_err(|e| k.engine_error("ext4_destroy_inline_data", e))
            .and_then(|()| super::inline::reload_inode(k, ei))
    } else {
        Ok(())
    };
    ei.xattr_sem.up_write();
    ext4_journal_stop(k, handle);
    r
}

/// `mpage_map_one_extent` (v5.5 fs/ext4/inode.c): map the page's delayed,
/// unmapped or unwritten block with `EXT4_GET_BLOCKS_CREATE`, adding
/// `EXT4_GET_BLOCKS_IO_CREATE_EXT` (allocate, or keep, the extent
/// unwritten; the end_io worker converts it) when
/// `ext4_should_dioread_nolock`, or, with Jan's 2019-11-29 proposal (as
/// Ritesh's diff writes it), while `atomic_read(&inode->i_dio_count)` is
/// non-zero (read after the pages were locked). An unwritten mapping marks
/// the page's io_end `EXT4_IO_END_UNWRITTEN` and hands it the writeback
/// handle's reserved handle (`handle->h_rsv_handle`), which exists only
/// when `ext4_writepages` reserved one (dioread_nolock).
/// Precondition: the page is locked.
pub async fn mpage_map_one_extent(k: &Kernel, ei: &Ext4InodeInfo, idx: u64) -> KResult<()> {
    let _f = crate::kfn!("mpage_map_one_extent");
    let dioread_nolock = k.ext4_should_dioread_nolock(ei);
    let unwritten = if k.applied(Change::JanDioBeginEarly) {
        // bool dio_in_progress = atomic_read(&inode->i_dio_count);
        ei.i_dio_count.read().await != 0
    } else {
        dioread_nolock
    };
    let flags = if unwritten {
        MapFlags::CREATE | MapFlags::UNWRIT_EXT | MapFlags::IO_SUBMIT
    } else {
        MapFlags::CREATE | MapFlags::IO_SUBMIT
    };
    let m = ext4_map_blocks(k, ei, idx as u32, flags).await?;
    let was_delay = ei
        .mapping
        .with_page(idx, |ps| {
            let d = ps.bh.delay;
            ps.bh.delay = false;
            ps.bh.b_blocknr = m.m_pblk;
            ps.bh.unwritten = m.unwritten;
            ps.bh.new = false;
            // io_end->handle = handle->h_rsv_handle
            ps.io_end_rsv_handle = m.unwritten && dioread_nolock;
            d
        })
        .unwrap_or(false);
    let mut mem = ei.mem.borrow_mut();
    if was_delay {
        mem.i_reserved_data_blocks = mem.i_reserved_data_blocks.saturating_sub(1);
    }
    // i_disksize follows the written-back data
    let end = ((idx + 1) * PAGE_SIZE).min(mem.i_size);
    if end > mem.i_disksize {
        mem.i_disksize = end;
        drop(mem);
        k.ext4_mark_inode_dirty(ei)?;
    }
    Ok(())
}

/// The warning of v5.5 fs/ext4/page-io.c `ext4_add_complete_io` when an
/// unwritten io_end carries no reserved handle on a journalled filesystem.
pub const WARN_IO_END_NO_HANDLE: &str = "WARN_ON(!io_end->handle && sbi->s_journal)";

/// `ext4_bio_write_page` (v5.5 fs/ext4/page-io.c): clear dirty (and
/// write-protect the PTEs, `page_mkclean`), set `PG_writeback`, submit the
/// write bio. Its completion (`ext4_end_bio`) writes the bytes to the
/// block; for a written block it ends writeback there
/// (`ext4_finish_bio`); for an unwritten one (`EXT4_IO_END_UNWRITTEN`) it
/// queues the io_end on the conversion workqueue (`ext4_add_complete_io`,
/// which warns when the io_end has no reserved handle) and writeback ends
/// only after [`ext4_end_io_rsv_work`] converted the extent.
/// Precondition: the page is locked and its buffer mapped.
pub fn ext4_bio_write_page(k: &Kernel, ei: &Ext4InodeInfo, idx: u64, page: Page) {
    ext4_bio_write_pages(k, ei, &[(idx, page)])
}

/// The conversion workqueue's work for one io_end (v5.5
/// fs/ext4/page-io.c `ext4_end_io_rsv_work` -> `ext4_do_flush_completed_IO`
/// -> `ext4_end_io` -> fs/ext4/extents.c `ext4_convert_unwritten_extents`;
/// the same since v3.11): with the io_end's reserved handle (`rsv`,
/// dioread_nolock writeback) "everything goes into it": start it
/// (`ext4_journal_start_reserved`, which joins even a transaction locked
/// for commit, so a commit waiting for a handle whose owner waits for this
/// page's writeback cannot deadlock with it), convert every block, stop
/// it. Without one, each block's conversion starts and stops its own
/// handle (`ext4_journal_start`, which waits while a commit holds the
/// transaction). A conversion is `ext4_map_blocks` with
/// `EXT4_GET_BLOCKS_IO_CONVERT_EXT` (`i_data_sem` (write)) and
/// `ext4_mark_inode_dirty` (the model's map marks the inode dirty when
/// the conversion changed it). The caller then ends the pages' writeback
/// (`ext4_release_io_end` -> `ext4_finish_bio`).
///
/// Simplification: one `ext4_map_blocks` per page, where the kernel maps
/// the io_end's range extent by extent; the same lock, taken as often as
/// there are pages, in the same order.
pub async fn ext4_end_io_rsv_work(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    blocks: &[(u64, u64)],
    rsv: bool,
) {
    let _f = crate::kfn!("ext4_end_io_rsv_work");
    let _g = crate::kfn!("ext4_convert_unwritten_extents");
    let convert = |idx: u64, pblk: u64| async move {
        let flags = MapFlags::CREATE | MapFlags::UNWRIT_EXT | MapFlags::CONVERT;
        if ext4_map_blocks(k, ei, idx as u32, flags).await.is_ok() {
            ei.mapping.with_page(idx, |ps| {
                if ps.bh.b_blocknr == Some(pblk) {
                    ps.bh.unwritten = false;
                }
            });
        }
    };
    if rsv {
        let Some(handle) = ext4_journal_start_reserved(k, HandleType::ExtConvert).await else {
            return;
        };
        for &(idx, pblk) in blocks {
            convert(idx, pblk).await;
        }
        ext4_journal_stop(k, handle);
        return;
    }
    for &(idx, pblk) in blocks {
        let handle = match ext4_journal_start(k, ei, HandleType::Map, 8).await {
            Ok(h) => h,
            Err(_) => return,
        };
        convert(idx, pblk).await;
        ext4_journal_stop(k, handle);
    }
}

/// `filemap_write_and_wait_range` (mm/filemap.c, v5.5 and 2.6.25 alike):
/// `__filemap_fdatawrite_range(WB_SYNC_ALL)` (-> `ext4_writepages`) on
/// `[first, last]`, then `__filemap_fdatawait_range` waits for every page
/// under writeback in the range.
pub async fn filemap_write_and_wait_range(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
) -> KResult<()> {
    let _f = crate::kfn!("filemap_write_and_wait_range");
    if !mapping_needs_writeback(ei).await {
        return Ok(());
    }
    ext4_writepages(k, ei, first, last, true).await?;
    filemap_fdatawait_range(ei, first, last).await;
    Ok(())
}

/// v4.13 mm/filemap.c `mapping_needs_writeback`: the mapping has pages
/// (or, for DAX, exceptional entries); otherwise a data-integrity
/// writeback of it has nothing to do. Reads the i_pages tree.
async fn mapping_needs_writeback(ei: &Ext4InodeInfo) -> bool {
    ei.mapping.i_pages_loc.read().await;
    !(ei.mapping.pages.borrow().is_empty() && ei.mapping.dax_entries.borrow().is_empty())
}

/// One inode's turn in the flusher's or sync(2)'s writeback (v5.5
/// fs/fs-writeback.c `writeback_sb_inodes` -> `__writeback_single_inode`;
/// the same in v4.4..v6.9). Under `inode->i_lock` the inode is marked
/// `I_SYNC`. An inode another writer has marked is skipped by a
/// WB_SYNC_NONE pass (`requeue_io`) and waited for by a WB_SYNC_ALL one
/// (`inode_sleep_on_writeback`: a data-integrity pass must not miss pages
/// that writer took). Then `do_writepages` (`ext4_writepages`), and
/// `inode_sync_complete` clears `I_SYNC` and wakes the waiters; a
/// WB_SYNC_ALL pass then waits for the pages under writeback
/// (`wait_sb_inodes` for sync(2)). fsync(2), `chattr` and the other
/// `filemap_write_and_wait_range` callers write the mapping without
/// `I_SYNC`, as in the kernel.
///
/// Simplifications: a skipped inode is not requeued for a later turn of
/// the same pass (the flusher's WB_SYNC_NONE work guarantees nothing
/// about it); the inode's dirty-list state (`I_DIRTY_PAGES`) is not kept:
/// WB_SYNC_ALL visits an inode with cached pages, WB_SYNC_NONE every
/// inode it is given.
pub async fn writeback_single_inode(k: &Kernel, ei: &Ext4InodeInfo, sync_all: bool) -> KResult<()> {
    let _f = crate::kfn!("writeback_sb_inodes");
    if sync_all && !mapping_needs_writeback(ei).await {
        return Ok(());
    }
    ei.i_state_loc.write().await;
    if ei.i_sync.get() {
        if !sync_all {
            return Ok(());
        }
        let _w = crate::kfn!("inode_sleep_on_writeback");
        let i_sync = &ei.i_sync;
        ei.i_sync_wq.wait_event(|| !i_sync.get()).await;
    }
    ei.i_sync.set(true);
    let r = ext4_writepages(k, ei, 0, u64::MAX / 2, sync_all).await;
    // inode_sync_complete
    ei.i_state_loc.write().await;
    ei.i_sync.set(false);
    ei.i_sync_wq.wake_up();
    r?;
    if sync_all {
        filemap_fdatawait_range(ei, 0, u64::MAX / 2).await;
    }
    Ok(())
}

/// `__filemap_fdatawait_range` (v5.5 mm/filemap.c): wait for every page of
/// `[first, last]` under writeback.
pub async fn filemap_fdatawait_range(ei: &Ext4InodeInfo, first: u64, last: u64) {
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    for (_, page) in ei.mapping.find_get_pages(fi, li) {
        if page.is_writeback() {
            page.wait_on_writeback().await;
        }
    }
}

/// `invalidate_inode_pages2_range` (v5.5 mm/truncate.c): for each cached
/// page of `[first, last]`: lock it, skip it if truncated meanwhile, wait
/// for writeback, unmap it from every process (`unmap_mapping_pages`: the
/// PTEs go, a dirty PTE's dirtiness stays on the page), `do_launder_page`
/// (ext4 has no `->launder_page`: nothing), then `invalidate_complete_page2`,
/// which fails on a dirty page (its dirty buffers cannot be released, and
/// `PageDirty` is checked under the i_pages lock): the page stays and the
/// result is -EBUSY. Clean pages are dropped.
///
/// Simplification: the unmap is the PTE's writable bit of the model (one
/// shared mapping per page), without `i_mmap_rwsem`; no built-in takes
/// `i_mmap_rwsem` elsewhere on a path that races this one.
pub async fn invalidate_inode_pages2_range(
    _k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
) -> KResult<()> {
    let _f = crate::kfn!("invalidate_inode_pages2_range");
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    let mut ret = Ok(());
    for (idx, page) in ei.mapping.find_get_pages(fi, li) {
        page.lock().await;
        if !super::fault::still_cached(ei, idx, page) {
            page.unlock();
            continue;
        }
        page.wait_on_writeback().await;
        // unmap_mapping_pages; do_launder_page: no ->launder_page
        let dirty = ei
            .mapping
            .with_page(idx, |ps| {
                ps.set_pte_writable(false);
                // A buffer someone holds (get_bh, e.g.
                // __ext4_journalled_writepage between its unlock and its
                // relock) is busy: try_to_release_page ->
                // jbd2_journal_try_to_free_buffers fails as for a dirty
                // page, and the page stays.
                ps.dirty || ps.b_count > 0
            })
            .unwrap_or(false);
        // invalidate_complete_page2
        ei.mapping.i_pages_loc.write().await;
        if dirty {
            ret = Err(Errno::EBUSY);
        } else {
            ei.mapping.remove_page(idx);
        }
        page.unlock();
    }
    ret
}

/// v4.13 mm/truncate.c `truncate_pagecache_range` ->
/// `truncate_inode_pages_range`: drop the pages of `[first, last]`, dirty or
/// not. Preconditions: `i_rwsem` and `invalidate_lock` held for write.
pub async fn truncate_pagecache_range(_k: &Kernel, ei: &Ext4InodeInfo, first: u64, last: u64) {
    let _f = crate::kfn!("truncate_pagecache_range");
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    for (idx, page) in ei.mapping.find_get_pages(fi, li) {
        page.lock().await;
        // truncate_inode_page: `if (page->mapping != mapping) return -EIO`
        if !super::fault::still_cached(ei, idx, page) {
            page.unlock();
            continue;
        }
        if page.is_writeback() {
            page.wait_on_writeback().await;
        }
        ei.mapping.i_pages_loc.write().await;
        ei.mapping.remove_page(idx);
        page.unlock();
    }
}
