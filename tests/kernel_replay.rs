#![cfg(not(target_arch = "wasm32"))]
//! The shortest failing schedules of the table rows, stored as share links
//! in tests/fixtures/replay/, replay to the same outcome and the same trace
//! hash; and the image each leaves behind is judged by `e2fsck -fn` the way
//! the engine's fsck judged it (inconsistent for the fsck rows, clean
//! otherwise). After an intended trace change, regenerate the hashes with
//! `UPDATE_FIXTURES=1 cargo test --test kernel_replay`.

use std::path::Path;
use std::process::Command;
use std::rc::Rc;

use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{kind_name, run_options, scenario_model};
use ext4lab::scenario::link::{decode_link, LinkScenario};
use ext4lab::scenario::{builtin, parse_scenario};
use ext4lab::sim::{replay, OutcomeKind};

fn e2fsck_clean(image: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("after.img");
    std::fs::write(&path, image).unwrap();
    let st = Command::new("/usr/sbin/e2fsck")
        .args(["-fn"])
        .arg(&path)
        .output()
        .expect("e2fsck runs");
    st.status.success()
}

#[test]
fn replay_fixtures_reproduce_outcome_and_trace_hash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "fixtures: {files:?}");
    // The browser test replays the same files; it lists them by name
    // (include_str!), so check that list is complete.
    let web = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web_replay_fixtures.rs"),
    )
    .unwrap();
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(
            web.contains(&format!("\"{name}\"")),
            "tests/web_replay_fixtures.rs does not list {name}"
        );
    }
    for f in files {
        let fx: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let link = decode_link(fx["link"].as_str().unwrap()).unwrap();
        let LinkScenario::Builtin { id, .. } = &link.scenario else {
            panic!("{f:?}: built-in expected")
        };
        let sc = Rc::new(parse_scenario(builtin(id).unwrap().text).unwrap());
        let rc = sc.resolve(&link.variant, &link.options).unwrap();
        let img = Rc::new(build_image(&sc).unwrap());
        let model = scenario_model(sc.clone(), rc.clone(), img.clone());
        let exec = replay(&model, &link.schedule, &run_options(&sc, &rc)).unwrap();
        assert!(exec.divergence.is_none(), "{f:?}: {:?}", exec.divergence);
        let kind = fx["kind"].as_str().unwrap();
        let tasks: Vec<&str> = fx["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(
            exec.outcomes.iter().any(|o| kind_name(&o.kind) == kind
                && tasks.iter().all(|t| o.tasks.iter().any(|x| x == t))),
            "{f:?}: no {kind} with tasks {tasks:?} in {:?}",
            exec.outcomes
        );
        let hash = format!("{:016x}", exec.trace_hash().unwrap());
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            // After an intended change to traces (engine layout, trace
            // events): the outcome checks above still ran, only the hash
            // is rewritten.
            let old = format!("\"trace_hash\": \"{}\"", fx["trace_hash"].as_str().unwrap());
            let text = std::fs::read_to_string(&f).unwrap();
            let new = format!("\"trace_hash\": \"{hash}\"");
            std::fs::write(&f, text.replace(&old, &new)).unwrap();
        } else {
            assert_eq!(hash, fx["trace_hash"].as_str().unwrap(), "{f:?}");
        }
        // The image the execution left (the oracles wrote back the metadata).
        let engine_says_bad = exec.outcomes.iter().any(|o| o.kind == OutcomeKind::Fsck);
        let bytes = img.dev.borrow().to_bytes();
        assert_eq!(
            e2fsck_clean(&bytes),
            !engine_says_bad,
            "{f:?}: e2fsck -fn and the engine's fsck disagree"
        );
    }
}
