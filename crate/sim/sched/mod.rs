//! Schedulers: who runs next. The executor reaches strategies only through
//! [`Scheduler`]; one strategy per file.
//!
//! A decision is either a scheduling decision (pick one of the enabled
//! actors: tasks, store-buffer flushers, the crash) or a value decision
//! (`nondet(n)`: pick a value below n). Either way the answer is a `u32`
//! and the list of answers is the schedule.

pub mod dfs;
pub mod manual;
pub mod pct;
pub mod random;
pub mod replay;

pub use dfs::{Dfs, DfsConfig};
pub use manual::ManualSession;
pub use pct::Pct;
pub use random::RandomScheduler;
pub use replay::Replay;

use crate::sim::rt::{Actor, ActorSet, TaskId};

/// What is being decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionKind {
    /// Pick an actor from `candidates`.
    Schedule,
    /// Pick a value below `n` for the running task.
    Value(u32),
}

/// One decision point.
#[derive(Clone, Copy, Debug)]
pub struct Decision<'a> {
    /// Index of this decision in the schedule.
    pub index: u32,
    /// The step about to run.
    pub step: u32,
    pub kind: DecisionKind,
    /// Enabled actors (for `Schedule`), increasing.
    pub candidates: &'a [Actor],
    pub set: ActorSet,
    /// The task that ran the previous step (switching away from it while it
    /// is still enabled is a preemption).
    pub last_task: Option<TaskId>,
    /// Preemptions so far in this execution.
    pub preemptions: u32,
}

impl Decision<'_> {
    /// Whether choosing `a` costs a preemption.
    pub fn is_preemption(&self, a: Actor) -> bool {
        match (self.last_task, a.as_task()) {
            (Some(last), Some(t)) => t != last && self.set.contains(Actor::task(last)),
            _ => false,
        }
    }

    /// The non-preemptive default: keep running the last task if it can
    /// run, otherwise the lowest enabled task, otherwise the first actor.
    pub fn default_choice(&self) -> Actor {
        if let Some(last) = self.last_task {
            if self.set.contains(Actor::task(last)) {
                return Actor::task(last);
            }
        }
        self.candidates
            .iter()
            .copied()
            .find(|a| a.as_task().is_some())
            .unwrap_or(self.candidates[0])
    }
}

/// A scheduling strategy.
pub trait Scheduler {
    /// Called before execution `index` of an exploration.
    fn begin(&mut self, _index: u64) {}

    /// The answer to `d` (an actor id for `Schedule`, a value for `Value`),
    /// or `None` to stop the execution here.
    fn choose(&mut self, d: &Decision<'_>) -> Option<u32>;

    /// Whether the execution this scheduler just stopped (by answering
    /// `None`) will be discarded, so its end-of-run checks must not run.
    fn discards_stopped_run(&self) -> bool {
        false
    }

    /// Whether the execution that just ended on its own (an end state, not
    /// a stop) will be discarded (another shard's), so its end-of-run
    /// checks need not run.
    fn discards_finished_run(&mut self) -> bool {
        false
    }
}
