//! Processes, their `mm` (`mmap_lock`) and `MAP_SHARED` mappings (VMAs),
//! and user memory accesses that fault: `store`, `load`, get_user_pages.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::sim::RwSemaphore;

use super::fault::{handle_mm_fault, FaultFlags, VmFault};
use super::pagecache::PAGE_SIZE;
use super::state::{Errno, Ext4InodeInfo, KResult, Kernel};

/// A VMA mapping a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vma {
    pub file: String,
    /// File offset of the mapping's start (`vm_pgoff` in bytes).
    pub offset: u64,
    pub len: u64,
    pub shared: bool,
    pub writable: bool,
    /// `vma->vm_ops`, chosen by `->mmap` and kept for the VMA's life.
    pub vm_ops: super::dax::VmOps,
}

/// A process: one `mm_struct`.
pub struct Process {
    pub name: String,
    /// `mm->mmap_lock` (`mmap_sem` before v5.8).
    pub mmap_lock: RwSemaphore,
    /// VMAs by mapping name. Changed only under `mmap_lock` (write).
    pub vmas: RefCell<BTreeMap<String, Vma>>,
}

impl Process {
    /// A process with no mappings (create inside an execution); its mm lock
    /// is named as kernel `version` names it (`mmap_sem` before v5.8).
    pub fn new(name: &str, version: crate::scenario::history::KernelVersion) -> Process {
        let class = crate::scenario::locks::LockClass::MmapLock
            .name(version)
            .unwrap_or("mmap_lock");
        Process {
            name: name.to_string(),
            mmap_lock: RwSemaphore::named(crate::sim::ObjName::Field(name.into(), class), class),
            vmas: RefCell::new(BTreeMap::new()),
        }
    }
}

/// mmap(2): v4.13 mm/util.c `vm_mmap` -> mm/mmap.c `mmap_region` under
/// `mmap_lock` (write): `->mmap` (`ext4_file_mmap` picks the `vm_ops`),
/// then `vma_link` adds the VMA to `mapping->i_mmap` under
/// `i_mmap_rwsem` (write).
pub async fn vm_mmap(k: &Kernel, p: &Process, name: &str, mut vma: Vma) -> KResult<()> {
    let _f = crate::kfn!("vm_mmap");
    let ei = k.inode(&vma.file)?;
    p.mmap_lock.down_write().await;
    vma.vm_ops = super::dax::ext4_file_mmap(&ei).await;
    ei.mapping.i_mmap_rwsem.down_write().await;
    ei.mapping.i_mmap_loc.write().await;
    p.vmas.borrow_mut().insert(name.to_string(), vma);
    ei.mapping.i_mmap_rwsem.up_write();
    p.mmap_lock.up_write();
    Ok(())
}

/// munmap(2): v4.13 mm/mmap.c `do_munmap` under `mmap_lock` (write); the
/// VMA leaves `mapping->i_mmap` under `i_mmap_rwsem` (write,
/// `unlink_file_vma`).
pub async fn vm_munmap(k: &Kernel, p: &Process, name: &str) -> KResult<()> {
    let _f = crate::kfn!("__vm_munmap");
    p.mmap_lock.down_write().await;
    let file = p.vmas.borrow().get(name).map(|v| v.file.clone());
    let Some(file) = file else {
        p.mmap_lock.up_write();
        return Err(Errno::EINVAL);
    };
    let ei = k.inode(&file)?;
    ei.mapping.i_mmap_rwsem.down_write().await;
    ei.mapping.i_mmap_loc.write().await;
    p.vmas.borrow_mut().remove(name);
    ei.mapping.i_mmap_rwsem.up_write();
    p.mmap_lock.up_write();
    Ok(())
}

/// v4.13 include/linux/fs.h `mapping_mapped`: whether any VMA maps file
/// `file` (read without `i_mmap_rwsem`, as the kernel does).
pub async fn mapping_mapped(k: &Kernel, file: &str) -> KResult<bool> {
    let ei = k.inode(file)?;
    ei.mapping.i_mmap_loc.read().await;
    Ok(k.procs
        .values()
        .any(|p| p.vmas.borrow().values().any(|v| v.file == file)))
}

/// What a user access does to each byte.
pub enum Access<'a> {
    /// A CPU load: bytes (and their provenance) are returned.
    Load,
    /// A CPU store of these bytes.
    Store(&'a [u8]),
    /// get_user_pages(FOLL_WRITE): fault the pages in writable, pin them,
    /// change no byte.
    PinWrite,
}

/// A user access of `len` bytes at `off` inside mapping `map` of process
/// `p` (v5.5 arch/x86/mm/fault.c `do_user_addr_fault`, and
/// mm/gup.c `__get_user_pages` for a pin): each page is touched under `mmap_lock` (read), faulting as needed
/// (`do_user_addr_fault` -> `handle_mm_fault`; `VM_FAULT_RETRY` retries
/// after the handler dropped `mmap_lock`). `flags` = how the caller faults
/// (get_user_pages without FAULT_FLAG_ALLOW_RETRY, or an ordinary fault).
/// Returns the bytes loaded and their provenance (empty for a store).
pub async fn user_access(
    k: &Kernel,
    p: &Process,
    map: &str,
    off: u64,
    len: u64,
    access: Access<'_>,
    flags: FaultFlags,
) -> KResult<(Vec<u8>, Vec<u32>)> {
    let mut out = Vec::new();
    let mut prov = Vec::new();
    let mut done = 0u64;
    let mut retries = 0u32;
    while done < len {
        p.mmap_lock.down_read().await;
        let Some(vma) = p.vmas.borrow().get(map).cloned() else {
            p.mmap_lock.up_read();
            return Err(Errno::EFAULT);
        };
        let pos = vma.offset + off + done;
        let index = pos / PAGE_SIZE;
        let within = (pos % PAGE_SIZE) as usize;
        let take = ((PAGE_SIZE as usize - within) as u64).min(len - done) as usize;
        let ei = k.inode(&vma.file)?;
        let write = matches!(access, Access::Store(_) | Access::PinWrite);
        if vma.vm_ops == super::dax::VmOps::Dax {
            // ext4_dax_vm_ops: the PTE maps the block itself.
            let present = {
                ei.mapping.i_pages_loc.read().await;
                ei.mapping.dax_entries.borrow().get(&index).copied()
            };
            let pblk = match present {
                Some(b) if b.is_some() || !write => Ok(b),
                _ => super::dax::ext4_dax_huge_fault(k, &ei, index, write).await,
            };
            let pblk = match pblk {
                Ok(b) => b,
                Err(e) => {
                    p.mmap_lock.up_read();
                    return Err(e);
                }
            };
            let store = match &access {
                Access::Store(bytes) => Some(&bytes[done as usize..done as usize + take]),
                _ => None,
            };
            if store.is_some() {
                ei.mapping.i_pages_loc.write().await;
            }
            let r = super::dax::dax_access(k, &ei, pblk, within, store, take);
            p.mmap_lock.up_read();
            let (d, pv) = r?;
            match &access {
                Access::Store(bytes) => {
                    record_store(k, &ei, pos, &bytes[done as usize..done as usize + take]);
                }
                Access::Load => {
                    out.extend(d);
                    prov.extend(pv);
                }
                Access::PinWrite => {}
            }
            done += take as u64;
            retries = 0;
            continue;
        }
        match handle_mm_fault(k, p, &ei, index, write, flags, retries > 0).await {
            VmFault::Retry => {
                // the handler released mmap_lock (FAULT_FLAG_ALLOW_RETRY)
                retries += 1;
                if retries > 4 {
                    return Err(Errno::EFAULT);
                }
                continue;
            }
            VmFault::NoPage => {
                p.mmap_lock.up_read();
                retries += 1;
                if retries > 8 {
                    return Err(Errno::EFAULT);
                }
                continue;
            }
            VmFault::Error(e) => {
                p.mmap_lock.up_read();
                return Err(e);
            }
            VmFault::Locked(page) => {
                // The page is locked, uptodate (and, for a write, dirty with
                // a writable PTE): the CPU access happens now.
                if let Access::Store(_) = &access {
                    // A store through the writable PTE: the kernel dirties
                    // the PTE, which page_mkclean moves to the page before
                    // writeback; the model dirties the page now. Nothing
                    // changes when the fault dirtied it already
                    // (`fault_dirty_shared_page`).
                    ei.mapping.set_page_dirty(index, true);
                }
                let (d, pv) = ei
                    .mapping
                    .with_page(index, |ps| {
                        if let Access::Store(bytes) = &access {
                            let src = &bytes[done as usize..done as usize + take];
                            ps.data_loc.note_write();
                            ps.data[within..within + take].copy_from_slice(src);
                            ps.prov[within..within + take].fill(ei.ino);
                            (Vec::new(), Vec::new())
                        } else if let Access::PinWrite = &access {
                            (Vec::new(), Vec::new())
                        } else {
                            (
                                ps.data[within..within + take].to_vec(),
                                ps.prov[within..within + take].to_vec(),
                            )
                        }
                    })
                    .unwrap_or_default();
                page.unlock();
                p.mmap_lock.up_read();
                if let Access::Store(bytes) = &access {
                    record_store(k, &ei, pos, &bytes[done as usize..done as usize + take]);
                } else if let Access::Load = &access {
                    let log = k.log.borrow();
                    let pblk = ei
                        .mapping
                        .with_page(index, |ps| ps.bh.b_blocknr.or(ps.read_blk))
                        .flatten();
                    if let Some(o) = super::provenance::check_read(
                        &log,
                        ei.ino,
                        &ei.name,
                        pos,
                        &pv,
                        pblk,
                        "filemap_fault",
                        |i| k.ino_name(i),
                    ) {
                        drop(log);
                        crate::sim::report(o);
                    }
                    out.extend(d);
                    prov.extend(pv);
                }
                done += take as u64;
                retries = 0;
            }
        }
    }
    Ok((out, prov))
}

/// The lost-write oracle's record of a store at file offset `pos`: only the
/// bytes below `i_size` are file data. The rest of the last page is not
/// part of the file: writeback zeroes it (`ext4_bio_write_page` zeroes the
/// page past `i_size`) and a later extension reads zeros there.
fn record_store(k: &Kernel, ei: &Ext4InodeInfo, pos: u64, bytes: &[u8]) {
    let size = ei.i_size();
    if pos >= size {
        return;
    }
    let n = (bytes.len() as u64).min(size - pos) as usize;
    k.log.borrow_mut().record_write(
        ei.ino,
        pos,
        bytes[..n].to_vec(),
        crate::sim::current_task_name(),
    );
}
