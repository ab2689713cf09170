//! The simulator is deterministic: the same explorations give the same
//! digest (executions, outcomes, tokens, trace hashes) on every run, and the
//! digest equals the stored fixture that the browser test compares against
//! too (tests/web_sim.rs). Regenerate after an intended change with
//! `UPDATE_FIXTURES=1 cargo test --test sim_determinism`.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/sim_digest.rs"]
mod sim_digest;

const FIXTURE: &str = "tests/fixtures/sim_digest.txt";

#[test]
fn digest_is_stable_and_matches_fixture() {
    let a = sim_digest::digest();
    let b = sim_digest::digest();
    assert_eq!(a, b, "two runs in one process differ");
    // The digest must contain found outcomes, or it proves nothing.
    assert!(a.contains("Deadlock"), "{a}");
    assert!(a.contains("trace="), "{a}");
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(FIXTURE, &a).expect("write fixture");
    }
    let stored = std::fs::read_to_string(FIXTURE).expect("fixture exists");
    assert_eq!(a, stored, "digest differs from {FIXTURE}");
}
