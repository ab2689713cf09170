//! Replay of a recorded schedule. When the schedule runs out before the
//! execution ends, the replay stops there and says so; a recorded choice
//! that is not enabled is caught by the executor (`EndKind::Diverged`).

use super::{Decision, DecisionKind, Scheduler};
use crate::sim::rt::Actor;
use crate::sim::token::Schedule;

/// The pending decision where a replay stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StopPoint {
    pub index: u32,
    pub step: u32,
    pub kind: DecisionKind,
    pub candidates: Vec<Actor>,
    pub preemptive: Vec<bool>,
    /// Description of each candidate (task name and pending operation).
    pub labels: Vec<String>,
}

/// Replays `choices`, then stops.
pub struct Replay {
    choices: Vec<u32>,
    pos: usize,
    /// Where the schedule ran out (None if it did not).
    pub stopped: Option<StopPoint>,
}

impl Replay {
    pub fn new(schedule: &Schedule) -> Self {
        Replay {
            choices: schedule.0.clone(),
            pos: 0,
            stopped: None,
        }
    }

    /// Choices not consumed.
    pub fn remaining(&self) -> usize {
        self.choices.len() - self.pos
    }
}

impl Scheduler for Replay {
    fn choose(&mut self, d: &Decision<'_>) -> Option<u32> {
        if let Some(&c) = self.choices.get(self.pos) {
            self.pos += 1;
            return Some(c);
        }
        self.stopped = Some(StopPoint {
            index: d.index,
            step: d.step,
            kind: d.kind,
            candidates: d.candidates.to_vec(),
            preemptive: d.candidates.iter().map(|&a| d.is_preemption(a)).collect(),
            labels: d
                .candidates
                .iter()
                .map(|&a| crate::sim::rt::describe_actor(a))
                .collect(),
        });
        None
    }
}
