#![cfg(not(target_arch = "wasm32"))]
//! A mount option a kernel version does not have is not in effect there:
//! ext4 got delayed allocation in 2.6.27-rc1, so on v2.6.25 the format's
//! default `delalloc = true` runs exactly as `delalloc = false` (before,
//! it ran the delalloc paths on 2008 writeback and reported a lost write
//! and a wrong i_size that no 2.6.25 kernel can produce).
//!
//! The resolved configuration (what the page shows) says the same.
//!
//! `dioread_nolock` left unset is the kernel's default (on from v5.6,
//! 244adf6426ee); `dioread_nolock = false` is `nodioread_nolock` on every
//! version (before, false could not turn the v5.6 default off).

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::{explore_text, outcome_kinds};

fn text(version: &str) -> String {
    format!(
        r#"
format = 2

[meta]
id = "write-fsync-crash"
name = "write-fsync-crash"
title = "a truncate, another file's write and fsync, a crash"
story = "T1 truncates f; T2 writes two pages to g and fsyncs them; T3 crashes the machine."

[kernel]
version = "{version}"

[image]
journal = true

[[image.files]]
name = "f"
size = 8192
runs = [{{ offset = 0, len = 8192, fill = "A" }}]

[[image.files]]
name = "g"
size = 0

[[variants]]
name = "default"

[[variants]]
name = "nodelalloc"
mount = {{ delalloc = false }}

[[tasks]]
name = "T1"
steps = [{{ op = "truncate", file = "f", size = 0 }}]

[[tasks]]
name = "T2"
steps = [
  {{ op = "write", file = "g", offset = 0, len = 8192, fill = "G" }},
  {{ op = "fsync", file = "g" }},
]

[[tasks]]
name = "T3"
steps = [{{ op = "crash" }}]
"#
    )
}

fn run(version: &str, variant: &str) -> (u64, Vec<String>) {
    let rep = explore_text(&text(version), variant, 0, Some(100_000));
    assert!(rep.stats.exhausted, "{version} {variant}: {:?}", rep.stats);
    let kinds = outcome_kinds(&rep);
    (rep.stats.executions, kinds)
}

#[test]
fn v2_6_25_has_no_delalloc() {
    let default = run("v2.6.25", "default");
    assert_eq!(default, run("v2.6.25", "nodelalloc"));
    // 2.6.25 really starts the handle before the page lock in write_begin
    // and after it in ext4_ordered_writepage: that inversion is the only
    // outcome; no lost write, no fsck damage.
    assert_eq!(default.1, vec!["lock-order-inversion".to_string()]);
}

/// The resolved mount options of `mount` (a `[mount]` line or nothing) on
/// `version`.
fn resolved(version: &str, mount: &str) -> ext4lab::scenario::Mount {
    let t = text(version).replacen(
        "[[variants]]",
        &format!("[mount]\n{mount}\n\n[[variants]]"),
        1,
    );
    let sc = ext4lab::scenario::parse_scenario(&t).unwrap();
    sc.resolve("default", &Default::default()).unwrap().mount
}

fn dioread_nolock(version: &str, mount: &str) -> Option<bool> {
    resolved(version, mount).dioread_nolock
}

#[test]
fn dioread_nolock_is_the_kernels_default_unless_the_scenario_says() {
    assert_eq!(dioread_nolock("v5.5", ""), Some(false));
    assert_eq!(dioread_nolock("v5.8", ""), Some(true));
    assert_eq!(
        dioread_nolock("v5.8", "dioread_nolock = false"),
        Some(false)
    );
    assert_eq!(dioread_nolock("v5.5", "dioread_nolock = true"), Some(true));
}

fn delalloc(version: &str, mount: &str) -> bool {
    resolved(version, mount).delalloc
}

#[test]
fn the_resolved_configuration_says_when_delalloc_is_off() {
    assert!(delalloc("v5.5", ""));
    assert!(!delalloc("v2.6.25", ""), "no delalloc before 2.6.27-rc1");
    assert!(
        !delalloc("v5.5", "data = \"journal\""),
        "data=journal clears it"
    );
    assert!(!delalloc("v5.5", "delalloc = false"));
}
