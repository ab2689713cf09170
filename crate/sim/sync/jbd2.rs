//! The jbd2 journal as the simulator sees it: the running transaction's
//! state machine and its handles as a lock class (`jbd2_handle`), with the
//! semantics of fs/jbd2/transaction.c and commit.c:
//! - `start` (`jbd2__journal_start`/`start_this_handle`) joins the running
//!   transaction (`t_updates++`) and holds `jbd2_handle` for read; it waits
//!   while the running transaction is `T_LOCKED` (a commit wants it).
//! - `commit` (the locking half of `jbd2_journal_commit_transaction`) sets
//!   `T_LOCKED`, waits for `t_updates` to reach zero (holding `jbd2_handle`
//!   for write, so lockdep sees commit -> handle dependencies), then moves
//!   it to `T_FLUSH`, opens the next running transaction and wakes the
//!   handles that waited; the caller writes the commit and calls
//!   `commit_done` (`T_FINISHED`, `j_commit_sequence = tid`).
//! - handles nest per task (`journal_current_handle`, `h_ref`).
//! - `lock_updates` / `unlock_updates` are `jbd2_journal_lock_updates` /
//!   `jbd2_journal_unlock_updates` (v4.13 fs/jbd2/transaction.c; unchanged
//!   in what the model uses through v6.x): raise `j_barrier_count` (from
//!   then on `start_this_handle` waits for it to drop to 0, before it looks
//!   at T_LOCKED), wait until the running transaction's `t_updates` is 0,
//!   then take the `j_barrier` mutex (lock class `j_barrier`), which
//!   serializes barrier holders; unlocking releases `j_barrier`, drops the
//!   count and wakes the waiting handle starts. The commit is not blocked by
//!   the barrier (it waits for `t_updates` only), so `jbd2_journal_flush`
//!   under the barrier works as in the kernel. Lockdep sees
//!   `jbd2_might_wait_for_commit` (an exclusive acquire of `jbd2_handle`,
//!   v4.11+) at the call and then `j_barrier`. Simplification: no
//!   `j_running_transaction == NULL` state (the sim journal always has a
//!   running transaction, whose `t_updates` is 0 when nothing is open, the
//!   same wait outcome).
//! - For the dependence relation (`rt::clock`) the journal is two objects:
//!   the journal itself (handles, `T_LOCKED`, the running tid, the
//!   barrier), and its commit sequence (`j_commit_sequence` and
//!   `j_committing_transaction`, `JournalState::commit_obj`), which the
//!   commit's `T_LOCKED` step and its end (`commit_done`) write and
//!   `wait_commit` and `committing_tid` read. In the kernel the two are
//!   different fields under `j_state_lock`: `start_this_handle` and
//!   `jbd2_journal_stop` never look at the commit sequence, so the end of
//!   a commit commutes with every handle start and stop. An uncontended
//!   handle start and a stop no commit or barrier waits for are reads of
//!   the journal (`Rt::rw_down`, `Rt::rw_up`).
//! - `start_reserved` is `jbd2_journal_start_reserved` (v3.11+): a handle
//!   reserved earlier joins the running transaction even while it is
//!   `T_LOCKED` and past a barrier, so it never waits for a commit. Credits
//!   are not modelled (`j_reserved_credits` only sizes transactions).

use crate::sim::rt::clock::Access;
use crate::sim::rt::object::{JournalState, ObjState, RwState, TState};
use crate::sim::rt::{self, ObjId, Op, OpKind, Rt};

/// A `journal_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Journal {
    id: ObjId,
    /// `journal->j_barrier` (a mutex of class `j_barrier`).
    j_barrier: super::Mutex,
}

/// A `handle_t` of the current task (stop it with [`Handle::stop`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Handle {
    journal: Journal,
    /// tid of the transaction the handle belongs to (`h_transaction->t_tid`).
    pub tid: u32,
}

fn js(rt: &mut Rt, id: ObjId) -> &mut JournalState {
    match &mut rt.obj(id).st {
        ObjState::Journal(j) => j,
        _ => panic!("object {id} is not a journal"),
    }
}

/// The current task's outermost handle is now on `id`'s running
/// transaction (`current->journal_info`); returns its tid.
fn attach_handle(rt: &mut Rt, id: ObjId) -> u32 {
    let tid = js(rt, id).running_tid;
    let t = rt.cur();
    let task = rt.task(t);
    task.handle_refs = 1;
    task.handle_journal = id;
    task.handle_tid = tid;
    tid
}

impl Journal {
    /// A journal whose running transaction has tid `first_tid`.
    pub fn new(name: impl Into<crate::sim::rt::ObjName>, first_tid: u32) -> Journal {
        let st = JournalState {
            rw: RwState::default(),
            barrier_count: 0,
            barrier_holders: Vec::new(),
            barrier_waiters: Vec::new(),
            updates_waiters: Vec::new(),
            running_tid: first_tid,
            t_state: TState::Running,
            committing: None,
            commit_sequence: first_tid.wrapping_sub(1),
            commit_obj: rt::NO_OBJ,
        };
        let id = rt::with(|rt| {
            rt.new_object(name.into(), "jbd2_handle", ObjState::Journal(Box::new(st)))
        });
        let j_barrier = super::Mutex::named("j_barrier", "j_barrier");
        rt::with(|rt| {
            let o = rt.new_object("j_commit_sequence".into(), "location", ObjState::Plain);
            js(rt, id).commit_obj = o;
        });
        Journal { id, j_barrier }
    }

    /// `jbd2_journal_start`: a handle on the running transaction. Nested
    /// starts by a task that already has a handle return at once.
    pub async fn start(self) -> Handle {
        let nested = rt::with(|rt| {
            let t = rt.cur();
            let task = rt.task(t);
            if task.handle_refs > 0 && task.handle_journal == self.id {
                task.handle_refs += 1;
                Some(task.handle_tid)
            } else {
                None
            }
        });
        if let Some(tid) = nested {
            return Handle { journal: self, tid };
        }
        rt::schedule_point(Op::new(OpKind::HandleStart, self.id)).await;
        let started = rt::with(|rt| {
            let j = js(rt, self.id);
            if j.barrier_count > 0 {
                // start_this_handle: wait_event(j_wait_transaction_locked,
                // j_barrier_count == 0), then `goto repeat`; unlock_updates
                // hands the handle over (or queues it behind a T_LOCKED
                // commit).
                let t = rt.cur();
                js(rt, self.id).barrier_waiters.push(t);
                rt.access(self.id, Access::Write);
                return false;
            }
            rt.rw_down(self.id, false)
        });
        if !started {
            rt::park(self.id).await;
        }
        let tid = rt::with(|rt| attach_handle(rt, self.id));
        Handle { journal: self, tid }
    }

    /// `jbd2_journal_start_reserved` (v5.5 fs/jbd2/transaction.c; the same
    /// since v3.11): start a handle reserved by `jbd2__journal_start` with
    /// `rsv_blocks` (ext4 hands it to the io_end of dioread_nolock
    /// writeback). In `start_this_handle` a reserved handle skips the wait
    /// on `j_barrier_count` and `add_transaction_credits` (which waits
    /// while the running transaction is `T_LOCKED`): it joins the running
    /// transaction in every state but `T_SWITCH`, which the simulation
    /// never shows (the commit leaves it in the step it enters it). The
    /// commit then waits for it like any handle (`t_updates`). Lockdep
    /// sees a read acquire (`rwsem_acquire_read(&j_trans_commit_map)` is
    /// done for every handle). A task that already has a handle gets the
    /// kernel's `WARN_ON(current->journal_info)` and no handle (the kernel
    /// returns -EIO).
    pub async fn start_reserved(self) -> Option<Handle> {
        let nested = rt::with(|rt| {
            let t = rt.cur();
            let nested = rt.task(t).handle_refs > 0;
            if nested {
                rt.warn(
                    "jbd2_journal_start_reserved",
                    "WARN_ON(current->journal_info)".into(),
                );
            }
            nested
        });
        if nested {
            return None;
        }
        rt::schedule_point(Op {
            kind: OpKind::HandleStart,
            obj: self.id,
            arg: 1,
        })
        .await;
        let tid = rt::with(|rt| {
            rt.rw_down_read_now(self.id);
            attach_handle(rt, self.id)
        });
        Some(Handle { journal: self, tid })
    }

    /// The locking half of `jbd2_journal_commit_transaction` (kjournald2):
    /// returns the tid now committing. Precondition: no handle held by the
    /// current task (it would wait for itself).
    pub async fn commit(self) -> u32 {
        rt::schedule_point(Op::new(OpKind::CommitLock, self.id)).await;
        let acquired = rt::with(|rt| {
            let j = js(rt, self.id);
            let commit_obj = j.commit_obj;
            j.t_state = TState::Locked;
            j.committing = Some(j.running_tid);
            rt.access(commit_obj, Access::Write);
            rt.signal(self.id, "T_LOCKED");
            rt.rw_down(self.id, true)
        });
        if !acquired {
            rt::park(self.id).await;
        }
        rt::with(|rt| {
            let j = js(rt, self.id);
            let tid = j.running_tid;
            j.running_tid = tid.wrapping_add(1);
            j.t_state = TState::Running;
            rt.signal(self.id, "T_FLUSH (new transaction T_RUNNING)");
            rt.rw_up(self.id, true);
            tid
        })
    }

    /// `jbd2_journal_lock_updates`: establish a transaction barrier (see
    /// the module doc). Precondition: the current task has no handle open
    /// on this journal (it would wait for itself; the deadlock oracle then
    /// reports the task blocked for good).
    pub async fn lock_updates(self) {
        rt::schedule_point(Op::new(OpKind::LockUpdates, self.id)).await;
        let wait = rt::with(|rt| {
            let t = rt.cur();
            rt.access(self.id, Access::Write);
            rt.acquire_fence(t);
            let j = js(rt, self.id);
            j.barrier_count += 1;
            j.barrier_holders.push(t);
            let n = j.barrier_count;
            let busy = j.rw.readers != 0;
            if busy {
                j.updates_waiters.push(t);
            }
            rt.signal(self.id, &format!("j_barrier_count = {n}"));
            busy
        });
        if wait {
            rt::park(self.id).await;
        }
        self.j_barrier.lock().await;
    }

    /// `jbd2_journal_unlock_updates`: release the barrier. Precondition:
    /// the current task called [`Journal::lock_updates`] (otherwise a
    /// kernel warning outcome, `J_ASSERT(journal->j_barrier_count != 0)`).
    pub fn unlock_updates(self) {
        self.j_barrier.unlock();
        rt::with(|rt| {
            let t = rt.cur();
            rt.access(self.id, Access::Release);
            rt.release_fence(t);
            let j = js(rt, self.id);
            let Some(i) = j.barrier_holders.iter().position(|&h| h == t) else {
                rt.warn(
                    "jbd2_journal_unlock_updates",
                    "J_ASSERT(journal->j_barrier_count != 0) failed".into(),
                );
                return;
            };
            j.barrier_holders.remove(i);
            j.barrier_count -= 1;
            let n = j.barrier_count;
            rt.signal(self.id, &format!("j_barrier_count = {n}"));
            if n > 0 {
                return;
            }
            // wake_up(&journal->j_wait_transaction_locked): each waiting
            // start_this_handle repeats; it joins the running transaction,
            // or queues behind a commit that holds it T_LOCKED.
            let waiters = std::mem::take(&mut js(rt, self.id).barrier_waiters);
            for w in waiters {
                let j = js(rt, self.id);
                let commit = j.rw.writer.is_some() || j.rw.queue.iter().any(|(_, wr)| *wr);
                if commit {
                    j.rw.queue.push_back((w, false));
                } else {
                    rt.rw_hold(self.id, w, false);
                    rt.wake(w, self.id);
                }
            }
        })
    }

    /// `j_barrier_count`.
    pub fn barrier_count(self) -> u32 {
        rt::with(|rt| js(rt, self.id).barrier_count)
    }

    /// End of the commit of `tid` (`T_FINISHED`): wakes `wait_commit`.
    pub fn commit_done(self, tid: u32) {
        rt::with(|rt| {
            let j = js(rt, self.id);
            let commit_obj = j.commit_obj;
            rt.access(commit_obj, Access::Write);
            let j = js(rt, self.id);
            j.commit_sequence = tid;
            if j.committing == Some(tid) {
                j.committing = None;
            }
            rt.signal(self.id, "T_FINISHED");
        })
    }

    /// `jbd2_log_wait_commit(journal, tid)`.
    pub async fn wait_commit(self, tid: u32) {
        rt::schedule_point(Op {
            kind: OpKind::WaitCommit,
            obj: self.id,
            arg: tid,
        })
        .await;
        rt::with(|rt| {
            let commit_obj = js(rt, self.id).commit_obj;
            rt.access(commit_obj, Access::Read)
        });
    }

    /// `jbd2_log_start_commit`'s read of the running transaction: its
    /// `t_tid`, read at a scheduling point as a dependent access of the
    /// journal (a commit may move it on).
    pub async fn running_tid_at(self) -> u32 {
        rt::schedule_point(Op {
            kind: OpKind::WaitCommit,
            obj: self.id,
            arg: 0,
        })
        .await;
        rt::with(|rt| {
            rt.access(self.id, Access::Read);
            js(rt, self.id).running_tid
        })
    }

    /// `t_tid` of the running transaction.
    pub fn running_tid(self) -> u32 {
        rt::with(|rt| js(rt, self.id).running_tid)
    }

    /// State of the running transaction (`T_LOCKED` while a commit waits).
    pub fn t_state(self) -> TState {
        rt::with(|rt| js(rt, self.id).t_state)
    }

    /// `t_updates`: open handles (outermost) on the running transaction.
    pub fn t_updates(self) -> u32 {
        rt::with(|rt| js(rt, self.id).rw.readers.count_ones())
    }

    /// `j_committing_transaction->t_tid`, while a commit is under way: a
    /// read (under `j_state_lock` in the kernel) in the current step, which
    /// a commit's `T_LOCKED` step and its end write.
    pub fn committing_tid(self) -> Option<u32> {
        rt::with(|rt| {
            let j = js(rt, self.id);
            let (commit_obj, tid) = (j.commit_obj, j.committing);
            rt.access(commit_obj, Access::Read);
            tid
        })
    }

    /// `j_commit_sequence`, read by the current task as an access of the
    /// commit sequence (kjournald2 reads it under `j_state_lock` to see
    /// whether a commit was asked for); a no-op access outside an
    /// execution.
    pub fn read_commit_sequence(self) -> u32 {
        rt::try_with(|rt| {
            let commit_obj = js(rt, self.id).commit_obj;
            rt.access(commit_obj, Access::Read)
        });
        self.commit_sequence()
    }

    /// `j_commit_sequence`.
    pub fn commit_sequence(self) -> u32 {
        rt::with(|rt| js(rt, self.id).commit_sequence)
    }

    /// `handle->h_transaction->t_tid` of the current task's open handle on
    /// this journal, if it has one.
    pub fn current_handle_tid(self) -> Option<u32> {
        rt::with(|rt| {
            let t = rt.cur();
            let task = rt.task(t);
            (task.handle_refs > 0 && task.handle_journal == self.id).then_some(task.handle_tid)
        })
    }

    /// Whether the current task has an open handle (`ext4_handle_valid`
    /// of `journal_current_handle()`).
    pub fn current_has_handle(self) -> bool {
        rt::with(|rt| {
            let t = rt.cur();
            let task = rt.task(t);
            task.handle_refs > 0 && task.handle_journal == self.id
        })
    }
}

impl Handle {
    /// `jbd2_journal_stop`: the outermost stop drops `t_updates` and may
    /// let a waiting commit proceed.
    pub fn stop(self) {
        rt::with(|rt| {
            let t = rt.cur();
            let task = rt.task(t);
            task.handle_refs = task.handle_refs.saturating_sub(1);
            if task.handle_refs == 0 {
                task.handle_journal = rt::NO_OBJ;
                rt.rw_up(self.journal.id, false);
                // wake_up(&journal->j_wait_updates) when t_updates drops
                // to 0: jbd2_journal_lock_updates goes on.
                let j = js(rt, self.journal.id);
                if j.rw.readers == 0 && !j.updates_waiters.is_empty() {
                    for w in std::mem::take(&mut j.updates_waiters) {
                        rt.wake(w, self.journal.id);
                    }
                }
            }
        })
    }
}
