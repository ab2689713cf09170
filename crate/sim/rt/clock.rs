//! Happens-before tracking for DPOR: vector clocks per actor and per object,
//! and race detection between the steps of one execution.
//!
//! Each step has a footprint: the objects its operations touched (the
//! announced operation and any non-yielding ones in the same step, such as
//! `mutex_unlock`). Two steps are *dependent* when their footprints share an
//! object and at least one access is a write (lock operations are writes,
//! but for an uncontended `down_read` and an `up_read` nobody waits for,
//! which are reads: `Rt::rw_down`, `Rt::rw_up`; `atomic_read` and
//! `Location::read` are reads). A *race* is a pair of
//! dependent steps (j, k) by different actors that are not ordered by
//! happens-before (program order plus dependence plus wake-ups). Which
//! earlier accesses a new one can race with depends on both kinds (see
//! `candidates`): a blocking acquire only races with the previous acquire,
//! since it is disabled from then until the release; an unlock races with
//! failed trylocks and queueing operations, never with the acquire that it
//! ends.

use super::{Actor, ActorSet, ObjId, MAX_ACTORS};

/// A vector clock over all actors (tasks and store-buffer flushers).
pub type VClock = [u32; MAX_ACTORS];

/// The pseudo-object of task and object creation: a step that spawns a
/// task or creates an object writes it, because ids are handed out in
/// creation order (two steps that both create are not independent).
pub const ALLOC_OBJ: ObjId = u32::MAX - 1;

/// One access of a step: the object and how.
pub type Touch = (ObjId, Access);

/// The accesses of one step, kept inline (a step with more than
/// `Foot::CAP` accesses is taken to conflict with every step).
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Foot {
    n: u8,
    t: [Touch; Foot::CAP],
}

impl Foot {
    const CAP: usize = 12;
    const ALL: u8 = u8::MAX;

    pub fn new(acc: &[Touch]) -> Foot {
        let mut f = Foot {
            n: 0,
            t: [(0, Access::Read); Foot::CAP],
        };
        if acc.len() > Foot::CAP {
            f.n = Foot::ALL;
        } else {
            f.t[..acc.len()].copy_from_slice(acc);
            f.n = acc.len() as u8;
        }
        f
    }

    /// The accesses kept, or `None` when the step made more than
    /// [`Foot::CAP`].
    pub fn touches(&self) -> Option<&[Touch]> {
        (self.n != Foot::ALL).then(|| &self.t[..self.n as usize])
    }

    /// Whether the two steps may not commute: they share an object and one
    /// of them does not only read it.
    pub fn conflicts(&self, o: &Foot) -> bool {
        if self.n == Foot::ALL || o.n == Foot::ALL {
            return true;
        }
        let (a, b) = (&self.t[..self.n as usize], &o.t[..o.n as usize]);
        a.iter().any(|&(x, k)| {
            b.iter()
                .any(|&(y, k2)| x == y && !(k == Access::Read && k2 == Access::Read))
        })
    }
}

/// Joins `b` into `a` over the first `w` actors (every clock is zero past
/// the actors that ran so far, see `Hb::w`).
fn join(a: &mut VClock, b: &VClock, w: usize) {
    for (x, y) in a[..w].iter_mut().zip(b[..w].iter()) {
        if *y > *x {
            *x = *y;
        }
    }
}

/// How a step touches an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Access {
    Read,
    /// Any state change; races with earlier reads, writes and releases.
    Write,
    /// A blocking acquire that is *disabled* while the object is held
    /// (mutex, page lock, spinlock): it cannot move before the release that
    /// enabled it, so releases are not race candidates for it.
    Acquire,
    Release,
}

#[derive(Clone, Copy, Debug)]
struct Stamp {
    step: u32,
    actor: u8,
    idx: u32,
}

#[derive(Clone)]
struct ObjHist {
    clock: VClock,
    /// Last step that acquired the object (it was free before).
    last_acq: Option<Stamp>,
    /// Last other state change (failed trylock, queueing, flags, stores).
    last: Option<Stamp>,
    last_release: Option<Stamp>,
    reads: Vec<Stamp>,
    read_clock: VClock,
}

impl ObjHist {
    /// Back to the default, given that its clocks are zero past `w`.
    fn reset(&mut self, w: usize) {
        self.clock[..w].fill(0);
        self.last_acq = None;
        self.last = None;
        self.last_release = None;
        self.reads.clear();
        self.read_clock[..w].fill(0);
    }
}

impl Default for ObjHist {
    fn default() -> Self {
        ObjHist {
            clock: [0; MAX_ACTORS],
            last_acq: None,
            last: None,
            last_release: None,
            reads: Vec::new(),
            read_clock: [0; MAX_ACTORS],
        }
    }
}

/// Per-execution happens-before state. Buffers are reused across executions.
#[derive(Default)]
pub struct Hb {
    pub on: bool,
    /// Report races (unbounded DPOR); off, only clocks and the trace
    /// fingerprint are kept (bounded DPOR).
    pub detect_races: bool,
    /// One past the highest actor that started a step in this execution:
    /// every clock is zero from there on, so joins stop there.
    w: usize,
    actor_clock: Vec<VClock>,
    /// The pending wake-up clock of each actor whose bit is set in
    /// `woken` (the others are all zero). Kept allocated across executions:
    /// a reset clears only the slots that were set (clearing every slot
    /// cost 64 KiB of stores per execution).
    wake: Vec<VClock>,
    woken: ActorSet,
    objs: Vec<ObjHist>,
    cur: Option<(u8, u32)>,
    cur_clock: VClock2,
    touched: Vec<(ObjId, Access)>,
    step: u32,
    /// Races found: (earlier step, actor of the later step).
    pub races: Vec<(u32, Actor)>,
    scratch: Vec<Stamp>,
    /// Fingerprint of the Mazurkiewicz trace executed so far: an
    /// order-independent sum of one hash per step over (actor, index,
    /// vector clock, value chosen). Two interleavings that differ only in
    /// the order of independent steps give every step the same clock, so
    /// they have the same fingerprint (see `sched::dfs`, bounded mode).
    fp: [u64; 2],
    value: u32,
    /// The last step that ended: its number and hash (its accesses are
    /// still in `touched` until the next step begins).
    last: Option<(u32, u128)>,
    alloc: ObjHist,
    /// Per actor, the running sums of its steps' hashes (entry i: its
    /// first i steps), so the fingerprint of the causal past of a clock
    /// is one look-up per actor ([`Hb::past_fp`]).
    psum: Vec<Vec<[u64; 2]>>,
    /// Step learning (see [`Hb::predict`]): on while the scheduler runs
    /// steps it has not seen (set by the DFS, off at each reset); the key
    /// of the current step's path so far (None: the step is not learnt);
    /// the (key, link, step) triples learnt, until the scheduler takes
    /// them.
    pub learn: bool,
    lkey: Option<u128>,
    /// What the current task announced at the end of its step (see
    /// [`Hb::set_next`]), learnt with the step's end.
    lnext: u32,
    /// All-zero clocks, for objects not created yet ([`Hb::hist_or_zero`]).
    zero_hist: ObjHist,
    /// The kind of the current step's last access (0: none since the
    /// root or a note), learnt with the next link.
    lkind: u64,
    pub learned: Vec<(u128, u64, u32)>,
}

/// What a learnt step does after a key ([`Hb::predict`]), packed in a
/// u64: the kind of the access just made (bits 40-42; 0 after the root
/// or a note), then what comes next (bits 32-39: an access, a note of an
/// acquire, or the end) and its object (bits 0-31).
const NEXT_ACCESS: u64 = 1;
const NEXT_NOTE: u64 = 2;
const NEXT_END: u64 = 3;
const NEXT_OBSERVE: u64 = 4;

fn kind_code(kind: Access) -> u64 {
    match kind {
        Access::Read => 1,
        Access::Write => 2,
        Access::Acquire => 3,
        Access::Release => 4,
    }
}

fn code_kind(code: u64) -> Option<Access> {
    Some(match code {
        1 => Access::Read,
        2 => Access::Write,
        3 => Access::Acquire,
        4 => Access::Release,
        _ => return None,
    })
}

fn link(prev_kind: u64, next: u64, obj: ObjId) -> u64 {
    (prev_kind << 40) | (next << 32) | u64::from(obj)
}

/// What a link says comes next (tag and object), without the kind of the
/// access before it: what the key after it is chained from.
fn link_what(l: u64) -> u64 {
    l & 0xff_ffff_ffff
}

/// Steps with more accesses (and notes of acquires) are not predicted.
const PREDICT_MAX_ACCESSES: usize = 16;

/// A link in words (`label` names an object), for a step checking report.
pub fn describe_link(
    l: u64,
    label: &dyn Fn(ObjId) -> String,
    end: &dyn Fn(u32) -> String,
) -> String {
    let obj = l as ObjId;
    let next = match l >> 32 & 0xff {
        NEXT_ACCESS => format!("an access to {}", label(obj)),
        NEXT_NOTE => format!("a trylock taking {}", label(obj)),
        NEXT_OBSERVE => format!("a look at {}", label(obj)),
        _ => format!("the end of its step, {}", end(obj)),
    };
    match code_kind(l >> 40 & 7) {
        Some(k) => format!("the access just made as {k:?}, then {next}"),
        None => next,
    }
}

/// The key of a learnt step after one more link (`what`: the next tag
/// and object), given the fingerprint of the causal past of what the
/// link's object holds (0 for a note).
fn chain(key: u128, what: u64, past: u128) -> u128 {
    let lo = mix((key as u64) ^ mix(what ^ (past as u64)));
    let hi =
        mix(((key >> 64) as u64).wrapping_add(mix(what.rotate_left(29) ^ (past >> 64) as u64)));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// The root key of a step of `actor` whose causal past has fingerprint
/// `past`, running the operation it announced (`op`: kind, object,
/// argument, see [`op_code`]).
fn root_key(actor: u8, past: u128, op: u64) -> u128 {
    chain(
        u128::from(actor) ^ 0x005e_ed0f_57e9,
        op ^ u64::from(actor),
        past,
    )
}

/// An announced operation as a number for [`root_key`].
pub fn op_code(kind: u8, obj: ObjId, arg: u32) -> u64 {
    mix((u64::from(kind) << 56) ^ (u64::from(obj) << 24) ^ u64::from(arg))
}

/// One step's hash in the trace fingerprint: its actor, the value it was
/// given and its final vector clock.
fn step_hash(actor: u8, value: u32, c: &[u32]) -> u128 {
    let seed = (u64::from(actor) << 32) | u64::from(value);
    let mut h1 = mix(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut h2 = mix(h1 ^ 0x2545_f491_4f6c_dd1d);
    for (i, &v) in c.iter().enumerate() {
        if v != 0 {
            let x = (i as u64) << 32 | u64::from(v);
            h1 = mix(h1 ^ x);
            h2 = mix(h2.wrapping_add(x).rotate_left(17));
        }
    }
    (u128::from(h1) << 64) | u128::from(h2)
}

/// The splitmix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Earlier accesses to `h` that an access of `kind` may race with (those
/// it is dependent and co-enabled with). A blocking acquire is co-enabled
/// only with the previous acquire (while the lock is held it is disabled;
/// flags of the same object, e.g. PG_writeback, commute with PG_locked).
fn candidates(h: &ObjHist, kind: Access, out: &mut Vec<Stamp>) {
    match kind {
        // An unlock can move before an earlier failed trylock, queueing
        // operation or read of the lock (changing their result), never
        // before the acquire that it ends.
        Access::Release => {
            out.extend(h.last);
            out.extend(h.reads.iter().copied());
        }
        Access::Acquire => out.extend(h.last_acq),
        // A read may also move before the release that came before it: a
        // read acquire of a free rwsem is a read (`Rt::rw_down`), and
        // before the release it would have queued.
        Access::Read => {
            out.extend(h.last_acq);
            out.extend(h.last);
            out.extend(h.last_release);
        }
        Access::Write => {
            out.extend(h.last_acq);
            out.extend(h.last);
            out.extend(h.last_release);
            out.extend(h.reads.iter().copied());
        }
    }
}

#[derive(Clone)]
struct VClock2(VClock);
impl Default for VClock2 {
    fn default() -> Self {
        VClock2([0; MAX_ACTORS])
    }
}

impl Hb {
    pub fn reset(&mut self, on: bool, detect_races: bool) {
        self.on = on;
        self.detect_races = detect_races;
        if !on {
            return;
        }
        // only the first `w` entries of the first `w` clocks can be set
        let w = self.w;
        if self.actor_clock.len() != MAX_ACTORS {
            self.actor_clock.clear();
            self.actor_clock.resize(MAX_ACTORS, [0; MAX_ACTORS]);
        }
        for c in self.actor_clock[..w].iter_mut() {
            c[..w].fill(0);
        }
        if self.wake.len() != MAX_ACTORS {
            self.wake.clear();
            self.wake.resize(MAX_ACTORS, [0; MAX_ACTORS]);
        }
        for a in self.woken.iter() {
            self.wake[a.0 as usize][..w].fill(0);
        }
        self.woken = ActorSet::default();
        // every clock is zero past `w`: only the first `w` entries are reset
        self.cur_clock.0[..w].fill(0);
        for o in self.objs.iter_mut().chain(std::iter::once(&mut self.alloc)) {
            o.reset(w);
        }
        self.w = 0;
        self.cur = None;
        self.touched.clear();
        self.races.clear();
        self.step = 0;
        self.fp = [0; 2];
        self.last = None;
        if self.psum.len() != MAX_ACTORS {
            self.psum.clear();
            self.psum.resize(MAX_ACTORS, vec![[0; 2]]);
        }
        for p in self.psum[..w].iter_mut() {
            p.truncate(1);
        }
        self.learn = false;
        self.lkey = None;
        self.learned.clear();
    }

    /// The fingerprint of the causal past of clock `c` (every step
    /// `(x, i)` with `i <= c[x]`): the sum of their hashes, as the trace
    /// fingerprint sums every step's. `skip`'s entry counts one step
    /// fewer (the current step, which has no hash yet). None when `c`
    /// names a step this execution has not ended.
    fn past_fp(&self, c: &VClock, w: usize, skip: Option<usize>) -> Option<u128> {
        self.past_fp_of(c, None, w, skip)
    }

    /// The fingerprint of the causal past that decides what an access to
    /// `h` sees and how it accesses it (a read acquire of a free rwsem is
    /// a read, of a held one a write): the object's clock (its last
    /// change) and its read clock (a read acquire changes the holders
    /// that a write acquire or a release looks at).
    fn obj_past(&self, h: &ObjHist, w: usize) -> Option<u128> {
        self.past_fp_of(&h.clock, Some(&h.read_clock), w, None)
    }

    fn past_fp_of(
        &self,
        c: &VClock,
        also: Option<&VClock>,
        w: usize,
        skip: Option<usize>,
    ) -> Option<u128> {
        let (mut hi, mut lo) = (0u64, 0u64);
        for (x, &v) in c[..w].iter().enumerate() {
            let v = also.map_or(v, |a| v.max(a[x]));
            let v = if Some(x) == skip {
                v.checked_sub(1)?
            } else {
                v
            };
            if v != 0 {
                let [a, b] = *self.psum[x].get(v as usize)?;
                hi = hi.wrapping_add(a);
                lo = lo.wrapping_add(b);
            }
        }
        Some((u128::from(hi) << 64) | u128::from(lo))
    }

    /// [`Hb::hist`], or all-zero clocks for an object not created yet.
    fn hist_or_zero(&self, o: ObjId) -> &ObjHist {
        if o == ALLOC_OBJ {
            &self.alloc
        } else {
            self.objs.get(o as usize).unwrap_or(&self.zero_hist)
        }
    }

    fn hist(&self, o: ObjId) -> &ObjHist {
        if o == ALLOC_OBJ {
            &self.alloc
        } else {
            &self.objs[o as usize]
        }
    }

    /// The last step that ended: (step number, hash, accesses).
    pub fn last_step(&self) -> Option<(u32, u128, Foot)> {
        self.last.map(|(st, h)| (st, h, Foot::new(&self.touched)))
    }

    pub fn ensure_obj(&mut self, id: ObjId) {
        if self.on && id != ALLOC_OBJ && self.objs.len() <= id as usize {
            self.objs.resize(id as usize + 1, ObjHist::default());
        }
    }

    /// Starts step `step` of `actor`; `extra` is joined in (the clock of the
    /// store a flush publishes).
    pub fn begin(&mut self, step: u32, actor: Actor, extra: Option<&VClock>) {
        if !self.on {
            return;
        }
        let a = actor.0 as usize;
        self.w = self.w.max(a + 1);
        let w = self.w;
        // only the first `w` entries: the rest of every clock is zero
        let c = &mut self.cur_clock.0;
        c[..w].copy_from_slice(&self.actor_clock[a][..w]);
        c[a] += 1;
        if self.woken.contains(actor) {
            self.woken.remove(actor);
            let wc = &mut self.wake[a];
            join(c, wc, w);
            wc[..w].fill(0);
        }
        if let Some(e) = extra {
            join(c, e, w);
        }
        self.cur = Some((actor.0, c[a]));
        self.step = step;
        self.touched.clear();
        self.value = 0;
        self.lkey = None;
    }

    /// What the current task's step ended in (the operation it announced
    /// and its object, blocked, finished: `Op::end_code`): learnt with the end, so that a
    /// step that takes the same accesses but announces another operation
    /// (it read state no access shows) is a divergence too.
    pub fn set_next(&mut self, code: u32) {
        self.lnext = code;
    }

    /// Learns the task step just begun, which runs operation `op`
    /// ([`op_code`]), if learning is on.
    pub fn learn_step(&mut self, op: u64) {
        let Some((a, _)) = self.cur else { return };
        if !self.learn || Actor(a).as_task().is_none() {
            return;
        }
        let c = self.cur_clock.0;
        self.lkind = 0;
        self.lkey = self
            .past_fp(&c, self.w, Some(a as usize))
            .map(|past| root_key(a, past, op));
    }

    /// The value a `nondet` step was given (part of its identity).
    pub fn set_value(&mut self, v: u32) {
        self.value = v;
        // the value is a decision of its own: not predictable from a
        // schedule decision
        self.lkey = None;
    }

    /// The fingerprint of the trace so far (see the field).
    pub fn fingerprint(&self) -> u128 {
        (u128::from(self.fp[0]) << 64) | u128::from(self.fp[1])
    }

    /// The fingerprint `fp` extended by one step of hash `h` (how `end`
    /// combines them).
    pub fn extend(fp: u128, h: u128) -> u128 {
        let hi = ((fp >> 64) as u64).wrapping_add((h >> 64) as u64);
        let lo = (fp as u64).wrapping_add(h as u64);
        (u128::from(hi) << 64) | u128::from(lo)
    }

    fn happened_before(&self, s: &Stamp) -> bool {
        self.cur_clock.0[s.actor as usize] >= s.idx
    }

    /// Records an access of the current step to `obj`.
    pub fn access(&mut self, obj: ObjId, kind: Access) {
        self.access_with(obj, kind, None)
    }

    /// A store of `flusher`'s buffer drained inside a task's step (a fence,
    /// a lock operation): the race is the flusher's, and what happened
    /// before it is what the flusher would have seen running on its own
    /// just before this step: its own history and the store's clock
    /// (`store`), not the draining step's clock. That step may already have
    /// joined a clock the flusher never needed (the mutex a `mutex_trylock`
    /// just took): checked against it, a load by the lock's previous holder
    /// would look ordered before the flush, and the schedule where the
    /// flusher publishes the store before that load (with the lock still
    /// held) would never be tried (fuzz seed 3765, tests/sim_dpor_fuzz.rs).
    pub fn access_drained(&mut self, obj: ObjId, flusher: Actor, store: Option<&VClock>) {
        if !self.on || self.cur.is_none() {
            return;
        }
        let mut c = self.actor_clock[flusher.0 as usize];
        if let Some(s) = store {
            join(&mut c, s, self.w);
        }
        self.access_with(obj, Access::Write, Some((flusher, c)))
    }

    /// [`Hb::access`], with races reported for `drained`'s actor and
    /// happens-before judged by its clock when given.
    fn access_with(&mut self, obj: ObjId, kind: Access, drained: Option<(Actor, VClock)>) {
        if !self.on {
            return;
        }
        let Some((actor, _)) = self.cur else { return };
        let report = drained.map_or(Actor(actor), |(a, _)| a);
        self.ensure_obj(obj);
        if self.detect_races {
            let mut found = std::mem::take(&mut self.scratch);
            candidates(self.hist(obj), kind, &mut found);
            for st in found.drain(..) {
                let ordered = match &drained {
                    Some((_, c)) => c[st.actor as usize] >= st.idx,
                    None => self.happened_before(&st),
                };
                if st.actor != actor && st.actor != report.0 && !ordered {
                    self.races.push((st.step, report));
                }
            }
            self.scratch = found;
        }
        let w = self.w;
        if obj == ALLOC_OBJ {
            // Whether a step creates an object can depend on objects other
            // steps created (a block's location is made on first use), which
            // no access shows: such steps are not learnt.
            self.lkey = None;
        }
        if let Some(k) = self.lkey {
            let h = self.hist(obj);
            let l = link(self.lkind, NEXT_ACCESS, obj);
            self.lkey = self.obj_past(h, w).map(|past| chain(k, link_what(l), past));
            self.lkind = kind_code(kind);
            self.learned.push((k, l, self.step));
        }
        let h = if obj == ALLOC_OBJ {
            &self.alloc
        } else {
            &self.objs[obj as usize]
        };
        join(&mut self.cur_clock.0, &h.clock, w);
        if kind != Access::Read {
            join(&mut self.cur_clock.0, &h.read_clock, w);
        }
        self.touched.push((obj, kind));
    }

    /// An operation `actor` has announced but never ran (it was disabled
    /// when the execution ended, e.g. a mutex_lock in a deadlock): report
    /// its races as if it ran now, so DPOR also tries it earlier (the
    /// "next transition of every process" check of Flanagan-Godefroid).
    pub fn probe(&mut self, actor: Actor, obj: Option<ObjId>, kind: Access) {
        if !self.on || !self.detect_races {
            return;
        }
        let a = actor.0 as usize;
        let mut c = self.actor_clock[a];
        if self.woken.contains(actor) {
            join(&mut c, &self.wake[a], self.w);
        }
        let objs: Vec<ObjId> = match obj {
            Some(o) => vec![o],
            None => (0..self.objs.len() as ObjId).chain([ALLOC_OBJ]).collect(),
        };
        for o in objs {
            if o != ALLOC_OBJ && self.objs.len() <= o as usize {
                continue;
            }
            let h = self.hist(o);
            let mut found = Vec::new();
            candidates(h, kind, &mut found);
            for st in found {
                if st.actor != actor.0 && c[st.actor as usize] < st.idx {
                    self.races.push((st.step, actor));
                }
            }
        }
    }

    /// The current step accesses every object as `kind`: `Read` for a task
    /// reaching a crash point (the crash observes the whole state, so every
    /// earlier unordered write races with it), `Write` for a `BUG()` that
    /// halts the run (it also ends every other task's next step, so every
    /// earlier unordered access races with it).
    pub fn access_all(&mut self, nobjs: usize, kind: Access) {
        if !self.on {
            return;
        }
        for o in 0..nobjs.min(self.objs.len()) {
            self.access(o as ObjId, kind);
        }
        self.access(ALLOC_OBJ, kind);
    }

    /// The current step looks at `obj` without an access: no dependence
    /// (kernel code whose two outcomes go on alike, see
    /// `sim::sync::Page::is_writeback`), but step learning keys what the
    /// step does next by what `obj` holds, as for an access.
    pub fn observe(&mut self, obj: ObjId) {
        if !self.on || self.cur.is_none() {
            return;
        }
        self.ensure_obj(obj);
        if let Some(k) = self.lkey {
            let l = link(self.lkind, NEXT_OBSERVE, obj);
            self.lkind = 0;
            self.learned.push((k, l, self.step));
            self.lkey = self
                .obj_past(self.hist(obj), self.w)
                .map(|past| chain(k, link_what(l), past));
        }
    }

    /// Records that the current step also acquired `obj` (a successful
    /// trylock, already race-checked as a write).
    pub fn note_acquire(&mut self, obj: ObjId) {
        if self.on && self.cur.is_some() {
            self.touched.push((obj, Access::Acquire));
            if let Some(k) = self.lkey {
                let l = link(self.lkind, NEXT_NOTE, obj);
                self.lkind = 0;
                self.learned.push((k, l, self.step));
                self.lkey = Some(chain(k, link_what(l), 0));
            }
        }
    }

    /// The current clock, for wake-up edges and buffered stores.
    pub fn current_clock(&self) -> Option<VClock> {
        if self.on && self.cur.is_some() {
            Some(self.cur_clock.0)
        } else {
            None
        }
    }

    /// `task` was woken (granted a lock, completed) by the current step.
    pub fn wake(&mut self, woken: Actor) {
        if !self.on || self.cur.is_none() {
            return;
        }
        let w = self.w;
        // an unset slot is all zero: joining into it sets it
        join(&mut self.wake[woken.0 as usize], &self.cur_clock.0, w);
        self.woken.insert(woken);
    }

    /// Ends the current step: objects take the step's final clock.
    pub fn end(&mut self) {
        if !self.on {
            return;
        }
        let Some((actor, idx)) = self.cur.take() else {
            return;
        };
        let w = self.w;
        let races = self.detect_races;
        let stamp = Stamp {
            step: self.step,
            actor,
            idx,
        };
        let c = &self.cur_clock.0;
        for &(o, kind) in &self.touched {
            let h = if o == ALLOC_OBJ {
                &mut self.alloc
            } else {
                &mut self.objs[o as usize]
            };
            match kind {
                Access::Acquire => {
                    h.last_acq = Some(stamp);
                    h.reads.clear();
                    h.clock[..w].copy_from_slice(&c[..w]);
                    h.read_clock[..w].fill(0);
                }
                Access::Write => {
                    h.last = Some(stamp);
                    h.reads.clear();
                    h.clock[..w].copy_from_slice(&c[..w]);
                    h.read_clock[..w].fill(0);
                }
                Access::Release => {
                    h.clock[..w].copy_from_slice(&c[..w]);
                    h.last_release = Some(stamp);
                }
                Access::Read => {
                    if races {
                        h.reads.push(stamp);
                    }
                    join(&mut h.read_clock, c, w);
                }
            }
        }
        self.actor_clock[actor as usize][..w].copy_from_slice(&c[..w]);
        let h = step_hash(actor, self.value, &c[..w]);
        let (h1, h2) = ((h >> 64) as u64, h as u64);
        self.fp[0] = self.fp[0].wrapping_add(h1);
        self.fp[1] = self.fp[1].wrapping_add(h2);
        self.last = Some((self.step, h));
        let p = &mut self.psum[actor as usize];
        let [a, b] = *p.last().expect("a base entry");
        p.push([a.wrapping_add(h1), b.wrapping_add(h2)]);
        if let Some(k) = self.lkey.take() {
            self.learned
                .push((k, link(self.lkind, NEXT_END, self.lnext), self.step));
        }
    }

    /// The hash of the step `actor` would run next from the current state,
    /// running operation `op` ([`op_code`]), predicted from the steps
    /// learnt so far (`lookup`: key to link); None when no step learnt fits
    /// (or it makes more than [`PREDICT_MAX_ACCESSES`] accesses).
    ///
    /// A step is learnt as a path of links: its root key is its actor, the
    /// operation it announced and the fingerprint of its causal past
    /// (which fix the task's local state), then each object it accesses,
    /// keyed by the path so far and the fingerprint of the causal past of
    /// the object's clocks (which fixes what the object holds: every
    /// change of it is in that past), with the kind of access learnt at
    /// the next link (it may depend on what the object holds), then its
    /// end. A task's code is deterministic given its state and what it
    /// reads, and it reads shared state only through accesses (the
    /// assumption the reduction makes anyway), so a step from a state
    /// where its root and every access's object have the same causal
    /// pasts takes the same path, and its final clock and hash follow
    /// from the objects' clocks here, as `end` computes them. A step that
    /// goes two ways from one key, or a prediction that runs otherwise,
    /// shows state read outside the accesses (`Dfs::mispredicted`).
    /// Steps given a value, store flushes and the crash are not learnt.
    pub fn predict(
        &self,
        actor: Actor,
        op: u64,
        lookup: &dyn Fn(u128) -> Option<u64>,
    ) -> Option<u128> {
        if !self.on || actor.as_task().is_none() {
            return None;
        }
        let a = actor.0 as usize;
        let w = self.w.max(a + 1);
        let mut c = self.actor_clock[a];
        c[a] += 1;
        if self.woken.contains(actor) {
            join(&mut c, &self.wake[a], w);
        }
        let mut key = root_key(actor.0, self.past_fp(&c, w, Some(a))?, op);
        let mut accesses = 0;
        // the object of the access whose kind the next link tells
        let mut last: Option<&ObjHist> = None;
        loop {
            let l = lookup(key)?;
            match (last.take(), code_kind(l >> 40 & 7)) {
                (Some(h), Some(kind)) => {
                    if kind != Access::Read {
                        join(&mut c, &h.read_clock, w);
                    }
                }
                (None, None) => {}
                _ => return None,
            }
            let (next, obj) = (l >> 32 & 0xff, l as ObjId);
            if next == NEXT_END {
                break;
            }
            if next != NEXT_OBSERVE {
                if accesses == PREDICT_MAX_ACCESSES {
                    return None;
                }
                accesses += 1;
            }
            let h = self.hist_or_zero(obj);
            match next {
                NEXT_NOTE => key = chain(key, link_what(l), 0),
                NEXT_OBSERVE => key = chain(key, link_what(l), self.obj_past(h, w)?),
                NEXT_ACCESS => {
                    key = chain(key, link_what(l), self.obj_past(h, w)?);
                    join(&mut c, &h.clock, w);
                    last = Some(h);
                }
                _ => return None,
            }
        }
        Some(step_hash(actor.0, 0, &c[..w]))
    }
}
