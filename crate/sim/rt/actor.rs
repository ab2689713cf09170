//! Actors (who a scheduling decision runs) and sets of them.

use serde::{Deserialize, Serialize};

use super::{TaskId, MAX_ACTORS, MAX_TASKS};

/// Who a scheduling decision runs: a task, the store-buffer flusher of a
/// task (weak-memory mode), or the crash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Actor(pub u8);

impl Actor {
    /// The crash: ends the execution at a crash point.
    pub const CRASH: Actor = Actor(MAX_ACTORS as u8);

    /// Task `t` runs its next step.
    pub fn task(t: TaskId) -> Actor {
        Actor(t as u8)
    }
    /// The oldest buffered store of task `t` becomes visible.
    pub fn flush(t: TaskId) -> Actor {
        Actor((MAX_TASKS as u32 + t) as u8)
    }
    /// The task this actor runs, if it is a task.
    pub fn as_task(self) -> Option<TaskId> {
        ((self.0 as usize) < MAX_TASKS).then_some(u32::from(self.0))
    }
    /// The task whose store buffer this actor flushes.
    pub fn as_flush(self) -> Option<TaskId> {
        let a = self.0 as usize;
        (MAX_TASKS..MAX_ACTORS)
            .contains(&a)
            .then(|| (a - MAX_TASKS) as u32)
    }
}

/// A set of actors (bit i = `Actor(i)`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, Hash, Serialize, Deserialize)]
pub struct ActorSet(pub u128);

impl ActorSet {
    pub fn insert(&mut self, a: Actor) {
        self.0 |= 1u128 << a.0;
    }
    pub fn remove(&mut self, a: Actor) {
        self.0 &= !(1u128 << a.0);
    }
    pub fn contains(&self, a: Actor) -> bool {
        self.0 & (1u128 << a.0) != 0
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    pub fn len(&self) -> u32 {
        self.0.count_ones()
    }
    pub fn union(self, o: ActorSet) -> ActorSet {
        ActorSet(self.0 | o.0)
    }
    pub fn minus(self, o: ActorSet) -> ActorSet {
        ActorSet(self.0 & !o.0)
    }
    /// Members in increasing order.
    pub fn iter(self) -> impl Iterator<Item = Actor> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros();
            bits &= bits - 1;
            Some(Actor(i as u8))
        })
    }
}
