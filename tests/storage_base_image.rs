#![cfg(not(target_arch = "wasm32"))]
//! Scenarios started from a stored image (`kernel::base_image`): S5 on an
//! image made by mkfs.ext4 reproduces its race, every run leaves an image
//! e2fsck passes, the base bytes are never written, and each way an image
//! can be unfit for a scenario is a typed error.

#[path = "common/engine.rs"]
mod engine_common;

use std::path::Path;
use std::rc::Rc;

use engine_common::{debugfs, debugfs_cat, debugfs_w, e2fsck_fn, mkfs_ext4, tmpdir};
use ext4lab::device::MemDevice;
use ext4lab::engine::ext4_recover_device;
use ext4lab::kernel::base_image::{build_image_on, BaseImageError};
use ext4lab::kernel::runner::{explore_config, kind_name, run_options, scenario_model};
use ext4lab::scenario::{builtin, parse_scenario, Scenario};
use ext4lab::sim::{explore, replay, NoObserver, Strategy};

fn scenario(id: &str) -> Rc<Scenario> {
    Rc::new(parse_scenario(builtin(id).expect("built-in").text).expect("parses"))
}

fn kind_of(sc: &Scenario, bytes: &[u8]) -> &'static str {
    match build_image_on(sc, bytes) {
        Ok(_) => "ok",
        Err(e) => e.kind(),
    }
}

/// The image after a run, as a mount would leave it after unmount:
/// the journal (if the run left one to replay) replayed.
fn settle(bytes: Vec<u8>) -> Vec<u8> {
    let (dev, _) = ext4_recover_device(MemDevice::from_bytes(&bytes)).expect("recovers");
    dev.to_bytes()
}

#[test]
fn s5_runs_on_a_mkfs_ext4_image_and_leaves_it_clean() {
    let dir = tmpdir();
    let p = mkfs_ext4(dir.path(), "base.img", 16, &["-b", "4096", "-L", "stored"]);
    let base = std::fs::read(&p).unwrap();
    let sc = scenario("s5");
    let rc = sc.resolve("v5.5", &Default::default()).expect("variant");
    let img = Rc::new(build_image_on(&sc, &base).expect("mkfs.ext4 image is a fit base"));
    assert!(img.files.contains_key("f"), "{:?}", img.files);
    let model = scenario_model(sc.clone(), rc.clone(), img.clone());

    // PCT with the scenario's seed and budget finds the stale read it
    // finds on the recipe's own image; no run hits an engine error.
    let strategy = Strategy::Pct {
        seed: sc.explore.seed,
        depth: 3,
    };
    let mut cfg = explore_config(&sc, &rc, Some(strategy));
    cfg.keep_schedules = true;
    let rep = explore(&model, &cfg, &mut NoObserver);
    assert!(rep.stats.executions > 10, "{:?}", rep.stats);
    let kinds: Vec<&str> = rep
        .outcomes
        .iter()
        .map(|r| kind_name(&r.key.kind))
        .collect();
    assert!(
        !kinds.contains(&"engine-error") && !kinds.contains(&"other"),
        "engine errors: {:#?}",
        rep.outcomes
    );
    assert!(kinds.contains(&"stale-data"), "{kinds:?}");

    // Replay a few runs; each leaves an image e2fsck -fn passes, holding the
    // recipe's file next to what the stored image had (the volume label).
    let opts = run_options(&sc, &rc);
    for token in rep.schedules.iter().take(3).map(|s| s.to_token()) {
        let exec = replay(&model, &token, &opts).expect("replays");
        assert!(
            !exec.outcomes.iter().any(|o| kind_name(&o.kind) == "fsck"),
            "{:?}",
            exec.outcomes
        );
        let after = settle(img.dev.borrow().to_bytes());
        let out = dir.path().join("after.img");
        std::fs::write(&out, &after).unwrap();
        let (clean, text) = e2fsck_fn(&out);
        assert!(clean, "e2fsck -fn after run {token}:\n{text}");
        let f = debugfs_cat(&out, "/f");
        assert_eq!(f.len(), 16384);
        assert!(f[..4096].iter().all(|&b| b == b'A'));
        let stats = String::from_utf8_lossy(&debugfs(&out, "stats")).into_owned();
        assert!(
            stats.contains("Filesystem volume name:   stored"),
            "{stats}"
        );
    }
    // The stored image itself was never written.
    assert_eq!(std::fs::read(&p).unwrap(), base);
}

#[test]
fn unfit_images_get_typed_errors() {
    let dir = tmpdir();
    let d = dir.path();
    let s5 = scenario("s5");
    let s1 = scenario("s1");
    let img = |name: &str, args: &[&str]| std::fs::read(mkfs_ext4(d, name, 16, args)).unwrap();

    assert_eq!(
        kind_of(&s5, &img("k1.img", &["-b", "1024"])),
        "base-block-size"
    );
    let e = build_image_on(&s5, &img("k1b.img", &["-b", "1024"]))
        .err()
        .unwrap();
    assert!(e.to_string().contains("4096-byte blocks"), "{e}");

    // S1 needs inline_data, which mkfs.ext4 leaves off by default.
    let plain = img("plain.img", &["-b", "4096"]);
    match build_image_on(&s1, &plain) {
        Err(BaseImageError::MissingFeatures { missing }) => assert_eq!(missing, ["inline_data"]),
        r => panic!("{:?}", r.err()),
    }
    let inline = img("inline.img", &["-b", "4096", "-O", "inline_data"]);
    assert_eq!(kind_of(&s1, &inline), "ok");

    assert_eq!(
        kind_of(&s5, &img("nj.img", &["-b", "4096", "-O", "^has_journal"])),
        "base-journal"
    );
    assert_eq!(kind_of(&s5, b"not an image at all"), "base-not-ext4");

    // The recipe's file already exists.
    let src = d.join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"already here").unwrap();
    let with_f = img("f.img", &["-b", "4096", "-d", src.to_str().unwrap()]);
    assert_eq!(kind_of(&s5, &with_f), "base-file-exists");

    // No room for the recipe's 64 KiB deleted file and 16 KiB file.
    let full = mkfs_ext4(d, "full.img", 16, &["-b", "4096", "-m", "0"]);
    fill(&full, d);
    assert_eq!(
        kind_of(&s5, &std::fs::read(&full).unwrap()),
        "base-no-space"
    );

    // An inconsistent image is refused before any run.
    let bad = mkfs_ext4(d, "bad.img", 16, &["-b", "4096"]);
    let root_blk = root_dir_block(&bad);
    debugfs_w(&bad, &format!("freeb {root_blk}"));
    assert!(!e2fsck_fn(&bad).0);
    let e = build_image_on(&s5, &std::fs::read(&bad).unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), "base-not-clean", "{e}");
}

/// Fill `img` with one file leaving a few blocks free.
fn fill(img: &Path, d: &Path) {
    let stats = String::from_utf8_lossy(&debugfs(img, "stats")).into_owned();
    let free: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("Free blocks:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("free blocks in stats");
    let filler = d.join("filler");
    std::fs::write(&filler, vec![0x55u8; ((free - 12) * 4096) as usize]).unwrap();
    debugfs_w(img, &format!("write {} filler", filler.display()));
}

fn root_dir_block(img: &Path) -> u64 {
    let out = String::from_utf8_lossy(&debugfs(img, "blocks /")).into_owned();
    out.split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .expect("root block")
}
