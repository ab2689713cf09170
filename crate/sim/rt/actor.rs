//! Actors (who a scheduling decision runs) and sets of them.

use serde::{Deserialize, Serialize};

use super::{TaskId, MAX_ACTORS, MAX_TASKS};

const _: () = assert!(MAX_ACTORS == 2 * MAX_TASKS + 1 && MAX_ACTORS <= 128);

/// Who a scheduling decision runs: a task, the store-buffer flusher of a
/// task (weak-memory mode), or the crash.
///
/// The ids are the choices a replay token records, so the layout keeps the
/// one of 32-task executions (every token ever made replays): tasks 0-31
/// are actors 0-31, their flushers 32-63, the crash 64; tasks 32-62 are
/// actors 65-95 and their flushers 96-126.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Actor(pub u8);

/// Tasks in the first block of actor ids (the original 32).
const LOW: u32 = 32;
/// First actor id of the second block of tasks.
const HIGH_TASK: u32 = 65;
/// First actor id of the second block's flushers.
const HIGH_FLUSH: u32 = HIGH_TASK + (MAX_TASKS as u32 - LOW);

impl Actor {
    /// The crash: ends the execution at a crash point.
    pub const CRASH: Actor = Actor(2 * LOW as u8);

    /// Task `t` runs its next step.
    pub fn task(t: TaskId) -> Actor {
        Actor(if t < LOW { t } else { HIGH_TASK + (t - LOW) } as u8)
    }
    /// The oldest buffered store of task `t` becomes visible.
    pub fn flush(t: TaskId) -> Actor {
        Actor(if t < LOW {
            LOW + t
        } else {
            HIGH_FLUSH + (t - LOW)
        } as u8)
    }
    /// The task this actor runs, if it is a task.
    pub fn as_task(self) -> Option<TaskId> {
        let a = u32::from(self.0);
        if a < LOW {
            Some(a)
        } else if (HIGH_TASK..HIGH_FLUSH).contains(&a) {
            Some(a - HIGH_TASK + LOW)
        } else {
            None
        }
    }
    /// The task whose store buffer this actor flushes.
    pub fn as_flush(self) -> Option<TaskId> {
        let a = u32::from(self.0);
        if (LOW..2 * LOW).contains(&a) {
            Some(a - LOW)
        } else if (HIGH_FLUSH..MAX_ACTORS as u32).contains(&a) {
            Some(a - HIGH_FLUSH + LOW)
        } else {
            None
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_ids_are_distinct_and_keep_the_32_task_layout() {
        let mut seen = ActorSet::default();
        for t in 0..MAX_TASKS as TaskId {
            for a in [Actor::task(t), Actor::flush(t)] {
                assert!((a.0 as usize) < MAX_ACTORS && a != Actor::CRASH);
                assert!(!seen.contains(a), "{a:?} twice");
                seen.insert(a);
            }
            assert_eq!(Actor::task(t).as_task(), Some(t));
            assert_eq!(Actor::task(t).as_flush(), None);
            assert_eq!(Actor::flush(t).as_flush(), Some(t));
            assert_eq!(Actor::flush(t).as_task(), None);
        }
        assert_eq!(seen.len() as usize, 2 * MAX_TASKS);
        assert_eq!(
            (Actor::CRASH.as_task(), Actor::CRASH.as_flush()),
            (None, None)
        );
        // Tokens made when an execution held 32 tasks replay unchanged.
        assert_eq!(
            (Actor::task(31).0, Actor::flush(0).0, Actor::flush(31).0),
            (31, 32, 63)
        );
        assert_eq!(Actor::CRASH.0, 64);
    }
}
