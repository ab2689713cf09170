#![cfg(not(target_arch = "wasm32"))]
//! The `ext4lab` command line: exact interface and exit codes.
#[path = "common/engine.rs"]
mod engine_common;
use engine_common::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn ext4lab(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit without reading stdin.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str]) -> Vec<u8> {
    let o = ext4lab(args, b"");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn commands_round_trip_and_exit_codes() {
    let d = tmpdir();
    let img = d.path().join("c.img");
    let i = s(&img);
    ok(&[
        "mkfs",
        i,
        "--size",
        "24M",
        "-O",
        "inline_data",
        "--block-size",
        "1024",
    ]);
    assert_e2fsck_clean(&img);
    let data: Vec<u8> = (0..150_000u32).map(|x| (x % 251) as u8).collect();
    let o = ext4lab(&["write", i, "/big"], &data);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        ext4lab(&["write", i, "/small"], b"tiny").status.code(),
        Some(0)
    );
    ok(&["mkdir", i, "/dir"]);
    ok(&["ln", i, "/big", "/dir/hard"]);
    ok(&["ln", "-s", i, "/big", "/sym"]);
    ok(&["mv", i, "/small", "/dir/small"]);
    assert_eq!(ok(&["cat", i, "/dir/hard"]), data);
    assert_eq!(ok(&["cat", i, "/dir/small"]), b"tiny");
    // Overwrite with shorter contents: truncated first.
    assert_eq!(
        ext4lab(&["write", i, "/big"], b"short").status.code(),
        Some(0)
    );
    assert_eq!(ok(&["cat", i, "/big"]), b"short");
    let ls = String::from_utf8(ok(&["ls", i, "/"])).unwrap();
    let mut names: Vec<&str> = ls.lines().collect();
    names.sort();
    assert_eq!(names, ["big", "dir", "lost+found", "sym"]);
    let st: serde_json::Value =
        serde_json::from_slice(&ok(&["stat", i, "/dir/small", "--json"])).unwrap();
    assert_eq!(st["mapping"], "inline");
    assert_eq!(st["inline_size"], 4);
    assert_eq!(st["links"], 1);
    let st: serde_json::Value =
        serde_json::from_slice(&ok(&["stat", i, "/dir", "--json"])).unwrap();
    assert_eq!(st["mode_octal"], "40755");
    let text = String::from_utf8(ok(&["stat", i, "/big"])).unwrap();
    assert!(text.contains("Links: 2"), "{text}");
    // Errors: exit 1 with a typed message, never a panic.
    let o = ext4lab(&["rmdir", i, "/dir"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("NotEmpty"));
    let o = ext4lab(&["cat", i, "/missing"], b"");
    assert_eq!(o.status.code(), Some(1));
    ok(&["rm", i, "/dir/small"]);
    ok(&["rm", i, "/dir/hard"]);
    ok(&["rmdir", i, "/dir"]);
    assert!(!ok(&["fsck", i]).is_empty());
    assert_e2fsck_clean(&img);
    assert_eq!(debugfs_cat(&img, "/big"), b"short");
    // fsck: 1 on an inconsistency, listed in --json.
    let b = {
        let st: serde_json::Value =
            serde_json::from_slice(&ok(&["stat", i, "/lost+found", "--json"])).unwrap();
        st["extents"][0]["pblk"].as_u64().unwrap()
    };
    debugfs_w(&img, &format!("freeb {b}"));
    let o = ext4lab(&["fsck", i, "--json"], b"");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["clean"], false);
    assert_eq!(v["findings"][0]["kind"], "block_owned_but_free");
    assert_eq!(v["findings"][0]["problem"], "PR_5_BLOCK_USED");
    assert_eq!(v["findings"][0]["error"], true);
}

#[test]
fn unreadable_and_garbage_images() {
    let d = tmpdir();
    let junk = d.path().join("junk");
    std::fs::write(&junk, vec![0xA5u8; 256 * 1024]).unwrap();
    let j = s(&junk);
    let o = ext4lab(&["fsck", j], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("SuperblockMagic"));
    assert_eq!(
        ext4lab(&["fsck", "/nonexistent/image"], b"").status.code(),
        Some(2)
    );
    for args in [
        &["ls", j, "/"][..],
        &["cat", j, "/x"],
        &["write", j, "/x"],
        &["mkdir", j, "/x"],
        &["rm", j, "/x"],
        &["mv", j, "/x", "/y"],
        &["ln", "-s", j, "/x", "/y"],
        &["stat", j, "/", "--json"],
        &["mkfs", j, "--size", "12Q"],
        &["mkfs", j, "--size", "100K"],
    ] {
        let o = ext4lab(args, b"data");
        assert_eq!(
            o.status.code(),
            Some(1),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Usage errors are clap's exit 2.
    assert_eq!(ext4lab(&["frobnicate"], b"").status.code(), Some(2));
}

#[test]
fn needs_recovery_refuses_writes() {
    let d = tmpdir();
    let img = mkfs_ext4(d.path(), "r.img", 16, &[]);
    debugfs_w(&img, "feature needs_recovery");
    let i = s(&img);
    let o = ext4lab(&["write", i, "/f"], b"x");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("NeedsRecovery"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Reading still works.
    let ls = String::from_utf8(ok(&["ls", i, "/"])).unwrap();
    assert_eq!(ls.trim(), "lost+found");
}

#[test]
fn mkfs_options() {
    let d = tmpdir();
    for (i, args) in [
        &[
            "--block-size",
            "4096",
            "--inode-size",
            "128",
            "-O",
            "^has_journal",
        ][..],
        &["--block-size", "2048", "-O", "inline_data,^metadata_csum"],
        &["-O", "^extent,^64bit"],
    ]
    .iter()
    .enumerate()
    {
        let img = d.path().join(format!("m{i}.img"));
        let mut a = vec!["mkfs", s(&img), "--size", "20M"];
        a.extend_from_slice(args);
        ok(&a);
        assert_e2fsck_clean(&img);
        let o = ext4lab(&["write", s(&img), "/f"], b"some bytes");
        assert_eq!(o.status.code(), Some(0));
        assert_e2fsck_clean(&img);
    }
    let o = ext4lab(
        &[
            "mkfs",
            s(&d.path().join("bad.img")),
            "--size",
            "20M",
            "-O",
            "encrypt",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1), "unknown feature is an error");
    let o = ext4lab(
        &[
            "mkfs",
            s(&d.path().join("bad.img")),
            "--size",
            "20M",
            "--block-size",
            "3000",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
}
