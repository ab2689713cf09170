//! `EXT4_IOC_MIGRATE`: `ext4_ext_migrate` turns a block-mapped (ext3
//! style) file into an extent file. Under `i_rwsem` it copies the block map
//! into a temporary inode's extent tree, then `ext4_ext_swap_inode_data`
//! swaps the trees under `i_data_sem` (write). A page fault filling a hole
//! allocates under `i_data_sem` alone, so an allocation between the copy and
//! the swap is lost with the old map unless the variant guards it
//! (`migrate_guard`: the 2008 patch's `EXT4_EXT_MIGRATE` flag and -EAGAIN).
//!
//! The temporary inode lives in memory only here (the kernel's is an orphan
//! inode from `ext4_new_inode`, deleted at the end); for files whose extents
//! fit in `i_block` nothing else of it reaches the disk.

use crate::engine::inode::EXT4_EXTENTS_FL;
use crate::engine::map::{ext4_ext_insert_extent, ext4_ext_tree_init, Extent};

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::state::{
    inode_lock, inode_unlock, Errno, Ext4InodeInfo, KResult, Kernel, EXT4_EXT_MIGRATE,
};

/// ioctl(EXT4_IOC_MIGRATE). Returns `EAGAIN` when the guard saw an
/// allocation during the migration.
pub async fn ext4_ext_migrate(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_ext_migrate");
    if ei.test_flag(EXT4_EXTENTS_FL) {
        return Err(Errno::EINVAL);
    }
    inode_lock(ei).await;
    let guarded = k.switch("migrate_guard") != "none" && !k.switch("migrate_guard").is_empty();
    if guarded {
        // The flag is set under i_data_sem to order it against allocations.
        ei.i_data_sem.down_read().await;
        ei.mem.borrow_mut().i_flags |= EXT4_EXT_MIGRATE;
        ei.i_data_sem.up_read();
    }
    let r = async {
        let handle = ext4_journal_start(k, ei, HandleType::Migrate, 8).await?;
        // Build the temporary inode's extent tree from the block map.
        ei.i_data_sem.down_read().await;
        let own = {
            let raw = ei.mem.borrow().raw.clone();
            k.fs.borrow_mut().walk_mapping(ei.ino, &raw)
        };
        ei.i_data_sem.up_read();
        let own = match own {
            Ok(o) => o,
            Err(e) => {
                ext4_journal_stop(k, handle);
                return Err(k.engine_error("ext4_ext_migrate", e));
            }
        };
        let mut tmp_i_block = [0u8; 60];
        ext4_ext_tree_init(&mut tmp_i_block);
        {
            let _g = crate::kfn!("update_ind_extent_range");
            let raw = ei.mem.borrow().raw.clone();
            let mut fs = k.fs.borrow_mut();
            let mut ctx = crate::engine::bmap::InodeMapCtx::new(&mut fs, ei.ino, &raw);
            for e in &own.data {
                let ext = Extent {
                    unwritten: false,
                    ..*e
                };
                if let Err(err) = ext4_ext_insert_extent(&mut ctx, &mut tmp_i_block, ext) {
                    drop(fs);
                    ext4_journal_stop(k, handle);
                    return Err(k.engine_error("ext4_ext_migrate", err));
                }
            }
        }
        let r = ext4_ext_swap_inode_data(k, ei, tmp_i_block, &own.metadata).await;
        ext4_journal_stop(k, handle);
        r
    }
    .await;
    inode_unlock(ei);
    r
}

/// `ext4_ext_swap_inode_data`: under `i_data_sem` (write), fail with
/// -EAGAIN if the guard's flag was cleared by an allocation, else install
/// the temporary inode's extent tree and free the old map's indirect blocks.
pub async fn ext4_ext_swap_inode_data(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    tmp_i_block: [u8; 60],
    old_ind_blocks: &[u64],
) -> KResult<()> {
    let _f = crate::kfn!("ext4_ext_swap_inode_data");
    ei.i_data_sem.down_write().await;
    let guarded = k.switch("migrate_guard") != "none" && !k.switch("migrate_guard").is_empty();
    if guarded {
        // if EXT4_EXT_MIGRATE is cleared a block allocation happened after
        // we started the migrate: fail it
        let still = ei.mem.borrow().i_flags & EXT4_EXT_MIGRATE != 0;
        if !still {
            ei.i_data_sem.up_write();
            return Err(Errno::EAGAIN);
        }
        ei.mem.borrow_mut().i_flags &= !EXT4_EXT_MIGRATE;
    }
    k.balloc_loc.write().await;
    {
        let mut m = ei.mem.borrow_mut();
        m.raw.i_block = tmp_i_block;
        m.i_flags |= EXT4_EXTENTS_FL;
        m.raw.i_flags |= EXT4_EXTENTS_FL;
    }
    let mut r = Ok(());
    for &b in old_ind_blocks {
        if let Err(e) = k.fs.borrow_mut().ext4_free_blocks(b, 1) {
            r = Err(k.engine_error("free_ind_block", e));
        }
    }
    if !old_ind_blocks.is_empty() {
        let n = old_ind_blocks.len() as i64;
        let per = k.block_size() as i64 / 512;
        let mut m = ei.mem.borrow_mut();
        let sb = k.fs.borrow().sb.clone();
        let cur = m.raw.blocks_512(&sb) as i64;
        m.raw.set_blocks_512((cur - n * per).max(0) as u64);
    }
    k.log
        .borrow_mut()
        .map_replaced_by
        .push((ei.ino, crate::sim::current_task_name()));
    let w = k.ext4_mark_inode_dirty(ei);
    ei.i_data_sem.up_write();
    r.and(w)
}
