//! The lockdep oracle: a lock-class dependency graph learned across every
//! execution of an exploration (an edge A -> B when a task acquires class B
//! while holding class A; recorded when the acquire is *attempted*, as
//! lockdep does, so a task that then blocks still contributes), checked
//! against itself (a new edge closing a cycle) and against the declared
//! order ([`EXT4_LOCK_ORDER`], fs/ext4/super.c "Lock ordering"). An
//! inversion is reported once per class pair per exploration, in lockdep's
//! layout, whether or not the execution deadlocked. Edges between two locks
//! of the same class (two page locks) are not tracked (lockdep would need
//! subclasses); read/write modes are not distinguished.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Detail, Outcome, OutcomeKind};
use crate::sim::rt::{ClassId, ObjId, Rt, TaskId};

/// The ext4 lock order as documented in fs/ext4/super.c, one chain per
/// line of the comment; "transaction start" is the `jbd2_handle` class,
/// `sb_start_*` are the freeze protection classes.
pub const EXT4_LOCK_ORDER: &[&[&str]] = &[
    &[
        "mmap_lock",
        "sb_pagefaults",
        "invalidate_lock",
        "jbd2_handle",
        "page lock",
        "i_data_sem",
    ],
    &["sb_writers", "i_rwsem", "mmap_lock"],
    &[
        "sb_writers",
        "i_rwsem",
        "jbd2_handle",
        "page lock",
        "i_data_sem",
    ],
    &["sb_writers", "i_rwsem", "invalidate_lock", "page lock"],
    &[
        "sb_writers",
        "i_rwsem",
        "invalidate_lock",
        "jbd2_handle",
        "i_data_sem",
    ],
    &["jbd2_handle", "page lock", "i_data_sem"],
];

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

/// The learned graph; lives for one exploration.
#[derive(Clone, Debug, Default)]
pub struct LockGraph {
    edges: BTreeMap<(&'static str, &'static str), ChainLink>,
    reported: BTreeSet<(&'static str, &'static str)>,
    declared: Vec<Vec<&'static str>>,
    /// Fast check of known edges by class id (bit `to` of word `from`), for
    /// class ids below 64.
    known: Vec<u64>,
}

impl LockGraph {
    /// A fresh graph that also knows `declared` chains.
    pub fn new(declared: &[&[&'static str]]) -> LockGraph {
        LockGraph {
            declared: declared.iter().map(|c| c.to_vec()).collect(),
            ..LockGraph::default()
        }
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

    /// A path from -> ... -> to over learned edges (breadth first).
    fn path(&self, from: &'static str, to: &'static str) -> Option<Vec<ChainLink>> {
        let mut prev: BTreeMap<&'static str, &'static str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([from]);
        let mut seen = BTreeSet::from([from]);
        while let Some(c) = queue.pop_front() {
            if c == to {
                let mut links = Vec::new();
                let mut x = to;
                while x != from {
                    let p = prev[x];
                    links.push(self.edges[&(p, x)].clone());
                    x = p;
                }
                links.reverse();
                return Some(links);
            }
            for (&(a, b), _) in self.edges.range((c, "")..) {
                if a != c {
                    break;
                }
                if seen.insert(b) {
                    prev.insert(b, a);
                    queue.push_back(b);
                }
            }
        }
        None
    }

    /// Declared chain saying `from` comes before `to`.
    fn declared_before(&self, from: &'static str, to: &'static str) -> Option<Vec<ChainLink>> {
        for chain in &self.declared {
            let i = chain.iter().position(|c| *c == from);
            let j = chain.iter().position(|c| *c == to);
            if let (Some(i), Some(j)) = (i, j) {
                if i < j {
                    return Some(
                        chain[i..=j]
                            .windows(2)
                            .map(|w| ChainLink {
                                from: w[0].into(),
                                to: w[1].into(),
                                task: String::new(),
                                held_at: String::new(),
                                acquired_at: "fs/ext4/super.c Lock ordering".into(),
                                declared: true,
                            })
                            .collect(),
                    );
                }
            }
        }
        None
    }
}

fn render(r: &LockdepReport) -> String {
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
            "declared in fs/ext4/super.c".to_string()
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
    /// Task `t` attempts to acquire `obj` of class `class`: learn edges from
    /// every held class, report an inversion the new edge creates.
    pub(crate) fn lockdep_acquire(&mut self, t: TaskId, obj: ObjId, class: ClassId) {
        let _ = obj;
        // fast path: every dependency already known (no allocation)
        let known = &self.lockdep.known;
        let all_known = self.tasks[t as usize].held.iter().all(|h| {
            h.class == class
                || (class < 64
                    && known
                        .get(h.class as usize)
                        .is_some_and(|w| w & (1u64 << class) != 0))
        });
        if all_known {
            return;
        }
        for h in &self.tasks[t as usize].held {
            if class < 64 && h.class != class {
                let i = h.class as usize;
                if self.lockdep.known.len() <= i {
                    self.lockdep.known.resize(i + 1, 0);
                }
                self.lockdep.known[i] |= 1u64 << class;
            }
        }
        let to = self.class_name(class);
        let task = &self.tasks[t as usize];
        let acquired_at = task.kfn.last().copied().unwrap_or("").to_string();
        let tname = task.name.to_string();
        let held: Vec<(&'static str, &'static str)> = task
            .held
            .iter()
            .map(|h| (self.class_name(h.class), h.at))
            .collect();
        for (from, held_at) in held {
            if from == to || self.lockdep.edges.contains_key(&(from, to)) {
                continue;
            }
            let link = ChainLink {
                from: from.into(),
                to: to.into(),
                task: tname.clone(),
                held_at: held_at.into(),
                acquired_at: acquired_at.clone(),
                declared: false,
            };
            let pair = if from < to { (from, to) } else { (to, from) };
            let existing = if self.lockdep.reported.contains(&pair) {
                None
            } else {
                self.lockdep
                    .path(to, from)
                    .or_else(|| self.lockdep.declared_before(to, from))
            };
            self.lockdep.edges.insert((from, to), link.clone());
            if let Some(existing) = existing {
                self.lockdep.reported.insert(pair);
                let parent = existing
                    .last()
                    .map(|l| l.from.clone())
                    .unwrap_or_else(|| to.to_string());
                let scenario = vec![
                    (format!("lock({from});"), String::new()),
                    (String::new(), format!("lock({parent});")),
                    (String::new(), format!("lock({from});")),
                    (format!("lock({to});"), String::new()),
                ];
                let mut r = LockdepReport {
                    task: tname.clone(),
                    trying: to.into(),
                    holding: from.into(),
                    new_link: link,
                    existing,
                    scenario,
                    text: String::new(),
                };
                r.text = render(&r);
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
}
