//! The deterministic kernel simulator: executor, Linux-semantics
//! primitives, schedulers, explorer, oracles and traces.
//!
//! Kernel paths are `async fn`s; every point where another task may
//! interleave is an `.await` on a primitive. A single-threaded executor
//! polls one task at a time and a [`sched::Scheduler`] decides who runs
//! next; the list of decisions is the schedule, and its token replays the
//! run exactly (natively and in wasm: no threads, clocks or OS randomness).
//!
//! # Writing a model
//! A [`Model`] is a world factory run afresh for every execution: create
//! the primitives ([`Mutex`], [`RwSemaphore`], [`Page`], [`Journal`],
//! [`AtomicT`], [`Completion`], [`WaitQueue`], [`Location`]; all `Copy`
//! handles), share plain data through `Rc<RefCell<..>>`, spawn tasks with
//! [`World::spawn`] / [`World::spawn_in`] (a simulated process groups
//! tasks), and register end-of-run data oracles with [`World::on_end`].
//! Kernel code rules:
//! - code between two `.await`s runs atomically; touch shared state only
//!   under a simulated lock, through [`Location`]/[`AtomicT`], or after a
//!   [`preempt_point`] (otherwise DPOR may miss interleavings);
//! - mark kernel functions with `let _f = kfn!("ext4_page_mkwrite");`
//!   (trace stacks, lockdep sites, deadlock reports);
//! - assert lock preconditions with `assert_held` / `is_held_by_current`,
//!   report `WARN_ON` sites with [`warn_on`], syscall errors with
//!   [`report_error`], `BUG()` with [`bug`];
//! - bios complete later as their own tasks ([`submit_bio`]); a crash is a
//!   scheduler choice at [`crash_point`]; [`nondet`] asks the scheduler
//!   for a value (torn writes).
//!
//! # Exploring
//! [`explore()`] with an [`ExploreConfig`]: [`Strategy::Random`] (PCG32),
//! [`Strategy::Pct`], or [`Strategy::Dfs`] (naive or DPOR, preemption
//! bound), an execution budget, shard `(I, N)`, weak memory, and an
//! [`Observer`] for progress and cancellation. The [`Report`] has
//! [`Stats`] and one [`OutcomeRecord`] per distinct outcome (first replay
//! token, fewest-preemption token). [`replay`] re-runs a token with the
//! trace on (`Execution::trace`, `Trace::to_chrome_json` for Perfetto,
//! `Trace::hash`); [`sched::ManualSession`] lets a user pick each step.
//!
//! ```
//! use ext4lab::sim::*;
//! use std::{cell::RefCell, rc::Rc};
//!
//! let model = Model::new(|w| {
//!     let a = Mutex::new("A");
//!     let n = Rc::new(RefCell::new(0));
//!     for i in 0..2 {
//!         let n = n.clone();
//!         w.spawn(format!("T{i}"), async move {
//!             a.lock().await;
//!             *n.borrow_mut() += 1;
//!             a.unlock();
//!         });
//!     }
//!     w.on_end(move |_end| {
//!         assert_eq!(*n.borrow(), 2);
//!         vec![]
//!     });
//! });
//! let report = explore(&model, &ExploreConfig::default(), &mut NoObserver);
//! assert!(report.stats.exhausted);
//! assert!(report.outcomes.is_empty());
//! ```

pub mod api;
pub mod exec;
pub mod explore;
pub mod merge;
pub mod models;
pub mod oracle;
pub mod rng;
pub(crate) mod rt;
pub mod sched;
pub mod sync;
pub mod token;
pub mod trace;

pub use api::{
    bug, crash_point, current_step, current_task, current_task_name, idle_wait, kfn_enter, nondet,
    note, preempt_point, report, report_error, spawn, spawn_in, warn_on, KfnGuard,
};
pub use exec::{
    Divergence, EndKind, EndView, Execution, Executor, Model, RunOptions, World,
    DEFAULT_STORE_WINDOW,
};
pub use explore::{
    explore, explore_from, replay, replay_schedule, Checkpoint, ExploreConfig, NoObserver,
    Observer, OutcomeRecord, Report, ResumeError, Stats, Strategy, CHECKPOINT_VERSION,
};
pub use merge::{check_shard_set, merge_reports, MergeError};
pub use oracle::lockdep::{AcquireKind, LockOrder};
pub use oracle::{Detail, Outcome, OutcomeKey, OutcomeKind};
pub use rt::{Actor, Mode, ObjName, TaskId, MAX_TASKS};
pub use sync::*;
pub use token::Schedule;
