//! Buffered write(2) and read(2): `ext4_buffered_write_iter` ->
//! `generic_perform_write` (`ext4_da_write_begin` / `ext4_write_begin`,
//! copy, `ext4_write_end` / `ext4_da_write_end` /
//! `ext4_journalled_write_end`), and `filemap_read`.

use super::fault::{ext4_da_get_block_prep, ext4_get_block, filemap_fault};
use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::pagecache::PAGE_SIZE;
use super::provenance::check_read;
use super::state::{inode_lock, inode_unlock, Errno, Ext4InodeInfo, KResult, Kernel};

/// Where a write's bytes come from.
pub enum WriteSource<'a> {
    /// Bytes in kernel-visible memory (already copied).
    Bytes(&'a [u8]),
    /// A user buffer inside a mapping of process `p` (the copy faults on
    /// that mapping while `i_rwsem` is held).
    Mapping {
        p: &'a super::mm::Process,
        map: &'a str,
        offset: u64,
    },
}

/// write(2) of `len` bytes at `pos`: `ext4_buffered_write_iter` under
/// `inode_lock` -> `generic_perform_write`. v5.5 fs/ext4/file.c
/// `ext4_buffered_write_iter` (v4.12/v4.13: the buffered branch of
/// `ext4_file_write_iter`, `inode_lock` + `__generic_file_write_iter`).
/// Simplified: `generic_write_checks` and `file_remove_privs` are not
/// modelled (no scenario writes past the limits or drops privileges).
pub async fn ext4_buffered_write_iter(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    len: u64,
    src: WriteSource<'_>,
) -> KResult<u64> {
    let _f = crate::kfn!("ext4_buffered_write_iter");
    inode_lock(ei).await;
    let r = generic_perform_write(k, ei, pos, len, src).await;
    inode_unlock(ei);
    r
}

/// v4.4 (the same in v6.9) fs/ext4/inode.c `ext4_dirty_inode`, the `->dirty_inode`
/// that `mark_inode_dirty` reaches: the in-memory inode (its
/// `i_disksize`) goes into the running transaction in a handle of its own
/// (`EXT4_HT_INODE`, 2 credits). The write path calls it once, after its
/// pages: it stands for `generic_write_end`'s `mark_inode_dirty` when
/// `i_size` changed and for `file_update_time`.
/// Simplification: the kernel's delalloc `ext4_da_write_begin` starts a
/// handle per page that `ext4_da_write_end` marks the inode in; the model's
/// delalloc write_begin takes none, so the inode's new `i_disksize`
/// reaches the transaction here, once per write(2). Without a handle the
/// change to the transaction was made with no access, so a commit that
/// took it and one that did not looked alike to the reduction (found by
/// step checking on S6).
pub async fn ext4_dirty_inode(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_dirty_inode");
    let h = ext4_journal_start(k, ei, HandleType::Inode, 2).await?;
    let r = k.ext4_mark_inode_dirty(ei);
    ext4_journal_stop(k, h);
    r
}

/// v4.12 mm/filemap.c `generic_perform_write` (the same loop in v6.9):
/// per page, `->write_begin`, the copy, `->write_end`.
/// Precondition: `i_rwsem` held (write).
pub async fn generic_perform_write(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pos: u64,
    len: u64,
    src: WriteSource<'_>,
) -> KResult<u64> {
    let _f = crate::kfn!("generic_perform_write");
    let mut done = 0u64;
    while done < len {
        let at = pos + done;
        let idx = at / PAGE_SIZE;
        let within = (at % PAGE_SIZE) as usize;
        let take = ((PAGE_SIZE as usize - within) as u64).min(len - done) as usize;
        // fault_in_iov_iter_readable + copy_page_from_iter_atomic
        let bytes = match &src {
            WriteSource::Bytes(b) => b[done as usize..done as usize + take].to_vec(),
            WriteSource::Mapping { p, map, offset } => {
                super::mm::user_access(
                    k,
                    p,
                    map,
                    offset + done,
                    take as u64,
                    super::mm::Access::Load,
                    super::fault::FaultFlags::USER,
                )
                .await?
                .0
            }
        };
        let end = at + take as u64;
        // ext4_da_write_begin / ext4_write_begin: while the inode may keep
        // its data inline, a write that fits stays inline; one that does
        // not converts through the page cache first.
        let mut inline = None;
        if super::inline::may_inline_data(ei) {
            inline = if k.ext4_da_aops(ei) {
                super::inline::ext4_da_write_inline_data_begin(k, ei, at, take as u64).await?
            } else {
                super::inline::ext4_try_to_write_inline_data(k, ei, at, take as u64).await?
            };
        }
        let written_inline = inline.is_some();
        let (page, handle) = match inline {
            Some((page, handle)) => (page, Some(handle)),
            None => ext4_write_begin(k, ei, idx, within == 0 && take == PAGE_SIZE as usize).await?,
        };
        // copy_page_from_iter_atomic: the copy does not dirty the page;
        // write_end does (v4.12 mm/filemap.c generic_perform_write, then
        // fs/ext4/inode.c ext4_write_end / ext4_da_write_end)
        ei.mapping.with_page(idx, |ps| {
            ps.data_loc.note_write();
            ps.data[within..within + take].copy_from_slice(&bytes);
            ps.prov[within..within + take].fill(ei.ino);
            ps.set_uptodate();
        });
        // v4.4 ext4_write_end (not ext4_da_write_end, not
        // ext4_journalled_write_end) files the inode first.
        if handle.is_some()
            && !k.ext4_da_aops(ei)
            && !super::inode_ops::ext4_should_journal_data(k, ei)
        {
            super::jbd2::ext4_write_end_file_inode(k, ei).await;
        }
        if written_inline {
            // ext4_write_inline_data_end copies the page into the inode and
            // ClearPageDirty()s it: "so that writepages wouldn't work for us"
            let new_size = end.max(ei.i_size());
            match super::inline::ext4_write_inline_data_end(k, ei, new_size).await {
                Err(e) => {
                    page.unlock();
                    if let Some(h) = handle {
                        ext4_journal_stop(k, h);
                    }
                    return Err(e);
                }
                Ok(fit) => {
                    if !fit {
                        ei.mapping.set_page_dirty(idx, true);
                    }
                }
            }
        } else if super::inode_ops::ext4_should_journal_data(k, ei) {
            // ext4_journalled_write_end (v4.13 fs/ext4/inode.c): write_end_fn
            // journals the page's buffer in the handle write_begin started;
            // the page stays clean (writeback has nothing to do for it).
            if let Err(e) = super::writeback::write_end_fn(k, ei, idx) {
                page.unlock();
                if let Some(h) = handle {
                    ext4_journal_stop(k, h);
                }
                return Err(e);
            }
        } else {
            // block_write_end -> __block_commit_write -> mark_buffer_dirty
            ei.mapping.set_page_dirty(idx, true);
        }
        // ext4_write_end / ext4_da_write_end: i_size
        let grew = {
            let da = k.ext4_da_aops(ei);
            // ext4_da_should_update_i_disksize: the write ends in a block
            // that is already allocated (mapped, neither delayed nor
            // unwritten), which no later writeback will map again.
            let mapped = ei
                .mapping
                .with_page(idx, |ps| {
                    ps.bh.b_blocknr.is_some() && !ps.bh.delay && !ps.bh.unwritten
                })
                .unwrap_or(false);
            // v4.12 fs/ext4/inode.c ext4_da_write_end: "if
            // (ext4_has_inline_data(inode) ||
            // ext4_da_should_update_i_disksize(page, end))": a delalloc
            // conversion leaves the inline data for writepages to destroy.
            let inline_left = super::inline::ext4_has_inline_data(ei);
            let mut m = ei.mem.borrow_mut();
            let new_i_size = at + take as u64;
            let grew = new_i_size > m.i_size;
            if grew {
                m.i_size = new_i_size;
                if !da {
                    m.i_disksize = m.i_size;
                }
            }
            // v4.4..v6.9 fs/ext4/inode.c ext4_da_write_end: "if (copied &&
            // new_i_size > EXT4_I(inode)->i_disksize)" and the block is
            // allocated, i_disksize follows (the inode is marked dirty
            // below).
            if da && (mapped || inline_left) && new_i_size > m.i_disksize {
                m.i_disksize = new_i_size;
            }
            grew
        };
        page.unlock();
        // ext4_write_end: the inode (its new i_disksize) goes into the
        // handle write_begin started, which then stops: the blocks
        // write_begin allocated and the size that covers them commit in one
        // transaction.
        if let Some(h) = handle {
            let r = if grew {
                k.ext4_mark_inode_dirty(ei)
            } else {
                Ok(())
            };
            ext4_journal_stop(k, h);
            r?;
        }
        k.log
            .borrow_mut()
            .record_write(ei.ino, at, bytes, crate::sim::current_task_name());
        done += take as u64;
    }
    ext4_dirty_inode(k, ei).await?;
    Ok(done)
}

/// `ext4_da_write_begin` / `ext4_write_begin`: the page locked, uptodate,
/// its buffer mapped or delayed. Lock order (nodelalloc): handle -> page.
/// Without delalloc the handle it starts is returned: it stays open until
/// `ext4_write_end` (v4.12 fs/ext4/inode.c: `ext4_write_end` stops the
/// handle `ext4_journal_current_handle()` after updating i_disksize).
/// `full`: the write covers the whole page, so nothing is read first (v5.5
/// fs/buffer.c `__block_write_begin_int` reads only a buffer the write
/// covers in part; the copy makes the page uptodate). With the page locked
/// it calls `wait_for_stable_page` (v4.12 "In case writeback began while
/// the page was unlocked"), a wait only on a stable-writes device.
pub async fn ext4_write_begin(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    idx: u64,
    full: bool,
) -> KResult<(crate::sim::Page, Option<crate::sim::Handle>)> {
    let da = k.ext4_da_aops(ei);
    let _f = crate::kfn!(if da {
        "ext4_da_write_begin"
    } else {
        "ext4_write_begin"
    });
    let handle = if da {
        None
    } else {
        Some(ext4_journal_start(k, ei, HandleType::Misc, 8).await?)
    };
    let page = grab_cache_page_write_begin(ei, idx).await;
    // In case writeback began while the page was unlocked
    super::writeback::wait_for_stable_page(k, page).await;
    let (uptodate, bh) = ei
        .mapping
        .with_page(idx, |ps| (ps.uptodate, ps.bh))
        .unwrap_or_default();
    let mut r = Ok(());
    if !uptodate && idx * PAGE_SIZE < ei.i_size() && !full {
        r = super::fault::ext4_readpage(k, ei, idx).await;
    } else if !uptodate {
        ei.mapping.set_page_uptodate(idx);
    }
    // A delalloc inode whose inline data a conversion left for writepages
    // to destroy maps as a hole (v4.12 fs/ext4/inode.c ext4_da_map_blocks:
    // "if (ext4_has_inline_data(inode)) retval = 0").
    if r.is_ok()
        && bh.b_blocknr.is_none()
        && !bh.delay
        && (da || !super::inline::ext4_has_inline_data(ei))
    {
        r = if da {
            ext4_da_get_block_prep(k, ei, idx).await
        } else {
            ext4_get_block(k, ei, idx, k.ext4_should_dioread_nolock(ei)).await
        };
    }
    match r {
        Ok(()) => Ok((page, handle)),
        Err(e) => {
            page.unlock();
            if let Some(h) = handle {
                ext4_journal_stop(k, h);
            }
            Err(e)
        }
    }
}

/// v4.12 mm/filemap.c `grab_cache_page_write_begin`
/// (`pagecache_get_page(FGP_LOCK|FGP_WRITE|FGP_CREAT)`): page `idx` of the
/// mapping, locked. The
/// kernel inserts a new page already locked; the model inserts it, then
/// locks it (a scheduling point), so invalidation or truncation may remove
/// it meanwhile: then look it up again, as `pagecache_get_page` does for a
/// page whose `mapping` is gone. (Writing into the removed page lost the
/// write: found by tests/scenario_fuzz.rs with drop_caches beside a write.)
pub async fn grab_cache_page_write_begin(ei: &Ext4InodeInfo, idx: u64) -> crate::sim::Page {
    loop {
        ei.mapping.i_pages_loc.write().await;
        let page = ei.mapping.add_page(idx);
        page.lock().await;
        if super::fault::still_cached(ei, idx, page) {
            return page;
        }
        page.unlock();
    }
}

/// read(2): `filemap_read` of `len` bytes at `pos` through the page cache
/// (pages read under their lock with `ext4_readpage`).
///
/// As v6.9 mm/filemap.c `filemap_read`, `i_size` is read again once the
/// page is uptodate ("i_size must be checked after we know the pages are
/// Uptodate"): a truncate that ran meanwhile makes the read short, never
/// an error. (`filemap_fault`'s SIGBUS past EOF is the fault path's answer;
/// here it only means the page is gone past the new size.)
pub async fn filemap_read(k: &Kernel, ei: &Ext4InodeInfo, pos: u64, len: u64) -> KResult<Vec<u8>> {
    let _f = crate::kfn!("filemap_read");
    let mut out = Vec::new();
    let mut at = pos;
    while at < (pos + len).min(ei.i_size()) {
        let idx = at / PAGE_SIZE;
        let within = (at % PAGE_SIZE) as usize;
        let page = match filemap_fault(k, ei, idx).await {
            Ok(page) => page,
            Err(Errno::SIGBUS) => break,
            Err(e) => return Err(e),
        };
        let end = (pos + len).min(ei.i_size());
        if at >= end {
            page.unlock();
            break;
        }
        let take = ((PAGE_SIZE as usize - within) as u64).min(end - at) as usize;
        let (d, pv, pblk) = ei
            .mapping
            .with_page(idx, |ps| {
                (
                    ps.data[within..within + take].to_vec(),
                    ps.prov[within..within + take].to_vec(),
                    ps.bh.b_blocknr.or(ps.read_blk),
                )
            })
            .unwrap_or_default();
        page.unlock();
        let o = check_read(
            &k.log.borrow(),
            ei.ino,
            &ei.name,
            at,
            &pv,
            pblk,
            "filemap_read",
            |i| k.ino_name(i),
        );
        if let Some(o) = o {
            crate::sim::report(o);
        }
        out.extend(d);
        at += take as u64;
    }
    Ok(out)
}
