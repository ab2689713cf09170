#![cfg(not(target_arch = "wasm32"))]
//! `ext4lab explore --shard I/N`: the N DFS shards split the schedule
//! space. Each shard finishes its part and the union of their outcomes is
//! the unsharded set. With naive DFS (`--no-dpor`) the shards partition
//! the schedules exactly: their executions add up to the unsharded count.
//! With DPOR each shard prunes only with the prefixes it explored itself
//! (crate/sim/sched/dfs.rs, "Sharding"), so the shards together run at
//! least as many executions as the unsharded search.

use std::collections::BTreeSet;
use std::process::Command;

fn explore(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .arg("explore")
        .args(args)
        .arg("--json")
        .output()
        .expect("ext4lab runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// (kind, tasks) of each outcome.
fn outcomes(v: &serde_json::Value) -> BTreeSet<(String, String)> {
    v["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| (o["kind"].to_string(), o["tasks"].to_string()))
        .collect()
}

fn check_partition(base: &[&str], n: u32, naive: bool) {
    let all = explore(base);
    assert_eq!(all["complete"], true, "{base:?} must finish unsharded");
    assert!(
        !outcomes(&all).is_empty(),
        "{base:?}: pick a run with outcomes"
    );
    let mut sum = 0;
    let mut union = BTreeSet::new();
    for i in 1..=n {
        let shard = format!("{i}/{n}");
        let mut args = base.to_vec();
        args.extend(["--shard", shard.as_str()]);
        let part = explore(&args);
        assert_eq!(part["complete"], true, "{args:?}");
        assert_eq!(part["shard"], shard.as_str());
        let e = part["executions"].as_u64().unwrap();
        assert!(e > 0, "{args:?}: an empty shard");
        sum += e;
        union.extend(outcomes(&part));
    }
    let whole = all["executions"].as_u64().unwrap();
    if naive {
        assert_eq!(sum, whole, "{base:?} /{n}: naive shards partition");
    } else {
        assert!(sum >= whole, "{base:?} /{n}: {sum} < {whole}");
    }
    assert_eq!(union, outcomes(&all), "{base:?} /{n}");
}

#[test]
fn dfs_shards_partition_the_schedules() {
    // S2 without the conversion in page_mkwrite, bound 1: the reduced
    // search (482 executions, two outcomes).
    let s2 = [
        "s2",
        "--variant",
        "no-convert-in-mkwrite",
        "--bound",
        "1",
        "--budget",
        "100000",
    ];
    check_partition(&s2, 2, false);
    check_partition(&s2, 3, false);
    check_partition(&s2, 4, false);
    // Naive DFS: a small space with outcomes (60 executions at bound 0).
    let naive = [
        "s2",
        "--variant",
        "no-convert-in-mkwrite",
        "--bound",
        "0",
        "--budget",
        "100000",
        "--no-dpor",
    ];
    check_partition(&naive, 2, true);
    check_partition(&naive, 3, true);
}

#[test]
fn bad_shard_is_a_usage_error() {
    for bad in ["0/2", "3/2", "1/0", "x/2", "2"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
            .args(["explore", "s3", "--budget", "1", "--shard", bad])
            .output()
            .expect("ext4lab runs");
        assert_eq!(out.status.code(), Some(1), "--shard {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--shard"));
    }
}

/// `--until-found`: the search stops once each kind has shown, and says so
/// (not complete); each shard stops at its own find; a name that is not an
/// outcome kind is a usage error naming it.
#[test]
fn until_found_stops_at_the_find() {
    let base = ["s2", "--variant", "fault-retry", "--bound", "0"];
    let all = explore(&base);
    assert_eq!(all["complete"], true);
    let total = all["executions"].as_u64().unwrap();
    let mut args = base.to_vec();
    args.extend(["--until-found", "lost-write"]);
    let found = explore(&args);
    assert_eq!(found["complete"], false);
    assert_eq!(found["stats"]["stopped_at_find"], true);
    let n = found["executions"].as_u64().unwrap();
    assert!(n >= 1 && n < total, "{n} of {total}");
    let first = found["report"]["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["key"]["kind"] == "LostWrite")
        .map(|o| o["first_execution"].as_u64().unwrap())
        .min()
        .expect("the lost write");
    assert_eq!(n, first + 1, "stops right after the run that shows it");
    // a kind the variant never shows under the bound: the whole search
    let mut args = base.to_vec();
    args.extend(["--until-found", "deadlock"]);
    let none = explore(&args);
    assert_eq!(none["complete"], true);
    assert_eq!(none["executions"].as_u64().unwrap(), total);
    // shards: each stops at its own find
    for i in ["1/2", "2/2"] {
        let mut args = base.to_vec();
        args.extend(["--until-found", "lost-write", "--shard", i]);
        let s = explore(&args);
        assert!(
            s["stats"]["stopped_at_find"] == true || s["complete"] == true,
            "{i}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(["explore", "s2", "--until-found", "lost-write,ok"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`ok` is not an outcome kind"), "{err}");
}
