#![cfg(not(target_arch = "wasm32"))]
//! Oracles without false alarms (issue 14): every scenario in
//! tests/fixtures/legit/ is an ordinary, correct program (a punch after an
//! fsync, a truncate, overlapping overwrites, a crash after an fsync, ...)
//! and must report nothing in any interleaving, on every variant.
//!
//! The default test explores each variant without preemptions, the first
//! 100 executions of it (seconds in a debug build); the `tables` group
//! explores every variant exhaustively under bound 2
//! (`cargo test --profile tables --test oracle_legit -- --include-ignored`).

use std::path::PathBuf;
use std::rc::Rc;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::scenario::parse_scenario;
use ext4lab::sim::Strategy;

fn legit() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legit");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Explores every variant of every legitimate scenario under `bound`
/// (exhaustively unless `budget` stops it first: `complete` asks that it
/// does not); returns the executions run and fails on any outcome.
fn check_all(bound: u32, budget: u64, complete: bool) -> u64 {
    let all = legit();
    assert!(all.len() >= 18, "{} legit scenarios", all.len());
    let mut total = 0;
    let mut bad = Vec::new();
    for (name, text) in &all {
        let sc = Rc::new(parse_scenario(text).unwrap_or_else(|e| panic!("{name}: {e}")));
        for v in &sc.variants {
            let strategy = Strategy::Dfs {
                preemption_bound: Some(bound),
                dpor: true,
            };
            let (_, rep) = explore_variant(
                &sc,
                &v.name,
                &Default::default(),
                Some(strategy),
                Some(budget),
            )
            .unwrap_or_else(|e| panic!("{name}/{}: {e}", v.name));
            eprintln!(
                "{name}/{}: {} executions, complete {}, {} outcomes",
                v.name,
                rep.stats.executions,
                rep.stats.exhausted,
                rep.outcomes.len()
            );
            total += rep.stats.executions;
            assert!(
                rep.stats.exhausted || !complete,
                "{name}/{}: not complete",
                v.name
            );
            assert!(
                rep.stats.executions > 1,
                "{name}/{}: nothing interleaved",
                v.name
            );
            // An error the man page lists for what the program did is the
            // program's, not a false alarm (`errno_expected`).
            for o in rep.outcomes.iter().filter(|o| !o.key.expected) {
                bad.push(format!(
                    "{name}/{}: {} {} (token {})",
                    v.name,
                    kind_name(&o.key.kind),
                    o.first.message,
                    o.first_token
                ));
            }
        }
    }
    assert!(bad.is_empty(), "false alarms:\n{}", bad.join("\n"));
    total
}

#[test]
fn legit_scenarios_report_nothing_in_their_first_executions() {
    let n = check_all(0, 100, false);
    eprintln!("{n} executions in all");
}

#[test]
#[ignore = "tables group: exhaustive under bound 2"]
fn legit_scenarios_report_nothing_under_bound_2() {
    let n = check_all(2, 5_000_000, true);
    eprintln!("{n} executions in all");
}
