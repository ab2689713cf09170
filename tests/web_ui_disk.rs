//! The worker's disk view (`{cmd: "disk"}`), in a headless page: the stored
//! S5 stale-data link replayed to the step of its outcome shows the exposed
//! block mapped into `f` as *stale* (it still holds the deleted secret's
//! bytes), while at the start the same logical block is a hole; the journal
//! area parses into transactions; and the exact-step image export.
#![cfg(target_arch = "wasm32")]

use ext4lab::wasm::handle_message;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const FIXTURE: &str = include_str!("fixtures/replay/s5-v5.5-mount-delalloc-stale-data.json");

fn send(v: serde_json::Value) -> serde_json::Value {
    let a = handle_message(js_sys::JSON::parse(&v.to_string()).expect("json"));
    // Through JSON so the test reads plain serde values.
    let s = js_sys::JSON::stringify(&a).expect("stringify");
    serde_json::from_str(&String::from(s)).expect("answer is JSON")
}

fn s5_target_and_token() -> (serde_json::Value, String) {
    let fx: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let d = send(serde_json::json!({"cmd": "link-decode", "fragment": fx["link"]}));
    assert_eq!(d["ok"], true, "{d}");
    let target = serde_json::json!({
        "kind": "scenario", "text": d["text"], "variant": d["link"]["variant"],
        "options": d["link"]["options"],
    });
    (target, d["link"]["schedule"].as_str().unwrap().to_string())
}

#[wasm_bindgen_test]
fn disk_view_marks_the_exposed_block_stale_at_the_outcome_step() {
    let (target, token) = s5_target_and_token();
    let run = send(serde_json::json!({"cmd": "replay", "target": target, "token": token}));
    assert_eq!(run["ok"], true, "{run}");
    let out = run["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "StaleData")
        .expect("the stored link's stale-data outcome")
        .clone();
    let block = out["blocks"][0].as_u64().expect("exposed block");
    let step = out["step"].as_u64().unwrap();
    let d =
        send(serde_json::json!({"cmd": "disk", "target": target, "token": token, "step": step}));
    assert_eq!(d["ok"], true, "{d}");
    assert_eq!(d["block_size"], 4096);
    let file = |state: &serde_json::Value| {
        state["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "f")
            .expect("file f")
            .clone()
    };
    let at = file(&d["at"]);
    assert_eq!(at["layout"], "extents");
    let b1 = &at["blocks"][1];
    assert_eq!(b1["pblk"].as_u64(), Some(block), "{at}");
    assert_eq!(b1["state"], "stale", "{at}");
    assert_eq!(b1["disk"], "secret");
    // At the start, R (logical block 1) is a hole and nothing is stale.
    let start = file(&d["start"]);
    assert_eq!(start["blocks"][1]["state"], "hole", "{start}");
    assert!(start["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["state"] != "stale"));
    assert_eq!(start["blocks"][0]["state"], "written");
    assert_eq!(d["start"]["steps"], 0);
    assert!(d["at"]["steps"].as_u64().unwrap() > step);
    // The journal parses (jbd2 v2, transactions listed with their tids).
    assert!(
        d["at"]["journal"]["s_maxlen"].as_u64().unwrap() >= 1024,
        "{}",
        d["at"]["journal"]
    );
    assert!(d["at"]["journal"]["transactions"].is_array());
}

#[wasm_bindgen_test]
fn disk_view_at_the_end_has_journal_transactions_with_commits() {
    let (target, token) = s5_target_and_token();
    let d = send(serde_json::json!({"cmd": "disk", "target": target, "token": token}));
    assert_eq!(d["ok"], true, "{d}");
    let txs = d["at"]["journal"]["transactions"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!txs.is_empty(), "{}", d["at"]["journal"]);
    for t in &txs {
        assert!(t["commit"].is_u64(), "{t}");
    }
    // At least one logs metadata (the allocation). Another may be a commit
    // block alone: the stored schedule (v5.5, delalloc) leaves one, whose
    // write bio completes after kjournald2's commit.
    assert!(
        txs.iter().any(|t| !t["tags"].as_array().unwrap().is_empty()
            || !t["revokes"].as_array().unwrap().is_empty()),
        "{}",
        d["at"]["journal"]
    );
    // A model has no disk.
    let m = send(
        serde_json::json!({"cmd": "disk", "target": {"kind": "model", "name": "abba_mutex"}, "token": ""}),
    );
    assert_eq!(m["ok"], false);
    assert_eq!(m["error"]["kind"], "no-disk");
}
