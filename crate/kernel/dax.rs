//! DAX: page faults and writeback of an `S_DAX` inode, whose data the CPU
//! reaches directly on the (persistent-memory) device, with no page cache.
//!
//! Modelled at v4.13 (fs/ext4/file.c `ext4_file_mmap`,
//! `ext4_dax_huge_fault`; fs/dax.c `dax_iomap_pte_fault`,
//! `grab_mapping_entry`, `dax_insert_mapping_entry`,
//! `dax_writeback_mapping_range`; mm/filemap.c `__delete_from_page_cache`).
//! A VMA keeps the `vm_ops` chosen when it was mapped ([`VmOps`]): a VMA
//! made before `S_DAX` turned on still faults through the page cache, one
//! made after through [`ext4_dax_huge_fault`]. The DAX fault assumes that a
//! page-cache page it finds at its index is a clean zero page of a hole and
//! deletes it (`dax_insert_mapping_entry`'s `hole_fill`); a dirty one trips
//! `WARN_ON_ONCE(PageDirty(page))` in `__delete_from_page_cache` and its
//! bytes are gone (the 2017 thread's warning).

use crate::engine::map::MapFlags;

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::inode_ops::ext4_map_blocks;
use super::pagecache::PAGE_SIZE;
use super::state::{Errno, Ext4InodeInfo, KResult, Kernel};

/// The warning `__delete_from_page_cache` gives for a dirty page (v4.13
/// mm/filemap.c: `WARN_ON_ONCE(PageDirty(page))`, "a bug and loss of
/// unwritten data").
pub const WARN_DELETE_DIRTY_PAGE: &str = "__delete_from_page_cache";

/// A VMA's `vm_ops`, fixed by `->mmap` (v4.13 fs/ext4/file.c
/// `ext4_file_mmap`): `ext4_dax_vm_ops` when the inode was `S_DAX` at mmap
/// time, `ext4_file_vm_ops` (`ext4_filemap_fault`, `ext4_page_mkwrite`)
/// otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VmOps {
    /// `ext4_file_vm_ops`: faults go through the page cache.
    #[default]
    File,
    /// `ext4_dax_vm_ops` (`VM_MIXEDMAP`): faults map device blocks.
    Dax,
}

/// v4.13 fs/ext4/file.c `ext4_file_mmap`: the `vm_ops` a new VMA of `ei`
/// gets (`IS_DAX` read without a lock, as the kernel does).
pub async fn ext4_file_mmap(ei: &Ext4InodeInfo) -> VmOps {
    let _f = crate::kfn!("ext4_file_mmap");
    ei.i_flags_loc.read().await;
    if ei.is_dax() {
        VmOps::Dax
    } else {
        VmOps::File
    }
}

/// What `grab_mapping_entry` found at an index.
enum Entry {
    /// A page-cache page, returned locked (v4.13: "If it points to a page,
    /// return with the page locked").
    Page(crate::sim::Page),
    /// A DAX entry already maps the index (`None`: the zero page).
    Dax(Option<u64>),
    /// Nothing: an empty locked entry is inserted.
    Empty,
}

/// v4.13 fs/ext4/file.c `ext4_dax_huge_fault` (PTE size) ->
/// fs/dax.c `dax_iomap_fault` -> `dax_iomap_pte_fault`: map page `index`
/// of `ei` for a load or a store. Returns the block the PTE now maps
/// (`None`: the zero page of a hole, loads only).
///
/// Order: (write: `sb_start_pagefault`) `i_mmap_sem` (r) -> (write: a handle, `EXT4_HT_WRITE_PAGE`) ->
/// the entry (page lock of a page-cache page) -> `ext4_iomap_begin`
/// (`ext4_map_blocks`, `EXT4_GET_BLOCKS_CREATE_ZERO` for a write) ->
/// `dax_insert_mapping_entry`.
///
/// Simplifications, none of which changes a built-in row: one page size
/// (no PMD faults); the DAX entry lock that serializes two DAX faults on
/// one index is not modelled (each S4 run has one DAX-faulting task); a
/// store to a present DAX PTE needs no fault (`dax_pfn_mkwrite` only
/// dirties the entry, and stores reach the device at once here).
///
/// Precondition: `mmap_lock` held (read); still held on return.
pub async fn ext4_dax_huge_fault(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    write: bool,
) -> KResult<Option<u64>> {
    let _f = crate::kfn!("ext4_dax_huge_fault");
    if write {
        super::state::sb_start_pagefault(k).await;
        // file_update_time(vmf->vma->vm_file);
    }
    ei.invalidate_lock.down_read().await;
    let handle = if write {
        match ext4_journal_start(k, ei, HandleType::WritePage, 8).await {
            Ok(h) => Some(h),
            Err(e) => {
                ei.invalidate_lock.up_read();
                super::state::sb_end_pagefault(k);
                return Err(e);
            }
        }
    } else {
        None
    };
    let r = dax_iomap_pte_fault(k, ei, index, write).await;
    if let Some(h) = handle {
        ext4_journal_stop(k, h);
    }
    ei.invalidate_lock.up_read();
    if write {
        super::state::sb_end_pagefault(k);
    }
    r
}

/// v4.13 fs/dax.c `dax_iomap_pte_fault` (see [`ext4_dax_huge_fault`]).
async fn dax_iomap_pte_fault(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    write: bool,
) -> KResult<Option<u64>> {
    let _f = crate::kfn!("dax_iomap_fault");
    ei.i_flags_loc.read().await;
    if index * PAGE_SIZE >= ei.i_size() {
        return Err(Errno::SIGBUS);
    }
    let entry = grab_mapping_entry(ei, index).await;
    if let Entry::Dax(pblk) = entry {
        if pblk.is_some() || !write {
            return Ok(pblk);
        }
    }
    // ext4_iomap_begin: a write allocates (and zeroes) the block.
    let flags = if write {
        MapFlags::CREATE
    } else {
        MapFlags::empty()
    };
    let m = match ext4_map_blocks(k, ei, index as u32, flags).await {
        Ok(m) => m,
        Err(e) => {
            if let Entry::Page(page) = entry {
                page.unlock();
            }
            return Err(e);
        }
    };
    let pblk = m.m_pblk.filter(|_| !m.unwritten);
    if m.new {
        if let Some(b) = m.m_pblk {
            // EXT4_GET_BLOCKS_CREATE_ZERO: sb_issue_zeroout before mapping.
            let zeros = vec![0u8; k.block_size() as usize];
            k.fs.borrow_mut()
                .write_data_block(b, &zeros)
                .map_err(|e| k.engine_error("ext4_iomap_begin", e))?;
            k.log.borrow_mut().set_block_prov(b, vec![0; zeros.len()]);
        }
    }
    dax_insert_mapping_entry(k, ei, index, entry, pblk).await;
    Ok(pblk)
}

/// v4.13 fs/dax.c `grab_mapping_entry`: the entry at `index`, locked.
async fn grab_mapping_entry(ei: &Ext4InodeInfo, index: u64) -> Entry {
    let _f = crate::kfn!("grab_mapping_entry");
    for _ in 0..4 {
        ei.mapping.i_pages_loc.read().await;
        if let Some(&e) = ei.mapping.dax_entries.borrow().get(&index) {
            return Entry::Dax(e);
        }
        let Some(page) = ei.mapping.find_get_page(index) else {
            return Entry::Empty;
        };
        page.lock().await;
        // Page got truncated? Retry...
        if ei.mapping.find_get_page(index) == Some(page) {
            return Entry::Page(page);
        }
        page.unlock();
    }
    Entry::Empty
}

/// v4.13 fs/dax.c `dax_insert_mapping_entry`: a page-cache page at the
/// index is taken for a hole's zero page (`hole_fill`): it is unmapped
/// from every process (`unmap_mapping_range`, under `i_mmap_rwsem`) and
/// deleted (`__delete_from_page_cache`, which warns when it is dirty: its
/// bytes are lost), then the DAX entry takes its place.
async fn dax_insert_mapping_entry(
    _k: &Kernel,
    ei: &Ext4InodeInfo,
    index: u64,
    entry: Entry,
    pblk: Option<u64>,
) {
    let _f = crate::kfn!("dax_insert_mapping_entry");
    if let Entry::Page(page) = entry {
        // unmap_mapping_range(mapping, index << PAGE_SHIFT, PAGE_SIZE, 0)
        ei.mapping.i_mmap_rwsem.down_read().await;
        ei.mapping.set_pte_writable(index, false);
        ei.mapping.i_mmap_rwsem.up_read();
        ei.mapping.i_pages_loc.write().await;
        let dirty = ei.mapping.with_page(index, |ps| ps.dirty).unwrap_or(false);
        {
            let _d = crate::kfn!("__delete_from_page_cache");
            crate::sim::warn_on(dirty, WARN_DELETE_DIRTY_PAGE);
        }
        ei.mapping.remove_page(index);
        ei.mapping.dax_entries.borrow_mut().insert(index, pblk);
        page.unlock();
        return;
    }
    ei.mapping.i_pages_loc.write().await;
    ei.mapping.dax_entries.borrow_mut().insert(index, pblk);
}

/// v4.13 fs/dax.c `dax_writeback_mapping_range`, called by
/// `ext4_writepages` for an `S_DAX` inode: it flushes the CPU caches of
/// dirty DAX entries and nothing else. `if (!mapping->nrexceptional ||
/// wbc->sync_mode != WB_SYNC_ALL) return 0;`: a dirty page-cache page of
/// the inode is never written. (Stores through a DAX PTE reach the device
/// at once in this model, so there is nothing to flush.)
pub async fn dax_writeback_mapping_range(ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("dax_writeback_mapping_range");
    ei.mapping.i_pages_loc.read().await;
    Ok(())
}

/// A CPU load or store through a DAX PTE mapping block `pblk` (`None`:
/// the zero page): `within..within + len` of the page. Returns the bytes
/// loaded and their provenance (empty for a store).
pub fn dax_access(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    pblk: Option<u64>,
    within: usize,
    store: Option<&[u8]>,
    len: usize,
) -> KResult<(Vec<u8>, Vec<u32>)> {
    let bs = k.block_size() as usize;
    let Some(b) = pblk else {
        return Ok((vec![0; len], vec![0; len]));
    };
    let mut buf = vec![0u8; bs];
    k.fs.borrow_mut()
        .read_data_block(b, &mut buf)
        .map_err(|e| k.engine_error("dax_iomap_fault", e))?;
    let mut prov = k.log.borrow().block_prov(b, bs);
    match store {
        Some(bytes) => {
            buf[within..within + len].copy_from_slice(bytes);
            prov[within..within + len].fill(ei.ino);
            k.fs.borrow_mut()
                .write_data_block(b, &buf)
                .map_err(|e| k.engine_error("dax_iomap_fault", e))?;
            k.log.borrow_mut().set_block_prov(b, prov);
            Ok((Vec::new(), Vec::new()))
        }
        None => Ok((
            buf[within..within + len].to_vec(),
            prov[within..within + len].to_vec(),
        )),
    }
}
