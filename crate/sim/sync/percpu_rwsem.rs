//! `struct percpu_rw_semaphore`: the freeze protection of a superblock
//! (`sb->s_writers.rw_sem[]`: `sb_start_write` is a read of the
//! `sb_writers` level, `sb_start_pagefault` of `sb_pagefaults`,
//! `sb_start_intwrite` of `sb_internal`) and ext4's
//! `s_journal_flag_rwsem` / `s_writepages_rwsem`.
//!
//! Models kernel/locking/percpu-rwsem.c in both of its designs, which agree
//! on everything the simulator can observe:
//! - v4.8..v5.7 (v4.13 is the one S4 runs): readers increment a per-cpu
//!   count (fast path) or, once `rcu_sync_enter` has switched them to the
//!   slow path, check `readers_block` in `__percpu_down_read`; a reader that
//!   finds it set drops its count and sleeps in `__down_read(&sem->rw_sem)`
//!   behind the writer. `percpu_down_write` takes `rw_sem` for write
//!   (writer-writer exclusion), sets `readers_block`, then waits in
//!   `rcuwait_wait_event` for `readers_active_check` (the per-cpu sum) to
//!   reach zero. `percpu_up_write` clears `readers_block` and `up_write`s
//!   `rw_sem`, which wakes the queued readers in front of the first queued
//!   writer (v4.13 `__rwsem_mark_wake`); that writer then blocks new
//!   readers and waits for the woken ones.
//! - v5.8+ (7f26482a872c "locking/percpu-rwsem: Remove the embedded
//!   rwsem"): one `block` flag and a FIFO waitqueue; `percpu_up_write`
//!   clears `block` and `percpu_rwsem_wake_function` wakes "readers until
//!   we've woken a single writer", handing each its lock
//!   (`__percpu_rwsem_trylock`), the writer included, which then waits for
//!   those readers to leave.
//!
//! So: readers never block readers; a writer first stops new readers (they
//! queue behind it), then waits for the readers already in to leave;
//! waiters are served FIFO, readers in front of the first writer together.
//! That is the simulator's writer-fair rwsem with the
//! [`RwWake::FrontReaders`] hand-off rule, which is what this type uses.
//! A task re-entering `percpu_down_read` while a writer waits deadlocks, as
//! the kernel comment says ("Like the normal down_read() this is not
//! recursive, the writer can come after the first percpu_down_read() and
//! create the deadlock").
//!
//! Lockdep: `percpu_down_read` is `rwsem_acquire_read` (a non-recursive
//! read, `read == 1`) of the semaphore's `dep_map` (v4.13: of `rw_sem`'s),
//! `percpu_down_write` an exclusive acquire; the class is the name given
//! here (`sb_writers`, `sb_pagefaults`, `s_journal_flag_rwsem`...).
//!
//! Simplifications, and why no verdict depends on them: the rcu_sync grace
//! periods (`rcu_sync_enter` waits for one before the writer proceeds) only
//! delay the writer, a delay any schedule already contains; a wake-up
//! "stolen" by a concurrent `percpu_down_write` between `block = 0` and the
//! wake-up (v5.8+) is not modelled: the hand-off happens in the releasing
//! step, so the stealer runs as if it had arrived just after; the memory
//! ordering of the fast path (smp_mb pairs A/D, B/C) is the lock's
//! acquire/release, as for every sim lock.

use crate::sim::rt::object::{ObjState, RwState, RwWake};
use crate::sim::rt::{self, ObjId, Op, OpKind};

/// A `struct percpu_rw_semaphore` (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PercpuRwSemaphore {
    id: ObjId,
}

impl PercpuRwSemaphore {
    /// A percpu rwsem whose instance name is its class name.
    pub fn new(class: &'static str) -> PercpuRwSemaphore {
        PercpuRwSemaphore::named(class, class)
    }

    /// A percpu rwsem named `name` of lock class `class` (`sb_writers`).
    pub fn named(
        name: impl Into<crate::sim::rt::ObjName>,
        class: &'static str,
    ) -> PercpuRwSemaphore {
        let id = rt::with(|rt| {
            rt.new_object(
                name.into(),
                class,
                ObjState::RwSem(RwState::with_wake(RwWake::FrontReaders)),
            )
        });
        PercpuRwSemaphore { id }
    }

    /// `percpu_down_read`: waits only while a writer holds or waits for
    /// the semaphore.
    pub async fn down_read(self) {
        rt::schedule_point(Op::new(OpKind::DownRead, self.id)).await;
        if !rt::with(|rt| rt.rw_down(self.id, false)) {
            rt::park(self.id).await;
        }
    }

    /// `percpu_down_read_trylock` (`sb_start_write_trylock`): fails while a
    /// writer holds or waits.
    pub async fn down_read_trylock(self) -> bool {
        rt::schedule_point(Op::new(OpKind::TryLock, self.id)).await;
        rt::with(|rt| rt.try_acquire(self.id, false))
    }

    /// `percpu_up_read`. Precondition: the current task holds it for read.
    pub fn up_read(self) {
        rt::with(|rt| rt.rw_up(self.id, false));
    }

    /// `percpu_down_write`: blocks new readers, then waits for the readers
    /// in to leave.
    pub async fn down_write(self) {
        rt::schedule_point(Op::new(OpKind::DownWrite, self.id)).await;
        if !rt::with(|rt| rt.rw_down(self.id, true)) {
            rt::park(self.id).await;
        }
    }

    /// `percpu_up_write`. Precondition: the current task holds it for write.
    pub fn up_write(self) {
        rt::with(|rt| rt.rw_up(self.id, true));
    }

    /// Whether the current task holds it in either mode
    /// (`percpu_rwsem_is_held`).
    pub fn is_held_by_current(self) -> bool {
        rt::with(|rt| {
            let t = rt.cur();
            rt.holds(t, self.id)
        })
    }

    /// `percpu_rwsem_assert_held`: a kernel warning outcome when the current
    /// task does not hold it.
    pub fn assert_held(self) {
        if !self.is_held_by_current() {
            rt::with(|rt| {
                let n = rt.obj_label(self.id);
                rt.warn("percpu_rwsem_assert_held", format!("{n} not held"));
            });
        }
    }
}
