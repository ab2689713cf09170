#![cfg(not(target_arch = "wasm32"))]
//! Issue 14: an error the system call's man page lists for what the program
//! did is reported as a user-error with `expected` (`errno_expected` in
//! crate/kernel/runner.rs); any other error is not. Each case explores a
//! small program exhaustively and checks the flag on every user-error.

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::explore_text;
use ext4lab::kernel::runner::kind_name;

const HEAD: &str = r#"format = 2

[meta]
id = "expected-errors"
name = "expected-errors"
title = "t"
story = "t"

[kernel]
version = "v6.9"

[image]
journal = true

[[image.files]]
name = "f"
size = 8192
runs = [{ offset = 0, len = 8192, fill = "A" }]

[[variants]]
name = "default"

[[processes]]
name = "P"
mappings = [{ name = "m", file = "f", len = 8192 }]
"#;

/// The user-errors of every execution: (errno, expected).
fn user_errors(tasks: &str) -> Vec<(String, bool)> {
    let rep = explore_text(&format!("{HEAD}\n{tasks}"), "default", 2, None);
    assert!(rep.stats.exhausted);
    rep.outcomes
        .iter()
        .filter(|o| kind_name(&o.key.kind) == "user-error")
        .map(|o| (o.first.message.clone(), o.key.expected))
        .collect()
}

#[test]
fn a_store_past_a_truncate_is_an_expected_sigbus() {
    // T1 shrinks f to one page; T2 stores into page 1 through the mapping.
    let e = user_errors(
        r#"
[[tasks]]
name = "T1"
steps = [{ op = "truncate", file = "f", size = 4096 }]

[[tasks]]
name = "T2"
process = "P"
steps = [{ op = "store", mapping = "m", offset = 5000, len = 16, fill = "B" }]
"#,
    );
    assert_eq!(e, vec![("SIGBUS".to_string(), true)]);
}

#[test]
fn a_store_inside_eof_after_the_truncate_is_fine_and_a_load_past_it_expected() {
    // Page 0 stays inside EOF: no error there; page 1's load is past EOF
    // once the truncate ran first.
    let e = user_errors(
        r#"
[[tasks]]
name = "T1"
steps = [{ op = "truncate", file = "f", size = 4096 }]

[[tasks]]
name = "T2"
process = "P"
steps = [
  { op = "store", mapping = "m", offset = 100, len = 16, fill = "B" },
  { op = "load", mapping = "m", offset = 4096, len = 16 },
]
"#,
    );
    assert_eq!(e, vec![("SIGBUS".to_string(), true)]);
}

#[test]
fn an_unaligned_direct_read_is_an_expected_einval() {
    let e = user_errors(
        r#"
[[tasks]]
name = "T1"
steps = [{ op = "read", file = "f", offset = 100, len = 512, direct = true }]
"#,
    );
    assert_eq!(e, vec![("EINVAL".to_string(), true)]);
}

#[test]
fn an_unaligned_direct_write_is_an_expected_einval() {
    // v6.9 ext4_dio_write_iter -> iomap_dio_bio_iter: not a multiple of
    // the device's 512-byte logical block size.
    let e = user_errors(
        r#"
[[tasks]]
name = "T1"
steps = [{ op = "write", file = "f", offset = 100, len = 4096, fill = "B", direct = true }]
"#,
    );
    assert_eq!(e, vec![("EINVAL".to_string(), true)]);
}

#[test]
fn preallocating_in_a_block_mapped_file_is_an_expected_eopnotsupp() {
    // ext4_fallocate: "We only support preallocation for extent-based files".
    let text = HEAD.replace(
        "[[image.files]]\nname = \"f\"\n",
        "[[image.files]]\nname = \"f\"\nlayout = \"indirect\"\n",
    );
    assert_ne!(text, HEAD, "the image line moved");
    let rep = explore_text(
        &format!(
            "{text}\n[[tasks]]\nname = \"T1\"\nsteps = [{{ op = \"fallocate\", file = \"f\", offset = 8192, len = 4096 }}]\n"
        ),
        "default",
        2,
        None,
    );
    let e: Vec<_> = rep
        .outcomes
        .iter()
        .map(|o| {
            (
                kind_name(&o.key.kind),
                o.first.message.clone(),
                o.key.expected,
            )
        })
        .collect();
    assert_eq!(e, vec![("user-error", "EOPNOTSUPP".to_string(), true)]);
}

#[test]
fn a_migration_refused_with_eagain_is_not_expected() {
    // S3's first patch: EXT4_IOC_MIGRATE fails with EAGAIN when a racing
    // allocation cleared the flag. No man page lists that: a finding.
    let b = ext4lab::scenario::builtin("s3").unwrap();
    let rep = explore_text(b.text, "flag-retval", 1, None);
    let eagain: Vec<_> = rep
        .outcomes
        .iter()
        .filter(|o| o.first.message == "EAGAIN")
        .collect();
    assert!(!eagain.is_empty(), "the EAGAIN row is found");
    assert!(eagain.iter().all(|o| !o.key.expected));
}
