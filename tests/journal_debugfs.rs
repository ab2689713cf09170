#![cfg(not(target_arch = "wasm32"))]
//! Journals written by another tool (debugfs's `jo`/`jw`/`jc`) replayed by
//! our recovery and by `e2fsck -fy`: the results must be the same image.

#[path = "common/journal.rs"]
mod journal_util;

use ext4lab::engine::journal::crash::VecDevice;
use ext4lab::engine::journal::{LogEnd, RecoveryInfo};
use journal_util::*;
use std::path::Path;

struct Case {
    name: &'static str,
    bs: u32,
    features: &'static str,
    open: &'static str,
}

/// Six free blocks (debugfs `ffb`).
fn free_blocks(img: &Path, goal: u64) -> Vec<u64> {
    let out = debugfs_req(img, &format!("ffb 6 {goal}"));
    let v: Vec<u64> = out
        .split(':')
        .nth(1)
        .expect("ffb output")
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(v.len(), 6, "ffb: {out}");
    v
}

fn fill(bs: u32, byte: u8, magic: bool) -> Vec<u8> {
    let mut b = vec![byte; bs as usize];
    if magic {
        b[..4].copy_from_slice(&0xC03B_3998u32.to_be_bytes());
    }
    b
}

/// Returns (our recovered image, e2fsck's image, RecoveryInfo, journal map).
fn run_case(
    dir: &Path,
    case: &Case,
    script: &dyn Fn(&[u64], &Path) -> String,
) -> (Vec<u8>, Vec<u8>, RecoveryInfo, Vec<u64>) {
    let img = dir.join(format!("{}.img", case.name));
    mkfs(&img, 16, case.bs, case.features);
    let goal = if case.bs == 1024 { 3000 } else { 1500 };
    let free = free_blocks(&img, goal);
    let cmds = script(&free, dir);
    let out = debugfs_cmds(&img, &cmds);
    assert!(!out.contains("while writing journal"), "debugfs: {out}");
    let map = journal_map(&img);
    let mut raw = std::fs::read(&img).unwrap();
    // debugfs sets needs_recovery itself; make sure, like the brief says.
    set_recover(&mut raw, true);
    std::fs::write(&img, &raw).unwrap();

    let mut dev = VecDevice::new(raw.clone());
    let mut j = load_journal(&mut dev, &map);
    assert!(
        j.needs_recovery(),
        "{}: debugfs left an empty journal",
        case.name
    );
    let info = j.jbd2_journal_recover(&mut dev).expect("recover");
    set_recover(&mut dev.data, false);

    let theirs_path = dir.join(format!("{}-e2fsck.img", case.name));
    std::fs::write(&theirs_path, &raw).unwrap();
    let (code, text) = e2fsck(&theirs_path, &["-fy"]);
    assert!(
        code == 0 || code == 1,
        "{}: e2fsck -fy exit {code}: {text}",
        case.name
    );
    assert!(
        text.contains("recovering journal"),
        "{}: e2fsck did not replay: {text}",
        case.name
    );
    let theirs = std::fs::read(&theirs_path).unwrap();
    (dev.data, theirs, info, map)
}

fn assert_same_as_e2fsck(case: &Case, ours: &[u8], theirs: &[u8], map: &[u64]) {
    let d = diff_blocks(ours, theirs, case.bs, map, true);
    assert!(
        d.is_empty(),
        "{}: blocks differ from e2fsck's replay: {d:?}",
        case.name
    );
    // The journal superblocks agree on the reset: s_start 0, same s_sequence.
    let off = map[0] as usize * case.bs as usize;
    let js = |img: &[u8]| img[off + 0x18..off + 0x20].to_vec();
    assert_eq!(
        js(ours),
        js(theirs),
        "{}: journal s_sequence/s_start",
        case.name
    );
}

fn standard_script(open: &str, bs: u32) -> impl Fn(&[u64], &Path) -> String + '_ {
    move |f: &[u64], dir: &Path| {
        let d4: Vec<u8> = [
            fill(bs, b'A', false),
            fill(bs, b'B', true),
            fill(bs, b'C', false),
            fill(bs, b'D', false),
        ]
        .concat();
        std::fs::write(dir.join("d4"), d4).unwrap();
        std::fs::write(dir.join("d1"), fill(bs, b'Z', false)).unwrap();
        let (d4, d1) = (dir.join("d4"), dir.join("d1"));
        format!(
            "{open}\njw -b {},{},{},{} {}\njw -r {}\njw -b {} {}\njw -b {} {}\njw -c -b {} {}\njc\n",
            f[0],
            f[1],
            f[2],
            f[3],
            d4.display(),
            f[2],
            f[1],
            d1.display(),
            f[4],
            d1.display(),
            f[5],
            d1.display()
        )
    }
}

#[test]
fn debugfs_journals_replay_like_e2fsck() {
    let cases = [
        Case {
            name: "none-32",
            bs: 1024,
            features: "^metadata_csum,^64bit",
            open: "jo",
        },
        Case {
            name: "v3-64",
            bs: 1024,
            features: "metadata_csum,64bit",
            open: "jo -c",
        },
        Case {
            name: "v3-4k",
            bs: 4096,
            features: "metadata_csum,64bit",
            open: "jo -c",
        },
        Case {
            name: "v3-32-4k",
            bs: 4096,
            features: "metadata_csum,^64bit",
            open: "jo -c",
        },
        Case {
            name: "none-64-4k",
            bs: 4096,
            features: "^metadata_csum,64bit",
            open: "jo",
        },
    ];
    let dir = tmpdir();
    for case in &cases {
        let img = dir.path().join(format!("{}.img", case.name));
        mkfs(&img, 16, case.bs, case.features);
        let goal = if case.bs == 1024 { 3000 } else { 1500 };
        let f = free_blocks(&img, goal);
        let pristine = std::fs::read(&img).unwrap();
        let (ours, theirs, info, map) =
            run_case(dir.path(), case, &standard_script(case.open, case.bs));
        let bs = case.bs as usize;
        let blk = |img: &[u8], b: u64| img[b as usize * bs..(b as usize + 1) * bs].to_vec();
        // T1 wrote A,B(magic),C,D; T2 revoked f2; T3 rewrote f1; T4 wrote
        // f4; T5 has no commit block.
        let n = &case.name;
        assert!(blk(&ours, f[0]) == fill(case.bs, b'A', false), "{n}: f0");
        assert!(
            blk(&ours, f[1]) == fill(case.bs, b'Z', false),
            "{n}: f1 not rewritten by T3"
        );
        assert!(
            blk(&ours, f[2]) == blk(&pristine, f[2]),
            "{n}: revoked block replayed"
        );
        assert!(blk(&ours, f[3]) == fill(case.bs, b'D', false), "{n}: f3");
        assert!(blk(&ours, f[4]) == fill(case.bs, b'Z', false), "{n}: f4");
        assert!(
            blk(&ours, f[5]) == blk(&pristine, f[5]),
            "{n}: uncommitted transaction replayed"
        );
        assert_eq!(info.start_transaction, 1, "{n}");
        assert_eq!(info.end_transaction, 5, "{n}: {info:?}");
        assert_eq!(info.transactions_replayed, 4);
        assert_eq!(info.nr_revokes, 1);
        assert_eq!(info.nr_revoke_hits, 1);
        assert_eq!(info.replayed, vec![f[0], f[1], f[3], f[1], f[4]], "{n}");
        assert!(info.error.is_none(), "{n}: {info:?}");
        // T5's descriptor has the right sequence but no commit follows.
        assert!(
            matches!(info.end, LogEnd::NoMagic { .. }),
            "{n}: {:?}",
            info.end
        );
        assert_same_as_e2fsck(case, &ours, &theirs, &map);
    }
}

/// debugfs 1.47's `jo -c` on a filesystem without metadata_csum turns on
/// checksum v1 (COMPAT_CHECKSUM); its commit of a revoke-only transaction
/// covers the revoke block, which recovery's crc32_be does not: both we and
/// e2fsck call transaction 2 corrupt and replay only transaction 1.
#[test]
fn debugfs_v1_checksum_failed_commit_like_e2fsck() {
    let cases = [
        Case {
            name: "v1-64",
            bs: 1024,
            features: "^metadata_csum,64bit",
            open: "jo -c -v 2",
        },
        Case {
            name: "v1-32-4k",
            bs: 4096,
            features: "^metadata_csum,^64bit",
            open: "jo -c",
        },
    ];
    let dir = tmpdir();
    for case in &cases {
        let n = case.name;
        let bs = case.bs as usize;
        let img = dir.path().join(format!("{n}.img"));
        mkfs(&img, 16, case.bs, case.features);
        let f = free_blocks(&img, if bs == 1024 { 3000 } else { 1500 });
        let pristine = std::fs::read(&img).unwrap();
        let (ours, theirs, info, map) =
            run_case(dir.path(), case, &standard_script(case.open, case.bs));
        let blk = |img: &[u8], b: u64| img[b as usize * bs..(b as usize + 1) * bs].to_vec();
        assert_eq!(info.end_transaction, 2, "{n}: {info:?}");
        assert_eq!(info.failed_commit, Some(2), "{n}");
        assert!(
            matches!(info.end, LogEnd::CommitChecksum { tid: 2, .. }),
            "{n}: {:?}",
            info.end
        );
        assert!(
            blk(&ours, f[1]) == fill(case.bs, b'B', true),
            "{n}: escaped block not restored"
        );
        assert!(
            blk(&ours, f[2]) == fill(case.bs, b'C', false),
            "{n}: T1's copy of f2 must be replayed"
        );
        assert!(
            blk(&ours, f[4]) == blk(&pristine, f[4]),
            "{n}: T4 is past the failed commit"
        );
        // e2fsck's recovery records the failure as s_errno = -EINVAL in the
        // journal superblock (its later pass moves it to the fs's
        // EXT2_ERROR_FS, the ext4 side's job).
        let off = map[0] as usize * bs;
        assert_eq!(
            &ours[off + 0x20..off + 0x24],
            &(-22i32).to_be_bytes(),
            "{n}"
        );
        assert_same_as_e2fsck(case, &ours, &theirs, &map);
    }
}

/// The escaped block: debugfs logs a block starting with the jbd2 magic
/// with its first word zeroed and JBD2_FLAG_ESCAPE; replay must restore it.
#[test]
fn debugfs_escaped_block_restored() {
    let dir = tmpdir();
    let case = Case {
        name: "escape",
        bs: 1024,
        features: "^metadata_csum,^64bit",
        open: "jo",
    };
    let script = |f: &[u64], dir: &Path| {
        std::fs::write(dir.join("m"), fill(1024, b'M', true)).unwrap();
        format!("jo\njw -b {} {}\njc\n", f[0], dir.join("m").display())
    };
    let img = dir.path().join("escape.img");
    mkfs(&img, 8, 1024, case.features);
    let f = free_blocks(&img, 3000);
    let (ours, theirs, info, map) = run_case(dir.path(), &case, &script);
    let o = f[0] as usize * 1024;
    assert_eq!(&ours[o..o + 4], &0xC03B_3998u32.to_be_bytes());
    assert_eq!(ours[o + 4], b'M');
    assert_eq!(info.replayed, vec![f[0]]);
    assert_same_as_e2fsck(&case, &ours, &theirs, &map);
}

/// `jw -b X -r Y` in one transaction makes debugfs 1.47.0 overwrite the
/// commit block with the next transaction's descriptor; whatever the log
/// holds, we must stop where e2fsck stops.
#[test]
fn debugfs_missing_commit_stops_like_e2fsck() {
    let dir = tmpdir();
    let case = Case {
        name: "nocommit",
        bs: 1024,
        features: "metadata_csum,64bit",
        open: "jo -c",
    };
    let script = |f: &[u64], dir: &Path| {
        std::fs::write(dir.join("a"), fill(1024, b'a', false)).unwrap();
        std::fs::write(dir.join("b"), fill(1024, b'b', false)).unwrap();
        let (a, b) = (dir.join("a"), dir.join("b"));
        format!(
            "jo -c\njw -b {} {}\njw -b {} -r {} {}\njw -b {} {}\njc\n",
            f[0],
            a.display(),
            f[1],
            f[0],
            b.display(),
            f[2],
            b.display()
        )
    };
    let img = dir.path().join("nocommit.img");
    mkfs(&img, 8, 1024, case.features);
    let f = free_blocks(&img, 3000);
    let pristine = std::fs::read(&img).unwrap();
    let (ours, theirs, info, map) = run_case(dir.path(), &case, &script);
    assert_same_as_e2fsck(&case, &ours, &theirs, &map);
    // Only transaction 1 is complete.
    assert_eq!(info.end_transaction, 2, "{info:?}");
    assert!(
        matches!(
            info.end,
            LogEnd::SequenceMismatch {
                expected: 2,
                found: 3,
                ..
            }
        ),
        "{:?}",
        info.end
    );
    let o = |b: u64| b as usize * 1024;
    assert_eq!(ours[o(f[0])], b'a');
    assert_eq!(
        ours[o(f[1])..o(f[1]) + 1024],
        pristine[o(f[1])..o(f[1]) + 1024]
    );
}
