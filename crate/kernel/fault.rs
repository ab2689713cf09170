//! Page faults on shared file mappings: `handle_mm_fault`, `filemap_fault`,
//! `ext4_page_mkwrite`, `block_page_mkwrite`, and the get_block flavours
//! page_mkwrite hands to it.

use crate::engine::map::MapFlags;
use crate::sim::Page;

use crate::scenario::history::Change;

use super::inode_ops::ext4_map_blocks;
use super::mm::Process;
use super::pagecache::PAGE_SIZE;
use super::state::{Errno, Ext4InodeInfo, KResult, Kernel};

/// How the caller of a fault can cope (`vmf->flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultFlags {
    /// `FAULT_FLAG_ALLOW_RETRY`: the handler may drop `mmap_lock` and
    /// answer `VM_FAULT_RETRY`. get_user_pages callers often do not set it.
    pub allow_retry: bool,
}

impl FaultFlags {
    /// An ordinary user fault (`do_user_addr_fault`).
    pub const USER: FaultFlags = FaultFlags { allow_retry: true };
    /// get_user_pages without `FAULT_FLAG_ALLOW_RETRY`.
    pub const GUP: FaultFlags = FaultFlags { allow_retry: false };
}

/// A fault handler's answer (`vm_fault_t`).
#[derive(Debug, PartialEq, Eq)]
pub enum VmFault {
    /// `VM_FAULT_LOCKED`: the page is locked and uptodate (and for a write
    /// fault dirty with a writable PTE). `mmap_lock` is still held.
    Locked(Page),
    /// `VM_FAULT_NOPAGE`: the page went away (truncate, invalidation);
    /// the access is retried. `mmap_lock` is still held.
    NoPage,
    /// `VM_FAULT_RETRY`: the handler dropped `mmap_lock`; retry the fault.
    Retry,
    /// `VM_FAULT_SIGBUS` / `VM_FAULT_SIGSEGV` (an error the user sees).
    /// `mmap_lock` is still held.
    Error(Errno),
}

/// The get_block function page_mkwrite uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetBlock {
    /// `ext4_da_get_block_prep`: reserve a delayed block.
    DaPrep,
    /// `ext4_get_block`: allocate a written block.
    Normal,
    /// `ext4_get_block_unwritten`: allocate an unwritten block.
    Unwritten,
    /// `ext4_dio_check_get_block` (Ritesh's proposal): unwritten while
    /// `i_dio_count` > 0.
    DioCheck,
}

/// The lock page faults take against truncate and punch hole, as the run's
/// kernel has it: `down_read(&EXT4_I(inode)->i_mmap_sem)` from v4.5
/// (ea3d7209ca01, fs/ext4/inode.c `ext4_page_mkwrite`, fs/ext4/file.c
/// `ext4_filemap_fault`), `filemap_invalidate_lock_shared` from v5.15
/// (d4f5258eae7b); no lock before v4.5 (2.6.25's faults take none).
async fn fault_lock_shared(k: &Kernel, ei: &Ext4InodeInfo) {
    if k.applied(Change::FaultsVsHolePunch) {
        ei.invalidate_lock.down_read().await;
    }
}

/// Releases what [`fault_lock_shared`] took.
fn fault_unlock_shared(k: &Kernel, ei: &Ext4InodeInfo) {
    if k.applied(Change::FaultsVsHolePunch) {
        ei.invalidate_lock.up_read();
    }
}

/// Whether `page` is still the page cached at `index`.
pub(super) fn still_cached(ei: &Ext4InodeInfo, index: u64, page: Page) -> bool {
    ei.mapping.find_get_page(index) == Some(page)
}

/// v5.5 mm/memory.c `handle_mm_fault` -> `do_fault` for a shared file
/// mapping (`do_read_fault` / `do_shared_fault`). Precondition: `mmap_lock` held for read; it is
/// still held on return unless the answer is [`VmFault::Retry`].
pub async fn handle_mm_fault(
    k: &Kernel,
    p: &Process,
    ei: &Ext4InodeInfo,
    index: u64,
    write: bool,
    flags: FaultFlags,
    retried: bool,
) -> VmFault {
    // (retried: FAULT_FLAG_TRIED)
    let _f = crate::kfn!("handle_mm_fault");
    // Present in the page tables already?
    ei.mapping.i_pages_loc.read().await;
    let present = ei.mapping.mapped_for_fault(index, write);
    if let Some((page, true)) = present {
        page.lock().await;
        // PG_uptodate is stable under the page lock; the PTE is not.
        let ok = still_cached(ei, index, page)
            && ei
                .mapping
                .with_page(index, |ps| ps.uptodate)
                .unwrap_or(false)
            && (!write || ei.mapping.pte_writable(index));
        if ok {
            return VmFault::Locked(page);
        }
        page.unlock();
        return VmFault::NoPage;
    }
    let page = match ext4_filemap_fault(k, ei, index).await {
        Ok(p) => p,
        Err(e) => return VmFault::Error(e),
    };
    if !write {
        return VmFault::Locked(page);
    }
    // do_shared_fault: unlock the page, then ->page_mkwrite
    page.unlock();
    let r = ext4_page_mkwrite(k, p, ei, index, page, flags, retried).await;
    if let VmFault::Locked(_) = r {
        ei.mapping.set_pte_writable(index, true);
    }
    r
}

/// The `->fault` handler of an ext4 mapping: v4.5..v5.14
/// fs/ext4/inode.c `ext4_filemap_fault` (`down_read(&EXT4_I(inode)->
/// i_mmap_sem)` around `filemap_fault`, ea3d7209ca01); plain
/// `filemap_fault` before v4.5 (2.6.25: `ext4_file_vm_ops.fault =
/// filemap_fault`) and from v5.15 (d4f5258eae7b moved the lock into
/// `filemap_fault`).
pub async fn ext4_filemap_fault(k: &Kernel, ei: &Ext4InodeInfo, index: u64) -> KResult<Page> {
    if !k.applied(Change::FaultsVsHolePunch) || k.applied(Change::InvalidateLock) {
        return filemap_fault(k, ei, index).await;
    }
    let _f = crate::kfn!("ext4_filemap_fault");
    ei.invalidate_lock.down_read().await;
    let r = filemap_fault(k, ei, index).await;
    ei.invalidate_lock.up_read();
    r
}

/// `filemap_fault` (mm/filemap.c; the v5.15+ shape, whose
/// `page_cache_ra_unbounded` inserts new pages under `invalidate_lock`
/// (shared); before v5.15 nothing in it takes that lock): find or read the
/// page. Returns it locked and uptodate.
/// Preconditions: `mmap_lock` held (read).
pub async fn filemap_fault(k: &Kernel, ei: &Ext4InodeInfo, index: u64) -> KResult<Page> {
    let _f = crate::kfn!("filemap_fault");
    for _ in 0..4 {
        if index * PAGE_SIZE >= ei.i_size() {
            return Err(Errno::SIGBUS);
        }
        ei.mapping.i_pages_loc.read().await;
        if let Some(page) = ei.mapping.find_get_page(index) {
            page.lock().await;
            if !still_cached(ei, index, page) {
                page.unlock();
                continue;
            }
            if !ei
                .mapping
                .with_page(index, |ps| ps.uptodate)
                .unwrap_or(false)
            {
                if let Err(e) = ext4_readpage(k, ei, index).await {
                    page.unlock();
                    return Err(e);
                }
            }
            return Ok(page);
        }
        // page_cache_ra_unbounded: new pages under invalidate_lock (shared)
        // from v5.15; before, ext4_filemap_fault held i_mmap_sem around the
        // whole fault (v4.5..v5.14) or nothing did (before v4.5).
        let ra_lock = k.applied(Change::InvalidateLock);
        if ra_lock {
            ei.invalidate_lock.down_read().await;
        }
        ei.mapping.i_pages_loc.write().await;
        if ei.mapping.find_get_page(index).is_some() {
            // add_to_page_cache_lru: -EEXIST, someone inserted the page
            // meanwhile (it may be dirty): look it up again, never re-read
            // it over newer data.
            if ra_lock {
                ei.invalidate_lock.up_read();
            }
            continue;
        }
        let page = ei.mapping.add_page(index);
        page.lock().await;
        // The kernel inserts the new page already locked; here another
        // task may have removed it before this lock (invalidation,
        // truncation): look it up again. Or (grab_cache_page_write_begin)
        // locked, filled and dirtied it: never read over an uptodate page.
        if !still_cached(ei, index, page) {
            page.unlock();
            if ra_lock {
                ei.invalidate_lock.up_read();
            }
            continue;
        }
        let uptodate = ei
            .mapping
            .with_page(index, |ps| ps.uptodate)
            .unwrap_or(false);
        let r = if uptodate {
            Ok(())
        } else {
            ext4_readpage(k, ei, index).await
        };
        if ra_lock {
            ei.invalidate_lock.up_read();
        }
        if let Err(e) = r {
            page.unlock();
            return Err(e);
        }
        return Ok(page);
    }
    Err(Errno::EFAULT)
}

/// `ext4_readpage` (v5.5 fs/ext4/readpage.c `ext4_mpage_readpages`; v4.1+,
/// and `mpage_readpage` with `ext4_get_block` before it): look the page's
/// block up (`ext4_map_blocks` without create) and read it (a bio, waited
/// for), or zero the page for a hole or an unwritten extent (a lookup of
/// one returns `EXT4_MAP_UNWRITTEN` without `EXT4_MAP_MAPPED`). The page
/// gets no buffers: the mpage path maps into a temporary buffer and only
/// goes through `block_read_full_page` (which attaches buffers) for a page
/// that has buffers already, so the page's buffer is left as it was. A
/// later write_begin or page_mkwrite finds it unmapped and calls its
/// get_block, which looks the block up again under `i_data_sem`. (The
/// model used to map the buffer here; then a read that raced a hole punch,
/// between `truncate_pagecache_range` and the removal of the blocks, left a
/// page mapped to a freed block, and a store into it was written there:
/// a lost write the kernel cannot have. Found by tests/scenario_fuzz.rs.)
/// Precondition: the page is locked.
pub async fn ext4_readpage(k: &Kernel, ei: &Ext4InodeInfo, index: u64) -> KResult<()> {
    let _f = crate::kfn!("ext4_readpage");
    // -EAGAIN from ext4_readpage_inline: converted meanwhile, read the block
    if super::inline::ext4_has_inline_data(ei)
        && super::inline::ext4_readpage_inline(k, ei, index).await?
    {
        return Ok(());
    }
    let bs = k.block_size();
    let m = ext4_map_blocks(k, ei, index as u32, MapFlags::empty()).await?;
    let read = m.m_pblk.filter(|_| !m.unwritten);
    let (data, prov) = match read {
        Some(pblk) => {
            let (_, done) = crate::sim::submit_bio(pblk, false, || {});
            done.wait().await;
            let mut buf = vec![0u8; bs as usize];
            k.fs.borrow_mut()
                .read_data_block(pblk, &mut buf)
                .map_err(|e| k.engine_error("ext4_readpage", e))?;
            let prov = k.log.borrow().block_prov(pblk, bs as usize);
            (buf, prov)
        }
        None => (vec![0u8; bs as usize], vec![0u32; bs as usize]),
    };
    ei.mapping.with_page(index, |ps| {
        ps.data_loc.note_write();
        ps.data = data;
        ps.prov = prov;
        ps.set_uptodate();
        ps.read_blk = read;
    });
    Ok(())
}

/// `ext4_page_mkwrite` (fs/ext4/inode.c; v3.1+ shape, 9ea7df534ed2, as in
/// v5.5 for the get_block choice: `ext4_da_get_block_prep` under delalloc,
/// else `ext4_get_block_unwritten` when `ext4_should_dioread_nolock`, else
/// `ext4_get_block`, with the 2019 proposals as registry changes): make a
/// page of a shared mapping writable. Kernels before v2.6.27 run the 2008
/// patch queue's version (`ext4_page_mkwrite_pq2008`).
/// `page` is the page `filemap_fault` returned (`vmf->page`), unlocked.
/// Preconditions: `mmap_lock` held (read). Returns the page locked and
/// dirty, or why not.
pub async fn ext4_page_mkwrite(
    k: &Kernel,
    p: &Process,
    ei: &Ext4InodeInfo,
    index: u64,
    page: Page,
    flags: FaultFlags,
    retried: bool,
) -> VmFault {
    let _f = crate::kfn!("ext4_page_mkwrite");
    if k.version() < EXT4_PAGE_MKWRITE_MERGED {
        // Before v2.6.27 mainline ext4 had no page_mkwrite; the 2008 ext4
        // patch queue's (what S3's thread runs) is block_page_mkwrite.
        return ext4_page_mkwrite_pq2008(k, ei, index, page).await;
    }
    // What to do with inline data: 7b4cc9787fe3 (v4.12-rc1) converts it
    // under sb_start_pagefault and the fault lock (read), below; before it,
    // and with the commit reverted, nothing (write(2)/truncate(2) convert).
    // Baokun Li's proposals convert here instead, before
    // sb_start_pagefault: the 2024 RFC puts its check there (its diff in
    // the thread); the 2023 sketch's code is not in the thread material,
    // and the model takes its inode_lock at the same place.
    if k.applied(Change::BaokunInodeLockInMkwrite) {
        // convert under inode_lock, taken while the fault holds mmap_lock
        if super::inline::ext4_has_inline_data(ei) {
            super::state::inode_lock(ei).await;
            let r = super::inline::ext4_convert_inline_data(k, ei).await;
            super::state::inode_unlock(ei);
            if let Err(e) = r {
                return VmFault::Error(e);
            }
        }
    } else if k.applied(Change::BaokunFaultRetry) {
        // drop mmap_lock, take inode_lock, convert, VM_FAULT_RETRY
        if !retried {
            ei.xattr_sem.down_read().await;
            let inline = super::inline::ext4_has_inline_data(ei);
            ei.xattr_sem.up_read();
            if inline {
                if !flags.allow_retry {
                    return VmFault::Error(Errno::SIGBUS);
                }
                p.mmap_lock.up_read(); // release_fault_lock
                super::state::inode_lock(ei).await;
                let r = super::inline::ext4_convert_inline_data(k, ei).await;
                super::state::inode_unlock(ei);
                return match r {
                    Ok(()) => VmFault::Retry,
                    Err(e) => {
                        p.mmap_lock.down_read().await;
                        VmFault::Error(e)
                    }
                };
            }
        }
    }
    super::state::sb_start_pagefault(k).await;
    // file_update_time(vma->vm_file);
    let r = ext4_page_mkwrite_frozen(k, ei, index, page).await;
    super::state::sb_end_pagefault(k);
    r
}

/// The part of `ext4_page_mkwrite` between `sb_start_pagefault` and its
/// `out:` label's `sb_end_pagefault` (v4.13 and v6.9 fs/ext4/inode.c):
/// the fault lock (`i_mmap_sem` / `invalidate_lock`) for read; the inline
/// conversion of 7b4cc9787fe3 (v4.12: `ext4_convert_inline_data`, under
/// that lock, before the delalloc branch; Baokun Li's proposals move it out
/// and it does not run here); then delalloc's `block_page_mkwrite`, or the
/// data=journal branch, or the early return for a page whose buffers are
/// mapped, or a handle and `block_page_mkwrite` with the era's get_block.
async fn ext4_page_mkwrite_frozen(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    page: Page,
) -> VmFault {
    fault_lock_shared(k, ei).await;
    if k.applied(Change::MkwriteConvertsInline)
        && !k.applied(Change::BaokunInodeLockInMkwrite)
        && !k.applied(Change::BaokunFaultRetry)
    {
        if let Err(e) = super::inline::ext4_convert_inline_data(k, ei).await {
            fault_unlock_shared(k, ei);
            return VmFault::Error(e);
        }
    }
    // Delalloc case is easy... (`test_opt(DELALLOC) &&
    // !ext4_should_journal_data(inode)`)
    if k.ext4_da_aops(ei) {
        let r = block_page_mkwrite(k, ei, index, page, GetBlock::DaPrep).await;
        fault_unlock_shared(k, ei);
        return r;
    }
    if k.applied(Change::DataJournalMkwrite) && super::inode_ops::ext4_should_journal_data(k, ei) {
        let r = ext4_page_mkwrite_journal_data(k, ei, index, page).await;
        fault_unlock_shared(k, ei);
        return r;
    }
    page.lock().await;
    if !still_cached(ei, index, page) || index * PAGE_SIZE >= ei.i_size() {
        page.unlock();
        fault_unlock_shared(k, ei);
        return VmFault::NoPage;
    }
    // Return if we have all the buffers mapped.
    let mapped = ei
        .mapping
        .with_page(index, |ps| ps.bh.b_blocknr.is_some() && !ps.bh.delay)
        .unwrap_or(false);
    if mapped {
        // Wait so that we don't change page under IO
        super::writeback::wait_for_stable_page(k, page).await;
        ei.mapping.set_page_dirty(index, true);
        fault_unlock_shared(k, ei);
        return VmFault::Locked(page);
    }
    page.unlock();
    // OK, we need to fill the hole...
    // v5.5: ext4_get_block_unwritten if ext4_should_dioread_nolock, else
    // ext4_get_block. Ritesh's 2019-12-03 diff replaces the choice with
    // ext4_dio_check_get_block; Jan's reply of the same day always
    // allocates unwritten.
    let get_block = if k.applied(Change::JanMkwriteUnwritten) {
        GetBlock::Unwritten
    } else if k.applied(Change::RiteshDioCheckGetBlock) {
        GetBlock::DioCheck
    } else if k.ext4_should_dioread_nolock(ei) {
        GetBlock::Unwritten
    } else {
        GetBlock::Normal
    };
    let handle =
        match super::handle::ext4_journal_start(k, ei, super::handle::HandleType::WritePage, 8)
            .await
        {
            Ok(h) => h,
            Err(e) => {
                fault_unlock_shared(k, ei);
                return VmFault::Error(e);
            }
        };
    let r = block_page_mkwrite(k, ei, index, page, get_block).await;
    super::handle::ext4_journal_stop(k, handle);
    fault_unlock_shared(k, ei);
    r
}

/// The data=journal branch of `ext4_page_mkwrite` from 64a9f1449950
/// (v5.10 fs/ext4/inode.c): no early return for mapped buffers; with a
/// handle (`EXT4_HT_WRITE_PAGE`), lock the page, give up if it was
/// truncated (VM_FAULT_NOPAGE), map its buffer (`__block_write_begin` with
/// `ext4_get_block`), `do_journal_get_write_access` and `write_end_fn`:
/// the page joins the running transaction before the store, and the
/// commit logs it as it is then ([`super::jbd2`]'s
/// `journalled_data_as_committed`). The page is returned locked and dirty
/// (`ext4_journalled_set_page_dirty`). Simplifications: the
/// `ext4_jbd2_inode_add_write` write-protection at commit (afb585a97f81)
/// is not needed, as the model's commit takes the transaction in one
/// step; no ENOSPC retry. Preconditions: the fault lock held (shared), no
/// handle held, the page not locked.
async fn ext4_page_mkwrite_journal_data(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    page: Page,
) -> VmFault {
    let handle =
        match super::handle::ext4_journal_start(k, ei, super::handle::HandleType::WritePage, 8)
            .await
        {
            Ok(h) => h,
            Err(e) => return VmFault::Error(e),
        };
    page.lock().await;
    if !still_cached(ei, index, page) || index * PAGE_SIZE > ei.i_size() {
        page.unlock();
        super::handle::ext4_journal_stop(k, handle);
        return VmFault::NoPage;
    }
    let mapped = ei
        .mapping
        .with_page(index, |ps| ps.bh.b_blocknr.is_some())
        .unwrap_or(false);
    let mut r = Ok(());
    if !mapped {
        r = ext4_get_block(k, ei, index, false).await;
    }
    if r.is_ok() {
        r = super::writeback::write_end_fn(k, ei, index);
    }
    super::handle::ext4_journal_stop(k, handle);
    if let Err(e) = r {
        page.unlock();
        return VmFault::Error(e);
    }
    ei.mapping.set_page_dirty(index, true);
    VmFault::Locked(page)
}

/// The release that merged ext4's own `page_mkwrite` (v2.6.27-rc1).
const EXT4_PAGE_MKWRITE_MERGED: crate::scenario::history::KernelVersion =
    crate::scenario::history::KernelVersion {
        major: 2,
        minor: 6,
        sub: 27,
        rc: Some(1),
    };

/// `ext4_page_mkwrite` of the 2008 ext4 patch queue (2.6.25-rc5 +
/// ext4-page-mkwrite.patch, tytso/ext4-patch-queue@36c86f09):
/// `return block_page_mkwrite(vma, page, ext4_get_block);`, with
/// 2.6.25 fs/buffer.c `block_page_mkwrite` (lock_page; a page truncated
/// meanwhile is -EINVAL, which 2.6.25 mm/memory.c `__do_fault` turns into
/// VM_FAULT_SIGBUS; `block_prepare_write` calls `get_block(create=1)` for
/// the unmapped buffer; `block_commit_write` dirties buffer and page;
/// unlock_page), then `__do_fault` relocks the page and rechecks
/// `page->mapping` before installing the writable PTE. 2.6.25
/// fs/ext4/inode.c `ext4_get_block` starts its own handle when the caller
/// has none (`if (create && !handle)`), so the order is page lock ->
/// jbd2_handle -> i_data_sem; no i_mmap_sem, no freeze protection.
/// Simplification: one buffer per page, mapped already when the page was
/// read (2.6.25's `create_empty_buffers` after `mpage_readpage` leaves a
/// mapped block's buffer unmapped, so `ext4_get_block` also runs for it:
/// a handle and a read-locked lookup that returns at "already mapped",
/// changing nothing another task can see).
async fn ext4_page_mkwrite_pq2008(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    page: Page,
) -> VmFault {
    {
        let _g = crate::kfn!("block_page_mkwrite");
        page.lock().await;
        if !still_cached(ei, index, page) || index * PAGE_SIZE > ei.i_size() {
            // page got truncated out from underneath us: -EINVAL
            page.unlock();
            return VmFault::Error(Errno::SIGBUS);
        }
        let bh = ei.mapping.with_page(index, |ps| ps.bh).unwrap_or_default();
        if bh.b_blocknr.is_none() {
            let _h = crate::kfn!("ext4_get_block");
            let handle =
                match super::handle::ext4_journal_start(k, ei, super::handle::HandleType::Misc, 8)
                    .await
                {
                    Ok(h) => h,
                    Err(e) => {
                        page.unlock();
                        return VmFault::Error(e);
                    }
                };
            let r = ext4_map_blocks(k, ei, index as u32, MapFlags::CREATE).await;
            super::handle::ext4_journal_stop(k, handle);
            match r {
                Ok(m) => {
                    ei.mapping.with_page(index, |ps| {
                        ps.bh.b_blocknr = m.m_pblk;
                        ps.bh.new = m.new;
                        ps.bh.unwritten = m.unwritten;
                    });
                }
                Err(_) => {
                    page.unlock();
                    return VmFault::Error(Errno::SIGBUS);
                }
            }
        }
        // block_commit_write
        ei.mapping.set_page_dirty(index, true);
        page.unlock();
    }
    // __do_fault: lock_page(page); if (!page->mapping) retry the fault
    page.lock().await;
    if !still_cached(ei, index, page) {
        page.unlock();
        return VmFault::NoPage;
    }
    VmFault::Locked(page)
}

/// `block_page_mkwrite(vma, vmf, get_block)` (v5.5 fs/buffer.c; the v3.9+
/// shape, with `wait_for_stable_page` at the end): lock the fault's page
/// (`vmf->page`, which the fault holds a reference to), check that it is
/// still in the mapping (`page->mapping != inode->i_mapping`: truncated or
/// dropped meanwhile, the fault is retried), map its buffer with
/// `get_block(create)` (`__block_write_begin`), mark it dirty. Returns the
/// page locked. (The model used to look the page up again by index, which
/// could take a newer page another fault had inserted but not yet read:
/// the store went into it and that fault's read zeroed it. Found by
/// tests/scenario_fuzz.rs; legit/stores-beside-drop-caches.toml.)
pub async fn block_page_mkwrite(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    page: Page,
    get_block: GetBlock,
) -> VmFault {
    let _f = crate::kfn!("block_page_mkwrite");
    page.lock().await;
    if !still_cached(ei, index, page) || index * PAGE_SIZE >= ei.i_size() {
        page.unlock();
        return VmFault::NoPage;
    }
    let bh = ei.mapping.with_page(index, |ps| ps.bh).unwrap_or_default();
    // An inline-data inode has no blocks to map: the page is just dirtied
    // (what the no-convert proposal leaves to writeback).
    let inline = super::inline::ext4_has_inline_data(ei);
    if bh.b_blocknr.is_none() && !bh.delay && !inline {
        let r = match get_block {
            GetBlock::DaPrep => ext4_da_get_block_prep(k, ei, index).await,
            GetBlock::Normal => ext4_get_block(k, ei, index, false).await,
            GetBlock::Unwritten => ext4_get_block(k, ei, index, true).await,
            GetBlock::DioCheck => {
                let _g = crate::kfn!("ext4_dio_check_get_block");
                let dio = ei.i_dio_count.read().await;
                ext4_get_block(k, ei, index, dio != 0).await
            }
        };
        if let Err(e) = r {
            page.unlock();
            return VmFault::Error(if e == Errno::ENOSPC { Errno::SIGBUS } else { e });
        }
    }
    // set_page_dirty(page); wait_for_stable_page(page)
    super::writeback::wait_for_stable_page(k, page).await;
    ei.mapping.set_page_dirty(index, true);
    VmFault::Locked(page)
}

/// v4.13 fs/ext4/inode.c `ext4_get_block(inode, iblock, bh, create=1)` (or
/// `ext4_get_block_unwritten`) -> `_ext4_get_block`: allocate under `i_data_sem` and map the
/// page's buffer. Precondition: the page is locked.
pub async fn ext4_get_block(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    unwritten: bool,
) -> KResult<()> {
    let _f = crate::kfn!(if unwritten {
        "ext4_get_block_unwritten"
    } else {
        "ext4_get_block"
    });
    let flags = if unwritten {
        MapFlags::CREATE | MapFlags::UNWRIT_EXT
    } else {
        MapFlags::CREATE
    };
    let m = ext4_map_blocks(k, ei, index as u32, flags).await?;
    ei.mapping.with_page(index, |ps| {
        ps.bh.b_blocknr = m.m_pblk;
        ps.bh.new = m.new;
        ps.bh.unwritten = m.unwritten;
    });
    Ok(())
}

/// v4.12 fs/ext4/inode.c `ext4_da_get_block_prep` -> `ext4_da_map_blocks`:
/// a hole gets a delayed-allocation reservation
/// (`BH_Delay`), a mapped block is mapped. Precondition: the page is locked.
pub async fn ext4_da_get_block_prep(k: &Kernel, ei: &Ext4InodeInfo, index: u64) -> KResult<()> {
    let _f = crate::kfn!("ext4_da_get_block_prep");
    // v4.12 fs/ext4/inode.c ext4_da_map_blocks: under i_data_sem (read),
    // an inode that still has inline data maps as a hole.
    let m = if super::inline::ext4_has_inline_data(ei) {
        ei.i_data_sem.down_read().await;
        ei.i_data_sem.up_read();
        crate::engine::map::MapResult {
            m_lblk: index as u32,
            m_pblk: None,
            m_len: 1,
            unwritten: false,
            new: false,
        }
    } else {
        ext4_map_blocks(k, ei, index as u32, MapFlags::empty()).await?
    };
    if m.m_pblk.is_some() {
        ei.mapping.with_page(index, |ps| {
            ps.bh.b_blocknr = m.m_pblk;
            ps.bh.unwritten = m.unwritten;
        });
    } else {
        // ext4_insert_delayed_block: reserve, BH_Delay | BH_New
        ei.mem.borrow_mut().i_reserved_data_blocks += 1;
        ei.mapping.with_page(index, |ps| {
            ps.bh.delay = true;
            ps.bh.new = true;
        });
    }
    Ok(())
}
