//! One ext4lab DFS search, repeated: for profiling (perf) the naive or the
//! reduced search on one reference model.
//!
//! `cargo run --release --bin dfs-one -- MODEL BOUND naive|reduced|kept [REPEAT]`
//! with MODEL `reference` or `three_tasks_50`; `kept` is the reduced search
//! that never gives its reduction up for naive DFS (`keep_reduction`).

use std::time::Instant;

use ext4lab::sim::{explore, models, ExploreConfig, NoObserver, Strategy};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: dfs-one reference|three_tasks_50 BOUND naive|reduced|kept [REPEAT]";
    let model = match args.first().map(String::as_str) {
        Some("reference") => models::reference(),
        Some("three_tasks_50") => models::three_tasks_50(),
        _ => panic!("{usage}"),
    };
    let bound: u32 = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let (dpor, keep_reduction) = match args.get(2).map(String::as_str) {
        Some("naive") => (false, false),
        Some("reduced") => (true, false),
        Some("kept") => (true, true),
        _ => panic!("{usage}"),
    };
    let repeat: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let cfg = ExploreConfig {
        strategy: Strategy::Dfs {
            preemption_bound: Some(bound),
            dpor,
        },
        max_executions: u64::MAX,
        keep_reduction,
        ..Default::default()
    };
    for _ in 0..repeat {
        let t = Instant::now();
        let r = explore(&model, &cfg, &mut NoObserver);
        println!(
            "{} executions, {} cut runs, {} pruned, {} steps, {:.3} s{}",
            r.stats.executions,
            r.stats.cut_runs,
            r.stats.pruned_by_dpor,
            r.stats.steps,
            t.elapsed().as_secs_f64(),
            if r.stats.reduction_given_up {
                " (reduction given up)"
            } else {
                ""
            }
        );
    }
}
