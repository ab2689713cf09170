//! `EXT4_IOC_MIGRATE`: `ext4_ext_migrate` turns a block-mapped (ext3
//! style) file into an extent file, as 2.6.25-rc5 fs/ext4/migrate.c has it:
//! under `i_mutex` it walks the block map (without `i_data_sem`) into a
//! temporary inode's extent tree, then `ext4_ext_swap_inode_data` swaps the
//! trees under `i_data_sem` (write). A page fault filling a hole allocates
//! under `i_data_sem` alone, so an allocation into a slot the walk already
//! passed is lost with the old map, unless the kernel has the 2008 fix
//! (267e4db9ac28, or Aneesh's first posting): the `EXT4_EXT_MIGRATE` flag,
//! cleared by an allocation, and -EAGAIN from the swap.
//!
//! The temporary inode lives in memory only here (the kernel's is an orphan
//! inode from `ext4_new_inode`, created and orphaned under a handle of its
//! own before `i_mutex` is taken, deleted at the end); for files whose
//! extents fit in `i_block` nothing else of it reaches the disk, and the
//! handle that creates it holds no other lock.

use crate::engine::inode::EXT4_EXTENTS_FL;
use crate::engine::map::{ext4_ext_insert_extent, ext4_ext_tree_init, Extent};

use crate::scenario::history::Change;

use super::handle::{ext4_journal_start, ext4_journal_stop, HandleType};
use super::state::{
    inode_lock, inode_unlock, Errno, Ext4InodeInfo, KResult, Kernel, EXT4_EXT_MIGRATE,
};

/// ioctl(EXT4_IOC_MIGRATE): 2.6.25-rc5 fs/ext4/migrate.c
/// `ext4_ext_migrate`, with the hunks of 267e4db9ac28 (v2.6.26-rc1) or
/// Aneesh's first posting (PQ@36c86f09) when the kernel has them: set
/// `EXT4_EXT_MIGRATE` under `i_data_sem` (read) right after `i_mutex`.
/// The walk (`update_extent_range`, `update_ind_extent_range`, ...) reads
/// `i_data` and the indirect blocks with no lock; the model reads the map
/// in one step (an allocation lands in its slot either before the walk
/// reads it or after: the same two outcomes). Returns `EAGAIN` when the
/// flag was cleared by an allocation.
pub async fn ext4_ext_migrate(k: &Kernel, ei: &Ext4InodeInfo) -> KResult<()> {
    let _f = crate::kfn!("ext4_ext_migrate");
    if ei.test_flag(EXT4_EXTENTS_FL) {
        return Err(Errno::EINVAL);
    }
    inode_lock(ei).await;
    if migrate_flag(k) {
        // Even though we take i_mutex we can still cause block allocation
        // via mmap write to holes. The flag is updated with i_data_sem held
        // to prevent racing with block allocation.
        ei.i_data_sem.down_read().await;
        ei.mem.borrow_mut().i_flags |= EXT4_EXT_MIGRATE;
        ei.i_data_sem.up_read();
    }
    let r = async {
        let handle = ext4_journal_start(k, ei, HandleType::Migrate, 1).await?;
        // Walk the block map (no i_data_sem).
        ei.i_data_loc.read().await;
        let own = {
            let raw = ei.mem.borrow().raw.clone();
            k.fs.borrow_mut().walk_mapping(ei.ino, &raw)
        };
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

/// Whether the kernel has the 2008 migrate flag (either posting).
fn migrate_flag(k: &Kernel) -> bool {
    k.applied(Change::MigrateVsMmapWrite) || k.applied(Change::AneeshMigrateFlagRetval)
}

/// `ext4_ext_swap_inode_data` (2.6.25-rc5 fs/ext4/migrate.c): under
/// `i_data_sem` (write) fail with -EAGAIN if the migrate flag was cleared
/// by an allocation (the 2008 fix), else set `EXT4_EXTENTS_FL` and copy the
/// temporary inode's `i_data`; after `up_write`, `free_ind_block` frees the
/// old map's indirect blocks (and their `i_blocks`) and the inode is marked
/// dirty.
pub async fn ext4_ext_swap_inode_data(
    k: &Kernel,
    ei: &Ext4InodeInfo,
    tmp_i_block: [u8; 60],
    old_ind_blocks: &[u64],
) -> KResult<()> {
    let _f = crate::kfn!("ext4_ext_swap_inode_data");
    ei.i_data_sem.down_write().await;
    if migrate_flag(k) {
        // if EXT4_EXT_MIGRATE is cleared a block allocation happened after
        // we started the migrate. We need to fail the migrate
        let still = ei.mem.borrow().i_flags & EXT4_EXT_MIGRATE != 0;
        if !still {
            ei.i_data_sem.up_write();
            return Err(Errno::EAGAIN);
        }
        ei.mem.borrow_mut().i_flags &= !EXT4_EXT_MIGRATE;
    }
    ei.i_data_loc.write().await;
    {
        let mut m = ei.mem.borrow_mut();
        m.raw.i_block = tmp_i_block;
        m.i_flags |= EXT4_EXTENTS_FL;
        m.raw.i_flags |= EXT4_EXTENTS_FL;
    }
    ei.i_data_sem.up_write();
    // free_ind_block
    k.balloc_loc.write().await;
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
    r.and(k.ext4_mark_inode_dirty(ei))
}
