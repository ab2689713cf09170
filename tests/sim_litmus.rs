//! The memory models against the Linux kernel memory model's litmus tests:
//! every test restated in tests/fixtures/litmus (format in its README) is
//! explored exhaustively under `sc`, `x86` and `lkmm`, and the outcome of
//! its `exists` clause must be what the file states for LKMM (or, where the
//! restatement records a known deviation, what the model gives), what
//! x86-TSO allows, and what sequential consistency allows.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use ext4lab::sim::*;

#[derive(Clone, Debug)]
enum Op {
    Write { var: String, v: i64, release: bool },
    Read { reg: String, var: String },
    Inc { var: String, d: i64 },
    IncReturn { reg: String, var: String },
    Mb,
    Wmb,
    Rmb,
    BeforeAtomic,
    AfterAtomic,
    Lock(String),
    Unlock(String),
    If { reg: String, then: Box<Op> },
}

#[derive(Clone, Debug)]
enum Cond {
    Reg { thread: usize, reg: String, v: i64 },
    Var { var: String, v: i64 },
}

#[derive(Clone, Debug)]
struct Litmus {
    name: String,
    expect: BTreeMap<String, bool>,
    model_lkmm: Option<bool>,
    threads: Vec<Vec<Op>>,
    exists: Vec<Cond>,
}

fn result(s: &str) -> bool {
    match s.trim() {
        "Sometimes" => true,
        "Never" => false,
        other => panic!("result must be Sometimes or Never, not {other:?}"),
    }
}

fn args(s: &str, name: &str) -> Vec<String> {
    let inner = s
        .trim()
        .strip_prefix(name)
        .and_then(|r| r.trim().strip_prefix('('))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("bad op {s:?}"));
    inner.split(',').map(|a| a.trim().to_string()).collect()
}

fn parse_op(s: &str) -> Op {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("if (") {
        let (reg, then) = rest.split_once(')').expect("if (reg) op");
        return Op::If {
            reg: reg.trim().into(),
            then: Box::new(parse_op(then)),
        };
    }
    if let Some((reg, rhs)) = s.split_once(" = ") {
        let reg = reg.trim().to_string();
        let rhs = rhs.trim();
        for f in ["READ_ONCE", "smp_load_acquire", "atomic_read"] {
            if rhs.starts_with(f) {
                let a = args(rhs, f);
                let var = a[0].trim_start_matches('*').to_string();
                return Op::Read { reg, var };
            }
        }
        if rhs.starts_with("atomic_inc_return") {
            let var = args(rhs, "atomic_inc_return")[0].clone();
            return Op::IncReturn { reg, var };
        }
        panic!("bad op {s:?}");
    }
    let name = s.split('(').next().unwrap_or("").trim();
    match name {
        "WRITE_ONCE" | "smp_store_release" => {
            let a = args(s, name);
            Op::Write {
                var: a[0].trim_start_matches('*').to_string(),
                v: a[1].parse().expect("value"),
                release: name == "smp_store_release",
            }
        }
        "atomic_inc" => Op::Inc {
            var: args(s, name)[0].clone(),
            d: 1,
        },
        "atomic_dec" => Op::Inc {
            var: args(s, name)[0].clone(),
            d: -1,
        },
        "smp_mb" => Op::Mb,
        "smp_wmb" => Op::Wmb,
        "smp_rmb" => Op::Rmb,
        "smp_mb__before_atomic" => Op::BeforeAtomic,
        "smp_mb__after_atomic" => Op::AfterAtomic,
        "spin_lock" => Op::Lock(args(s, name)[0].clone()),
        "spin_unlock" => Op::Unlock(args(s, name)[0].clone()),
        _ => panic!("bad op {s:?}"),
    }
}

fn parse(name: &str, text: &str) -> Litmus {
    let mut t = Litmus {
        name: name.into(),
        expect: BTreeMap::new(),
        model_lkmm: None,
        threads: Vec::new(),
        exists: Vec::new(),
    };
    let mut has_source = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "source" => has_source = !rest.trim().is_empty(),
            "lkmm" | "x86" | "sc" => {
                t.expect.insert(key.into(), result(rest));
            }
            "model-lkmm" => t.model_lkmm = Some(result(rest)),
            "exists" => {
                for c in rest.split("/\\") {
                    let (l, v) = c.trim().split_once('=').expect("cond a=b");
                    let v: i64 = v.trim().parse().expect("cond value");
                    t.exists.push(match l.split_once(':') {
                        Some((th, reg)) => Cond::Reg {
                            thread: th.trim().parse().expect("thread"),
                            reg: reg.trim().into(),
                            v,
                        },
                        None => Cond::Var {
                            var: l.trim().into(),
                            v,
                        },
                    });
                }
            }
            k if k.starts_with('P') && k.ends_with(':') => {
                let idx: usize = k[1..k.len() - 1].parse().expect("P<n>:");
                assert_eq!(idx, t.threads.len(), "{name}: threads in order");
                t.threads.push(rest.split(';').map(parse_op).collect());
            }
            _ => panic!("{name}: unknown line {line:?}"),
        }
    }
    assert!(has_source, "{name}: says where it comes from");
    for k in ["lkmm", "x86", "sc"] {
        assert!(t.expect.contains_key(k), "{name}: states the {k} result");
    }
    assert!(!t.threads.is_empty() && !t.exists.is_empty(), "{name}");
    t
}

fn vars(t: &Litmus) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    let mut add = |x: &String| {
        if !v.contains(x) {
            v.push(x.clone())
        }
    };
    fn walk(op: &Op, add: &mut dyn FnMut(&String)) {
        match op {
            Op::Write { var, .. }
            | Op::Read { var, .. }
            | Op::Inc { var, .. }
            | Op::IncReturn { var, .. } => add(var),
            Op::If { then, .. } => walk(then, add),
            _ => {}
        }
    }
    for th in &t.threads {
        for op in th {
            walk(op, &mut add);
        }
    }
    for c in &t.exists {
        if let Cond::Var { var, .. } = c {
            add(var);
        }
    }
    v
}

const EXISTS: &str = "exists";

fn model(t: &Litmus) -> Model {
    let t = Rc::new(t.clone());
    Model::new(move |w| {
        let names = vars(&t);
        let atoms: Rc<BTreeMap<String, AtomicT>> = Rc::new(
            names
                .iter()
                .map(|n| (n.clone(), AtomicT::new(n.clone(), 0)))
                .collect(),
        );
        let mut locks: BTreeMap<String, SpinLock> = BTreeMap::new();
        for th in &t.threads {
            for op in th {
                if let Op::Lock(l) | Op::Unlock(l) = op {
                    locks
                        .entry(l.clone())
                        .or_insert_with(|| SpinLock::named(l.clone(), "spinlock"));
                }
            }
        }
        let locks = Rc::new(locks);
        let regs: Rc<RefCell<BTreeMap<(usize, String), i64>>> = Rc::default();
        for (i, th) in t.threads.iter().enumerate() {
            let (th, atoms, locks, regs) = (th.clone(), atoms.clone(), locks.clone(), regs.clone());
            w.spawn(format!("P{i}"), async move {
                for op in th {
                    run(i, &op, &atoms, &locks, &regs).await;
                }
            });
        }
        let t2 = t.clone();
        w.on_end(move |end| {
            assert_eq!(end.end, EndKind::Complete);
            let regs = regs.borrow();
            let hit = t2.exists.iter().all(|c| match c {
                Cond::Reg { thread, reg, v } => {
                    regs.get(&(*thread, reg.clone())).copied().unwrap_or(0) == *v
                }
                Cond::Var { var, v } => atoms[var].peek() == *v,
            });
            if hit {
                vec![Outcome::new(OutcomeKind::Other(EXISTS.into()), 0)]
            } else {
                vec![]
            }
        });
    })
}

async fn run(
    i: usize,
    op: &Op,
    atoms: &BTreeMap<String, AtomicT>,
    locks: &BTreeMap<String, SpinLock>,
    regs: &RefCell<BTreeMap<(usize, String), i64>>,
) {
    match op {
        Op::Write { var, v, release } => {
            if *release {
                atoms[var].set_release(*v).await
            } else {
                atoms[var].set(*v).await
            }
        }
        Op::Read { reg, var } => {
            let v = atoms[var].read().await;
            regs.borrow_mut().insert((i, reg.clone()), v);
        }
        Op::Inc { var, d } => atoms[var].add(*d).await,
        Op::IncReturn { reg, var } => {
            let v = atoms[var].inc_return().await;
            regs.borrow_mut().insert((i, reg.clone()), v);
        }
        Op::Mb => smp_mb(),
        Op::Wmb => smp_wmb(),
        Op::Rmb => smp_rmb(),
        Op::BeforeAtomic => smp_mb__before_atomic(),
        Op::AfterAtomic => smp_mb__after_atomic(),
        Op::Lock(l) => locks[l].lock().await,
        Op::Unlock(l) => locks[l].unlock(),
        Op::If { reg, then } => {
            let r = regs.borrow().get(&(i, reg.clone())).copied().unwrap_or(0);
            if r != 0 {
                Box::pin(run(i, then, atoms, locks, regs)).await;
            }
        }
    }
}

/// Whether the `exists` outcome appears in some execution under `memory`
/// (every interleaving and every store-visibility choice: DFS with no
/// preemption bound, a store window longer than any test).
fn sometimes(t: &Litmus, memory: MemoryModel) -> bool {
    let cfg = ExploreConfig {
        strategy: Strategy::Dfs {
            preemption_bound: None,
            dpor: false,
        },
        max_executions: 2_000_000,
        run: RunOptions {
            memory,
            store_window: 64,
            ..RunOptions::default()
        },
        ..ExploreConfig::default()
    };
    let r = explore(&model(t), &cfg, &mut NoObserver);
    assert!(r.stats.exhausted, "{}: {memory:?} explored fully", t.name);
    r.find(&OutcomeKind::Other(EXISTS.into())).is_some()
}

fn tests() -> Vec<Litmus> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/litmus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("litmus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            parse(&name, &std::fs::read_to_string(p).expect("read"))
        })
        .collect()
}

fn word(b: bool) -> &'static str {
    if b {
        "Sometimes"
    } else {
        "Never"
    }
}

#[test]
fn litmus_tests_give_the_results_their_files_state() {
    let all = tests();
    assert!(all.len() >= 12, "the restated litmus tests are all there");
    let mut bad = Vec::new();
    for t in &all {
        for (name, memory, want) in [
            ("sc", MemoryModel::Sc, t.expect["sc"]),
            ("x86", MemoryModel::X86, t.expect["x86"]),
            (
                "lkmm",
                MemoryModel::Lkmm,
                t.model_lkmm.unwrap_or(t.expect["lkmm"]),
            ),
        ] {
            let got = sometimes(t, memory);
            eprintln!("{:<48} {name:<5} {}", t.name, word(got));
            if got != want {
                bad.push(format!(
                    "{} under {name}: {} (want {})",
                    t.name,
                    word(got),
                    word(want)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn every_deviation_is_stronger_than_lkmm() {
    // A deviation may only forbid what LKMM allows (never allow what it
    // forbids): then a verdict "found" under the model holds under LKMM.
    for t in tests() {
        if let Some(m) = t.model_lkmm {
            assert!(
                t.expect["lkmm"] && !m,
                "{}: model allows what LKMM forbids",
                t.name
            );
        }
    }
}

#[test]
fn the_weak_models_differ_where_x86_and_lkmm_differ() {
    let all = tests();
    let get = |n: &str| all.iter().find(|t| t.name == n).expect(n);
    // atomic_inc is a full barrier on x86, unordered under LKMM
    let t = get("SB+atomicinc+fencembonceonce");
    assert!(!sometimes(t, MemoryModel::X86));
    assert!(sometimes(t, MemoryModel::Lkmm));
    // stores to different variables propagate out of order under LKMM only
    let t = get("MP+poonceonces");
    assert!(!sometimes(t, MemoryModel::X86));
    assert!(sometimes(t, MemoryModel::Lkmm));
}
