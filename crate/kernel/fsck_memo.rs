//! The end-of-run fsck oracle, memoized per built image.
//!
//! Every complete execution of an exploration ends with `ext4_fsck` on the
//! disk it left (crate/kernel/runner.rs `end_oracles`). The runs of one
//! scenario end on very few distinct disks: measured 2026-12-06 over 5,000
//! executions at bound 2, S4 `v4.13` left 10 distinct fsck inputs, S1
//! `jbd2-convert` 11, S6 `v4.4` 15, S5 `v5.5` 4 (of 3,664), S2 and S3 3-4.
//! The checker was a fifth of an S4 exploration's time.
//!
//! [`Ext4Fs::ext4_fsck`] is a function of the device's blocks and of the
//! filesystem state [`FsckInput`] lists. Every execution of an exploration
//! starts from the same built image, a device snapshot
//! ([`super::image::ScenarioImage::snap`]); the chunks a run did not write
//! since that snapshot hold the built image's bytes. So the report is a
//! function of (the chunks written since the snapshot with their bytes,
//! the [`FsckInput`]), and a run ending on a key seen before gets the
//! report computed then. Keys are compared whole (a checksum only picks
//! the candidates), so a hit is never a guess. Nothing else about the run
//! matters to the checker: the oracle builds its outcome from the report
//! and the run's own data log, as before.
//!
//! The memo keeps at most [`MAX_BYTES`] of keys; past that it stops
//! learning and still answers from what it has.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::device::mem::{MemDevice, SnapshotId, CHUNK_SIZE};
use crate::engine::fs::Ext4Fs;
use crate::engine::fsck::{FsckInput, FsckReport};

use super::state::SimDisk;

/// Bytes of keys the memo keeps (chunk copies and cached blocks).
pub const MAX_BYTES: usize = 32 << 20;

static ZERO: [u8; CHUNK_SIZE] = [0; CHUNK_SIZE];

/// One word into a candidate sum (FxHash's step: rotate, xor, multiply).
fn key_word(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

/// `h` extended by `bytes`. Only picks candidates (keys are compared
/// whole), so it need not be a checksum: it was crc32c, which in the
/// browser has no hardware instruction and took 6% of an exploration's time
/// there (S5 `v5.5`, every interleaving, Chromium's profiler); this is a
/// multiply per 8 bytes, in four independent lanes of 8 bytes each (one
/// chain of dependent multiplies was 7% of an S6 exploration natively,
/// waiting on each multiply's latency).
fn key_sum(h: u64, bytes: &[u8]) -> u64 {
    let word = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("8 bytes"));
    let mut lanes = [h, h ^ 1, h ^ 2, h ^ 3];
    let mut blocks = bytes.chunks_exact(32);
    for b in blocks.by_ref() {
        for (k, lane) in lanes.iter_mut().enumerate() {
            *lane = key_word(*lane, word(&b[8 * k..8 * k + 8]));
        }
    }
    let h = lanes.iter().fold(h, |h, &l| key_word(h, l));
    let mut words = blocks.remainder().chunks_exact(8);
    let h = words.by_ref().fold(h, |h, w| key_word(h, word(w)));
    words
        .remainder()
        .iter()
        .fold(h, |h, &b| key_word(h, u64::from(b)))
}

/// One checked disk: its key and what the checker said.
struct Entry {
    /// [`key_sum`] of the chunk numbers and bytes (picks candidates only).
    sum: u64,
    /// The chunks written since the snapshot, ascending, with their bytes
    /// (`None`: never written, zeros).
    chunks: Vec<(usize, Option<Box<[u8]>>)>,
    input: FsckInput,
    /// The report, or the checker's error as the oracle shows it.
    result: Result<FsckReport, String>,
}

/// The memo of one built image (see the module doc).
#[derive(Default)]
pub struct FsckMemo {
    entries: RefCell<Vec<Entry>>,
    bytes: Cell<usize>,
    off: Cell<bool>,
    hits: Cell<u64>,
    misses: Cell<u64>,
}

impl FsckMemo {
    /// `ext4_fsck` on `fs`, answered from the memo when a run before ended
    /// on the same key. `dev` and `base` are the image's device and its
    /// built snapshot; a filesystem on another device, or a snapshot no
    /// longer there, is checked without the memo.
    pub fn ext4_fsck(
        &self,
        fs: &mut Ext4Fs<SimDisk>,
        dev: &Rc<RefCell<MemDevice>>,
        base: &SnapshotId,
    ) -> Result<FsckReport, String> {
        let check = |fs: &mut Ext4Fs<SimDisk>| fs.ext4_fsck().map_err(|e| e.to_string());
        if self.off.get() || !Rc::ptr_eq(&fs.device().0, dev) {
            return check(fs);
        }
        let d = dev.borrow();
        let Some(changed) = d.changed_since(base) else {
            drop(d);
            return check(fs);
        };
        let bytes = |i: usize| d.chunk(i).unwrap_or(&ZERO);
        let sum = changed
            .iter()
            .fold(0, |h, &i| key_sum(key_word(h, i as u64), bytes(i)));
        let input = fs.fsck_input();
        let same = |e: &Entry| {
            e.sum == sum
                && e.chunks.len() == changed.len()
                && e.chunks
                    .iter()
                    .zip(&changed)
                    .all(|((i, c), &j)| *i == j && c.as_deref().unwrap_or(&ZERO) == bytes(j))
                && e.input == input
        };
        if let Some(e) = self.entries.borrow().iter().find(|e| same(e)) {
            self.hits.set(self.hits.get() + 1);
            return e.result.clone();
        }
        let chunks: Vec<(usize, Option<Box<[u8]>>)> = changed
            .iter()
            .map(|&i| (i, d.chunk(i).map(Box::from)))
            .collect();
        drop(d);
        self.misses.set(self.misses.get() + 1);
        let result = check(fs);
        let size = (chunks.len() + input.cached_blocks()) * CHUNK_SIZE;
        if self.bytes.get() + size <= MAX_BYTES {
            self.bytes.set(self.bytes.get() + size);
            self.entries.borrow_mut().push(Entry {
                sum,
                chunks,
                input,
                result: result.clone(),
            });
        }
        result
    }

    /// Turns the memo off (every run checked afresh) or back on: tests
    /// compare the two.
    pub fn set_enabled(&self, on: bool) {
        self.off.set(!on);
    }

    /// (runs answered from the memo, runs checked).
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.get(), self.misses.get())
    }
}
