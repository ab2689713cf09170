//! The worker's scenario and share-link commands, in a headless page
//! (wasm-bindgen-test, run_in_browser): what the playground's picker,
//! editor and link restore rely on.
#![cfg(target_arch = "wasm32")]

use ext4lab::scenario::link::{encode_link, Link, Strategy};
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

fn send(json: &str) -> JsValue {
    handle_message(js_sys::JSON::parse(json).expect("json"))
}

fn send_value(v: serde_json::Value) -> JsValue {
    send(&v.to_string())
}

fn string(v: &JsValue) -> String {
    v.as_string()
        .unwrap_or_else(|| format!("not a string: {v:?}"))
}

#[wasm_bindgen_test]
fn scenarios_lists_the_builtins_with_titles_and_hashes() {
    let a = send(r#"{"cmd":"scenarios"}"#);
    assert_eq!(get(&a, "ok"), JsValue::TRUE);
    let list = js_sys::Array::from(&get(&a, "builtins"));
    assert_eq!(list.length(), 8);
    let ids: Vec<String> = list.iter().map(|b| string(&get(&b, "id"))).collect();
    assert_eq!(ids, ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"]);
    assert_eq!(string(&get(&list.get(5), "name")), "punch-vs-fault");
    let s5 = list.get(4);
    assert_eq!(string(&get(&s5, "name")), "dio-vs-mkwrite");
    assert!(string(&get(&s5, "title")).contains("O_DIRECT"));
    let want = ext4lab::scenario::builtin("s5").unwrap().hash_hex();
    assert_eq!(string(&get(&s5, "hash")), want);
}

/// The custom kernel panel's commands: the registry, and a variant resolved
/// on another kernel with its changes against that version's own.
#[wasm_bindgen_test]
fn history_and_a_custom_kernel_resolve() {
    let h = send(r#"{"cmd":"history"}"#);
    assert_eq!(get(&h, "ok"), JsValue::TRUE);
    let changes = js_sys::Array::from(&get(&h, "changes"));
    assert!(changes.length() >= 15);
    let ids: Vec<String> = changes.iter().map(|c| string(&get(&c, "id"))).collect();
    assert!(ids.contains(&"ea3d7209ca01".to_string()));
    let versions: Vec<String> = js_sys::Array::from(&get(&h, "versions"))
        .iter()
        .map(|v| string(&v))
        .collect();
    assert!(versions.contains(&"v4.4".to_string()), "{versions:?}");

    let s6 = ext4lab::scenario::builtin("s6").unwrap().text;
    let plain = send_value(serde_json::json!({
        "cmd": "resolve-scenario", "text": s6, "variant": "ea3d7209ca01",
    }));
    assert_eq!(string(&path(&plain, &["config", "kernel"])), "v4.4");
    let apply = js_sys::Array::from(&path(&plain, &["delta", "apply"]));
    assert_eq!(apply.length(), 1);
    assert_eq!(string(&apply.get(0)), "ea3d7209ca01");
    // The same variant on v4.5-rc1: the commit is the version's own now.
    let custom = send_value(serde_json::json!({
        "cmd": "resolve-scenario", "text": s6, "variant": "ea3d7209ca01",
        "custom": {"kernel": "v4.5-rc1"},
    }));
    assert_eq!(get(&custom, "ok"), JsValue::TRUE);
    assert_eq!(string(&path(&custom, &["config", "kernel"])), "v4.5-rc1");
    // (empty lists are left out)
    assert!(path(&custom, &["delta", "apply"]).is_undefined());
    // Applying what the version already has is the registry's error.
    let bad = send_value(serde_json::json!({
        "cmd": "resolve-scenario", "text": s6, "variant": "v4.4",
        "custom": {"kernel": "v4.5", "apply": ["ea3d7209ca01"]},
    }));
    assert_eq!(get(&bad, "ok"), JsValue::FALSE);
    assert!(string(&path(&bad, &["error", "message"])).contains("already in v4.5"));
}

#[wasm_bindgen_test]
fn scenario_gives_text_parsed_variants_and_default() {
    let a = send(r#"{"cmd":"scenario","key":"dio-vs-mkwrite"}"#);
    assert_eq!(get(&a, "ok"), JsValue::TRUE);
    assert_eq!(string(&get(&a, "id")), "s5");
    assert_eq!(string(&get(&a, "defaultVariant")), "v5.5");
    let variants = js_sys::Array::from(&path(&a, &["scenario", "variants"]));
    let names: Vec<String> = variants.iter().map(|v| string(&get(&v, "name"))).collect();
    assert!(names.contains(&"ritesh-check-get-block".to_string()));
    assert!(string(&get(&a, "text")).contains("[[tasks]]"));
    let missing = send(r#"{"cmd":"scenario","key":"s9"}"#);
    assert_eq!(get(&missing, "ok"), JsValue::FALSE);
    assert_eq!(
        string(&path(&missing, &["error", "kind"])),
        "unknown-builtin"
    );
}

#[wasm_bindgen_test]
fn check_reports_line_and_column_of_every_error() {
    // A built-in with a step naming a mapping its process lacks.
    let text = ext4lab::scenario::builtin("s5").unwrap().text.replace(
        "mapping = \"mf\", offset = 4096",
        "mapping = \"mx\", offset = 4096",
    );
    let a = send_value(serde_json::json!({"cmd": "check-scenario", "text": text}));
    assert_eq!(get(&a, "ok"), JsValue::TRUE);
    assert!(get(&a, "scenario").is_null() || get(&a, "scenario").is_undefined());
    let errors = js_sys::Array::from(&get(&a, "errors"));
    assert_eq!(errors.length(), 1, "one bad reference");
    let e = errors.get(0);
    assert_eq!(string(&get(&e, "kind")), "undefined");
    let line = path(&e, &["location", "line"]).as_f64().unwrap() as usize;
    let col = path(&e, &["location", "column"]).as_f64().unwrap() as usize;
    // The location points into the line that holds the bad name.
    let src_line = text.lines().nth(line - 1).unwrap();
    assert!(src_line.contains("\"mx\""), "line {line}: {src_line}");
    assert!(col >= 1 && col <= src_line.chars().count());
    assert!(string(&get(&e, "rendered")).starts_with(&format!("line {line}, column {col}: ")));

    // A syntax error: located by the TOML parser.
    let a = send(r#"{"cmd":"check-scenario","text":"format = 1\n[meta\nid = 1"}"#);
    let e = js_sys::Array::from(&get(&a, "errors")).get(0);
    assert_eq!(string(&get(&e, "kind")), "syntax");
    assert_eq!(path(&e, &["location", "line"]).as_f64(), Some(2.0));

    // A valid text: no errors, the parsed scenario, and which built-in it is.
    let s1 = ext4lab::scenario::builtin("s1").unwrap().text;
    let a = send_value(serde_json::json!({"cmd": "check-scenario", "text": s1}));
    assert_eq!(js_sys::Array::from(&get(&a, "errors")).length(), 0);
    assert_eq!(string(&path(&a, &["scenario", "meta", "id"])), "s1");
    assert_eq!(string(&get(&a, "builtin")), "s1");
}

#[wasm_bindgen_test]
fn resolve_applies_variant_and_options() {
    let s5 = ext4lab::scenario::builtin("s5").unwrap().text;
    let a = send_value(serde_json::json!({
        "cmd": "resolve-scenario", "text": s5, "variant": "dioread-nolock-default",
        "options": {"mount": "nodelalloc"}
    }));
    assert_eq!(get(&a, "ok"), JsValue::TRUE);
    let mount = path(&a, &["config", "mount"]);
    assert_eq!(get(&mount, "delalloc"), JsValue::FALSE);
    let names: Vec<String> = js_sys::Array::from(&get(&a, "task_names"))
        .iter()
        .map(|t| string(&t))
        .collect();
    assert_eq!(names, ["T1", "T2", "T3", "kjournald2"]);
    let bad = send_value(serde_json::json!({
        "cmd": "resolve-scenario", "text": s5, "variant": "no-such"
    }));
    assert_eq!(string(&path(&bad, &["error", "kind"])), "bad-choice");
}

#[wasm_bindgen_test]
fn link_round_trip_through_the_worker_commands() {
    let mut link = Link::to_builtin("s5", "jan-dio-begin-early").unwrap();
    link.options.insert("mount".into(), "nodelalloc".into());
    link.strategy = Strategy::Pct { depth: 3 };
    link.seed = 12345;
    link.step = Some(17);
    let a = send_value(serde_json::json!({"cmd": "link-encode", "link": link}));
    let fragment = string(&get(&a, "fragment"));
    assert_eq!(
        fragment,
        encode_link(&link),
        "same bytes as the native codec"
    );
    assert!(fragment.len() < 2048);
    let d = send_value(serde_json::json!({"cmd": "link-decode", "fragment": fragment}));
    assert_eq!(get(&d, "ok"), JsValue::TRUE);
    let back: Link = serde_wasm_bindgen::from_value(get(&d, "link")).unwrap();
    assert_eq!(back, link);
    assert_eq!(
        string(&get(&d, "text")),
        ext4lab::scenario::builtin("s5").unwrap().text
    );
}

#[wasm_bindgen_test]
fn damaged_links_are_typed_errors() {
    let good = encode_link(&Link::to_builtin("s2", "fault-retry").unwrap());
    let cases = [
        ("#nonsense", "link-bad-prefix"),
        ("#v7.AAAA", "link-unknown-version"),
        ("#v1.@@@", "link-bad-base64"),
        ("#v1.AAAA", "link-decompress"),
    ];
    for (fragment, kind) in cases {
        let d = send_value(serde_json::json!({"cmd": "link-decode", "fragment": fragment}));
        assert_eq!(get(&d, "ok"), JsValue::FALSE, "{fragment}");
        assert_eq!(string(&path(&d, &["error", "kind"])), kind, "{fragment}");
        assert!(!string(&path(&d, &["error", "message"])).is_empty());
    }
    // A truncated good link fails to inflate or to parse, never succeeds.
    let cut = &good[..good.len() - 6];
    let d = send_value(serde_json::json!({"cmd": "link-decode", "fragment": cut}));
    assert_eq!(get(&d, "ok"), JsValue::FALSE);
    // A link to a variant the scenario lacks.
    let wrong = encode_link(&Link::to_builtin("s2", "no-such-variant").unwrap());
    let d = send_value(serde_json::json!({"cmd": "link-decode", "fragment": wrong}));
    assert_eq!(string(&path(&d, &["error", "kind"])), "link-bad-choice");
    // A built-in whose hash changed: the decoded link rides along.
    let mut stale = Link::to_builtin("s3", "unguarded").unwrap();
    stale.scenario = ext4lab::scenario::link::LinkScenario::Builtin {
        id: "s3".into(),
        hash: "0000000000000000".into(),
    };
    let d = send_value(serde_json::json!({"cmd": "link-decode", "fragment": encode_link(&stale)}));
    assert_eq!(string(&path(&d, &["error", "kind"])), "link-hash-mismatch");
    assert_eq!(
        string(&path(&d, &["error", "link", "variant"])),
        "unguarded"
    );
}
