//! Crash states checked per second by our jbd2 recovery on a small image,
//! and the same states through `e2fsck -fy`, in one run.
//!
//! `cargo bench --bench journal` (native only; needs e2fsprogs).

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/common/journal.rs"]
mod journal_util;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use ext4lab::engine::journal::crash::{CrashDevice, CrashOptions, VecDevice};
    use ext4lab::engine::journal::ondisk::CsumVersion;
    use ext4lab::engine::journal::{Journal, NoOrderedData};
    use journal_util::*;
    use std::time::Instant;

    let fx = fixture(1024, 8, "metadata_csum,64bit", CsumVersion::V3, true);
    let mut dev = CrashDevice::new(fx.dev.clone()).unwrap();
    let mut j = fx.j.clone();
    // Six transactions of 12 blocks, a revoke, then checkpoint of the first
    // three: a mix of log and home writes.
    for t in 0..6u32 {
        let mut h = j.jbd2_journal_start(12).unwrap();
        for i in 0..12usize {
            let b = fx.free[(t as usize * 7 + i) % 200];
            j.jbd2_journal_dirty_metadata(&mut h, b, &pattern(1024, t * 100 + i as u32))
                .unwrap();
        }
        if t == 4 {
            j.jbd2_journal_revoke(&mut h, fx.free[250]).unwrap();
        }
        j.jbd2_journal_stop(h).unwrap();
        j.jbd2_journal_commit_transaction(&mut dev, &mut NoOrderedData)
            .unwrap();
        if t == 3 {
            for _ in 0..3 {
                j.jbd2_log_do_checkpoint(&mut dev).unwrap();
            }
        }
    }
    let states = dev.crash_states(&CrashOptions {
        subset_k: 4,
        torn: true,
        max_states: 100_000,
    });
    println!(
        "image 8 MiB, 1 KiB blocks, CSUM_V3; {} writes in {} epochs; {} crash states",
        dev.writes().len(),
        dev.epochs(),
        states.len()
    );

    // Ours: materialise, load, recover (PASS_SCAN/REVOKE/REPLAY), per state.
    let rounds = 5;
    let t0 = Instant::now();
    let mut replayed = 0usize;
    for _ in 0..rounds {
        for st in &states {
            let mut d = VecDevice::new(dev.materialize(st));
            let mut rj =
                Journal::jbd2_journal_load(&mut d, 1024, fx.map.clone(), fx.fs_blocks).unwrap();
            replayed += rj.jbd2_journal_recover(&mut d).unwrap().replayed.len();
        }
    }
    let ours = t0.elapsed().as_secs_f64() / (rounds * states.len()) as f64;
    // Recovery alone, without materialising the 8 MiB image.
    let imgs: Vec<Vec<u8>> = states.iter().take(64).map(|s| dev.materialize(s)).collect();
    let t1 = Instant::now();
    for img in &imgs {
        let mut d = VecDevice::new(img.clone());
        let mut rj =
            Journal::jbd2_journal_load(&mut d, 1024, fx.map.clone(), fx.fs_blocks).unwrap();
        rj.jbd2_journal_recover(&mut d).unwrap();
    }
    let ours_recover_only = t1.elapsed().as_secs_f64() / imgs.len() as f64;

    // e2fsck -fy on a deterministic sample of the same states.
    let sample: Vec<_> = states.iter().step_by((states.len() / 40).max(1)).collect();
    let path = fx.dir.path().join("bench.img");
    let t2 = Instant::now();
    for st in &sample {
        std::fs::write(&path, dev.materialize(st)).unwrap();
        let (code, text) = e2fsck(&path, &["-fy"]);
        assert!(code <= 1, "{text}");
    }
    let theirs = t2.elapsed().as_secs_f64() / sample.len() as f64;

    println!("ours:   {:>10.1} states/s ({:.3} ms/state incl. materialising the image; {} blocks replayed)", 1.0 / ours, ours * 1e3, replayed / rounds);
    println!(
        "ours:   {:>10.1} states/s recovery alone (clone + load + recover)",
        1.0 / ours_recover_only
    );
    println!("e2fsck: {:>10.1} states/s ({:.3} ms/state, {} sampled states, -fy incl. writing the image file)", 1.0 / theirs, theirs * 1e3, sample.len());
    println!("ratio ours/e2fsck: {:.1}x", theirs / ours);
}

#[cfg(target_arch = "wasm32")]
fn main() {}
