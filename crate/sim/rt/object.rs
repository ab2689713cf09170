//! Object states and their Linux semantics: what enables an announced
//! operation, and how acquiring, releasing and waking work. The public
//! facades in `sync/` call these.
//!
//! Semantics chosen (and why):
//! - mutex and page lock: an acquire is *enabled* only while the lock is
//!   free, so a task waiting for one is simply not schedulable; which waiter
//!   gets a released lock is a scheduler choice (Linux allows stealing).
//! - rw_semaphore (and the jbd2 handle): FIFO wait queue with hand-off, like
//!   kernel/locking/rwsem.c: a reader queues when a writer holds the lock *or
//!   any task is queued*, so a queued writer blocks new readers; on release a
//!   writer at the head gets the lock, or, when a reader is at the head, the
//!   queued readers do: all of them with [`RwWake::AllReaders`]
//!   (`rwsem_mark_wake` since d3681e269fff "locking/rwsem: Wake up almost all
//!   readers in wait queue", v5.3), or those in front of the first queued
//!   writer with [`RwWake::FrontReaders`] (v5.2 and before; also the
//!   percpu_rw_semaphore's wake rule, see `sync::percpu_rwsem`).
//! - A task may hold a read lock more than once (`down_read` twice with no
//!   writer waiting succeeds in the kernel, lockdep aside); each hold is
//!   released by its own `up_read`.
//! - The journal (`jbd2_handle`) adds the transaction barrier of
//!   `jbd2_journal_lock_updates` (see `sync::jbd2`).

use std::collections::VecDeque;

use super::clock::Access;
use super::{ClassId, Mode, ObjId, Op, OpKind, Rt, TaskId};

/// An object of one execution.
pub(crate) struct Object {
    pub name: super::ObjName,
    pub class: ClassId,
    pub st: ObjState,
    /// A spinlock: its holder must not sleep.
    pub spin: bool,
}

/// Operations that may sleep (`might_sleep()` in the kernel).
pub(crate) fn may_sleep(k: OpKind) -> bool {
    matches!(
        k,
        OpKind::MutexLock
            | OpKind::SpinLock
            | OpKind::DownRead
            | OpKind::DownWrite
            | OpKind::PageLock
            | OpKind::WaitWriteback
            | OpKind::WaitCompletion
            | OpKind::WaitEvent
            | OpKind::HandleStart
            | OpKind::CommitLock
            | OpKind::LockUpdates
            | OpKind::WaitCommit
    )
}

/// Which queued readers a release hands the lock to (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RwWake {
    /// Every queued reader, past queued writers (rwsem since v5.3).
    #[default]
    AllReaders,
    /// The readers in front of the first queued writer (rwsem up to v5.2,
    /// and percpu_rw_semaphore in every version).
    FrontReaders,
}

/// The rwsem core: holders and FIFO waiters.
#[derive(Clone, Debug, Default)]
pub(crate) struct RwState {
    /// Tasks holding it for read (bit per task).
    pub readers: u64,
    /// One entry per extra read hold of a task already in `readers`.
    pub nested: Vec<TaskId>,
    pub writer: Option<TaskId>,
    pub queue: VecDeque<(TaskId, bool)>,
    pub wake: RwWake,
}

impl RwState {
    /// An empty rwsem with wake rule `wake`.
    pub fn with_wake(wake: RwWake) -> RwState {
        RwState {
            wake,
            ..RwState::default()
        }
    }

    /// Records a read hold of `t` (a second hold is nested).
    fn add_reader(&mut self, t: TaskId) {
        if self.readers & (1 << t) != 0 {
            self.nested.push(t);
        } else {
            self.readers |= 1 << t;
        }
    }

    /// Drops one read hold of `t`; false when it held none.
    fn drop_reader(&mut self, t: TaskId) -> bool {
        if let Some(i) = self.nested.iter().rposition(|&x| x == t) {
            self.nested.remove(i);
            return true;
        }
        let held = self.readers & (1 << t) != 0;
        self.readers &= !(1 << t);
        held
    }
}

/// jbd2 transaction states (fs/jbd2 `t_state`), reduced to those a handle
/// or the commit can observe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TState {
    /// `T_RUNNING`: handles may join.
    Running,
    /// `T_LOCKED`: commit started; new handles wait; commit waits for
    /// `t_updates` to reach zero.
    Locked,
    /// `T_FLUSH`..`T_COMMIT`: the committing transaction is writing; a new
    /// running transaction accepts handles.
    Commit,
}

#[derive(Clone, Debug)]
pub(crate) struct JournalState {
    /// Handles are read holds (`t_updates`), the commit's T_LOCKED wait a
    /// write.
    pub rw: RwState,
    /// `j_barrier_count`: `jbd2_journal_lock_updates` calls not yet undone.
    pub barrier_count: u32,
    /// Tasks that raised `j_barrier_count` (and have not unlocked).
    pub barrier_holders: Vec<TaskId>,
    /// Tasks in `start_this_handle` waiting for `j_barrier_count == 0`.
    pub barrier_waiters: Vec<TaskId>,
    /// Tasks in `jbd2_journal_lock_updates` waiting for `t_updates == 0`.
    pub updates_waiters: Vec<TaskId>,
    /// tid of the running transaction (`j_running_transaction->t_tid`).
    pub running_tid: u32,
    /// state of the running transaction.
    pub t_state: TState,
    /// tid being committed (`j_committing_transaction`).
    pub committing: Option<u32>,
    /// last committed tid (`j_commit_sequence`).
    pub commit_sequence: u32,
    /// The object the dependence relation (`rt::clock`) sees for
    /// `committing` and `commit_sequence`, apart from the journal's own
    /// (handles, `T_LOCKED`, the running tid, the barrier): the end of a
    /// commit (`T_FINISHED`) changes nothing a handle start or stop reads,
    /// so it commutes with them. `jbd2_log_wait_commit` and a read of
    /// `j_committing_transaction` read it; the commit's `T_LOCKED` step
    /// and its end write it. See `sim::sync::jbd2`.
    pub commit_obj: ObjId,
}

/// A buffered (not yet visible) atomic store.
#[derive(Clone, Copy, Debug)]
pub(crate) enum StoreOp {
    Set(i64),
    Add(i64),
}

impl StoreOp {
    pub fn apply(self, v: i64) -> i64 {
        match self {
            StoreOp::Set(x) => x,
            StoreOp::Add(d) => v.wrapping_add(d),
        }
    }
}

pub(crate) enum ObjState {
    Plain,
    Mutex {
        owner: Option<TaskId>,
    },
    RwSem(RwState),
    Page {
        owner: Option<TaskId>,
        writeback: bool,
    },
    Completion {
        done: u32,
    },
    WaitQueue,
    Atomic {
        value: i64,
    },
    Journal(Box<JournalState>),
}

/// Completion count meaning `complete_all` was called.
pub(crate) const COMPLETE_ALL: u32 = u32::MAX / 2;

/// The lock class an announced operation tries to acquire (for lockdep).
pub(crate) fn acquire_class(rt: &Rt, op: Op) -> Option<ClassId> {
    match op.kind {
        OpKind::MutexLock
        | OpKind::SpinLock
        | OpKind::DownRead
        | OpKind::DownWrite
        | OpKind::PageLock
        | OpKind::HandleStart
        | OpKind::CommitLock
        | OpKind::LockUpdates => rt.objects.get(op.obj as usize).map(|o| o.class),
        _ => None,
    }
}

/// How lockdep sees the acquisition an announced operation makes: a
/// `down_read`, `percpu_down_read` or handle start is a read (lockdep's
/// `read == 1`, non-recursive), everything else a write. Only meaningful
/// when [`acquire_class`] is `Some`.
pub(crate) fn acquire_read(op: Op) -> crate::sim::oracle::lockdep::AcquireKind {
    use crate::sim::oracle::lockdep::AcquireKind;
    match op.kind {
        OpKind::DownRead | OpKind::HandleStart => AcquireKind::Read,
        _ => AcquireKind::Write,
    }
}

impl Rt {
    /// Whether task `t`'s announced operation can run now.
    pub(crate) fn op_enabled(&self, op: Op) -> bool {
        let st = match self.objects.get(op.obj as usize) {
            Some(o) => &o.st,
            None => return true,
        };
        match (op.kind, st) {
            (OpKind::MutexLock | OpKind::SpinLock, ObjState::Mutex { owner }) => owner.is_none(),
            (OpKind::PageLock, ObjState::Page { owner, .. }) => owner.is_none(),
            (OpKind::WaitWriteback, ObjState::Page { writeback, .. }) => !writeback,
            (OpKind::WaitCompletion, ObjState::Completion { done }) => *done > 0,
            (OpKind::WaitCommit, ObjState::Journal(j)) => j.commit_sequence >= op.arg,
            _ => true,
        }
    }

    /// Holder tasks of a lock-like object (for the wait-for graph).
    pub(crate) fn holders(&self, o: ObjId) -> Vec<TaskId> {
        let Some(ob) = self.objects.get(o as usize) else {
            return Vec::new();
        };
        let mask = |m: u64| (0..64u32).filter(move |i| m & (1 << i) != 0);
        match &ob.st {
            ObjState::Mutex { owner } | ObjState::Page { owner, .. } => {
                owner.iter().copied().collect()
            }
            ObjState::RwSem(rw) => rw.writer.iter().copied().chain(mask(rw.readers)).collect(),
            ObjState::Journal(j) => {
                j.rw.writer
                    .iter()
                    .copied()
                    .chain(mask(j.rw.readers))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// For a task queued on a rwsem-like object: the tasks it waits for
    /// (a queued writer waits for every holder and everyone queued ahead; a
    /// queued reader waits for a writer holder and the writers queued
    /// ahead). None when `t` is not queued on `o`.
    pub(crate) fn rw_waits_for(&self, o: ObjId, t: TaskId) -> Option<Vec<TaskId>> {
        let mask = |m: u64| (0..64u32).filter(move |i| m & (1 << i) != 0);
        let rw = match self.objects.get(o as usize).map(|ob| &ob.st) {
            Some(ObjState::RwSem(rw)) => rw,
            Some(ObjState::Journal(j)) => {
                // start_this_handle waiting on j_barrier_count waits for the
                // tasks that raised it; jbd2_journal_lock_updates waiting
                // for t_updates waits for the handle holders.
                if j.barrier_waiters.contains(&t) {
                    return Some(j.barrier_holders.clone());
                }
                if j.updates_waiters.contains(&t) {
                    return Some(mask(j.rw.readers).collect());
                }
                &j.rw
            }
            _ => return None,
        };
        let pos = rw.queue.iter().position(|(w, _)| *w == t)?;
        let write = rw.queue[pos].1;
        let mut v: Vec<TaskId> = rw.writer.iter().copied().collect();
        if write {
            v.extend((0..64u32).filter(|i| rw.readers & (1 << i) != 0));
        }
        v.extend(
            rw.queue
                .iter()
                .take(pos)
                .filter(|(_, wr)| write || *wr)
                .map(|(w, _)| *w),
        );
        Some(v)
    }

    fn rw_mut(&mut self, o: ObjId) -> &mut RwState {
        match &mut self.objects[o as usize].st {
            ObjState::RwSem(rw) => rw,
            ObjState::Journal(j) => &mut j.rw,
            _ => panic!("object {o} is not an rw_semaphore"),
        }
    }

    /// `down_read`/`down_write` by the current task, performed in its step.
    /// Returns whether it acquired; otherwise the task is queued (the caller
    /// parks).
    ///
    /// A read acquire of a free rwsem (no writer holds it, nobody waits)
    /// only *reads* it for the dependence relation (`rt::clock`), so two
    /// such acquires by different tasks commute: either order leaves the
    /// same readers holding it and the same empty queue, neither disables
    /// the other, and lockdep learns the same edges (they are per task).
    /// Every other rwsem operation still writes it (a write acquire, a
    /// read acquire that queues: the queue's order matters) or releases it
    /// (an `up_write`, an `up_read` with waiters: it may hand the lock
    /// over), except an `up_read` nobody waits for ([`Rt::rw_up`]); a read acquire still
    /// follows the release before it in happens-before (it joins the
    /// object's clock), and race-driven DPOR counts that release as a race
    /// of it (`candidates`). This assumes, as the whole reduction does,
    /// that what a task changes in the rest of its step is announced on its
    /// own: the kernel's read side protects state its holders only read.
    /// Checked three ways (2026-12-06): tests/sim_dpor_fuzz.rs (reduced
    /// against naive DFS on generated programs with rwsems and journals);
    /// tests/sim_equivalent_schedules.rs (swaps of independent steps in
    /// built-in outcome schedules keep their outcomes); and every built-in
    /// variant under its own bound found exactly the outcome keys it found
    /// with read acquires and releases as writes. This rule alone took 7-55%
    /// of the executions away; with [`Rt::rw_up`]'s, 1.1-4.7x (S5 `v5.5`
    /// unbounded 17,661 to 4,932, S8 2,532 to 536, S3 at bound 3 162,712 to
    /// 74,679; README, "Reads of one lock state commute").
    pub(crate) fn rw_down(&mut self, o: ObjId, write: bool) -> bool {
        let t = self.cur();
        let rw = self.rw_mut(o);
        let free = rw.writer.is_none() && rw.queue.is_empty() && (!write || rw.readers == 0);
        self.access(
            o,
            if free && !write {
                Access::Read
            } else {
                Access::Write
            },
        );
        self.acquire_fence(t);
        if free {
            self.rw_hold(o, t, write);
            true
        } else {
            self.rw_mut(o).queue.push_back((t, write));
            false
        }
    }

    /// A read hold by the current task, performed in its step, whatever
    /// holds or waits for the lock: a reserved jbd2 handle
    /// (`jbd2_journal_start_reserved` joins a transaction locked for
    /// commit).
    pub(crate) fn rw_down_read_now(&mut self, o: ObjId) {
        let t = self.cur();
        self.access(o, Access::Write);
        self.acquire_fence(t);
        self.rw_hold(o, t, false);
    }

    /// Task `t` now holds `o` (write: as its writer, else one more read
    /// hold), and its held-lock list says so.
    pub(crate) fn rw_hold(&mut self, o: ObjId, t: TaskId, write: bool) {
        let rw = self.rw_mut(o);
        if write {
            rw.writer = Some(t);
        } else {
            rw.add_reader(t);
        }
        let mode = if write { Mode::Exclusive } else { Mode::Shared };
        self.push_held(t, o, mode);
    }

    /// `up_read`/`up_write` by the current task. Returns false (and records
    /// a warning) when the task did not hold the lock.
    ///
    /// An `up_read` of an rwsem nobody waits for only reads it for the
    /// dependence relation, as an uncontended `down_read` does
    /// ([`Rt::rw_down`]): it hands the lock to nobody, and against another
    /// task's uncontended `down_read` or such an `up_read` either order
    /// leaves the same readers. A writer's `down_write` still writes it, so
    /// it stays ordered after the release (it joins the object's read
    /// clock). A journal's handle stop (`jbd2_journal_stop`) is such a
    /// read too when no commit waits for `t_updates` (none queued, none
    /// holding it for write) and no `jbd2_journal_lock_updates` does
    /// (`updates_waiters`): then it wakes nobody, and `t_updates` is read
    /// only by those waits, which write the journal. No operation
    /// reads which tasks hold an rwsem as a read access; one that did
    /// (`rwsem_is_locked`) would have to write it. The journal's rule took
    /// S7's fixes at bound 2 from about 209,000 executions to 123,600
    /// (README, "The journal's handles and its commit sequence").
    pub(crate) fn rw_up(&mut self, o: ObjId, write: bool) -> bool {
        let t = self.cur();
        let quiet = !write
            && match &self.objects[o as usize].st {
                ObjState::RwSem(rw) => rw.queue.is_empty() && rw.writer.is_none(),
                ObjState::Journal(j) => {
                    j.rw.queue.is_empty() && j.rw.writer.is_none() && j.updates_waiters.is_empty()
                }
                _ => false,
            };
        self.access(o, if quiet { Access::Read } else { Access::Release });
        self.release_fence(t);
        let rw = self.rw_mut(o);
        let ok = if write {
            let ok = rw.writer == Some(t);
            if ok {
                rw.writer = None;
            }
            ok
        } else {
            rw.drop_reader(t)
        };
        if !ok {
            let name = self.obj_label(o);
            self.warn(
                "rwsem_release",
                format!(
                    "{} of {name} not held by this task",
                    if write { "up_write" } else { "up_read" }
                ),
            );
            return false;
        }
        self.pop_held(t, o);
        self.rw_grant(o);
        true
    }

    /// Hands the lock to the head of the queue if it can run.
    pub(crate) fn rw_grant(&mut self, o: ObjId) {
        if let ObjState::Journal(j) = &mut self.objects[o as usize].st {
            if j.barrier_count > 0 && j.rw.writer.is_none() {
                // Handles that waited for T_LOCKED wake up, `goto repeat`
                // in start_this_handle and now wait for the barrier.
                let moved: Vec<TaskId> =
                    j.rw.queue
                        .iter()
                        .filter(|(_, wr)| !wr)
                        .map(|(w, _)| *w)
                        .collect();
                j.rw.queue.retain(|(_, wr)| *wr);
                j.barrier_waiters.extend(moved);
            }
        }
        let rw = self.rw_mut(o);
        if rw.writer.is_some() {
            return;
        }
        let Some(&(head, head_write)) = rw.queue.front() else {
            return;
        };
        if head_write {
            if rw.readers != 0 {
                return;
            }
            rw.queue.pop_front();
            self.rw_hold(o, head, true);
            self.wake(head, o);
        } else {
            let front_only = rw.wake == RwWake::FrontReaders;
            let mut granted = Vec::new();
            let mut past_writer = false;
            rw.queue.retain(|&(w, wr)| {
                past_writer |= wr;
                if wr || (front_only && past_writer) {
                    return true;
                }
                granted.push(w);
                false
            });
            for w in granted {
                self.rw_hold(o, w, false);
                self.wake(w, o);
            }
        }
    }

    /// `mutex_lock`/`lock_page` performed (the op was enabled: lock free).
    pub(crate) fn excl_acquire(&mut self, o: ObjId) {
        let t = self.cur();
        self.access(o, Access::Acquire);
        self.acquire_fence(t);
        match &mut self.objects[o as usize].st {
            ObjState::Mutex { owner } | ObjState::Page { owner, .. } => *owner = Some(t),
            _ => panic!("object {o} is not a mutex or page"),
        }
        self.push_held(t, o, Mode::Exclusive);
    }

    /// `mutex_unlock`/`unlock_page`. Warns when not held by the current task.
    pub(crate) fn excl_release(&mut self, o: ObjId) -> bool {
        let t = self.cur();
        self.access(o, Access::Release);
        self.release_fence(t);
        let ok = match &mut self.objects[o as usize].st {
            ObjState::Mutex { owner } | ObjState::Page { owner, .. } => {
                let ok = *owner == Some(t);
                if ok {
                    *owner = None;
                }
                ok
            }
            _ => false,
        };
        if ok {
            self.pop_held(t, o);
        } else {
            let name = self.obj_label(o);
            self.warn(
                "unlock",
                format!("{name} released by a task that does not hold it"),
            );
        }
        ok
    }

    /// A trylock of the current task on a mutex, page or rwsem: acquires
    /// when free (without queueing) and says whether it did.
    pub(crate) fn try_acquire(&mut self, o: ObjId, write: bool) -> bool {
        let t = self.cur();
        self.access(o, Access::Write);
        self.acquire_fence(t);
        match &mut self.objects[o as usize].st {
            ObjState::Mutex { owner } | ObjState::Page { owner, .. } => {
                if owner.is_some() {
                    return false;
                }
                *owner = Some(t);
                self.push_held(t, o, Mode::Exclusive);
                self.mark_trylock(t);
                self.hb.note_acquire(o);
                true
            }
            ObjState::RwSem(rw) => {
                let free =
                    rw.writer.is_none() && rw.queue.is_empty() && (!write || rw.readers == 0);
                if !free {
                    return false;
                }
                if write {
                    rw.writer = Some(t);
                } else {
                    rw.add_reader(t);
                }
                self.push_held(t, o, if write { Mode::Exclusive } else { Mode::Shared });
                self.mark_trylock(t);
                true
            }
            _ => false,
        }
    }

    /// Marks the lock `t` took last as taken with a trylock.
    fn mark_trylock(&mut self, t: TaskId) {
        if let Some(h) = self.tasks[t as usize].held.last_mut() {
            h.trylock = true;
        }
    }

    /// Wakes every task blocked on wait queue / object `o`.
    pub(crate) fn wake_all(&mut self, o: ObjId) {
        for t in 0..self.ntasks as TaskId {
            if self.tasks[t as usize].status == super::Status::Blocked(o) {
                self.wake(t, o);
            }
        }
    }

    /// Lazily created object standing for disk block `block`.
    pub(crate) fn block_obj(&mut self, block: u64) -> ObjId {
        if let Some(&(_, o)) = self.blocks.iter().find(|(b, _)| *b == block) {
            return o;
        }
        let o = self.new_object(
            super::ObjName::Numbered("block ", block),
            "block",
            ObjState::Plain,
        );
        self.blocks.push((block, o));
        o
    }
}
