use crate::sim::rt::object::{ObjState, RwState, RwWake};
use crate::sim::rt::{self, ObjId, Op, OpKind};

/// A writer-fair `struct rw_semaphore` (kernel/locking/rwsem.c; see
/// `rt::object` for the exact queueing rules: a queued writer blocks new
/// readers). The hand-off on release follows [`RwWake`]: pick
/// [`RwWake::FrontReaders`] for kernels before v5.3 (d3681e269fff) with
/// [`RwSemaphore::with_wake`]; [`RwSemaphore::named`] uses
/// [`RwWake::AllReaders`]. Lockdep sees `down_read` as a non-recursive read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RwSemaphore {
    id: ObjId,
}

impl RwSemaphore {
    /// An rwsem whose instance name is its class name.
    pub fn new(class: &'static str) -> RwSemaphore {
        RwSemaphore::named(class, class)
    }

    /// An rwsem named `name` of lock class `class` (e.g. `i_rwsem`).
    pub fn named(name: impl Into<crate::sim::rt::ObjName>, class: &'static str) -> RwSemaphore {
        RwSemaphore::with_wake(name, class, RwWake::AllReaders)
    }

    /// An rwsem with the hand-off rule of a given kernel era: `rwsem_mark_wake`
    /// wakes every queued reader since v5.3 ([`RwWake::AllReaders`],
    /// d3681e269fff "locking/rwsem: Wake up almost all readers in wait
    /// queue"), only those in front of the first queued writer before
    /// ([`RwWake::FrontReaders`]).
    pub fn with_wake(
        name: impl Into<crate::sim::rt::ObjName>,
        class: &'static str,
        wake: RwWake,
    ) -> RwSemaphore {
        let id = rt::with(|rt| {
            rt.new_object(
                name.into(),
                class,
                ObjState::RwSem(RwState::with_wake(wake)),
            )
        });
        RwSemaphore { id }
    }

    /// `down_read`. Queues behind a writer that holds or waits.
    pub async fn down_read(self) {
        rt::schedule_point(Op::new(OpKind::DownRead, self.id)).await;
        if !rt::with(|rt| rt.rw_down(self.id, false)) {
            rt::park(self.id).await;
        }
    }

    /// `down_write`.
    pub async fn down_write(self) {
        rt::schedule_point(Op::new(OpKind::DownWrite, self.id)).await;
        if !rt::with(|rt| rt.rw_down(self.id, true)) {
            rt::park(self.id).await;
        }
    }

    /// `down_read_trylock`: fails when a writer holds or anyone waits.
    pub async fn down_read_trylock(self) -> bool {
        rt::schedule_point(Op::new(OpKind::TryLock, self.id)).await;
        rt::with(|rt| rt.try_acquire(self.id, false))
    }

    /// `down_write_trylock`.
    pub async fn down_write_trylock(self) -> bool {
        rt::schedule_point(Op::new(OpKind::TryLock, self.id)).await;
        rt::with(|rt| rt.try_acquire(self.id, true))
    }

    /// `up_read`. Precondition: the current task holds it for read.
    pub fn up_read(self) {
        rt::with(|rt| rt.rw_up(self.id, false));
    }

    /// `up_write`. Precondition: the current task holds it for write.
    pub fn up_write(self) {
        rt::with(|rt| rt.rw_up(self.id, true));
    }

    /// `rwsem_is_locked`.
    pub fn is_locked(self) -> bool {
        rt::with(|rt| match &rt.obj(self.id).st {
            ObjState::RwSem(rw) => rw.writer.is_some() || rw.readers != 0,
            _ => false,
        })
    }

    /// Whether the current task holds it in either mode (`inode_is_locked`
    /// style checks use this).
    pub fn is_held_by_current(self) -> bool {
        rt::with(|rt| {
            let t = rt.cur();
            rt.holds(t, self.id)
        })
    }

    /// Whether the current task holds it for write.
    pub fn is_write_held_by_current(self) -> bool {
        rt::with(|rt| {
            let t = rt.cur();
            matches!(&rt.obj(self.id).st, ObjState::RwSem(rw) if rw.writer == Some(t))
        })
    }

    /// `lockdep_assert_held` (either mode): a kernel warning outcome when
    /// the current task does not hold it.
    pub fn assert_held(self) {
        if !self.is_held_by_current() {
            rt::with(|rt| {
                let n = rt.obj_label(self.id);
                rt.warn("lockdep_assert_held", format!("{n} not held"));
            });
        }
    }
}
