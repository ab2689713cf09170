#![cfg(not(target_arch = "wasm32"))]
//! Every ext4 feature is read (and checked) or refused by name:
//! - `healthy_feature_combinations_are_clean`: healthy images (mkfs.ext4
//!   -d, populated) of a pairwise-covering product of the `-O` features
//!   the engine reads, at 1 KiB and 4 KiB blocks; every combination
//!   mke2fs accepts is called clean by the engine and by e2fsck -fn.
//!   The product is built greedily from seeded random combinations until
//!   every pair of (feature on/off, feature on/off) that mke2fs accepts
//!   together is covered; the test prints how many combinations and pairs.
//! - `random_feature_combinations_are_clean` (ignored; the `tables` group):
//!   1,000 more seeded random combinations mke2fs accepts, checked the same.
//! - `refused_features_are_named`: the INCOMPAT features the engine does
//!   not read are refused by name.
//! - `unwritable_features_refuse_writes`: features the engine reads but
//!   cannot write right refuse changes with `Unsupported { feature }`.
//! - `casefold_directory_written_by_the_engine`: casefold hashing.
#[path = "common/fsck.rs"]
mod fsck_common;
use ext4lab::device::MemDevice;
use ext4lab::engine::{Ext4Error, Ext4Fs};
use fsck_common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The `-O` features toggled (mke2fs 1.47's ext4 defaults are on:
/// has_journal, ext_attr, resize_inode, dir_index, filetype, extent,
/// 64bit, flex_bg, sparse_super, large_file, huge_file, dir_nlink,
/// extra_isize, metadata_csum).
const FEATURES: &[&str] = &[
    "has_journal",
    "resize_inode",
    "dir_index",
    "filetype",
    "extent",
    "64bit",
    "flex_bg",
    "sparse_super",
    "huge_file",
    "dir_nlink",
    "extra_isize",
    "metadata_csum",
    "metadata_csum_seed",
    "uninit_bg",
    "inline_data",
    "bigalloc",
    "ea_inode",
    "quota",
    "project",
    "verity",
    "encrypt",
    "large_dir",
    "casefold",
    "orphan_file",
    "mmp",
    "sparse_super2",
    "stable_inodes",
    "fast_commit",
];
const DEFAULT_ON: &[&str] = &[
    "has_journal",
    "resize_inode",
    "dir_index",
    "filetype",
    "extent",
    "64bit",
    "flex_bg",
    "sparse_super",
    "huge_file",
    "dir_nlink",
    "extra_isize",
    "metadata_csum",
];

/// One combination: a bit per feature, and the block size (1 or 4 KiB).
type Combo = (u32, bool);

fn args(c: Combo) -> Vec<String> {
    let mut o = Vec::new();
    for (i, f) in FEATURES.iter().enumerate() {
        let on = c.0 & (1 << i) != 0;
        if on != DEFAULT_ON.contains(f) {
            o.push(if on { f.to_string() } else { format!("^{f}") });
        }
    }
    let mut a = vec![
        "-b".to_string(),
        if c.1 { "4096" } else { "1024" }.to_string(),
    ];
    if !o.is_empty() {
        a.push("-O".into());
        a.push(o.join(","));
    }
    a
}

/// The pairs a combination covers: (i, on_i, j, on_j) for i < j, with the
/// block size as feature index FEATURES.len().
fn pairs(c: Combo) -> Vec<(usize, bool, usize, bool)> {
    let n = FEATURES.len() + 1;
    let bit = |i: usize| {
        if i == FEATURES.len() {
            c.1
        } else {
            c.0 & (1 << i) != 0
        }
    };
    let mut v = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            v.push((i, bit(i), j, bit(j)));
        }
    }
    v
}

fn mkfs_ok(dir: &Path, c: Combo, src: Option<&Path>) -> Option<std::path::PathBuf> {
    let img = dir.join("f.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(16 << 20).unwrap();
    let mut cmd = Command::new(e2fsprogs::tool("mkfs.ext4"));
    cmd.args(["-q", "-F"]).args(args(c));
    if let Some(s) = src {
        cmd.arg("-d").arg(s);
    }
    let ok = cmd.arg(&img).output().unwrap().status.success();
    ok.then_some(img)
}

fn host_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("d/e")).unwrap();
    std::fs::write(dir.join("small"), b"x").unwrap();
    std::fs::write(dir.join("d/mid"), vec![3u8; 70_000]).unwrap();
    std::fs::write(dir.join("d/e/big"), vec![5u8; 300_000]).unwrap();
    std::os::unix::fs::symlink("d/mid", dir.join("sl")).unwrap();
    for i in 0..60 {
        std::fs::write(dir.join(format!("d/f{i:02}")), format!("{i}")).unwrap();
    }
}

/// A seeded xorshift64 generator.
fn xorshift(mut rng: u64) -> impl FnMut() -> u64 {
    move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    }
}

/// A random combination of the features and the block size.
fn random_combo(r: u64) -> Combo {
    ((r as u32) & ((1 << FEATURES.len()) - 1), r >> 40 & 1 == 1)
}

/// Both checkers' verdicts on `img`.
fn verdicts(
    img: &Path,
) -> (
    bool,
    String,
    Result<ext4lab::engine::fsck::FsckReport, Ext4Error>,
) {
    let (e2_clean, text) = e2fsck_fn(img);
    let bytes = std::fs::read(img).unwrap();
    let engine = ext4lab::engine::fsck::fsck(MemDevice::from_bytes(&bytes));
    (e2_clean, text, engine)
}

/// Checks the healthy image `img` of combination `c` (made with `-d` from `host_tree`):
/// the engine's verdict is e2fsck -fn's, the engine reads the copied tree
/// back, and a verdict of "not clean" is only mke2fs -d's stale quota
/// files. Returns the failure, if any.
fn check_healthy(dir: &Path, c: Combo, img: &Path) -> Option<String> {
    let (e2_clean, text, engine) = verdicts(img);
    let engine_clean = engine.as_ref().is_ok_and(|r| r.is_clean());
    if engine_clean != e2_clean {
        return Some(format!("{:?}: engine {engine:?}\ne2fsck: {text}", args(c)));
    }
    // The engine reads the files back as they were copied.
    let bytes = std::fs::read(img).unwrap();
    let mut fs = Ext4Fs::open(MemDevice::from_bytes(&bytes), Default::default()).unwrap();
    let ino = fs.lookup("/d/e/big").unwrap();
    if fs.read_all(ino).unwrap() != vec![5u8; 300_000] {
        return Some(format!("{:?}: /d/e/big reads back wrong", args(c)));
    }
    let many = fs.lookup("/d").unwrap();
    if fs.dir_entries(many).unwrap().len() != 2 + 60 + 2 {
        return Some(format!("{:?}: /d has the wrong entries", args(c)));
    }
    if e2_clean {
        return None;
    }
    // mke2fs 1.47.0 -d leaves the quota files as they were before the
    // tree was copied: both checkers say so (and nothing else), and the
    // same combination without -d is healthy and clean for both.
    let quota = engine.as_ref().is_ok_and(|r| {
        r.findings
            .iter()
            .filter(|f| f.is_error())
            .all(|f| f.problem() == "PR_6_UPDATE_QUOTAS")
    });
    if !(text.contains("[QUOTA WARNING]") && quota) {
        return Some(format!("{:?}: not clean: {engine:?}\n{text}", args(c)));
    }
    let img = mkfs_ok(dir, c, None).expect("mkfs without -d");
    let (e2_clean, text, engine) = verdicts(&img);
    if !e2_clean || !engine.as_ref().is_ok_and(|r| r.findings.is_empty()) {
        return Some(format!("{:?} without -d: {engine:?}\n{text}", args(c)));
    }
    None
}

#[test]
fn healthy_feature_combinations_are_clean() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    host_tree(&src);
    let mut next = xorshift(0x5eed_f00d);
    let default: u32 = FEATURES
        .iter()
        .enumerate()
        .filter(|(_, f)| DEFAULT_ON.contains(f))
        .map(|(i, _)| 1 << i)
        .sum();
    // Each feature toggled alone, then random combinations.
    let mut candidates: Vec<Combo> = Vec::new();
    for bs4 in [false, true] {
        candidates.push((default, bs4));
        for i in 0..FEATURES.len() {
            candidates.push((default ^ (1 << i), bs4));
        }
    }
    for _ in 0..400 {
        candidates.push(random_combo(next()));
    }
    let mut covered = BTreeSet::new();
    let mut kept = Vec::new();
    let mut failures = Vec::new();
    for c in candidates {
        let new: Vec<_> = pairs(c)
            .into_iter()
            .filter(|p| !covered.contains(p))
            .collect();
        if new.is_empty() {
            continue;
        }
        let Some(img) = mkfs_ok(d.path(), c, Some(&src)) else {
            continue;
        };
        covered.extend(new);
        kept.push(c);
        if let Some(f) = check_healthy(d.path(), c, &img) {
            failures.push(f);
        }
    }
    let all = (FEATURES.len() + 1) * FEATURES.len() / 2 * 4;
    println!(
        "{} combinations mke2fs accepts cover {} of the {all} feature pairs",
        kept.len(),
        covered.len()
    );
    assert!(kept.len() >= 20, "only {} combinations", kept.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Beyond the pairwise product: `FSCK_COMBOS` (default 1000) further seeded
/// random combinations that mke2fs accepts, each checked like the product's
/// (the `tables` group runs it). 2^28 combinations times two block sizes
/// cannot all be made; this samples them uniformly.
#[test]
#[ignore = "tables group: about 30 s"]
fn random_feature_combinations_are_clean() {
    let want: usize = std::env::var("FSCK_COMBOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    host_tree(&src);
    let mut next = xorshift(0x0dd_c0ffee);
    let (mut tried, mut accepted) = (0usize, 0usize);
    let mut failures = Vec::new();
    let mut features_seen = BTreeSet::new();
    while accepted < want {
        tried += 1;
        assert!(tried < want * 200, "mke2fs refused {tried} combinations");
        let c = random_combo(next());
        let Some(img) = mkfs_ok(d.path(), c, Some(&src)) else {
            continue;
        };
        accepted += 1;
        for (i, f) in FEATURES.iter().enumerate() {
            if c.0 & (1 << i) != 0 {
                features_seen.insert(*f);
            }
        }
        if let Some(f) = check_healthy(d.path(), c, &img) {
            failures.push(f);
        }
    }
    println!(
        "{accepted} random combinations mke2fs accepts (of {tried} tried), {} features on in some",
        features_seen.len()
    );
    assert_eq!(
        features_seen.len(),
        FEATURES.len(),
        "a feature was never on"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn refused_features_are_named() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("m.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(32 << 20).unwrap();
    mkfs(&img, &["-O".into(), "meta_bg,^resize_inode".into()]);
    let bytes = std::fs::read(&img).unwrap();
    match ext4lab::engine::fsck::fsck(MemDevice::from_bytes(&bytes)) {
        Err(Ext4Error::UnsupportedFeatures { names, .. }) => assert_eq!(names, "meta_bg"),
        other => panic!("meta_bg: {other:?}"),
    }
}

#[test]
fn unwritable_features_refuse_writes() {
    let d = tempfile::tempdir().unwrap();
    for (opts, feature) in [
        ("bigalloc", "bigalloc"),
        ("quota", "quota"),
        ("project", "project"),
        ("ea_inode", "ea_inode"),
        ("mmp", "mmp"),
    ] {
        let img = d.path().join("w.img");
        let f = std::fs::File::create(&img).unwrap();
        f.set_len(32 << 20).unwrap();
        mkfs(&img, &["-O".into(), opts.into()]);
        let bytes = std::fs::read(&img).unwrap();
        let mut fs = Ext4Fs::open(MemDevice::from_bytes(&bytes), Default::default()).unwrap();
        assert_eq!(
            fs.create("/new", 0o644).err(),
            Some(Ext4Error::Unsupported { feature }),
            "{opts}"
        );
    }
    // Strict casefold: names must be refused as the encoding says.
    let img = d.path().join("c.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(32 << 20).unwrap();
    mkfs(
        &img,
        &[
            "-O".into(),
            "casefold".into(),
            "-E".into(),
            "encoding_flags=strict".into(),
        ],
    );
    let bytes = std::fs::read(&img).unwrap();
    let mut fs = Ext4Fs::open(MemDevice::from_bytes(&bytes), Default::default()).unwrap();
    assert_eq!(
        fs.create("/new", 0o644).err(),
        Some(Ext4Error::Unsupported {
            feature: "casefold"
        })
    );
}

/// A casefolded directory (flag set with debugfs) filled by the engine
/// until it is indexed: e2fsck agrees with the hashes, and lookups ignore
/// case as the kernel's do.
#[test]
fn casefold_directory_written_by_the_engine() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("cf.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(32 << 20).unwrap();
    mkfs(
        &img,
        &["-b".into(), "1024".into(), "-O".into(), "casefold".into()],
    );
    debugfs_w(&img, "mkdir cf");
    debugfs_w(&img, "sif /cf flags 0x40080000");
    let bytes = std::fs::read(&img).unwrap();
    let mut fs = Ext4Fs::open(MemDevice::from_bytes(&bytes), Default::default()).unwrap();
    for i in 0..150 {
        fs.create(&format!("/cf/Stra\u{df}e_{i:03}_\u{c5}ngstr\u{f6}m"), 0o644)
            .unwrap();
    }
    let ino = fs.lookup("/cf/STRASSE_007_\u{e5}NGSTR\u{d6}M").unwrap();
    assert_eq!(
        ino,
        fs.lookup("/cf/Stra\u{df}e_007_\u{c5}ngstr\u{f6}m").unwrap()
    );
    assert!(matches!(
        fs.create("/cf/strasse_001_\u{c5}NGSTR\u{f6}m", 0o644),
        Err(Ext4Error::Exists(_))
    ));
    fs.sync().unwrap();
    let out = d.path().join("cf2.img");
    std::fs::write(&out, fs.into_device().to_bytes()).unwrap();
    let flags = String::from_utf8_lossy(&e2fsprogs::debugfs(&out, "stat /cf")).into_owned();
    assert!(flags.contains("Flags: 0x40081000"), "indexed: {flags}");
    let (ok, text) = e2fsck_fn(&out);
    assert!(ok, "{text}");
    let r = engine_fsck(&out).unwrap();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}
