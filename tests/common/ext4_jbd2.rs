//! Shared helpers for the journalled-engine crash tests: workloads run on a
//! crash-recording device, crash states checked by the engine's recovery
//! and fsck, and by e2fsck/debugfs.
#![allow(dead_code, unused_imports)]

use ext4lab::engine::inode::EXT4_JOURNAL_DATA_FL;
use ext4lab::engine::journal::crash::{CrashDevice, CrashOptions, CrashState, VecDevice};
use ext4lab::engine::{mkfs, DataMode, Ext4Fs, MkfsOptions, MountOptions, OpenOptions};
use std::collections::BTreeMap;
use std::path::Path;

#[path = "e2fsprogs.rs"]
mod e2fsprogs;

/// One step of a workload, run through the journalled engine.
#[derive(Debug, Clone)]
pub enum Op {
    Mkdir(&'static str),
    Create(&'static str),
    /// path, offset, length, pattern seed
    Write(&'static str, u64, usize, u8),
    Fsync(&'static str),
    Rename(&'static str, &'static str),
    Unlink(&'static str),
    Truncate(&'static str, u64),
    /// chattr +j
    JournalData(&'static str),
    /// The commit thread commits the running transaction.
    Commit,
    Sync,
}

/// Deterministic bytes for a write.
pub fn pattern(len: usize, seed: u8, off: u64) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let x = (off as usize + i) as u32;
            (x.wrapping_mul(2_654_435_761).rotate_left(7) as u8) ^ seed
        })
        .collect()
}

/// A workload's run: the recording device and what fsync promised.
pub struct Run {
    pub dev: CrashDevice<VecDevice>,
    /// (writes issued when fsync returned, path, contents)
    pub durable: Vec<(usize, String, Vec<u8>)>,
    pub commits: u64,
    pub revokes: u64,
}

/// Format with the engine's mkfs (clean, synced), then start recording.
pub fn fresh(bs: u32, features: &str) -> CrashDevice<VecDevice> {
    let mib = if bs == 1024 { 4 } else { 8 };
    let mut o = MkfsOptions {
        block_size: Some(bs),
        assume_zeroed: true,
        ..Default::default()
    };
    o.apply_features(features).unwrap();
    let mut fs = mkfs(VecDevice::new(vec![0u8; mib << 20]), &o).unwrap();
    fs.sync().unwrap();
    CrashDevice::new(fs.into_device()).unwrap()
}

fn ino(fs: &mut Ext4Fs<CrashDevice<VecDevice>>, p: &str) -> u32 {
    fs.lookup(p).unwrap_or_else(|e| panic!("lookup {p}: {e}"))
}

/// Run `ops` with data mode `mode` through handles (one per operation).
pub fn run(dev: CrashDevice<VecDevice>, mode: DataMode, ops: &[Op]) -> Run {
    let opts = MountOptions {
        data: Some(mode),
        ..Default::default()
    };
    let (mut fs, rep) = Ext4Fs::ext4_mount(dev, &opts).unwrap();
    assert!(rep.has_journal && fs.is_journalled());
    let mut durable = Vec::new();
    let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for op in ops {
        match *op {
            Op::Mkdir(p) => {
                fs.ext4_journalled(None, 32, |fs| fs.mkdir(p, 0o755))
                    .unwrap();
            }
            Op::Create(p) => {
                fs.ext4_journalled(None, 32, |fs| fs.create(p, 0o644))
                    .unwrap();
                model.insert(p.into(), Vec::new());
            }
            Op::Write(p, off, len, seed) => {
                let i = ino(&mut fs, p);
                let data = pattern(len, seed, off);
                fs.ext4_file_write(i, off, &data).unwrap();
                let m = model.get_mut(p).unwrap();
                let end = off as usize + len;
                if m.len() < end {
                    m.resize(end, 0);
                }
                m[off as usize..end].copy_from_slice(&data);
            }
            Op::Fsync(p) => {
                let i = ino(&mut fs, p);
                fs.ext4_sync_file(i).unwrap();
                let n = fs.device().writes().len();
                durable.push((n, p.to_string(), model[p].clone()));
            }
            Op::Rename(a, b) => {
                fs.ext4_journalled(None, 32, |fs| fs.rename(a, b)).unwrap();
                let v = model.remove(a).unwrap();
                model.insert(b.into(), v);
            }
            Op::Unlink(p) => {
                fs.ext4_journalled(None, 64, |fs| fs.unlink(p)).unwrap();
                model.remove(p);
            }
            Op::Truncate(p, size) => {
                let i = ino(&mut fs, p);
                fs.ext4_journalled(Some(i), 64, |fs| fs.truncate(i, size))
                    .unwrap();
                model.get_mut(p).unwrap().resize(size as usize, 0);
            }
            Op::JournalData(p) => {
                let i = ino(&mut fs, p);
                let flags = fs.ext4_iget(i).unwrap().i_flags;
                fs.ext4_journalled(Some(i), 8, |fs| {
                    fs.set_flags(i, flags | EXT4_JOURNAL_DATA_FL)
                })
                .unwrap();
            }
            Op::Commit => {
                fs.jbd2_journal_commit_running().unwrap();
            }
            Op::Sync => fs.sync().unwrap(),
        }
    }
    let st = fs.ext4_journal().unwrap().stats.clone();
    Run {
        dev: fs.into_device(),
        durable,
        commits: st.commits,
        revokes: st.revokes,
    }
}

/// Whether every write issued before write `n` reached the disk.
pub fn includes_prefix(s: &CrashState, n: usize) -> bool {
    s.applied.len() >= n
        && s.applied[..n].iter().enumerate().all(|(i, &w)| i == w)
        && s.torn.is_none_or(|t| t.write >= n)
}

/// Recover a crash image with the engine; return the recovered bytes.
pub fn engine_recover(img: Vec<u8>) -> (Vec<u8>, u32) {
    let (dev, rep) = ext4lab::engine::ext4_recover_device(VecDevice::new(img)).unwrap();
    let n = rep.recovery.map_or(0, |r| r.transactions_replayed);
    (dev.data, n)
}

/// The engine's own check of a recovered image plus the fsynced contents.
/// Returns a description of the first problem.
pub fn engine_check(
    img: &[u8],
    durable: &[(usize, String, Vec<u8>)],
    s: &CrashState,
) -> Option<String> {
    let o = OpenOptions {
        read_only: true,
        fsck: true,
        ..Default::default()
    };
    let mut fs = match Ext4Fs::open(VecDevice::new(img.to_vec()), o) {
        Ok(f) => f,
        Err(e) => return Some(format!("open: {e}")),
    };
    match fs.ext4_fsck() {
        Ok(r) if r.is_clean() => {}
        Ok(r) => return Some(format!("engine fsck: {:?}", r.findings)),
        Err(e) => return Some(format!("engine fsck: {e}")),
    }
    for (n, path, want) in durable {
        if !includes_prefix(s, *n) {
            continue;
        }
        let got = fs.lookup(path).and_then(|i| fs.read_all(i));
        match got {
            Ok(g) if &g == want => {}
            Ok(g) => {
                return Some(format!(
                    "lost write: {path} fsynced {} bytes, found {} bytes (first diff at {:?})",
                    want.len(),
                    g.len(),
                    g.iter().zip(want).position(|(a, b)| a != b)
                ))
            }
            Err(e) => return Some(format!("lost write: {path}: {e}")),
        }
    }
    None
}

/// `e2fsck` with args on an image file: exit code and output.
pub fn e2fsck(img: &Path, args: &[&str]) -> (i32, String) {
    e2fsprogs::e2fsck(img, args, &[])
}

/// `debugfs -R "rdump / DIR"` and read the tree back: path -> contents
/// (directories as `None`), lost+found left out.
pub fn rdump_tree(img: &Path, dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    e2fsprogs::debugfs(img, &format!("rdump / {}", dir.display()));
    let mut tree = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if rel == "lost+found" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                tree.insert(rel, None);
                stack.push(p);
            } else {
                tree.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    tree
}

/// Figures of one workload's crash-state check.
#[derive(Debug, Default)]
pub struct Figures {
    pub states: usize,
    pub engine_ok: usize,
    pub e2fsck_checked: usize,
    pub e2fsck_agree: usize,
    /// States in which recovery replayed at least one transaction.
    pub replayed: usize,
}

/// Check every crash state with the engine (recovery + fsck + fsynced
/// contents), and `sample` of them, evenly spaced, against e2fsprogs:
/// `e2fsck -fn` of the engine-recovered image exits 0, and `e2fsck -fy` of
/// the raw crash image gives the same tree (rdump) as the engine's replay.
pub fn check_states(run: &Run, opts: &CrashOptions, sample: usize, tmp: &Path) -> Figures {
    let states = run.dev.crash_states(opts);
    let mut f = Figures {
        states: states.len(),
        ..Figures::default()
    };
    let step = states.len().div_ceil(sample.max(1)).max(1);
    for (k, s) in states.iter().enumerate() {
        let raw = run.dev.materialize(s);
        let (ours, n) = engine_recover(raw.clone());
        if n > 0 {
            f.replayed += 1;
        }
        if let Some(why) = engine_check(&ours, &run.durable, s) {
            panic!("crash state {k} {s:?}: {why}");
        }
        f.engine_ok += 1;
        if k % step != 0 && k + 1 != states.len() {
            continue;
        }
        let a = tmp.join("ours.img");
        let b = tmp.join("theirs.img");
        std::fs::write(&a, &ours).unwrap();
        std::fs::write(&b, &raw).unwrap();
        let (code, text) = e2fsck(&a, &["-fn"]);
        assert_eq!(code, 0, "state {k}: e2fsck -fn after our recovery:\n{text}");
        let (code, text) = e2fsck(&b, &["-fy"]);
        assert!(code <= 1, "state {k}: e2fsck -fy exit {code}:\n{text}");
        let ta = rdump_tree(&a, &tmp.join("ours"));
        let tb = rdump_tree(&b, &tmp.join("theirs"));
        assert_eq!(
            ta.keys().collect::<Vec<_>>(),
            tb.keys().collect::<Vec<_>>(),
            "state {k}: trees differ"
        );
        assert!(ta == tb, "state {k}: contents differ");
        f.e2fsck_checked += 1;
        f.e2fsck_agree += 1;
    }
    f
}
