//! S4 (journal-flag-switch): `ext4_ioctl_setflags` ->
//! `ext4_change_inode_journal_flag` (chattr +j) and the DAX flip (chattr
//! +x), with the switches `flag_switch_writeback` (none / inside-handle /
//! outside-handle) and `dax_flip_mapped` (allow / ebusy); and fsync of an
//! inode that journals its data (`ext4_sync_file` -> `ext4_force_commit`,
//! no page writeback).
//!
//! A page dirtied before the inode started journalling data is not
//! `PageChecked`: ext4 never journals it, and fsync of the journal-data
//! inode (a commit only) does not write it. The model records such pages
//! at the flip ([`unjournalled_dirty_pages`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::engine::inode::EXT4_JOURNAL_DATA_FL;
use crate::scenario::FlagChange;

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::state::{inode_lock, inode_unlock, Errno, Ext4InodeInfo, KResult, Kernel};
use super::writeback::{filemap_write_and_wait_range, invalidate_inode_pages2_range};

/// `FS_DAX_FL` / `EXT4_DAX_FL` (in-memory `S_DAX` in this model).
pub const EXT4_DAX_FL: u32 = 0x0200_0000;

thread_local! {
    /// ino -> pages dirty at the flip to journalled data (not PageChecked).
    static UNJOURNALLED: RefCell<BTreeMap<u32, BTreeSet<u64>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Forget the per-execution page records (call when an execution starts).
pub fn s4_reset() {
    UNJOURNALLED.with(|u| u.borrow_mut().clear());
}

/// Pages of `ino` that were dirty when it started journalling data.
pub fn unjournalled_dirty_pages(ino: u32) -> BTreeSet<u64> {
    UNJOURNALLED.with(|u| u.borrow().get(&ino).cloned().unwrap_or_default())
}

/// `ext4_should_journal_data` on the in-memory flags.
pub fn ext4_should_journal_data(k: &Kernel, ei: &Ext4InodeInfo) -> bool {
    k.rc.mount.data == crate::scenario::DataMode::Journal || ei.test_flag(EXT4_JOURNAL_DATA_FL)
}

fn is_mapped(k: &Kernel, ei: &Ext4InodeInfo) -> bool {
    k.procs
        .values()
        .any(|p| p.vmas.borrow().values().any(|v| v.file == ei.name))
}

/// `ext4_ioctl_setflags(file, "+j" / "+x" ...)`. Preconditions: none held.
pub async fn ext4_ioctl_setflags(k: &Kernel, ei: &Ext4InodeInfo, flags: &str) -> KResult<()> {
    let _f = crate::kfn!("ext4_ioctl_setflags");
    let change = FlagChange::parse(flags).map_err(|_| Errno::EINVAL)?;
    inode_lock(ei).await;
    let mut r = Ok(());
    if let Some(on) = change.dax {
        r = ext4_change_flag(k, ei, EXT4_DAX_FL, on, true).await;
    }
    if let (Some(on), Ok(())) = (change.journal_data, &r) {
        r = ext4_change_flag(k, ei, EXT4_JOURNAL_DATA_FL, on, false).await;
    }
    inode_unlock(ei);
    r
}

/// `ext4_change_inode_journal_flag` (and the DAX flip of the same
/// thread). Preconditions: `i_rwsem` held.
async fn ext4_change_flag(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    fl: u32,
    on: bool,
    dax: bool,
) -> KResult<()> {
    let _f = crate::kfn!(if dax {
        "ext4_ioctl_setflags_dax"
    } else {
        "ext4_change_inode_journal_flag"
    });
    if dax && k.switch("dax_flip_mapped") == "ebusy" && is_mapped(k, ei) {
        return Err(Errno::EBUSY);
    }
    let end = u64::MAX / 2;
    match k.switch("flag_switch_writeback") {
        "inside-handle" => {
            // v1: ext4_ioctl_setflags starts the handle and reserves the
            // inode's buffer, then the flag loop locks out faults.
            let h = ext4_journal_start(k, ei, HandleType::Inode, 4).await?;
            if let Err(e) = ext4_reserve_inode_write(k, ei).await {
                ext4_journal_stop(k, h);
                return Err(e);
            }
            ei.invalidate_lock.down_write().await;
            let r = filemap_write_and_wait_range(k, ei, 0, end).await;
            let r = match r {
                Ok(()) => invalidate_inode_pages2_range(k, ei, 0, end).await,
                e => e,
            };
            let r = match r {
                Ok(()) => set_flag(k, ei, fl, on).await,
                e => e,
            };
            ei.invalidate_lock.up_write();
            ext4_journal_stop(k, h);
            r
        }
        "outside-handle" => {
            ei.invalidate_lock.down_write().await;
            let r = filemap_write_and_wait_range(k, ei, 0, end).await;
            let r = match r {
                Ok(()) => invalidate_inode_pages2_range(k, ei, 0, end).await,
                e => e,
            };
            let r = match r {
                Ok(()) => match ext4_journal_start(k, ei, HandleType::Inode, 4).await {
                    Ok(h) => {
                        let r = ext4_reserve_inode_write(k, ei).await;
                        let r = match r {
                            Ok(()) => set_flag(k, ei, fl, on).await,
                            e => e,
                        };
                        ext4_journal_stop(k, h);
                        r
                    }
                    Err(e) => Err(e),
                },
                e => e,
            };
            ei.invalidate_lock.up_write();
            r
        }
        _ => {
            let h = ext4_journal_start(k, ei, HandleType::Inode, 4).await?;
            let r = ext4_reserve_inode_write(k, ei).await;
            let r = match r {
                Ok(()) => set_flag(k, ei, fl, on).await,
                e => e,
            };
            ext4_journal_stop(k, h);
            r
        }
    }
}

/// `ext4_reserve_inode_write` -> `ext4_get_inode_loc`: get the buffer of
/// the inode's table block for the handle. It is not cached in this model
/// (it sleeps on a read bio, as `__ext4_get_inode_loc` does when the
/// buffer is not uptodate), so a task holding a handle can block here
/// before it goes on to take more locks. Precondition: a handle is open.
pub async fn ext4_reserve_inode_write(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_reserve_inode_write");
    let block =
        k.fs.borrow()
            .inode_location(ei.ino)
            .map_err(|e| k.engine_error("ext4_get_inode_loc", e))?
            .0;
    let (_, done) = crate::sim::submit_bio(block, false, || {});
    done.wait().await;
    Ok(())
}

/// Flip `fl` in memory and (for the journal flag) on disk; record the
/// pages that stay dirty without being journalled. Precondition: a handle
/// is open.
async fn set_flag(k: &Kernel, ei: &Ext4InodeInfo, fl: u32, on: bool) -> KResult<()> {
    ei.i_flags_loc.write().await;
    {
        let mut m = ei.mem.borrow_mut();
        if on {
            m.i_flags |= fl;
        } else {
            m.i_flags &= !fl;
        }
    }
    if fl == EXT4_JOURNAL_DATA_FL && on {
        let dirty: BTreeSet<u64> = ei
            .mapping
            .dirty_pages(0, u64::MAX / 2)
            .into_iter()
            .collect();
        UNJOURNALLED.with(|u| u.borrow_mut().insert(ei.ino, dirty));
    }
    if fl == EXT4_DAX_FL {
        // S_DAX lives in the in-memory inode only in this model.
        return Ok(());
    }
    k.ext4_mark_inode_dirty(ei)
}

/// `ext4_sync_file` of an inode that journals its data: no page writeback
/// (`ext4_force_commit`), except that pages dirtied after the flip went
/// through the journal in the kernel (`PageChecked`, journalled by
/// page_mkwrite/write_end): the model writes those, then commits.
pub async fn ext4_sync_file_journal_data(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_force_commit");
    let unjournalled = unjournalled_dirty_pages(ei.ino);
    for idx in ei.mapping.dirty_pages(0, u64::MAX / 2) {
        if unjournalled.contains(&idx) {
            continue;
        }
        let off = idx * super::pagecache::PAGE_SIZE;
        filemap_write_and_wait_range(k, ei, off, off + super::pagecache::PAGE_SIZE - 1).await?;
    }
    let ops = k.jops.borrow().clone();
    ops.fsync_commit(k, ei).await
}

/// The DAX fault of an inode with `S_DAX` (`ext4_dax_huge_fault` ->
/// `dax_iomap_fault` -> `dax_insert_mapping_entry`): inserting the DAX
/// entry deletes the page-cache page at `index`; a dirty one trips the
/// thread's `WARN_ON` in `__delete_from_page_cache`. The model checks and
/// warns, then lets the ordinary fault go on (the process faults: its page
/// table has no entry for a DAX inode's page yet).
pub async fn ext4_dax_fault_check(ei: &Ext4InodeInfo, index: u64) {
    let _f = crate::kfn!("dax_iomap_fault");
    ei.mapping.i_pages_loc.read().await;
    let dirty = ei.mapping.with_page(index, |ps| ps.dirty).unwrap_or(false);
    crate::sim::warn_on(dirty, "__delete_from_page_cache");
}
