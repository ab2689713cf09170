//! `atomic_t` and memory barriers, with an optional weak-memory mode.
//!
//! Weak-memory mode (`RunOptions::weak_memory = Some(k)`) is TSO-like: each
//! task has a FIFO store buffer. `atomic_set` and the non-value-returning
//! RMWs (`atomic_inc`, `atomic_dec`, `atomic_add`) go into the buffer (an
//! RMW is buffered as a delta, so concurrent increments are never lost);
//! the task itself reads through its buffer, other tasks read memory. A
//! buffered store becomes visible when the scheduler runs that task's
//! flusher actor (a choice like any other, explored and replayed), at a
//! full barrier (`smp_mb`, `smp_mb__before/after_atomic`), at a
//! value-returning RMW, at any lock operation, when the task ends, or at
//! the latest `k` steps of its task after the store. Only store->load
//! reordering (the store-buffering pattern) is modelled: `smp_wmb` and
//! `smp_rmb` are no-ops because buffers are FIFO and loads are in order.
//! Without the mode every operation is sequentially consistent.

use std::borrow::Cow;

use crate::sim::rt::clock::Access;
use crate::sim::rt::object::{ObjState, StoreOp};
use crate::sim::rt::{self, Buffered, ObjId, Op, OpKind, Rt};

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

fn store(rt: &mut Rt, id: ObjId, op: StoreOp) {
    if rt.opts.weak_memory.is_some() {
        let t = rt.cur();
        let at_step = rt.tasks[t as usize].steps;
        let clock = rt.hb.current_clock();
        rt.tasks[t as usize].store_buf.push_back(Buffered {
            obj: id,
            op,
            at_step,
            clock,
        });
    } else {
        rt.access(id, Access::Write);
        if let ObjState::Atomic { value } = &mut rt.obj(id).st {
            *value = op.apply(*value);
        }
    }
}

impl AtomicT {
    /// `atomic_set(v, init)` at creation.
    pub fn new(name: impl Into<Cow<'static, str>>, init: i64) -> AtomicT {
        let id =
            rt::with(|rt| rt.new_object(name.into(), "atomic_t", ObjState::Atomic { value: init }));
        AtomicT { id }
    }

    /// `atomic_read`.
    pub async fn read(self) -> i64 {
        rt::schedule_point(Op::new(OpKind::AtomicRead, self.id)).await;
        rt::with(|rt| {
            rt.access(self.id, Access::Read);
            read_own(rt, self.id)
        })
    }

    /// `atomic_set`.
    pub async fn set(self, v: i64) {
        rt::schedule_point(Op::new(OpKind::AtomicWrite, self.id)).await;
        rt::with(|rt| store(rt, self.id, StoreOp::Set(v)));
    }

    /// `atomic_add` (no ordering; buffered in weak-memory mode).
    pub async fn add(self, d: i64) {
        rt::schedule_point(Op::new(OpKind::AtomicWrite, self.id)).await;
        rt::with(|rt| store(rt, self.id, StoreOp::Add(d)));
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

/// `smp_mb__after_atomic`: orders a preceding non-returning atomic (a full
/// barrier here).
#[allow(non_snake_case)]
pub fn smp_mb__after_atomic() {
    full_barrier()
}

/// `smp_mb__before_atomic`.
#[allow(non_snake_case)]
pub fn smp_mb__before_atomic() {
    full_barrier()
}

/// `smp_wmb`: stores are already ordered among themselves (FIFO buffer).
pub fn smp_wmb() {}

/// `smp_rmb`: loads are already in order.
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
    pub fn new(name: impl Into<Cow<'static, str>>) -> Location {
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
}
