//! Exhaustive depth-first exploration, naive or with partial-order
//! reduction, under an optional preemption bound, optionally sharded.
//!
//! The search is stateless: each execution replays the current path of
//! decisions and extends it with non-preemptive defaults; afterwards the
//! deepest decision with an unexplored alternative is advanced.
//!
//! - Naive: every alternative within the preemption bound is explored at
//!   every decision. This is the baseline every reduction is checked
//!   against (tests/sim_dpor_fuzz.rs).
//! - DPOR without a bound (Flanagan-Godefroid 2005, races found over the
//!   executed steps): a decision's alternatives start as the default only;
//!   each race (j, k) the executor reports (dependent steps of different
//!   actors not ordered by happens-before, see `rt::clock`) adds the actor
//!   of k at decision j (or every enabled actor there if it was not
//!   enabled). Operations announced but never run (disabled when the
//!   execution ended, e.g. in a deadlock) are race-checked too, as FG05
//!   checks the next transition of every process. A crash depends on every
//!   step: where a crash is possible, every alternative is explored, and a
//!   task reaching a crash point reads every object. Value decisions
//!   explore every value.
//! - DPOR with a bound: race-driven backtracking is unsound under a
//!   preemption bound (the cheap order of a race may need a preemption
//!   where no race points). Bounded POR's conservative points (Coons,
//!   Musuvathi, McKinley, OOPSLA 2013: also add the racing actor at earlier
//!   context switches) were not enough: journal program 100687 of the fuzz
//!   test needs T0 preempted right after `mutex_lock`, where no race and no
//!   switch of any explored execution is, so every BPOR variant misses it.
//!   So under a bound the search is the naive one, made smaller by
//!   *trace-equivalent prefix pruning*: every decision is identified by the
//!   fingerprint of the Mazurkiewicz trace executed so far (the sum of one
//!   hash per step over its actor, index and vector clock, `rt::clock`),
//!   the last task and the preemptions used. Two prefixes with the same
//!   fingerprint reached the same state; from there the enabled actors and
//!   the cost of each choice depend only on the last task, and any choice
//!   costs at most one preemption. So a prefix is *covered*, and its whole
//!   subtree skipped, when a prefix entered before had the same trace and
//!   either the same last task and no more preemptions, or one preemption
//!   fewer: every execution below it, with the same steps in an equivalent
//!   order, is within the bound below the earlier one (which DFS explored
//!   entirely), so it has the same outcomes. This is exactly the naive
//!   search minus repeated states, hence it finds the same outcomes as
//!   naive DFS at the same bound whenever the dependence relation of
//!   `rt::clock` is right (the same assumption unbounded DPOR makes).
//!   Sleep sets predict covered prefixes without running them: a step
//!   explored at a decision stays *asleep* in later siblings' subtrees
//!   while no step on the path touches its objects; choosing it there
//!   would run the very same step (same clock, same hash), so the prefix
//!   it leads to is known and, if covered, skipped without a run. Runs
//!   stopped at a covered prefix that sleep sets did not predict are
//!   counted as `Stats::cut_runs`, not as executions.
//!
//! Guarantee. Unbounded: DPOR explores at least one execution of every
//! Mazurkiewicz trace of the model (under the dependence relation of
//! `rt::clock`, provided kernel code reaches shared state only through the
//! primitives), so it finds every deadlock, end state and outcome naive DFS
//! finds. Bounded: the same outcomes as naive DFS at the same bound, by the
//! argument above. tests/sim_dpor_fuzz.rs checks both on generated programs
//! (mutexes, rwsems, trylocks, locations, atomics, barriers, weak memory,
//! jbd2 handles with a committing thread) at bounds 0, 1, 2, 3 and none.
//!
//! Sharding `I/N`: the first decisions along a path with two or more
//! alternatives within the bound are fully expanded until the product of
//! their alternative counts reaches N; the path's index in that mixed-radix
//! number, modulo N, names its shard. Every execution belongs to exactly one
//! shard, so the N shards are disjoint and together cover the search.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::{Decision, DecisionKind, Scheduler};
use crate::sim::exec::Execution;
use crate::sim::rt::clock::{Foot, Hb};
use crate::sim::rt::{self, Actor, ActorSet, TaskId};

/// Keys are already hashes: the hasher passes them through (and makes the
/// map's behaviour independent of any per-process random state).
#[derive(Default)]
struct PassThrough(u64);
impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 ^= (v as u64) ^ ((v >> 64) as u64);
    }
}

type Map<K> = HashMap<K, u32, BuildHasherDefault<PassThrough>>;

/// Prefixes already entered: the fewest preemptions by (trace fingerprint,
/// last task), and by fingerprint alone.
#[derive(Default)]
struct Seen {
    exact: Map<(u128, u32)>,
    any: Map<u128>,
    /// The hash of the step each actor ran from each state entered: from
    /// the same state (fingerprint) an actor runs the same step.
    next: HashMap<(u128, u32), u128, BuildHasherDefault<PassThrough>>,
}

fn last_code(last: Option<TaskId>) -> u32 {
    last.unwrap_or(u32::MAX)
}

/// Whether a prefix (fingerprint, last task, preemptions) is covered by one
/// entered before: the same trace (so the same state) with the same last
/// task and no more preemptions, or with at least one preemption fewer (any
/// continuation costs at most one preemption more from there).
fn is_covered(seen: &Seen, fp: u128, last: Option<TaskId>, k: u32) -> bool {
    seen.exact
        .get(&(fp, last_code(last)))
        .is_some_and(|&k0| k0 <= k)
        || seen.any.get(&fp).is_some_and(|&k0| k0 < k)
}

/// Whether choosing `a` at `node` is known to reach a covered prefix
/// without running it: the step `a` runs there is known when `a` ran from
/// an equivalent state before, or when it is asleep here.
fn asleep_and_covered(seen: &Seen, node: &Node, a: Actor) -> bool {
    if node.value_n.is_some() {
        return false;
    }
    let hash = match seen.next.get(&(node.fp, u32::from(a.0))) {
        Some(&h) => h,
        None => match node.sleep.iter().find(|s| s.actor == a) {
            Some(s) => s.hash,
            None => return false,
        },
    };
    let fp = Hb::extend(node.fp, hash);
    let last = a.as_task().or(node.last_task);
    let k = node.preempt + u32::from(node.is_preemption(a));
    is_covered(seen, fp, last, k)
}

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

/// A step explored at a decision (bounded DPOR): its actor, its hash in
/// the trace fingerprint, and the objects it accessed. While no later step
/// on the path touches those objects, running it again would be the same
/// step (same clock, same hash), so the fingerprint it would lead to is
/// known without running it (a sleep set used as a predictor).
#[derive(Clone, Copy, Debug)]
struct Sleeper {
    actor: Actor,
    hash: u128,
    foot: Foot,
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
    /// Bounded DPOR: step number, trace fingerprint and preemptions before
    /// this decision; explored steps here; steps asleep here.
    step: u32,
    fp: u128,
    preempt: u32,
    explored: Vec<Sleeper>,
    sleep: Vec<Sleeper>,
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
    /// Bounded DPOR: prune prefixes equivalent to one already explored.
    cache: bool,
    seen: Seen,
    cut: bool,
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
            cache: cfg.dpor && cfg.preemption_bound.is_some(),
            seen: Seen::default(),
            cut: false,
        }
    }

    /// Whether the execution just run was cut at a prefix equivalent to
    /// one already explored (bounded DPOR; the caller must not count it).
    pub fn last_was_cut(&self) -> bool {
        self.cut
    }

    /// Bounded DPOR: whether the prefix just executed (fingerprint `fp`,
    /// last task `last`, `k` preemptions) is covered by one entered before;
    /// otherwise records it when this shard explores its whole subtree.
    fn covered(&mut self, fp: u128, last: Option<TaskId>, k: u32, record: bool) -> bool {
        if is_covered(&self.seen, fp, last, k) {
            return true;
        }
        if record {
            let e = self.seen.exact.entry((fp, last_code(last))).or_insert(k);
            *e = (*e).min(k);
            let e = self.seen.any.entry(fp).or_insert(k);
            *e = (*e).min(k);
        }
        false
    }

    /// Bounded DPOR: records the step just run at the top node (the first
    /// time it runs) as explored there. Returns its accesses when recorded.
    fn record_step(&mut self) -> Option<Foot> {
        let node = self.nodes.last_mut()?;
        if node.value_n.is_some() {
            return None;
        }
        let (st, hash, foot) = rt::last_step()?;
        if st != node.step {
            return None;
        }
        let actor = Actor(node.chosen as u8);
        self.seen.next.insert((node.fp, node.chosen), hash);
        if !node.explored.iter().any(|s| s.actor == actor) {
            node.explored.push(Sleeper { actor, hash, foot });
        }
        Some(foot)
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
        if self.cache && !self.cut {
            self.record_step();
        }
        if self.cfg.dpor && !self.cache {
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
                if asleep_and_covered(&self.seen, node, a) {
                    self.pruned += 1;
                    continue;
                }
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
        let Some(node) = self.nodes.get_mut(j) else {
            return;
        };
        if node.value_n.is_some() {
            return;
        }
        if node.enabled.contains(a) {
            node.backtrack.insert(a);
        } else {
            node.backtrack = node.backtrack.union(node.enabled);
        }
    }
}

impl Scheduler for Dfs {
    fn discards_stopped_run(&self) -> bool {
        self.cut || self.foreign
    }

    fn begin(&mut self, _index: u64) {
        self.pos = 0;
        self.foreign = false;
        self.cut = false;
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
            step: d.step,
            fp: 0,
            preempt: preempt_before,
            explored: Vec::new(),
            sleep: Vec::new(),
        };
        if self.cache && d.kind == DecisionKind::Schedule {
            node.fp = rt::trace_fingerprint();
            if let Some(foot) = self.record_step() {
                let parent = self.nodes.last().expect("recorded at a node");
                let ran = Actor(parent.chosen as u8);
                for s in parent.sleep.iter().chain(parent.explored.iter()) {
                    if s.actor != ran
                        && !node.sleep.iter().any(|x| x.actor == s.actor)
                        && !s.foot.conflicts(&foot)
                    {
                        node.sleep.push(*s);
                    }
                }
            }
        }
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
                // Bounded DPOR (`cache`) explores every alternative that no
                // covered prefix rules out.
                node.backtrack = if self.cfg.dpor && !self.cache && !d.set.contains(Actor::CRASH) {
                    let mut b = ActorSet(0);
                    b.insert(Actor(def as u8));
                    b
                } else {
                    node.allowed
                };
                def
            }
        };
        if self.cache && d.kind == DecisionKind::Schedule {
            let whole = prod >= self.n() || self.n() == 1;
            let mut dead = self.covered(node.fp, d.last_task, preempt_before, whole);
            if !dead {
                // steps known to reach a covered prefix
                for a in node.allowed.iter() {
                    if asleep_and_covered(&self.seen, &node, a) {
                        node.done.insert(a);
                        self.pruned += 1;
                    }
                }
                if node.allowed.minus(node.done).is_empty() {
                    dead = true;
                }
            }
            if dead {
                self.pruned += u64::from(node.allowed.minus(node.done).len());
                node.done = node.allowed;
                node.chosen = default;
                self.nodes.push(node);
                self.pos += 1;
                self.cut = true;
                return None;
            }
        }
        let mut chosen = default;
        if node.done.contains(Actor(default as u8)) {
            // the default is asleep and covered: the first other alternative
            if let Some(a) = node.allowed.minus(node.done).iter().next() {
                chosen = u32::from(a.0);
            }
        }
        if prod < self.n() && node.allowed.len() >= 2 {
            node.split = true;
            node.backtrack = node.allowed;
            let done = node.done;
            let mine = node
                .allowed
                .minus(done)
                .iter()
                .map(|a| u32::from(a.0))
                .find(|&c| {
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
