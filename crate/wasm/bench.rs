//! Benchmarks callable from JavaScript (scripts/bench-sim-wasm.mjs). They
//! return counts only; the caller measures time with `performance.now()`.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::sim::{explore, models, ExploreConfig, NoObserver, Strategy};

#[derive(Serialize)]
struct SimBench {
    executions: u64,
    complete: u64,
    steps: u64,
    exhausted: bool,
    outcomes: usize,
}

/// Explore the reference model (the one loom and shuttle are compared on)
/// with `strategy` ("random", "pct" or "dfs": DPOR at preemption bound 2)
/// for at most `max_executions`.
#[wasm_bindgen]
pub fn bench_sim_reference(strategy: &str, max_executions: u32) -> Result<JsValue, JsValue> {
    let strategy = match strategy {
        "random" => Strategy::Random { seed: 1 },
        "pct" => Strategy::Pct { seed: 1, depth: 3 },
        "dfs" => Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: true,
        },
        "dfs-naive" => Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: false,
        },
        other => return Err(JsValue::from_str(&format!("unknown strategy {other:?}"))),
    };
    let cfg = ExploreConfig {
        strategy,
        max_executions: u64::from(max_executions),
        ..ExploreConfig::default()
    };
    let r = explore(&models::reference(), &cfg, &mut NoObserver);
    let out = SimBench {
        executions: r.stats.executions,
        complete: r.stats.complete,
        steps: r.stats.steps,
        exhausted: r.stats.exhausted,
        outcomes: r.outcomes.len(),
    };
    serde_wasm_bindgen::to_value(&out).map_err(|e| JsValue::from_str(&e.to_string()))
}
