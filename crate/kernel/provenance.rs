//! The data oracles' bookkeeping: the provenance of every byte on disk and
//! in the page cache (which inode's write produced it; 0 = zeros), which task
//! allocated each block, and what was written and promised durable.
//!
//! - stale data: a read returns a byte whose provenance is neither zeros nor
//!   the file being read (e.g. the deleted "secret" file's leftovers);
//!   reported with the reading task, the task that allocated the block, and
//!   the block.
//! - lost write: after the run (and after crash + recovery), each byte of a
//!   write made durable (fsync or sync returned after it) must hold the
//!   write's value, or a value an operation that may have come after it
//!   leaves there: the byte of another write or store covering it, zero
//!   under a punch hole or truncate, nothing (past EOF) under a truncate.
//!   "May have come after" is "had not completed when the durable write
//!   started": operations that overlap in time may take effect in either
//!   order, and one still running at a crash may have reached the disk in
//!   part. Any other value (an older write's, another file's, zeros with no
//!   removal) is lost.
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
    /// Tick at which it began.
    pub started: u64,
    /// Tick at which it returned; `None` while it runs (or if a crash
    /// stopped it: then it may have reached the disk in part).
    pub completed: Option<u64>,
}

/// What the file holds at a byte, for [`DataLog::allowed_later`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    Byte(u8),
    /// The file ends before the byte.
    PastEof,
    /// Not looked at: only whether a later operation covers the byte.
    Any,
}

impl WriteRec {
    /// One past its last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }

    /// It may have taken effect after `w` (it had not completed when `w`
    /// started), on the same file.
    fn may_follow(&self, w: &WriteRec) -> bool {
        self.ino == w.ino && self.completed > w.started
    }

    /// For the reports: "T1's write of [0, 8)".
    fn describe(&self) -> String {
        format!("{}'s write of [{}, {})", self.task, self.offset, self.end())
    }
}

impl Removal {
    /// A truncate (to `from`), not a punch.
    pub fn is_truncate(&self) -> bool {
        self.to == u64::MAX
    }

    /// It may have taken effect after `w` (still running, or completed
    /// after `w` started), on the same file.
    fn may_follow(&self, w: &WriteRec) -> bool {
        self.ino == w.ino && self.completed.is_none_or(|c| c > w.started)
    }

    /// For the reports: "T1's truncate to 6" or "T1's punch of [2, 4)".
    fn describe(&self) -> String {
        if self.is_truncate() {
            format!("{}'s truncate to {}", self.task, self.from)
        } else {
            format!("{}'s punch of [{}, {})", self.task, self.from, self.to)
        }
    }
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
    /// Each task's current step: the tick it began at and the inodes it
    /// was begun for (`None`: every inode), which its writes and removals
    /// are checked against.
    pub step_started: BTreeMap<String, (u64, Option<Vec<u32>>)>,
    /// Tasks that replaced an inode's whole block map (migrate's swap).
    pub map_replaced_by: Vec<(u32, String)>,
    /// The log's events as simulated objects ([`DataLog::announce`]).
    pub sim: Option<LogObjects>,
}

/// The oracles' rules compare when an operation began with when another
/// task's completed (ticks), so the order of a step that begins one and a
/// step that completes another is part of what the run did. Without
/// telling the dependence relation, two interleavings DPOR takes as one
/// trace could end with different verdicts: on S2 fault-retry, T1's store
/// beginning before or after T2's write(2) completed decided whether T2's
/// bytes on disk were a lost write (tests/sim_equivalent_schedules.rs).
/// So each task has an object per inode that its completions on that inode
/// write, and a beginning (of an operation, or of an fsync or sync, which
/// fixes the writes it will make durable) reads every other task's objects
/// of the inodes it concerns: a beginning and another task's completion on
/// the same inode are ordered, two beginnings or two tasks' completions
/// commute, and so do a beginning and a completion on different inodes:
/// every rule that compares ticks compares operations on one file
/// ([`WriteRec::may_follow`], [`Removal::may_follow`],
/// [`DataLog::sequential_violation`], [`DataLog::mark_durable`] for an
/// fsync); the stale-data rule compares no ticks. A sync, or a beginning
/// whose inodes are not known, reads every inode's. Nothing adds a
/// scheduling point (`Location::note_read`/`note_write`). Durability
/// (which fsync returned first) writes one more object. Per task alone (as
/// until 2026-12-06), S6's T3, which works on g, was ordered against every
/// beginning and completion of T1's and T2's on f: S6 `v4.4` took 192,511
/// executions at bound 1 where it now takes 154,960, its fix 139,175 where
/// 112,946, S2's unbounded proposals 1.3-1.5x more; every built-in variant
/// finds the same outcome keys either way (README, "Exploration speed").
#[derive(Clone, Debug, Default)]
pub struct LogObjects {
    /// (task, inode) -> the object its completions on that inode write.
    pub done: BTreeMap<(String, u32), crate::sim::Location>,
    pub durable: Option<crate::sim::Location>,
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

    /// Makes the log's events visible to the dependence relation for
    /// `tasks` on the files of inode numbers `inos` (see [`LogObjects`]);
    /// call inside an execution, before any task runs (it creates sim
    /// objects).
    pub fn announce<'a>(&mut self, tasks: impl IntoIterator<Item = &'a str>, inos: &[u32]) {
        let mut o = LogObjects {
            durable: Some(crate::sim::Location::new("oracle log: durable")),
            ..LogObjects::default()
        };
        for t in tasks {
            for &ino in inos {
                o.done.entry((t.to_string(), ino)).or_insert_with(|| {
                    crate::sim::Location::new(crate::sim::ObjName::Of(
                        "oracle log: ",
                        t.into(),
                        if inos.len() == 1 {
                            "'s completions"
                        } else {
                            "'s completions on one inode"
                        },
                    ))
                });
            }
        }
        self.sim = Some(o);
    }

    /// A beginning by `task` concerning the inodes `inos` (`None`: every
    /// inode): reads every other task's completions on them. An inode the
    /// log was not told of counts as every inode.
    fn note_begin(&self, task: &str, inos: Option<&[u32]>) {
        let Some(o) = &self.sim else { return };
        let known = |i: &u32| o.done.keys().any(|(_, j)| j == i);
        let inos = inos.filter(|v| v.iter().all(known));
        for ((t, ino), l) in &o.done {
            if t != task && inos.is_none_or(|v| v.contains(ino)) {
                l.note_read();
            }
        }
    }

    /// A completion by `task` on inode `ino`. A task or inode the log was
    /// not told of writes every object of the task (or every object): it
    /// conflicts with every beginning, which is sound.
    fn note_done(&self, task: &str, ino: u32) {
        let Some(o) = &self.sim else { return };
        if let Some(l) = o.done.get(&(task.to_string(), ino)) {
            l.note_write();
            return;
        }
        let known_task = o.done.keys().any(|(t, _)| t == task);
        for ((t, _), l) in &o.done {
            if !known_task || t == task {
                l.note_write();
            }
        }
    }

    /// Task `task` begins a step (a syscall, a store or load, an ioctl)
    /// whose writes and removals are all on the inodes `inos` (`None`: not
    /// known, every inode).
    pub fn begin_step(&mut self, task: &str, inos: Option<&[u32]>) {
        self.note_begin(task, inos);
        let t = self.next_tick();
        self.step_started
            .insert(task.to_string(), (t, inos.map(<[u32]>::to_vec)));
    }

    /// Record a completed write (one page's part of a write(2), or a store).
    pub fn record_write(&mut self, ino: u32, offset: u64, bytes: Vec<u8>, task: String) {
        self.check_step_ino(&task, ino);
        self.note_done(&task, ino);
        let completed = self.next_tick();
        let started = self.step_started.get(&task).map_or(completed, |s| s.0);
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
        self.check_step_ino(&task, ino);
        self.note_begin(&task, Some(std::slice::from_ref(&ino)));
        let started = self.next_tick();
        self.removals.push(Removal {
            ino,
            from,
            to,
            task,
            started,
            completed: None,
        });
        self.removals.len() - 1
    }

    /// The removal `i` returned (successfully or not: a failed punch may
    /// have removed part of its range).
    pub fn end_removal(&mut self, i: usize) {
        if let Some(r) = self.removals.get(i) {
            self.note_done(&r.task, r.ino);
        }
        let t = self.next_tick();
        if let Some(r) = self.removals.get_mut(i) {
            r.completed = Some(t);
        }
    }

    /// Whether byte `x` of durable write `i`'s file may legitimately hold
    /// `v` instead of write `i`'s byte, because
    /// an operation covering `x` that had not completed when write `i`
    /// started may have taken effect after it (see the module doc):
    /// - a write or store whose own byte at `x` is `v`;
    /// - a punch hole or truncate, for a zero byte (a later extension
    ///   reads zeros), and a truncate for [`Held::PastEof`].
    ///
    /// Anything else (another file's bytes, an older write's value, zeros
    /// with no removal, the file too short with no truncate) is not allowed.
    ///
    /// `v = Any` asks only whether such an operation covers `x` (the rule
    /// of a run without a crash: see `end_oracles`).
    pub fn allowed_later(&self, i: usize, x: u64, v: Held) -> bool {
        let w = &self.writes[i];
        let later_write = self.writes.iter().enumerate().any(|(j, o)| {
            j != i
                && o.may_follow(w)
                && (o.offset..o.end()).contains(&x)
                && match v {
                    Held::Any => true,
                    Held::Byte(b) => b == o.bytes[(x - o.offset) as usize],
                    Held::PastEof => false,
                }
        });
        later_write
            || self.removals.iter().any(|r| {
                r.may_follow(w)
                    && (r.from..r.to).contains(&x)
                    && match v {
                        Held::Any | Held::Byte(0) => true,
                        Held::Byte(_) => false,
                        Held::PastEof => r.is_truncate(),
                    }
            })
    }

    /// The operations on write `i`'s file that cover part of `[from, to)`
    /// and had not completed when write `i` started: what
    /// [`DataLog::allowed_later`] weighed, in words for the report.
    pub fn later_records(&self, i: usize, from: u64, to: u64) -> Vec<String> {
        let w = &self.writes[i];
        let writes = self
            .writes
            .iter()
            .enumerate()
            .filter(|&(j, o)| j != i && o.may_follow(w) && o.offset < to && o.end() > from);
        let removals = self
            .removals
            .iter()
            .filter(|r| r.may_follow(w) && r.from < to && r.to > from);
        writes
            .map(|(_, o)| o.describe())
            .chain(removals.map(Removal::describe))
            .collect()
    }

    /// The sequential rule of a run without a crash: file `ino`'s bytes,
    /// as a read after the run returns them (`data`, `data.len()` being
    /// `i_size`), must be what some order of the recorded operations that
    /// respects their real-time order leaves. Per byte covered by a record:
    /// the value of a write or store covering it that no other operation
    /// covering it definitely followed (started after it completed), or
    /// zero for such a punch or truncate. Past `i_size`, among the writes
    /// and truncates covering the byte (a punch does not change the size),
    /// the last must include a truncate. Bytes no record covers are not
    /// checked. Returns the first offending byte's offset with the
    /// operations weighed there.
    pub fn sequential_violation(&self, ino: u32, data: &[u8]) -> Option<(u64, Vec<String>)> {
        // (started, completed, record): Ok(write index) or Err(removal index)
        let mut recs: Vec<(u64, u64, Result<usize, usize>)> = Vec::new();
        let mut cuts = std::collections::BTreeSet::new();
        for (j, w) in self.writes.iter().enumerate().filter(|(_, w)| w.ino == ino) {
            recs.push((w.started, w.completed, Ok(j)));
            cuts.insert(w.offset);
            cuts.insert(w.end());
        }
        for (j, r) in self
            .removals
            .iter()
            .enumerate()
            .filter(|(_, r)| r.ino == ino)
        {
            // A removal still running (a run that ended normally has none)
            // is treated as just completed.
            recs.push((r.started, r.completed.unwrap_or(u64::MAX), Err(j)));
            cuts.insert(r.from);
            // A truncate covers everything past its size that is recorded.
            cuts.insert(r.to.min(u64::MAX - 1));
        }
        let size = data.len() as u64;
        let cuts: Vec<u64> = cuts.into_iter().collect();
        for seg in cuts.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let covers = |rec: &Result<usize, usize>| match *rec {
                Ok(j) => self.writes[j].offset <= a && b <= self.writes[j].end(),
                Err(j) => self.removals[j].from <= a && b <= self.removals[j].to,
            };
            let here: Vec<&(u64, u64, Result<usize, usize>)> =
                recs.iter().filter(|r| covers(&r.2)).collect();
            if here.is_empty() {
                continue;
            }
            let last: Vec<&Result<usize, usize>> = here
                .iter()
                .filter(|r| !here.iter().any(|o| o.0 > r.1))
                .map(|r| &r.2)
                .collect();
            // Past EOF only the operations that set the size count: a
            // punch leaves it, so the last write or truncate decides.
            let sizing: Vec<&&(u64, u64, Result<usize, usize>)> = here
                .iter()
                .filter(|r| {
                    r.2.map_or_else(|j| self.removals[j].is_truncate(), |_| true)
                })
                .collect();
            let past_eof_ok = sizing.is_empty()
                || sizing
                    .iter()
                    .any(|r| r.2.is_err() && !sizing.iter().any(|o| o.0 > r.1));
            let ok = |x: u64| {
                if x >= size {
                    return past_eof_ok;
                }
                last.iter().any(|rec| match **rec {
                    Ok(j) => {
                        let w = &self.writes[j];
                        data[x as usize] == w.bytes[(x - w.offset) as usize]
                    }
                    Err(_) => data[x as usize] == 0,
                })
            };
            // The bytes inside EOF, and one past EOF for the rest. When one
            // record accounts for every byte inside EOF (the usual case), a
            // slice comparison says so; otherwise byte by byte, for the
            // first offending one.
            let past = (b > size).then_some(a.max(size));
            let end = b.min(size);
            let inside_ok = a >= end
                || last.iter().any(|rec| {
                    let got = &data[a as usize..end as usize];
                    match **rec {
                        Ok(j) => {
                            let w = &self.writes[j];
                            *got == w.bytes[(a - w.offset) as usize..(end - w.offset) as usize]
                        }
                        Err(_) => got.iter().all(|&c| c == 0),
                    }
                });
            let inside = if inside_ok { 0..0 } else { a..end };
            if let Some(x) = inside.chain(past).find(|&x| !ok(x)) {
                let mut what: Vec<String> = last
                    .iter()
                    .map(|rec| match **rec {
                        Ok(j) => self.writes[j].describe(),
                        Err(j) => self.removals[j].describe(),
                    })
                    .collect();
                what.dedup();
                return Some((x, what));
            }
        }
        None
    }

    /// The writes recorded so far: what an fsync of `ino` (or a sync:
    /// `None`) `task` begins now makes durable when it returns
    /// ([`DataLog::mark_durable`]'s `upto`).
    pub fn writes_so_far(&self, task: &str, ino: Option<u32>) -> usize {
        self.note_begin(task, ino.as_ref().map(std::slice::from_ref));
        self.writes.len()
    }

    /// A write or removal on `ino` inside a step that said it concerns
    /// other inodes would be ordered wrongly against other tasks'
    /// completions ([`LogObjects`]): the model's step dispatch must name
    /// every inode a step writes.
    fn check_step_ino(&self, task: &str, ino: u32) {
        if let Some((_, Some(v))) = self.step_started.get(task) {
            assert!(
                v.contains(&ino),
                "{task}'s step was begun for inodes {v:?} and writes inode {ino}"
            );
        }
    }

    /// fsync of `ino` (or sync: `None`) by task `by` returned: every write
    /// completed before it started (the first `upto` records) is durable.
    pub fn mark_durable(&mut self, ino: Option<u32>, upto: usize, by: &str) {
        if let Some(l) = self.sim.as_ref().and_then(|o| o.durable) {
            l.note_write();
        }
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
        log.begin_step(task, None);
        log.record_write(1, offset, vec![b'x'; len], task.into());
        log.writes.len() - 1
    }

    #[test]
    fn a_removal_allows_zeros_only_where_it_covers_and_only_if_not_over_before() {
        let mut log = DataLog::default();
        // T1: punch [8, 12) completes before T2's write starts.
        log.begin_step("T1", None);
        let early = log.begin_removal(1, 8, 12, "T1".into());
        log.end_removal(early);
        let i = w(&mut log, "T2", 0, 16);
        assert!(
            (0..16).all(|x| !log.allowed_later(i, x, Held::Byte(0))),
            "an earlier punch allows nothing"
        );
        // T1: punch [4, 6) after it; then a truncate to 14 still running.
        log.begin_step("T1", None);
        let p = log.begin_removal(1, 4, 6, "T1".into());
        log.end_removal(p);
        log.begin_removal(1, 14, u64::MAX, "T1".into());
        let zeros: Vec<u64> = (0..16)
            .filter(|&x| log.allowed_later(i, x, Held::Byte(0)))
            .collect();
        assert_eq!(zeros, vec![4, 5, 14, 15]);
        // Past EOF only where the truncate reaches; never another value.
        let absent: Vec<u64> = (0..16)
            .filter(|&x| log.allowed_later(i, x, Held::PastEof))
            .collect();
        assert_eq!(absent, vec![14, 15]);
        assert!((0..16).all(|x| !log.allowed_later(i, x, Held::Byte(b'q'))));
        assert_eq!(
            log.later_records(i, 0, 16),
            vec!["T1's punch of [4, 6)", "T1's truncate to 14"]
        );
    }

    #[test]
    fn writes_that_overlap_in_time_allow_each_others_bytes() {
        let mut log = DataLog::default();
        log.begin_step("T1", None); // T1's write(2) starts ...
        let a = w(&mut log, "T2", 0, 8); // ... T2 stores meanwhile ...
        log.record_write(1, 4, vec![b'y'; 8], "T1".into()); // ... T1 copies.
        let b = log.writes.len() - 1;
        // Over write i's own bytes.
        let ok = |log: &DataLog, i: usize, v: u8| {
            let w = &log.writes[i];
            (w.offset..w.offset + w.bytes.len() as u64)
                .filter(|&x| log.allowed_later(i, x, Held::Byte(v)))
                .count()
        };
        assert_eq!(
            ok(&log, a, b'y'),
            4,
            "T1's bytes may stand in [4, 8) of T2's"
        );
        assert_eq!(ok(&log, b, b'x'), 4, "and T2's in [4, 8) of T1's");
        assert_eq!(ok(&log, a, 0), 0, "no removal: zeros are not allowed");
        // A later write on another file allows nothing.
        log.begin_step("T3", None);
        log.record_write(2, 0, vec![b'z'; 16], "T3".into());
        assert_eq!(ok(&log, a, b'z'), 0);
        // Writes over before T4's started allow nothing in T4's.
        let c = w(&mut log, "T4", 0, 8);
        assert_eq!(ok(&log, c, b'x') + ok(&log, c, b'y'), 0);
    }

    #[test]
    fn the_sequential_rule_takes_the_last_operations_and_the_size_from_writes_and_truncates() {
        let mut log = DataLog::default();
        // T1 writes [0, 8) 'x'; then T2 punches [2, 4); then T3 truncates
        // to 6 while T4 writes [4, 8) 'y' (overlapping in time).
        w(&mut log, "T1", 0, 8);
        log.begin_step("T2", None);
        let p = log.begin_removal(1, 2, 4, "T2".into());
        log.end_removal(p);
        log.begin_step("T3", None);
        let t = log.begin_removal(1, 6, u64::MAX, "T3".into());
        log.begin_step("T4", None);
        log.record_write(1, 4, vec![b'y'; 4], "T4".into());
        log.end_removal(t);
        // Either order of T3 and T4: size 6 with "xx\0\0yy", or 8 with
        // "xx\0\0yyyy".
        assert_eq!(log.sequential_violation(1, b"xx\0\0yy"), None);
        assert_eq!(log.sequential_violation(1, b"xx\0\0yyyy"), None);
        // The punch is not undone, and T1's bytes are gone under T4's.
        let (x, what) = log.sequential_violation(1, b"xxxxyy").unwrap();
        assert_eq!((x, what), (2, vec!["T2's punch of [2, 4)".to_string()]));
        assert_eq!(
            log.sequential_violation(1, b"xx\0\0xx").map(|v| v.0),
            Some(4)
        );
        // Too short: only the truncate may end the file before 8 ...
        assert_eq!(log.sequential_violation(1, b"xx\0\0").map(|v| v.0), Some(4));
        // ... and a punch past EOF does not make the file longer.
        let mut log = DataLog::default();
        w(&mut log, "T1", 0, 4);
        log.begin_step("T2", None);
        let p = log.begin_removal(1, 2, 100, "T2".into());
        log.end_removal(p);
        assert_eq!(log.sequential_violation(1, b"xx\0\0"), None);
        assert_eq!(log.sequential_violation(1, b"xx").map(|v| v.0), Some(2));
        // Inside EOF the punch's range reads zeros; a byte no operation
        // covers is not judged.
        let mut data = b"xx".to_vec();
        data.extend([0; 98]);
        data.extend(b"zz");
        assert_eq!(log.sequential_violation(1, &data), None);
        data[50] = b'z';
        assert_eq!(log.sequential_violation(1, &data).map(|v| v.0), Some(50));
    }
}
