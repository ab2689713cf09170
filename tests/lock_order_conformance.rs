//! Lock-order conformance: every variant of every built-in, under every
//! option combination its rows name (and the defaults), explored with DFS
//! under preemption bound 2 (or the scenario's own bound where it is lower:
//! s6 and s7 explore under 1, their verdicts' bound) and the lockdep oracle (the lock order of the
//! variant's kernel era declared). The lock-order inversions found must be
//! exactly those the variant's rows declare for that combination (rows of
//! kind `lock-order-inversion`, `expect = "found"`, matched by their
//! `locks`); everywhere else, none. Data-driven: it follows the scenario
//! files and the kernel paths as they change.
//!
//! It also keeps the "Learned lock graphs" part of docs/fidelity.md equal to
//! the graphs the race-free variants (no row expects any outcome found)
//! learn at their default options: after a change of the kernel paths, run
//! `UPDATE_DOCS=1 cargo test --profile tables --test lock_order_conformance
//! -- --include-ignored` and review the diff.
//!
//! In the `tables` group (minutes in a debug build).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use ext4lab::kernel::runner::explore_variant;
use ext4lab::scenario::locks::lock_name_matches;
use ext4lab::scenario::{builtins, parse_scenario, OutcomeKind, Presence, Scenario};
use ext4lab::sim::{OutcomeKind as SimKind, Report, Strategy};

const BUDGET: u64 = 1_000_000;

/// Option combinations to explore for `variant`: the defaults, and each
/// row's `when` on top of them.
fn combinations(sc: &Scenario, variant: &str) -> BTreeSet<BTreeMap<String, String>> {
    let defaults: BTreeMap<String, String> = sc
        .options
        .iter()
        .map(|o| (o.name.clone(), o.default.clone()))
        .collect();
    let mut out = BTreeSet::from([defaults.clone()]);
    let v = sc.variants.iter().find(|v| v.name == variant).unwrap();
    for e in &v.expect {
        let mut c = defaults.clone();
        c.extend(e.when.clone());
        out.insert(c);
    }
    out
}

fn explore(sc: &Rc<Scenario>, variant: &str, opts: &BTreeMap<String, String>) -> Report {
    let strategy = Strategy::Dfs {
        preemption_bound: Some(bound(sc)),
        dpor: true,
    };
    explore_variant(sc, variant, opts, Some(strategy), Some(BUDGET))
        .unwrap()
        .1
}

/// The preemption bound of the check: 2, or the scenario's where lower.
fn bound(sc: &Scenario) -> u32 {
    sc.explore.preemption_bound.min(2)
}

/// The inversions a report shows, each as its sorted class pair.
fn inversions(r: &Report) -> BTreeSet<Vec<String>> {
    r.outcomes
        .iter()
        .filter(|o| o.key.kind == SimKind::LockOrderInversion)
        .map(|o| o.key.locks.clone())
        .collect()
}

fn row_matches(row_locks: &[String], found: &[String]) -> bool {
    row_locks
        .iter()
        .all(|l| found.iter().any(|c| lock_name_matches(l, c)))
}

fn scenarios() -> Vec<Rc<Scenario>> {
    builtins()
        .iter()
        .map(|b| Rc::new(parse_scenario(b.text).expect("built-in parses")))
        .collect()
}

/// Whether no row of the variant expects an outcome to be found.
fn race_free(sc: &Scenario, variant: &str) -> bool {
    let v = sc.variants.iter().find(|v| v.name == variant).unwrap();
    v.expect.iter().all(|e| e.expect == Presence::Absent)
}

#[test]
#[ignore = "tables group: explores every variant (minutes in a debug build)"]
fn lock_order_inversions_are_exactly_those_declared() {
    let mut problems = Vec::new();
    let mut graphs: Vec<String> = Vec::new();
    for sc in scenarios() {
        for v in &sc.variants {
            for opts in combinations(&sc, &v.name) {
                let r = explore(&sc, &v.name, &opts);
                let found = inversions(&r);
                let rows: Vec<_> = v
                    .expect
                    .iter()
                    .filter(|e| e.kind == OutcomeKind::LockOrderInversion)
                    .filter(|e| {
                        let mut c: BTreeMap<String, String> = sc
                            .options
                            .iter()
                            .map(|o| (o.name.clone(), o.default.clone()))
                            .collect();
                        c.extend(e.when.clone());
                        c == opts
                    })
                    .collect();
                let where_ = format!("{} {} {:?}", sc.meta.id, v.name, opts);
                eprintln!(
                    "{where_}: {} executions (complete {}), inversions {found:?}",
                    r.stats.executions, r.stats.exhausted
                );
                for e in rows.iter().filter(|e| e.expect == Presence::Found) {
                    if !found.iter().any(|f| row_matches(&e.locks, f)) {
                        problems.push(format!(
                            "{where_}: declared inversion {:?} not found",
                            e.locks
                        ));
                    }
                }
                for f in &found {
                    let declared = rows
                        .iter()
                        .filter(|e| e.expect == Presence::Found)
                        .any(|e| row_matches(&e.locks, f));
                    if !declared {
                        problems.push(format!("{where_}: inversion {f:?} found, not declared"));
                    }
                }
                if found.is_empty() && !r.stats.exhausted {
                    problems.push(format!(
                        "{where_}: no inversion, but the search did not finish ({} executions)",
                        r.stats.executions
                    ));
                }
                let defaults = opts
                    .iter()
                    .all(|(k, val)| sc.options.iter().any(|o| &o.name == k && &o.default == val));
                if defaults && race_free(&sc, &v.name) {
                    let mut s = format!(
                        "#### {} `{}`\n\n{} executions under bound {}{}.\n\n",
                        sc.meta.id,
                        v.name,
                        r.stats.executions,
                        bound(&sc),
                        if r.stats.exhausted {
                            ", complete"
                        } else {
                            ", budget reached"
                        }
                    );
                    for (a, b, t) in &r.lock_graph_typed {
                        s.push_str(&format!("- `{a}` -({t})-> `{b}`\n"));
                    }
                    if r.lock_graph_typed.is_empty() {
                        s.push_str("(no lock taken while another is held)\n");
                    }
                    graphs.push(s);
                }
            }
        }
    }
    check_docs(&graphs.join("\n"));
    assert!(problems.is_empty(), "{problems:#?}");
}

const BEGIN: &str = "<!-- learned-lock-graphs: begin (tests/lock_order_conformance.rs) -->";
const END: &str = "<!-- learned-lock-graphs: end -->";

fn check_docs(graphs: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/fidelity.md");
    let doc = std::fs::read_to_string(path).expect("docs/fidelity.md");
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/fidelity.md lacks the learned-lock-graphs markers");
    };
    let current = &doc[b + BEGIN.len()..e];
    let want = format!("\n{graphs}\n");
    if current != want {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let new = format!("{}{BEGIN}{want}{}", &doc[..b], &doc[e..]);
            std::fs::write(path, new).expect("write docs");
        } else {
            panic!(
                "docs/fidelity.md's learned lock graphs are not what the variants learn; \
                 rerun with UPDATE_DOCS=1 and review the diff. Learned:\n{graphs}"
            );
        }
    }
}
