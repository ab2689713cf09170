#![cfg(not(target_arch = "wasm32"))]
//! Random corruptions: 200 images, each with a few random byte flips in
//! the metadata area of an engine-made image; the engine's verdict
//! (clean, or not: findings that are errors, or unreadable) must be
//! `e2fsck -fn`'s. Every disagreement is listed with both outputs.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::device::MemDevice;
use ext4lab::engine::fsck::fsck;
use std::path::Path;

/// xorshift64, the named PRNG of this test.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn sample(dir: &Path, features: &str) -> std::path::PathBuf {
    let mut fs = engine_mkfs(16, features, Some(1024));
    for (i, len) in [10usize, 3000, 40_000].iter().enumerate() {
        let ino = fs.create(&format!("/f{i}"), 0o644).unwrap();
        fs.write(ino, 0, &vec![b'a' + i as u8; *len]).unwrap();
    }
    fs.mkdir("/d", 0o755).unwrap();
    fs.create("/d/x", 0o644).unwrap();
    fs.symlink("/f0", "/s").unwrap();
    for i in 0..40 {
        fs.create(&format!("/d/file_number_{i}"), 0o644).unwrap();
    }
    dump(fs, dir, "img")
}

/// The first `n` blocks hold every metadata block of these images.
fn run(features: &str, seed: u64, count: usize, n_blocks: u64) {
    let d = tmpdir();
    let p = sample(d.path(), features);
    let clean = std::fs::read(&p).unwrap();
    let mut rng = XorShift(seed);
    let mut disagree = Vec::new();
    let img_path = d.path().join("damaged");
    for k in 0..count {
        let mut img = clean.clone();
        for _ in 0..4 {
            let at = (rng.next() % (n_blocks * 1024)) as usize;
            img[at] ^= (rng.next() % 255 + 1) as u8;
        }
        let engine = fsck(MemDevice::from_bytes(&img));
        let engine_clean = engine.as_ref().is_ok_and(|r| r.is_clean());
        std::fs::write(&img_path, &img).unwrap();
        let (e2_clean, text) = e2fsck_fn(&img_path);
        if engine_clean != e2_clean {
            let what = match &engine {
                Ok(r) => format!("{:?}", r.findings),
                Err(e) => format!("unreadable: {e:?}"),
            };
            disagree.push(format!(
                "--- image {k}: engine clean={engine_clean}, e2fsck clean={e2_clean}\nengine: {what}\ne2fsck: {text}"
            ));
        }
    }
    assert!(
        disagree.is_empty(),
        "{} of {count} verdicts differ:\n{}",
        disagree.len(),
        disagree.join("\n")
    );
}

#[test]
fn random_flips_inline_data() {
    run("inline_data", 0x1234_5678_9abc_def0, 100, 700);
}

#[test]
fn random_flips_default() {
    run("", 0x0bad_cafe_f00d_1234, 100, 700);
}

/// Many more flips over more feature sets (slow: `cargo test --test
/// fsck_random -- --ignored`).
#[test]
#[ignore]
fn random_flips_many() {
    for (k, f) in [
        "",
        "inline_data",
        "^extent,^64bit",
        "^metadata_csum,uninit_bg",
        "^has_journal,^flex_bg",
    ]
    .iter()
    .enumerate()
    {
        run(f, 0x51ed_270b_4a4f_1e3d ^ ((k as u64) << 40), 400, 700);
    }
}
