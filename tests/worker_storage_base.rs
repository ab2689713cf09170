//! Scenario runs from a stored image, through the worker protocol in a
//! dedicated worker: `image-base-load` reads a library image, checks it
//! against the scenario and names it by content hash; an `explore` whose
//! target names that base runs on in-memory copies and leaves the stored
//! image untouched; unfit images, unknown hashes and altered bytes get typed
//! errors.
#![cfg(target_arch = "wasm32")]

use ext4lab::scenario::builtin;
use ext4lab::wasm::handle_request;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).expect("property")
}

fn kind(answer: &JsValue) -> Option<String> {
    get(&get(answer, "error"), "kind").as_string()
}

async fn send(v: serde_json::Value) -> JsValue {
    let msg = js_sys::JSON::parse(&v.to_string()).expect("json");
    handle_request(msg).await
}

async fn send_bytes(v: serde_json::Value, bytes: &[u8]) -> JsValue {
    let msg = js_sys::JSON::parse(&v.to_string()).expect("json");
    js_sys::Reflect::set(&msg, &"bytes".into(), &js_sys::Uint8Array::from(bytes)).expect("set");
    handle_request(msg).await
}

async fn create(name: &str, block_size: u32) {
    let _ = send(serde_json::json!({"cmd": "image-delete", "name": name})).await;
    let a = send(serde_json::json!({
        "cmd": "image-create", "name": name, "backend": "opfs", "size": 16 << 20,
        "mkfs": {"blockSize": block_size, "volumeName": "base"}
    }))
    .await;
    assert_eq!(get(&a, "ok"), JsValue::TRUE, "{a:?}");
}

async fn export(name: &str) -> Vec<u8> {
    let a = send(serde_json::json!({"cmd": "image-export", "name": name})).await;
    js_sys::Uint8Array::new(&get(&a, "bytes")).to_vec()
}

fn explore_req(text: &str, name: &str, hash: &str) -> serde_json::Value {
    serde_json::json!({
        "cmd": "explore",
        "target": {"kind": "scenario", "text": text, "variant": "v5.5",
                   "options": {}, "base": {"name": name, "hash": hash}},
        "strategy": {"kind": "pct", "depth": 3},
        "seed": 7, "maxExecutions": 40, "progressEvery": 1000000
    })
}

#[wasm_bindgen_test]
async fn s5_explores_from_a_stored_image_without_writing_it() {
    let text = builtin("s5").expect("s5").text;
    let name = "ext4lab-test-base";
    create(name, 4096).await;
    let before = export(name).await;

    let loaded =
        send(serde_json::json!({"cmd": "image-base-load", "name": name, "text": text})).await;
    assert_eq!(get(&loaded, "ok"), JsValue::TRUE, "{loaded:?}");
    let hash = get(&loaded, "hash").as_string().expect("hash");
    assert_eq!(hash.len(), 16);
    assert_eq!(
        js_sys::Uint8Array::new(&get(&loaded, "bytes")).to_vec(),
        before
    );

    let r = send(explore_req(text, name, &hash)).await;
    assert_eq!(get(&r, "ok"), JsValue::TRUE, "{r:?}");
    let stats = get(&r, "stats");
    assert_eq!(get(&stats, "executions").as_f64(), Some(40.0), "{stats:?}");
    let outcomes = js_sys::Array::from(&get(&r, "outcomes"));
    for o in outcomes.iter() {
        let k = js_sys::JSON::stringify(&get(&get(&o, "key"), "kind")).expect("kind");
        assert!(
            !String::from(k).contains("engine-error"),
            "engine error on the base image: {o:?}"
        );
    }
    // Exploring never writes the stored image.
    assert_eq!(export(name).await, before);

    // A hash this worker does not hold, and bytes that are not the named ones.
    let r = send(explore_req(text, name, "0123456789abcdef")).await;
    assert_eq!(kind(&r).as_deref(), Some("base-not-loaded"), "{r:?}");
    let mut altered = before.clone();
    altered[4096] ^= 1;
    let put = send_bytes(
        serde_json::json!({"cmd": "image-base-put", "name": name, "hash": hash}),
        &altered,
    )
    .await;
    assert_eq!(kind(&put).as_deref(), Some("base-hash-mismatch"), "{put:?}");
    let put = send_bytes(
        serde_json::json!({"cmd": "image-base-put", "name": name, "hash": hash}),
        &before,
    )
    .await;
    assert_eq!(get(&put, "ok"), JsValue::TRUE, "{put:?}");
    let _ = send(serde_json::json!({"cmd": "image-delete", "name": name})).await;
}

#[wasm_bindgen_test]
async fn unfit_base_image_is_a_typed_error() {
    let text = builtin("s5").expect("s5").text;
    let name = "ext4lab-test-base-1k";
    create(name, 1024).await;
    let a = send(serde_json::json!({"cmd": "image-base-load", "name": name, "text": text})).await;
    assert_eq!(kind(&a).as_deref(), Some("base-block-size"), "{a:?}");
    let msg = get(&get(&a, "error"), "message")
        .as_string()
        .unwrap_or_default();
    assert!(msg.contains("4096-byte blocks"), "{msg}");
    let a =
        send(serde_json::json!({"cmd": "image-base-load", "name": "no-such-image", "text": text}))
            .await;
    assert_eq!(kind(&a).as_deref(), Some("not-found"), "{a:?}");
    let _ = send(serde_json::json!({"cmd": "image-delete", "name": name})).await;
}
