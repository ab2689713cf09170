//! Run the `ext4lab` binary the test crate was built with: exit code,
//! stdout, stderr. One copy, included with `#[path]`.

use std::process::Command;

/// `ext4lab ARGS...`: (exit code, or -1 when killed; stdout; stderr).
pub fn ext4lab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ext4lab"))
        .args(args)
        .output()
        .expect("ext4lab runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
