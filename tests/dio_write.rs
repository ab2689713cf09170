#![cfg(not(target_arch = "wasm32"))]
//! O_DIRECT writes (v6.9 `ext4_dio_write_iter`, crate/kernel/direct.rs).
//! The legit suite holds the ordinary programs (an O_DIRECT write into a
//! hole, an extending one and a crash, an overwrite beside an O_DIRECT
//! read: nothing reported); tests/expected_errors.rs the unaligned EINVAL.
//! Here the direct path shows what only it does.

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::explore_text;
use ext4lab::kernel::runner::kind_name;

/// The fixture's one variant, exhaustively under preemption bound 2.
fn explore(text: &str) -> ext4lab::sim::Report {
    let rep = explore_text(text, "default", 2, Some(1_000_000));
    assert!(rep.stats.exhausted);
    rep
}

/// A store into the page while the direct write's bio is in flight: the
/// post-write invalidation fails on the dirty page, the kernel prints
/// `dio_warn_stale_pagecache`, and the cached page keeps the old bytes
/// (the sequential rule reports them). A buffered write could not do
/// this: it would go through the page.
#[test]
fn a_store_during_a_direct_write_leaves_the_stale_page_the_kernel_warns_about() {
    let text = include_str!("fixtures/oracles/dio-write-beside-store.toml");
    let rep = explore(text);
    let kinds: Vec<_> = rep
        .outcomes
        .iter()
        .map(|o| (kind_name(&o.key.kind), o.fewest_preemptions))
        .collect();
    assert!(kinds.contains(&("kernel-warning", 0)), "{kinds:?}");
    assert!(kinds.contains(&("lost-write", 0)), "{kinds:?}");
    let warn = rep
        .outcomes
        .iter()
        .find(|o| kind_name(&o.key.kind) == "kernel-warning")
        .unwrap();
    assert!(
        warn.first.site.contains("dio_warn_stale_pagecache")
            || warn.first.message.contains("dio_warn_stale_pagecache")
    );
    // Written through the page cache instead (not O_DIRECT), the same
    // program reports nothing.
    let buffered = explore(&text.replace(", direct = true", ""));
    assert!(buffered.outcomes.is_empty(), "{:?}", buffered.outcomes);
}

/// Before v6.9 the model runs `direct = true` as a buffered write: the
/// same program on v5.5 reports nothing.
#[test]
fn before_v6_9_a_direct_write_runs_buffered() {
    let text = include_str!("fixtures/oracles/dio-write-beside-store.toml")
        .replace("version = \"v6.9\"", "version = \"v5.5\"");
    assert!(explore(&text).outcomes.is_empty());
}

/// A direct write into a hole of a block-mapped file gets -ENOTBLK before
/// it wrote anything and falls back to the page cache; v6.9's
/// `iomap_dio_complete` skips the post-write invalidation then (`dio->size`
/// is 0), so a store that dirtied the page meanwhile draws no
/// `dio_warn_stale_pagecache`. (The model ran the invalidation anyway
/// until 2026-12-05: a false warning at 1 preemption.)
#[test]
fn a_direct_write_that_falls_back_before_writing_does_not_warn() {
    let text = include_str!("fixtures/legit/dio-write-into-block-mapped-hole.toml");
    let rep = explore(text);
    assert!(rep.outcomes.is_empty(), "{:?}", rep.outcomes);
    assert!(rep.stats.executions > 100);
}
