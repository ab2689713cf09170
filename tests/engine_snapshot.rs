#![cfg(not(target_arch = "wasm32"))]
//! The simulator's reset loop: snapshot the memory device under a mounted
//! filesystem, run an execution, restore, reload; each restore costs only
//! the chunks that execution dirtied.
mod engine_common;
use engine_common::*;

#[test]
fn snapshot_restore_reload() {
    let mut fs = engine_mkfs(32, "inline_data", Some(4096));
    let f = fs.create("/f", 0o644).unwrap();
    fs.write(f, 0, b"before").unwrap();
    fs.sync().unwrap();
    let snap = fs.device().snapshot();
    for round in 0..3u8 {
        fs.write(f, 0, &vec![round; 100_000]).unwrap();
        let g = fs.create(&format!("/g{round}"), 0o644).unwrap();
        fs.write(g, 0, &[1u8; 20_000]).unwrap();
        fs.sync().unwrap();
        assert!(fs.ext4_fsck().unwrap().is_clean());
        let dirty = fs.device().dirty_chunks();
        fs.device().restore(&snap).unwrap();
        assert_eq!(fs.device().stats().last_restore_chunks as usize, dirty);
        assert!(
            dirty < 64,
            "an execution touching ~30 blocks dirtied {dirty} chunks"
        );
        fs.ext4_reload().unwrap();
        assert_eq!(fs.read_all(f).unwrap(), b"before");
        assert!(fs.lookup(&format!("/g{round}")).is_err());
        let r = fs.ext4_fsck().unwrap();
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }
    // Unsynced changes vanish on reload (a crash drops the cache).
    fs.write(f, 0, b"lost").unwrap();
    fs.create("/never", 0o644).unwrap();
    fs.ext4_reload().unwrap();
    assert!(fs.lookup("/never").is_err());
}
