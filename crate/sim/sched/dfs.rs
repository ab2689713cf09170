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
//! - DPOR without a bound: the pruned search below, every alternative
//!   allowed, and a prefix covered by any earlier one with the same trace
//!   fingerprint whatever its last task and preemptions: from one state
//!   every continuation is allowed either way, so this is the naive search
//!   over every interleaving minus repeated states. On the built-in
//!   scenarios it finishes where race-driven DPOR does not (S8 v5.5: 2,532
//!   executions against 1,126,094). The rule leans on "one fingerprint, one
//!   state" harder than the bounded one: before the data oracles' log was
//!   announced (`DataLog::loc`, crate/kernel/provenance.rs) it missed S2
//!   fault-retry's lost write, which the bounded rule found by exploring a
//!   state again when reached with fewer preemptions.
//!   tests/sim_equivalent_schedules.rs checks the assumption on the
//!   built-ins' outcome schedules.
//! - Race-driven DPOR without a bound (`DfsConfig::race_driven`, kept to
//!   compare; Flanagan-Godefroid 2005, races found over the executed
//!   steps): a decision's alternatives start as the default only;
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
//!   `rt::clock` is right (the same assumption race-driven DPOR makes).
//!   Sleep sets predict covered prefixes without running them: a step
//!   explored at a decision stays *asleep* in later siblings' subtrees
//!   while no step on the path touches its objects; choosing it there
//!   would run the very same step (same clock, same hash), so the prefix
//!   it leads to is known and, if covered, skipped without a run. Runs
//!   stopped at a covered prefix that sleep sets did not predict are
//!   counted as `Stats::cut_runs`, not as executions.
//!
//! Giving up. A run of bounded DPOR costs 3 to 4 times a naive one on the
//! small reference models (vector clocks, the fingerprint, the prefix
//! tables, mostly the tables' cache misses), so where equivalent prefixes
//! are rare the reduction is slower than the naive search it prunes (the
//! reference model of `sim::models::reference`, all of whose steps but a
//! few take lock A: 3,943 executions and 166 cut runs against 4,906, for
//! 4 times the wall time). At its `GIVE_UP_AT`-th run (32) the search
//! checks that it skipped (pruned alternatives plus cut runs) at least
//! `GIVE_UP_BELOW` (0.5) times as many as it ran, and otherwise goes on as
//! naive DFS: no more prefix tables, and the explorer stops keeping clocks
//! ([`Dfs::wants_clocks`]). The ratio at the 32nd run: the reference
//! model 0.16 (bounds 2 and 3), `three_tasks_50` 19.6, the other small
//! models of `sim::models` 1.75 and 1.78; at each power of two from the
//! 64th on: the reference model under 0.2, `three_tasks_50` 4 to 25,
//! scenarios S2, S5 and S8 at bound 2 from 2.0 to 4.0. Four of the 446
//! explorations of the DPOR fuzz test's default sweep give up
//! (tests/sim_dpor_fuzz.rs checks them both ways; one did at run 128).
//! The run was 128 until 2026-12-06; at 32 the reference model's first
//! runs at the reduced search's price no longer show in its wall time
//! (benches/loom-ref: naive/reduced 0.97-0.98 at bound 2 with 128,
//! 0.99-1.00 with 32). The switch is sound at any point: every prefix
//! pruned before it was covered by one whose subtree had been explored,
//! and after it every alternative within the bound is explored; at worst
//! (a model whose equivalent prefixes only show after the first runs) the
//! search costs what naive DFS costs. It counts and never times, so a
//! search and its execution count stay deterministic (and a checkpoint
//! carries the counts and the switch). It is opt-in (`keep_reduction =
//! false`; the benches use it): on tests/fixtures/history/delalloc-exposure
//! .toml (a crash point) it gave up at run 128 (when that was the run) and the search took 326,575
//! executions where the reduction takes 5,311, since on scenarios the
//! reduction pays only later in the search. Only under a bound: without one, naive DFS
//! is every interleaving, far more than the reduction costs.
//!
//! Guarantee. The pruned search, bounded or not: the same outcomes as
//! naive DFS at the same bound (without a bound: every interleaving), by
//! the argument above, whenever the dependence relation of `rt::clock` is
//! right and kernel code reaches shared state only through the primitives.
//! Race-driven DPOR explores at least one execution of every Mazurkiewicz
//! trace of the model under the same assumptions. tests/sim_dpor_fuzz.rs checks both on generated programs
//! (mutexes, rwsems, trylocks, locations, atomics, barriers, weak memory,
//! jbd2 handles with a committing thread) at bounds 0, 1, 2, 3 and none.
//!
//! Sharding `I/N` (deviation keys). An execution is named by its first
//! [`shard_key_deviations`] *deviations*: the decisions where its path
//! takes another choice than the non-preemptive default, as (position,
//! choice) pairs. The key's hash, modulo N, names the shard that owns the
//! execution (an execution with fewer deviations is owned by the hash of
//! the ones it has and their number). Every execution has exactly one key,
//! so the N shards are disjoint and together cover the search; the naive
//! search's shards run exactly the unsharded schedules (tests/
//! sim_distributed.rs). Keys are many (every combination of deviation
//! points), so the shards get similar work without knowing the tree's
//! shape in advance: a mixed-radix split of the first few branching
//! decisions gave one shard of three a quarter of the others' work,
//! because the first decisions of a scenario are lopsided (most of the
//! tree hangs below the default choice).
//!
//! Each shard walks the decisions whose path has fewer than K deviations
//! (they are shared by every shard) and prunes every alternative that
//! completes a key owned by another shard without running it. A finished
//! run whose key is incomplete and another's is run but not counted
//! (`Stats::foreign_executions`); its end-of-run checks do not run.
//!
//! Race-driven DPOR (unbounded) adds backtrack points from races seen in
//! executions, and a shard does not run the executions of other shards'
//! subtrees, so a shard expands every alternative of the shared decisions
//! (fewer than K deviations before them); inside a complete key every
//! execution is the shard's own and its races are its own. To keep that
//! fully expanded part small, race-driven DPOR uses keys of one deviation
//! ([`SHARD_KEY_DEVIATIONS_DPOR`]): the shared decisions are those of the
//! all-default execution.
//!
//! Bounded DPOR with sharding. Each shard records every prefix it enters
//! as covered, including prefixes whose subtree it only explores in part.
//! This is sound for the union of the shards, by induction on the DFS
//! (lexicographic) order of executions: take an execution E owned by
//! shard s. Either s runs E, or s skipped a prefix Q of E, E = Q.w,
//! because a prefix P entered before Q (hence lexicographically smaller,
//! and not an ancestor of Q: their traces differ in length) reached the
//! same state with the same last task and no more preemptions (or one
//! fewer). Then E' = P.w is within the bound, equivalent to E (same
//! outcomes) and smaller than E; by induction its owner, whichever shard
//! that is, runs an execution equivalent to E'. So every outcome of the
//! unsharded reduced search is found by some shard, though two shards may
//! both run representatives of one equivalence class (the overlap
//! `ext4lab merge` reports as the sum of the shards' executions against
//! an unsharded run).
//!
//! Checkpoints and estimates: [`Dfs::state`] / [`Dfs::from_state`] carry a
//! search across a checkpoint (`--checkpoint`/`--resume`), and
//! [`Dfs::estimated_executions`] estimates the search's size while it runs
//! (docs/distributed.md).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

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
    /// The steps learnt (`rt::clock::Hb::predict`): key to link.
    steps: HashMap<u128, u64, BuildHasherDefault<PassThrough>>,
    /// No preemption bound: a prefix is covered by any earlier one with the
    /// same trace, whatever its last task and preemptions (every
    /// continuation is allowed from either); only `exact` is kept, under
    /// (fingerprint, no task) with 0 preemptions.
    unbounded: bool,
}

fn last_code(last: Option<TaskId>) -> u32 {
    last.unwrap_or(u32::MAX)
}

/// Whether a prefix (fingerprint, last task, preemptions) is covered by one
/// entered before: the same trace (so the same state) with the same last
/// task and no more preemptions, or with at least one preemption fewer (any
/// continuation costs at most one preemption more from there).
fn is_covered(seen: &Seen, fp: u128, last: Option<TaskId>, k: u32) -> bool {
    let (last, k) = if seen.unbounded { (None, 0) } else { (last, k) };
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

/// Deviations that name an execution's shard (naive DFS, pruned DPOR)
/// among `n` shards: 3, or 4 beyond 8 shards. More deviations make more
/// keys (better balance) and a larger shared part that every shard walks
/// (more runs of other shards' paths). Measured on S2 (bound 2) and S4
/// (bound 1), 2 to 8 shards: with 2 deviations the busiest of 8 shards ran
/// 1.2x (S2) and 1.65x (S4) the mean; with 3, 1.09x and 1.5x, for a tenth
/// of the shared runs of 4 (see docs/distributed.md).
pub fn shard_key_deviations(n: u32) -> u8 {
    if n > 8 {
        4
    } else {
        3
    }
}
/// The same for race-driven (unbounded) DPOR, whose shared decisions are
/// fully expanded (see the module doc).
pub const SHARD_KEY_DEVIATIONS_DPOR: u8 = 1;

/// Bounded DPOR judges at its `GIVE_UP_AT`-th run whether its reduction
/// pays ([`Dfs::pays`]): it gives up when it skipped fewer than
/// `GIVE_UP_BELOW` times as many alternatives and covered prefixes as it
/// made runs.
const GIVE_UP_AT: u64 = 32;
const GIVE_UP_BELOW: f64 = 0.5;

/// The splitmix64 finaliser.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key after one more deviation (choice `c` at decision `pos`).
fn key_push(key: u64, pos: u32, c: u32) -> u64 {
    mix64(key ^ mix64((u64::from(pos) << 32) | u64::from(c)))
}

/// The shard (of `n`) owning an execution whose first `devs` deviations
/// hash to `key`.
pub fn shard_of(key: u64, devs: u8, n: u32) -> u32 {
    (mix64(key.wrapping_add(u64::from(devs).wrapping_mul(0x9e37_79b9_7f4a_7c15)))
        % u64::from(n.max(1))) as u32
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
    /// Without a bound, DPOR driven by races (Flanagan-Godefroid) instead
    /// of the pruned search (see the module doc): kept to compare the two
    /// (tests/sim_dpor_fuzz.rs checks both).
    #[serde(default)]
    pub race_driven: bool,
    /// Bounded DPOR: keep the reduction to the end (the default); false
    /// lets it give the reduction up for naive DFS where it does not pay
    /// (opt-in, see the module doc, "Giving up").
    #[serde(default = "keep_by_default")]
    pub keep_reduction: bool,
    /// Pruned DPOR: learn every step and check each against what the
    /// steps learnt predict (`rt::clock::Hb::predict`): a step that goes
    /// otherwise from the same causal past read shared state no access
    /// announced ([`Dfs::mispredicted`]). Costs time and memory; off by
    /// default.
    #[serde(default)]
    pub check_steps: bool,
}

impl Default for DfsConfig {
    fn default() -> Self {
        DfsConfig {
            preemption_bound: Some(2),
            dpor: true,
            shard_index: 0,
            shard_count: 1,
            race_driven: false,
            keep_reduction: true,
            check_steps: false,
        }
    }
}

pub(crate) fn keep_by_default() -> bool {
    true
}

impl DfsConfig {
    /// Race-driven DPOR: DPOR, no bound, asked for.
    fn by_races(&self) -> bool {
        self.dpor && self.preemption_bound.is_none() && self.race_driven
    }
}

/// A step explored at a decision (pruned DPOR): its actor, its hash in
/// the trace fingerprint, and the objects it accessed. While no later step
/// on the path touches those objects, running it again would be the same
/// step (same clock, same hash), so the fingerprint it would lead to is
/// known without running it (a sleep set used as a predictor).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Sleeper {
    actor: Actor,
    hash: u128,
    foot: Foot,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Node {
    value_n: Option<u32>,
    enabled: ActorSet,
    allowed: ActorSet,
    chosen: u32,
    backtrack: ActorSet,
    done: ActorSet,
    last_task: Option<TaskId>,
    /// The non-preemptive default choice here.
    default: u32,
    /// Sharding: deviations on the path before this decision (at most the
    /// key length) and the hash of them.
    depth: u8,
    key: u64,
    /// Pruned DPOR: step number, trace fingerprint and preemptions before
    /// this decision; explored steps here; steps asleep here.
    step: u32,
    fp: u128,
    preempt: u32,
    explored: Vec<Sleeper>,
    sleep: Vec<Sleeper>,
    /// Step checking: the hashes of the steps predicted here from the
    /// steps learnt (`rt::clock::Hb::predict`), before any of them ran.
    #[serde(default)]
    known: Vec<(Actor, u128)>,
    /// Estimates: counted executions in the finished alternatives' subtrees,
    /// how many alternatives finished, and the count when the current one
    /// started.
    #[serde(default)]
    execs_done: u64,
    #[serde(default)]
    kids_done: u32,
    #[serde(default)]
    execs_start: u64,
}

impl Node {
    fn is_preemption(&self, a: Actor) -> bool {
        match (self.last_task, a.as_task()) {
            (Some(l), Some(t)) => t != l && self.enabled.contains(Actor::task(l)),
            _ => false,
        }
    }

    /// The shard key (hash, deviations) of a path taking `c` at this
    /// decision, the `pos`-th of the path, with keys of `kdev` deviations.
    fn key_after(&self, pos: usize, c: u32, kdev: u8) -> (u64, u8) {
        if c == self.default || self.depth >= kdev {
            (self.key, self.depth)
        } else {
            (key_push(self.key, pos as u32, c), self.depth + 1)
        }
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
    /// Pruned DPOR (bounded or not): prune prefixes equivalent to one
    /// already explored (off from the start in naive DFS and race-driven
    /// DPOR, and turned off for good when a bounded reduction does not
    /// pay, see [`Dfs::pays`]).
    cache: bool,
    /// Race-driven (unbounded) DPOR.
    race_driven: bool,
    /// Bounded DPOR: every run so far (counted, cut, other shards'), and
    /// the cut ones.
    runs: u64,
    cut_runs: u64,
    /// Bounded DPOR gave up its reduction (see [`Dfs::pays`]).
    gave_up: bool,
    seen: Seen,
    cut: bool,
    /// Executions counted (this shard's, not cut).
    counted: u64,
    /// Predicted steps that ran otherwise, and learnt steps that went
    /// otherwise from the same key: 0 unless the model breaks the
    /// assumption the reduction rests on (see [`Dfs::mispredicted`]).
    mispredicted: u64,
    /// Step checking: the step of the current run where a prediction or
    /// a learnt step first went otherwise, and how (taken by the explorer).
    diverged_at: Option<(u32, String)>,
    /// Step checking: the model's state digest (`rt::state_digest`) at the
    /// first prefix entered with each fingerprint; a later prefix with the
    /// same fingerprint must have the same. Not kept in a checkpoint.
    states: HashMap<u128, Vec<(&'static str, u64)>, BuildHasherDefault<PassThrough>>,
    /// Deviations per shard key (0: unsharded).
    kdev: u8,
}

/// Where a DFS stands between two executions: the path of the next one
/// (each decision with its alternatives still to try) and the prefixes
/// entered so far. [`Dfs::from_state`] continues from it exactly as the
/// search would have gone on (`--checkpoint`/`--resume`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DfsState {
    cfg: DfsConfig,
    nodes: Vec<Node>,
    pruned: u64,
    finished: bool,
    #[serde(default)]
    counted: u64,
    /// Bounded DPOR: runs so far, cut runs, and whether it gave up its
    /// reduction ([`Dfs::pays`]).
    #[serde(default)]
    runs: u64,
    #[serde(default)]
    cut_runs: u64,
    #[serde(default)]
    gave_up: bool,
    #[serde(default)]
    mispredicted: u64,
    /// The covered-prefix tables, little-endian records (exact: fp, last,
    /// k; any: fp, k; next: fp, actor, hash), then the steps learnt (key,
    /// link; absent from checkpoints made before 2026-12-06, whose search
    /// then learns them again), deflated, base64.
    seen: String,
}

/// Why a saved DFS state cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError(pub String);

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn seen_to_bytes(seen: &Seen) -> Vec<u8> {
    let mut exact: Vec<_> = seen.exact.iter().map(|(&(fp, l), &k)| (fp, l, k)).collect();
    let mut any: Vec<_> = seen.any.iter().map(|(&fp, &k)| (fp, k)).collect();
    let mut next: Vec<_> = seen.next.iter().map(|(&(fp, a), &h)| (fp, a, h)).collect();
    exact.sort_unstable();
    any.sort_unstable();
    next.sort_unstable();
    let mut steps: Vec<_> = seen.steps.iter().map(|(&k, &l)| (k, l)).collect();
    steps.sort_unstable();
    let mut b = Vec::with_capacity(
        32 + exact.len() * 24 + any.len() * 20 + next.len() * 36 + steps.len() * 24,
    );
    for n in [exact.len(), any.len(), next.len()] {
        b.extend_from_slice(&(n as u64).to_le_bytes());
    }
    for (fp, l, k) in exact {
        b.extend_from_slice(&fp.to_le_bytes());
        b.extend_from_slice(&l.to_le_bytes());
        b.extend_from_slice(&k.to_le_bytes());
    }
    for (fp, k) in any {
        b.extend_from_slice(&fp.to_le_bytes());
        b.extend_from_slice(&k.to_le_bytes());
    }
    for (fp, a, h) in next {
        b.extend_from_slice(&fp.to_le_bytes());
        b.extend_from_slice(&a.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
    }
    b.extend_from_slice(&(steps.len() as u64).to_le_bytes());
    for (k, l) in steps {
        b.extend_from_slice(&k.to_le_bytes());
        b.extend_from_slice(&l.to_le_bytes());
    }
    b
}

fn seen_from_bytes(b: &[u8]) -> Option<Seen> {
    struct Rd<'a>(&'a [u8]);
    impl Rd<'_> {
        fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
            let (h, t) = self.0.split_at_checked(N)?;
            self.0 = t;
            h.try_into().ok()
        }
        fn u32(&mut self) -> Option<u32> {
            self.take().map(u32::from_le_bytes)
        }
        fn u64(&mut self) -> Option<u64> {
            self.take().map(u64::from_le_bytes)
        }
        fn u128(&mut self) -> Option<u128> {
            self.take().map(u128::from_le_bytes)
        }
    }
    let mut r = Rd(b);
    let (ne, na, nn) = (r.u64()?, r.u64()?, r.u64()?);
    let mut seen = Seen::default();
    for _ in 0..ne {
        let (fp, l, k) = (r.u128()?, r.u32()?, r.u32()?);
        seen.exact.insert((fp, l), k);
    }
    for _ in 0..na {
        let (fp, k) = (r.u128()?, r.u32()?);
        seen.any.insert(fp, k);
    }
    for _ in 0..nn {
        let (fp, a, h) = (r.u128()?, r.u32()?, r.u128()?);
        seen.next.insert((fp, a), h);
    }
    if !r.0.is_empty() {
        for _ in 0..r.u64()? {
            let (k, l) = (r.u128()?, r.u64()?);
            seen.steps.insert(k, l);
        }
    }
    r.0.is_empty().then_some(seen)
}

impl Dfs {
    /// The search's state between two executions (see [`DfsState`]).
    pub fn state(&self) -> DfsState {
        use base64::Engine as _;
        let raw = seen_to_bytes(&self.seen);
        let packed = miniz_oxide::deflate::compress_to_vec(&raw, 6);
        DfsState {
            cfg: self.cfg,
            nodes: self.nodes.clone(),
            pruned: self.pruned,
            finished: self.finished,
            counted: self.counted,
            runs: self.runs,
            cut_runs: self.cut_runs,
            gave_up: self.gave_up,
            mispredicted: self.mispredicted,
            seen: base64::engine::general_purpose::STANDARD_NO_PAD.encode(packed),
        }
    }

    /// A search that goes on from `st`; `cfg` must be the configuration
    /// it was saved with.
    pub fn from_state(cfg: DfsConfig, st: DfsState) -> Result<Dfs, StateError> {
        use base64::Engine as _;
        let mut d = Dfs::new(cfg);
        if d.cfg != st.cfg {
            return Err(StateError(format!(
                "the saved search ran with {:?}, this one with {:?}",
                st.cfg, d.cfg
            )));
        }
        let bad = |what: &str| StateError(format!("the saved search's {what} is damaged"));
        let packed = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(st.seen.as_bytes())
            .map_err(|_| bad("prefix table"))?;
        let raw = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, usize::MAX / 2)
            .map_err(|_| bad("prefix table"))?;
        d.seen = Seen {
            unbounded: d.seen.unbounded,
            ..seen_from_bytes(&raw).ok_or_else(|| bad("prefix table"))?
        };
        if st.nodes.iter().any(|n| {
            n.chosen >= 128 || !n.allowed.contains(Actor(n.chosen as u8)) && n.value_n.is_none()
        }) {
            return Err(bad("path"));
        }
        d.nodes = st.nodes;
        d.pruned = st.pruned;
        d.finished = st.finished;
        d.counted = st.counted;
        d.runs = st.runs;
        d.cut_runs = st.cut_runs;
        d.mispredicted = st.mispredicted;
        if st.gave_up {
            d.give_up();
        }
        Ok(d)
    }

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
            cache: cfg.dpor && !cfg.by_races(),
            race_driven: cfg.by_races(),
            runs: 0,
            cut_runs: 0,
            gave_up: false,
            seen: Seen {
                unbounded: cfg.preemption_bound.is_none(),
                ..Seen::default()
            },
            cut: false,
            counted: 0,
            mispredicted: 0,
            diverged_at: None,
            states: HashMap::default(),
            kdev: match (cfg.shard_count > 1, cfg.by_races()) {
                (false, _) => 0,
                (true, true) => SHARD_KEY_DEVIATIONS_DPOR,
                (true, false) => shard_key_deviations(cfg.shard_count),
            },
        }
    }

    /// Whether the executor must keep vector clocks for this search (DPOR,
    /// unless bounded DPOR gave up its reduction).
    pub fn wants_clocks(&self) -> bool {
        self.race_driven || self.cache
    }

    /// Steps predicted from the steps learnt that then ran otherwise
    /// (another hash), and learnt steps that went another way from the
    /// same key. Either means a task's step did not follow from the
    /// causal pasts of its state and of what it read: kernel code reached
    /// shared state outside the primitives, or depends on something else
    /// (a counter, the schedule). The reduction rests on that assumption
    /// too, so tests require 0.
    pub fn mispredicted(&self) -> u64 {
        self.mispredicted
    }

    /// Takes the steps the runtime learnt into the table; a key learnt
    /// before with another continuation is a divergence.
    fn take_learned(&mut self) {
        let steps = &mut self.seen.steps;
        let (mut bad, mut first) = (0, None);
        rt::take_learned(|k, l, step| {
            let old = *steps.entry(k).or_insert(l);
            if old != l {
                bad += 1;
                first = first.or(Some((step, old, l)));
            }
        });
        self.mispredicted += bad;
        if let (None, Some((step, old, new))) = (&self.diverged_at, first) {
            let how = format!(
                "from the same causal past an earlier step went on with {}; this one with {}",
                rt::describe_link(old),
                rt::describe_link(new)
            );
            self.diverged_at = Some((step, how));
        }
    }

    /// Step checking: the step of the run just made where a step first
    /// went otherwise than learnt or predicted, if one did.
    pub fn take_divergence(&mut self) -> Option<(u32, String)> {
        self.diverged_at.take()
    }

    /// Step checking is on (pruned DPOR with `DfsConfig::check_steps`).
    fn learns(&self) -> bool {
        self.cache && self.cfg.check_steps
    }

    /// Whether bounded DPOR gave up its reduction (see [`Dfs::pays`]).
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// Bounded DPOR: whether the reduction is paying for itself, judged
    /// at the [`GIVE_UP_AT`]-th run: it must have skipped, without running
    /// them to the end, at least [`GIVE_UP_BELOW`] of the runs it made
    /// (alternatives pruned plus runs cut at a covered prefix; each stands
    /// for at least one execution of the naive search). A run of the
    /// reduced search costs more than a naive one (vector clocks, the
    /// fingerprint, the prefix tables: 2 to 3 times on the reference
    /// model), so a search that skips less does the naive search's work
    /// at a higher price per run. The rule counts, it never times, so a
    /// search (and its execution count) stays deterministic.
    fn pays(&self) -> bool {
        (self.pruned + self.cut_runs) as f64 >= GIVE_UP_BELOW * self.runs as f64
    }

    /// Bounded DPOR turns into naive DFS for the rest of the search. Sound
    /// at any point: every prefix pruned so far was covered by one whose
    /// subtree was already explored, and from here on every alternative
    /// within the bound is explored (naive DFS explores a superset of what
    /// the reduction would have).
    fn give_up(&mut self) {
        self.cache = false;
        self.gave_up = true;
        self.seen = Seen::default();
    }

    /// Deviations per shard key: 0 when unsharded.
    pub fn frontier(&self) -> u8 {
        self.kdev
    }

    /// Whether a path with key (`key`, `devs`) may hold executions of this
    /// shard: its key is still incomplete, or complete and ours.
    fn may_be_ours(&self, key: u64, devs: u8) -> bool {
        self.kdev == 0 || devs < self.kdev || self.owns(key, devs)
    }

    fn owns(&self, key: u64, devs: u8) -> bool {
        shard_of(key, devs, self.cfg.shard_count) == self.cfg.shard_index
    }

    /// Whether the execution just run was cut at a prefix equivalent to
    /// one already explored (pruned DPOR; the caller must not count it).
    pub fn last_was_cut(&self) -> bool {
        self.cut
    }

    /// Pruned DPOR: whether the prefix just executed (fingerprint `fp`,
    /// last task `last`, `k` preemptions) is covered by one entered before;
    /// otherwise records it (sharded too: see the module doc).
    fn covered(&mut self, fp: u128, last: Option<TaskId>, k: u32) -> bool {
        if self.seen.unbounded {
            // no bound: the trace alone (see `Seen::unbounded`)
            return self.seen.exact.insert((fp, last_code(None)), 0).is_some();
        }
        // one look-up per table: recording a covered prefix changes
        // neither table's answers (a smaller k is kept; an exact entry
        // (fp, last, k) added under `any` (fp) < k covers only prefixes
        // with more than `any`'s preemptions, which that entry covers)
        let e = self
            .seen
            .exact
            .entry((fp, last_code(last)))
            .or_insert(u32::MAX);
        let by_exact = *e <= k;
        *e = (*e).min(k);
        let e = self.seen.any.entry(fp).or_insert(u32::MAX);
        let by_any = *e < k;
        *e = (*e).min(k);
        by_exact || by_any
    }

    /// Step checking: the model's state now, against the state the first
    /// prefix with fingerprint `fp` had. Two prefixes of one trace run the
    /// same steps in orders that differ only between independent steps, so
    /// they must leave the same state; one that does not shows a step that
    /// read or wrote shared state no access announced (its effect, not its
    /// path: a divergence of path is caught by the step learning).
    fn check_state(&mut self, fp: u128, step: u32) {
        let Some(now) = rt::state_digest() else {
            return;
        };
        match self.states.entry(fp) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(now);
            }
            std::collections::hash_map::Entry::Occupied(e) => {
                let before = e.get();
                if *before != now {
                    self.mispredicted += 1;
                    if self.diverged_at.is_none() {
                        let parts: Vec<&str> = now
                            .iter()
                            .zip(before.iter().map(Some).chain(std::iter::repeat(None)))
                            .filter(|(a, b)| Some(*a) != *b)
                            .map(|(a, _)| a.0)
                            .collect();
                        let how = format!(
                            "a prefix of the same trace reached another state before this \
                             step ({} differ)",
                            parts.join(", ")
                        );
                        self.diverged_at = Some((step, how));
                    }
                }
            }
        }
    }

    /// Pruned DPOR: records the step just run at the top node (the first
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
        if node.known.iter().any(|&(a, h)| a == actor && h != hash) {
            self.mispredicted += 1;
            if self.diverged_at.is_none() {
                let how = format!(
                    "the step ran otherwise than the steps learnt predicted; it made: {}",
                    rt::describe_foot(&foot)
                );
                self.diverged_at = Some((st, how));
            }
        }
        self.seen.next.insert((node.fp, node.chosen), hash);
        if !node.explored.iter().any(|s| s.actor == actor) {
            node.explored.push(Sleeper { actor, hash, foot });
        }
        Some(foot)
    }

    /// The executions the whole (shard of the) search will count,
    /// estimated from the path after the execution just run: at each
    /// decision, deepest first, the subtree of the current alternative (the
    /// estimate one level down), plus the finished alternatives' counted
    /// executions, plus each alternative still to try taken as big as the
    /// mean of those explored (Knuth's estimate of a backtracking tree,
    /// with the siblings measured rather than assumed equal; a decision
    /// none of whose alternatives finished yet adds nothing, so early
    /// estimates run low). Exact once the search is finished. On S2 (bound
    /// 2, 6,770 executions) it says 1,501 after 1,000 and 8,916 after
    /// 3,000; on S4 (bound 1, 26,757) 5,487 after 3,000 and 29,715 after
    /// 10,000.
    pub fn estimated_executions(&self) -> u64 {
        if self.finished {
            return self.counted;
        }
        let Some(last) = self.nodes.last() else {
            return self.counted;
        };
        let mut cur = self.counted.saturating_sub(last.execs_start) as f64;
        for n in self.nodes.iter().rev() {
            let left = ActorSet(n.backtrack.0 & n.allowed.0).minus(n.done).len();
            // only alternatives measured (finished) say how big the
            // others are; the current one is still growing
            let mean = if n.kids_done == 0 {
                0.0
            } else {
                n.execs_done as f64 / f64::from(n.kids_done)
            };
            cur += n.execs_done as f64 + f64::from(left) * mean;
        }
        (cur.round() as u64).max(self.counted)
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

    /// The shard key of the path as chosen so far.
    fn path_now(&self) -> (u64, u8) {
        match self.nodes.last() {
            Some(n) => n.key_after(self.nodes.len() - 1, n.chosen, self.kdev),
            None => (0, 0),
        }
    }

    /// After an execution: records its races (DPOR) and moves to the next
    /// path. Returns false when the search is complete.
    pub fn after_execution(&mut self, exec: &Execution) -> bool {
        if !self.cut && !self.foreign {
            self.counted += 1;
        }
        if self.cache && !self.cut {
            self.record_step();
        }
        if self.learns() {
            self.take_learned();
        }
        if self.cache {
            self.runs += 1;
            self.cut_runs += u64::from(self.cut);
            if self.runs == GIVE_UP_AT
                && self.cfg.preemption_bound.is_some()
                && !self.cfg.keep_reduction
                && !self.pays()
            {
                self.give_up();
            }
        }
        if self.race_driven {
            for &(step, actor) in &exec.races {
                if let Some(&j) = exec.step_decision.get(step as usize) {
                    self.add_backtrack(j as usize, actor);
                }
            }
        }
        let kdev = self.kdev;
        while !self.nodes.is_empty() {
            let pos = self.nodes.len() - 1;
            let node = &self.nodes[pos];
            let cand = ActorSet(node.backtrack.0 & node.allowed.0).minus(node.done);
            let mut next = None;
            let mut done = node.done;
            for a in cand.iter() {
                done.insert(a);
                if self.cache && asleep_and_covered(&self.seen, node, a) {
                    self.pruned += 1;
                    continue;
                }
                let (key, devs) = node.key_after(pos, u32::from(a.0), kdev);
                if !self.may_be_ours(key, devs) {
                    // a key another shard owns: its whole subtree is theirs
                    continue;
                }
                next = Some(a);
                break;
            }
            let counted = self.counted;
            let node = &mut self.nodes[pos];
            node.done = done;
            if let Some(a) = next {
                node.execs_done += counted.saturating_sub(node.execs_start);
                node.kids_done += 1;
                node.execs_start = counted;
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

    fn discards_finished_run(&mut self) -> bool {
        !self.leaf_is_ours()
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
            if self.learns() && self.pos == self.nodes.len() {
                // the step chosen here is new from this state
                rt::set_learning();
            }
            return Some(c);
        }
        if self.learns() {
            if self.pos == 0 {
                // the first run: every step is new (later runs turn
                // learning on at the end of their replayed prefix)
                rt::set_learning();
            }
            self.take_learned();
        }
        let (key, depth) = self.path_now();
        let preempt_before = d.preemptions;
        let mut node = Node {
            value_n: None,
            enabled: d.set,
            allowed: ActorSet(0),
            chosen: 0,
            backtrack: ActorSet(0),
            done: ActorSet(0),
            last_task: d.last_task,
            default: 0,
            depth,
            key,
            step: d.step,
            fp: 0,
            preempt: preempt_before,
            explored: Vec::new(),
            sleep: Vec::new(),
            execs_done: 0,
            kids_done: 0,
            execs_start: self.counted,
            known: Vec::new(),
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
                // Pruned DPOR (`cache`) explores every alternative that no
                // covered prefix rules out.
                // Sharded race-driven DPOR expands the shared decisions.
                let shared = self.kdev > 0 && depth < self.kdev;
                node.backtrack = if self.race_driven && !shared && !d.set.contains(Actor::CRASH) {
                    let mut b = ActorSet(0);
                    b.insert(Actor(def as u8));
                    b
                } else {
                    node.allowed
                };
                def
            }
        };
        node.default = default;
        if self.cache && d.kind == DecisionKind::Schedule {
            if self.learns() {
                self.check_state(node.fp, node.step);
            }
            let mut dead = self.covered(node.fp, d.last_task, preempt_before);
            if !dead {
                if self.learns() {
                    // step checking: what each step allowed here should do
                    let steps = &self.seen.steps;
                    for a in node.allowed.iter() {
                        if let Some(h) = rt::predict_step(a, &|k| steps.get(&k).copied()) {
                            node.known.push((a, h));
                        }
                    }
                }
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
            // whose key may be ours (the others' are other shards' subtrees)
            let pos = self.nodes.len();
            let mine = node.allowed.minus(node.done).iter().find(|a| {
                let (k, devs) = node.key_after(pos, u32::from(a.0), self.kdev);
                self.may_be_ours(k, devs)
            });
            match mine {
                Some(a) => chosen = u32::from(a.0),
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
        let (key, devs) = self.path_now();
        let ours = self.kdev == 0 || self.owns(key, devs);
        if !ours {
            self.foreign = true;
        }
        ours
    }
}
