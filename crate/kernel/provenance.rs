//! The data oracles' bookkeeping: the provenance of every byte on disk and
//! in the page cache (which inode's write produced it; 0 = zeros), which task
//! allocated each block, and what was written and promised durable.
//!
//! - stale data: a read returns a byte whose provenance is neither zeros nor
//!   the file being read (e.g. the deleted "secret" file's leftovers);
//!   reported with the reading task, the task that allocated the block, and
//!   the block.
//! - lost write: after the run, bytes of a write made durable (fsync or sync
//!   returned after it) are not what the file holds on disk.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::sim::{Outcome, OutcomeKind};

/// One write (write(2) or a store through a mapping) the oracles remember.
#[derive(Clone, Debug)]
pub struct WriteRec {
    pub ino: u32,
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub task: String,
    /// fsync/sync returned after the write completed.
    pub durable: bool,
    /// The task whose fsync/sync returned first after the write (the one
    /// that promised durability; may differ from the writer).
    pub durable_by: Option<String>,
}

/// Per-execution data bookkeeping (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct DataLog {
    /// Provenance of disk blocks (missing = all zeros).
    pub block_prov: BTreeMap<u64, Rc<Vec<u32>>>,
    /// Which task allocated a block in this execution.
    pub alloc_by: BTreeMap<u64, String>,
    pub writes: Vec<WriteRec>,
    /// Tasks that replaced an inode's whole block map (migrate's swap).
    pub map_replaced_by: Vec<(u32, String)>,
}

impl DataLog {
    /// The provenance of block `pblk` (`len` bytes).
    pub fn block_prov(&self, pblk: u64, len: usize) -> Vec<u32> {
        match self.block_prov.get(&pblk) {
            Some(p) => p.as_ref().clone(),
            None => vec![0; len],
        }
    }

    /// A write bio to `pblk` completed with bytes of provenance `prov`.
    pub fn set_block_prov(&mut self, pblk: u64, prov: Vec<u32>) {
        self.block_prov.insert(pblk, Rc::new(prov));
    }

    /// Record a completed write.
    pub fn record_write(&mut self, ino: u32, offset: u64, bytes: Vec<u8>, task: String) {
        self.writes.push(WriteRec {
            ino,
            offset,
            bytes,
            task,
            durable: false,
            durable_by: None,
        });
    }

    /// fsync of `ino` (or sync: `None`) by task `by` returned: every write
    /// completed before it started (the first `upto` records) is durable.
    pub fn mark_durable(&mut self, ino: Option<u32>, upto: usize, by: &str) {
        for w in self.writes.iter_mut().take(upto) {
            if ino.is_none_or(|i| i == w.ino) {
                if !w.durable {
                    w.durable_by = Some(by.to_string());
                }
                w.durable = true;
            }
        }
    }
}

/// The stale-data check of a read: `prov` is the provenance of the bytes
/// returned from file `ino` at `offset`; `pblk` the block they came from.
/// Returns the outcome to report, if any.
#[allow(clippy::too_many_arguments)]
pub fn check_read(
    log: &DataLog,
    ino: u32,
    file: &str,
    offset: u64,
    prov: &[u32],
    pblk: Option<u64>,
    site: &str,
    owner_name: impl Fn(u32) -> String,
) -> Option<Outcome> {
    let (i, &bad) = prov.iter().enumerate().find(|(_, &p)| p != 0 && p != ino)?;
    let n = prov.iter().filter(|&&p| p == bad).count();
    let mut o = Outcome::new(OutcomeKind::StaleData, 0);
    o.tasks.push(crate::sim::current_task_name());
    if let Some(b) = pblk {
        o.blocks.push(b);
        if let Some(t) = log.alloc_by.get(&b) {
            o.tasks.push(t.clone());
        }
    }
    o.site = site.to_string();
    o.message = format!(
        "read of {file} at offset {} returned {n} bytes written by {} (stale){}",
        offset + i as u64,
        owner_name(bad),
        pblk.map(|b| format!(", block {b}")).unwrap_or_default()
    );
    Some(o)
}
