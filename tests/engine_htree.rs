#![cfg(not(target_arch = "wasm32"))]
//! Hash-indexed directories: read the ones e2fsck -D builds, add to them
//! (leaf splits, node splits, a second level), and build our own; e2fsck -fn
//! checks every hash range.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use ext4lab::engine::inode::EXT4_INDEX_FL;
use ext4lab::engine::Ext4Fs;

fn names(fs: &mut Ext4Fs<ext4lab::device::MemDevice>, dir: &str) -> Vec<String> {
    let ino = fs.lookup(dir).unwrap();
    let mut v: Vec<String> = fs
        .dir_entries(ino)
        .unwrap()
        .into_iter()
        .map(|e| String::from_utf8_lossy(&e.entry.name).into_owned())
        .filter(|n| n != "." && n != "..")
        .collect();
    v.sort();
    v
}

#[test]
fn engine_builds_htree_with_two_levels() {
    let d = tmpdir();
    let mut fs = engine_mkfs(32, "", Some(1024));
    fs.mkdir("/big", 0o755).unwrap();
    let n: usize = 4500;
    for i in 0..n {
        fs.create(&format!("/big/entry-number-{i:05}-with-padding"), 0o644)
            .unwrap();
    }
    let ino = fs.lookup("/big").unwrap();
    assert!(fs.ext4_iget(ino).unwrap().has_flag(EXT4_INDEX_FL));
    assert!(fs.dx_check(ino).unwrap().is_empty());
    // Removing some and re-adding others keeps the index consistent.
    for i in (0..n).step_by(7) {
        fs.unlink(&format!("/big/entry-number-{i:05}-with-padding"))
            .unwrap();
    }
    for i in 0..300 {
        fs.create(&format!("/big/again-{i}"), 0o600).unwrap();
    }
    let got = names(&mut fs, "/big");
    assert_eq!(got.len(), n - n.div_ceil(7) + 300);
    let lookup = fs.lookup("/big/entry-number-04499-with-padding");
    assert!(lookup.is_ok());
    let img = dump(fs, d.path(), "img");
    assert_e2fsck_clean(&img);
    let levels = String::from_utf8_lossy(&debugfs(&img, "htree_dump /big")).into_owned();
    assert!(
        levels.contains("Indirect levels: 1"),
        "expected a two-level tree:\n{}",
        &levels[..levels.len().min(400)]
    );
    assert_eq!(debugfs_names(&img, "/big").len(), n - n.div_ceil(7) + 300);
}

#[test]
fn reads_and_extends_e2fsck_indexed_directories() {
    let d = tmpdir();
    let img = mkfs_ext4(d.path(), "img", 32, &["-b", "1024"]);
    let mut script = String::from("mkdir many\n");
    for i in 0..600 {
        script.push_str(&format!("mkdir many/sub{i:04}\n"));
    }
    let (ok, text) = e2fsprogs::debugfs_f(&img, &["-w"], &script, &[]);
    assert!(ok, "{text}");
    // e2fsck -D indexes the directory (exit 1: "file system was modified").
    let (code, text) = e2fsprogs::e2fsck(&img, &["-fyD"], &[]);
    assert!((0..=1).contains(&code), "{text}");
    let mut fs = Ext4Fs::open(load(&img), Default::default()).unwrap();
    let ino = fs.lookup("/many").unwrap();
    assert!(
        fs.ext4_iget(ino).unwrap().has_flag(EXT4_INDEX_FL),
        "e2fsck -D built an index"
    );
    assert_eq!(names(&mut fs, "/many").len(), 600);
    assert!(fs.dx_check(ino).unwrap().is_empty());
    for i in 0..400 {
        fs.create(&format!("/many/new-file-{i}"), 0o644).unwrap();
    }
    fs.rmdir("/many/sub0003").unwrap();
    assert!(
        fs.ext4_iget(ino).unwrap().has_flag(EXT4_INDEX_FL),
        "the index is kept"
    );
    let img2 = dump(fs, d.path(), "img2");
    assert_e2fsck_clean(&img2);
    assert_eq!(debugfs_names(&img2, "/many").len(), 999);
}
