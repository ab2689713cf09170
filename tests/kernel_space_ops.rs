#![cfg(not(target_arch = "wasm32"))]
//! truncate, punch hole and drop_caches as v4.13 has them
//! (crate/kernel/inode_ops.rs `ext4_setattr`, `ext4_punch_hole`,
//! `drop_pagecache_sb`), raced against stores through a mapping: every
//! schedule under the bound ends with a consistent image (engine fsck),
//! no deadlock, no engine error; and with the pre-v4.5 kernel (no
//! `i_mmap_sem`) the same code runs without the fault lock. There, and only
//! there, a store's fault between the punch's page-cache drop and its block
//! removal reads the old page back: after the run the punched range holds
//! its old bytes, which the lost-write oracle's sequential rule reports (the
//! race ea3d7209ca01 closed in v4.5; s6 is built on it).

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::explore_text;
use ext4lab::kernel::runner::kind_name;

const TEXT: &str = r#"
format = 2

[meta]
id = "space-ops"
name = "space-ops"
title = "truncate and punch hole against stores through a mapping"
story = "T1 punches page 1 and truncates f; T2 stores into pages 1 and 2 through a mapping; T3 drops the clean page cache."

[kernel]
version = "v4.13"

[image]
journal = true

[[image.files]]
name = "f"
size = 12288
runs = [{ offset = 0, len = 12288, fill = "A" }]

[mount]
delalloc = false

[explore]
preemption_bound = 1

[[variants]]
name = "v4.13"

[[variants]]
name = "v4.4"
kernel = "v4.4"

[[processes]]
name = "P"
mappings = [{ name = "m", file = "f", len = 12288 }]

[[tasks]]
name = "T1"
steps = [
  { op = "punch_hole", file = "f", offset = 4096, len = 4096 },
  { op = "truncate", file = "f", size = 6000 },
  { op = "fsync", file = "f" },
]

[[tasks]]
name = "T2"
process = "P"
steps = [
  { op = "store", mapping = "m", offset = 4100, len = 8, fill = "B" },
  { op = "store", mapping = "m", offset = 8200, len = 8, fill = "C" },
]

[[tasks]]
name = "T3"
steps = [{ op = "drop_caches" }]
"#;

fn kinds(variant: &str) -> (Vec<String>, bool, u64) {
    let rep = explore_text(TEXT, variant, 1, Some(200_000));
    let k = rep
        .outcomes
        .iter()
        .map(|r| format!("{} {}", kind_name(&r.key.kind), r.first.message))
        .collect();
    (k, rep.stats.exhausted, rep.stats.executions)
}

#[test]
fn truncate_and_punch_race_stores_consistently() {
    for v in ["v4.13", "v4.4"] {
        let (k, complete, n) = kinds(v);
        eprintln!("{v}: {n} executions (complete {complete}): {k:?}");
        assert!(complete, "{v}: {n} executions");
        for bad in ["deadlock", "fsck", "engine-error", "other", "step-limit"] {
            assert!(
                !k.iter().any(|o| o.starts_with(&format!("{bad} "))),
                "{v}: {k:?}"
            );
        }
        // v4.13: no lost write. v4.4: only the punched page's old bytes.
        let lost: Vec<&String> = k.iter().filter(|o| o.starts_with("lost-write ")).collect();
        if v == "v4.13" {
            assert!(lost.is_empty(), "{v}: {k:?}");
        } else {
            assert!(!lost.is_empty(), "{v}: the v4.4 race is found: {k:?}");
            assert!(
                lost.iter()
                    .all(|o| o.contains("holds 'A'") && o.contains("T1's punch of [4096, 8192)")),
                "{v}: {k:?}"
            );
        }
    }
}
