//! The lockdep oracle: a lock-class dependency graph learned across every
//! execution of an exploration, checked the way kernel/locking/lockdep.c
//! checks it (v5.9+, Documentation/locking/lockdep-design.rst, "Recursive
//! read locks"), plus an optional declared order ([`LockOrder`]: the
//! order a subsystem documents, e.g. fs/ext4/super.c "Lock ordering" of the
//! run's kernel version) treated as dependencies learned before the run.
//!
//! What is modelled, with lockdep's rules:
//! - **When an edge is added**: at the acquire *attempt* (lockdep's
//!   `lock_acquire` runs before the wait), from the most recently acquired
//!   lock the task still holds to the new one (`check_prevs_add` stops at
//!   the first held lock that is not a trylock; held trylocks above it add
//!   their own edges). A trylock adds no edge *to* the lock it takes.
//!   Locks of the same class (two page locks, `i_rwsem` of two inodes) are
//!   not related (lockdep would need subclasses); such a held lock is
//!   skipped.
//! - **Edge types**: an edge A -> B is -(ER)->, -(EN)->, -(SR)-> or
//!   -(SN)->: E when A is held exclusively (writer, mutex, page lock), S
//!   when held shared; R when B is acquired as a *recursive* reader, N
//!   otherwise (writer or non-recursive reader). `down_read`,
//!   `percpu_down_read` and a jbd2 handle start are non-recursive reads
//!   (lockdep's `read == 1`: `rwsem_acquire_read`, and
//!   `rwsem_acquire_read(&journal->j_trans_commit_map)` in
//!   `start_this_handle`); only read locks with `read == 2` are recursive
//!   (rcu_read_lock, and `read_lock` of an rwlock_t in interrupt context
//!   or without queued rwlocks, `read_lock_is_recursive()`). No primitive
//!   of the simulator is a recursive reader today; [`AcquireKind`] keeps
//!   the rule for ones that would be.
//! - **When a cycle is reported**: a new dependency prev -> next is a
//!   deadlock possibility when there is a *strong* path next -> ... ->
//!   prev, i.e. one with no two consecutive edges -(*R)-> -(S*)->, also
//!   across the closing edge (lockdep's `__bfs` with `only_xr`,
//!   `hlock_conflict`). With non-recursive readers every path is strong:
//!   A(r) -> B(r) together with B(r) -> A(r) is reported, and rightly
//!   (a writer queued on each makes it a real deadlock on writer-fair
//!   rwsems, see `models::rwsem_writer_fair`); two readers alone never
//!   block each other (the deadlock oracle sees that). Only recursive
//!   readers make weaker paths.
//! - A cycle is reported once per class pair per exploration; lockdep
//!   stops at the first report and turns itself off, the oracle goes on to
//!   find the other pairs.
//!
//! Beyond lockdep: page locks are a class here (lockdep does not track
//! PG_locked), so page-lock inversions are found too.
//!
//! The declared order comes in through `ExploreConfig::declared_order`
//! (the kernel runner and the worker pass the table of
//! `crate/scenario/locks.rs` for the run's kernel version).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::{Detail, Outcome, OutcomeKind};
use crate::sim::rt::{ClassId, Mode, ObjId, Rt, TaskId};

/// How an acquisition looks to lockdep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AcquireKind {
    /// Exclusive (`read == 0`): mutex, page lock, `down_write`,
    /// `percpu_down_write`, the commit's wait for `t_updates`.
    Write,
    /// Shared, non-recursive (`read == 1`): `down_read`, `percpu_down_read`,
    /// a jbd2 handle.
    Read,
    /// Shared, recursive (`read == 2`).
    RecursiveRead,
}

/// Dependency type bits of an edge (lockdep's `DEP_{SR,ER,SN,EN}_BIT`).
const DEP_SR: u8 = 1;
const DEP_ER: u8 = 2;
const DEP_SN: u8 = 4;
const DEP_EN: u8 = 8;
const DEP_S: u8 = DEP_SR | DEP_SN;
const DEP_N: u8 = DEP_SN | DEP_EN;

fn dep_bit(held: Mode, next: AcquireKind) -> u8 {
    match (held, next) {
        (Mode::Shared, AcquireKind::RecursiveRead) => DEP_SR,
        (Mode::Exclusive, AcquireKind::RecursiveRead) => DEP_ER,
        (Mode::Shared, _) => DEP_SN,
        (Mode::Exclusive, _) => DEP_EN,
    }
}

/// A declared lock order: chains of lock classes, each acquired after the
/// ones before it (`A -> B -> C`), and where they are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockOrder {
    /// Where the order is documented, for reports
    /// ("fs/ext4/super.c Lock ordering, v4.13").
    pub source: String,
    pub chains: Vec<Vec<&'static str>>,
}

impl LockOrder {
    /// No declared order: only learned dependencies count.
    pub fn none() -> LockOrder {
        LockOrder::default()
    }

    /// Whether it declares nothing.
    pub fn is_empty(&self) -> bool {
        self.chains.iter().all(|c| c.len() < 2)
    }

    /// The declared dependencies (each consecutive pair of every chain),
    /// sorted and deduplicated.
    pub fn pairs(&self) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = self
            .chains
            .iter()
            .flat_map(|c| c.windows(2).map(|w| (w[0], w[1])))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Where an edge was first seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    pub from: String,
    pub to: String,
    pub task: String,
    /// Kernel function that held `from` / acquired `to`.
    pub held_at: String,
    pub acquired_at: String,
    /// True when the link comes from the declared order, not a run.
    pub declared: bool,
}

/// A "possible circular locking dependency" report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockdepReport {
    pub task: String,
    /// The class being acquired.
    pub trying: String,
    /// The class already held.
    pub holding: String,
    /// The new dependency holding -> trying.
    pub new_link: ChainLink,
    /// The existing chain trying -> ... -> holding.
    pub existing: Vec<ChainLink>,
    /// The "possible unsafe locking scenario": rows of (CPU0, CPU1).
    pub scenario: Vec<(String, String)>,
    /// The whole report rendered like the kernel's.
    pub text: String,
}

#[derive(Clone, Debug)]
struct Edge {
    link: ChainLink,
    deps: u8,
}

/// The learned graph; lives for one exploration.
#[derive(Clone, Debug, Default)]
pub struct LockGraph {
    edges: BTreeMap<(&'static str, &'static str), Edge>,
    declared: BTreeMap<(&'static str, &'static str), Edge>,
    declared_source: String,
    reported: BTreeSet<(&'static str, &'static str)>,
    /// Fast check of known (held class, mode, next class, next kind)
    /// dependencies for class ids below 64: bit `to` of word
    /// `from * 4 + dep_index`.
    known: Vec<u64>,
}

/// What a learned graph knows, to carry it across a checkpoint: the
/// learned edges with their dependency types and first links, and the
/// class pairs already reported (the declared order comes from the
/// exploration's configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockGraphState {
    pub edges: Vec<(String, String, u8, ChainLink)>,
    pub reported: Vec<(String, String)>,
}

/// The `&'static str` of a lock-class name read back from a checkpoint:
/// the kernel model's classes are string literals, so a name is leaked at
/// most once per process.
fn intern(name: &str) -> &'static str {
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(|| Mutex::new(BTreeSet::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(&n) = names.get(name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(n);
    n
}

impl LockGraph {
    /// What this graph learned (see [`LockGraphState`]).
    pub fn state(&self) -> LockGraphState {
        LockGraphState {
            edges: self
                .edges
                .iter()
                .map(|((a, b), e)| (a.to_string(), b.to_string(), e.deps, e.link.clone()))
                .collect(),
            reported: self
                .reported
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    /// This graph with `st` learned.
    pub fn with_state(mut self, st: &LockGraphState) -> LockGraph {
        for (a, b, deps, link) in &st.edges {
            self.edges.insert(
                (intern(a), intern(b)),
                Edge {
                    link: link.clone(),
                    deps: *deps,
                },
            );
        }
        for (a, b) in &st.reported {
            self.reported.insert((intern(a), intern(b)));
        }
        self
    }
}

fn dep_index(bit: u8) -> usize {
    bit.trailing_zeros() as usize
}

impl LockGraph {
    /// A fresh graph that also knows the `declared` order.
    pub fn new(declared: &LockOrder) -> LockGraph {
        let mut g = LockGraph {
            declared_source: declared.source.clone(),
            ..LockGraph::default()
        };
        for (a, b) in declared.pairs() {
            if a == b {
                continue;
            }
            g.declared.insert(
                (a, b),
                Edge {
                    link: ChainLink {
                        from: a.into(),
                        to: b.into(),
                        task: String::new(),
                        held_at: String::new(),
                        acquired_at: declared.source.clone(),
                        declared: true,
                    },
                    deps: DEP_N,
                },
            );
        }
        g
    }

    /// Number of distinct class dependencies learned so far.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Whether no dependency was learned.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// The learned edges (from, to), sorted.
    pub fn edges(&self) -> Vec<(String, String)> {
        self.edges
            .keys()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// The learned edges with their lockdep types (`"EN"`, `"SN"`, ...,
    /// joined with `|` when a pair was seen in several), sorted.
    pub fn typed_edges(&self) -> Vec<(String, String, String)> {
        self.edges
            .iter()
            .map(|((a, b), e)| {
                let names: Vec<&str> = [
                    (DEP_ER, "ER"),
                    (DEP_EN, "EN"),
                    (DEP_SR, "SR"),
                    (DEP_SN, "SN"),
                ]
                .iter()
                .filter(|(bit, _)| e.deps & bit != 0)
                .map(|(_, n)| *n)
                .collect();
                (a.to_string(), b.to_string(), names.join("|"))
            })
            .collect()
    }

    fn out_edges(&self, c: &'static str) -> impl Iterator<Item = (&'static str, &Edge)> + '_ {
        let learned = self
            .edges
            .range((c, "")..)
            .take_while(move |((a, _), _)| *a == c)
            .map(|((_, b), e)| (*b, e));
        let declared = self
            .declared
            .range((c, "")..)
            .take_while(move |((a, _), _)| *a == c)
            .map(|((_, b), e)| (*b, e));
        learned.chain(declared)
    }

    fn edge(&self, a: &'static str, b: &'static str) -> Option<&Edge> {
        self.edges
            .get(&(a, b))
            .or_else(|| self.declared.get(&(a, b)))
    }

    /// A strong path `next -> ... -> prev` over learned and declared edges
    /// that closes a cycle with a new dependency `prev -> next` whose
    /// holder mode is `prev_mode` and acquisition `next_kind` (lockdep's
    /// `check_noncircular`: `__bfs` with `only_xr`, matched by
    /// `hlock_conflict`). Breadth first, so the chain is a shortest one.
    pub(crate) fn strong_path(
        &self,
        prev: &'static str,
        prev_mode: Mode,
        next: &'static str,
        next_kind: AcquireKind,
    ) -> Option<Vec<ChainLink>> {
        // state: (class, arrived only through -(*R)-> edges)
        let root = (next, next_kind == AcquireKind::RecursiveRead);
        let mut parent: BTreeMap<(&'static str, bool), (&'static str, bool)> = BTreeMap::new();
        let mut seen = BTreeSet::from([root]);
        let mut queue = VecDeque::from([root]);
        while let Some((c, only_xr)) = queue.pop_front() {
            for (to, e) in self.out_edges(c) {
                let mut dep = e.deps;
                if only_xr {
                    // -(*R)-> -(S*)-> is not a strong dependency
                    dep &= !DEP_S;
                }
                if dep == 0 {
                    continue;
                }
                let next_only_xr = dep & DEP_N == 0;
                let st = (to, next_only_xr);
                if !seen.insert(st) {
                    continue;
                }
                parent.insert(st, (c, only_xr));
                if to == prev && (prev_mode == Mode::Exclusive || !next_only_xr) {
                    let mut links = Vec::new();
                    let mut x = st;
                    while x != root {
                        let p = parent[&x];
                        links.push(self.edge(p.0, x.0).map(|e| e.link.clone())?);
                        x = p;
                    }
                    links.reverse();
                    return Some(links);
                }
                queue.push_back(st);
            }
        }
        None
    }

    /// Adds dependency `prev -> next` (types from `prev_mode`, `next_kind`)
    /// and returns the lockdep report when it closes a strong cycle not yet
    /// reported for this class pair. The entry point the simulator uses
    /// (and tests, to check the rules on graphs directly).
    pub fn add_dependency(
        &mut self,
        prev: &'static str,
        prev_mode: Mode,
        next: &'static str,
        next_kind: AcquireKind,
        link: ChainLink,
    ) -> Option<LockdepReport> {
        let bit = dep_bit(prev_mode, next_kind);
        if prev == next {
            return None;
        }
        if self
            .edges
            .get(&(prev, next))
            .is_some_and(|e| e.deps & bit != 0)
        {
            return None;
        }
        let pair = if prev < next {
            (prev, next)
        } else {
            (next, prev)
        };
        let existing = if self.reported.contains(&pair) {
            None
        } else {
            self.strong_path(prev, prev_mode, next, next_kind)
        };
        self.edges
            .entry((prev, next))
            .and_modify(|e| e.deps |= bit)
            .or_insert(Edge {
                link: link.clone(),
                deps: bit,
            });
        let existing = existing?;
        self.reported.insert(pair);
        let parent = existing
            .last()
            .map(|l| l.from.clone())
            .unwrap_or_else(|| next.to_string());
        let lock = |class: &str, read: bool| {
            if read {
                format!("rlock({class});")
            } else {
                format!("lock({class});")
            }
        };
        let prev_read = prev_mode == Mode::Shared;
        let next_read = next_kind != AcquireKind::Write;
        let scenario = vec![
            (lock(prev, prev_read), String::new()),
            (String::new(), lock(&parent, false)),
            (String::new(), lock(prev, false)),
            (lock(next, next_read), String::new()),
        ];
        let mut r = LockdepReport {
            task: link.task.clone(),
            trying: next.into(),
            holding: prev.into(),
            new_link: link,
            existing,
            scenario,
            text: String::new(),
        };
        r.text = render(&r, &self.declared_source);
        Some(r)
    }
}

fn render(r: &LockdepReport, declared_source: &str) -> String {
    let mut s = String::new();
    s.push_str("======================================================\n");
    s.push_str("WARNING: possible circular locking dependency detected\n");
    s.push_str("------------------------------------------------------\n");
    s.push_str(&format!("{} is trying to acquire lock:\n", r.task));
    s.push_str(&format!(
        " ({}), at: {}\n\n",
        r.trying, r.new_link.acquired_at
    ));
    s.push_str("but task is already holding lock:\n");
    s.push_str(&format!(" ({}), at: {}\n\n", r.holding, r.new_link.held_at));
    s.push_str("which lock already depends on the new lock.\n\n");
    s.push_str("the existing dependency chain (in reverse order) is:\n");
    for (i, l) in r.existing.iter().enumerate().rev() {
        let src = if l.declared {
            format!("declared in {declared_source}")
        } else {
            format!("{} in {}", l.task, l.acquired_at)
        };
        s.push_str(&format!(
            "\n-> #{} ({}): {} -> {}, {}\n",
            i, l.to, l.from, l.to, src
        ));
    }
    s.push_str("\nother info that might help us debug this:\n\n");
    s.push_str(" Possible unsafe locking scenario:\n\n");
    s.push_str(&format!("       {:<24}{}\n", "CPU0", "CPU1"));
    s.push_str(&format!("       {:<24}{}\n", "----", "----"));
    for (a, b) in &r.scenario {
        s.push_str(&format!("  {:<29}{}\n", a, b));
    }
    s.push_str("\n *** DEADLOCK ***\n");
    s
}

impl Rt {
    /// Task `t` attempts to acquire `obj` of class `class` as `kind`: add
    /// the dependencies lockdep adds (from the nearest held non-trylock
    /// lock and the trylocks above it), report an inversion one creates.
    pub(crate) fn lockdep_acquire(
        &mut self,
        t: TaskId,
        obj: ObjId,
        class: ClassId,
        kind: AcquireKind,
    ) {
        let _ = obj;
        let task = &self.tasks[t as usize];
        // The held locks lockdep links the new one to, newest first.
        let mut sources: Vec<(ClassId, Mode, &'static str)> = Vec::new();
        for h in task.held.iter().rev() {
            if h.class == class {
                continue;
            }
            sources.push((h.class, h.mode, h.at));
            if !h.trylock {
                break;
            }
        }
        if sources.is_empty() {
            return;
        }
        // fast path: every dependency already known (no allocation)
        let known = &self.lockdep.known;
        let all_known = class < 64
            && sources.iter().all(|&(c, m, _)| {
                let w = c as usize * 4 + dep_index(dep_bit(m, kind));
                known.get(w).is_some_and(|w| w & (1u64 << class) != 0)
            });
        if all_known {
            return;
        }
        let to = self.class_name(class);
        let acquired_at = task.kfn.last().copied().unwrap_or("").to_string();
        let tname = task.name.to_string();
        for (c, mode, held_at) in sources {
            if class < 64 {
                let w = c as usize * 4 + dep_index(dep_bit(mode, kind));
                if self.lockdep.known.len() <= w {
                    self.lockdep.known.resize(w + 1, 0);
                }
                self.lockdep.known[w] |= 1u64 << class;
            }
            let from = self.class_name(c);
            let link = ChainLink {
                from: from.into(),
                to: to.into(),
                task: tname.clone(),
                held_at: held_at.into(),
                acquired_at: acquired_at.clone(),
                declared: false,
            };
            let Some(r) = self.lockdep.add_dependency(from, mode, to, kind, link) else {
                continue;
            };
            let mut o = Outcome::new(OutcomeKind::LockOrderInversion, self.step);
            o.tasks = vec![tname.clone()];
            o.tasks.extend(
                r.existing
                    .iter()
                    .filter(|l| !l.declared)
                    .map(|l| l.task.clone()),
            );
            o.locks = vec![from.to_string(), to.to_string()];
            o.site = if r.existing.iter().all(|l| l.declared) {
                "declared order".into()
            } else {
                "lockdep".into()
            };
            o.message = format!("{from} -> {to} against existing {to} -> ... -> {from}");
            o.detail = Some(Detail::Lockdep(Box::new(r)));
            self.outcomes.push(o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(a: &str, b: &str) -> ChainLink {
        ChainLink {
            from: a.into(),
            to: b.into(),
            task: "T".into(),
            held_at: String::new(),
            acquired_at: String::new(),
            declared: false,
        }
    }

    fn add(g: &mut LockGraph, a: &'static str, m: Mode, b: &'static str, k: AcquireKind) -> bool {
        g.add_dependency(a, m, b, k, link(a, b)).is_some()
    }

    use AcquireKind::{Read, RecursiveRead, Write};
    use Mode::{Exclusive as E, Shared as S};

    #[test]
    fn write_write_inversion() {
        let mut g = LockGraph::default();
        assert!(!add(&mut g, "A", E, "B", Write));
        assert!(add(&mut g, "B", E, "A", Write));
        // reported once per pair
        let mut g2 = g.clone();
        assert!(!add(&mut g2, "B", S, "A", Read));
    }

    #[test]
    fn non_recursive_readers_form_cycles() {
        // A(r) -> B(r) and B(r) -> A(r): -(SN)-> -(SN)-> is strong.
        let mut g = LockGraph::default();
        assert!(!add(&mut g, "A", S, "B", Read));
        assert!(add(&mut g, "B", S, "A", Read));
    }

    #[test]
    fn recursive_readers_rules_of_lockdep_design() {
        // lockdep-design.rst, "Recursive read locks": TASK A: read_lock(X);
        // write_lock(Y) / TASK B: read_lock(Y); write_lock(X) deadlocks even
        // with X and Y read recursively: X -(SN)-> Y -(SN)-> X is strong.
        let mut g = LockGraph::default();
        assert!(!add(&mut g, "X", S, "Y", Write));
        assert!(add(&mut g, "Y", S, "X", Write));

        // X written, Y read recursively under it; Y read, X read
        // recursively under it: X -(ER)-> Y -(SR)-> X. Readers do not block
        // recursive readers: -(*R)-> followed by -(S*)-> is not strong.
        let mut g = LockGraph::default();
        assert!(!add(&mut g, "X", E, "Y", RecursiveRead));
        assert!(!add(&mut g, "Y", S, "X", RecursiveRead));

        // X -(ER)-> Y and Y -(SN)-> X: still -(*R)-> -(S*)->: not strong
        // (A holds X for write, waits for Y as a recursive reader, which
        // B's read of Y cannot block).
        let mut g = LockGraph::default();
        assert!(!add(&mut g, "X", E, "Y", RecursiveRead));
        assert!(!add(&mut g, "Y", S, "X", Write));

        // X -(ER)-> Y, then Y held for write takes X: -(ER)-> -(EN)-> is
        // strong (the writer of Y blocks the recursive reader).
        let mut g = LockGraph::default();
        assert!(!add(&mut g, "X", E, "Y", RecursiveRead));
        assert!(add(&mut g, "Y", E, "X", Write));
    }

    #[test]
    fn strong_path_through_a_middle_lock() {
        // A -(EN)-> B -(SR)-> C (recursive), then C -(SN)-> A:
        // path A->B->C ends in *R, closing edge starts with S: weak, and
        // B -(SR)-> C followed by C -(S*)->: not strong either.
        let mut g = LockGraph::default();
        assert!(!add(&mut g, "A", E, "B", Write));
        assert!(!add(&mut g, "B", S, "C", RecursiveRead));
        assert!(!add(&mut g, "C", S, "A", Write));
        // C held for write instead: -(SR)-> -(EN)-> is strong.
        assert!(add(&mut g, "C", E, "A", Write));
    }

    #[test]
    fn declared_order_counts_as_known_dependencies() {
        let order = LockOrder {
            source: "test".into(),
            chains: vec![vec!["A", "B", "C"]],
        };
        let mut g = LockGraph::new(&order);
        // C -> A against declared A -> B -> C
        let r = g
            .add_dependency("C", E, "A", Write, link("C", "A"))
            .expect("inversion against the declared order");
        assert!(r.existing.iter().all(|l| l.declared));
        assert_eq!(r.existing.len(), 2);
        // mixed: learned D -> A, declared A -> B; new B -> D
        assert!(!add(&mut g, "D", E, "A", Write));
        assert!(add(&mut g, "B", E, "D", Write));
        // the learned graph lists learned edges only
        assert_eq!(g.edges().len(), 3);
    }
}
