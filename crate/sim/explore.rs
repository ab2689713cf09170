//! The exploration driver: runs many executions of a model under a
//! strategy, with an execution budget, progress callbacks, cancellation,
//! sharding, statistics, and per-outcome records (first schedule, and the
//! schedule with the fewest preemptions found).
//!
//! The library has no wall-clock budget; a caller that wants one checks
//! its own clock in [`Observer::cancelled`].
//!
//! Checkpoints ([`Observer::checkpoint`]) let a long search stop and resume
//! from where it was; per outcome the driver also keeps the shortest
//! schedule found (`shortest_token`), the schedule shrunk without a
//! separate shrinking pass.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::exec::{EndKind, Execution, Executor, Model, RunOptions};
use super::oracle::lockdep::{LockGraph, LockGraphState, LockOrder};
use super::oracle::{Outcome, OutcomeKey, OutcomeKind};
use super::rt::RT;
use super::sched::dfs::DfsState;
use super::sched::replay::Replay;
use super::sched::{Dfs, DfsConfig, Pct, RandomScheduler, Scheduler};
use super::token::{Schedule, TokenError};

/// How to explore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Uniform random scheduling (PCG32, per-execution streams).
    Random { seed: u64 },
    /// PCT with the given depth.
    Pct { seed: u64, depth: u32 },
    /// Exhaustive DFS (naive or DPOR) under a preemption bound.
    Dfs {
        preemption_bound: Option<u32>,
        dpor: bool,
    },
}

/// Exploration settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExploreConfig {
    pub strategy: Strategy,
    /// Most executions this shard runs.
    pub max_executions: u64,
    /// Shard index (0-based) and count: `I/N` in the UI is `(I-1, N)`.
    pub shard: (u32, u32),
    pub run: RunOptions,
    /// Keep every explored schedule in the report (tests, small models).
    pub keep_schedules: bool,
    /// The declared lock order the lockdep oracle checks besides the
    /// order it learns (for a scenario: the order fs/ext4/super.c documents
    /// in the run's kernel version, `scenario::locks::ext4_lock_order`).
    #[serde(skip)]
    pub declared_order: LockOrder,
    /// Call the observer's `progress` every this many executions.
    pub progress_every: u64,
    /// DFS+DPOR without a bound: drive the search by races
    /// (`DfsConfig::race_driven`) instead of the pruned search.
    #[serde(default)]
    pub race_driven: bool,
    /// Bounded DPOR: keep the reduction to the end (the default); false
    /// lets it give it up for naive DFS where it does not pay (opt-in,
    /// `sched::dfs`, "Giving up").
    #[serde(default = "super::sched::dfs::keep_by_default")]
    pub keep_reduction: bool,
    /// Bounded or unbounded pruned DPOR: check every step against what
    /// the steps learnt predict (`DfsConfig::check_steps`).
    #[serde(default)]
    pub check_steps: bool,
    /// Stop as soon as every group has been seen: each group is satisfied
    /// by an outcome of any of its kinds (empty: never stop early). For
    /// finding a race, not for checking its absence: the search stops
    /// short of its end ([`Stats::stopped_at_find`]), so it proves nothing
    /// absent. Deterministic: checked after each counted execution.
    #[serde(default)]
    pub stop_when_found: Vec<Vec<OutcomeKind>>,
}

impl Default for ExploreConfig {
    fn default() -> Self {
        ExploreConfig {
            strategy: Strategy::Dfs {
                preemption_bound: Some(2),
                dpor: true,
            },
            max_executions: 100_000,
            shard: (0, 1),
            run: RunOptions::default(),
            keep_schedules: false,
            declared_order: LockOrder::none(),
            progress_every: 1000,
            race_driven: false,
            keep_reduction: true,
            check_steps: false,
            stop_when_found: Vec::new(),
        }
    }
}

/// Counters of an exploration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Executions run and counted (this shard's).
    pub executions: u64,
    /// ... that ran to an end state (complete, deadlock, crash, BUG).
    pub complete: u64,
    /// ... that the step limit or the task limit (`EndKind::TaskLimit`) cut.
    pub cut_by_step_limit: u64,
    pub deadlocks: u64,
    pub crashes: u64,
    /// DFS alternatives within the bound left unexplored by DPOR.
    pub pruned_by_dpor: u64,
    /// Executions that belonged to another shard (run, not counted).
    pub foreign_executions: u64,
    /// Bounded DPOR: runs stopped at a prefix equivalent to one already
    /// explored (run up to that point, not counted as executions).
    #[serde(default)]
    pub cut_runs: u64,
    /// Steps the cut runs took, their replayed prefixes included: what the
    /// stateless search spends on runs it then discards (`steps` counts the
    /// executions' steps).
    #[serde(default)]
    pub cut_steps: u64,
    /// Pruned DPOR: steps predicted from the steps learnt that ran
    /// otherwise, or learnt two ways ([`Dfs::mispredicted`]): 0 unless the
    /// model breaks the assumption the reduction rests on.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mispredicted_steps: u64,
    /// Step checking: the first step that went otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_misprediction: Option<StepAt>,
    pub distinct_outcomes: u64,
    /// The DFS search finished (every alternative explored).
    pub exhausted: bool,
    /// The budget ran out before the search finished.
    pub budget_exhausted: bool,
    pub cancelled: bool,
    /// Total steps over all counted executions.
    pub steps: u64,
    /// DFS: the executions the whole (shard of the) search is estimated to
    /// take, from the part explored so far ([`Dfs::estimated_executions`]; 0: no
    /// estimate yet). Equal to `executions` once the search is exhausted.
    #[serde(default)]
    pub estimated_executions: u64,
    /// Bounded DPOR gave its reduction up for naive DFS, which it judged
    /// cheaper on this model (`sched::dfs`, "Giving up").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reduction_given_up: bool,
    /// The search stopped once every kind of
    /// [`ExploreConfig::stop_when_found`] showed, before its end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped_at_find: bool,
}

/// One distinct outcome of an exploration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub key: OutcomeKey,
    /// The outcome as first found.
    pub first: Outcome,
    pub first_execution: u64,
    pub first_token: String,
    /// Executions showing it.
    pub count: u64,
    /// Fewest preemptions among executions showing it, and that schedule.
    pub fewest_preemptions: u32,
    pub fewest_token: String,
    /// The outcome as found in that schedule.
    pub fewest: Outcome,
    /// The shortest schedule (fewest choices) showing it, and its length.
    #[serde(default)]
    pub shortest_token: String,
    #[serde(default)]
    pub shortest_len: u32,
}

/// The result of an exploration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    pub stats: Stats,
    /// Distinct outcomes in order of discovery.
    pub outcomes: Vec<OutcomeRecord>,
    /// Every explored schedule (only with `keep_schedules`).
    pub schedules: Vec<Schedule>,
    /// Lock-class dependencies learned (from, to).
    pub lock_graph: Vec<(String, String)>,
    /// The same with lockdep's dependency types (`"EN"`, `"SN|EN"`...).
    #[serde(default)]
    pub lock_graph_typed: Vec<(String, String, String)>,
}

impl Report {
    /// The distinct outcome keys, sorted.
    pub fn outcome_keys(&self) -> Vec<OutcomeKey> {
        let mut v: Vec<OutcomeKey> = self.outcomes.iter().map(|o| o.key.clone()).collect();
        v.sort();
        v
    }

    /// The first record of `kind`.
    pub fn find(&self, kind: &super::oracle::OutcomeKind) -> Option<&OutcomeRecord> {
        self.outcomes.iter().find(|o| &o.key.kind == kind)
    }
}

/// Progress and cancellation hooks.
pub trait Observer {
    /// Called every `progress_every` executions and at the end.
    fn progress(&mut self, _stats: &Stats) {}
    /// Polled before every execution; true stops the exploration.
    fn cancelled(&mut self) -> bool {
        false
    }
    /// Polled between executions: true makes the driver call
    /// [`Observer::checkpoint`] now.
    fn checkpoint_due(&mut self, _stats: &Stats) -> bool {
        false
    }
    /// Whether the driver should also call [`Observer::checkpoint`] when it
    /// stops before the search is complete (budget, cancellation).
    fn wants_checkpoints(&self) -> bool {
        false
    }
    /// Receives where the exploration stands ([`explore_from`] continues
    /// from it).
    fn checkpoint(&mut self, _cp: Checkpoint) {}
}

/// The format of [`Checkpoint`]; a checkpoint of another format is refused.
pub const CHECKPOINT_VERSION: u32 = 2;

/// Where an exploration stands between two executions: everything
/// [`explore_from`] needs to go on exactly as the exploration would have
/// (the DFS path and its alternatives still to try, the covered prefixes,
/// the lock graph learned so far, the counters and outcome records).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    pub strategy: Strategy,
    pub shard: (u32, u32),
    pub stats: Stats,
    pub outcomes: Vec<OutcomeRecord>,
    pub schedules: Vec<Schedule>,
    /// Index of the next execution (DFS: of the next counted one; random
    /// and PCT: of the shard's next run).
    pub next: u64,
    pub dfs: Option<DfsState>,
    pub lockdep: LockGraphState,
}

/// Why a checkpoint cannot continue this exploration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("checkpoint format {found}, this ext4lab reads format {CHECKPOINT_VERSION}")]
    Version { found: u32 },
    #[error("the checkpoint is of another exploration: {0}")]
    Mismatch(String),
    #[error("the checkpoint is damaged: {0}")]
    Damaged(String),
}

/// An observer that does nothing.
pub struct NoObserver;
impl Observer for NoObserver {}

fn set_lockdep(graph: LockGraph) -> LockGraph {
    RT.with(|r| std::mem::replace(&mut r.borrow_mut().lockdep, graph))
}

struct Recorder {
    map: BTreeMap<OutcomeKey, usize>,
    records: Vec<OutcomeRecord>,
}

impl Recorder {
    /// Whether every group of `want` has an outcome recorded (never, for
    /// no groups).
    fn shows_all(&self, want: &[Vec<OutcomeKind>]) -> bool {
        !want.is_empty()
            && want
                .iter()
                .all(|g| self.records.iter().any(|r| g.contains(&r.key.kind)))
    }

    fn record(&mut self, index: u64, exec: &Execution) {
        self.record_where(index, exec, |_| true);
    }

    /// Records only the outcomes of `kind`.
    fn record_kind(&mut self, index: u64, exec: &Execution, kind: &OutcomeKind) {
        self.record_where(index, exec, |o| &o.kind == kind);
    }

    fn record_where(&mut self, index: u64, exec: &Execution, keep: impl Fn(&Outcome) -> bool) {
        let mut token: Option<String> = None;
        for o in exec.outcomes.iter().filter(|o| keep(o)) {
            let key = o.key();
            let tok = token.get_or_insert_with(|| exec.token()).clone();
            match self.map.get(&key) {
                Some(&i) => {
                    let r = &mut self.records[i];
                    r.count += 1;
                    let len = exec.schedule.0.len() as u32;
                    if len < r.shortest_len {
                        r.shortest_len = len;
                        r.shortest_token = tok.clone();
                    }
                    if exec.preemptions < r.fewest_preemptions {
                        r.fewest_preemptions = exec.preemptions;
                        r.fewest_token = tok;
                        r.fewest = o.clone();
                    }
                }
                None => {
                    self.map.insert(key.clone(), self.records.len());
                    self.records.push(OutcomeRecord {
                        key,
                        first: o.clone(),
                        first_execution: index,
                        first_token: tok.clone(),
                        count: 1,
                        fewest_preemptions: exec.preemptions,
                        fewest_token: tok.clone(),
                        fewest: o.clone(),
                        shortest_token: tok,
                        shortest_len: exec.schedule.0.len() as u32,
                    });
                }
            }
        }
    }
}

/// Explores `model` as `cfg` says.
pub fn explore(model: &Model, cfg: &ExploreConfig, obs: &mut dyn Observer) -> Report {
    // nothing to resume: no resume error can arise
    explore_from(model, cfg, obs, None).unwrap_or_default()
}

/// [`explore`], going on from `resume` (a checkpoint of the same
/// exploration) when given.
pub fn explore_from(
    model: &Model,
    cfg: &ExploreConfig,
    obs: &mut dyn Observer,
    resume: Option<Checkpoint>,
) -> Result<Report, ResumeError> {
    let (shard, count) = (cfg.shard.0, cfg.shard.1.max(1));
    let dfs_cfg = |preemption_bound: Option<u32>, dpor: bool| DfsConfig {
        preemption_bound,
        dpor,
        shard_index: shard,
        shard_count: count,
        race_driven: cfg.race_driven,
        keep_reduction: cfg.keep_reduction,
        check_steps: cfg.check_steps,
    };
    let mut stats = Stats::default();
    let mut rec = Recorder {
        map: BTreeMap::new(),
        records: Vec::new(),
    };
    let mut schedules = Vec::new();
    let mut graph = LockGraph::new(&cfg.declared_order);
    let mut next = 0u64;
    let mut dfs_state = None;
    if let Some(cp) = resume {
        if cp.version != CHECKPOINT_VERSION {
            return Err(ResumeError::Version { found: cp.version });
        }
        if cp.strategy != cfg.strategy {
            return Err(ResumeError::Mismatch(format!(
                "strategy {:?}, not {:?}",
                cp.strategy, cfg.strategy
            )));
        }
        if cp.shard != (shard, count) {
            return Err(ResumeError::Mismatch(format!(
                "shard {}/{}, not {}/{}",
                cp.shard.0 + 1,
                cp.shard.1,
                shard + 1,
                count
            )));
        }
        if let Strategy::Dfs {
            preemption_bound,
            dpor,
        } = cfg.strategy
        {
            let st = cp
                .dfs
                .ok_or_else(|| ResumeError::Damaged("no DFS state".into()))?;
            dfs_state = Some(
                Dfs::from_state(dfs_cfg(preemption_bound, dpor), st)
                    .map_err(|e| ResumeError::Damaged(e.to_string()))?,
            );
        }
        stats = Stats {
            budget_exhausted: false,
            cancelled: false,
            ..cp.stats
        };
        for r in cp.outcomes {
            rec.map.insert(r.key.clone(), rec.records.len());
            rec.records.push(r);
        }
        schedules = cp.schedules;
        next = cp.next;
        graph = graph.with_state(&cp.lockdep);
    }
    let saved = set_lockdep(graph);
    let checkpoint = |stats: &Stats,
                      rec: &Recorder,
                      schedules: &Vec<Schedule>,
                      next: u64,
                      dfs: Option<&Dfs>|
     -> Checkpoint {
        let mut stats = stats.clone();
        stats.distinct_outcomes = rec.records.len() as u64;
        Checkpoint {
            version: CHECKPOINT_VERSION,
            strategy: cfg.strategy.clone(),
            shard: (shard, count),
            stats,
            outcomes: rec.records.clone(),
            schedules: schedules.clone(),
            next,
            dfs: dfs.map(Dfs::state),
            lockdep: RT.with(|r| r.borrow().lockdep.state()),
        }
    };
    let mut ex = Executor::default();
    let mut run = cfg.run.clone();
    let count_exec = |exec: &Execution,
                      stats: &mut Stats,
                      index: u64,
                      rec: &mut Recorder,
                      schedules: &mut Vec<Schedule>| {
        stats.executions += 1;
        stats.steps += u64::from(exec.steps);
        match exec.end {
            EndKind::StepLimit | EndKind::TaskLimit => stats.cut_by_step_limit += 1,
            _ => stats.complete += 1,
        }
        if exec.end == EndKind::Deadlock {
            stats.deadlocks += 1;
        }
        if exec.end == EndKind::Crashed {
            stats.crashes += 1;
        }
        rec.record(index, exec);
        if cfg.keep_schedules {
            schedules.push(exec.schedule.clone());
        }
    };
    let every = cfg.progress_every.max(1);
    match &cfg.strategy {
        Strategy::Random { .. } | Strategy::Pct { .. } => {
            let mut sched: Box<dyn Scheduler> = match cfg.strategy {
                Strategy::Random { seed } => Box::new(RandomScheduler::new(seed)),
                Strategy::Pct { seed, depth } => Box::new(Pct::new(seed, depth)),
                Strategy::Dfs { .. } => unreachable!(),
            };
            let mut k = next;
            while stats.executions < cfg.max_executions {
                if obs.cancelled() {
                    stats.cancelled = true;
                    break;
                }
                let index = u64::from(shard) + k * u64::from(count);
                k += 1;
                sched.begin(index);
                let exec = ex.run(model, sched.as_mut(), &run);
                count_exec(&exec, &mut stats, index, &mut rec, &mut schedules);
                if stats.executions % every == 0 {
                    stats.distinct_outcomes = rec.records.len() as u64;
                    obs.progress(&stats);
                }
                if rec.shows_all(&cfg.stop_when_found) {
                    stats.stopped_at_find = true;
                    break;
                }
                if obs.checkpoint_due(&stats) {
                    let cp = checkpoint(&stats, &rec, &schedules, k, None);
                    obs.checkpoint(cp);
                }
            }
            stats.budget_exhausted = !stats.cancelled && !stats.stopped_at_find;
            if obs.wants_checkpoints() {
                let cp = checkpoint(&stats, &rec, &schedules, k, None);
                obs.checkpoint(cp);
            }
        }
        Strategy::Dfs {
            preemption_bound,
            dpor,
        } => {
            run.races = *dpor && preemption_bound.is_none() && cfg.race_driven;
            let mut dfs = match dfs_state {
                Some(d) => d,
                None => Dfs::new(dfs_cfg(*preemption_bound, *dpor)),
            };
            let mut index = next;
            loop {
                if dfs.is_finished() {
                    // resumed from the checkpoint of a finished search
                    stats.exhausted = true;
                    break;
                }
                if stats.executions >= cfg.max_executions {
                    stats.budget_exhausted = true;
                    break;
                }
                if obs.cancelled() {
                    stats.cancelled = true;
                    break;
                }
                dfs.begin(index);
                // bounded DPOR may give up its reduction (and its clocks)
                run.hb = dfs.wants_clocks();
                let exec = ex.run(model, &mut dfs, &run);
                let mut report = false;
                if dfs.last_was_cut() {
                    // a prefix equivalent to one explored: nothing new below
                    stats.cut_runs += 1;
                    stats.cut_steps += u64::from(exec.steps);
                } else if dfs.leaf_is_ours() {
                    count_exec(&exec, &mut stats, index, &mut rec, &mut schedules);
                    index += 1;
                    report = stats.executions % every == 0;
                } else {
                    stats.foreign_executions += 1;
                    // lockdep reports an inversion once, when the graph
                    // first closes the cycle; if that happened in another
                    // shard's run, this shard would never report it (and
                    // neither might the owner, whose graph closes it in
                    // another run), so inversions are kept from any run.
                    rec.record_kind(index, &exec, &OutcomeKind::LockOrderInversion);
                }
                let more = dfs.after_execution(&exec);
                if let Some((step, how)) = dfs.take_divergence() {
                    stats.first_misprediction.get_or_insert_with(|| StepAt {
                        step,
                        schedule: exec.token(),
                        how,
                    });
                }
                if !more {
                    stats.exhausted = true;
                    break;
                }
                stats.pruned_by_dpor = if *dpor { dfs.pruned } else { 0 };
                if report {
                    // after moving on, so the estimate counts this run
                    stats.distinct_outcomes = rec.records.len() as u64;
                    stats.estimated_executions = dfs.estimated_executions();
                    obs.progress(&stats);
                }
                if rec.shows_all(&cfg.stop_when_found) {
                    stats.stopped_at_find = true;
                    break;
                }
                if obs.checkpoint_due(&stats) {
                    let cp = checkpoint(&stats, &rec, &schedules, index, Some(&dfs));
                    obs.checkpoint(cp);
                }
            }
            stats.pruned_by_dpor = if *dpor { dfs.pruned } else { 0 };
            stats.mispredicted_steps = dfs.mispredicted();
            stats.reduction_given_up = dfs.gave_up();
            stats.estimated_executions = dfs.estimated_executions();
            if !stats.exhausted && obs.wants_checkpoints() {
                let cp = checkpoint(&stats, &rec, &schedules, index, Some(&dfs));
                obs.checkpoint(cp);
            }
        }
    }
    stats.distinct_outcomes = rec.records.len() as u64;
    obs.progress(&stats);
    let graph = set_lockdep(saved);
    Ok(Report {
        stats,
        outcomes: rec.records,
        schedules,
        lock_graph: graph.edges(),
        lock_graph_typed: graph.typed_edges(),
    })
}

/// A step of an execution: its number, the execution's replay token and
/// what happened there.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepAt {
    pub step: u32,
    pub schedule: String,
    /// What went otherwise, in words.
    #[serde(default)]
    pub how: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Replays a token with the trace on. A token that no longer fits the
/// model yields an execution whose `divergence` names the step (never a
/// panic): a choice not enabled there, a schedule that ends before the
/// execution, or an execution that ends with choices left over.
pub fn replay(model: &Model, token: &str, opts: &RunOptions) -> Result<Execution, TokenError> {
    let schedule = Schedule::from_token(token)?;
    Ok(replay_schedule(model, &schedule, opts))
}

/// [`replay`] of a decoded schedule.
pub fn replay_schedule(model: &Model, schedule: &Schedule, opts: &RunOptions) -> Execution {
    let mut opts = opts.clone();
    opts.trace = true;
    let mut r = Replay::new(schedule);
    // A replay learns its own lock graph, as a fresh process would: the
    // graph of an earlier replay on this thread must not mark this one's
    // inversion as already reported.
    let saved = set_lockdep(LockGraph::default());
    let mut exec = Executor::default().run(model, &mut r, &opts);
    set_lockdep(saved);
    if exec.divergence.is_none() {
        if let Some(stop) = &r.stopped {
            exec.end = EndKind::Diverged;
            exec.divergence = Some(super::exec::Divergence {
                index: stop.index,
                step: stop.step,
                recorded: None,
                available: stop.candidates.iter().map(|a| u32::from(a.0)).collect(),
                message: format!(
                    "schedule ended at step {} but the execution goes on",
                    stop.step
                ),
            });
        } else if r.remaining() > 0 {
            exec.divergence = Some(super::exec::Divergence {
                index: exec.schedule.0.len() as u32,
                step: exec.steps,
                recorded: schedule.0.get(exec.schedule.0.len()).copied(),
                available: Vec::new(),
                message: format!(
                    "execution ended at step {} with {} choices left",
                    exec.steps,
                    r.remaining()
                ),
            });
        }
    }
    exec
}
