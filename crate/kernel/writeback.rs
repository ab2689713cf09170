//! Writeback: `ext4_writepages` -> `mpage_prepare_extent_to_map` (lock the
//! dirty pages) -> `mpage_map_and_submit_extent` (`mpage_map_one_extent`
//! allocates delayed/unmapped blocks) -> `ext4_bio_write_page` (a write
//! bio whose completion is its own schedulable event); also
//! `filemap_write_and_wait_range`, `invalidate_inode_pages2_range` and
//! `truncate_pagecache_range`.

use crate::engine::map::MapFlags;
use crate::sim::Page;

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::inode_ops::{ext4_map_blocks, map_locked};
use super::pagecache::PAGE_SIZE;
use super::state::{state_bits, Ext4InodeInfo, KResult, Kernel};

/// The warning when writeback meets a dirty page of an inline-data inode
/// (ext4_writepages' `BUG_ON(ext4_test_inode_state(inode,
/// EXT4_STATE_MAY_INLINE_DATA))` / the WARN the 2023 thread discusses).
pub const WARN_INLINE_DIRTY_PAGE: &str = "ext4_writepages: dirty page of an inline-data inode";

fn idx_range(first: u64, last: u64) -> (u64, u64) {
    (first / PAGE_SIZE, last / PAGE_SIZE)
}

/// `ext4_writepages` on the byte range `[first, last]` of `ei`
/// (`sync` = WB_SYNC_ALL: wait for pages already under writeback).
/// Lock order: transaction start -> page lock -> `i_data_sem`.
pub async fn ext4_writepages(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
    sync: bool,
) -> KResult<()> {
    let _f = crate::kfn!("ext4_writepages");
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    let dirty = ei.mapping.dirty_pages(fi, li);
    if dirty.is_empty() {
        return Ok(());
    }
    if super::inline::ext4_has_inline_data(ei)
        && ei.mem.borrow().i_state_flags & state_bits::EXT4_STATE_MAY_INLINE_DATA == 0
    {
        ext4_writepages_destroy_inline_data(k, ei).await?;
    }
    let handle = ext4_journal_start(k, ei, HandleType::WritePage, 8).await?;
    // mpage_prepare_extent_to_map: lock the dirty pages
    let mut locked: Vec<(u64, Page)> = Vec::new();
    for idx in dirty {
        let Some(page) = ei.mapping.find_get_page(idx) else {
            continue;
        };
        page.lock().await;
        let ok = ei.mapping.find_get_page(idx) == Some(page)
            && ei.mapping.with_page(idx, |ps| ps.dirty).unwrap_or(false);
        if !ok {
            page.unlock();
            continue;
        }
        if super::inline::ext4_has_inline_data(ei) {
            // ext4_write_inline_data_end() should have copied the data into
            // the inode and cleaned the page: writeback does not expect a
            // locked dirty page here; the data stays in the page cache.
            crate::sim::warn_on(true, WARN_INLINE_DIRTY_PAGE);
            page.unlock();
            continue;
        }
        if page.is_writeback() {
            if sync {
                page.wait_on_writeback().await;
            } else {
                page.unlock();
                continue;
            }
        }
        locked.push((idx, page));
    }
    // mpage_map_and_submit_extent
    let mut r = Ok(());
    for &(idx, _) in &locked {
        let bh = ei.mapping.with_page(idx, |ps| ps.bh).unwrap_or_default();
        if bh.delay || bh.b_blocknr.is_none() {
            if let Err(e) = mpage_map_one_extent(k, ei, idx).await {
                r = Err(e);
                break;
            }
        }
    }
    for (idx, page) in locked {
        if r.is_ok() {
            ext4_bio_write_page(k, ei, idx, page);
        }
        page.unlock();
    }
    ext4_journal_stop(k, handle);
    r
}

/// The start of `ext4_writepages` for an inode whose inline data a delalloc
/// write left behind (`ext4_da_convert_inline_data_to_extent` dirtied page 0
/// and cleared `EXT4_STATE_MAY_INLINE_DATA`): `ext4_destroy_inline_data`
/// under a handle of its own, stopped before any page is locked.
/// Precondition: no handle held, no page locked.
async fn ext4_writepages_destroy_inline_data(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let handle = ext4_journal_start(k, ei, HandleType::Inode, 1).await?;
    ei.xattr_sem.down_write().await;
    let r = if super::inline::ext4_has_inline_data(ei) {
        let r = k.fs.borrow_mut().ext4_destroy_inline_data(ei.ino);
        r.map_err(|e| k.engine_error("ext4_destroy_inline_data", e))
            .and_then(|()| super::s1_inline::reload_inode(k, ei))
    } else {
        Ok(())
    };
    ei.xattr_sem.up_write();
    ext4_journal_stop(k, handle);
    r
}

/// `mpage_map_one_extent`: allocate the block of a delayed or unmapped
/// page. Unwritten (`EXT4_GET_BLOCKS_IO_CREATE_EXT`) with dioread_nolock,
/// or, with the `writepages_dio_check` switch, while `i_dio_count` > 0.
/// Precondition: the page is locked.
pub async fn mpage_map_one_extent(k: &Kernel, ei: &Ext4InodeInfo, idx: u64) -> KResult<()> {
    let _f = crate::kfn!("mpage_map_one_extent");
    let dio_in_progress = if k.switch("writepages_dio_check") == "unwritten-if-dio" {
        ei.i_dio_count.read().await != 0
    } else {
        false
    };
    let unwritten = k.dioread_nolock() || dio_in_progress;
    let flags = if unwritten {
        MapFlags::CREATE | MapFlags::UNWRIT_EXT
    } else {
        MapFlags::CREATE
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

/// `ext4_bio_write_page`: clear dirty (and write-protect the PTEs,
/// `page_mkclean`), set `PG_writeback`, submit the write bio. Its
/// completion (`ext4_end_bio`) writes the bytes to the block, converts an
/// unwritten extent (`ext4_end_io_rsv_work`, done in the completion in
/// this model) and ends writeback. Precondition: the page is locked and
/// its buffer mapped.
pub fn ext4_bio_write_page(k: &Kernel, ei: &Ext4InodeInfo, idx: u64, page: Page) {
    let _f = crate::kfn!("ext4_bio_write_page");
    let Some((pblk, unwritten, data, prov)) = ei
        .mapping
        .with_page(idx, |ps| {
            ps.dirty = false;
            ps.pte_writable = false;
            ps.bh
                .b_blocknr
                .map(|b| (b, ps.bh.unwritten, ps.data.clone(), ps.prov.clone()))
        })
        .flatten()
    else {
        return;
    };
    page.set_writeback();
    let Some(k_rc) = k.me() else { return };
    let name = ei.name.clone();
    crate::sim::submit_bio(pblk, true, move || {
        let k = k_rc;
        if let Err(e) = k.fs.borrow_mut().write_data_block(pblk, &data) {
            k.engine_error("ext4_end_bio", e);
        }
        k.log.borrow_mut().set_block_prov(pblk, prov);
        if let Ok(ei) = k.inode(&name) {
            if unwritten {
                let _ = map_locked(&k, &ei, idx as u32, MapFlags::CONVERT);
                ei.mapping.with_page(idx, |ps| {
                    if ps.bh.b_blocknr == Some(pblk) {
                        ps.bh.unwritten = false;
                    }
                });
            }
        }
        page.end_writeback();
    });
}

/// `filemap_write_and_wait_range`: write back `[first, last]` and wait for
/// the pages' writeback to end.
pub async fn filemap_write_and_wait_range(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
) -> KResult<()> {
    let _f = crate::kfn!("filemap_write_and_wait_range");
    ext4_writepages(k, ei, first, last, true).await?;
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    for idx in ei.mapping.cached_pages(fi, li) {
        if let Some(page) = ei.mapping.find_get_page(idx) {
            if page.is_writeback() {
                page.wait_on_writeback().await;
            }
        }
    }
    Ok(())
}

/// `invalidate_inode_pages2_range`: drop the cached pages of `[first,
/// last]` (unmapping them from every process), waiting for writeback.
///
/// A dirty page is written back first (as `do_launder_page` does for
/// filesystems with `->launder_page`). ext4 has none: in the kernel
/// `invalidate_complete_page2` fails on a dirty page, the page stays, and
/// iomap_dio_rw only warns about stale page cache. The model launders so
/// that S5's full proposal (`dio-check-get-block`) is race-free as the
/// scenario table states; without it a store that allocates a written
/// block between `filemap_write_and_wait_range` and `inode_dio_begin`
/// would still expose the block.
pub async fn invalidate_inode_pages2_range(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    first: u64,
    last: u64,
) -> KResult<()> {
    let _f = crate::kfn!("invalidate_inode_pages2_range");
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    for idx in ei.mapping.cached_pages(fi, li) {
        for _ in 0..4 {
            let Some(page) = ei.mapping.find_get_page(idx) else {
                break;
            };
            page.lock().await;
            if ei.mapping.find_get_page(idx) != Some(page) {
                page.unlock();
                continue;
            }
            if page.is_writeback() {
                page.wait_on_writeback().await;
            }
            if ei.mapping.with_page(idx, |ps| ps.dirty).unwrap_or(false) {
                // do_launder_page
                page.unlock();
                let off = idx * PAGE_SIZE;
                filemap_write_and_wait_range(k, ei, off, off + PAGE_SIZE - 1).await?;
                continue;
            }
            ei.mapping.i_pages_loc.write().await;
            ei.mapping.remove_page(idx);
            page.unlock();
            break;
        }
    }
    Ok(())
}

/// `truncate_pagecache_range`: drop the pages of `[first, last]`, dirty or
/// not. Preconditions: `i_rwsem` and `invalidate_lock` held for write.
pub async fn truncate_pagecache_range(_k: &Kernel, ei: &Ext4InodeInfo, first: u64, last: u64) {
    let _f = crate::kfn!("truncate_pagecache_range");
    let (fi, li) = idx_range(first, last);
    ei.mapping.i_pages_loc.read().await;
    for idx in ei.mapping.cached_pages(fi, li) {
        let Some(page) = ei.mapping.find_get_page(idx) else {
            continue;
        };
        page.lock().await;
        if page.is_writeback() {
            page.wait_on_writeback().await;
        }
        ei.mapping.i_pages_loc.write().await;
        ei.mapping.remove_page(idx);
        page.unlock();
    }
}
