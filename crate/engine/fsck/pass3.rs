//! Pass 3 (e2fsck pass3.c): the root exists and is a directory, every
//! directory reaches it through the parents pass 2 found (the directory
//! holding its first name), and each `..` names that parent.
//!
//! `-n` does not look for lost+found (`e2fsck_get_lost_and_found` runs
//! only when e2fsck may write), so neither does this pass.

use super::{Checker, Finding};
use crate::device::BlockDevice;
use crate::engine::inode::EXT4_ROOT_INO;
use std::collections::BTreeSet;

impl<D: BlockDevice> Checker<'_, D> {
    pub(super) fn pass3(&mut self) {
        if !self.used(EXT4_ROOT_INO) {
            self.push(Finding::NoRoot);
            return;
        }
        if let Some(root) = self.dirs.get_mut(&EXT4_ROOT_INO) {
            root.parent = EXT4_ROOT_INO;
        }
        let mut done: BTreeSet<u32> = BTreeSet::new();
        done.insert(EXT4_ROOT_INO);
        let dirs: Vec<u32> = self.dirs.keys().copied().collect();
        for dir in dirs {
            if self.is_dir(dir) {
                self.check_directory(dir, &mut done);
            }
        }
    }

    /// `check_directory`: walk up the parents until a directory already
    /// known to be connected; report an unconnected or looped one; then
    /// compare `..` with the parent.
    fn check_directory(&mut self, dir: u32, done: &mut BTreeSet<u32>) {
        let mut ino = dir;
        let mut loop_pass = false;
        let mut parent_count = 0u32;
        let mut loop_detect: BTreeSet<u32> = BTreeSet::new();
        loop {
            if !done.insert(ino) {
                break;
            }
            let parent = self.dirs.get(&ino).map_or(0, |d| d.parent);
            if parent == 0 || (loop_pass && loop_detect.contains(&parent)) {
                self.push(if parent == 0 {
                    Finding::UnconnectedDir {
                        ino,
                        parent: self.dirs.get(&ino).map_or(0, |d| d.dotdot),
                    }
                } else {
                    Finding::LoopedDir { ino }
                });
                break;
            }
            ino = parent;
            if loop_pass {
                loop_detect.insert(ino);
            } else {
                parent_count += 1;
                if parent_count > 2048 {
                    loop_pass = true;
                    loop_detect.clear();
                    ino = dir;
                }
            }
        }
        let info = self.dirs.get(&dir).copied().unwrap_or_default();
        if info.dotdot != info.parent {
            self.push(Finding::WrongDotDot {
                ino: dir,
                recorded: info.dotdot,
                expected: info.parent,
            });
        }
    }
}
