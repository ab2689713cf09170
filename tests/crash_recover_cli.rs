#![cfg(not(target_arch = "wasm32"))]
//! `ext4lab recover IMAGE --json` replays a crashed image in place: the
//! report names the transactions replayed, the image then passes
//! `e2fsck -fn`, and it equals what our library recovery makes of it.

#[path = "common/ext4_jbd2.rs"]
mod ext4_jbd2_util;

use ext4_jbd2_util::*;
use ext4lab::engine::DataMode;
use std::process::Command;

#[test]
fn recover_cli_replays_in_place() {
    use Op::*;
    let ops = [
        Create("/a"),
        Write("/a", 0, 5000, 1),
        Fsync("/a"),
        Mkdir("/d"),
        Create("/d/b"),
        Write("/d/b", 0, 300, 2),
        Commit,
    ];
    let run = run(fresh(1024, ""), DataMode::Ordered, &ops);
    // The crash right after the last commit: everything in the log, nothing
    // checkpointed.
    let raw = run.dev.final_image();
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("crash.img");
    std::fs::write(&img, &raw).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(["recover", "--json"])
        .arg(&img)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["needs_recovery"], true);
    let n = v["recovery"]["transactions_replayed"].as_u64().unwrap();
    assert_eq!(n, run.commits, "every commit replayed: {v}");
    let (code, text) = e2fsck(&img, &["-fn"]);
    assert_eq!(code, 0, "{text}");
    let (ours, _) = engine_recover(raw);
    assert_eq!(std::fs::read(&img).unwrap(), ours);
    // A second recover finds a clean journal.
    let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(["recover"])
        .arg(&img)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to replay"));
    // Garbage is refused with exit 8, no panic.
    let bad = tmp.path().join("bad.img");
    std::fs::write(&bad, vec![0u8; 4096]).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(["recover"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8));
}
