#![cfg(not(target_arch = "wasm32"))]
//! Distributed explorations through the CLI: `explore --shard` results
//! merged with `ext4lab merge` equal the unsharded result, wrong shard sets
//! are refused by name, `--checkpoint`/`--resume` (budget stop, SIGINT)
//! give the uninterrupted result, and the recipes in docs/distributed/
//! parse and hold the one command line the local run uses.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ext4lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(args)
        .output()
        .expect("ext4lab runs")
}

fn json_of(out: &Output, what: &str) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// (kind, site, tasks) of each outcome.
fn outcomes(v: &serde_json::Value) -> BTreeSet<String> {
    v["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| format!("{} {} {}", o["kind"], o["site"], o["tasks"]))
        .collect()
}

fn explore_to(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let mut a = vec!["explore"];
    a.extend_from_slice(args);
    a.push("--json");
    let out = ext4lab(&a);
    json_of(&out, name);
    let p = dir.join(name);
    std::fs::write(&p, &out.stdout).unwrap();
    p
}

fn merge(files: &[&PathBuf]) -> Output {
    let mut a = vec!["merge".to_string(), "--json".to_string()];
    a.extend(files.iter().map(|p| p.display().to_string()));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    ext4lab(&a)
}

#[test]
fn merged_shards_equal_the_unsharded_run_and_bad_sets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for naive in [true, false] {
        // naive DFS on S2 before the conversion (60 executions), the
        // reduced search on S4
        let base: Vec<&str> = if naive {
            vec![
                "s2",
                "--variant",
                "no-convert-in-mkwrite",
                "--bound",
                "0",
                "--no-dpor",
            ]
        } else {
            vec!["s4", "--bound", "0"]
        };
        let whole = json_of(
            &ext4lab(&[&["explore"], &base[..], &["--json"]].concat()),
            "whole",
        );
        assert_eq!(whole["complete"], true);
        let files: Vec<PathBuf> = (1..=3)
            .map(|i| {
                let s = format!("{i}/3");
                explore_to(
                    dir.path(),
                    &format!("{naive}-{i}.json"),
                    &[&base[..], &["--shard", &s]].concat(),
                )
            })
            .collect();
        let all: Vec<&PathBuf> = files.iter().collect();
        let m = json_of(&merge(&all), "merge");
        assert_eq!(m["complete"], true);
        assert_eq!(m["shards"], 3);
        assert_eq!(
            outcomes(&m),
            outcomes(&whole),
            "naive={naive}: the same outcomes"
        );
        if naive {
            assert_eq!(
                m["executions"], whole["executions"],
                "naive shards partition"
            );
        }
        let e = m["shard_executions"].as_array().unwrap();
        assert_eq!(e.len(), 3);
        // every merged outcome keeps a replayable link
        for o in m["outcomes"].as_array().unwrap() {
            let link = o["link"].as_str().expect("a link");
            let r = ext4lab(&["replay", link, "--json"]);
            assert!(r.status.success(), "{link}");
        }

        // a missing shard, a duplicate, another exploration: refused by name
        let out = merge(&[&files[0], &files[2]]);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("missing shard 2/3"));
        let out = merge(&[&files[0], &files[1], &files[1], &files[2]]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("shard 2/3 is given twice"));
    }
    let other = explore_to(
        dir.path(),
        "other.json",
        &["s4", "--bound", "1", "--shard", "2/3"],
    );
    let a = dir.path().join("false-1.json");
    let c = dir.path().join("false-3.json");
    let out = merge(&[&a, &other, &c]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not shards of one exploration") && err.contains("bound"),
        "{err}"
    );
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"shard\": 1}").unwrap();
    let out = merge(&[&junk]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.json"));
}

#[test]
fn a_budget_stop_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("s4.ckpt");
    let ck = ck.to_str().unwrap();
    let base = ["explore", "s4", "--bound", "0", "--shard", "2/2", "--json"];
    let whole = json_of(&ext4lab(&base), "whole");
    // the verdict says which claim it makes
    assert_eq!(
        whole["scope"],
        "every interleaving with at most 0 preemptions"
    );
    assert_eq!(whole["bound"], 0);
    let none = json_of(
        &ext4lab(&[
            "explore", "s4", "--bound", "none", "--budget", "3", "--json",
        ]),
        "none",
    );
    assert_eq!(none["scope"], "every interleaving of this model");
    assert_eq!(none["bound"], serde_json::Value::Null);
    assert_eq!(none["complete"], false);
    let part = json_of(
        &ext4lab(
            &[
                &base[..],
                &[
                    "--budget",
                    "150",
                    "--checkpoint",
                    ck,
                    "--checkpoint-every",
                    "40",
                ],
            ]
            .concat(),
        ),
        "part",
    );
    assert_eq!(part["complete"], false);
    assert_eq!(
        part["checkpoints"], 4,
        "three on the way and one at the stop"
    );
    assert!(part["checkpoint_bytes"].as_u64().unwrap() > 0);
    let resumed = json_of(
        &ext4lab(&[&base[..], &["--resume", ck]].concat()),
        "resumed",
    );
    assert_eq!(resumed["complete"], true);
    assert_eq!(resumed["executions"], whole["executions"]);
    assert_eq!(resumed["stats"], whole["stats"]);
    assert_eq!(outcomes(&resumed), outcomes(&whole));
    // --resume auto: from the checkpoint file when it is there
    let auto = json_of(
        &ext4lab(&[&base[..], &["--checkpoint", ck, "--resume", "auto"]].concat()),
        "auto",
    );
    assert_eq!(auto["stats"], whole["stats"]);
    // a checkpoint of another exploration is refused, naming the difference
    let out = ext4lab(&[
        "explore", "s4", "--bound", "0", "--shard", "1/2", "--resume", ck,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another exploration"));
    std::fs::write(ck, "not json").unwrap();
    let out = ext4lab(&[&base[..], &["--resume", ck]].concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an ext4lab checkpoint"));
}

#[test]
fn sigint_writes_a_checkpoint_and_the_resumed_run_finishes_the_search() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("s2.ckpt");
    let base = ["explore", "s2", "--bound", "1", "--json"];
    let whole = json_of(&ext4lab(&base), "whole");
    let child = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(base)
        .args([
            "--checkpoint",
            ck.to_str().unwrap(),
            "--checkpoint-every",
            "20",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // wait for the first periodic checkpoint, then interrupt
    let mut waited = 0;
    while !ck.exists() && waited < 2400 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let part: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on interrupt");
    if part["complete"] == true {
        // the search finished before the signal arrived: nothing to resume
        assert_eq!(part["stats"], whole["stats"]);
        return;
    }
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(part["interrupted"], true);
    let resumed = json_of(
        &ext4lab(&[&base[..], &["--resume", ck.to_str().unwrap()]].concat()),
        "resumed",
    );
    assert_eq!(resumed["complete"], true);
    assert_eq!(resumed["stats"], whole["stats"]);
    assert_eq!(outcomes(&resumed), outcomes(&whole));
}

/// The one command line of the recipes (the `ext4lab explore` line).
fn recipe_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find("ext4lab explore").map(|i| l[i..].trim().to_string()))
        .collect()
}

fn recipes() -> (String, PathBuf) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/distributed");
    let local = std::fs::read_to_string(dir.join("local.sh")).unwrap();
    let lines = recipe_lines(&local);
    assert_eq!(lines.len(), 1, "local.sh runs one command line");
    (lines[0].clone(), dir)
}

#[test]
fn the_recipes_parse_and_hold_the_local_command_line() {
    let (line, dir) = recipes();
    assert!(line.contains("--shard \"$((JOB_COMPLETION_INDEX + 1))/8\""));
    // without a budget the scenario's own (a few thousand runs) would stop
    // every shard early
    assert!(line.contains("--budget 100000000"));
    let job: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join("explore-job.yaml")).unwrap())
            .expect("the Kubernetes manifest is YAML");
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 8);
    let cmd = &job["spec"]["template"]["spec"]["containers"][0]["command"];
    assert_eq!(
        cmd[2].as_str(),
        Some(line.as_str()),
        "the pod runs the local line"
    );
    let wf: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.join("github-actions.yml")).unwrap())
            .expect("the workflow is YAML");
    let shard = &wf["jobs"]["shard"];
    assert_eq!(
        shard["strategy"]["matrix"]["index"]
            .as_sequence()
            .map(Vec::len),
        Some(8)
    );
    assert_eq!(shard["env"]["JOB_COMPLETION_INDEX"], "${{ matrix.index }}");
    let runs: Vec<&str> = shard["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(
        runs.contains(&line.as_str()),
        "the matrix job runs the local line: {runs:?}"
    );
    let merge_runs: Vec<&str> = wf["jobs"]["merge"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(merge_runs
        .iter()
        .any(|r| r.contains("ext4lab merge out/*.json")));
    let docker = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
    assert!(docker.contains("cargo install --locked --path ."));
}

/// Runs the recipe's command line as 8 processes (the index variable set
/// as the Job sets it), two at a time, and merges: the result equals the
/// unsharded exploration. In the tables group (release build): S2 at bound
/// 2 takes seconds there, minutes in a debug build.
#[test]
#[ignore]
fn the_recipe_command_line_run_locally_merges_to_the_unsharded_result() {
    let (line, _) = recipes();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_ext4lab"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for pair in [0, 2, 4, 6] {
        let kids: Vec<_> = (pair..pair + 2)
            .map(|i| {
                Command::new("sh")
                    .args(["-c", &line])
                    .current_dir(dir.path())
                    .env("PATH", &path)
                    .env("JOB_COMPLETION_INDEX", i.to_string())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut k in kids {
            assert!(k.wait().unwrap().success());
        }
    }
    let files: Vec<PathBuf> = (0..8)
        .map(|i| dir.path().join(format!("out/{i}.json")))
        .collect();
    let m = json_of(&merge(&files.iter().collect::<Vec<_>>()), "merge");
    let whole = json_of(
        &ext4lab(&[
            "explore",
            "s2",
            "--bound",
            "2",
            "--budget",
            "100000000",
            "--json",
        ]),
        "whole",
    );
    assert_eq!(whole["complete"], true);
    assert_eq!(m["complete"], true);
    assert_eq!(outcomes(&m), outcomes(&whole));
    println!(
        "8 shards: {} executions (unsharded {}), balance {}",
        m["executions"], whole["executions"], m["balance"]
    );
}

/// `ext4lab explore ... | head`: a closed pipe ends the CLI quietly (by
/// SIGPIPE, as cat and grep end), not with a panic (exit 101).
#[test]
fn a_closed_stdout_pipe_is_not_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(["explore", "s2", "--bound", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101));
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}",
        out.status
    );
}
