//! PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010) with
//! depth `d`: every actor gets a random initial priority >= d; d-1 change
//! points are drawn uniformly among the first `k` steps (k = the longest
//! execution seen so far, at least 16); at the i-th change point the actor
//! about to run drops to priority d-i. The highest-priority enabled actor
//! always runs. A bug of depth d is found with probability >= 1/(n k^(d-1))
//! per execution. Crash points are taken with probability 1/k each; value
//! decisions are uniform. PRNG: PCG32, per-execution streams.

use super::{Decision, DecisionKind, Scheduler};
use crate::sim::rng::Pcg32;
use crate::sim::rt::{Actor, MAX_ACTORS};

/// The PCT scheduler.
pub struct Pct {
    seed: u64,
    depth: u32,
    rng: Pcg32,
    prio: [u64; MAX_ACTORS + 1],
    change_points: Vec<u32>,
    k: u32,
}

impl Pct {
    /// PCT with depth `depth` (>= 1; 1 means no change points).
    pub fn new(seed: u64, depth: u32) -> Self {
        Pct {
            seed,
            depth: depth.max(1),
            rng: Pcg32::for_execution(seed, 0),
            prio: [0; MAX_ACTORS + 1],
            change_points: Vec::new(),
            k: 16,
        }
    }
}

impl Scheduler for Pct {
    fn begin(&mut self, index: u64) {
        self.rng = Pcg32::for_execution(self.seed, index);
        self.prio = [0; MAX_ACTORS + 1];
        self.change_points.clear();
        for _ in 1..self.depth {
            let s = self.rng.below(self.k);
            self.change_points.push(s);
        }
    }

    fn choose(&mut self, d: &Decision<'_>) -> Option<u32> {
        if let DecisionKind::Value(n) = d.kind {
            return Some(self.rng.below(n));
        }
        if d.step + 1 > self.k {
            self.k = d.step + 1;
        }
        if d.set.contains(Actor::CRASH) && self.rng.below(self.k) == 0 {
            return Some(u32::from(Actor::CRASH.0));
        }
        let mut best: Option<(u64, Actor)> = None;
        for &a in d.candidates {
            if a == Actor::CRASH {
                continue;
            }
            let p = &mut self.prio[a.0 as usize];
            if *p == 0 {
                *p = u64::from(self.depth) + 1 + u64::from(self.rng.next_u32());
            }
            if best.is_none_or(|(bp, _)| *p > bp) {
                best = Some((*p, a));
            }
        }
        let (_, mut pick) = best?;
        if let Some(i) = self.change_points.iter().position(|&s| s == d.step) {
            self.prio[pick.0 as usize] = u64::from(self.depth) - 1 - i as u64;
            let mut b: Option<(u64, Actor)> = None;
            for &a in d.candidates {
                if a == Actor::CRASH {
                    continue;
                }
                let p = self.prio[a.0 as usize];
                if b.is_none_or(|(bp, _)| p > bp) {
                    b = Some((p, a));
                }
            }
            if let Some((_, a)) = b {
                pick = a;
            }
        }
        Some(u32::from(pick.0))
    }
}
