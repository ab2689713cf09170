use crate::sim::rt::object::ObjState;
use crate::sim::rt::{self, ObjId, Op, OpKind};

/// A `struct mutex`. Acquisition order among waiters is a scheduler choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mutex {
    id: ObjId,
}

impl Mutex {
    /// A mutex whose instance name is its class name.
    pub fn new(class: &'static str) -> Mutex {
        Mutex::named(class, class)
    }

    /// A mutex named `name` (e.g. "inode 12 i_mutex") of lock class `class`.
    pub fn named(name: impl Into<crate::sim::rt::ObjName>, class: &'static str) -> Mutex {
        let id = rt::with(|rt| rt.new_object(name.into(), class, ObjState::Mutex { owner: None }));
        Mutex { id }
    }

    /// `mutex_lock`. Precondition: the current task does not hold it
    /// (re-acquiring self-deadlocks, and the deadlock oracle reports it).
    pub async fn lock(self) {
        rt::schedule_point(Op::new(OpKind::MutexLock, self.id)).await;
        rt::with(|rt| rt.excl_acquire(self.id));
    }

    /// `mutex_trylock`: takes the mutex if it is free, never waits (a
    /// scheduling point; no lockdep dependency, as in the kernel).
    pub async fn try_lock(self) -> bool {
        rt::schedule_point(Op::new(OpKind::TryLock, self.id)).await;
        rt::with(|rt| rt.try_acquire(self.id, true))
    }

    /// `mutex_unlock`. Precondition: held by the current task (otherwise a
    /// kernel warning outcome is recorded).
    pub fn unlock(self) {
        rt::with(|rt| rt.excl_release(self.id));
    }

    /// `mutex_is_locked`.
    pub fn is_locked(self) -> bool {
        rt::with(|rt| matches!(rt.obj(self.id).st, ObjState::Mutex { owner: Some(_) }))
    }

    /// Whether the current task holds it (`lockdep_is_held`).
    pub fn is_held_by_current(self) -> bool {
        rt::with(|rt| {
            let t = rt.cur();
            rt.holds(t, self.id)
        })
    }

    /// `lockdep_assert_held`: records a kernel warning outcome (site
    /// "lockdep_assert_held") when the current task does not hold it.
    pub fn assert_held(self) {
        rt::with(|rt| {
            let t = rt.cur();
            if !rt.holds(t, self.id) {
                let n = rt.obj_label(self.id);
                rt.warn("lockdep_assert_held", format!("{n} not held"));
            }
        })
    }
}
