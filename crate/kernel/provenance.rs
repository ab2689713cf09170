//! The data oracles' bookkeeping: the provenance of every byte on disk and
//! in the page cache (which inode's write produced it; 0 = zeros), which task
//! allocated each block, and what was written and promised durable.
//!
//! - stale data: a read returns a byte whose provenance is neither zeros nor
//!   the file being read (e.g. the deleted "secret" file's leftovers);
//!   reported with the reading task, the task that allocated the block, and
//!   the block.
//! - lost write: after the run (and after crash + recovery), bytes of a
//!   write made durable (fsync or sync returned after it) are not what the
//!   file holds on disk. Checked per byte: a byte is excused when another
//!   operation may legitimately have changed it afterwards, i.e. a write or
//!   a removal (punch hole, truncate) covering it that had not completed
//!   when the durable write started. Operations that overlap in time may
//!   take effect in either order, so either content is legitimate; an
//!   operation still running at a crash may have reached the disk in part.
//!   docs/oracles.md states the rule with a worked example.

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
    /// Tick at which the writing step (the syscall or the store) began.
    pub started: u64,
    /// Tick at which these bytes were in the file (the page copy or the store).
    pub completed: u64,
}

/// An operation that removes a file's bytes from `from` up to `to`
/// (exclusive): FALLOC_FL_PUNCH_HOLE, or truncate(2) to `from` (`to` is
/// `u64::MAX`). Recorded when the operation begins.
#[derive(Clone, Debug)]
pub struct Removal {
    pub ino: u32,
    pub from: u64,
    pub to: u64,
    pub task: String,
    /// Tick at which it returned; `None` while it runs (or if a crash
    /// stopped it: then it may have reached the disk in part).
    pub completed: Option<u64>,
}

/// Per-execution data bookkeeping (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct DataLog {
    /// Provenance of disk blocks (missing = all zeros).
    pub block_prov: BTreeMap<u64, Rc<Vec<u32>>>,
    /// Which task allocated a block in this execution.
    pub alloc_by: BTreeMap<u64, String>,
    pub writes: Vec<WriteRec>,
    pub removals: Vec<Removal>,
    /// The oracle's clock: one tick per recorded event, so that records of
    /// different tasks can be ordered (it says nothing about time).
    pub tick: u64,
    /// Tick at which each task's current step began.
    pub step_started: BTreeMap<String, u64>,
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

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Task `task` begins a step (a syscall, a store or load, an ioctl).
    pub fn begin_step(&mut self, task: &str) {
        let t = self.next_tick();
        self.step_started.insert(task.to_string(), t);
    }

    /// Record a completed write (one page's part of a write(2), or a store).
    pub fn record_write(&mut self, ino: u32, offset: u64, bytes: Vec<u8>, task: String) {
        let completed = self.next_tick();
        let started = self.step_started.get(&task).copied().unwrap_or(completed);
        self.writes.push(WriteRec {
            ino,
            offset,
            bytes,
            task,
            durable: false,
            durable_by: None,
            started,
            completed,
        });
    }

    /// A removal of `[from, to)` of `ino` by `task` begins; returns its
    /// index for [`DataLog::end_removal`].
    pub fn begin_removal(&mut self, ino: u32, from: u64, to: u64, task: String) -> usize {
        self.next_tick();
        self.removals.push(Removal {
            ino,
            from,
            to,
            task,
            completed: None,
        });
        self.removals.len() - 1
    }

    /// The removal `i` returned (successfully or not: a failed punch may
    /// have removed part of its range).
    pub fn end_removal(&mut self, i: usize) {
        let t = self.next_tick();
        if let Some(r) = self.removals.get_mut(i) {
            r.completed = Some(t);
        }
    }

    /// Per byte of durable write `i`: whether another operation may
    /// legitimately have changed it afterwards (see the module doc).
    pub fn excused(&self, i: usize) -> Vec<bool> {
        let w = &self.writes[i];
        let len = w.bytes.len() as u64;
        let end = w.offset + len;
        let mut ex = vec![false; len as usize];
        let mut cover = |from: u64, to: u64| {
            let (a, b) = (from.max(w.offset), to.min(end));
            for x in a..b.max(a) {
                ex[(x - w.offset) as usize] = true;
            }
        };
        for (j, x) in self.writes.iter().enumerate() {
            if j != i && x.ino == w.ino && x.completed > w.started {
                cover(x.offset, x.offset + x.bytes.len() as u64);
            }
        }
        for r in &self.removals {
            if r.ino == w.ino && r.completed.is_none_or(|c| c > w.started) {
                cover(r.from, r.to);
            }
        }
        ex
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

#[cfg(test)]
mod tests {
    use super::*;

    fn w(log: &mut DataLog, task: &str, offset: u64, len: usize) -> usize {
        log.begin_step(task);
        log.record_write(1, offset, vec![b'x'; len], task.into());
        log.writes.len() - 1
    }

    #[test]
    fn a_removal_excuses_only_the_bytes_it_covers_and_only_if_not_over_before() {
        let mut log = DataLog::default();
        // T1: punch [8, 12) completes before T2's write starts.
        log.begin_step("T1");
        let early = log.begin_removal(1, 8, 12, "T1".into());
        log.end_removal(early);
        let i = w(&mut log, "T2", 0, 16);
        assert!(
            log.excused(i).iter().all(|&e| !e),
            "an earlier punch excuses nothing"
        );
        // T1: punch [4, 6) after it; then a truncate to 14 still running.
        log.begin_step("T1");
        let p = log.begin_removal(1, 4, 6, "T1".into());
        log.end_removal(p);
        log.begin_removal(1, 14, u64::MAX, "T1".into());
        let ex = log.excused(i);
        let covered: Vec<usize> = (0..16).filter(|&b| ex[b]).collect();
        assert_eq!(covered, vec![4, 5, 14, 15]);
    }

    #[test]
    fn writes_that_overlap_in_time_excuse_each_other() {
        let mut log = DataLog::default();
        log.begin_step("T1"); // T1's write(2) starts ...
        let a = w(&mut log, "T2", 0, 8); // ... T2 stores meanwhile ...
        log.record_write(1, 4, vec![b'y'; 8], "T1".into()); // ... T1 copies.
        let b = log.writes.len() - 1;
        assert_eq!(log.excused(a).iter().filter(|&&e| e).count(), 4);
        assert_eq!(log.excused(b).iter().filter(|&&e| e).count(), 4);
        // A later write on another file excuses nothing.
        log.begin_step("T3");
        log.record_write(2, 0, vec![b'z'; 16], "T3".into());
        assert_eq!(log.excused(a).iter().filter(|&&e| e).count(), 4);
    }
}
