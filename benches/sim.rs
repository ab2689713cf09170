//! `cargo bench --bench sim`: the simulator on the reference model shared
//! with loom and shuttle (3 tasks x 10 rounds of lock A / add 1 / unlock;
//! tasks 0 and 1 also take A then B once, in the same order), plus DPOR
//! against naive DFS on the reference model and on `three_tasks_50`.
//! Reports complete executions per second per strategy (the fastest of
//! three runs of each), and per model the reduced (DPOR) search against
//! the naive one as execution and wall-time ratios (a wall-time ratio below
//! 1 means the reduction cost more than it saved).

use std::time::Instant;

use ext4lab::sim::*;

fn run(name: &str, model: &Model, strategy: Strategy, max: u64) -> (Report, f64) {
    let cfg = ExploreConfig {
        strategy,
        max_executions: max,
        // the opt-in rule: give the reduction up where it does not pay
        keep_reduction: false,
        ..Default::default()
    };
    // the machine may be shared: the fastest of three runs
    let mut secs = f64::MAX;
    let mut r = Report::default();
    for _ in 0..3 {
        let t = Instant::now();
        r = explore(model, &cfg, &mut NoObserver);
        secs = secs.min(t.elapsed().as_secs_f64());
    }
    assert!(
        r.outcomes.is_empty() || !name.starts_with("reference"),
        "{:?}",
        r.outcome_keys()
    );
    println!(
        "{name:<34} {:>8} executions {:>7} cut runs {:>9} steps {:>8.3} s {:>10.0} executions/s{}",
        r.stats.executions,
        r.stats.cut_runs,
        r.stats.steps,
        secs,
        r.stats.executions as f64 / secs,
        match (r.stats.exhausted, r.stats.reduction_given_up) {
            (true, true) => "  (search exhausted; reduction given up)",
            (true, false) => "  (search exhausted)",
            (false, _) => "",
        }
    );
    (r, secs)
}

fn main() {
    let reference = models::reference();
    // warm up
    run("warm-up", &reference, Strategy::Random { seed: 0 }, 2_000);
    run(
        "reference random (PCG32)",
        &reference,
        Strategy::Random { seed: 1 },
        200_000,
    );
    run(
        "reference PCT depth 3",
        &reference,
        Strategy::Pct { seed: 1, depth: 3 },
        200_000,
    );
    let (naive, naive_s) = run(
        "reference DFS naive, bound 2",
        &reference,
        Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: false,
        },
        u64::MAX,
    );
    let (dpor, dpor_s) = run(
        "reference DFS DPOR, bound 2",
        &reference,
        Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: true,
        },
        u64::MAX,
    );
    assert_eq!(naive.outcome_keys(), dpor.outcome_keys());
    println!(
        "reference bound 2: naive {} vs DPOR {} executions ({:.2}x), wall time naive/DPOR {:.2}x, same outcomes ({})",
        naive.stats.executions,
        dpor.stats.executions,
        naive.stats.executions as f64 / dpor.stats.executions as f64,
        naive_s / dpor_s,
        naive.outcomes.len()
    );
    let t50 = models::three_tasks_50();
    let (naive, naive_s) = run(
        "three_tasks_50 DFS naive, bound 2",
        &t50,
        Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: false,
        },
        u64::MAX,
    );
    let (dpor, dpor_s) = run(
        "three_tasks_50 DFS DPOR, bound 2",
        &t50,
        Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: true,
        },
        u64::MAX,
    );
    assert_eq!(naive.outcome_keys(), dpor.outcome_keys());
    println!(
        "three_tasks_50 bound 2: naive {} vs DPOR {} executions ({:.1}x), wall time naive/DPOR {:.2}x, same outcomes ({})",
        naive.stats.executions,
        dpor.stats.executions,
        naive.stats.executions as f64 / dpor.stats.executions as f64,
        naive_s / dpor_s,
        naive.outcomes.len()
    );
}
