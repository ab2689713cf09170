//! A digest of simulator explorations shared by the native test
//! (tests/sim_determinism.rs) and the browser test (tests/web_sim.rs): both
//! compute it and compare it with one fixture file, so the two builds are
//! held to the same executions, outcomes, tokens and trace hashes.

use ext4lab::sim::{
    explore, models, replay, ExploreConfig, MemoryModel, Model, NoObserver, RunOptions, Strategy,
    DEFAULT_STORE_WINDOW,
};

fn line(name: &str, model: &Model, strategy: Strategy, weak: Option<u32>, max: u64) -> String {
    let cfg = ExploreConfig {
        strategy: strategy.clone(),
        max_executions: max,
        run: RunOptions {
            memory: if weak.is_some() {
                MemoryModel::X86
            } else {
                MemoryModel::Sc
            },
            store_window: weak.unwrap_or(DEFAULT_STORE_WINDOW),
            ..RunOptions::default()
        },
        ..ExploreConfig::default()
    };
    let report = explore(model, &cfg, &mut NoObserver);
    let mut out = format!(
        "{name} {strategy:?} executions={} complete={} exhausted={} outcomes={}",
        report.stats.executions,
        report.stats.complete,
        report.stats.exhausted,
        report.outcomes.len()
    );
    for o in &report.outcomes {
        // Replay the shortest schedule with tracing on: the trace hash is
        // the byte-for-byte identity of the run.
        let run = RunOptions {
            memory: if weak.is_some() {
                MemoryModel::X86
            } else {
                MemoryModel::Sc
            },
            store_window: weak.unwrap_or(DEFAULT_STORE_WINDOW),
            ..RunOptions::default()
        };
        let exec = replay(model, &o.fewest_token, &run).expect("own token replays");
        let hash = exec.trace_hash().expect("replay records a trace");
        out.push_str(&format!(
            "\n  {:?} tasks={:?} locks={:?} preemptions={} token={} trace={hash:016x}",
            o.key.kind, o.key.tasks, o.key.locks, o.fewest_preemptions, o.fewest_token
        ));
    }
    out
}

/// The digest: one line per exploration, one indented line per outcome.
pub fn digest() -> String {
    let dfs = |b| Strategy::Dfs {
        preemption_bound: Some(b),
        dpor: true,
    };
    let naive = |b| Strategy::Dfs {
        preemption_bound: Some(b),
        dpor: false,
    };
    let lines = [
        line("abba_mutex", &models::abba_mutex(), dfs(2), None, 10_000),
        line(
            "abba_mutex",
            &models::abba_mutex(),
            Strategy::Pct { seed: 7, depth: 2 },
            None,
            200,
        ),
        line(
            "rwsem_writer_fair",
            &models::rwsem_writer_fair(true),
            dfs(2),
            None,
            10_000,
        ),
        line(
            "rwsem_two_readers",
            &models::rwsem_writer_fair(false),
            dfs(2),
            None,
            10_000,
        ),
        line(
            "serialized_inversion",
            &models::serialized_inversion(),
            dfs(2),
            None,
            10_000,
        ),
        line(
            "store_buffering",
            &models::store_buffering(false),
            dfs(2),
            Some(2),
            10_000,
        ),
        line(
            "store_buffering_mb",
            &models::store_buffering(true),
            dfs(2),
            Some(2),
            10_000,
        ),
        line(
            "lost_update",
            &models::lost_update(),
            naive(2),
            None,
            10_000,
        ),
        line(
            "reference",
            &models::reference(),
            Strategy::Random { seed: 3 },
            None,
            300,
        ),
        line(
            "three_tasks_50",
            &models::three_tasks_50(),
            dfs(1),
            None,
            2_000,
        ),
    ];
    let mut s = lines.join("\n");
    s.push('\n');
    s
}
