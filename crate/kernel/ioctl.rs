//! fs/ext4/ioctl.c: `FS_IOC_SETFLAGS` (chattr) as v4.13 has it, with the
//! journal-data flag change of the 2017 thread and its proposals.

use crate::engine::inode::EXT4_JOURNAL_DATA_FL;
use crate::scenario::history::{Change, KernelVersion};
use crate::scenario::FlagChange;

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::inode_ops::{ext4_change_inode_journal_flag, ext4_set_inode_flags};
use super::state::{inode_lock, inode_unlock, Errno, Ext4InodeInfo, KResult, Kernel};
use super::writeback::{filemap_write_and_wait_range, invalidate_inode_pages2_range};

/// `FS_DAX_FL` / `EXT4_DAX_FL` (0x02000000): user-visible and settable
/// from v5.8 (b383a73f2b83 "fs/ext4: Introduce DAX inode flag").
pub const EXT4_DAX_FL: u32 = 0x0200_0000;

/// v4.13 fs/ext4/ioctl.c `ext4_ioctl`, case `EXT4_IOC_SETFLAGS`: flags
/// outside `EXT4_FL_USER_VISIBLE` are refused with EOPNOTSUPP (so `chattr
/// +x` before v5.8), then `inode_lock` around [`ext4_ioctl_setflags`].
/// `mnt_want_write_file`'s `sb_start_write` is taken by the caller (the
/// runner, as the VFS). Precondition: no lock but `sb_writers` held.
pub async fn ext4_ioctl(k: &Kernel, ei: &Ext4InodeInfo, flags: &str) -> KResult<()> {
    let _f = crate::kfn!("ext4_ioctl");
    let change = FlagChange::parse(flags).map_err(|_| Errno::EINVAL)?;
    if change.dax.is_some() && k.version() < KernelVersion::new(5, 8) {
        return Err(Errno::EOPNOTSUPP);
    }
    inode_lock(ei).await;
    let r = ext4_ioctl_setflags(k, ei, change).await;
    inode_unlock(ei);
    r
}

/// v4.13 fs/ext4/ioctl.c `ext4_ioctl_setflags`: under one handle
/// (`ext4_reserve_inode_write`, the flag loop, `ext4_set_inode_flags`,
/// `ext4_mark_iloc_dirty`) set every flag but the journal-data flag; stop
/// the handle; then, if the journal-data flag changes,
/// `ext4_change_inode_journal_flag`.
///
/// Branches: e9072d859df3 (v4.15-rc1) returns EBUSY for a journal-data
/// change under `-o dax`, after the handle part, as the commit does;
/// `h:wb-inside-handle` locks out faults (`i_mmap_sem` (w)), writes back and
/// invalidates while the handle is open (the order Ross Zwisler's mail
/// says is forbidden: `i_mmap_sem` and `s_journal_flag_rwsem` rank above
/// `jbd2_handle`). `EXT4_DAX_FL` (v5.8+) is stored on disk only: it takes
/// effect when the inode is next read (`d_mark_dontcache`), which no run
/// reaches.
///
/// Precondition: `i_rwsem` held (write), no handle.
pub async fn ext4_ioctl_setflags(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    change: FlagChange,
) -> KResult<()> {
    let _f = crate::kfn!("ext4_ioctl_setflags");
    ei.i_flags_loc.read().await;
    let oldflags = ei.mem.borrow().i_flags;
    let old_j = oldflags & EXT4_JOURNAL_DATA_FL != 0;
    let jflag = change.journal_data.unwrap_or(old_j);
    let jchange = jflag != old_j;
    let wb_inside = jchange && k.applied(Change::WritebackInsideHandle);
    let h = ext4_journal_start(k, ei, HandleType::Inode, 1).await?;
    // ext4_reserve_inode_write: the inode's buffer joins the handle.
    let mut r = Ok(());
    if wb_inside {
        ei.invalidate_lock.down_write().await;
        r = filemap_write_and_wait_range(k, ei, 0, u64::MAX / 2).await;
        if r.is_ok() {
            r = invalidate_inode_pages2_range(k, ei, 0, u64::MAX / 2).await;
        }
    }
    if r.is_ok() {
        if let Some(dax) = change.dax {
            ei.i_flags_loc.write().await;
            let mut m = ei.mem.borrow_mut();
            if dax {
                m.i_flags |= EXT4_DAX_FL;
            } else {
                m.i_flags &= !EXT4_DAX_FL;
            }
        }
        ext4_set_inode_flags(k, ei);
        r = k.ext4_mark_inode_dirty(ei);
    }
    ext4_journal_stop(k, h);
    if r.is_ok() && jchange {
        r = if k.applied(Change::JournalFlagEbusyDax) && k.rc.mount.dax {
            // Changes to the journaling mode can cause unsafe changes to
            // S_DAX if we are using the DAX mount option.
            Err(Errno::EBUSY)
        } else {
            ext4_change_inode_journal_flag(k, ei, jflag, wb_inside).await
        };
    }
    if wb_inside {
        ei.invalidate_lock.up_write();
    }
    r
}
