//! `atomic_t`, `WRITE_ONCE`/`READ_ONCE` on it, and memory barriers, under
//! the execution's memory model ([`MemoryModel`], `RunOptions::memory`).
//!
//! Only `atomic_t` values are weak: every other piece of kernel state is
//! reached through a simulated lock or a [`Location`] and is sequentially
//! consistent. The weak models are store-buffer models: each task has a
//! buffer of stores not yet visible to other tasks (it reads its own
//! through it); the scheduler chooses when a buffered store becomes
//! visible (the task's flusher actor, a choice explored and replayed like
//! any other; under LKMM also *which* store, a value choice), and a store
//! is flushed at the latest `store_window` steps of its task after it was
//! made, or when the task ends.
//!
//! - [`MemoryModel::Sc`]: every store is visible at once.
//! - [`MemoryModel::X86`] (x86-TSO, Intel SDM vol. 3 §8.2 and
//!   arch/x86/include/asm/barrier.h, atomic.h): plain stores (`atomic_set`,
//!   `WRITE_ONCE`, `smp_store_release`) are buffered in FIFO order; every
//!   atomic RMW is a `lock`-prefixed instruction, a full barrier, so
//!   `atomic_inc`/`atomic_dec`/`atomic_add` drain the buffer and act on
//!   memory (they are never buffered); `smp_mb` drains; `smp_wmb`,
//!   `smp_rmb`, `smp_mb__before_atomic`, `smp_mb__after_atomic` are
//!   compiler barriers only; lock acquisitions and the releases of
//!   sleeping locks are locked RMWs and drain.
//! - [`MemoryModel::Lkmm`] (tools/memory-model/linux-kernel.cat,
//!   Documentation/atomic_t.txt): non-value-returning RMWs (`atomic_inc`,
//!   `atomic_dec`, `atomic_add`) are unordered: buffered (as a delta, so
//!   concurrent increments are never lost); value-returning RMWs
//!   (`atomic_add_return`, `atomic_dec_and_test`...) are fully ordered
//!   (drain, then act on memory); `smp_mb` drains; `smp_mb__after_atomic`
//!   orders the task's last RMW and everything before it against what
//!   follows (flushes the buffer up to that RMW: linux-kernel.cat's
//!   `[M]; po?; [RMW]; fencerel(After-atomic); [M]`);
//!   `smp_mb__before_atomic` makes the next RMW drain the buffer first
//!   (`[M]; fencerel(Before-atomic); [RMW]; po?; [M]`); stores to different
//!   locations become visible in any order (a value choice) unless an
//!   `smp_wmb` or a release (`smp_store_release`) separates them; a lock
//!   acquisition is an acquire (no flush); a lock release flushes.
//!
//! Known deviations (each checked by `tests/sim_litmus.rs` against the
//! kernel's litmus tests, and why no built-in verdict depends on them in
//! docs/fidelity.md): loads are never reordered with each other (so LKMM's
//! `MP+wmbonceonce` without `smp_rmb` is Never here, Sometimes in LKMM) and
//! a store never becomes visible before an earlier load of its task
//! (load buffering, `LB+poonceonces`, is Never here, Sometimes in LKMM);
//! under LKMM a lock release makes earlier stores visible to every task,
//! not only to the lock's next owner (stronger than a release). Each
//! deviation forbids behaviours LKMM allows: a "found" verdict under the
//! model is found under LKMM; only an "absent" verdict could need them.

use serde::{Deserialize, Serialize};

use crate::sim::rt::clock::Access;
use crate::sim::rt::object::{ObjState, StoreOp};
use crate::sim::rt::{self, Buffered, ObjId, Op, OpKind, Rt};

/// The memory model of an execution (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemoryModel {
    /// Sequential consistency.
    #[default]
    Sc,
    /// x86-TSO: stores buffered FIFO, locked RMWs and `smp_mb` drain.
    X86,
    /// The Linux kernel memory model, as a store-buffer approximation.
    Lkmm,
}

impl MemoryModel {
    /// Whether stores may be buffered.
    pub fn is_weak(self) -> bool {
        self != MemoryModel::Sc
    }
}

/// An `atomic_t` (64-bit values for convenience).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtomicT {
    id: ObjId,
}

fn read_own(rt: &Rt, id: ObjId) -> i64 {
    let mut v = match rt.objects[id as usize].st {
        ObjState::Atomic { value } => value,
        _ => 0,
    };
    if let Some(t) = rt.current {
        for b in rt.tasks[t as usize].store_buf.iter() {
            if b.obj == id {
                v = b.op.apply(v);
            }
        }
    }
    v
}

/// Buffers a store of the current task (weak models).
fn buffer(rt: &mut Rt, id: ObjId, op: StoreOp) -> u64 {
    let t = rt.cur();
    let task = &mut rt.tasks[t as usize];
    let at_step = task.steps;
    let seq = task.store_seq;
    task.store_seq += 1;
    let epoch = task.store_epoch;
    let clock = rt.hb.current_clock();
    rt.tasks[t as usize].store_buf.push_back(Buffered {
        obj: id,
        op,
        at_step,
        clock,
        seq,
        epoch,
    });
    seq
}

/// The store acts on memory now.
fn store_now(rt: &mut Rt, id: ObjId, op: StoreOp) {
    rt.access(id, Access::Write);
    if let ObjState::Atomic { value } = &mut rt.obj(id).st {
        *value = op.apply(*value);
    }
}

/// A plain store (`atomic_set`, `WRITE_ONCE`).
fn store(rt: &mut Rt, id: ObjId, op: StoreOp) {
    if rt.opts.memory.is_weak() {
        buffer(rt, id, op);
    } else {
        store_now(rt, id, op);
    }
}

/// A non-value-returning RMW (`atomic_add`, `atomic_inc`, `atomic_dec`).
fn rmw_unordered(rt: &mut Rt, id: ObjId, d: i64) {
    let t = rt.cur();
    match rt.opts.memory {
        MemoryModel::Sc => store_now(rt, id, StoreOp::Add(d)),
        MemoryModel::X86 => {
            // `lock incl`: a full barrier, never buffered.
            rt.drain_store_buffer(t);
            store_now(rt, id, StoreOp::Add(d));
        }
        MemoryModel::Lkmm => {
            if std::mem::take(&mut rt.tasks[t as usize].before_atomic) {
                rt.drain_store_buffer(t);
            }
            let seq = buffer(rt, id, StoreOp::Add(d));
            rt.tasks[t as usize].last_rmw_seq = Some(seq);
        }
    }
}

impl AtomicT {
    /// `atomic_set(v, init)` at creation.
    pub fn new(name: impl Into<crate::sim::rt::ObjName>, init: i64) -> AtomicT {
        let id =
            rt::with(|rt| rt.new_object(name.into(), "atomic_t", ObjState::Atomic { value: init }));
        AtomicT { id }
    }

    /// `atomic_read` / `READ_ONCE`.
    pub async fn read(self) -> i64 {
        rt::schedule_point(Op::new(OpKind::AtomicRead, self.id)).await;
        rt::with(|rt| {
            rt.access(self.id, Access::Read);
            read_own(rt, self.id)
        })
    }

    /// `smp_load_acquire`: loads are never reordered in these models, so
    /// an acquire load is a load.
    pub async fn read_acquire(self) -> i64 {
        self.read().await
    }

    /// `atomic_set` / `WRITE_ONCE`.
    pub async fn set(self, v: i64) {
        rt::schedule_point(Op::new(OpKind::AtomicWrite, self.id)).await;
        rt::with(|rt| store(rt, self.id, StoreOp::Set(v)));
    }

    /// `smp_store_release`: every earlier access is ordered before it
    /// (LKMM: a new store epoch; x86: a plain, FIFO-buffered store).
    pub async fn set_release(self, v: i64) {
        rt::schedule_point(Op::new(OpKind::AtomicWrite, self.id)).await;
        rt::with(|rt| {
            if rt.opts.memory == MemoryModel::Lkmm {
                let t = rt.cur();
                rt.tasks[t as usize].store_epoch += 1;
            }
            store(rt, self.id, StoreOp::Set(v))
        });
    }

    /// `atomic_add` (non-value-returning: unordered under LKMM, a full
    /// barrier on x86).
    pub async fn add(self, d: i64) {
        rt::schedule_point(Op::new(OpKind::AtomicWrite, self.id)).await;
        rt::with(|rt| rmw_unordered(rt, self.id, d));
    }

    /// `atomic_inc`.
    pub async fn inc(self) {
        self.add(1).await
    }

    /// `atomic_dec`.
    pub async fn dec(self) {
        self.add(-1).await
    }

    /// `atomic_add_return`: fully ordered (drains the store buffer).
    pub async fn add_return(self, d: i64) -> i64 {
        rt::schedule_point(Op::new(OpKind::AtomicRmw, self.id)).await;
        rt::with(|rt| {
            let t = rt.cur();
            rt.drain_store_buffer(t);
            rt.tasks[t as usize].before_atomic = false;
            rt.access(self.id, Access::Write);
            match &mut rt.obj(self.id).st {
                ObjState::Atomic { value } => {
                    *value = value.wrapping_add(d);
                    *value
                }
                _ => 0,
            }
        })
    }

    /// `atomic_inc_return`.
    pub async fn inc_return(self) -> i64 {
        self.add_return(1).await
    }

    /// `atomic_dec_and_test`.
    pub async fn dec_and_test(self) -> bool {
        self.add_return(-1).await == 0
    }

    /// The value as the current task would read it, without a scheduling
    /// point (for oracles at the end of a run and for assertions).
    pub fn peek(self) -> i64 {
        rt::with(|rt| read_own(rt, self.id))
    }
}

fn full_barrier() {
    rt::with(|rt| {
        if let Some(t) = rt.current {
            rt.drain_store_buffer(t);
        }
    })
}

/// `smp_mb`: every store of the current task before it becomes visible.
pub fn smp_mb() {
    full_barrier()
}

/// `smp_mb__after_atomic`: under LKMM, the last non-value-returning RMW
/// and every store before it become visible before what follows; on x86
/// a compiler barrier (the RMW was already a full barrier).
#[allow(non_snake_case)]
pub fn smp_mb__after_atomic() {
    rt::with(|rt| {
        let Some(t) = rt.current else { return };
        if rt.opts.memory == MemoryModel::Lkmm {
            if let Some(seq) = rt.tasks[t as usize].last_rmw_seq {
                rt.flush_through(t, seq);
            }
        }
    })
}

/// `smp_mb__before_atomic`: under LKMM, everything before it is ordered
/// before the next RMW (which drains the buffer first); on x86 a
/// compiler barrier.
#[allow(non_snake_case)]
pub fn smp_mb__before_atomic() {
    rt::with(|rt| {
        let Some(t) = rt.current else { return };
        if rt.opts.memory == MemoryModel::Lkmm {
            rt.tasks[t as usize].before_atomic = true;
        }
    })
}

/// `smp_wmb`: stores before it become visible before stores after it
/// (LKMM: a new store epoch; x86: stores are FIFO already).
pub fn smp_wmb() {
    rt::with(|rt| {
        let Some(t) = rt.current else { return };
        if rt.opts.memory == MemoryModel::Lkmm {
            rt.tasks[t as usize].store_epoch += 1;
        }
    })
}

/// `smp_rmb`: loads are already in order in these models.
pub fn smp_rmb() {}

/// A plain shared location (a page's bytes, a block's contents, a field
/// read without a lock): its reads and writes are scheduling points and
/// the DPOR dependence relation sees them (reads commute with reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    id: ObjId,
}

impl Location {
    /// A location named e.g. "block 1234" or "EXT4_I(inode)->i_flags".
    pub fn new(name: impl Into<crate::sim::rt::ObjName>) -> Location {
        let id = rt::with(|rt| rt.new_object(name.into(), "location", ObjState::Plain));
        Location { id }
    }

    /// The location of disk block `block` (one per block per execution;
    /// bios complete on it).
    pub fn block(block: u64) -> Location {
        Location {
            id: rt::with(|rt| rt.block_obj(block)),
        }
    }

    /// A read (scheduling point); the caller then reads its own state.
    pub async fn read(self) {
        rt::schedule_point(Op::new(OpKind::Load, self.id)).await;
        rt::with(|rt| rt.access(self.id, Access::Read));
    }

    /// A write (scheduling point); the caller then writes its own state.
    pub async fn write(self) {
        rt::schedule_point(Op::new(OpKind::Store, self.id)).await;
        rt::with(|rt| rt.access(self.id, Access::Write));
    }

    /// A read inside the current step, without a scheduling point: for
    /// state a step reads as part of what it already does (the data
    /// oracles' log), so that the dependence relation orders the step
    /// against the writes of it. No-op outside an execution.
    pub fn note_read(self) {
        rt::try_with(|rt| rt.access(self.id, Access::Read));
    }

    /// A write inside the current step, without a scheduling point (see
    /// [`Location::note_read`]).
    pub fn note_write(self) {
        rt::try_with(|rt| rt.access(self.id, Access::Write));
    }
}
