//! Oracles: every finding is an [`Outcome`] (kind, tasks, locks, blocks,
//! step), never only a string. Deadlock and lockdep are built in; the data
//! oracles (stale data, lost write, fsck, ...) are supplied by the scenario
//! through [`crate::sim::World::on_end`] and the reporting functions kernel
//! code calls during a run ([`crate::sim::warn_on`], [`crate::sim::report`]).

pub mod deadlock;
pub mod lockdep;

use serde::{Deserialize, Serialize};

/// The kind of a finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum OutcomeKind {
    /// No task can run and some are blocked.
    Deadlock,
    /// Two lock classes taken in both orders, or against the declared order.
    LockOrderInversion,
    StaleData,
    LostWrite,
    Fsck,
    /// A WARN_ON site fired (the run continues).
    KernelWarning,
    /// A BUG_ON site fired (the run stops).
    KernelBug,
    /// A syscall result the user sees (EAGAIN, EBUSY, SIGBUS...).
    UserVisibleError,
    /// The execution hit the step limit (a livelock or a too small limit).
    StepLimit,
    /// Anything else a scenario wants to report, by name.
    Other(String),
}

/// A structured finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    /// Task names involved.
    pub tasks: Vec<String>,
    /// Lock classes (or lock instances) involved.
    pub locks: Vec<String>,
    /// Disk blocks involved.
    pub blocks: Vec<u64>,
    /// Step at which it was detected.
    pub step: u32,
    /// Site: kernel function / WARN site / errno name.
    pub site: String,
    pub message: String,
    pub detail: Option<Detail>,
    /// A user-visible error the syscall's man page lists for the situation
    /// the program put itself in (ENOSPC on a full filesystem, SIGBUS on a
    /// mapping past EOF, EINVAL on an unaligned O_DIRECT request): reported,
    /// but not a failure of the kernel. Decided by the kernel layer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub expected: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Kind-specific structure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Detail {
    Deadlock(deadlock::DeadlockReport),
    Lockdep(Box<lockdep::LockdepReport>),
}

/// What makes two outcomes "the same" for statistics: everything but the
/// step, the message and the detail; task and lock lists are sorted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OutcomeKey {
    pub kind: OutcomeKind,
    pub tasks: Vec<String>,
    pub locks: Vec<String>,
    pub blocks: Vec<u64>,
    pub site: String,
    /// See [`Outcome::expected`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub expected: bool,
}

impl Outcome {
    /// An outcome of `kind` at `step` with nothing else filled in.
    pub fn new(kind: OutcomeKind, step: u32) -> Outcome {
        Outcome {
            kind,
            tasks: Vec::new(),
            locks: Vec::new(),
            blocks: Vec::new(),
            step,
            site: String::new(),
            message: String::new(),
            detail: None,
            expected: false,
        }
    }

    /// The deduplication key.
    pub fn key(&self) -> OutcomeKey {
        let mut tasks = self.tasks.clone();
        tasks.sort();
        tasks.dedup();
        let mut locks = self.locks.clone();
        locks.sort();
        locks.dedup();
        let mut blocks = self.blocks.clone();
        blocks.sort_unstable();
        blocks.dedup();
        // Which task first showed a lock dependency depends on exploration
        // order; an inversion is identified by its class pair alone.
        let lockdep = self.kind == OutcomeKind::LockOrderInversion;
        if lockdep {
            tasks.clear();
        }
        OutcomeKey {
            kind: self.kind.clone(),
            tasks,
            locks,
            blocks,
            site: if lockdep {
                String::new()
            } else {
                self.site.clone()
            },
            expected: self.expected,
        }
    }
}
