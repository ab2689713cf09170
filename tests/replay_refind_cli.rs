#![cfg(not(target_arch = "wasm32"))]
//! `ext4lab replay`: a link whose schedule no longer fits the model says
//! which engine made it and where it diverged (exit 2); `--refind` finds the
//! outcome the link showed again and prints it as a new link.

#[path = "common/cli.rs"]
mod cli;
use cli::ext4lab;

use ext4lab::scenario::builtin;
use ext4lab::scenario::link::{
    decode_link, decode_link_unchecked, encode_link, LinkScenario, ENGINE_VERSION,
};

/// A stored v3 link of S1's deadlock said to be made by ext4lab 0.1.9, whose
/// schedule this engine cannot follow. It names S1's text as it was then.
fn stored_link() -> String {
    let text = include_str!("fixtures/links/v3-s1-deadlock-diverging.txt");
    text.lines().next().unwrap().to_string()
}

/// The stored link pointed at today's S1 (what the page's "open it with
/// today's text anyway" does), so that replaying it reaches the schedule.
fn diverging_link() -> String {
    let mut l = decode_link_unchecked(&stored_link()).unwrap();
    let LinkScenario::Builtin { id, hash } = &mut l.scenario else {
        panic!("the fixture names a built-in")
    };
    *hash = builtin(id).unwrap().hash_hex();
    encode_link(&l)
}

#[test]
fn a_link_to_a_changed_builtin_says_so_and_refind_uses_todays_text() {
    let mut l = decode_link_unchecked(&stored_link()).unwrap();
    if let LinkScenario::Builtin { hash, .. } = &mut l.scenario {
        *hash = "0123456789abcdef".into();
    }
    let old = encode_link(&l);
    let (code, _, err) = ext4lab(&["replay", &old]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("has changed since the link was made"), "{err}");
    assert!(err.contains("--refind"), "{err}");
    let (code, out, err) = ext4lab(&["replay", &old, "--refind", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["kind"], "deadlock");
    let new = decode_link(v["link"].as_str().unwrap()).expect("names today's text");
    assert_eq!(new.variant, l.variant);
}

#[test]
fn a_diverging_link_says_who_made_it_and_where() {
    let (code, _, err) = ext4lab(&["replay", &diverging_link()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("made with ext4lab 0.1.9, diverged at step"),
        "{err}"
    );
    let (code, out, _) = ext4lab(&["replay", &diverging_link(), "--json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["made_with"], "ext4lab 0.1.9");
    assert!(v["diverged_at_step"].as_u64().is_some());
}

#[test]
fn refind_finds_the_outcome_again() {
    let (code, out, err) = ext4lab(&["replay", &diverging_link(), "--refind", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["found"], true);
    assert_eq!(v["kind"], "deadlock");
    let link = v["link"].as_str().unwrap();
    let l = decode_link_unchecked(link).unwrap();
    assert_eq!(l.engine.as_deref(), Some(ENGINE_VERSION));
    assert_eq!(l.outcome.as_deref(), Some("deadlock"));
    // The new link replays to the deadlock.
    let (code, out, err) = ext4lab(&["replay", link, "--json"]);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        r["outcome"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["kind"] == "deadlock"),
        "{out}"
    );
    // An old link that does not say its outcome needs --kind.
    let v2 = include_str!("fixtures/links/v2-s1-deadlock.txt");
    let (code, _, err) = ext4lab(&["replay", v2.lines().next().unwrap(), "--refind"]);
    assert_eq!(code, 1);
    assert!(err.contains("pass --kind"), "{err}");
}
