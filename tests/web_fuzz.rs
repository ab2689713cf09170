//! Issue 20 in the browser: the scenario fuzzer's generated programs, and the
//! issue's two scenarios, through the worker's own message handler
//! (`handle_message`, what the page's engine worker calls for every
//! request), compiled to wasm. A panic in wasm is a trap that kills the
//! worker, so getting to the end of the test is the check that none of them
//! takes the worker down; each answer must also be a result or a typed error.
#![cfg(target_arch = "wasm32")]

#[path = "common/scenario_gen.rs"]
mod scenario_gen;

use scenario_gen::{generate, on_a_96k_file, readers, readers_x, Rng, OVERWRITE_128K};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).expect("property")
}

fn send(v: serde_json::Value) -> JsValue {
    ext4lab::wasm::handle_message(js_sys::JSON::parse(&v.to_string()).expect("json"))
}

fn explore_random(text: &str, seed: u64, runs: u64) -> JsValue {
    send(serde_json::json!({
        "cmd": "explore",
        "target": {"kind": "scenario", "text": text, "variant": "default", "options": {}},
        "strategy": {"kind": "random"}, "seed": seed, "maxExecutions": runs, "shard": [0, 1]
    }))
}

/// The outcome kinds of an explore answer (`"LostWrite"`, `"engine-error"`).
fn kinds(answer: &JsValue) -> Vec<String> {
    js_sys::Array::from(&get(answer, "outcomes"))
        .iter()
        .map(|r| {
            let k = get(&get(&r, "key"), "kind");
            k.as_string()
                .or_else(|| get(&k, "Other").as_string())
                .unwrap_or_default()
        })
        .collect()
}

fn stat(answer: &JsValue, key: &str) -> f64 {
    get(&get(answer, "stats"), key).as_f64().unwrap_or(f64::NAN)
}

#[wasm_bindgen_test]
fn generated_scenarios_never_take_the_worker_down() {
    // The native test's seed: the first programs of the same sequence.
    let mut r = Rng(20261204);
    let (mut valid, mut refused, mut executions, mut with_outcomes) = (0, 0, 0.0, 0);
    for i in 0..40 {
        let text = generate(&mut r, i);
        let check = send(serde_json::json!({"cmd": "check-scenario", "text": text}));
        assert_eq!(get(&check, "ok"), JsValue::TRUE, "program {i}: {check:?}");
        let errors = js_sys::Array::from(&get(&check, "errors"));
        if errors.length() > 0 {
            // Refused by the validator: every error says where and what.
            for e in errors.iter() {
                let shown = get(&e, "rendered").as_string().unwrap_or_default();
                assert!(!shown.is_empty(), "program {i}: an error without text");
            }
            refused += 1;
            continue;
        }
        valid += 1;
        let run = explore_random(&text, i as u64, 3);
        assert_eq!(
            get(&run, "ok"),
            JsValue::TRUE,
            "program {i}: {run:?}\n{text}"
        );
        executions += stat(&run, "executions");
        with_outcomes += usize::from(!kinds(&run).is_empty());
    }
    web_sys::console::log_1(
        &format!(
            "40 generated programs in wasm: {valid} valid, {refused} refused, {executions} executions, {with_outcomes} with an outcome, no trap"
        )
        .into(),
    );
    assert!(valid >= 30, "mostly valid programs: {valid} of 40");
    assert_eq!(executions, 3.0 * valid as f64);
}

#[wasm_bindgen_test]
fn the_issues_two_scenarios_in_the_worker() {
    // Forty tasks: refused before the run, at the 25th task's lines.
    let text = readers(40);
    let check = send(serde_json::json!({"cmd": "check-scenario", "text": text}));
    let errors = js_sys::Array::from(&get(&check, "errors"));
    let limit = errors
        .iter()
        .find(|e| {
            get(e, "message")
                .as_string()
                .is_some_and(|m| m.contains("at most 24 tasks: this scenario has 40"))
        })
        .unwrap_or_else(|| panic!("{check:?}"));
    assert_eq!(
        get(&limit, "path").as_string().as_deref(),
        Some("tasks[24]")
    );
    let line = get(&get(&limit, "location"), "line").as_f64().unwrap() as usize;
    let headers: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "[[tasks]]")
        .map(|(i, _)| i + 1)
        .collect();
    assert!((headers[24]..headers[25]).contains(&line), "line {line}");
    let run = explore_random(&text, 1, 1);
    assert_eq!(get(&run, "ok"), JsValue::FALSE, "{run:?}");
    assert!(get(&get(&run, "error"), "message")
        .as_string()
        .unwrap()
        .contains("at most 24 tasks"));

    // The 128 KiB overwrite: runs clean, every execution to its end.
    let run = explore_random(&on_a_96k_file(OVERWRITE_128K), 3, 20);
    assert_eq!(get(&run, "ok"), JsValue::TRUE, "{run:?}");
    assert_eq!(stat(&run, "executions"), 20.0);
    assert_eq!(stat(&run, "cut_by_step_limit"), 0.0);
    assert!(kinds(&run).is_empty(), "{:?}", kinds(&run));

    // A program that passes validation but spawns more tasks than an
    // execution holds (3 bios per reader): an engine-error outcome, not a
    // trap.
    let run = explore_random(&readers_x(24, 3), 1, 3);
    assert_eq!(get(&run, "ok"), JsValue::TRUE, "{run:?}");
    assert_eq!(stat(&run, "cut_by_step_limit"), 3.0);
    // One record per task that was one too many; all engine errors.
    let k = kinds(&run);
    assert!(
        !k.is_empty() && k.iter().all(|x| x == "engine-error"),
        "{k:?}"
    );
}
