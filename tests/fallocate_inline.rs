#![cfg(not(target_arch = "wasm32"))]
//! fallocate(2) on an inline-data file converts its data to a block first
//! (v4.13 fs/ext4/extents.c `ext4_fallocate`, `ext4_convert_inline_data`)
//! and then allocates: no EOPNOTSUPP, which the model used to answer, and
//! the bytes stay. From f87c7a4b084a (v5.19) the conversion runs under
//! `inode_lock`, so a write(2) that holds it cannot see the inode change
//! under it; the trace shows the lock taken around the conversion.

#[path = "common/explore_text.rs"]
mod explore_text;

use explore_text::{explore_text, outcome_kinds};

const TEXT: &str = r#"
format = 2

[meta]
id = "fallocate-inline"
name = "fallocate-inline"
title = "fallocate(KEEP_SIZE) on an inline-data file, then a read"
story = "T1 preallocates 8 KiB of an inline file; T2 reads its 16 bytes back."

[kernel]
version = "v4.13"

[image]
block_size = 4096
inode_size = 256
blocks_count = 4096
features = ["inline_data"]
journal = true

[[image.files]]
name = "f"
layout = "inline"
fill = "a"
len = 16

[[variants]]
name = "v4.13"

[[variants]]
name = "v5.19"
kernel = "v5.19"

[[tasks]]
name = "T1"
steps = [{ op = "fallocate", file = "f", offset = 0, len = 8192, keep_size = true }]

[[tasks]]
name = "T2"
steps = [{ op = "read", file = "f", offset = 0, len = 16 }]
"#;

#[test]
fn fallocate_converts_inline_data_and_reports_nothing() {
    for v in ["v4.13", "v5.19"] {
        let rep = explore_text(TEXT, v, 2, Some(100_000));
        assert!(rep.stats.exhausted, "{v}: {:?}", rep.stats);
        assert_eq!(outcome_kinds(&rep), Vec::<String>::new(), "{v}");
    }
}

/// The kernel-named timeline of one execution of `variant` (a seeded
/// random schedule: the check below reads T1's lines only).
fn one_timeline(variant: &str) -> Vec<String> {
    use std::rc::Rc;
    let sc = Rc::new(ext4lab::scenario::parse_scenario(TEXT).unwrap());
    let rc = sc.resolve(variant, &Default::default()).unwrap();
    let img = Rc::new(ext4lab::kernel::image::build_image(&sc).unwrap());
    let model = ext4lab::kernel::runner::scenario_model(sc.clone(), rc.clone(), img);
    let mut opts = ext4lab::kernel::runner::run_options(&sc, &rc);
    opts.trace = true;
    let mut sched = ext4lab::sim::sched::random::RandomScheduler::new(1);
    let exec = model.run(&mut sched, &opts);
    ext4lab::kernel::runner::timeline(exec.trace.as_ref().unwrap())
}

#[test]
fn from_v5_19_the_conversion_runs_under_inode_lock() {
    for (v, locked) in [("v4.13", false), ("v5.19", true)] {
        let tl = one_timeline(v);
        let at = |what: &str| {
            tl.iter()
                .position(|l| l.contains(" T1 ") && l.contains(what))
        };
        let (rwsem, xattr) = (at("i_rwsem"), at("xattr_sem"));
        assert!(
            rwsem.is_some() && xattr.is_some(),
            "{v}:\n{}",
            tl.join("\n")
        );
        // the conversion takes xattr_sem; inode_lock first only with the commit
        assert_eq!(rwsem < xattr, locked, "{v}:\n{}", tl.join("\n"));
    }
}
