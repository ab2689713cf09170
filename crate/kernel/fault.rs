//! Page faults on shared file mappings: `handle_mm_fault`, `filemap_fault`,
//! `ext4_page_mkwrite`, `block_page_mkwrite`, and the get_block flavours
//! page_mkwrite hands to it.

use crate::engine::map::MapFlags;
use crate::sim::Page;

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

/// Whether `page` is still the page cached at `index`.
fn still_cached(ei: &Ext4InodeInfo, index: u64, page: Page) -> bool {
    ei.mapping.find_get_page(index) == Some(page)
}

/// `handle_mm_fault` for a shared file mapping (`do_read_fault` /
/// `do_shared_fault`). Precondition: `mmap_lock` held for read; it is
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
    if ei.test_flag(super::s4_flags::EXT4_DAX_FL) {
        // jbd2glue (S4): the DAX fault path meets the page cache.
        super::s4_flags::ext4_dax_fault_check(ei, index).await;
    }
    // Present in the page tables already?
    ei.mapping.i_pages_loc.read().await;
    let present = ei.mapping.with_page(index, |ps| {
        (ps.page, ps.uptodate && (!write || ps.pte_writable))
    });
    if let Some((page, true)) = present {
        page.lock().await;
        let ok = still_cached(ei, index, page)
            && ei
                .mapping
                .with_page(index, |ps| ps.uptodate && (!write || ps.pte_writable))
                .unwrap_or(false);
        if ok {
            return VmFault::Locked(page);
        }
        page.unlock();
        return VmFault::NoPage;
    }
    let page = match filemap_fault(k, ei, index).await {
        Ok(p) => p,
        Err(e) => return VmFault::Error(e),
    };
    if !write {
        return VmFault::Locked(page);
    }
    // do_shared_fault: unlock the page, then ->page_mkwrite
    page.unlock();
    let r = ext4_page_mkwrite(k, p, ei, index, flags, retried).await;
    if let VmFault::Locked(_) = r {
        ei.mapping.with_page(index, |ps| ps.pte_writable = true);
    }
    r
}

/// `filemap_fault`: find or read the page. Returns it locked and uptodate.
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
        ei.invalidate_lock.down_read().await;
        ei.mapping.i_pages_loc.write().await;
        if ei.mapping.find_get_page(index).is_some() {
            // add_to_page_cache_lru: -EEXIST, someone inserted the page
            // meanwhile (it may be dirty): look it up again, never re-read
            // it over newer data.
            ei.invalidate_lock.up_read();
            continue;
        }
        let page = ei.mapping.add_page(index);
        page.lock().await;
        // The kernel inserts the new page already locked; here another
        // task (grab_cache_page_write_begin) may have locked, filled and
        // dirtied it before this lock: never read over an uptodate page.
        let uptodate = ei
            .mapping
            .with_page(index, |ps| ps.uptodate)
            .unwrap_or(false);
        let r = if uptodate {
            Ok(())
        } else {
            ext4_readpage(k, ei, index).await
        };
        ei.invalidate_lock.up_read();
        if let Err(e) = r {
            page.unlock();
            return Err(e);
        }
        return Ok(page);
    }
    Err(Errno::EFAULT)
}

/// `ext4_readpage` (`ext4_mpage_readpages`): map the page's block and read
/// it (a bio, waited for), or zero it for a hole or an unwritten extent.
/// Precondition: the page is locked.
pub async fn ext4_readpage(k: &Kernel, ei: &Ext4InodeInfo, index: u64) -> KResult<()> {
    let _f = crate::kfn!("ext4_readpage");
    if super::inline::ext4_has_inline_data(ei) {
        return super::inline::ext4_readpage_inline(k, ei, index).await;
    }
    let bs = k.block_size();
    let m = ext4_map_blocks(k, ei, index as u32, MapFlags::empty()).await?;
    let (data, prov) = match (m.m_pblk, m.unwritten) {
        (Some(pblk), false) => {
            let (_, done) = crate::sim::submit_bio(pblk, false, || {});
            done.wait().await;
            let mut buf = vec![0u8; bs as usize];
            k.fs.borrow_mut()
                .read_data_block(pblk, &mut buf)
                .map_err(|e| k.engine_error("ext4_readpage", e))?;
            let prov = k.log.borrow().block_prov(pblk, bs as usize);
            (buf, prov)
        }
        _ => (vec![0u8; bs as usize], vec![0u32; bs as usize]),
    };
    ei.mapping.with_page(index, |ps| {
        ps.data = data;
        ps.prov = prov;
        ps.uptodate = true;
        ps.bh.b_blocknr = m.m_pblk;
        ps.bh.unwritten = m.unwritten;
    });
    Ok(())
}

/// `ext4_page_mkwrite`: make a page of a shared mapping writable.
/// Preconditions: `mmap_lock` held (read). Returns the page locked and
/// dirty, or why not.
pub async fn ext4_page_mkwrite(
    k: &Kernel,
    p: &Process,
    ei: &Ext4InodeInfo,
    index: u64,
    flags: FaultFlags,
    retried: bool,
) -> VmFault {
    let _f = crate::kfn!("ext4_page_mkwrite");
    // What to do with inline data (S2's variants).
    match k.switch("mkwrite_inline") {
        // rely on write(2)/truncate(2) to convert
        "none" => {}
        // convert under inode_lock, taken while the fault holds mmap_lock
        "inode-lock" if super::inline::ext4_has_inline_data(ei) => {
            super::state::inode_lock(ei).await;
            let r = super::inline::ext4_convert_inline_data(k, ei).await;
            super::state::inode_unlock(ei);
            if let Err(e) = r {
                return VmFault::Error(e);
            }
        }
        // drop mmap_lock, take inode_lock, convert, VM_FAULT_RETRY
        "fault-retry" if !retried => {
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
        "fault-retry" => {}
        // current code: ext4_convert_inline_data() under xattr_sem only
        "xattr-sem" => {
            if let Err(e) = super::inline::ext4_convert_inline_data(k, ei).await {
                return VmFault::Error(e);
            }
        }
        _ => {}
    }
    // sb_start_pagefault(); file_update_time();
    ei.invalidate_lock.down_read().await;
    // Delalloc case is easy...
    if k.delalloc() {
        let r = block_page_mkwrite(k, ei, index, GetBlock::DaPrep).await;
        ei.invalidate_lock.up_read();
        return r;
    }
    ei.mapping.i_pages_loc.read().await;
    let Some(page) = ei.mapping.find_get_page(index) else {
        ei.invalidate_lock.up_read();
        return VmFault::NoPage;
    };
    page.lock().await;
    if !still_cached(ei, index, page) || index * PAGE_SIZE >= ei.i_size() {
        page.unlock();
        ei.invalidate_lock.up_read();
        return VmFault::NoPage;
    }
    // Return if we have all the buffers mapped.
    let mapped = ei
        .mapping
        .with_page(index, |ps| ps.bh.b_blocknr.is_some() && !ps.bh.delay)
        .unwrap_or(false);
    if mapped {
        page.wait_on_writeback().await; // wait_for_stable_page
        ei.mapping.with_page(index, |ps| ps.dirty = true);
        ei.invalidate_lock.up_read();
        return VmFault::Locked(page);
    }
    page.unlock();
    // OK, we need to fill the hole...
    let get_block = if k.dioread_nolock() {
        GetBlock::Unwritten
    } else if k.switch("mkwrite_get_block") == "ext4_dio_check_get_block" {
        GetBlock::DioCheck
    } else {
        GetBlock::Normal
    };
    let handle =
        match super::handle::ext4_journal_start(k, ei, super::handle::HandleType::WritePage, 8)
            .await
        {
            Ok(h) => h,
            Err(e) => {
                ei.invalidate_lock.up_read();
                return VmFault::Error(e);
            }
        };
    let r = block_page_mkwrite(k, ei, index, get_block).await;
    super::handle::ext4_journal_stop(k, handle);
    ei.invalidate_lock.up_read();
    r
}

/// `block_page_mkwrite(vma, vmf, get_block)`: lock the page, map its
/// buffer with `get_block(create)` (`__block_write_begin`), mark it dirty.
/// Returns the page locked.
pub async fn block_page_mkwrite(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    get_block: GetBlock,
) -> VmFault {
    let _f = crate::kfn!("block_page_mkwrite");
    ei.mapping.i_pages_loc.read().await;
    let Some(page) = ei.mapping.find_get_page(index) else {
        return VmFault::NoPage;
    };
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
    page.wait_on_writeback().await;
    ei.mapping.with_page(index, |ps| ps.dirty = true);
    VmFault::Locked(page)
}

/// `ext4_get_block(inode, iblock, bh, create=1)` (or
/// `ext4_get_block_unwritten`): allocate under `i_data_sem` and map the
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

/// `ext4_da_get_block_prep`: a hole gets a delayed-allocation reservation
/// (`BH_Delay`), a mapped block is mapped. Precondition: the page is locked.
pub async fn ext4_da_get_block_prep(k: &Kernel, ei: &Ext4InodeInfo, index: u64) -> KResult<()> {
    let _f = crate::kfn!("ext4_da_get_block_prep");
    let m = ext4_map_blocks(k, ei, index as u32, MapFlags::empty()).await?;
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
