#![cfg(not(target_arch = "wasm32"))]
//! Issue 14: what the stale-data oracle after a crash and the lost-write
//! oracle's allowed values and sequential rule find (docs/oracles.md).
//! - Exposure: after the crash and journal recovery, a block a file maps
//!   holds a deleted file's bytes. data=writeback does it (the kernel
//!   documents it); data=journal never does, but v5.5's data=journal
//!   page_mkwrite did (tests/fixtures/history/data-journal-mmap-exposure.toml).
//!   So did v4.4's data=ordered delalloc writeback, whose allocations were
//!   not ordered (tests/fixtures/history/delalloc-exposure.toml).
//! - The sequential rule: before v5.15 a read(2) beside a hole punch brings
//!   the punched bytes back (tests/fixtures/history/read-beside-punch.toml).
//!
//! The rules themselves: crate/kernel/provenance.rs's unit tests, and the
//! legit suite (tests/oracle_legit.rs), where they must report nothing.

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::{explore_text, explore_text_with};
use ext4lab::kernel::runner::kind_name;
use ext4lab::scenario::parse_scenario;

/// The outcome kinds (with counts) of exploring the fixture under
/// `data`, exhaustively under preemption bound 2.
fn kinds(data: &str) -> Vec<(String, u64, String)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/oracles/writeback-exposure.toml"
    ))
    .unwrap();
    let rep = explore_text_with(&text, "default", &[("data", data)], 2, None);
    assert!(rep.stats.exhausted && rep.stats.executions > 100);
    rep.outcomes
        .iter()
        .map(|o| {
            (
                kind_name(&o.key.kind).to_string(),
                o.count,
                o.first.message.clone(),
            )
        })
        .collect()
}

#[test]
fn data_writeback_exposes_a_freed_block_after_a_crash() {
    let k = kinds("writeback");
    assert_eq!(k.len(), 1, "{k:?}");
    assert_eq!(k[0].0, "stale-data");
    assert!(
        k[0].2.contains("f's block 1") && k[0].2.contains("written by secret"),
        "{}",
        k[0].2
    );
}

#[test]
fn data_journal_logs_the_page_with_its_allocation() {
    assert_eq!(kinds("journal"), vec![]);
}

/// data=ordered: the commit that makes the allocation durable writes the
/// page over the block first (`journal_submit_data_buffers`), so the
/// recovered file never maps the secret's bytes.
#[test]
fn data_ordered_commit_writes_the_page_before_the_allocation() {
    assert_eq!(kinds("ordered"), vec![]);
}

/// ext4_setattr (v4.x..v6.9) calls `ext4_begin_ordered_truncate` before it
/// starts the handle that adds the inode to the orphan list; jbd2's
/// comment on `jbd2_journal_begin_ordered_truncate` asks for after. A
/// commit of the transaction that allocated page 1's block can start in
/// between: it finds the page already dropped by the truncate, commits the
/// allocation without the data, and a crash before the truncate's own
/// transaction commits leaves the file mapping the secret's bytes (2
/// preemptions). Truncating to a size inside that page keeps it (zeroed
/// past the size, dirty): the commit writes it, and nothing is exposed.
/// About 45,000 executions: in the `tables` group.
#[test]
#[ignore]
fn a_commit_between_ordered_truncate_and_the_orphan_handle_exposes_the_block() {
    let text = include_str!("fixtures/oracles/truncate-beside-ordered-commit.toml");
    let rep = explore_text(text, "default", 2, Some(10_000_000));
    assert!(rep.stats.exhausted);
    let stale: Vec<_> = rep
        .outcomes
        .iter()
        .filter(|o| kind_name(&o.key.kind) == "stale-data")
        .collect();
    assert_eq!(stale.len(), 1, "{:?}", rep.outcomes);
    assert_eq!(stale[0].fewest_preemptions, 2);
    assert!(stale[0].first.message.contains("written by secret"));
    assert_eq!(rep.outcomes.len(), 1, "{:?}", rep.outcomes);
    let kept = explore_text(
        &text.replace("size = 4096 }", "size = 6000 }"),
        "default",
        2,
        Some(10_000_000),
    );
    assert!(
        kept.stats.exhausted && kept.outcomes.is_empty(),
        "{:?}",
        kept.outcomes
    );
}

/// Explores every variant of the history fixture `file` exhaustively under
/// preemption bound 2: each variant shows `kind` exactly when one of its
/// rows expects it found, and nothing else.
fn check_rows(file: &str, kind: &str) {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/history/{file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let sc = parse_scenario(&text).unwrap();
    for v in &sc.variants {
        let rep = explore_text(&text, &v.name, 2, Some(10_000_000));
        assert!(rep.stats.exhausted, "{}", v.name);
        let seen = rep.outcomes.iter().any(|o| kind_name(&o.key.kind) == kind);
        let want = v
            .expect
            .iter()
            .any(|e| e.expect == ext4lab::scenario::Presence::Found);
        assert_eq!(seen, want, "{file} {}: {:?}", v.name, rep.outcomes);
        assert!(
            rep.outcomes.iter().all(|o| kind_name(&o.key.kind) == kind),
            "{file} {}: {:?}",
            v.name,
            rep.outcomes
        );
    }
}

/// v5.5 exposes the deleted file's bytes after the crash, 64a9f1449950
/// and v5.10 do not.
#[test]
fn data_journal_mmap_exposure_on_v5_5_and_its_fix() {
    check_rows("data-journal-mmap-exposure.toml", "stale-data");
}

/// v4.4 exposes the deleted file's bytes when delalloc writeback's
/// allocation commits before its page is written; v4.7 (06bd3c36a733 and
/// the JI_WAIT_DATA filing) does not.
#[test]
fn delalloc_exposure_on_v4_4_and_after_06bd3c36a733() {
    check_rows("delalloc-exposure.toml", "stale-data");
}

/// v4.4 without delalloc: `ext4_write_end` files f on the allocating
/// transaction, so the commit writes the page before its commit record.
#[test]
fn v4_4_nodelalloc_writes_are_ordered_by_write_end() {
    let text = include_str!("fixtures/history/delalloc-exposure.toml");
    let rep = explore_text_with(
        text,
        "v4.4",
        &[("alloc", "nodelalloc")],
        2,
        Some(10_000_000),
    );
    assert!(rep.stats.exhausted && rep.stats.executions > 1000);
    assert!(rep.outcomes.is_empty(), "{:?}", rep.outcomes);
}

/// v4.13 reads the punched bytes back after the punch; v6.9 does not.
#[test]
fn read_beside_punch_before_and_after_invalidate_lock() {
    check_rows("read-beside-punch.toml", "lost-write");
}

/// The end-of-run fsck is memoized per image (crate/kernel/fsck_memo.rs):
/// a run that leaves the disk and the filesystem state of an earlier run
/// gets that run's report. Exploring with and without the memo gives the
/// same report, outcomes, counts and messages, on a scenario whose fsck
/// finds corruption (S3 `unguarded`), one whose runs crash and recover (S8
/// `v5.5`, searched to the end) and S4's lost write; and the memo answers
/// most runs, or it would not be worth having.
#[test]
fn fsck_memo_answers_as_the_checker_does() {
    use std::rc::Rc;

    use ext4lab::kernel::image::build_image;
    use ext4lab::kernel::runner::{explore_config, scenario_model};
    use ext4lab::scenario::builtin;
    use ext4lab::sim::{explore, NoObserver, Strategy};

    for (id, variant, bound, budget) in [
        ("s3", "unguarded", Some(1), 800),
        ("s8", "v5.5", None, 3_000),
        ("s4", "v4.13", Some(2), 600),
    ] {
        let sc = Rc::new(parse_scenario(builtin(id).unwrap().text).unwrap());
        let rc = sc.resolve(variant, &Default::default()).unwrap();
        let mut cfg = explore_config(
            &sc,
            &rc,
            Some(Strategy::Dfs {
                preemption_bound: bound,
                dpor: true,
            }),
        );
        cfg.max_executions = budget;
        let run = |memo: bool| {
            let img = Rc::new(build_image(&sc).unwrap());
            img.fsck_memo.set_enabled(memo);
            let model = scenario_model(sc.clone(), rc.clone(), img.clone());
            let rep = explore(&model, &cfg, &mut NoObserver);
            (
                serde_json::to_value(&rep).unwrap(),
                img.fsck_memo.stats(),
                rep,
            )
        };
        let (with, (hits, misses), rep) = run(true);
        let (without, (hits0, _), _) = run(false);
        assert_eq!(hits0, 0, "{id} {variant}: the memo was off");
        assert!(
            with == without,
            "{id} {variant}: the memo changed the report"
        );
        let checked = hits + misses;
        assert!(
            checked > 100 && hits > 10 * misses,
            "{id} {variant}: {hits} answered from the memo, {misses} checked"
        );
        if id == "s3" {
            assert!(
                rep.outcomes
                    .iter()
                    .any(|o| kind_name(&o.key.kind) == "fsck"),
                "s3 unguarded: fsck finds the unowned block"
            );
        }
        if id == "s8" {
            assert!(rep.stats.exhausted && rep.stats.crashes > 0);
        }
    }
}
