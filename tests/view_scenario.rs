#![cfg(not(target_arch = "wasm32"))]
//! The scenario views (`ext4lab::view::scenario`) natively: the data the
//! worker's `scenarios`, `scenario`, `check-scenario`, `resolve-scenario`,
//! `history` and `link-*` commands answer (the browser tests hold the
//! worker glue to the same through `handle_message`).

use std::collections::BTreeMap;

use ext4lab::scenario::link::{decode_link_unchecked, encode_link, LinkScenario};
use ext4lab::scenario::{builtin, builtins, CustomKernel};
use ext4lab::view::scenario::{
    check, decode, encode, get_builtin, history, list_builtins, resolve,
};
use ext4lab::view::Failure;

const S5_STALE: &str = include_str!("fixtures/replay/s5-v5.5-mount-delalloc-stale-data.json");

fn s5_link() -> String {
    let fx: serde_json::Value = serde_json::from_str(S5_STALE).unwrap();
    fx["link"].as_str().unwrap().to_string()
}

#[test]
fn the_builtin_list_is_every_builtin_with_its_hash() {
    let list = list_builtins();
    let ids: Vec<&str> = list.builtins.iter().map(|b| b.id).collect();
    let want: Vec<&str> = builtins().iter().map(|b| b.id).collect();
    assert_eq!(ids, want);
    assert_eq!(ids.first(), Some(&"s1"));
    for b in &list.builtins {
        assert_eq!(b.hash, builtin(b.id).unwrap().hash_hex());
        assert!(!b.title.is_empty(), "{b:?}");
    }
}

#[test]
fn a_builtin_by_id_or_name_and_an_unknown_one() {
    let by_id = get_builtin("s5").expect("s5");
    let by_name = get_builtin("dio-vs-mkwrite").expect("by long name");
    assert_eq!(by_id.text, by_name.text);
    assert_eq!(by_id.id, Some("s5"));
    assert_eq!(by_id.default_variant.as_deref(), Some("v5.5"));
    let v = serde_json::to_value(&by_id).unwrap();
    assert!(
        v.get("defaultVariant").is_some(),
        "camelCase as the page reads it"
    );
    let e = get_builtin("s99").unwrap_err();
    assert_eq!(e.kind, "unknown-builtin");
    assert!(e.message.contains("s99"), "{e}");
}

#[test]
fn check_lists_errors_with_positions_or_the_scenario() {
    let ok = check(builtin("s1").unwrap().text);
    assert!(ok.errors.is_empty());
    assert!(ok.scenario.is_some());
    assert_eq!(ok.builtin, Some("s1"));
    let bad = check("format = 2\n[meta]\nname = 3\n");
    assert!(!bad.errors.is_empty());
    assert!(bad.scenario.is_none());
    assert_eq!(bad.builtin, None);
    assert!(
        bad.errors.iter().all(|e| e.rendered.starts_with("line ")),
        "{:?}",
        bad.errors
    );
}

#[test]
fn resolve_gives_the_config_and_its_delta_against_the_version() {
    let text = builtin("s5").unwrap().text;
    let r = resolve(text, "ritesh-check-get-block", &BTreeMap::new(), None).expect("resolves");
    assert!(!r.task_names.is_empty());
    assert_eq!(r.delta.kernel.as_deref(), Some("v5.5"));
    assert!(
        r.delta.apply.iter().any(|c| c == "p:ritesh-2019-12-03"),
        "{:?}",
        r.delta
    );
    // The plain variant applies nothing beyond its version.
    let plain = resolve(text, "v5.5", &BTreeMap::new(), None).unwrap();
    assert!(plain.delta.apply.is_empty(), "{:?}", plain.delta);
    let custom = CustomKernel {
        kernel: None,
        apply: vec!["p:jan-2019-11-29".into()],
        revert: vec![],
    };
    let c = resolve(text, "v5.5", &BTreeMap::new(), Some(&custom)).unwrap();
    assert_eq!(c.delta.apply, ["p:jan-2019-11-29"]);
    assert_eq!(
        resolve(text, "no-such-variant", &BTreeMap::new(), None)
            .unwrap_err()
            .kind,
        "bad-choice"
    );
    assert_eq!(
        resolve("not a scenario", "v5.5", &BTreeMap::new(), None)
            .unwrap_err()
            .kind,
        "bad-scenario"
    );
}

#[test]
fn history_lists_changes_and_versions() {
    let h = history();
    assert!(!h.changes.is_empty());
    assert!(h.versions.iter().any(|v| v == "v5.5"), "{:?}", h.versions);
}

#[test]
fn links_decode_encode_and_fail_by_kind() {
    let d = decode(&s5_link()).expect("decodes");
    assert_eq!(d.text, builtin("s5").unwrap().text);
    assert!(d.made_with.starts_with("ext4lab "), "{}", d.made_with);
    assert_eq!(encode(&d.link).fragment, encode_link(&d.link));
    let e = decode("#nope").unwrap_err();
    assert_eq!(e.kind, "link-bad-prefix");
    assert!(
        serde_json::to_value(&e).unwrap().get("link").is_none(),
        "no link on other failures"
    );
    // A built-in that changed since: the failure carries the decoded link.
    let mut l = decode_link_unchecked(&s5_link()).unwrap();
    if let LinkScenario::Builtin { hash, .. } = &mut l.scenario {
        *hash = "0123456789abcdef".into();
    }
    let e: Failure = decode(&encode_link(&l)).unwrap_err();
    assert_eq!(e.kind, "link-hash-mismatch");
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["link"]["variant"], "v5.5", "{v}");
}
