#![cfg(not(target_arch = "wasm32"))]
//! Issue 20: generated, valid scenarios run through the engine never panic.
//!
//! A seeded generator writes scenario texts the way a user would: an image
//! (features, extents or block-mapped files, a deleted secret), mount
//! options, a kernel version, processes with mappings, 1-10 tasks of 1-5
//! steps drawn from every op, now and then a crash. Each text is parsed
//! (the validator may refuse it: counted, and its error must carry a
//! message) and each valid one runs a few random executions. A panic
//! anywhere fails the test with the seed and the text.
//!
//! A second test holds small generated programs (2-3 tasks of 1-3 ops on
//! today's kernel, no O_DIRECT) to the legit suite's standard: explored
//! under preemption bound 1, they must report nothing but the errors the
//! man pages list for what they do, e.g. the SIGBUS of a store past a
//! truncate (issue 14's generated suite).
//!
//! `FUZZ_SCENARIOS=N` (default 60) and `FUZZ_SEED=S` change the run; the
//! report lists the outcome kinds seen, so a long run is also a search for
//! false alarms (`cargo test --profile tables --test scenario_fuzz --
//! --nocapture`).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::scenario::parse_scenario;
use ext4lab::sim::Strategy;

#[path = "common/scenario_gen.rs"]
mod scenario_gen;
use scenario_gen::{generate, generate_small, Rng};

/// Explores `n` small programs under preemption bound 1 (at most `budget`
/// executions each) and fails on any outcome but an expected error (one the
/// man page lists for what the program did: `Outcome::expected`).
fn small_programs(n: usize, budget: u64) {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261204);
    let mut r = Rng(seed ^ 0x5eed);
    let (mut executions, mut complete, mut expected) = (0u64, 0, 0);
    let mut bad = Vec::new();
    for i in 0..n {
        let text = generate_small(&mut r, i);
        let sc =
            Rc::new(parse_scenario(&text).unwrap_or_else(|e| panic!("small-{i}: {e}\n{text}")));
        let strategy = Strategy::Dfs {
            preemption_bound: Some(1),
            dpor: true,
        };
        let (_, rep) = explore_variant(
            &sc,
            "default",
            &Default::default(),
            Some(strategy),
            Some(budget),
        )
        .unwrap_or_else(|e| panic!("small-{i}: {e}"));
        executions += rep.stats.executions;
        complete += usize::from(rep.stats.exhausted);
        for o in &rep.outcomes {
            let kind = kind_name(&o.key.kind);
            // The kernel layer's verdict (`errno_expected`): a SIGBUS past
            // EOF after a truncate, ENOSPC, ... Anything else fails.
            if o.key.expected {
                expected += 1;
                continue;
            }
            bad.push(format!(
                "small-{i}: {kind} {} (token {})\n{text}",
                o.first.message, o.first_token
            ));
        }
    }
    eprintln!(
        "{n} small programs (seed {seed}): {executions} executions, {complete} explored to completion under bound 1, {expected} expected errors, {} other outcomes",
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "outcomes on legitimate programs:\n{}",
        bad.join("\n")
    );
}

#[test]
fn small_generated_programs_report_nothing() {
    let n = std::env::var("SMALL_PROGRAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let budget = std::env::var("SMALL_BUDGET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    small_programs(n, budget);
}

#[test]
#[ignore = "tables group: 200 programs under bound 1, at most 1,000 executions each"]
fn two_hundred_generated_programs_report_nothing() {
    small_programs(200, 1_000);
}

#[test]
fn generated_scenarios_never_panic() {
    let n: usize = std::env::var("FUZZ_SCENARIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261204);
    let mut r = Rng(seed);
    let (mut valid, mut refused, mut executions) = (0, 0, 0u64);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<String, String> = BTreeMap::new();
    // FUZZ_DUMP=DIR: write every scenario with an outcome there, and list
    // each outcome (to reproduce one: `ext4lab explore DIR/fuzz-N.toml`).
    let dump = std::env::var("FUZZ_DUMP").ok();
    for i in 0..n {
        let text = generate(&mut r, i);
        let sc = match parse_scenario(&text) {
            Ok(sc) => Rc::new(sc),
            Err(e) => {
                assert!(
                    !e.message.is_empty(),
                    "scenario {i}: an error without a message"
                );
                refused += 1;
                examples.entry("refused".into()).or_insert(format!("{e}"));
                continue;
            }
        };
        valid += 1;
        let run = catch_unwind(AssertUnwindSafe(|| {
            explore_variant(
                &sc,
                "default",
                &Default::default(),
                Some(Strategy::Random { seed: i as u64 }),
                Some(4),
            )
        }));
        let rep = match run {
            Ok(Ok((_, rep))) => rep,
            Ok(Err(e)) => panic!("scenario {i} (seed {seed}): {e}\n{text}"),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("scenario {i} (seed {seed}) panicked: {msg}\n{text}")
            }
        };
        executions += rep.stats.executions;
        if let (Some(d), false) = (&dump, rep.outcomes.is_empty()) {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(format!("{d}/fuzz-{i}.toml"), &text).unwrap();
            for o in &rep.outcomes {
                eprintln!(
                    "fuzz-{i}: {} {} [{}] {}",
                    kind_name(&o.key.kind),
                    o.first.site,
                    o.first.tasks.join(","),
                    o.first.message
                );
            }
        }
        for o in &rep.outcomes {
            let k = kind_name(&o.key.kind).to_string();
            *kinds.entry(k.clone()).or_default() += 1;
            examples
                .entry(k)
                .or_insert_with(|| format!("scenario {i}: {}", o.first.message));
        }
    }
    eprintln!(
        "{n} generated (seed {seed}): {valid} valid, {refused} refused, {executions} executions"
    );
    eprintln!("outcomes by kind (scenarios x outcome keys): {kinds:?}");
    for (k, e) in &examples {
        eprintln!("  {k}: {e}");
    }
    assert!(
        valid * 10 >= n * 8,
        "the generator writes mostly valid scenarios: {valid} of {n}"
    );
}
