//! Happens-before tracking for DPOR: vector clocks per actor and per object,
//! and race detection between the steps of one execution.
//!
//! Each step has a footprint: the objects its operations touched (the
//! announced operation and any non-yielding ones in the same step, such as
//! `mutex_unlock`). Two steps are *dependent* when their footprints share an
//! object and at least one access is a write (lock operations are writes;
//! `atomic_read` and `Location::read` are reads). A *race* is a pair of
//! dependent steps (j, k) by different actors that are not ordered by
//! happens-before (program order plus dependence plus wake-ups). Releases
//! (unlocks) order later steps but are not race candidates themselves: an
//! unlock can never be swapped with the acquire that follows it.

use super::{Actor, ObjId, MAX_ACTORS};

/// A vector clock over all actors (tasks and store-buffer flushers).
pub type VClock = [u32; MAX_ACTORS];

fn join(a: &mut VClock, b: &VClock) {
    for (x, y) in a.iter_mut().zip(b.iter()) {
        if *y > *x {
            *x = *y;
        }
    }
}

/// How a step touches an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
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
    last: Option<Stamp>,
    reads: Vec<Stamp>,
    read_clock: VClock,
}

impl Default for ObjHist {
    fn default() -> Self {
        ObjHist {
            clock: [0; MAX_ACTORS],
            last: None,
            reads: Vec::new(),
            read_clock: [0; MAX_ACTORS],
        }
    }
}

/// Per-execution happens-before state. Buffers are reused across executions.
#[derive(Default)]
pub struct Hb {
    pub on: bool,
    actor_clock: Vec<VClock>,
    wake: Vec<Option<VClock>>,
    objs: Vec<ObjHist>,
    cur: Option<(u8, u32)>,
    cur_clock: VClock2,
    touched: Vec<(ObjId, Access)>,
    step: u32,
    /// Races found: (earlier step, actor of the later step).
    pub races: Vec<(u32, Actor)>,
}

#[derive(Clone)]
struct VClock2(VClock);
impl Default for VClock2 {
    fn default() -> Self {
        VClock2([0; MAX_ACTORS])
    }
}

impl Hb {
    pub fn reset(&mut self, on: bool) {
        self.on = on;
        if !on {
            return;
        }
        self.actor_clock.clear();
        self.actor_clock.resize(MAX_ACTORS, [0; MAX_ACTORS]);
        self.wake.clear();
        self.wake.resize(MAX_ACTORS, None);
        for o in self.objs.iter_mut() {
            o.clock = [0; MAX_ACTORS];
            o.last = None;
            o.reads.clear();
            o.read_clock = [0; MAX_ACTORS];
        }
        self.cur = None;
        self.touched.clear();
        self.races.clear();
        self.step = 0;
    }

    pub fn ensure_obj(&mut self, id: ObjId) {
        if self.on && self.objs.len() <= id as usize {
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
        let mut c = self.actor_clock[a];
        c[a] += 1;
        if let Some(w) = self.wake[a].take() {
            join(&mut c, &w);
        }
        if let Some(e) = extra {
            join(&mut c, e);
        }
        self.cur = Some((actor.0, c[a]));
        self.cur_clock.0 = c;
        self.step = step;
        self.touched.clear();
    }

    fn happened_before(&self, s: &Stamp) -> bool {
        self.cur_clock.0[s.actor as usize] >= s.idx
    }

    /// Records an access of the current step to `obj`.
    pub fn access(&mut self, obj: ObjId, kind: Access) {
        self.access_as(obj, kind, None)
    }

    /// [`Hb::access`] whose races are reported for actor `as_actor` (a
    /// store-buffer drain performed inside a task's step).
    pub fn access_as(&mut self, obj: ObjId, kind: Access, as_actor: Option<Actor>) {
        if !self.on {
            return;
        }
        let Some((actor, _)) = self.cur else { return };
        let report = as_actor.unwrap_or(Actor(actor));
        self.ensure_obj(obj);
        let h = &self.objs[obj as usize];
        if kind != Access::Release {
            if let Some(s) = h.last {
                if s.actor != actor && !self.happened_before(&s) {
                    self.races.push((s.step, report));
                }
            }
            if kind == Access::Write {
                for s in &h.reads {
                    if s.actor != actor && !self.happened_before(s) {
                        self.races.push((s.step, report));
                    }
                }
            }
        }
        let h = &self.objs[obj as usize];
        let (hc, rc) = (h.clock, h.read_clock);
        join(&mut self.cur_clock.0, &hc);
        if kind == Access::Write {
            join(&mut self.cur_clock.0, &rc);
        }
        self.touched.push((obj, kind));
    }

    /// An operation `actor` has announced but never ran (it was disabled
    /// when the execution ended, e.g. a mutex_lock in a deadlock): report
    /// its races as if it ran now, so DPOR also tries it earlier (the
    /// "next transition of every process" check of Flanagan-Godefroid).
    pub fn probe(&mut self, actor: Actor, obj: Option<ObjId>, kind: Access) {
        if !self.on {
            return;
        }
        let a = actor.0 as usize;
        let mut c = self.actor_clock[a];
        if let Some(w) = &self.wake[a] {
            join(&mut c, w);
        }
        let objs: Vec<ObjId> = match obj {
            Some(o) => vec![o],
            None => (0..self.objs.len() as ObjId).collect(),
        };
        for o in objs {
            let Some(h) = self.objs.get(o as usize) else {
                continue;
            };
            let mut found = Vec::new();
            if let Some(s) = h.last {
                if s.actor != actor.0 && c[s.actor as usize] < s.idx {
                    found.push(s.step);
                }
            }
            if kind == Access::Write {
                for s in &h.reads {
                    if s.actor != actor.0 && c[s.actor as usize] < s.idx {
                        found.push(s.step);
                    }
                }
            }
            for step in found {
                self.races.push((step, actor));
            }
        }
    }

    /// The current step reads every object (a task reaching a crash point:
    /// the crash observes the whole state, so every earlier unordered write
    /// races with it).
    pub fn access_all(&mut self, nobjs: usize) {
        if !self.on {
            return;
        }
        for o in 0..nobjs.min(self.objs.len()) {
            self.access(o as ObjId, Access::Read);
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
        let c = self.cur_clock.0;
        let slot = &mut self.wake[woken.0 as usize];
        match slot {
            Some(w) => join(w, &c),
            None => *slot = Some(c),
        }
    }

    /// Ends the current step: objects take the step's final clock.
    pub fn end(&mut self) {
        if !self.on {
            return;
        }
        let Some((actor, idx)) = self.cur.take() else {
            return;
        };
        let c = self.cur_clock.0;
        let stamp = Stamp {
            step: self.step,
            actor,
            idx,
        };
        for i in 0..self.touched.len() {
            let (o, kind) = self.touched[i];
            let h = &mut self.objs[o as usize];
            match kind {
                Access::Write => {
                    h.last = Some(stamp);
                    h.reads.clear();
                    h.clock = c;
                    h.read_clock = [0; MAX_ACTORS];
                }
                Access::Release => h.clock = c,
                Access::Read => {
                    h.reads.push(stamp);
                    join(&mut h.read_clock, &c);
                }
            }
        }
        self.actor_clock[actor as usize] = c;
    }
}
