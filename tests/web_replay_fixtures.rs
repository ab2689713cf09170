//! Every stored shortest failing schedule (tests/fixtures/replay/*.json)
//! replays in the browser to the outcome and trace hash recorded natively
//! (tests/kernel_replay.rs checks the same files natively, and checks that
//! the list below names every fixture, so a new one cannot be forgotten).
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{kind_name, run_options, scenario_model};
use ext4lab::scenario::link::{decode_link, LinkScenario};
use ext4lab::scenario::{builtin, parse_scenario};
use ext4lab::sim::replay;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("fixtures/replay/", $name)))),*]
    };
}

/// Keep in step with the directory: tests/kernel_replay.rs fails when a
/// fixture file is missing here.
const FIXTURES: &[(&str, &str)] = fixtures![
    "s2-convert-under-mmap-lock-default-deadlock.json",
    "s2-convert-xattr-sem-only-default-kernel-warning.json",
    "s2-fault-retry-fault-gup-user-error.json",
    "s2-no-convert-in-mkwrite-default-kernel-warning.json",
    "s2-no-convert-in-mkwrite-default-lost-write.json",
    "s3-migrate-flag-buffer-new-default-user-error.json",
    "s3-migrate-flag-retval-default-user-error.json",
    "s3-migrate-flag-retval-racers-load-only-user-error.json",
    "s3-unguarded-default-fsck.json",
    "s3-unguarded-default-lost-write.json",
    "s5-dio-begin-early-mount-nodelalloc-stale-data.json",
    "s5-dio-begin-late-mount-delalloc-stale-data.json",
    "s5-dio-begin-late-mount-nodelalloc-stale-data.json",
    "s5-dio-check-no-barrier-memory-weak-mount-nodelalloc-stale-data.json",
    "s5-dio-check-no-barrier-memory-weak-stale-data.json",
];

#[wasm_bindgen_test]
fn every_stored_schedule_replays_to_its_native_outcome_and_trace_hash() {
    assert!(FIXTURES.len() >= 8);
    for (name, text) in FIXTURES {
        let fx: serde_json::Value = serde_json::from_str(text).expect("fixture json");
        let link = decode_link(fx["link"].as_str().expect("link")).expect("link decodes");
        let LinkScenario::Builtin { id, .. } = &link.scenario else {
            panic!("{name}: built-in expected")
        };
        let sc = Rc::new(parse_scenario(builtin(id).expect("builtin").text).expect("parses"));
        let rc = sc.resolve(&link.variant, &link.options).expect("resolves");
        let img = Rc::new(build_image(&sc).expect("image"));
        let model = scenario_model(sc.clone(), rc.clone(), img);
        let exec = replay(&model, &link.schedule, &run_options(&sc, &rc)).expect("replays");
        assert!(exec.divergence.is_none(), "{name}: {:?}", exec.divergence);
        let kind = fx["kind"].as_str().expect("kind");
        let tasks: Vec<&str> = fx["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        assert!(
            exec.outcomes.iter().any(|o| kind_name(&o.kind) == kind
                && tasks.iter().all(|t| o.tasks.iter().any(|x| x == t))),
            "{name}: no {kind} with tasks {tasks:?} in {:?}",
            exec.outcomes
        );
        let hash = format!("{:016x}", exec.trace_hash().expect("trace hash"));
        assert_eq!(hash, fx["trace_hash"].as_str().expect("hash"), "{name}");
    }
}
