#![cfg(not(target_arch = "wasm32"))]
//! Equivalent schedules end alike: every reduction in crate/sim/sched/dfs.rs
//! assumes that two interleavings differing only in the order of steps
//! `rt::clock` calls independent (same trace fingerprint) reach the same
//! state. This walks the equivalence class of a schedule: it swaps two
//! adjacent choices at random, replays, keeps the result when it has the
//! same trace fingerprint (the swap exchanged two independent steps), and
//! checks that its outcomes are the original's. A difference names two
//! schedules of one trace with different outcomes: kernel-model state that
//! some step touches without announcing it.
//!
//! `tables` group: a walk of 400 swaps on a few built-in schedules (S2
//! fault-retry's lost write, S8 v5.5's, S5 v5.5's stale read). Any
//! scenario and token: `SCENARIO=s2 VARIANT=fault-retry TOKEN=v1.... WALK=5000
//! cargo test --profile tables --test sim_equivalent_schedules --
//! --include-ignored --nocapture walk_one`.

#[path = "common/rows.rs"]
mod rows;

use std::collections::BTreeSet;
use std::rc::Rc;

use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{run_options, scenario_model};
use ext4lab::sim::rng::Pcg32;
use ext4lab::sim::{replay_schedule, Execution, Model, RunOptions, Schedule};

/// The outcomes of `e` (kind, tasks, site), without the step numbers and
/// messages that name positions.
fn keys(e: &Execution) -> BTreeSet<String> {
    e.outcomes
        .iter()
        .map(|o| {
            let k = o.key();
            format!("{:?} {:?} {}", k.kind, k.tasks, k.site)
        })
        .collect()
}

/// Walks `steps` random adjacent swaps from `token`; returns the first
/// equivalent schedule whose outcomes differ, as (token, outcomes).
fn walk(
    model: &Model,
    opts: &RunOptions,
    token: &str,
    steps: u32,
    seed: u64,
) -> Result<u32, String> {
    let mut opts = opts.clone();
    opts.hb = true;
    let start = Schedule::from_token(token).expect("token");
    let first = replay_schedule(model, &start, &opts);
    assert!(first.divergence.is_none(), "{:?}", first.divergence);
    let fp = first.trace_fingerprint.expect("hb on");
    let want = keys(&first);
    let mut cur = start.0.clone();
    let mut rng = Pcg32::new(seed, 7);
    let mut accepted = 0;
    for _ in 0..steps {
        if cur.len() < 2 {
            break;
        }
        let i = (rng.next_u32() as usize) % (cur.len() - 1);
        if cur[i] == cur[i + 1] {
            continue;
        }
        let mut next = cur.clone();
        next.swap(i, i + 1);
        let e = replay_schedule(model, &Schedule(next.clone()), &opts);
        if e.divergence.is_some() || e.trace_fingerprint != Some(fp) {
            continue;
        }
        accepted += 1;
        let got = keys(&e);
        if got != want {
            return Err(format!(
                "{} and {} have one trace fingerprint but end differently:\n  {:?}\n  {:?}",
                token,
                Schedule(next).to_token(),
                want,
                got
            ));
        }
        cur = next;
    }
    Ok(accepted)
}

fn model_of(id: &str, variant: &str) -> (Model, RunOptions) {
    model_with(id, variant, &Default::default())
}

/// [`model_of`] with option values (`--option NAME=VALUE`).
fn model_with(
    id: &str,
    variant: &str,
    options: &std::collections::BTreeMap<String, String>,
) -> (Model, RunOptions) {
    let sc = rows::scenario(id);
    let rc = sc.resolve(variant, options).expect("variant and options");
    let img = Rc::new(build_image(&sc).expect("image"));
    let opts = run_options(&sc, &rc);
    (scenario_model(sc, rc, img), opts)
}

/// The schedules S2 fault-retry's lost write was found with: T1's first
/// step (its store begins) after or before T2's last two steps of write(2)
/// (its copy done and the write recorded, then `ext4_dirty_inode`'s
/// handle). They differ in when the store
/// began against the write's completion, which the lost-write rule reads;
/// before the data oracles' log was announced (`DataLog::loc`) they had one
/// fingerprint and different verdicts.
const S2_LOST: &str =
    "v1.AQEBAQEBAQEBAQEBAQEBAQEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAgICAgMDBAQAAAMDAwMDAwUFAwMA";
const S2_SWAPPED: &str =
    "v1.AQEBAQEBAQEBAQEBAQEBAAEBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAgICAgMDBAQAAAMDAwMDAwUFAwMA";

#[test]
#[ignore]
fn a_store_beginning_before_or_after_a_write_completes_are_two_traces() {
    let (m, mut opts) = model_of("s2", "fault-retry");
    opts.hb = true;
    let run = |t: &str| replay_schedule(&m, &Schedule::from_token(t).unwrap(), &opts);
    let (a, b) = (run(S2_LOST), run(S2_SWAPPED));
    assert!(a.divergence.is_none() && b.divergence.is_none());
    assert_ne!(keys(&a), keys(&b), "the verdicts differ");
    assert_ne!(a.trace_fingerprint, b.trace_fingerprint);
}

/// Random walks through the equivalence classes of the schedules a bounded
/// search finds outcomes with, on three built-ins: every schedule the walk
/// reaches with the same fingerprint ends with the same outcomes.
#[test]
#[ignore]
fn equivalent_schedules_of_found_outcomes_end_alike() {
    use ext4lab::kernel::runner::explore_variant;
    use ext4lab::sim::Strategy;
    let mut walked = 0;
    for (id, variant) in [("s2", "fault-retry"), ("s5", "v5.5"), ("s8", "v5.5")] {
        let sc = rows::scenario(id);
        let dfs = Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: true,
        };
        let (_, rep) = explore_variant(
            &sc,
            variant,
            &Default::default(),
            Some(dfs),
            Some(1_000_000),
        )
        .expect("explores");
        assert!(!rep.outcomes.is_empty(), "{id} {variant}");
        let (m, opts) = model_of(id, variant);
        for (i, r) in rep.outcomes.iter().enumerate() {
            let n = walk(&m, &opts, &r.shortest_token, 400, i as u64 + 1)
                .unwrap_or_else(|e| panic!("{id} {variant}: {e}"));
            println!(
                "{id} {variant} {:?}: {n} equivalent schedules alike",
                r.key.kind
            );
            walked += n;
        }
    }
    assert!(
        walked > 100,
        "the walks found few equivalent schedules: {walked}"
    );
}

#[test]
#[ignore]
fn walk_one() {
    let (Ok(id), Ok(variant), Ok(token)) = (
        std::env::var("SCENARIO"),
        std::env::var("VARIANT"),
        std::env::var("TOKEN"),
    ) else {
        println!("set SCENARIO, VARIANT, TOKEN (and WALK, SEED, OPTIONS=name=value,...)");
        return;
    };
    let options = std::env::var("OPTIONS")
        .unwrap_or_default()
        .split(',')
        .filter(|o| !o.is_empty())
        .map(|o| {
            let (k, v) = o.split_once('=').expect("OPTIONS: name=value,...");
            (k.to_string(), v.to_string())
        })
        .collect();
    let steps = std::env::var("WALK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let (m, opts) = model_with(&id, &variant, &options);
    match walk(&m, &opts, &token, steps, seed) {
        Ok(n) => println!("{n} equivalent schedules, all alike"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
#[ignore]
fn show_two() {
    let (Ok(id), Ok(variant), Ok(a), Ok(b)) = (
        std::env::var("SCENARIO"),
        std::env::var("VARIANT"),
        std::env::var("A"),
        std::env::var("B"),
    ) else {
        return;
    };
    let (m, opts) = model_of(&id, &variant);
    for t in [a, b] {
        let e = replay_schedule(&m, &Schedule::from_token(&t).unwrap(), &opts);
        println!("==== {t}");
        for l in ext4lab::kernel::runner::timeline(e.trace.as_ref().unwrap()) {
            println!("{l}");
        }
        for o in &e.outcomes {
            println!("OUTCOME {:?} {}", o.kind, o.message);
        }
    }
}
