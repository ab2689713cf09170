//! Public primitives with Linux semantics: thin `Copy` handles over the
//! internal model in `rt`. Every blocking operation is an `.await` (a point
//! where the scheduler may run another task); releases are plain calls.
//! Each primitive is tagged with a lock class (lockdep's name) and records
//! acquire/release/block/wake in the trace.
//!
//! Handles must be created inside an execution (in the world closure or a
//! task) and are only valid in that execution.

mod atomic;
mod bio;
mod completion;
mod jbd2;
mod mutex;
mod page;
mod percpu_rwsem;
mod rwsem;
mod spinlock;

pub use atomic::{
    smp_mb, smp_mb__after_atomic, smp_mb__before_atomic, smp_rmb, smp_wmb, AtomicT, Location,
    MemoryModel,
};
pub use bio::{submit_bio, submit_bio_blocks, BioId};
pub use completion::{Completion, WaitQueue};
pub use jbd2::{Handle, Journal};
pub use mutex::Mutex;
pub use page::Page;
pub use percpu_rwsem::PercpuRwSemaphore;
pub use rwsem::RwSemaphore;
pub use spinlock::SpinLock;

pub use crate::sim::rt::object::{RwWake, TState};
