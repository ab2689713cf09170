use crate::sim::rt::object::ObjState;
use crate::sim::rt::{self, ObjId, Op, OpKind};

/// A `spinlock_t`: mutual exclusion whose holder must not sleep. Awaiting
/// any sleeping primitive (mutex, rwsem, page lock, waits, journal start)
/// while holding one records the kernel warning "might_sleep" ("BUG:
/// sleeping function called from invalid context").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpinLock {
    id: ObjId,
}

impl SpinLock {
    /// A spinlock named `name` of lock class `class` (e.g. `i_raw_lock`).
    pub fn named(name: impl Into<crate::sim::rt::ObjName>, class: &'static str) -> SpinLock {
        let id = rt::with(|rt| {
            let id = rt.new_object(name.into(), class, ObjState::Mutex { owner: None });
            rt.obj(id).spin = true;
            id
        });
        SpinLock { id }
    }

    /// A spinlock whose instance name is its class name.
    pub fn new(class: &'static str) -> SpinLock {
        SpinLock::named(class, class)
    }

    /// `spin_lock`.
    pub async fn lock(self) {
        rt::schedule_point(Op::new(OpKind::SpinLock, self.id)).await;
        rt::with(|rt| rt.excl_acquire(self.id));
    }

    /// `spin_unlock`. Precondition: held by the current task.
    pub fn unlock(self) {
        rt::with(|rt| rt.excl_release(self.id));
    }

    /// `spin_is_locked`.
    pub fn is_locked(self) -> bool {
        rt::with(|rt| matches!(rt.obj(self.id).st, ObjState::Mutex { owner: Some(_) }))
    }

    /// `lockdep_assert_held`: a kernel warning outcome when not held.
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
