#![cfg(not(target_arch = "wasm32"))]
//! The page's types of the worker's answers (web/protocol.ts `Answers`)
//! checked against what the Rust side serializes: a real answer body of
//! every non-storage command is built natively through `ext4lab::view` (the
//! same calls crate/wasm makes), serialized, and written as a TypeScript
//! file assigning each to its `Answers[cmd]`; the repository's `tsc
//! --strict` must accept it. Object literals get excess-property checks,
//! so a field Rust sends that the page does not declare fails, and so does
//! a required field the page declares that Rust does not send.
//!
//! serde_wasm_bindgen (the worker) vs serde_json (here): `None` and `()`
//! become `undefined` in the worker, so JSON `null` is written as
//! `undefined`; maps are objects in both (`serialize_maps_as_objects`);
//! u64 are numbers in both. Skipped: `hello` and `crc32c` (built in
//! crate/wasm/mod.rs), `image` (its `bytes` are a `Uint8Array` set by hand
//! in crate/wasm/cmd_explore.rs) and the storage commands `image-*`
//! (browser storage only; tests/web*.rs and tests/worker*.rs cover them).
//!
//! Needs `node_modules/.bin/tsc` (`npm ci`), so it is `#[ignore]`d;
//! `scripts/test.sh e2e` runs it after the page's typecheck.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use serde::Serialize;
use serde_json::Value;

use ext4lab::sim::NoObserver;
use ext4lab::view::base::BaseRef;
use ext4lab::view::disk::disk_view;
use ext4lab::view::explore::{
    self as ev, ExploreReq, ManualReq, MergeReq, PageStrategy, RefindReq, ReplayReq, Target,
};
use ext4lab::view::scenario as sv;

/// S1's ABBA deadlock (variant `ted-2017`, as posted): a run with a
/// deadlock outcome, its wait-for detail and a long trace.
const S1_DEADLOCK: &str =
    include_str!("fixtures/replay/s1-ted-2017-as-posted-default-deadlock.json");

/// A scenario text with one error (an unknown task kind) for `check-scenario`.
const BAD_TEXT: &str = "format = 2\n[meta]\nid = \"x\"\nname = \"x\"\ntitle = \"x\"\nstory = \"x\"\n[[tasks]]\nname = \"T1\"\nkind = \"nobody\"\n";

/// A run never has a base image here.
fn no_bases(_: &BaseRef) -> Option<Rc<Vec<u8>>> {
    None
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `v` as a TypeScript expression of what the worker posts: JSON, but
/// `null` as `undefined` (serde_wasm_bindgen's `None`).
fn ts_literal(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("undefined"),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ts_literal(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                ts_literal(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn json<T: Serialize>(body: &T) -> Value {
    serde_json::to_value(body).expect("the answer serializes")
}

fn ok<T: Serialize, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Value {
    match r {
        Ok(b) => json(&b),
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A real answer body per command, (cmd, body), several for some.
fn answers() -> Vec<(&'static str, Value)> {
    let fx: Value = serde_json::from_str(S1_DEADLOCK).expect("fixture json");
    let fragment = fx["link"].as_str().expect("link").to_string();
    let decoded = sv::decode(&fragment).expect("the fixture's link decodes");
    let link = decoded.link.clone();
    let target = Target::Scenario {
        text: decoded.text.clone(),
        variant: link.variant.clone(),
        options: link.options.clone(),
        base: None,
        custom: None,
    };
    let model = Target::Model {
        name: "abba_mutex".into(),
    };
    let s1 = sv::get_builtin("s1").expect("s1");
    // S2's proposals name their own preemption bound (`Variant::preemption_bound`).
    let s2 = sv::get_builtin("s2").expect("s2");

    let mut a: Vec<(&'static str, Value)> = vec![
        ("scenarios", json(&sv::list_builtins())),
        ("scenario", json(&s1)),
        ("scenario", json(&s2)),
        ("check-scenario", json(&sv::check(BAD_TEXT))),
        ("check-scenario", json(&sv::check(&s1.text))),
        (
            "resolve-scenario",
            ok(
                "resolve",
                sv::resolve(&decoded.text, &link.variant, &BTreeMap::new(), None),
            ),
        ),
        ("history", json(&sv::history())),
        ("link-encode", json(&sv::encode(&link))),
        ("link-decode", json(&decoded)),
        ("capabilities", json(&ev::capabilities())),
    ];
    assert!(
        a[2].1.to_string().contains("\"preemption_bound\":\"none\""),
        "S2's proposals name their own bound"
    );
    let check_bad = &a[3].1;
    assert!(
        check_bad["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "BAD_TEXT has an error: {check_bad}"
    );

    // Two shards of S1 (a few random runs) and the reference model's
    // deadlock found by DFS (outcomes with their wait-for detail).
    let explore_until = |target: &Target, strategy, max_executions, shard, until: &[&str]| {
        let req = ExploreReq {
            target: target.clone(),
            strategy,
            seed: 7,
            max_executions,
            shard,
            progress_id: 1,
            progress_every: 200,
            stop_when_found: until.iter().map(|k| k.to_string()).collect(),
        };
        ok("explore", ev::explore(req, &no_bases, &mut NoObserver))
    };
    let explore = |target: &Target, strategy, max_executions, shard| {
        explore_until(target, strategy, max_executions, shard, &[])
    };
    // "Find the race": stopped at the deadlock (`stats.stopped_at_find`)
    let found = explore_until(
        &model,
        PageStrategy::Dfs { bound: 2 },
        50,
        (0, 1),
        &["deadlock"],
    );
    assert_eq!(found["stats"]["stopped_at_find"], true, "{found}");
    let shard0 = explore(&target, PageStrategy::Random, 3, (0, 2));
    let shard1 = explore(&target, PageStrategy::Random, 3, (1, 2));
    let single = explore(&target, PageStrategy::Random, 1, (0, 1));
    let abba = explore(&model, PageStrategy::Dfs { bound: 2 }, 50, (0, 1));
    assert!(
        abba["outcomes"].as_array().is_some_and(|o| !o.is_empty()),
        "abba_mutex deadlocks: {abba}"
    );
    let parts = vec![shard0.clone(), shard1.clone()];
    let merged = ev::merge(MergeReq {
        parts: parts
            .into_iter()
            .map(|p| serde_json::from_value(p).expect("an explore answer reads back"))
            .collect(),
    });
    a.extend([
        ("explore", shard0),
        ("explore", shard1),
        ("explore", single),
        ("explore", abba),
        ("explore", found),
        ("merge", ok("merge", merged)),
    ]);

    let replay = || ReplayReq {
        target: target.clone(),
        token: link.schedule.clone(),
    };
    let run = ok("replay", ev::replay(replay(), &no_bases));
    assert!(
        run["outcomes"].as_array().is_some_and(|o| !o.is_empty()),
        "the fixture's run has its outcome: {run}"
    );
    a.push(("replay", run));
    a.push((
        "chrome-trace",
        ok("chrome-trace", ev::chrome_trace(replay(), &no_bases)),
    ));
    a.push((
        "manual",
        ok(
            "manual",
            ev::manual(
                ManualReq {
                    target: target.clone(),
                    choices: vec![],
                },
                &no_bases,
            ),
        ),
    ));
    a.push((
        "manual",
        ok(
            "manual",
            ev::manual(
                ManualReq {
                    target: model.clone(),
                    choices: vec![0, 0],
                },
                &no_bases,
            ),
        ),
    ));
    a.push((
        "refind",
        ok(
            "refind",
            ev::refind(
                RefindReq {
                    fragment: fragment.clone(),
                    kind: None,
                },
                &no_bases,
            ),
        ),
    ));

    // `disk` as crate/wasm/cmd_disk.rs answers it, at a step and at the end.
    let (sc, rc, base) = target.resolved().expect("the target resolves");
    let img = Rc::new(ev::scenario_image(&sc, base, &no_bases).expect("image"));
    let sc = Rc::new(sc);
    for step in [Some(3), None] {
        let d = disk_view(sc.clone(), rc.clone(), img.clone(), &link.schedule, step);
        a.push(("disk", ok("disk", d)));
    }
    a
}

/// The TypeScript file: one typed const per answer.
fn ts_file(answers: &[(&str, Value)]) -> String {
    let protocol = root().join("web/protocol");
    let mut s = format!(
        "// Generated by tests/protocol_types.rs: the worker's answers as Rust serializes them.\n\
         import type {{ Answers }} from {};\n",
        Value::String(protocol.display().to_string())
    );
    for (i, (cmd, body)) in answers.iter().enumerate() {
        let mut lit = String::new();
        ts_literal(body, &mut lit);
        let _ = writeln!(s, "export const a{i}: Answers['{cmd}'] = {lit};");
    }
    s
}

/// `tsc --strict` on `file`; its output when it fails.
fn tsc(file: &Path) -> Result<(), String> {
    let tsc = root().join("node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "{} is missing: run `npm ci` in {} (this test checks web/protocol.ts with the repository's TypeScript)",
        tsc.display(),
        root().display()
    );
    let out = Command::new(&tsc)
        .args([
            "--noEmit",
            "--strict",
            "--skipLibCheck",
            "--target",
            "ES2022",
            "--module",
            "ESNext",
            "--moduleResolution",
            "Bundler",
            "--lib",
            "ES2022,DOM",
        ])
        .arg(file)
        .current_dir(root())
        .output()
        .expect("tsc runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
#[ignore = "needs node_modules/.bin/tsc (npm ci): scripts/test.sh e2e runs it"]
fn every_answer_typechecks_as_protocol_ts_declares_it() {
    let answers = answers();
    let dir = root().join("target/protocol-types");
    std::fs::create_dir_all(&dir).expect("target/protocol-types");
    let file = dir.join("answers.ts");
    std::fs::write(&file, ts_file(&answers)).expect("write answers.ts");
    if let Err(e) = tsc(&file) {
        panic!(
            "web/protocol.ts does not match what the worker sends ({}; a{{i}} is the i-th answer built in tests/protocol_types.rs):\n{e}",
            file.display()
        );
    }
}

/// The literal form itself: `null` is the worker's `undefined`.
#[test]
fn nulls_are_written_as_undefined() {
    let mut s = String::new();
    ts_literal(
        &serde_json::json!({"a": null, "b": [1, null], "c": "x\"y"}),
        &mut s,
    );
    assert_eq!(s, r#"{"a":undefined,"b":[1,undefined],"c":"x\"y"}"#);
}

/// The worker routes SCENARIO_COMMANDS (web/protocol.ts) to the scenario
/// module, which answers exactly crate/view's list: a command in one list
/// and not the other would reach a module that refuses it.
#[test]
fn the_page_and_the_scenario_module_agree_on_its_commands() {
    let ts = std::fs::read_to_string(root().join("web/protocol.ts")).unwrap();
    let start = ts
        .find("export const SCENARIO_COMMANDS")
        .expect("web/protocol.ts declares SCENARIO_COMMANDS");
    let body = &ts[start..];
    let body = &body[body.find('[').unwrap() + 1..];
    let body = &body[body.find('[').unwrap() + 1..body.find("];").unwrap()];
    let page: Vec<&str> = body
        .split(',')
        .map(|s| s.trim().trim_matches('\''))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(page, ext4lab::view::SCENARIO_COMMANDS);
}
