//! The simulator in the browser gives byte-for-byte the same explorations
//! as natively: executions, outcomes, replay tokens and trace hashes equal
//! the fixture that tests/sim_determinism.rs checks natively.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

#[path = "common/sim_digest.rs"]
mod sim_digest;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn wasm_digest_equals_native_fixture() {
    let stored = include_str!("fixtures/sim_digest.txt");
    let here = sim_digest::digest();
    assert!(here.contains("Deadlock"));
    assert_eq!(here, stored);
}
