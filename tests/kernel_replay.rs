#![cfg(not(target_arch = "wasm32"))]
//! The shortest failing schedules of the table rows, stored as share links
//! in tests/fixtures/replay/, replay to the same outcome and the same trace
//! hash; and the image each leaves behind is judged by `e2fsck -fn` the way
//! the engine's fsck judged it (inconsistent for the fsck rows, clean
//! otherwise). After an intended trace change, regenerate the hashes with
//! `UPDATE_FIXTURES=1 cargo test --test kernel_replay`.

use std::path::Path;

#[path = "common/e2fsprogs.rs"]
mod e2fsprogs;
#[path = "common/replay_fixture.rs"]
mod replay_fixture;
use replay_fixture::replay_fixture;

fn e2fsck_clean(image: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("after.img");
    std::fs::write(&path, image).unwrap();
    e2fsprogs::e2fsck_fn(&path).0
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
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let r = replay_fixture(&name, &std::fs::read_to_string(&f).unwrap());
        let recorded = r.fixture["trace_hash"].as_str().unwrap();
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            // After an intended change to traces (engine layout, trace
            // events): the outcome checks above still ran, only the hash
            // is rewritten.
            let text = std::fs::read_to_string(&f).unwrap();
            let old = format!("\"trace_hash\": \"{recorded}\"");
            let new = format!("\"trace_hash\": \"{}\"", r.hash);
            std::fs::write(&f, text.replace(&old, &new)).unwrap();
        } else {
            assert_eq!(r.hash, recorded, "{name}");
        }
        // The image the execution left (the oracles wrote back the metadata):
        // the fixture records the engine's verdict (`"fsck_bad": true`; the
        // browser test holds wasm to it), and e2fsck -fn agrees with it.
        assert_eq!(
            r.engine_says_bad,
            r.fixture["fsck_bad"] == true,
            "{name}: engine fsck verdict differs from the recorded one"
        );
        assert_eq!(
            e2fsck_clean(&r.image),
            !r.engine_says_bad,
            "{name}: e2fsck -fn and the engine's fsck disagree"
        );
    }
}
