#![cfg(not(target_arch = "wasm32"))]
//! A kernel bug the scenario fuzzer found on its own (program 2932, shrunk):
//! on v4.4 with `dioread_nolock`, `chattr +j` while a write(2) has just
//! allocated an unwritten extent and dirtied its page. v4.4's
//! `ext4_change_inode_journal_flag` flips the flag without writing the
//! page back; fsync then goes through the journalled writepage path,
//! where `ext4_writepage` redirties a page with an unwritten (or delayed)
//! buffer instead of writing it: bytes an fsync made durable never reach
//! the disk. 4c54659269ec (v4.7-rc1, "ext4: handle unwritten or delalloc
//! buffers before enabling data journaling") writes the file back before
//! the flip, under ea3d7209ca01's `i_mmap_sem`. The model shows the loss
//! without the commit and none with it (applied to v4.4 with the commit
//! it builds on, and at v4.7).

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::{explore_text, outcome_kinds};

const TEXT: &str = r#"
format = 2

[meta]
id = "journal-flag-unwritten"
name = "journal-flag-unwritten"
title = "chattr +j beside an append that allocated an unwritten extent"
story = "T0 turns data journalling on for f; T1 appends to f (dioread_nolock: an unwritten extent); T2 fsyncs f."

[kernel]
version = "v4.4"

[image]
blocks_count = 8192
journal = true

[[image.files]]
name = "f"
size = 24576
runs = [{ offset = 8192, len = 16384, fill = "O" }]

[mount]
data = "writeback"
delalloc = false
dioread_nolock = true

[[variants]]
name = "v4.4"

[[variants]]
name = "v4.4-with-4c54659269ec"
apply = ["ea3d7209ca01", "4c54659269ec"]

[[variants]]
name = "v4.7"
kernel = "v4.7"

[[tasks]]
name = "T0"
steps = [{ op = "setflags", file = "f", flags = "+j" }]

[[tasks]]
name = "T1"
steps = [{ op = "write", file = "f", offset = 26113, len = 3400, fill = "n" }]

[[tasks]]
name = "T2"
steps = [{ op = "fsync", file = "f" }]
"#;

/// Outcome kinds under DFS without preemptions (the loss needs none).
fn kinds(variant: &str) -> Vec<String> {
    let rep = explore_text(TEXT, variant, 0, Some(100_000));
    assert!(rep.stats.exhausted, "{variant}: {:?}", rep.stats);
    outcome_kinds(&rep)
}

#[test]
fn v4_4_loses_an_fsynced_append_across_chattr_plus_j() {
    assert!(kinds("v4.4").contains(&"lost-write".to_string()));
}

#[test]
fn writing_back_before_the_flip_keeps_it() {
    assert_eq!(kinds("v4.4-with-4c54659269ec"), Vec::<String>::new());
    assert_eq!(kinds("v4.7"), Vec::<String>::new());
}
