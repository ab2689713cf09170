#![cfg(not(target_arch = "wasm32"))]
//! A seeded random sequence of operations, checked against an in-memory
//! model after every step and by e2fsck -fn (and debugfs) at the end.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::engine::Ext4Fs;
use std::collections::BTreeMap;

/// SplitMix64, the named PRNG of this test.
struct SplitMix64(u64);
impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Default)]
struct Model {
    /// path -> file id (files) ; dirs in `dirs`.
    files: BTreeMap<String, usize>,
    dirs: Vec<String>,
    contents: Vec<Vec<u8>>,
}

fn run(seed: u64, features: &str, bs: u32, steps: usize) {
    let d = tmpdir();
    let mut fs = engine_mkfs(16, features, Some(bs));
    let mut m = Model {
        dirs: vec!["".into()],
        ..Default::default()
    };
    let mut rng = SplitMix64(seed);
    let mut counter = 0;
    for step in 0..steps {
        let op = rng.below(112);
        let ctx = format!("seed {seed} step {step} op {op}");
        let pick_dir = |rng: &mut SplitMix64, m: &Model| {
            m.dirs[rng.below(m.dirs.len() as u64) as usize].clone()
        };
        let pick_file = |rng: &mut SplitMix64, m: &Model| {
            let keys: Vec<&String> = m.files.keys().collect();
            (!keys.is_empty()).then(|| keys[rng.below(keys.len() as u64) as usize].clone())
        };
        match op {
            0..=19 => {
                let dir = pick_dir(&mut rng, &m);
                counter += 1;
                let p = format!("{dir}/f{counter}");
                fs.create(&p, 0o644).expect(&ctx);
                m.contents.push(Vec::new());
                m.files.insert(p, m.contents.len() - 1);
            }
            20..=44 => {
                if let Some(p) = pick_file(&mut rng, &m) {
                    let id = m.files[&p];
                    let len = match rng.below(4) {
                        0 => rng.below(40),
                        1 => rng.below(300),
                        2 => rng.below(5000),
                        _ => rng.below(70_000),
                    } as usize;
                    let off = rng.below(m.contents[id].len() as u64 + 3000) as usize;
                    let byte = (rng.below(250) + 1) as u8;
                    let ino = fs.lookup(&p).expect(&ctx);
                    fs.write(ino, off as u64, &vec![byte; len]).expect(&ctx);
                    let c = &mut m.contents[id];
                    if len > 0 {
                        if c.len() < off + len {
                            c.resize(off + len, 0);
                        }
                        c[off..off + len].fill(byte);
                    }
                }
            }
            45..=54 => {
                if let Some(p) = pick_file(&mut rng, &m) {
                    let id = m.files[&p];
                    let size = rng.below(m.contents[id].len() as u64 * 2 + 100) as usize;
                    let ino = fs.lookup(&p).expect(&ctx);
                    fs.truncate(ino, size as u64).expect(&ctx);
                    m.contents[id].resize(size, 0);
                }
            }
            55..=64 => {
                if let Some(p) = pick_file(&mut rng, &m) {
                    fs.unlink(&p).expect(&ctx);
                    m.files.remove(&p);
                }
            }
            65..=72 => {
                let dir = pick_dir(&mut rng, &m);
                counter += 1;
                let p = format!("{dir}/d{counter}");
                fs.mkdir(&p, 0o755).expect(&ctx);
                m.dirs.push(p);
            }
            73..=77 => {
                // rmdir an empty directory (not the root).
                let empty: Vec<String> = m
                    .dirs
                    .iter()
                    .filter(|d| !d.is_empty())
                    .filter(|d| {
                        let pre = format!("{d}/");
                        !m.files.keys().any(|f| f.starts_with(&pre))
                            && !m.dirs.iter().any(|x| x.starts_with(&pre))
                    })
                    .cloned()
                    .collect();
                if !empty.is_empty() {
                    let p = empty[rng.below(empty.len() as u64) as usize].clone();
                    fs.rmdir(&p).expect(&ctx);
                    m.dirs.retain(|x| *x != p);
                }
            }
            78..=89 => {
                if let Some(p) = pick_file(&mut rng, &m) {
                    let dir = pick_dir(&mut rng, &m);
                    // Either a fresh name or over another file.
                    let target = match (rng.below(3), pick_file(&mut rng, &m)) {
                        (0, Some(t)) => t,
                        _ => {
                            counter += 1;
                            format!("{dir}/r{counter}")
                        }
                    };
                    fs.rename(&p, &target).expect(&ctx);
                    // POSIX: two links to the same file: rename does nothing.
                    if m.files.get(&target) != m.files.get(&p) {
                        let id = m.files.remove(&p).expect("model");
                        m.files.insert(target, id);
                    }
                }
            }
            100..=104 => {
                // Move a directory (never into itself).
                let cands: Vec<String> = m.dirs.iter().filter(|d| !d.is_empty()).cloned().collect();
                if !cands.is_empty() {
                    let src = cands[rng.below(cands.len() as u64) as usize].clone();
                    let dst_parent = pick_dir(&mut rng, &m);
                    if dst_parent != src && !dst_parent.starts_with(&format!("{src}/")) {
                        counter += 1;
                        let dst = format!("{dst_parent}/m{counter}");
                        fs.rename(&src, &dst).expect(&ctx);
                        let pre = format!("{src}/");
                        let re = |k: &String| {
                            if *k == src {
                                dst.clone()
                            } else if let Some(r) = k.strip_prefix(&pre) {
                                format!("{dst}/{r}")
                            } else {
                                k.clone()
                            }
                        };
                        m.dirs = m.dirs.iter().map(re).collect();
                        m.files = m.files.iter().map(|(k, v)| (re(k), *v)).collect();
                    }
                }
            }
            105..=107 => {
                if let Some(p) = pick_file(&mut rng, &m) {
                    let id = m.files[&p];
                    let len = m.contents[id].len() as u64;
                    let off = rng.below(len + 1);
                    let n = rng.below(len + 5000);
                    let ino = fs.lookup(&p).expect(&ctx);
                    fs.punch_hole(ino, off, n).expect(&ctx);
                    let c = &mut m.contents[id];
                    let end = (off + n).min(c.len() as u64) as usize;
                    if (off as usize) < end {
                        c[off as usize..end].fill(0);
                    }
                }
            }
            108..=109 => {
                if let Some(p) = pick_file(&mut rng, &m).filter(|_| !features.contains("^extent")) {
                    let id = m.files[&p];
                    let off = rng.below(m.contents[id].len() as u64 + 8000);
                    let n = rng.below(20_000) + 1;
                    let keep = rng.below(2) == 0;
                    let ino = fs.lookup(&p).expect(&ctx);
                    fs.fallocate(ino, off, n, keep).expect(&ctx);
                    let c = &mut m.contents[id];
                    if !keep && (c.len() as u64) < off + n {
                        c.resize((off + n) as usize, 0);
                    }
                }
            }
            _ => {
                if let Some(p) = pick_file(&mut rng, &m) {
                    let id = m.files[&p];
                    let dir = pick_dir(&mut rng, &m);
                    counter += 1;
                    let q = format!("{dir}/l{counter}");
                    fs.link(&p, &q).expect(&ctx);
                    m.files.insert(q, id);
                }
            }
        }
        if step % 25 == 0 {
            verify(&mut fs, &m, &ctx);
        }
    }
    verify(&mut fs, &m, "final");
    let img = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&img);
    let mut fs = Ext4Fs::open(load(&img), Default::default()).unwrap();
    verify(&mut fs, &m, "after reopen");
    for (p, id) in m.files.iter().take(10) {
        assert_eq!(debugfs_cat(&img, p), m.contents[*id], "debugfs cat {p}");
    }
}

fn verify<D: ext4lab::device::BlockDevice>(fs: &mut Ext4Fs<D>, m: &Model, ctx: &str) {
    for (p, id) in &m.files {
        let ino = fs
            .lookup(p)
            .unwrap_or_else(|e| panic!("{ctx}: lookup {p}: {e}"));
        let got = fs
            .read_all(ino)
            .unwrap_or_else(|e| panic!("{ctx}: read {p}: {e}"));
        assert!(
            got == m.contents[*id],
            "{ctx}: contents of {p} differ (len {} vs {})",
            got.len(),
            m.contents[*id].len()
        );
    }
    for dir in &m.dirs {
        let dino = fs.lookup(if dir.is_empty() { "/" } else { dir }).unwrap();
        let n = fs.dir_entries(dino).unwrap().len() - 2;
        let pre = format!("{dir}/");
        let direct = |k: &String| k.starts_with(&pre) && !k[pre.len()..].contains('/');
        let want = m.files.keys().filter(|k| direct(k)).count()
            + m.dirs.iter().filter(|k| direct(k)).count();
        let want = if dir.is_empty() { want + 1 } else { want }; // lost+found
        assert_eq!(n, want, "{ctx}: entries of {dir:?}");
    }
}

#[test]
fn random_ops_default_1k() {
    run(1, "", 1024, 400);
}

#[test]
fn random_ops_inline_4k() {
    run(2, "inline_data", 4096, 400);
}

#[test]
fn random_ops_block_mapped() {
    run(4, "^extent,^64bit", 1024, 300);
}

#[test]
fn random_ops_no_csum_2k() {
    run(3, "^metadata_csum,uninit_bg", 2048, 300);
}

/// Many seeds (slow; `cargo test --test engine_random -- --ignored`).
#[test]
#[ignore]
fn random_ops_many_seeds() {
    for seed in 10..40u64 {
        let (f, bs) = match seed % 4 {
            0 => ("", 1024),
            1 => ("inline_data", 4096),
            2 => ("^extent,^64bit,inline_data", 1024),
            _ => ("^metadata_csum,^64bit,uninit_bg", 2048),
        };
        run(seed, f, bs, 500);
    }
}
