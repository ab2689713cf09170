use crate::sim::rt::clock::Access;
use crate::sim::rt::object::{ObjState, COMPLETE_ALL};
use crate::sim::rt::{self, ObjId, Op, OpKind};

/// A `struct completion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    id: ObjId,
}

impl Completion {
    /// `init_completion`.
    pub fn new(name: impl Into<crate::sim::rt::ObjName>) -> Completion {
        let id = rt::with(|rt| {
            rt.new_object(name.into(), "completion", ObjState::Completion { done: 0 })
        });
        Completion { id }
    }

    /// `complete`: lets one waiter through.
    pub fn complete(self) {
        rt::with(|rt| {
            rt.access(self.id, Access::Write);
            if let ObjState::Completion { done } = &mut rt.obj(self.id).st {
                if *done < COMPLETE_ALL {
                    *done += 1;
                }
            }
            rt.signal(self.id, "complete");
        })
    }

    /// `complete_all`: lets every waiter through, now and later.
    pub fn complete_all(self) {
        rt::with(|rt| {
            rt.access(self.id, Access::Write);
            if let ObjState::Completion { done } = &mut rt.obj(self.id).st {
                *done = COMPLETE_ALL;
            }
            rt.signal(self.id, "complete_all");
        })
    }

    /// `completion_done`.
    pub fn is_done(self) -> bool {
        rt::with(|rt| matches!(rt.obj(self.id).st, ObjState::Completion { done } if done > 0))
    }

    /// `wait_for_completion`.
    pub async fn wait(self) {
        rt::schedule_point(Op::new(OpKind::WaitCompletion, self.id)).await;
        rt::with(|rt| {
            rt.access(self.id, Access::Write);
            if let ObjState::Completion { done } = &mut rt.obj(self.id).st {
                if *done < COMPLETE_ALL {
                    *done = done.saturating_sub(1);
                }
            }
        })
    }
}

/// A `wait_queue_head_t` used with `wait_event` / `wake_up`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitQueue {
    id: ObjId,
}

impl WaitQueue {
    /// `init_waitqueue_head`.
    pub fn new(name: impl Into<crate::sim::rt::ObjName>) -> WaitQueue {
        let id = rt::with(|rt| rt.new_object(name.into(), "wait queue", ObjState::WaitQueue));
        WaitQueue { id }
    }

    /// `wait_event(wq, cond)`: returns once `cond()` is true, sleeping until
    /// a `wake_up` between checks. `cond` must only read state that the
    /// waker changes before calling `wake_up` (as in the kernel).
    pub async fn wait_event(self, mut cond: impl FnMut() -> bool) {
        rt::schedule_point(Op::new(OpKind::WaitEvent, self.id)).await;
        loop {
            rt::with(|rt| rt.access(self.id, Access::Write));
            if cond() {
                return;
            }
            rt::park(self.id).await;
        }
    }

    /// `wake_up_all` (and `wake_up`: every sleeper re-checks its condition).
    pub fn wake_up(self) {
        rt::with(|rt| {
            rt.access(self.id, Access::Write);
            rt.signal(self.id, "wake_up");
            rt.wake_all(self.id);
        })
    }
}
