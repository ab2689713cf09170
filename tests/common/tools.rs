//! e2fsprogs (mkfs.ext4, e2fsck, debugfs) for the native tests: where
//! Debian installs them, else whatever PATH finds. One copy, included with
//! `#[path]` by each test helper that runs them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}
