#![cfg(not(target_arch = "wasm32"))]
//! Replay fixtures of the jbd2 scenarios' findings: each stored share link
//! (`tests/fixtures/jbd2/*.txt`, found by the explorer) replays to the same
//! outcome with the same trace hash, twice.

use std::process::Command;

fn replay(link: &str) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(["replay", link, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check(fixture: &str, kind: &str, task: &str, end: &str, detail: &str) {
    let path = format!(
        "{}/tests/fixtures/jbd2/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let link = std::fs::read_to_string(path).unwrap();
    let a = replay(link.trim());
    let b = replay(link.trim());
    assert_eq!(a["trace_hash"], b["trace_hash"], "replay is deterministic");
    assert!(a["diverged"].is_null(), "{a}");
    assert_eq!(a["end"], end, "{a}");
    let outs = a["outcome"].as_array().unwrap();
    assert!(
        outs.iter().any(|o| o["kind"] == kind
            && (task.is_empty() || o["tasks"].as_array().unwrap().iter().any(|t| t == task))
            && o["detail"].as_str().unwrap_or("").contains(detail)),
        "{a}"
    );
}

#[test]
fn s1_jbd2_convert_lost_write_replays() {
    check(
        "s1-jbd2-convert-lost-write.txt",
        "lost-write",
        "T1",
        "Crashed",
        "40 bytes written by T1 to f at offset 0",
    );
}

#[test]
fn s1_as_posted_inversion_replays() {
    check(
        "s1-as-posted-inversion.txt",
        "lock-order-inversion",
        "",
        "Complete",
        "page lock",
    );
}

#[test]
fn s1_as_posted_deadlock_replays() {
    check(
        "s1-as-posted-deadlock.txt",
        "deadlock",
        "kjournald2",
        "Deadlock",
        "journal (jbd2_handle, read)] wants f page 0 (page lock)",
    );
}

#[test]
fn s4_v4_13_lost_write_replays() {
    check(
        "s4-v4.13-lost-write.txt",
        "lost-write",
        "T2",
        "Complete",
        "made durable are not on disk",
    );
}

#[test]
fn s4_ebusy_if_mapped_replays() {
    check(
        "s4-ebusy-if-mapped.txt",
        "user-error",
        "T1",
        "Complete",
        "EBUSY",
    );
}
