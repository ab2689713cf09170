//! ext4lab's DFS, naive and reduced (DPOR: bounded, trace-equivalent
//! prefix pruning; see crate/sim/sched/dfs.rs), against loom 0.7 on the
//! reference model of `ext4lab::sim::models::reference` (3 threads x 10
//! rounds of lock A / add 1 / unlock; threads 0 and 1 then take A then B
//! once, in that order; the counter must end at 30), at preemption bounds
//! 2 and 3, plus ext4lab on `three_tasks_50` at bound 2. Everything runs
//! in this one process; each figure is the fastest of three runs, and
//! every speed is given as a ratio against another row of the same run.
//!
//! loom counts executions differently: its main thread is a thread too
//! (it spawns the three and joins them, and loom schedules those steps),
//! thread spawn, join and exit are scheduling points, and its own
//! reduction (DPOR over its access model) decides which interleavings it
//! runs. Its count is the number of times the model closure ran.
//!
//! Run: `cd benches/loom-ref && nice cargo run --release`
//! (`LOOM_REF_BOUNDS=2` runs bound 2 only; `LOOM_REF_SKIP_LOOM=1` skips loom).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ext4lab::sim::{explore, models, ExploreConfig, Model, NoObserver, Report, Strategy};

/// One measured search: executions and the fastest wall time of 3 runs.
#[derive(Clone, Copy)]
struct Row {
    executions: u64,
    secs: f64,
    /// ext4lab's reduced search gave its reduction up for naive DFS.
    given_up: bool,
}

impl Row {
    fn rate(&self) -> f64 {
        self.executions as f64 / self.secs
    }
}

fn fastest_of_3(mut f: impl FnMut() -> u64) -> Row {
    let mut secs = f64::MAX;
    let mut executions = 0;
    for _ in 0..3 {
        let t = Instant::now();
        executions = f();
        secs = secs.min(t.elapsed().as_secs_f64());
    }
    Row {
        executions,
        secs,
        given_up: false,
    }
}

fn ext4lab_dfs(model: &Model, bound: u32, dpor: bool, check_counter: bool) -> Row {
    let cfg = ExploreConfig {
        strategy: Strategy::Dfs {
            preemption_bound: Some(bound),
            dpor,
        },
        max_executions: u64::MAX,
        // the opt-in rule: give the reduction up where it does not pay
        keep_reduction: false,
        ..Default::default()
    };
    let mut last: Option<Report> = None;
    let row = fastest_of_3(|| {
        let r = explore(model, &cfg, &mut NoObserver);
        assert!(r.stats.exhausted, "the search did not finish");
        let n = r.stats.executions;
        last = Some(r);
        n
    });
    let r = last.expect("ran");
    let row = Row {
        given_up: r.stats.reduction_given_up,
        ..row
    };
    if check_counter {
        // the reference model reports a wrong count as an outcome
        assert!(r.outcomes.is_empty(), "{:?}", r.outcome_keys());
    }
    row
}

/// The reference model in loom: the counter is the data lock A guards.
fn loom_reference(bound: usize) -> Row {
    use loom::sync::{Arc, Mutex};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    fastest_of_3(|| {
        RUNS.store(0, Ordering::Relaxed);
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(bound);
        b.check(|| {
            RUNS.fetch_add(1, Ordering::Relaxed);
            let a = Arc::new(Mutex::new(0u32));
            let lock_b = Arc::new(Mutex::new(()));
            let threads: Vec<_> = (0..3)
                .map(|i| {
                    let (a, lock_b) = (a.clone(), lock_b.clone());
                    loom::thread::spawn(move || {
                        for _ in 0..10 {
                            *a.lock().unwrap() += 1;
                        }
                        if i < 2 {
                            let ga = a.lock().unwrap();
                            let gb = lock_b.lock().unwrap();
                            drop(gb);
                            drop(ga);
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(*a.lock().unwrap(), 30);
        });
        RUNS.load(Ordering::Relaxed)
    })
}

fn print_row(name: &str, r: Row) {
    println!(
        "{name:<40} {:>10} {:>10.3} {:>14.0}{}",
        r.executions,
        r.secs,
        r.rate(),
        if r.given_up {
            "  (reduction given up)"
        } else {
            ""
        }
    );
}

fn main() {
    let bounds: Vec<u32> = std::env::var("LOOM_REF_BOUNDS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![2, 3]);
    let skip_loom = std::env::var_os("LOOM_REF_SKIP_LOOM").is_some();
    let reference = models::reference();
    // warm up (allocator, caches)
    ext4lab_dfs(&reference, 1, false, true);
    println!(
        "{:<40} {:>10} {:>10} {:>14}",
        "search (fastest of 3)", "executions", "wall s", "executions/s"
    );
    let mut ratios = Vec::new();
    for &b in &bounds {
        let naive = ext4lab_dfs(&reference, b, false, true);
        print_row(&format!("reference bound {b}: ext4lab DFS naive"), naive);
        let reduced = ext4lab_dfs(&reference, b, true, true);
        print_row(
            &format!("reference bound {b}: ext4lab DFS reduced"),
            reduced,
        );
        let loom = (!skip_loom).then(|| loom_reference(b as usize));
        if let Some(l) = loom {
            print_row(&format!("reference bound {b}: loom 0.7"), l);
        }
        ratios.push((format!("reference bound {b}"), naive, reduced, loom));
    }
    let t50 = models::three_tasks_50();
    let naive = ext4lab_dfs(&t50, 2, false, false);
    print_row("three_tasks_50 bound 2: ext4lab DFS naive", naive);
    let reduced = ext4lab_dfs(&t50, 2, true, false);
    print_row("three_tasks_50 bound 2: ext4lab DFS reduced", reduced);
    ratios.push(("three_tasks_50 bound 2".into(), naive, reduced, None));

    println!();
    println!("wall-time ratios (> 1: the second is faster)");
    println!(
        "{:<28} {:>14} {:>12} {:>14}",
        "", "naive/reduced", "loom/naive", "loom/reduced"
    );
    for (name, naive, reduced, loom) in &ratios {
        let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
        println!(
            "{name:<28} {:>14.2} {:>12} {:>14}",
            naive.secs / reduced.secs,
            opt(loom.map(|l| l.secs / naive.secs)),
            opt(loom.map(|l| l.secs / reduced.secs)),
        );
    }
    println!();
    println!(
        "reduced: bounded DPOR, which gives its reduction up for naive DFS when \
         by its 32nd run it has skipped fewer than half as many alternatives and \
         covered prefixes as it ran (crate/sim/sched/dfs.rs, \"Giving up\")."
    );
    println!(
        "executions are not comparable across tools: ext4lab counts complete \
         executions of its three tasks (reduced: one per explored equivalence \
         class, runs cut at an already covered prefix not counted); loom counts \
         runs of the model closure, whose main thread also spawns and joins the \
         three threads (more scheduling points), under its own DPOR."
    );
}
