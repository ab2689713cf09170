//! The worker's run commands, in a headless page: exploration of the
//! simulator's reference models (whole and sharded), replay with the trace
//! hash the native simulator computes, Chrome trace export, manual
//! stepping, and the honest refusal to run a scenario without crate/kernel.
#![cfg(target_arch = "wasm32")]

use ext4lab::sim::{models, replay, RunOptions};
use ext4lab::wasm::handle_message;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).expect("property")
}

fn path(v: &JsValue, keys: &[&str]) -> JsValue {
    keys.iter().fold(v.clone(), |acc, k| get(&acc, k))
}

fn send(v: serde_json::Value) -> JsValue {
    handle_message(js_sys::JSON::parse(&v.to_string()).expect("json"))
}

fn num(v: &JsValue) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn explore(model: &str, shard: (u32, u32)) -> JsValue {
    send(serde_json::json!({
        "cmd": "explore", "target": {"kind": "model", "name": model},
        "strategy": {"kind": "dfs", "bound": 2}, "seed": 0, "maxExecutions": 100000,
        "shard": [shard.0, shard.1], "progressId": 7
    }))
}

#[wasm_bindgen_test]
fn exploring_abba_finds_the_deadlock_and_shards_partition_the_work() {
    let whole = explore("abba_mutex", (0, 1));
    assert_eq!(get(&whole, "ok"), JsValue::TRUE, "{whole:?}");
    assert_eq!(path(&whole, &["stats", "exhausted"]), JsValue::TRUE);
    let outcomes = js_sys::Array::from(&get(&whole, "outcomes"));
    let kinds: Vec<String> = outcomes
        .iter()
        .filter_map(|o| path(&o, &["key", "kind"]).as_string())
        .collect();
    assert!(kinds.contains(&"Deadlock".to_string()), "{kinds:?}");
    let total = num(&path(&whole, &["stats", "executions"]));
    let a = explore("abba_mutex", (0, 2));
    let b = explore("abba_mutex", (1, 2));
    // The shards split the schedule tree into disjoint subtrees (checked
    // schedule by schedule natively, tests/sim_explore.rs); each prunes
    // repeated traces only within its own part, so together they run at
    // least the whole search's executions and find exactly its outcomes.
    let parts = num(&path(&a, &["stats", "executions"])) + num(&path(&b, &["stats", "executions"]));
    assert!(parts >= total, "shards {parts} < whole {total}");
    let keys = |r: &JsValue| -> std::collections::BTreeSet<String> {
        js_sys::Array::from(&get(r, "outcomes"))
            .iter()
            .map(|o| format!("{:?}", js_sys::JSON::stringify(&get(&o, "key")).ok()))
            .collect()
    };
    let mut shard_keys = keys(&a);
    shard_keys.extend(keys(&b));
    assert_eq!(
        shard_keys,
        keys(&whole),
        "two shards find the whole run's outcomes"
    );
    for s in [&a, &b] {
        assert_eq!(path(s, &["stats", "exhausted"]), JsValue::TRUE);
    }
    // The page's pool merges through the engine (sim::merge, as `ext4lab
    // merge` does): counters add up, outcomes are the union by key.
    let as_json = |v: &JsValue| -> serde_json::Value {
        serde_json::from_str(&js_sys::JSON::stringify(v).unwrap().as_string().unwrap()).unwrap()
    };
    let merged = send(serde_json::json!({"cmd": "merge", "parts": [as_json(&a), as_json(&b)]}));
    assert_eq!(get(&merged, "ok"), JsValue::TRUE, "{merged:?}");
    assert_eq!(num(&path(&merged, &["stats", "executions"])), parts);
    assert_eq!(path(&merged, &["stats", "exhausted"]), JsValue::TRUE);
    assert_eq!(keys(&merged), keys(&whole), "the merged outcomes");
    let none = send(serde_json::json!({"cmd": "merge", "parts": []}));
    assert_eq!(get(&none, "ok"), JsValue::FALSE);
}

/// `stopWhenFound` (the page's "Find the race"): the worker stops the
/// search once the kinds have shown and says so; a name that is not an
/// outcome kind is a typed error, not a search.
#[wasm_bindgen_test]
fn a_search_asked_to_stop_at_a_find_stops_there() {
    let ask = |kinds: serde_json::Value| {
        send(serde_json::json!({
            "cmd": "explore", "target": {"kind": "model", "name": "abba_mutex"},
            "strategy": {"kind": "dfs", "bound": 2}, "seed": 0, "maxExecutions": 100000,
            "shard": [0, 1], "progressId": 7, "stopWhenFound": kinds
        }))
    };
    let whole = explore("abba_mutex", (0, 1));
    let r = ask(serde_json::json!(["deadlock"]));
    assert_eq!(get(&r, "ok"), JsValue::TRUE, "{r:?}");
    assert_eq!(path(&r, &["stats", "stopped_at_find"]), JsValue::TRUE);
    assert_eq!(path(&r, &["stats", "exhausted"]), JsValue::FALSE);
    assert!(
        num(&path(&r, &["stats", "executions"])) < num(&path(&whole, &["stats", "executions"]))
    );
    let bad = ask(serde_json::json!(["deadlocks"]));
    assert_eq!(get(&bad, "ok"), JsValue::FALSE);
    assert_eq!(
        path(&bad, &["error", "kind"]).as_string().as_deref(),
        Some("bad-message")
    );
}

#[wasm_bindgen_test]
fn replay_gives_the_native_trace_hash_and_chrome_json() {
    let r = explore("rwsem_writer_fair", (0, 1));
    let outcomes = js_sys::Array::from(&get(&r, "outcomes"));
    let dl = outcomes
        .iter()
        .find(|o| path(o, &["key", "kind"]).as_string().as_deref() == Some("Deadlock"))
        .expect("writer-fair deadlock found");
    let token = get(&dl, "fewest_token").as_string().unwrap();
    let target = serde_json::json!({"kind": "model", "name": "rwsem_writer_fair"});
    let run = send(serde_json::json!({"cmd": "replay", "target": target, "token": token}));
    assert_eq!(get(&run, "ok"), JsValue::TRUE);
    assert_eq!(get(&run, "end").as_string().as_deref(), Some("Deadlock"));
    let native = replay(
        &models::rwsem_writer_fair(true),
        &token,
        &RunOptions::default(),
    )
    .unwrap()
    .trace_hash()
    .unwrap();
    assert_eq!(
        get(&run, "traceHash").as_string().unwrap(),
        format!("{native:016x}")
    );
    let cycle = js_sys::Array::from(&path(
        &js_sys::Array::from(&get(&run, "outcomes"))
            .iter()
            .find(|o| get(o, "kind").as_string().as_deref() == Some("Deadlock"))
            .unwrap(),
        &["detail", "Deadlock", "cycle"],
    ));
    assert!(cycle.length() >= 2, "a wait-for cycle");
    let chrome = send(serde_json::json!({"cmd": "chrome-trace", "target": target, "token": token}));
    let json: serde_json::Value =
        serde_json::from_str(&get(&chrome, "json").as_string().unwrap()).unwrap();
    assert!(json["traceEvents"]
        .as_array()
        .is_some_and(|e| !e.is_empty()));
    let bad = send(serde_json::json!({"cmd": "replay", "target": target, "token": "v9.zz"}));
    assert_eq!(
        path(&bad, &["error", "kind"]).as_string().as_deref(),
        Some("bad-token")
    );
}

#[wasm_bindgen_test]
fn manual_stepping_lists_candidates_and_takes_choices() {
    let target = serde_json::json!({"kind": "model", "name": "abba_mutex"});
    let s0 = send(serde_json::json!({"cmd": "manual", "target": target, "choices": []}));
    assert_eq!(get(&s0, "ok"), JsValue::TRUE);
    let cands = js_sys::Array::from(&path(&s0, &["pending", "candidates"]));
    assert_eq!(cands.length(), 2, "T0 and T1 can start");
    let first = num(&cands.get(0)) as u32;
    let s1 = send(serde_json::json!({"cmd": "manual", "target": target, "choices": [first]}));
    assert!(num(&get(&s1, "steps")) >= 1.0);
    assert!(!get(&s1, "pending").is_undefined());
}

#[wasm_bindgen_test]
fn a_scenario_link_replays_in_the_browser_to_the_native_trace_hash() {
    let caps = send(serde_json::json!({"cmd": "capabilities"}));
    assert_eq!(get(&caps, "explore"), JsValue::TRUE);
    // Stored by tests/kernel_replay.rs, which checks the same hash natively.
    let fx: serde_json::Value = serde_json::from_str(include_str!(
        "fixtures/replay/s5-v5.5-mount-delalloc-stale-data.json"
    ))
    .unwrap();
    let d = send(serde_json::json!({"cmd": "link-decode", "fragment": fx["link"]}));
    assert_eq!(get(&d, "ok"), JsValue::TRUE);
    let link: serde_json::Value = serde_wasm_bindgen::from_value(get(&d, "link")).unwrap();
    let target = serde_json::json!({
        "kind": "scenario", "text": get(&d, "text").as_string().unwrap(),
        "variant": link["variant"], "options": link["options"]
    });
    let run =
        send(serde_json::json!({"cmd": "replay", "target": target, "token": link["schedule"]}));
    assert_eq!(get(&run, "ok"), JsValue::TRUE, "{run:?}");
    assert_eq!(
        get(&run, "traceHash").as_string().unwrap(),
        fx["trace_hash"].as_str().unwrap()
    );
    let kinds: Vec<String> = js_sys::Array::from(&get(&run, "outcomes"))
        .iter()
        .filter_map(|o| get(&o, "kind").as_string())
        .collect();
    assert!(kinds.contains(&"StaleData".to_string()), "{kinds:?}");
    // The disk image after the whole schedule: an ext4 image (magic 0xEF53
    // at 0x438) of s_blocks_count * block_size bytes.
    let img = send(serde_json::json!({
        "cmd": "image", "target": target, "token": link["schedule"], "choices": 100000
    }));
    let bytes = js_sys::Uint8Array::new(&get(&img, "bytes")).to_vec();
    assert_eq!(bytes.len(), 4096 * 4096);
    assert_eq!((bytes[0x438], bytes[0x439]), (0x53, 0xEF));
    // A bad variant is a typed error, not a trap.
    let mut bad = target.clone();
    bad["variant"] = "no-such".into();
    let r = send(serde_json::json!({
        "cmd": "explore", "target": bad, "strategy": {"kind": "random"}, "seed": 1,
        "maxExecutions": 10, "shard": [0, 1]
    }));
    assert_eq!(
        path(&r, &["error", "kind"]).as_string().as_deref(),
        Some("bad-choice")
    );
}
