//! Exhaustive depth-first exploration, naive or with dynamic partial-order
//! reduction (DPOR), under an optional preemption bound, optionally sharded.
//!
//! The search is stateless: each execution replays the current path of
//! decisions and extends it with non-preemptive defaults; afterwards the
//! deepest decision with an unexplored alternative is advanced.
//!
//! - Naive: every alternative within the preemption bound is explored at
//!   every decision.
//! - DPOR (Flanagan-Godefroid 2005, races found over the executed steps):
//!   a decision's alternatives start as the default only; each race (j, k)
//!   the executor reports (dependent steps of different actors not ordered
//!   by happens-before, see `rt::clock`) adds the actor of k at decision j
//!   (or every enabled actor there if it was not enabled). Operations
//!   announced but never run (disabled when the execution ended, e.g. in a
//!   deadlock) are race-checked too, as FG05 checks the next transition of
//!   every process. With a bound, in the spirit of Coons, Musuvathi and
//!   McKinley, "Bounded partial-order reduction" (OOPSLA 2013), the same
//!   actor is also added at every earlier context switch, where running it
//!   costs no more preemptions than the switch made there (adding only the
//!   latest one missed outcomes on generated programs).
//!   A crash depends on every step: where a crash is possible, every
//!   alternative is explored, and a task reaching a crash point reads every
//!   object. Under a bound, every enabled store-buffer flush is tried at
//!   every decision (flushes cost no preemption, and race-driven points
//!   alone missed some flush timings on generated programs). Value
//!   decisions explore every value.
//!
//! Guarantee: without a bound, DPOR explores at least one execution of
//! every Mazurkiewicz trace of the model (under the dependence relation of
//! `rt::clock`, provided kernel code reaches shared state only through the
//! primitives), so it finds every deadlock, every end state and every
//! outcome naive DFS finds. With a bound, the conservative points make it
//! find what naive DFS at the same bound finds on every model in this
//! crate's tests and on thousands of generated programs (mutexes, rwsems,
//! shared locations, atomics, barriers, weak memory; tests/sim_dpor_fuzz.rs
//! checks equality of outcome sets at bounds 0, 1, 2 and unbounded); we do
//! not claim a proof for arbitrary models.
//!
//! Sharding `I/N`: the first decisions along a path with two or more
//! alternatives within the bound are fully expanded until the product of
//! their alternative counts reaches N; the path's index in that mixed-radix
//! number, modulo N, names its shard. Every execution belongs to exactly one
//! shard, so the N shards are disjoint and together cover the search.

use super::{Decision, DecisionKind, Scheduler};
use crate::sim::exec::Execution;
use crate::sim::rt::{Actor, ActorSet, TaskId};

/// DFS settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DfsConfig {
    /// Most preemptions per execution (None: unbounded).
    pub preemption_bound: Option<u32>,
    /// Use DPOR.
    pub dpor: bool,
    /// This shard's index.
    pub shard_index: u32,
    /// Number of shards (1: unsharded).
    pub shard_count: u32,
}

impl Default for DfsConfig {
    fn default() -> Self {
        DfsConfig {
            preemption_bound: Some(2),
            dpor: true,
            shard_index: 0,
            shard_count: 1,
        }
    }
}

#[derive(Clone, Debug)]
struct Node {
    value_n: Option<u32>,
    enabled: ActorSet,
    allowed: ActorSet,
    chosen: u32,
    backtrack: ActorSet,
    done: ActorSet,
    last_task: Option<TaskId>,
    split: bool,
    h_before: u64,
    prod_before: u64,
}

impl Node {
    fn is_preemption(&self, a: Actor) -> bool {
        match (self.last_task, a.as_task()) {
            (Some(l), Some(t)) => t != l && self.enabled.contains(Actor::task(l)),
            _ => false,
        }
    }

    fn path_after(&self, c: u32) -> (u64, u64) {
        if !self.split {
            return (self.h_before, self.prod_before);
        }
        let n = u64::from(self.allowed.len());
        let idx = self
            .allowed
            .iter()
            .position(|a| u32::from(a.0) == c)
            .unwrap_or(0) as u64;
        (self.h_before * n + idx, self.prod_before.saturating_mul(n))
    }
}

/// The DFS / DPOR explorer state (a [`Scheduler`] plus backtracking).
pub struct Dfs {
    cfg: DfsConfig,
    nodes: Vec<Node>,
    pos: usize,
    foreign: bool,
    finished: bool,
    /// Alternatives within the bound that were never explored.
    pub pruned: u64,
}

impl Dfs {
    pub fn new(cfg: DfsConfig) -> Self {
        Dfs {
            cfg: DfsConfig {
                shard_count: cfg.shard_count.max(1),
                ..cfg
            },
            nodes: Vec::new(),
            pos: 0,
            foreign: false,
            finished: false,
            pruned: 0,
        }
    }

    /// Whether the whole (shard of the) search space was explored.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether the execution just run belongs to another shard (the caller
    /// must not count it).
    pub fn last_was_foreign(&self) -> bool {
        self.foreign
    }

    fn n(&self) -> u64 {
        u64::from(self.cfg.shard_count)
    }

    fn ours(&self, h: u64, prod: u64) -> bool {
        prod < self.n() || h % self.n() == u64::from(self.cfg.shard_index)
    }

    fn path_now(&self) -> (u64, u64) {
        match self.nodes.last() {
            Some(n) => n.path_after(n.chosen),
            None => (0, 1),
        }
    }

    /// After an execution: records its races (DPOR) and moves to the next
    /// path. Returns false when the search is complete.
    pub fn after_execution(&mut self, exec: &Execution) -> bool {
        if self.cfg.dpor {
            for &(step, actor) in &exec.races {
                if let Some(&j) = exec.step_decision.get(step as usize) {
                    self.add_backtrack(j as usize, actor);
                }
            }
        }
        while let Some(node) = self.nodes.last_mut() {
            let mut cand = node.backtrack.union(if node.split {
                node.allowed
            } else {
                ActorSet(0)
            });
            cand = ActorSet(cand.0 & node.allowed.0).minus(node.done);
            let mut next = None;
            for a in cand.iter() {
                node.done.insert(a);
                let (h, p) = node.path_after(u32::from(a.0));
                if node.split
                    && !(p < u64::from(self.cfg.shard_count)
                        || h % u64::from(self.cfg.shard_count) == u64::from(self.cfg.shard_index))
                {
                    continue;
                }
                next = Some(a);
                break;
            }
            if let Some(a) = next {
                node.chosen = u32::from(a.0);
                self.pos = 0;
                self.foreign = false;
                return true;
            }
            self.pruned += u64::from(node.allowed.minus(node.done).len());
            self.nodes.pop();
        }
        self.finished = true;
        false
    }

    fn add_backtrack(&mut self, j: usize, a: Actor) {
        let bounded = self.cfg.preemption_bound.is_some();
        let add = |node: &mut Node| {
            if node.value_n.is_some() {
                return;
            }
            if node.enabled.contains(a) {
                node.backtrack.insert(a);
            } else {
                node.backtrack = node.backtrack.union(node.enabled);
            }
        };
        let Some(node) = self.nodes.get_mut(j) else {
            return;
        };
        add(node);
        if bounded {
            // every context switch before j: running `a` there costs no
            // more preemptions than the switch that was made there
            for i in (0..j).rev() {
                let n = &self.nodes[i];
                let switched = n.value_n.is_none()
                    && match (n.last_task, Actor(n.chosen as u8).as_task()) {
                        (Some(l), Some(t)) => l != t,
                        (None, _) => true,
                        _ => false,
                    };
                if switched {
                    add(&mut self.nodes[i]);
                }
            }
        }
    }
}

impl Scheduler for Dfs {
    fn begin(&mut self, _index: u64) {
        self.pos = 0;
        self.foreign = false;
    }

    fn choose(&mut self, d: &Decision<'_>) -> Option<u32> {
        if self.pos < self.nodes.len() {
            let c = self.nodes[self.pos].chosen;
            self.pos += 1;
            return Some(c);
        }
        let (h, prod) = self.path_now();
        let preempt_before = d.preemptions;
        let mut node = Node {
            value_n: None,
            enabled: d.set,
            allowed: ActorSet(0),
            chosen: 0,
            backtrack: ActorSet(0),
            done: ActorSet(0),
            last_task: d.last_task,
            split: false,
            h_before: h,
            prod_before: prod,
        };
        let default = match d.kind {
            DecisionKind::Value(n) => {
                let n = n.min(128);
                node.value_n = Some(n);
                node.enabled = ActorSet(if n >= 128 {
                    u128::MAX
                } else {
                    (1u128 << n) - 1
                });
                node.allowed = node.enabled;
                node.backtrack = node.enabled;
                0
            }
            DecisionKind::Schedule => {
                for a in d.set.iter() {
                    let cost = u32::from(node.is_preemption(a));
                    if self
                        .cfg
                        .preemption_bound
                        .is_none_or(|b| preempt_before + cost <= b)
                    {
                        node.allowed.insert(a);
                    }
                }
                let def = u32::from(d.default_choice().0);
                // A crash observes everything: where one is possible, every
                // alternative (each changes what the crash sees) is explored.
                // Store-buffer flushes cost no preemption; under a bound the
                // race-driven points alone missed some of their timings (found
                // by tests/sim_dpor_fuzz.rs), so every enabled flush is tried.
                node.backtrack = if self.cfg.dpor && !d.set.contains(Actor::CRASH) {
                    let mut b = ActorSet(0);
                    b.insert(Actor(def as u8));
                    if self.cfg.preemption_bound.is_some() {
                        for a in d.set.iter().filter(|a| a.as_flush().is_some()) {
                            b.insert(a);
                        }
                    }
                    b
                } else {
                    node.allowed
                };
                def
            }
        };
        let mut chosen = default;
        if prod < self.n() && node.allowed.len() >= 2 {
            node.split = true;
            node.backtrack = node.allowed;
            let mine = node.allowed.iter().map(|a| u32::from(a.0)).find(|&c| {
                let (h2, p2) = node.path_after(c);
                self.ours(h2, p2)
            });
            match mine {
                Some(c) => chosen = c,
                None => {
                    node.done = node.allowed;
                    node.chosen = default;
                    self.nodes.push(node);
                    self.pos += 1;
                    self.foreign = true;
                    return None;
                }
            }
        }
        node.chosen = chosen;
        node.done.insert(Actor(chosen as u8));
        self.nodes.push(node);
        self.pos += 1;
        Some(chosen)
    }
}

impl Dfs {
    /// Checks, after an execution, whether its leaf belongs to this shard
    /// (paths too short to reach N alternatives are assigned by their index).
    pub fn leaf_is_ours(&mut self) -> bool {
        if self.foreign {
            return false;
        }
        let (h, p) = self.path_now();
        let ours = p >= self.n() || h % self.n() == u64::from(self.cfg.shard_index);
        if !ours {
            self.foreign = true;
        }
        ours
    }
}
