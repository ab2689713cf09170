//! e2fsprogs (mkfs.ext4, e2fsck, debugfs), the outside oracle of the native
//! tests. One copy: every helper in tests/common/ that runs them includes
//! this file with `#[path]`, and tests call these, never `Command` on a
//! tool path of their own.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tool by name: Debian installs mkfs.ext4 and e2fsck in /usr/sbin or
/// /sbin, which an ordinary user's PATH may lack; else PATH decides.
pub fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// stdout then stderr, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `mkfs.ext4 -q -F ARGS IMG [SIZE]`; panics with mke2fs's message if it fails.
/// `env` is extra environment (e.g. `E2FSPROGS_FAKE_TIME` for byte-stable
/// images).
pub fn mkfs_ext4(img: &Path, args: &[&str], size: Option<&str>, env: &[(&str, &str)]) {
    let mut c = Command::new(tool("mkfs.ext4"));
    c.args(["-q", "-F"]).args(args).arg(img);
    if let Some(s) = size {
        c.arg(s);
    }
    c.envs(env.iter().copied());
    let out = c.output().expect("run mkfs.ext4");
    assert!(
        out.status.success(),
        "mkfs.ext4 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `e2fsck ARGS IMG`: (exit code, output); -1 if it was killed.
pub fn e2fsck(img: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(tool("e2fsck"))
        .args(args)
        .arg(img)
        .envs(env.iter().copied())
        .output()
        .expect("run e2fsck");
    (out.status.code().unwrap_or(-1), text(&out))
}

/// `e2fsck -fn IMG`: (clean, output).
pub fn e2fsck_fn(img: &Path) -> (bool, String) {
    let (code, text) = e2fsck(img, &["-fn"], &[]);
    (code == 0, text)
}

/// `debugfs -R REQ IMG` (read-only): stdout as bytes. Panics if debugfs
/// exits with an error (it could not open the image).
pub fn debugfs(img: &Path, req: &str) -> Vec<u8> {
    let out = Command::new(tool("debugfs"))
        .args(["-R", req])
        .arg(img)
        .output()
        .expect("run debugfs");
    assert!(out.status.success(), "debugfs -R {req}: {}", text(&out));
    out.stdout
}

/// `debugfs -w -R CMD IMG`; panics if debugfs fails or prints anything on
/// stderr past its version banner.
pub fn debugfs_w(img: &Path, cmd: &str) {
    let out = Command::new(tool("debugfs"))
        .args(["-w", "-R", cmd])
        .arg(img)
        .output()
        .expect("run debugfs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.lines().skip(1).any(|l| !l.trim().is_empty()),
        "debugfs -w {cmd}: {err}"
    );
}

/// `debugfs FLAGS -f CMDFILE IMG` with the commands in `cmds`: (exit
/// status ok, stdout+stderr).
pub fn debugfs_f(img: &Path, flags: &[&str], cmds: &str, env: &[(&str, &str)]) -> (bool, String) {
    let cmdfile = img.with_extension("debugfs-cmds");
    std::fs::write(&cmdfile, cmds).unwrap();
    let out = Command::new(tool("debugfs"))
        .args(flags)
        .arg("-f")
        .arg(&cmdfile)
        .arg(img)
        .envs(env.iter().copied())
        .output()
        .expect("run debugfs");
    (out.status.success(), text(&out))
}
