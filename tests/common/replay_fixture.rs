//! Replaying one stored shortest failing schedule (a fixture of
//! tests/fixtures/replay/), shared by the native test (tests/kernel_replay.rs,
//! which adds e2fsck) and the browser test (tests/web_replay_fixtures.rs), so
//! both hold the recording to the same checks.
//!
//! A fixture holds the share link, the outcome kind, the tasks, the
//! preemptions, the trace hash and `fsck_bad` (set when the engine's fsck
//! judges the final image damaged).

use std::rc::Rc;

use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{kind_name, run_options, scenario_model};
use ext4lab::scenario::link::{decode_link, LinkScenario};
use ext4lab::scenario::{builtin, parse_scenario};
use ext4lab::sim::{replay, OutcomeKind};

/// What one fixture's replay gave.
pub struct Replayed {
    pub fixture: serde_json::Value,
    /// The trace hash of the replay, as 16 hex digits.
    pub hash: String,
    /// The engine's fsck judged the final image inconsistent.
    pub engine_says_bad: bool,
    /// The image the execution left behind.
    pub image: Vec<u8>,
}

/// Replay the fixture `text` (named `name` in messages): it must not
/// diverge, and must show the recorded outcome kind with the recorded tasks.
/// The trace hash is returned, not compared (the native test can rewrite it).
pub fn replay_fixture(name: &str, text: &str) -> Replayed {
    let fx: serde_json::Value = serde_json::from_str(text).expect("fixture json");
    let link = decode_link(fx["link"].as_str().expect("link")).expect("link decodes");
    let LinkScenario::Builtin { id, .. } = &link.scenario else {
        panic!("{name}: built-in expected")
    };
    let sc = Rc::new(parse_scenario(builtin(id).expect("builtin").text).expect("parses"));
    let rc = sc.resolve(&link.variant, &link.options).expect("resolves");
    let img = Rc::new(build_image(&sc).expect("image"));
    let model = scenario_model(sc.clone(), rc.clone(), img.clone());
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
        exec.outcomes
            .iter()
            .any(|o| kind_name(&o.kind) == kind
                && tasks.iter().all(|t| o.tasks.iter().any(|x| x == t))),
        "{name}: no {kind} with tasks {tasks:?} in {:?}",
        exec.outcomes
    );
    let hash = format!("{:016x}", exec.trace_hash().expect("trace hash"));
    let engine_says_bad = exec.outcomes.iter().any(|o| o.kind == OutcomeKind::Fsck);
    let image = img.dev.borrow().to_bytes();
    Replayed {
        fixture: fx,
        hash,
        engine_says_bad,
        image,
    }
}
