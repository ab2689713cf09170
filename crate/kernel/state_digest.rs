//! The kernel model's shared state as a digest for step checking
//! (`sim::World::state_digest`): two prefixes of one trace must leave the
//! same state, so a difference here shows a step whose effect on shared
//! state no access announced.
//!
//! What is hashed is state, in an order independent of the order of
//! independent steps: inodes and pages by name and index, the disk's
//! changed chunks by index, the engine's dirty buffers by block, each
//! journal transaction's buffers by block. Left out: the data oracles' log
//! (`DataLog`, appended in execution order; announced through its own
//! locations), clean cached buffers (copies of the disk), and the sim's
//! own objects (locks, wait queues, the journal's handle counts), whose
//! accesses are what the trace is made of.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::image::ScenarioImage;
use super::state::Kernel;
use crate::engine::journal::transaction::Transaction;

/// The parts of the digest, in order.
pub const PARTS: [&str; 7] = [
    "inodes",
    "page cache",
    "disk",
    "engine buffers",
    "journal log",
    "running transaction",
    "committing transaction",
];

/// The digest of `k`'s state now (see the module doc).
pub fn kernel_state_digest(k: &Kernel, img: &ScenarioImage) -> Vec<(&'static str, u64)> {
    let mut parts: [DefaultHasher; 7] = std::array::from_fn(|_| DefaultHasher::new());
    let [inodes, pages, disk, bufs, jnl, running, committing] = &mut parts;
    for (name, ei) in &k.inodes {
        name.hash(inodes);
        let m = ei.mem.borrow();
        let mut raw = vec![0u8; 0xA0];
        m.raw.encode(&mut raw);
        raw.hash(inodes);
        (m.i_flags, m.i_state_flags, m.i_size, m.i_disksize).hash(inodes);
        (m.i_reserved_data_blocks, m.vfs_i_flags).hash(inodes);
        let j = ei.jinode.borrow();
        (
            j.i_transaction,
            j.i_next_transaction,
            j.i_flags,
            ei.i_sync.get(),
        )
            .hash(inodes);
        name.hash(pages);
        for (idx, ps) in ei.mapping.pages.borrow().iter() {
            idx.hash(pages);
            ps.data.hash(pages);
            ps.prov.hash(pages);
            (ps.uptodate, ps.dirty, ps.pte_writable).hash(pages);
            let bh = &ps.bh;
            (bh.b_blocknr, bh.new, bh.delay, bh.unwritten).hash(pages);
            (ps.io_end_rsv_handle, ps.b_count, ps.read_blk).hash(pages);
        }
        for (idx, e) in ei.mapping.dax_entries.borrow().iter() {
            (idx, e).hash(pages);
        }
    }
    {
        let d = img.dev.borrow();
        if let Some(changed) = d.changed_since(&img.snap) {
            for i in changed {
                i.hash(disk);
                d.chunk(i).hash(disk);
            }
        } else {
            // the snapshot is gone: hash nothing rather than everything
            u8::MAX.hash(disk);
        }
    }
    let fs = k.fs.borrow();
    for (b, buf) in fs.cache.blocks.iter().filter(|(_, buf)| buf.dirty) {
        b.hash(bufs);
        buf.data.hash(bufs);
    }
    if let Some(j) = fs.ext4_journal().map(|e| &e.journal) {
        (
            j.j_first,
            j.j_last,
            j.j_tail,
            j.j_tail_sequence,
            j.j_head,
            j.j_free,
        )
            .hash(jnl);
        (
            j.j_transaction_sequence,
            j.j_commit_sequence,
            j.j_failed_commit,
        )
            .hash(jnl);
        for (t, h) in [
            (&j.j_running_transaction, running),
            (&j.j_committing_transaction, committing),
        ] {
            match t {
                Some(t) => hash_transaction(t, h),
                None => 0u8.hash(h),
            }
        }
        j.j_checkpoint_transactions.len().hash(jnl);
    }
    PARTS
        .iter()
        .zip(parts.iter())
        .map(|(&n, h)| (n, h.finish()))
        .collect()
}

/// A transaction's logged buffers as a set (by block; the log order is the
/// order handles first dirtied them, which independent handles may take
/// either way), with its revokes and ordered inodes.
fn hash_transaction(t: &Transaction, h: &mut DefaultHasher) {
    1u8.hash(h);
    t.t_tid.hash(h);
    let mut bufs: Vec<(u64, &[u8])> = t
        .t_buffers
        .iter()
        .map(|b| (b.b_blocknr, b.b_data.as_slice()))
        .collect();
    bufs.sort_unstable();
    bufs.hash(h);
    t.t_revoked.hash(h);
    t.t_inode_list.hash(h);
}
