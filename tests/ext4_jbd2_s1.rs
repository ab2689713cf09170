#![cfg(not(target_arch = "wasm32"))]
//! Scenario S1 (inline-convert-replay) on the journalled engine alone, with
//! the commit points fixed: `f` holds 40 "A"s inline; an append converts it
//! (in transaction T1, which the commit thread commits), then "B"s
//! overwrite offset 0 and fsync commits T2. A crash after the fsync and
//! before checkpoint replays the log.
//!
//! * `jbd2-convert` (`ext4_convert_inline_data_nolock`): the new data block
//!   is journalled as metadata in T1, so replay writes T1's copy over the
//!   fsynced "B"s: a lost write, and e2fsck's replay agrees byte for byte.
//! * `pagecache-convert` (the engine's `ext4_convert_inline_data`, data
//!   through the page cache as ordered data): no crash state loses them.

#[path = "common/ext4_jbd2.rs"]
mod ext4_jbd2_util;

use ext4_jbd2_util::*;
use ext4lab::engine::journal::crash::CrashOptions;
use ext4lab::engine::{DataMode, Ext4Fs, MountOptions};

fn s1(jbd2_convert: bool) -> (usize, usize, Run) {
    let mut dev = fresh(1024, "inline_data");
    {
        let (mut fs, _) = Ext4Fs::ext4_mount(dev, &MountOptions::default()).unwrap();
        let i = fs
            .ext4_journalled(None, 16, |fs| fs.create("/f", 0o644))
            .unwrap();
        fs.ext4_file_write(i, 0, &[b'A'; 40]).unwrap();
        fs.sync().unwrap();
        dev = fs.ext4_put_super().unwrap();
    }
    let dev = ext4lab::engine::journal::crash::CrashDevice::new(dev.inner).unwrap();
    let opts = MountOptions {
        data: Some(DataMode::Ordered),
        ..Default::default()
    };
    let (mut fs, _) = Ext4Fs::ext4_mount(dev, &opts).unwrap();
    let i = fs.lookup("/f").unwrap();
    assert!(fs
        .ext4_iget(i)
        .unwrap()
        .has_flag(ext4lab::engine::inode::EXT4_INLINE_DATA_FL));
    // T1: append past the inline capacity (conversion).
    fs.ext4_journalled(Some(i), 32, |fs| {
        if jbd2_convert {
            fs.ext4_convert_inline_data_nolock(i)?;
        }
        fs.write(i, 40, &[b'a'; 200])
    })
    .unwrap();
    fs.jbd2_journal_commit_running()
        .unwrap()
        .expect("T1 committed");
    // T2: overwrite with "B"s and fsync.
    fs.ext4_file_write(i, 0, &[b'B'; 40]).unwrap();
    fs.ext4_sync_file(i).unwrap();
    let n = fs.device().writes().len();
    let mut want = vec![b'B'; 40];
    want.extend_from_slice(&[b'a'; 200]);
    let run = Run {
        dev: fs.into_device(),
        durable: vec![(n, "/f".into(), want)],
        commits: 2,
        revokes: 0,
    };
    let opts = CrashOptions {
        subset_k: 4,
        torn: false,
        max_states: 1000,
    };
    let states = run.dev.crash_states(&opts);
    let mut after = 0;
    let mut lost = 0;
    let tmp = tempfile::tempdir().unwrap();
    for s in &states {
        if !includes_prefix(s, n) {
            continue;
        }
        after += 1;
        let raw = run.dev.materialize(s);
        let (ours, _) = engine_recover(raw.clone());
        if let Some(why) = engine_check(&ours, &run.durable, s) {
            assert!(why.starts_with("lost write"), "{why}");
            lost += 1;
            // e2fsck's replay of the same image loses the same bytes.
            let b = tmp.path().join("theirs.img");
            std::fs::write(&b, &raw).unwrap();
            let (code, text) = e2fsck(&b, &["-fy"]);
            assert!(code <= 1, "{text}");
            let a = tmp.path().join("ours.img");
            std::fs::write(&a, &ours).unwrap();
            let ta = rdump_tree(&a, &tmp.path().join("o"));
            let tb = rdump_tree(&b, &tmp.path().join("t"));
            assert_eq!(ta, tb);
            let f = ta["f"].clone().unwrap();
            assert_eq!(&f[..40], &[b'A'; 40], "replay brought the A's back");
        }
    }
    (after, lost, run)
}

#[test]
fn jbd2_convert_loses_the_fsynced_write() {
    let (after, lost, _) = s1(true);
    eprintln!("jbd2-convert: {after} crash states after fsync, {lost} lose the write");
    assert!(after > 0);
    assert_eq!(
        lost, after,
        "every crash before checkpoint replays the old copy"
    );
}

#[test]
fn pagecache_convert_keeps_it() {
    let (after, lost, _) = s1(false);
    eprintln!("pagecache-convert: {after} crash states after fsync, {lost} lose the write");
    assert!(after > 0);
    assert_eq!(lost, 0);
}
