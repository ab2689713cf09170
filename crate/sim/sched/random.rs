//! Seeded uniform random scheduling with PCG32 ([`crate::sim::rng`]):
//! execution `i` of an exploration seeded `s` draws from stream
//! `Pcg32::for_execution(s, i)`, so any execution can be re-run alone.

use super::{Decision, DecisionKind, Scheduler};
use crate::sim::rng::Pcg32;

/// Uniform choice among the enabled actors at every step.
pub struct RandomScheduler {
    seed: u64,
    rng: Pcg32,
}

impl RandomScheduler {
    pub fn new(seed: u64) -> Self {
        RandomScheduler {
            seed,
            rng: Pcg32::for_execution(seed, 0),
        }
    }
}

impl Scheduler for RandomScheduler {
    fn begin(&mut self, index: u64) {
        self.rng = Pcg32::for_execution(self.seed, index);
    }

    fn choose(&mut self, d: &Decision<'_>) -> Option<u32> {
        Some(match d.kind {
            DecisionKind::Schedule => {
                let i = self.rng.below(d.candidates.len() as u32) as usize;
                u32::from(d.candidates[i].0)
            }
            DecisionKind::Value(n) => self.rng.below(n),
        })
    }
}
