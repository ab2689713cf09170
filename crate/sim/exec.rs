//! The executor: runs one execution of a [`Model`] under a [`Scheduler`].
//!
//! A model is a world factory: a closure that, for each execution, builds
//! fresh state (primitives, `Rc<RefCell<..>>` shared data) and spawns the
//! tasks. Nothing survives from one execution to the next except what the
//! explorer keeps on purpose (the lockdep graph).
//!
//! One step = the scheduler picks an enabled actor; a task actor performs
//! the operation it announced and runs on until it announces the next one
//! (awaits a primitive) or finishes. Code between two primitives runs
//! atomically, so kernel code must reach shared state only through
//! primitives or under a lock (or mark the access with `preempt_point`).

use std::borrow::Cow;
use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Waker};

use serde::{Deserialize, Serialize};

use super::oracle::{Outcome, OutcomeKind};
use super::rt::{self, Actor, ActorSet, Op, OpKind, RtOptions, Status, TaskFuture, TaskId, RT};
use super::sched::{Decision, DecisionKind, Scheduler};
use super::token::Schedule;
use super::trace::{EventKind, TaskInfo, Trace};

type EndHook = Box<dyn FnOnce(&EndView) -> Vec<Outcome>>;

/// Handed to the world closure: spawns tasks, registers end-of-run checks.
pub struct World {
    hooks: Vec<EndHook>,
}

impl World {
    /// Spawns task `name` in process `name`.
    pub fn spawn(
        &mut self,
        name: impl Into<crate::sim::rt::ObjName>,
        fut: impl Future<Output = ()> + 'static,
    ) -> TaskId {
        super::api::spawn(name, fut)
    }

    /// Spawns task `name` in simulated process `process` (tasks of one
    /// process share an `mm` in the kernel model; the trace groups them).
    pub fn spawn_in(
        &mut self,
        process: impl Into<Cow<'static, str>>,
        name: impl Into<crate::sim::rt::ObjName>,
        fut: impl Future<Output = ()> + 'static,
    ) -> TaskId {
        super::api::spawn_in(process, name, fut)
    }

    /// Registers a data oracle: called once at the end of every execution
    /// (complete, deadlocked, crashed...) with primitives still readable;
    /// returns the outcomes it finds (stale data, lost write, fsck...).
    pub fn on_end(&mut self, check: impl FnOnce(&EndView) -> Vec<Outcome> + 'static) {
        self.hooks.push(Box::new(check));
    }

    /// Registers the model's digest of its shared state (named parts, each
    /// hashed). Step checking (`ExploreConfig::check_steps`) takes it at
    /// every decision and compares the digests of prefixes with one trace
    /// fingerprint: they must be equal when every access to shared state is
    /// announced. Called between steps; must not depend on the order of
    /// independent steps (sets, not logs).
    pub fn state_digest(&mut self, f: impl Fn() -> Vec<(&'static str, u64)> + 'static) {
        rt::set_state_digest(Some(Rc::new(f)));
    }
}

/// A model: the world factory.
#[derive(Clone)]
pub struct Model {
    setup: Rc<dyn Fn(&mut World)>,
}

impl Model {
    /// A model whose executions are built by `setup`.
    pub fn new(setup: impl Fn(&mut World) + 'static) -> Model {
        Model {
            setup: Rc::new(setup),
        }
    }

    /// Runs one execution (convenience over [`Executor::run`]).
    pub fn run(&self, sched: &mut dyn Scheduler, opts: &RunOptions) -> Execution {
        Executor::default().run(self, sched, opts)
    }
}

/// Options of one execution.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunOptions {
    /// Record the trace (off during bulk exploration, on for replay).
    pub trace: bool,
    /// Stop an execution after this many steps (outcome `StepLimit`).
    pub max_steps: u32,
    /// The memory model of `atomic_t` values (see `sync::atomic`).
    #[serde(default)]
    pub memory: super::MemoryModel,
    /// Under a weak model, most steps of its task a store stays buffered.
    #[serde(default = "default_window")]
    pub store_window: u32,
    /// Track happens-before and report races (DPOR needs it; the explorer
    /// sets it for DFS with DPOR).
    #[serde(skip)]
    pub hb: bool,
    /// With `hb`: also report races (unbounded DPOR needs them; bounded
    /// DPOR only needs the clocks and the trace fingerprint).
    #[serde(skip, default = "yes")]
    pub races: bool,
}

fn yes() -> bool {
    true
}

/// Default `store_window`.
pub const DEFAULT_STORE_WINDOW: u32 = 16;

fn default_window() -> u32 {
    DEFAULT_STORE_WINDOW
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            trace: false,
            max_steps: 10_000,
            memory: super::MemoryModel::Sc,
            store_window: DEFAULT_STORE_WINDOW,
            hb: false,
            races: true,
        }
    }
}

/// How an execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndKind {
    /// Every task finished.
    Complete,
    /// No actor could run while some task was blocked.
    Deadlock,
    /// The scheduler chose the crash at a crash point.
    Crashed,
    /// A `bug()` site halted the run.
    Halted,
    /// The step limit was reached.
    StepLimit,
    /// A spawn past `MAX_TASKS` (an `engine-error` outcome says which).
    TaskLimit,
    /// The scheduler stopped (replay prefix exhausted, manual mode).
    Stopped,
    /// A replayed choice did not fit (see [`Execution::divergence`]).
    Diverged,
}

/// Where a replayed schedule stopped fitting the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// Index of the choice in the schedule.
    pub index: u32,
    pub step: u32,
    /// The recorded choice (None: the schedule ended before the run).
    pub recorded: Option<u32>,
    /// What could have been chosen there.
    pub available: Vec<u32>,
    pub message: String,
}

/// What end-of-run checks see.
pub struct EndView {
    pub end: EndKind,
    pub step: u32,
    /// Crash point name when the run crashed.
    pub crash_point: Option<String>,
    /// Bios submitted but not completed: (bio, block, write).
    pub inflight_bios: Vec<(u32, u64, bool)>,
    /// Outcomes found so far in this execution.
    pub outcomes: Vec<Outcome>,
}

/// The result of one execution.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Execution {
    pub schedule: Schedule,
    pub end: EndKind,
    pub outcomes: Vec<Outcome>,
    pub steps: u32,
    pub preemptions: u32,
    pub trace: Option<Trace>,
    pub divergence: Option<Divergence>,
    #[serde(skip)]
    pub(crate) races: Vec<(u32, Actor)>,
    /// Decision index of each step (for mapping races to decisions).
    #[serde(skip)]
    pub(crate) step_decision: Vec<u32>,
    /// With `RunOptions::hb`: the fingerprint of the execution's
    /// Mazurkiewicz trace (executions that differ only in the order of
    /// independent steps have the same one; see `sched::dfs`).
    #[serde(skip)]
    pub trace_fingerprint: Option<u128>,
}

impl Execution {
    /// The replay token of this execution.
    pub fn token(&self) -> String {
        self.schedule.to_token()
    }

    /// The trace hash, when the trace was recorded.
    pub fn trace_hash(&self) -> Option<u64> {
        self.trace.as_ref().map(Trace::hash)
    }
}

/// Reusable executor state (buffers survive across executions).
#[derive(Default)]
pub struct Executor {
    futures: Vec<Option<TaskFuture>>,
    cands: Vec<Actor>,
    last_len: usize,
}

fn rt_mut<R>(f: impl FnOnce(&mut rt::Rt) -> R) -> R {
    RT.with(|r| f(&mut r.borrow_mut()))
}

/// Why an execution loop stops: its end, and the divergence if the
/// recorded schedule no longer fits.
type Stop = (EndKind, Option<Divergence>);

/// The decisions of one execution so far.
struct Run {
    schedule: Vec<u32>,
    step_decision: Vec<u32>,
    preemptions: u32,
    last_task: Option<TaskId>,
    /// Outcomes the executor itself finds (deadlock, step limit).
    outcomes: Vec<Outcome>,
}

/// Leaves the model inactive even if a task or a hook panics, so the
/// thread can run again (tests that expect a panic, the CLI).
struct Deactivate;
impl Drop for Deactivate {
    fn drop(&mut self) {
        RT.with(|r| {
            if let Ok(mut rt) = r.try_borrow_mut() {
                rt.active = false;
                rt.tearing_down = false;
            }
        })
    }
}

/// What the executor reads from the runtime before each decision.
struct Candidates {
    set: ActorSet,
    /// `Some(task_limit)` when a task halted the run.
    halt: Option<bool>,
    step: u32,
    /// Every task finished, or blocked or waiting while idle.
    all_done: bool,
}

impl Executor {
    /// Runs one execution of `model` with `sched`: set up the model, then
    /// one scheduling decision and one step at a time
    /// ([`Executor::next_step`]) until the run ends, then the model's
    /// end-of-run checks ([`Executor::end_of_run`]).
    pub fn run(
        &mut self,
        model: &Model,
        sched: &mut dyn Scheduler,
        opts: &RunOptions,
    ) -> Execution {
        self.futures.clear();
        reset_runtime(opts);
        let _deactivate = Deactivate;
        let mut world = World { hooks: Vec::new() };
        (model.setup)(&mut world);
        self.futures.clear();
        self.adopt_spawned();

        let mut run = Run {
            schedule: Vec::with_capacity(self.last_len),
            step_decision: Vec::with_capacity(if opts.hb { self.last_len } else { 0 }),
            preemptions: 0,
            last_task: None,
            outcomes: Vec::new(),
        };
        let mut cx = Context::from_waker(Waker::noop());
        let (end, divergence) = loop {
            if let Err(stop) = self.next_step(sched, opts, &mut run, &mut cx) {
                break stop;
            }
        };
        self.end_of_run(sched, opts, world, run, end, divergence)
    }

    /// One decision and what it runs: a task's step, a store buffer's
    /// flush, or the crash. `Err` when the run ends.
    fn next_step(
        &mut self,
        sched: &mut dyn Scheduler,
        opts: &RunOptions,
        run: &mut Run,
        cx: &mut Context<'_>,
    ) -> Result<(), Stop> {
        let Candidates {
            set,
            halt,
            step,
            all_done,
        } = self.candidates();
        match halt {
            Some(true) => return Err((EndKind::TaskLimit, None)),
            Some(false) => return Err((EndKind::Halted, None)),
            None => {}
        }
        if set.is_empty() {
            if all_done {
                return Err((EndKind::Complete, None));
            }
            run.outcomes.push(rt_mut(|rt| rt.deadlock_outcome()));
            return Err((EndKind::Deadlock, None));
        }
        if step >= opts.max_steps {
            let mut o = Outcome::new(OutcomeKind::StepLimit, step);
            o.message = format!("execution cut after {step} steps");
            run.outcomes.push(o);
            return Err((EndKind::StepLimit, None));
        }
        let d = Decision {
            index: run.schedule.len() as u32,
            step,
            kind: DecisionKind::Schedule,
            candidates: &self.cands,
            set,
            last_task: run.last_task,
            preemptions: run.preemptions,
        };
        let Some(c) = sched.choose(&d) else {
            return Err((EndKind::Stopped, None));
        };
        if c > 127 || !set.contains(Actor(c as u8)) {
            let divergence = Divergence {
                index: run.schedule.len() as u32,
                step,
                recorded: Some(c),
                available: self.cands.iter().map(|a| u32::from(a.0)).collect(),
                message: format!("choice {c} is not enabled at step {step}"),
            };
            return Err((EndKind::Diverged, Some(divergence)));
        }
        if d.is_preemption(Actor(c as u8)) {
            run.preemptions += 1;
        }
        run.schedule.push(c);
        if opts.hb {
            run.step_decision.push((run.schedule.len() - 1) as u32);
        }
        let actor = Actor(c as u8);
        if actor == Actor::CRASH {
            record_crash();
            return Err((EndKind::Crashed, None));
        }
        if let Some(t) = actor.as_flush() {
            return flush_step(sched, run, step, actor, t);
        }
        let t = actor.as_task().unwrap_or(0);
        run.last_task = Some(t);
        self.task_step(sched, run, step, actor, t, cx)
    }

    /// The runtime's enabled actors (tasks, store-buffer flushers, the
    /// crash) into `self.cands`, and whether the run is over.
    fn candidates(&mut self) -> Candidates {
        rt_mut(|rt| {
            self.cands.clear();
            let mut set = ActorSet::default();
            let mut crash = false;
            let mut all_done = true;
            for t in 0..rt.ntasks {
                match rt.tasks[t].status {
                    Status::Runnable(op) => {
                        let enabled = rt.op_enabled(op);
                        // A kernel thread idle for work (kjournald2)
                        // does not keep the run alive.
                        all_done &= !enabled && rt.tasks[t].idle;
                        if enabled {
                            set.insert(Actor::task(t as TaskId));
                            crash |= op.kind == OpKind::CrashPoint;
                        }
                    }
                    Status::Blocked(_) => all_done &= rt.tasks[t].idle,
                    Status::Finished => {}
                }
            }
            for t in 0..rt.ntasks {
                if !rt.tasks[t].store_buf.is_empty() {
                    set.insert(Actor::flush(t as TaskId));
                }
            }
            if crash {
                set.insert(Actor::CRASH);
            }
            self.cands.extend(set.iter());
            Candidates {
                set,
                halt: rt.halt.then_some(rt.task_limit),
                step: rt.step,
                all_done,
            }
        })
    }

    /// Task `t`'s step: its `nondet()` value if it asks for one, then one
    /// poll of its future up to its next scheduling point.
    fn task_step(
        &mut self,
        sched: &mut dyn Scheduler,
        run: &mut Run,
        step: u32,
        actor: Actor,
        t: TaskId,
        cx: &mut Context<'_>,
    ) -> Result<(), Stop> {
        let op = rt_mut(|rt| rt.next_op(t));
        if op.kind == OpKind::Choose {
            let v = choose_value(sched, run, step, op.arg)?;
            rt_mut(|rt| rt.tasks[t as usize].chosen_value = v);
        }
        begin_task_step(step, t, actor, op);
        let fut = self.futures[t as usize].as_mut().expect("task future");
        let done = fut.as_mut().poll(cx).is_ready();
        if done {
            self.futures[t as usize] = None;
        }
        self.end_task_step(t, done);
        Ok(())
    }

    /// After task `t`'s poll: a finished task's exit checks, the step
    /// counted, and the tasks it spawned adopted.
    fn end_task_step(&mut self, t: TaskId, done: bool) {
        rt_mut(|rt| {
            if done {
                // buffered stores outlive the task: its flusher stays
                // enabled until they are visible.
                rt.tasks[t as usize].status = Status::Finished;
                if let Some(h) = rt.tasks[t as usize].held.first() {
                    let name = rt.obj_label(h.obj);
                    rt.warn(
                        "lock held when returning to user space",
                        format!("task exits holding {name}"),
                    );
                }
                rt.event(EventKind::Finish);
            } else if !rt.tasks[t as usize].announced {
                panic!(
                    "task {} awaited a future that is not a sim primitive",
                    rt.tasks[t as usize].name
                );
            }
            if rt.hb.learn {
                rt.hb.set_next(Op::end_code(rt.tasks[t as usize].status));
            }
            rt.hb.end();
            rt.current = None;
            rt.step += 1;
            if !rt.spawned.is_empty() {
                for (tid, fut) in rt.spawned.drain(..) {
                    let i = tid as usize;
                    if self.futures.len() <= i {
                        self.futures.resize_with(i + 1, || None);
                    }
                    self.futures[i] = Some(fut);
                }
            }
        });
    }

    /// After the loop: the model's end-of-run checks (unless the scheduler
    /// discards the run), the runtime's outcomes, trace and races, and the
    /// execution record.
    fn end_of_run(
        &mut self,
        sched: &mut dyn Scheduler,
        opts: &RunOptions,
        mut world: World,
        run: Run,
        end: EndKind,
        divergence: Option<Divergence>,
    ) -> Execution {
        rt::set_state_digest(None);
        if opts.hb {
            rt_mut(|rt| rt.probe_pending());
        }
        let mut hook_outcomes = Vec::new();
        // a run the scheduler stopped to discard (a DFS prefix already
        // covered, another shard's path) is not an end state: the model's
        // end-of-run checks would see a half-run world. A finished run of
        // another shard is not counted: its checks would be wasted work.
        let discarded = if end == EndKind::Stopped {
            sched.discards_stopped_run()
        } else {
            sched.discards_finished_run()
        };
        if !world.hooks.is_empty() && !discarded {
            let view = rt_mut(|rt| EndView {
                end,
                step: rt.step,
                crash_point: rt.crash_point.map(|(_, p)| p.to_string()),
                inflight_bios: rt.inflight.clone(),
                outcomes: rt
                    .outcomes
                    .iter()
                    .chain(run.outcomes.iter())
                    .cloned()
                    .collect(),
            });
            for h in world.hooks.drain(..) {
                hook_outcomes.extend(h(&view));
            }
        }
        let (mut outcomes, trace, races, steps, fingerprint) = rt_mut(|rt| {
            let outcomes = std::mem::take(&mut rt.outcomes);
            let trace = opts.trace.then(|| Trace {
                tasks: rt.tasks[..rt.ntasks]
                    .iter()
                    .map(|t| TaskInfo {
                        name: t.name.to_string(),
                        process: t.process.to_string(),
                    })
                    .collect(),
                events: std::mem::take(&mut rt.trace),
            });
            let races = std::mem::take(&mut rt.hb.races);
            let fingerprint = opts.hb.then(|| rt.hb.fingerprint());
            rt.tearing_down = true;
            (outcomes, trace, races, rt.step, fingerprint)
        });
        self.futures.clear();
        drop(world);
        outcomes.extend(run.outcomes);
        outcomes.extend(hook_outcomes);
        self.last_len = run.schedule.len().next_power_of_two();
        // a stop is not a divergence; the replay scheduler reports its own.
        Execution {
            schedule: Schedule(run.schedule),
            end,
            outcomes,
            steps,
            preemptions: run.preemptions,
            trace,
            divergence,
            races,
            step_decision: run.step_decision,
            trace_fingerprint: fingerprint,
        }
    }

    fn adopt_spawned(&mut self) {
        let spawned = rt_mut(|rt| std::mem::take(&mut rt.spawned));
        for (tid, fut) in spawned {
            let i = tid as usize;
            if self.futures.len() <= i {
                self.futures.resize_with(i + 1, || None);
            }
            self.futures[i] = Some(fut);
        }
    }
}

/// Resets the thread's runtime for a new execution with `opts`.
fn reset_runtime(opts: &RunOptions) {
    rt::set_state_digest(None);
    rt_mut(|rt| {
        assert!(
            !rt.active,
            "nested simulations on one thread are not supported"
        );
        rt.reset(RtOptions {
            trace: opts.trace,
            hb: opts.hb,
            races: opts.races,
            memory: opts.memory,
            store_window: opts.store_window,
        })
    });
}

/// A value decision among `n` (`nondet()`, or which buffered store a flush
/// makes visible), recorded in the schedule.
fn choose_value(sched: &mut dyn Scheduler, run: &mut Run, step: u32, n: u32) -> Result<u32, Stop> {
    let dv = Decision {
        index: run.schedule.len() as u32,
        step,
        kind: DecisionKind::Value(n),
        candidates: &[],
        set: ActorSet::default(),
        last_task: run.last_task,
        preemptions: run.preemptions,
    };
    let Some(v) = sched.choose(&dv) else {
        return Err((EndKind::Stopped, None));
    };
    if v >= n {
        let divergence = Divergence {
            index: run.schedule.len() as u32,
            step,
            recorded: Some(v),
            available: (0..n).collect(),
            message: format!("value {v} is not below {n} at step {step}"),
        };
        return Err((EndKind::Diverged, Some(divergence)));
    }
    run.schedule.push(v);
    Ok(v)
}

/// The crash actor ran: record which task's crash point it was.
fn record_crash() {
    rt_mut(|rt| {
        let who = (0..rt.ntasks).find(|&t| {
            matches!(rt.tasks[t].status, Status::Runnable(op) if op.kind == OpKind::CrashPoint)
        });
        let point = who.map(|t| rt.tasks[t].crash_point).unwrap_or("");
        rt.crash_point = who.map(|t| (t as TaskId, point));
        rt.event(EventKind::Crash {
            point: point.to_string(),
        });
    });
}

/// Task `t`'s store-buffer flusher ran: which buffered store becomes
/// visible, the oldest, or under LKMM any of the flushable ones (a value
/// choice).
fn flush_step(
    sched: &mut dyn Scheduler,
    run: &mut Run,
    step: u32,
    actor: Actor,
    t: TaskId,
) -> Result<(), Stop> {
    let n = rt_mut(|rt| rt.flushable(t).len() as u32);
    let v = if n > 1 {
        choose_value(sched, run, step, n)?
    } else {
        0
    };
    rt_mut(|rt| {
        let idx = rt.flushable(t)[v as usize];
        let clock = rt.tasks[t as usize].store_buf[idx].clock;
        rt.hb.begin(step, actor, clock.as_ref());
        if n > 1 {
            rt.hb.set_value(v);
        }
        rt.flush_at(t, idx, true);
        rt.hb.end();
        rt.step += 1;
    });
    Ok(())
}

/// Before task `t`'s poll (at `step`): the happens-before step opened, the task made
/// current, its stores older than the store window flushed (weak memory
/// models), and the step traced.
fn begin_task_step(step: u32, t: TaskId, actor: Actor, op: Op) {
    rt_mut(|rt| {
        rt.hb.begin(step, actor, None);
        if rt.hb.learn {
            rt.hb.learn_step(op.code());
        }
        if op.kind == OpKind::Choose {
            let v = rt.tasks[t as usize].chosen_value;
            rt.hb.set_value(v);
        }
        rt.current = Some(t);
        let k = rt.opts.memory.is_weak().then_some(rt.opts.store_window);
        let task = &mut rt.tasks[t as usize];
        task.steps += 1;
        task.announced = false;
        let now = task.steps;
        if let Some(k) = k {
            while rt.tasks[t as usize]
                .store_buf
                .front()
                .is_some_and(|b| now.saturating_sub(b.at_step) > k)
            {
                rt.flush_one(t, false);
            }
        }
        if rt.opts.trace {
            let op = match rt.obj_label(op.obj) {
                l if l.is_empty() => format!("{:?}", op.kind),
                l => format!("{:?} {l}", op.kind),
            };
            rt.event(EventKind::Step { actor: actor.0, op });
        }
    });
}
