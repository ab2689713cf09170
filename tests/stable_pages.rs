#![cfg(not(target_arch = "wasm32"))]
//! `wait_for_stable_page` (crate/kernel/writeback.rs): since v3.9 a write
//! waits for writeback of its page only when the device needs stable pages
//! (`[mount] stable_writes`). On an ordinary device the write changes the
//! page under writeback and dirties it again; on a stable-writes device it
//! blocks in `ext4_da_write_begin` until the bio completes. Either way the
//! program (a write, an overwrite during writeback, fsync, crash) is legit:
//! no oracle reports anything.

#[path = "common/explore_text.rs"]
mod explore_text;

use std::rc::Rc;

use explore_text::explore_text;
use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{kind_name, run_options, scenario_model};
use ext4lab::scenario::parse_scenario;
use ext4lab::sim::sched::random::RandomScheduler;
use ext4lab::sim::sched::Scheduler;
use ext4lab::sim::trace::EventKind;

fn text(stable_writes: bool) -> String {
    format!(
        r#"
format = 2

[meta]
id = "stable-pages"
name = "stable-pages"
title = "a write to a page under writeback"
story = "T1 dirties page 0 and starts its writeback; T2 overwrites the page, fsyncs and crashes."

[kernel]
version = "v5.5"

[image]
journal = true

[[image.files]]
name = "f"
size = 8192
runs = [{{ offset = 0, len = 8192, fill = "A" }}]

[mount]
stable_writes = {stable_writes}

[explore]
preemption_bound = 2

[[variants]]
name = "v5.5"

[[tasks]]
name = "T1"
steps = [
  {{ op = "write", file = "f", offset = 0, len = 4096, fill = "B" }},
  {{ op = "writeback", file = "f" }},
]

[[tasks]]
name = "T2"
steps = [
  {{ op = "write", file = "f", offset = 0, len = 8, fill = "C" }},
  {{ op = "fsync", file = "f" }},
  {{ op = "crash" }},
]
"#
    )
}

/// Over `runs` random schedules: how many had T2 wait in
/// `ext4_da_write_begin` for the writeback of the page it locked, and how many had T2 take a page lock in it
/// between the submission and the completion of a write bio.
fn write_begin_under_writeback(stable_writes: bool, runs: u64) -> (u32, u32) {
    let sc = Rc::new(parse_scenario(&text(stable_writes)).unwrap_or_else(|e| panic!("{e}")));
    let rc = sc.resolve("v5.5", &Default::default()).unwrap();
    assert_eq!(rc.mount.stable_writes, stable_writes);
    let img = Rc::new(build_image(&sc).unwrap());
    let model = scenario_model(sc.clone(), rc.clone(), img);
    let mut opts = run_options(&sc, &rc);
    opts.trace = true;
    let (mut blocked, mut changed_under_io) = (0, 0);
    let mut sched = RandomScheduler::new(7);
    for i in 0..runs {
        sched.begin(i);
        let ex = model.run(&mut sched, &opts);
        let trace = ex.trace.expect("traced");
        let t2 = trace.tasks.iter().position(|t| t.name == "T2").unwrap() as u32;
        // T2's own steps in ext4_da_write_begin (not in a callee).
        let in_write_begin = |e: &ext4lab::sim::trace::Event| {
            e.task == Some(t2) && e.stack.last().is_some_and(|f| f == "ext4_da_write_begin")
        };
        // Blocking on the PG_writeback of the page it holds locked: the
        // wait for writeback.
        let mut page: Option<&str> = None;
        let mut waited = false;
        for e in trace.events.iter().filter(|e| in_write_begin(e)) {
            match &e.kind {
                EventKind::Acquire { lock, .. } => page = Some(lock),
                EventKind::Block { lock }
                    if page.is_some_and(|p| *lock == format!("{p} PG_writeback")) =>
                {
                    waited = true
                }
                _ => {}
            }
        }
        blocked += u32::from(waited);
        let mut in_flight = std::collections::BTreeSet::new();
        let mut seen = false;
        for e in &trace.events {
            match &e.kind {
                EventKind::BioSubmit {
                    bio, write: true, ..
                } => {
                    in_flight.insert(*bio);
                }
                EventKind::BioComplete { bio, .. } => {
                    in_flight.remove(bio);
                }
                EventKind::Acquire { .. } if !in_flight.is_empty() && in_write_begin(e) => {
                    seen = true
                }
                _ => {}
            }
        }
        changed_under_io += u32::from(seen);
    }
    (blocked, changed_under_io)
}

#[test]
fn an_ordinary_device_lets_a_write_change_a_page_under_writeback() {
    let (blocked, changed) = write_begin_under_writeback(false, 400);
    assert_eq!(
        blocked, 0,
        "no write_begin waits for writeback without stable pages"
    );
    assert!(
        changed > 0,
        "some schedule writes the page while its bio is in flight"
    );
}

#[test]
fn a_stable_writes_device_makes_write_begin_wait_for_writeback() {
    let (blocked, _) = write_begin_under_writeback(true, 400);
    assert!(
        blocked > 0,
        "some schedule has T2 wait for the page's writeback"
    );
}

#[test]
fn an_overwrite_during_writeback_reports_nothing() {
    for stable_writes in [false, true] {
        let rep = explore_text(&text(stable_writes), "v5.5", 1, None);
        let kinds: Vec<&str> = rep
            .outcomes
            .iter()
            .map(|o| kind_name(&o.key.kind))
            .collect();
        assert!(
            kinds.is_empty(),
            "stable_writes = {stable_writes}: {kinds:?}"
        );
        assert!(rep.stats.executions > 10, "{:?}", rep.stats);
    }
}
