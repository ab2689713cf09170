#![cfg(not(target_arch = "wasm32"))]
//! Issue 20: no scenario makes the engine panic on the task limit. A scenario
//! naming more tasks than one execution can hold is refused at validation,
//! with the line and column of the first task past the limit; a run that
//! still spawns one task too many (bio completions count) ends with an
//! `engine-error` outcome naming the limit.

use std::rc::Rc;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::scenario::{check_scenario, parse_scenario};
use ext4lab::sim::{Strategy, MAX_TASKS};

#[path = "common/scenario_gen.rs"]
mod scenario_gen;
use scenario_gen::{on_a_96k_file, readers, readers_x, OVERWRITE_128K};

#[test]
fn forty_tasks_are_refused_at_the_first_task_past_the_limit() {
    let text = readers(40);
    let errs = check_scenario(&text);
    let e = errs
        .iter()
        .find(|e| e.message.contains("at most 24 tasks"))
        .unwrap_or_else(|| panic!("{errs:?}"));
    assert!(e.message.contains("this scenario has 40"), "{}", e.message);
    assert_eq!(e.path, "tasks[24]");
    let loc = e.location.as_ref().expect("a location");
    // The 25th task's block: from its `[[tasks]]` header to the next one.
    let headers: Vec<u32> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "[[tasks]]")
        .map(|(i, _)| i as u32 + 1)
        .collect();
    assert!(
        (headers[24]..headers[25]).contains(&loc.line),
        "line {} is not in task 25 (lines {}..{})",
        loc.line,
        headers[24],
        headers[25]
    );
    assert!(parse_scenario(&text).is_err());
    // 24 tasks are fine.
    assert!(check_scenario(&readers(24)).is_empty());
}

/// `runs` random executions (seed `seed`) of the scenario `text`.
fn random_runs(text: &str, seed: u64, runs: u64) -> ext4lab::sim::Report {
    let sc = Rc::new(parse_scenario(text).unwrap());
    let strategy = Strategy::Random { seed };
    explore_variant(
        &sc,
        "default",
        &Default::default(),
        Some(strategy),
        Some(runs),
    )
    .unwrap()
    .1
}

#[test]
fn a_run_past_the_task_limit_is_an_engine_error_not_a_panic() {
    // 24 readers + 3 x 24 bio completions + kjournald2 > 63 tasks.
    let rep = random_runs(&readers_x(24, 3), 1, 5);
    assert_eq!(rep.stats.executions, 5);
    assert_eq!(
        rep.stats.cut_by_step_limit, 5,
        "every run is cut by the task limit"
    );
    let kinds: Vec<(String, String)> = rep
        .outcomes
        .iter()
        .map(|o| (kind_name(&o.key.kind).to_string(), o.first.message.clone()))
        .collect();
    assert!(!kinds.is_empty());
    for (kind, msg) in &kinds {
        assert_eq!(kind, "engine-error", "{kinds:?}");
        assert!(
            msg.contains(&format!("more than {MAX_TASKS} tasks in one execution"))
                && msg.contains("is one too many"),
            "{kinds:?}"
        );
    }
    // The most tasks a scenario may name, one bio each, run to their end.
    let rep = random_runs(&readers(24), 1, 5);
    assert_eq!(rep.stats.cut_by_step_limit, 0);
    assert!(rep.outcomes.is_empty(), "{:?}", rep.outcomes.len());
    // A small one too.
    let rep = random_runs(&readers(4), 1, 5);
    assert_eq!(rep.stats.cut_by_step_limit, 0);
    assert!(rep.outcomes.is_empty(), "{:?}", rep.outcomes.len());
}

/// `(complete executions, outcomes)` of 20 random runs of `tasks` on a
/// 96 KiB file of `A`s.
fn run_on_96k(tasks: &str) -> (u64, Vec<String>) {
    let text = on_a_96k_file(tasks);
    let rep = random_runs(&text, 3, 20);
    let outcomes = rep
        .outcomes
        .iter()
        .map(|o| format!("{} {}", kind_name(&o.key.kind), o.first.message))
        .collect();
    (rep.stats.executions - rep.stats.cut_by_step_limit, outcomes)
}

#[test]
fn a_whole_page_overwrite_reads_nothing_first() {
    // 16 whole pages and an fsync: 16 write bios. Reading each page first
    // (one read bio per page, as before) would pass the task limit.
    let (complete, outcomes) = run_on_96k(
        r#"
[[tasks]]
name = "T1"
steps = [
  { op = "write", file = "f", offset = 16384, len = 65536, fill = "B" },
  { op = "fsync", file = "f" },
]

[[tasks]]
name = "T2"
steps = [{ op = "read", file = "f", offset = 40000, len = 100 }]
"#,
    );
    assert!(outcomes.is_empty(), "{outcomes:?}");
    assert_eq!(complete, 20);
}

#[test]
fn a_partial_overwrite_reads_the_rest_of_its_pages_first() {
    // T0 (set-up) writes pages 0-1 and fsyncs: durable bytes the lost-write
    // oracle checks. T1 overwrites the second half of page 0 and the first
    // of page 1; a write_begin that skipped the read would write zeros over
    // the other halves.
    let (complete, outcomes) = run_on_96k(
        r#"
[[tasks]]
name = "T0"
setup = true
steps = [
  { op = "write", file = "f", offset = 0, len = 8192, fill = "S" },
  { op = "fsync", file = "f" },
  { op = "drop_caches" },
]

[[tasks]]
name = "T1"
steps = [
  { op = "write", file = "f", offset = 2048, len = 4096, fill = "B" },
  { op = "fsync", file = "f" },
]

[[tasks]]
name = "T2"
steps = [{ op = "drop_caches" }]
"#,
    );
    assert!(outcomes.is_empty(), "{outcomes:?}");
    assert_eq!(complete, 20);
}

#[test]
fn the_issues_128_kib_overwrite_runs_clean() {
    let (complete, outcomes) = run_on_96k(OVERWRITE_128K);
    assert!(outcomes.is_empty(), "{outcomes:?}");
    assert_eq!(complete, 20);
}

#[test]
fn a_128_kib_direct_read_is_one_bio_per_extent() {
    // 32 pages of one extent: one ext4_map_blocks lookup and one bio. A bio
    // per page (as before) would pass the task limit (32 bio tasks).
    let (complete, outcomes) = run_on_96k(
        r#"
[[tasks]]
name = "T1"
steps = [{ op = "read", file = "f", offset = 0, len = 131072, direct = true }]

[[tasks]]
name = "T2"
steps = [{ op = "read", file = "f", offset = 8192, len = 65536, direct = true }]
"#,
    );
    assert!(outcomes.is_empty(), "{outcomes:?}");
    assert_eq!(complete, 20);
}

#[test]
fn an_unaligned_direct_read_of_written_blocks_is_einval() {
    // iomap_dio_bio_actor: offset and length must be multiples of the
    // device's logical block size (512). 512-aligned but not page-aligned
    // is fine.
    let (complete, outcomes) = run_on_96k(
        r#"
[[tasks]]
name = "T1"
steps = [
  { op = "read", file = "f", offset = 870, len = 4096, direct = true },
  { op = "read", file = "f", offset = 512, len = 7680, direct = true },
]
"#,
    );
    assert_eq!(complete, 20);
    assert_eq!(outcomes, vec!["user-error EINVAL".to_string()]);
    // The same unaligned read of a hole reads zeros (iomap_dio_hole_actor
    // does not check): nothing to report.
    let text = on_a_96k_file(
        r#"
[[tasks]]
name = "T1"
steps = [
  { op = "punch_hole", file = "f", offset = 0, len = 16384 },
  { op = "read", file = "f", offset = 870, len = 4096, direct = true },
]
"#,
    );
    let rep = random_runs(&text, 1, 5);
    assert!(rep.outcomes.is_empty(), "{:?}", rep.outcomes.len());
}
