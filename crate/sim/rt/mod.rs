//! The one internal model behind every public primitive (as loom's `rt`
//! behind its `sync`): tasks, objects, the current step, the trace, and the
//! happens-before state. It lives in a thread-local, re-initialised for each
//! execution, so the public handles are plain `Copy` ids and kernel code
//! moves them into tasks freely. One simulation per thread at a time.

mod actor;
pub(crate) mod clock;
mod name;
pub(crate) mod object;

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};

use crate::sim::oracle::lockdep::LockGraph;
use crate::sim::oracle::{Outcome, OutcomeKind};
use crate::sim::trace::{Event, EventKind};
pub use actor::{Actor, ActorSet};
use clock::{Access, Hb, VClock};
pub use name::ObjName;
use object::{ObjState, Object};

/// Most tasks (including bio completion tasks) one execution may spawn.
pub const MAX_TASKS: usize = 63;
/// Actor ids: tasks and their store-buffer flushers (see [`Actor`] for
/// the layout); an [`ActorSet`] is a `u128`, so 127 ids and the crash.
pub const MAX_ACTORS: usize = 127;

/// A task's index in its execution (spawn order, from 0).
pub type TaskId = u32;
/// An object's index in its execution (creation order, from 0).
pub type ObjId = u32;
/// A lock class (interned per thread; the name is what is reported).
pub type ClassId = u32;

/// What a task announced it will do when next scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpKind {
    /// First step of a task (runs up to its first primitive).
    Start,
    /// Continue after being woken (lock granted, event signalled).
    Resume,
    /// `preempt_point()`: an access to unprotected shared state.
    Yield,
    MutexLock,
    /// `spin_lock`: like a mutex, but the holder must not sleep.
    SpinLock,
    /// `mutex_trylock`, `trylock_page`, `down_*_trylock`: never waits.
    TryLock,
    DownRead,
    DownWrite,
    PageLock,
    WaitWriteback,
    WaitCompletion,
    WaitEvent,
    Load,
    Store,
    AtomicRead,
    AtomicWrite,
    AtomicRmw,
    Barrier,
    HandleStart,
    CommitLock,
    /// `jbd2_journal_lock_updates`: raise the barrier, wait for `t_updates`.
    LockUpdates,
    WaitCommit,
    BioComplete,
    CrashPoint,
    /// `nondet(n)`: the scheduler chooses a value.
    Choose,
}

/// An announced operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    pub obj: ObjId,
    pub arg: u32,
}

pub(crate) const NO_OBJ: ObjId = u32::MAX;

impl Op {
    /// The operation as a number (for step learning, `clock::Hb::predict`).
    pub(crate) fn code(&self) -> u64 {
        clock::op_code(self.kind as u8, self.obj, self.arg)
    }

    /// What a task's step ended in, for step checking: the operation it
    /// announced (kind, object: `end_name` reads it back), blocked on an
    /// object, or finished.
    pub(crate) fn end_code(status: Status) -> u32 {
        let packed = |k: u32, o: ObjId| k << 24 | (o & 0x00ff_ffff);
        match status {
            Status::Runnable(op) => packed(u32::from(op.kind as u8), op.obj),
            Status::Blocked(o) => packed(0xfe, o),
            Status::Finished => packed(0xff, 0),
        }
    }
}

/// `Op::end_code` in words.
fn end_name(code: u32, label: &dyn Fn(ObjId) -> String) -> String {
    const KINDS: [OpKind; 25] = [
        OpKind::Start,
        OpKind::Resume,
        OpKind::Yield,
        OpKind::MutexLock,
        OpKind::SpinLock,
        OpKind::TryLock,
        OpKind::DownRead,
        OpKind::DownWrite,
        OpKind::PageLock,
        OpKind::WaitWriteback,
        OpKind::WaitCompletion,
        OpKind::WaitEvent,
        OpKind::Load,
        OpKind::Store,
        OpKind::AtomicRead,
        OpKind::AtomicWrite,
        OpKind::AtomicRmw,
        OpKind::Barrier,
        OpKind::HandleStart,
        OpKind::CommitLock,
        OpKind::LockUpdates,
        OpKind::WaitCommit,
        OpKind::BioComplete,
        OpKind::CrashPoint,
        OpKind::Choose,
    ];
    let (k, o) = (code >> 24, code & 0x00ff_ffff);
    let o = if o == 0x00ff_ffff { NO_OBJ } else { o };
    let on = |o: ObjId| {
        if o == NO_OBJ {
            String::new()
        } else {
            format!(" {}", label(o))
        }
    };
    match k {
        0xff => "finishing".to_string(),
        0xfe => format!("blocking on{}", on(o)),
        k => match KINDS.iter().find(|x| **x as u32 == k) {
            Some(kind) => format!("announcing {kind:?}{}", on(o)),
            None => format!("announcing operation {k}"),
        },
    }
}

impl Op {
    pub fn new(kind: OpKind, obj: ObjId) -> Op {
        Op { kind, obj, arg: 0 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Runnable(Op),
    Blocked(ObjId),
    Finished,
}

/// Lock mode of a held lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Exclusive,
    Shared,
}

#[derive(Clone, Debug)]
pub(crate) struct Held {
    pub obj: ObjId,
    pub class: ClassId,
    pub mode: Mode,
    pub at: &'static str,
    /// Taken with a trylock (lockdep links the next lock to the held lock
    /// below it as well).
    pub trylock: bool,
}

pub(crate) struct Buffered {
    pub obj: ObjId,
    pub op: object::StoreOp,
    pub at_step: u32,
    pub clock: Option<VClock>,
    /// The task's store sequence number (program order among its stores).
    pub seq: u64,
    /// Store-ordering epoch (LKMM: bumped by `smp_wmb` and a release): an
    /// entry never becomes visible before one of an earlier epoch.
    pub epoch: u32,
}

pub(crate) struct Task {
    pub name: ObjName,
    pub process: Cow<'static, str>,
    pub status: Status,
    pub held: Vec<Held>,
    pub kfn: Vec<&'static str>,
    pub steps: u32,
    pub handle_refs: u32,
    pub handle_journal: ObjId,
    pub handle_tid: u32,
    pub store_buf: VecDeque<Buffered>,
    /// Next store sequence number and the current store epoch.
    pub store_seq: u64,
    pub store_epoch: u32,
    /// Sequence number of the task's last non-value-returning RMW
    /// (`smp_mb__after_atomic` orders everything up to it, LKMM).
    pub last_rmw_seq: Option<u64>,
    /// `smp_mb__before_atomic` seen, the next RMW not yet (LKMM).
    pub before_atomic: bool,
    pub announced: bool,
    pub chosen_value: u32,
    pub crash_point: &'static str,
    /// A kernel thread waiting for work ([`crate::sim::idle_wait`]): it
    /// does not keep the execution alive.
    pub idle: bool,
}

impl Task {
    fn new() -> Task {
        Task {
            name: ObjName::default(),
            process: Cow::Borrowed(""),
            status: Status::Finished,
            held: Vec::new(),
            kfn: Vec::new(),
            steps: 0,
            handle_refs: 0,
            handle_journal: NO_OBJ,
            handle_tid: 0,
            store_buf: VecDeque::new(),
            store_seq: 0,
            store_epoch: 0,
            last_rmw_seq: None,
            before_atomic: false,
            announced: false,
            chosen_value: 0,
            crash_point: "",
            idle: false,
        }
    }
}

/// A boxed task future.
pub(crate) type TaskFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Options fixed for one execution.
#[derive(Clone, Debug, Default)]
pub(crate) struct RtOptions {
    pub trace: bool,
    pub hb: bool,
    pub races: bool,
    pub memory: crate::sim::MemoryModel,
    /// Most steps of its task a store stays buffered (weak models).
    pub store_window: u32,
}

pub(crate) struct Rt {
    pub active: bool,
    pub tearing_down: bool,
    pub opts: RtOptions,
    pub tasks: Vec<Task>,
    pub ntasks: usize,
    pub objects: Vec<Object>,
    pub nobjs: usize,
    pub classes: Vec<&'static str>,
    pub current: Option<TaskId>,
    pub step: u32,
    pub spawned: Vec<(TaskId, TaskFuture)>,
    pub trace: Vec<Event>,
    pub outcomes: Vec<Outcome>,
    pub halt: bool,
    /// A spawn past [`MAX_TASKS`] ended the run (with `halt`).
    pub task_limit: bool,
    pub hb: Hb,
    pub lockdep: LockGraph,
    pub lockdep_new: Vec<Outcome>,
    pub misuse: Option<String>,
    pub blocks: Vec<(u64, ObjId)>,
    pub bio_seq: u32,
    pub inflight: Vec<(u32, u64, bool)>,
    pub crash_point: Option<(TaskId, &'static str)>,
}

thread_local! {
    pub(crate) static RT: RefCell<Rt> = RefCell::new(Rt::new());
    /// The current execution's model state digest (`World::state_digest`).
    static STATE_DIGEST: RefCell<Option<StateDigest>> = const { RefCell::new(None) };
}

/// A model's digest of its shared state between steps: named parts, each
/// hashed, that two prefixes of one trace must agree on
/// (`World::state_digest`).
pub type StateDigest = std::rc::Rc<dyn Fn() -> Vec<(&'static str, u64)>>;

/// Sets (or clears, at the start of an execution) the digest.
pub(crate) fn set_state_digest(f: Option<StateDigest>) {
    STATE_DIGEST.with(|s| *s.borrow_mut() = f);
}

/// The model's state digest now, if it gave one.
pub(crate) fn state_digest() -> Option<Vec<(&'static str, u64)>> {
    let f = STATE_DIGEST.with(|s| s.borrow().clone())?;
    Some(f())
}

/// Runs `f` on the current execution's model.
///
/// Panics when called outside an execution (a kernel path run without the
/// simulator), which is a programming error, never reachable from data.
pub(crate) fn with<R>(f: impl FnOnce(&mut Rt) -> R) -> R {
    RT.with(|r| {
        let mut rt = r.borrow_mut();
        assert!(
            rt.active,
            "sim primitive used outside a simulated execution (Model::run/explore)"
        );
        f(&mut rt)
    })
}

/// The fingerprint of the trace executed so far in the current execution
/// (0 unless happens-before tracking is on; see `clock::Hb::fingerprint`).
pub(crate) fn trace_fingerprint() -> u128 {
    RT.with(|r| r.borrow().hb.fingerprint())
}

/// The last step of the current execution that ended (hb on): its number,
/// hash and accesses.
pub(crate) fn last_step() -> Option<(u32, u128, clock::Foot)> {
    RT.with(|r| r.borrow().hb.last_step())
}

/// Turns step learning on for the rest of the current execution (the
/// steps from here on are new to the scheduler; see `clock::Hb::predict`).
pub(crate) fn set_learning() {
    RT.with(|r| r.borrow_mut().hb.learn = true)
}

/// Hands the (key, link, step) triples of the steps learnt since the
/// last call to `f`.
pub(crate) fn take_learned(mut f: impl FnMut(u128, u64, u32)) {
    RT.with(|r| {
        for (k, l, step) in r.borrow_mut().hb.learned.drain(..) {
            f(k, l, step)
        }
    })
}

/// The hash of the step `actor` would run next from the current state,
/// predicted from the steps learnt (`clock::Hb::predict`).
pub(crate) fn predict_step(actor: Actor, lookup: &dyn Fn(u128) -> Option<u64>) -> Option<u128> {
    RT.with(|r| {
        let rt = r.borrow();
        let t = actor.as_task().filter(|&t| (t as usize) < rt.ntasks)?;
        rt.hb.predict(actor, rt.next_op(t).code(), lookup)
    })
}

/// A step checking link in words, with the current execution's object
/// names (`clock::describe_link`).
pub(crate) fn describe_link(l: u64) -> String {
    RT.with(|r| {
        let rt = r.borrow();
        let label = |o: ObjId| {
            if o == clock::ALLOC_OBJ {
                "the object allocator".to_string()
            } else {
                rt.obj_label(o)
            }
        };
        clock::describe_link(l, &label, &|code| end_name(code, &label))
    })
}

/// A step's accesses in words, with the current execution's object names
/// (what a step that ran otherwise than predicted did).
pub(crate) fn describe_foot(f: &clock::Foot) -> String {
    RT.with(|r| {
        let rt = r.borrow();
        match f.touches() {
            None => "more accesses than a footprint keeps".to_string(),
            Some([]) => "no access".to_string(),
            Some(t) => t
                .iter()
                .map(|&(o, kind)| {
                    let what = if o == clock::ALLOC_OBJ {
                        "the object allocator".to_string()
                    } else {
                        rt.obj_label(o)
                    };
                    format!("{kind:?} {what}")
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    })
}

/// Like [`with`] but does nothing outside an execution or while it is being
/// torn down (for drop guards).
pub(crate) fn try_with(f: impl FnOnce(&mut Rt)) {
    RT.with(|r| {
        if let Ok(mut rt) = r.try_borrow_mut() {
            if rt.active && !rt.tearing_down {
                f(&mut rt)
            }
        }
    })
}

impl Rt {
    fn new() -> Rt {
        Rt {
            active: false,
            tearing_down: false,
            opts: RtOptions::default(),
            tasks: Vec::new(),
            ntasks: 0,
            objects: Vec::new(),
            nobjs: 0,
            classes: Vec::new(),
            current: None,
            step: 0,
            spawned: Vec::new(),
            trace: Vec::new(),
            outcomes: Vec::new(),
            halt: false,
            task_limit: false,
            hb: Hb::default(),
            lockdep: LockGraph::default(),
            lockdep_new: Vec::new(),
            misuse: None,
            blocks: Vec::new(),
            bio_seq: 0,
            inflight: Vec::new(),
            crash_point: None,
        }
    }

    pub fn reset(&mut self, opts: RtOptions) {
        self.active = true;
        self.tearing_down = false;
        self.hb.reset(opts.hb, opts.races);
        self.opts = opts;
        self.ntasks = 0;
        self.nobjs = 0;
        self.current = None;
        self.step = 0;
        self.spawned.clear();
        self.trace.clear();
        self.outcomes.clear();
        self.halt = false;
        self.task_limit = false;
        self.lockdep_new.clear();
        self.misuse = None;
        self.blocks.clear();
        self.bio_seq = 0;
        self.inflight.clear();
        self.crash_point = None;
        // object 0: the anonymous shared memory `preempt_point` touches.
        self.new_object(
            ObjName::from("shared memory"),
            "shared memory",
            ObjState::Plain,
        );
    }

    pub fn class(&mut self, name: &'static str) -> ClassId {
        if let Some(i) = self.classes.iter().position(|c| *c == name) {
            return i as ClassId;
        }
        self.classes.push(name);
        (self.classes.len() - 1) as ClassId
    }

    pub fn class_name(&self, c: ClassId) -> &'static str {
        self.classes.get(c as usize).copied().unwrap_or("?")
    }

    pub fn new_object(&mut self, name: ObjName, class: &'static str, st: ObjState) -> ObjId {
        let class = self.class(class);
        if self.current.is_some() {
            self.hb.access(clock::ALLOC_OBJ, Access::Write);
        }
        let id = self.nobjs;
        if id < self.objects.len() {
            let o = &mut self.objects[id];
            o.name = name;
            o.class = class;
            o.st = st;
            o.spin = false;
        } else {
            self.objects.push(Object {
                name,
                class,
                st,
                spin: false,
            });
        }
        self.nobjs += 1;
        self.hb.ensure_obj(id as ObjId);
        id as ObjId
    }

    pub fn obj(&mut self, id: ObjId) -> &mut Object {
        &mut self.objects[id as usize]
    }

    pub fn spawn(&mut self, process: Cow<'static, str>, name: ObjName, fut: TaskFuture) -> TaskId {
        let id = self.ntasks;
        if id >= MAX_TASKS {
            // One too many: the run ends here (EndKind::TaskLimit) with an
            // engine error naming the task, instead of a panic. The future is
            // dropped; the spawner's next scheduling point is its last.
            if !self.task_limit {
                let mut o = Outcome::new(OutcomeKind::Other("engine-error".into()), self.step);
                if let Some(t) = self.current {
                    o.tasks.push(self.tasks[t as usize].name.to_string());
                }
                o.site = "spawn".into();
                o.message = format!(
                    "more than {MAX_TASKS} tasks in one execution (kernel threads and bio completions included): `{name}` is one too many"
                );
                self.outcomes.push(o);
            }
            self.task_limit = true;
            self.halt = true;
            drop(fut);
            return MAX_TASKS as TaskId;
        }
        if id >= self.tasks.len() {
            self.tasks.push(Task::new());
        }
        let t = &mut self.tasks[id];
        t.name = name;
        t.process = process;
        t.status = Status::Runnable(Op::new(OpKind::Start, NO_OBJ));
        t.held.clear();
        t.kfn.clear();
        t.steps = 0;
        t.handle_refs = 0;
        t.handle_journal = NO_OBJ;
        t.idle = false;
        t.store_buf.clear();
        t.store_seq = 0;
        t.store_epoch = 0;
        t.last_rmw_seq = None;
        t.before_atomic = false;
        t.announced = false;
        self.ntasks += 1;
        let tid = id as TaskId;
        if self.current.is_some() {
            // spawned by a running task: ids go in creation order, and the
            // child's first step follows the spawn.
            self.hb.access(clock::ALLOC_OBJ, Access::Write);
            self.hb.wake(Actor::task(tid));
        }
        self.spawned.push((tid, fut));
        if self.opts.trace {
            let name = self.tasks[id].name.to_string();
            self.event(EventKind::Spawn {
                name,
                process: self.tasks[id].process.to_string(),
            });
        }
        tid
    }

    pub fn cur(&self) -> TaskId {
        self.current.expect("no current task")
    }

    pub fn task(&mut self, t: TaskId) -> &mut Task {
        &mut self.tasks[t as usize]
    }

    /// Appends a trace event for the current task (no-op unless tracing).
    pub fn event(&mut self, kind: EventKind) {
        if !self.opts.trace {
            return;
        }
        let (task, stack) = match self.current {
            Some(t) => (
                Some(t),
                self.tasks[t as usize]
                    .kfn
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            None => (None, Vec::new()),
        };
        self.trace.push(Event {
            step: self.step,
            task,
            stack,
            kind,
        });
    }

    /// Records a state change of object `o` (no-op unless tracing).
    pub fn signal(&mut self, o: ObjId, what: &str) {
        if self.opts.trace {
            let object = self.obj_label(o);
            self.event(EventKind::Signal {
                object,
                what: what.to_string(),
            });
        }
    }

    pub fn obj_label(&self, o: ObjId) -> String {
        match self.objects.get(o as usize) {
            Some(ob) => ob.name.to_string(),
            None => String::new(),
        }
    }

    pub fn access(&mut self, o: ObjId, a: Access) {
        self.hb.access(o, a);
    }

    /// Announces the current task's next operation (it yields after this).
    pub fn announce(&mut self, op: Op) {
        let t = self.cur();
        let task = &mut self.tasks[t as usize];
        task.status = Status::Runnable(op);
        task.announced = true;
        if let Some(class) = object::acquire_class(self, op) {
            self.lockdep_acquire(t, op.obj, class, object::acquire_read(op));
        }
        if object::may_sleep(op.kind)
            && self.tasks[t as usize]
                .held
                .iter()
                .any(|h| self.objects[h.obj as usize].spin)
        {
            let held = self.tasks[t as usize]
                .held
                .iter()
                .find(|h| self.objects[h.obj as usize].spin)
                .map(|h| h.obj);
            let name = held.map(|o| self.obj_label(o)).unwrap_or_default();
            self.warn(
                "might_sleep",
                format!("sleeping function called from invalid context (holding {name})"),
            );
        }
        if self.opts.trace && !self.op_enabled(op) {
            // waits without a queue (mutex, page lock, writeback, completion)
            let lock = self.obj_label(op.obj);
            self.event(EventKind::Block { lock });
        }
    }

    /// Blocks the current task on `o` (it yields after this).
    pub fn block(&mut self, o: ObjId) {
        let t = self.cur();
        self.tasks[t as usize].status = Status::Blocked(o);
        self.tasks[t as usize].announced = true;
        if self.opts.trace {
            let lock = self.obj_label(o);
            self.event(EventKind::Block { lock });
        }
    }

    /// Makes blocked task `t` runnable again (it resumes in its own step).
    pub fn wake(&mut self, t: TaskId, o: ObjId) {
        self.tasks[t as usize].status = Status::Runnable(Op::new(OpKind::Resume, o));
        self.hb.wake(Actor::task(t));
        if self.opts.trace {
            let task = self.tasks[t as usize].name.to_string();
            let lock = self.obj_label(o);
            self.event(EventKind::Wake { task, lock });
        }
    }

    pub fn push_held(&mut self, t: TaskId, o: ObjId, mode: Mode) {
        let class = self.objects[o as usize].class;
        let at = self.tasks[t as usize].kfn.last().copied().unwrap_or("");
        self.tasks[t as usize].held.push(Held {
            obj: o,
            class,
            mode,
            at,
            trylock: false,
        });
        if self.opts.trace {
            let lock = self.obj_label(o);
            let class = self.class_name(class).to_string();
            let prev = self.current;
            self.current = Some(t);
            self.event(EventKind::Acquire { lock, class, mode });
            self.current = prev;
        }
    }

    pub fn pop_held(&mut self, t: TaskId, o: ObjId) -> bool {
        let held = &mut self.tasks[t as usize].held;
        let Some(i) = held.iter().rposition(|h| h.obj == o) else {
            return false;
        };
        held.remove(i);
        if self.opts.trace {
            let lock = self.obj_label(o);
            self.event(EventKind::Release { lock });
        }
        true
    }

    pub fn holds(&self, t: TaskId, o: ObjId) -> bool {
        self.tasks[t as usize].held.iter().any(|h| h.obj == o)
    }

    /// A kernel WARN: recorded as an outcome; the run continues.
    pub fn warn(&mut self, site: &str, message: String) {
        let tasks = self
            .current
            .map(|t| vec![self.tasks[t as usize].name.to_string()])
            .unwrap_or_default();
        let mut o = Outcome::new(OutcomeKind::KernelWarning, self.step);
        o.site = site.to_string();
        o.tasks = tasks;
        o.message = message;
        if self.opts.trace {
            self.event(EventKind::Warn {
                site: site.to_string(),
            });
        }
        self.outcomes.push(o);
    }

    /// Drains (makes visible) every buffered store of task `t`, oldest
    /// first (a full barrier: `smp_mb`, a fully ordered RMW).
    pub fn drain_store_buffer(&mut self, t: TaskId) {
        while !self.tasks[t as usize].store_buf.is_empty() {
            self.flush_at(t, 0, false);
        }
    }

    /// The fence of a lock acquisition: on x86 every lock acquisition is
    /// a locked RMW (`lock cmpxchg`, `lock xadd`, `lock bts`), a full
    /// barrier; under LKMM an acquire does not order earlier stores.
    pub fn acquire_fence(&mut self, t: TaskId) {
        if self.opts.memory == crate::sim::MemoryModel::X86 {
            self.drain_store_buffer(t);
        }
    }

    /// The fence of a lock release: earlier stores become visible (x86:
    /// releases of sleeping locks are locked RMWs; LKMM: a release orders
    /// earlier stores before the lock's next owner sees it, modelled
    /// stronger as visible to everyone, see `sync::atomic`).
    pub fn release_fence(&mut self, t: TaskId) {
        self.drain_store_buffer(t);
    }

    /// Flushes `t`'s buffered stores up to and including sequence `seq`
    /// (they are a prefix of the buffer: it stays in program order).
    pub fn flush_through(&mut self, t: TaskId, seq: u64) {
        while self.tasks[t as usize]
            .store_buf
            .front()
            .is_some_and(|b| b.seq <= seq)
        {
            self.flush_at(t, 0, false);
        }
    }

    /// Indexes of `t`'s buffered stores that may become visible next: the
    /// oldest (x86: the buffer is FIFO), or under LKMM the oldest store to
    /// each location within the oldest epoch (stores to different
    /// locations propagate in any order unless a barrier separates them;
    /// stores to one location stay in order, coherence).
    pub fn flushable(&self, t: TaskId) -> Vec<usize> {
        let buf = &self.tasks[t as usize].store_buf;
        let Some(first) = buf.front() else {
            return Vec::new();
        };
        if self.opts.memory != crate::sim::MemoryModel::Lkmm {
            return vec![0];
        }
        let mut out = Vec::new();
        let mut seen: Vec<ObjId> = Vec::new();
        for (i, b) in buf.iter().enumerate() {
            if b.epoch != first.epoch {
                break;
            }
            if !seen.contains(&b.obj) {
                seen.push(b.obj);
                out.push(i);
            }
        }
        out
    }

    /// Publishes the oldest buffered store of `t`.
    pub fn flush_one(&mut self, t: TaskId, as_actor: bool) {
        self.flush_at(t, 0, as_actor)
    }

    /// Publishes buffered store `idx` of `t` (one of [`Rt::flushable`]).
    pub fn flush_at(&mut self, t: TaskId, idx: usize, as_actor: bool) {
        let Some(b) = self.tasks[t as usize].store_buf.remove(idx) else {
            return;
        };
        if as_actor {
            // the flusher's own step: the store's clock was joined at begin.
            self.access(b.obj, Access::Write);
        } else {
            // a drain inside the task's step: a race with it is a race with
            // the flusher, which could have run earlier on its own.
            self.hb
                .access_drained(b.obj, Actor::flush(t), b.clock.as_ref());
        }
        if let ObjState::Atomic { value } = &mut self.objects[b.obj as usize].st {
            *value = b.op.apply(*value);
        }
        if self.opts.trace {
            let atomic = self.obj_label(b.obj);
            self.event(EventKind::Flush {
                atomic,
                task: self.tasks[t as usize].name.to_string(),
            });
        }
    }
}

impl Rt {
    /// What task `t` runs when next scheduled: the operation it announced,
    /// or a resume when it was blocked and woken.
    pub(crate) fn next_op(&self, t: TaskId) -> Op {
        match self.tasks[t as usize].status {
            Status::Runnable(op) => op,
            _ => Op::new(OpKind::Resume, NO_OBJ),
        }
    }

    /// At the end of an execution: race-check every announced operation
    /// that did not run, and every store still buffered.
    pub(crate) fn probe_pending(&mut self) {
        for t in 0..self.ntasks {
            if let Status::Runnable(op) = self.tasks[t].status {
                let (obj, kind) = match op.kind {
                    // What a task does after it starts, resumes or is given
                    // its value is not known until it runs. A run ends with
                    // such a task still runnable when another halted it (a
                    // BUG) or crashed: that step never runs, so it is taken
                    // to conflict with every earlier access it is not
                    // ordered after.
                    OpKind::Start | OpKind::Resume | OpKind::Choose => (None, Access::Write),
                    OpKind::CrashPoint => (None, Access::Read),
                    OpKind::Yield => (Some(0), Access::Write),
                    OpKind::Load
                    | OpKind::AtomicRead
                    | OpKind::WaitWriteback
                    | OpKind::WaitCommit => (Some(op.obj), Access::Read),
                    OpKind::MutexLock | OpKind::SpinLock | OpKind::PageLock => {
                        (Some(op.obj), Access::Acquire)
                    }
                    _ => (Some(op.obj), Access::Write),
                };
                if obj != Some(NO_OBJ) {
                    self.hb.probe(Actor::task(t as TaskId), obj, kind);
                }
                // `jbd2_log_wait_commit` reads the journal's commit
                // sequence, an object of its own (`JournalState::commit_obj`).
                if let (OpKind::WaitCommit, Some(object::ObjState::Journal(j))) =
                    (op.kind, self.objects.get(op.obj as usize).map(|o| &o.st))
                {
                    let o = j.commit_obj;
                    self.hb
                        .probe(Actor::task(t as TaskId), Some(o), Access::Read);
                }
            }
            if let Some(b) = self.tasks[t].store_buf.front() {
                let o = b.obj;
                self.hb
                    .probe(Actor::flush(t as TaskId), Some(o), Access::Write);
            }
        }
    }
}

/// A future that is pending exactly once: the task yields to the scheduler.
pub(crate) struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

/// Announces `op` and yields; resumes when the scheduler runs this task.
pub(crate) async fn schedule_point(op: Op) {
    with(|rt| rt.announce(op));
    PendingOnce(false).await;
}

/// Blocks the current task on `o` and yields until woken.
pub(crate) async fn park(o: ObjId) {
    with(|rt| rt.block(o));
    PendingOnce(false).await;
}

/// A human description of an actor at the current state (task name and
/// its pending operation), for manual scheduling.
pub(crate) fn describe_actor(a: Actor) -> String {
    with(|rt| {
        if a == Actor::CRASH {
            return "crash".to_string();
        }
        if let Some(t) = a.as_flush() {
            return format!(
                "make {}'s oldest buffered store visible",
                rt.tasks[t as usize].name
            );
        }
        let t = a.as_task().unwrap_or(0) as usize;
        let Some(task) = rt.tasks.get(t) else {
            return String::new();
        };
        match task.status {
            Status::Runnable(op) => {
                format!("{}: {:?} {}", task.name, op.kind, rt.obj_label(op.obj))
            }
            _ => task.name.to_string(),
        }
    })
}
