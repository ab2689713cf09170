//! What kernel code calls during a run besides the primitives: spawning
//! tasks, preemption and crash points, scheduler-chosen values, reporting
//! WARN/BUG sites and user-visible errors, and `kfn!` scopes.

use std::borrow::Cow;
use std::future::Future;

use super::oracle::{Outcome, OutcomeKind};
use super::rt::{self, Op, OpKind, TaskFuture, TaskId};
use super::trace::EventKind;

/// Spawns a task (from the world closure or from a running task, e.g. a
/// bio completion) in a process of its own name.
pub fn spawn(
    name: impl Into<crate::sim::rt::ObjName>,
    fut: impl Future<Output = ()> + 'static,
) -> TaskId {
    let name = name.into();
    spawn_in(name.to_cow(), name, fut)
}

/// Spawns a task in simulated process `process`.
pub fn spawn_in(
    process: impl Into<Cow<'static, str>>,
    name: impl Into<crate::sim::rt::ObjName>,
    fut: impl Future<Output = ()> + 'static,
) -> TaskId {
    let fut: TaskFuture = Box::pin(fut);
    rt::with(|rt| rt.spawn(process.into(), name.into(), fut))
}

/// `cond_resched`-like explicit preemption point: an access to the
/// anonymous shared memory (all preempt points conflict with each other).
pub async fn preempt_point() {
    rt::schedule_point(Op::new(OpKind::Yield, 0)).await;
    rt::with(|rt| rt.access(0, rt::clock::Access::Write));
}

/// A crash point: the scheduler may crash the system here (a choice like
/// any other); if it does not, the task continues.
pub async fn crash_point(name: &'static str) {
    rt::with(|rt| {
        let t = rt.cur();
        rt.tasks[t as usize].crash_point = name;
        let n = rt.nobjs;
        rt.hb.access_all(n, rt::clock::Access::Read);
    });
    rt::schedule_point(Op::new(OpKind::CrashPoint, rt::NO_OBJ)).await;
}

/// A value chosen by the scheduler in `0..n` (torn writes, random sizes):
/// explored exhaustively by DFS, recorded in the schedule.
pub async fn nondet(n: u32) -> u32 {
    let n = n.max(1);
    rt::schedule_point(Op {
        kind: OpKind::Choose,
        obj: rt::NO_OBJ,
        arg: n,
    })
    .await;
    rt::with(|rt| {
        let t = rt.cur();
        rt.tasks[t as usize].chosen_value
    })
}

/// `WARN_ON(cond)` at `site`: records a kernel-warning outcome when `cond`
/// holds and returns `cond`.
pub fn warn_on(cond: bool, site: &str) -> bool {
    if cond {
        rt::with(|rt| rt.warn(site, String::new()));
    }
    cond
}

/// `BUG()` at `site`: records a kernel-bug outcome and halts the run.
pub async fn bug(site: &str) {
    rt::with(|rt| {
        let mut o = Outcome::new(OutcomeKind::KernelBug, rt.step);
        o.site = site.to_string();
        if let Some(t) = rt.current {
            o.tasks.push(rt.tasks[t as usize].name.to_string());
        }
        if rt.opts.trace {
            rt.event(super::trace::EventKind::Bug {
                site: site.to_string(),
            });
        }
        rt.outcomes.push(o);
        rt.halt = true;
        // The halt ends every other task where it stands: the run's end
        // state (what the end-of-run checks read) is whatever they had done
        // by now, and none of their next steps will run. So this step is
        // dependent with every step of theirs, before or after it: it
        // writes every object.
        let n = rt.nobjs;
        rt.hb.access_all(n, rt::clock::Access::Write);
    });
    rt::park(rt::NO_OBJ).await;
}

/// A kernel thread's wait for work (kjournald2's `wait_event` on
/// `j_wait_commit`): `wq.wait_event(cond)`, during which the task does not
/// keep the execution alive: once every other task has finished (or is
/// idle too), the run is complete. A deadlock among the other tasks still
/// lists it as blocked.
pub async fn idle_wait(wq: super::WaitQueue, cond: impl FnMut() -> bool) {
    rt::with(|rt| {
        let t = rt.cur();
        rt.task(t).idle = true;
    });
    wq.wait_event(cond).await;
    rt::with(|rt| {
        let t = rt.cur();
        rt.task(t).idle = false;
    });
}

/// Reports a user-visible syscall result (e.g. `errno = "EAGAIN"`) at `site`.
pub fn report_error(site: &str, errno: &str, expected: bool) {
    rt::with(|rt| {
        let mut o = Outcome::new(OutcomeKind::UserVisibleError, rt.step);
        o.expected = expected;
        o.site = site.to_string();
        o.message = errno.to_string();
        if let Some(t) = rt.current {
            o.tasks.push(rt.tasks[t as usize].name.to_string());
        }
        rt.event(EventKind::Error {
            site: site.to_string(),
            errno: errno.to_string(),
        });
        rt.outcomes.push(o);
    })
}

/// Reports any structured outcome during the run (step filled in).
pub fn report(mut o: Outcome) {
    rt::with(|rt| {
        o.step = rt.step;
        rt.outcomes.push(o);
    })
}

/// A note in the trace (no effect otherwise).
pub fn note(text: impl Into<String>) {
    rt::with(|rt| {
        if rt.opts.trace {
            rt.event(EventKind::Note { text: text.into() });
        }
    })
}

/// The current task's id.
pub fn current_task() -> TaskId {
    rt::with(|rt| rt.cur())
}

/// The current task's name.
pub fn current_task_name() -> String {
    rt::with(|rt| {
        let t = rt.cur();
        rt.tasks[t as usize].name.to_string()
    })
}

/// The current step number.
pub fn current_step() -> u32 {
    rt::with(|rt| rt.step)
}

/// Scope guard of a kernel function (see [`kfn!`](crate::kfn)).
pub struct KfnGuard(&'static str);

/// Enters kernel function `name` on the current task's stack until the
/// guard drops.
pub fn kfn_enter(name: &'static str) -> KfnGuard {
    rt::with(|rt| {
        if let Some(t) = rt.current {
            rt.tasks[t as usize].kfn.push(name);
            rt.event(EventKind::Enter {
                func: name.to_string(),
            });
        }
    });
    KfnGuard(name)
}

impl Drop for KfnGuard {
    fn drop(&mut self) {
        let name = self.0;
        rt::try_with(|rt| {
            if let Some(t) = rt.current {
                rt.event(EventKind::Exit {
                    func: name.to_string(),
                });
                let stack = &mut rt.tasks[t as usize].kfn;
                if let Some(i) = stack.iter().rposition(|f| *f == name) {
                    stack.truncate(i);
                }
            }
        })
    }
}

/// `let _f = kfn!("ext4_page_mkwrite");` marks the rest of the scope as
/// running inside that kernel function (trace stacks, lockdep sites).
#[macro_export]
macro_rules! kfn {
    ($name:expr) => {
        $crate::sim::kfn_enter($name)
    };
}
