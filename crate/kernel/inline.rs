//! Inline data in the simulated paths: `ext4_readpage_inline`,
//! `ext4_try_to_write_inline_data` / `ext4_write_inline_data_end`, and
//! `ext4_convert_inline_data`, which `ext4_page_mkwrite` calls from
//! 7b4cc9787fe3 (v4.12) on, and as Baokun Li's proposals say (S2).

use crate::engine::inode::{EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL};

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::pagecache::PAGE_SIZE;
use super::state::{state_bits, Ext4InodeInfo, KResult, Kernel};

/// `ext4_has_inline_data`. Precondition: `xattr_sem` held, or the caller
/// accepts a racy answer.
pub fn ext4_has_inline_data(ei: &Ext4InodeInfo) -> bool {
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

/// Re-read the on-disk inode after the engine changed it (inline ops).
fn refresh(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let raw =
        k.fs.borrow_mut()
            .ext4_iget(ei.ino)
            .map_err(|e| k.engine_error("ext4_iget", e))?;
    let mut m = ei.mem.borrow_mut();
    let migrate = m.i_flags & super::state::EXT4_EXT_MIGRATE;
    m.i_flags = raw.i_flags | migrate;
    m.i_size = raw.size();
    m.i_disksize = raw.size();
    m.raw = raw;
    Ok(())
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
    let data = if index == 0 {
        k.fs.borrow_mut().read_inline_data(ei.ino)
    } else {
        Ok(Vec::new())
    };
    ei.xattr_sem.up_read();
    let data = data.map_err(|e| k.engine_error("ext4_readpage_inline", e))?;
    ei.mapping.with_page(index, |ps| {
        ps.data.fill(0);
        ps.prov.fill(0);
        let n = data.len().min(PAGE_SIZE as usize);
        ps.data[..n].copy_from_slice(&data[..n]);
        ps.prov[..n].fill(ei.ino);
        ps.uptodate = true;
        ps.bh = Default::default();
    });
    Ok(true)
}

/// `ext4_write_inline_data_end`: copy the page's first `new_size` bytes
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
            ei.mapping.with_page(0, |ps| ps.dirty = false);
        }
        Ok(fit)
    }
    .await;
    ei.xattr_sem.up_write();
    r
}

/// `ext4_convert_inline_data` (v4.12 fs/ext4/inline.c): move inline data
/// to a block under a journal handle, `xattr_sem` (write,
/// `ext4_write_lock_xattr`) and `i_data_sem` (write) for the allocation.
/// No merged kernel asserts `inode_is_locked` here (only Ted's unmerged
/// 2017 patch did, in `reg_convert_inline_data_nolock`: S1's
/// `ted-2017-as-posted`); the current code's failure is elsewhere (a BUG
/// in write_end when a failed conversion leaves the inode inline, which
/// needs a failing `ext4_map_blocks` this model does not inject).
/// Simplified: `ext4_get_inode_loc` and the credits are not modelled (no
/// lock, no wait: they cannot change an interleaving).
pub async fn ext4_convert_inline_data(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_convert_inline_data");
    ei.i_flags_loc.read().await;
    if !ext4_has_inline_data(ei) {
        return Ok(());
    }
    let handle = ext4_journal_start(k, ei, HandleType::Inode, 8).await?;
    ei.xattr_sem.down_write().await;
    let r = async {
        if !ext4_has_inline_data(ei) {
            return Ok(());
        }
        ei.i_data_sem.down_write().await;
        k.balloc_loc.write().await;
        let r = k.ext4_mark_inode_dirty(ei).and_then(|_| {
            k.fs.borrow_mut()
                .ext4_convert_inline_data(ei.ino)
                .map_err(|e| k.engine_error("ext4_convert_inline_data", e))
        });
        let r = r.and_then(|_| refresh(k, ei));
        if r.is_ok() {
            let mut m = ei.mem.borrow_mut();
            m.i_state_flags &= !state_bits::EXT4_STATE_MAY_INLINE_DATA;
            m.i_flags |= EXT4_EXTENTS_FL & m.raw.i_flags;
        }
        ei.i_data_sem.up_write();
        r
    }
    .await;
    ei.xattr_sem.up_write();
    ext4_journal_stop(k, handle);
    r
}
