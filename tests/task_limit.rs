#![cfg(not(target_arch = "wasm32"))]
//! Issue 20: no scenario makes the engine panic on the task limit. A scenario
//! naming more tasks than one execution can hold is refused at validation,
//! with the line and column of the first task past the limit; a run that
//! still spawns one task too many (bio completions count) ends with an
//! `engine-error` outcome naming the limit.

use std::fmt::Write as _;
use std::rc::Rc;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::scenario::{check_scenario, parse_scenario};
use ext4lab::sim::Strategy;

/// `n` tasks, each an O_DIRECT read of its own page of f (one bio each).
fn readers(n: usize) -> String {
    let mut t = format!(
        r#"format = 2

[meta]
id = "many"
name = "many"
title = "{n} O_DIRECT readers"
story = "Each task reads its own page of f with O_DIRECT."

[kernel]
version = "v6.9"

[image]
blocks_count = 8192

[[image.files]]
name = "f"
size = {size}
runs = [{{ offset = 0, len = {size}, fill = "A" }}]

[[variants]]
name = "default"
"#,
        size = 4096 * n
    );
    for i in 0..n {
        write!(
            t,
            "\n[[tasks]]\nname = \"T{i}\"\nsteps = [{{ op = \"read\", file = \"f\", offset = {}, len = 4096, direct = true }}]\n",
            4096 * i
        )
        .unwrap();
    }
    t
}

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

#[test]
fn a_run_past_the_task_limit_is_an_engine_error_not_a_panic() {
    // 24 readers + 24 bio completions + kjournald2 > 32 tasks.
    let sc = Rc::new(parse_scenario(&readers(24)).unwrap());
    let (_, rep) = explore_variant(
        &sc,
        "default",
        &Default::default(),
        Some(Strategy::Random { seed: 1 }),
        Some(5),
    )
    .unwrap();
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
        assert_eq!(kind, "other", "{kinds:?}");
        assert!(
            msg.contains("more than 32 tasks in one execution") && msg.contains("is one too many"),
            "{kinds:?}"
        );
    }
    // A small one runs to its end.
    let sc = Rc::new(parse_scenario(&readers(4)).unwrap());
    let (_, rep) = explore_variant(
        &sc,
        "default",
        &Default::default(),
        Some(Strategy::Random { seed: 1 }),
        Some(5),
    )
    .unwrap();
    assert_eq!(rep.stats.cut_by_step_limit, 0);
    assert!(rep.outcomes.is_empty(), "{:?}", rep.outcomes.len());
}
