//! Crash states: a device wrapper that records every write and flush, and
//! deterministically enumerates the images a crash could leave.
//!
//! Model: a flush is a barrier. Writes between two flushes (an *epoch*)
//! may reach the disk in any order and any subset. A crash during epoch
//! `e` leaves every write of epochs before `e` durable and some subset of
//! epoch `e`'s writes. Enumerated for each epoch, in order:
//! * every prefix of the epoch's writes in issue order;
//! * every subset of its last `k` writes ([`CrashOptions::subset_k`],
//!   default 6, so at most 2^6 = 64 subsets per epoch), the earlier
//!   writes of the epoch applied;
//! * optionally torn writes: a prefix of the epoch, then one write of
//!   which only the first `s` 512-byte sectors arrived, for every sector
//!   boundary `s` inside the block.
//!
//! States that apply the same writes are listed once. Enumeration order is
//! fixed by the recorded I/O, so a state index is a reproducible name.

use crate::device::{check_access, BlockDevice, Result as DevResult};
use std::collections::BTreeSet;

/// A plain in-memory image implementing [`BlockDevice`] (no snapshots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VecDevice {
    pub data: Vec<u8>,
    /// Flushes seen (for tests).
    pub flushes: u64,
}

impl VecDevice {
    pub fn new(data: Vec<u8>) -> VecDevice {
        VecDevice { data, flushes: 0 }
    }
}

impl BlockDevice for VecDevice {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> DevResult<()> {
        check_access(offset, buf.len(), self.size())?;
        let o = offset as usize;
        buf.copy_from_slice(&self.data[o..o + buf.len()]);
        Ok(())
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> DevResult<()> {
        check_access(offset, buf.len(), self.size())?;
        let o = offset as usize;
        self.data[o..o + buf.len()].copy_from_slice(buf);
        Ok(())
    }
    fn flush(&mut self) -> DevResult<()> {
        self.flushes += 1;
        Ok(())
    }
}

/// One recorded write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedWrite {
    pub offset: u64,
    pub data: Vec<u8>,
    /// The flush epoch it belongs to.
    pub epoch: usize,
}

/// Enumeration bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrashOptions {
    /// All subsets of the last `subset_k` writes of each epoch.
    pub subset_k: u32,
    /// Also enumerate torn writes at 512-byte sector boundaries.
    pub torn: bool,
    /// Stop after this many states.
    pub max_states: usize,
}

impl Default for CrashOptions {
    fn default() -> Self {
        CrashOptions {
            subset_k: 6,
            torn: false,
            max_states: 100_000,
        }
    }
}

/// A write of which only the first `bytes` arrived.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct TornWrite {
    pub write: usize,
    pub bytes: usize,
}

/// One crash state: which recorded writes reached the disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrashState {
    /// The epoch the crash happened in.
    pub epoch: usize,
    /// Indices of fully applied writes, ascending (applied in issue order).
    pub applied: Vec<usize>,
    pub torn: Option<TornWrite>,
}

/// Records writes and flushes on the way to `inner`.
#[derive(Debug, Clone)]
pub struct CrashDevice<D: BlockDevice> {
    pub inner: D,
    base: Vec<u8>,
    writes: Vec<RecordedWrite>,
    epoch: usize,
}

impl<D: BlockDevice> CrashDevice<D> {
    /// Start recording: the current contents of `inner` are the durable
    /// base every crash state starts from.
    pub fn new(mut inner: D) -> DevResult<CrashDevice<D>> {
        let mut base = vec![0u8; inner.size() as usize];
        inner.read_at(0, &mut base)?;
        Ok(CrashDevice {
            inner,
            base,
            writes: Vec::new(),
            epoch: 0,
        })
    }

    pub fn writes(&self) -> &[RecordedWrite] {
        &self.writes
    }

    /// Number of flush epochs so far (the last one may be open).
    pub fn epochs(&self) -> usize {
        self.epoch + 1
    }

    /// Enumerate crash states (see the module documentation).
    pub fn crash_states(&self, opts: &CrashOptions) -> Vec<CrashState> {
        let mut seen: BTreeSet<(Vec<usize>, Option<TornWrite>)> = BTreeSet::new();
        let mut out = Vec::new();
        let mut push = |epoch: usize,
                        applied: Vec<usize>,
                        torn: Option<TornWrite>,
                        out: &mut Vec<CrashState>| {
            if out.len() < opts.max_states && seen.insert((applied.clone(), torn)) {
                out.push(CrashState {
                    epoch,
                    applied,
                    torn,
                });
            }
        };
        let mut before: Vec<usize> = Vec::new();
        for e in 0..=self.epoch {
            let ws: Vec<usize> = (0..self.writes.len())
                .filter(|&i| self.writes[i].epoch == e)
                .collect();
            let m = ws.len();
            for p in 0..=m {
                let mut a = before.clone();
                a.extend_from_slice(&ws[..p]);
                push(e, a, None, &mut out);
            }
            let k = (opts.subset_k as usize).min(m).min(20);
            let fixed = m - k;
            for mask in 0u32..(1u32 << k) {
                let mut a = before.clone();
                a.extend_from_slice(&ws[..fixed]);
                for (bit, &w) in ws[fixed..].iter().enumerate() {
                    if mask & (1 << bit) != 0 {
                        a.push(w);
                    }
                }
                push(e, a, None, &mut out);
            }
            if opts.torn {
                for j in 0..m {
                    let len = self.writes[ws[j]].data.len();
                    let mut a = before.clone();
                    a.extend_from_slice(&ws[..j]);
                    for s in 1..len / 512 {
                        push(
                            e,
                            a.clone(),
                            Some(TornWrite {
                                write: ws[j],
                                bytes: s * 512,
                            }),
                            &mut out,
                        );
                    }
                }
            }
            before.extend_from_slice(&ws);
        }
        out
    }

    /// The image a crash state leaves.
    pub fn materialize(&self, state: &CrashState) -> Vec<u8> {
        let mut img = self.base.clone();
        let mut apply = |w: &RecordedWrite, n: usize| {
            let o = w.offset as usize;
            let n = n.min(w.data.len());
            if let Some(dst) = img.get_mut(o..o + n) {
                dst.copy_from_slice(&w.data[..n]);
            }
        };
        let mut torn_done = false;
        for &i in &state.applied {
            if let Some(t) = state.torn {
                if !torn_done && t.write < i {
                    if let Some(w) = self.writes.get(t.write) {
                        apply(w, t.bytes);
                    }
                    torn_done = true;
                }
            }
            if let Some(w) = self.writes.get(i) {
                apply(w, w.data.len());
            }
        }
        if let (Some(t), false) = (state.torn, torn_done) {
            if let Some(w) = self.writes.get(t.write) {
                apply(w, t.bytes);
            }
        }
        img
    }

    /// The image with every recorded write applied (no crash).
    pub fn final_image(&self) -> Vec<u8> {
        let all = CrashState {
            epoch: self.epoch,
            applied: (0..self.writes.len()).collect(),
            torn: None,
        };
        self.materialize(&all)
    }
}

impl<D: BlockDevice> BlockDevice for CrashDevice<D> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> DevResult<()> {
        self.inner.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> DevResult<()> {
        self.inner.write_at(offset, buf)?;
        self.writes.push(RecordedWrite {
            offset,
            data: buf.to_vec(),
            epoch: self.epoch,
        });
        Ok(())
    }
    fn flush(&mut self) -> DevResult<()> {
        self.inner.flush()?;
        // A flush with no writes since the last one opens no new epoch.
        if self.writes.last().is_some_and(|w| w.epoch == self.epoch) {
            self.epoch += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> CrashDevice<VecDevice> {
        CrashDevice::new(VecDevice::new(vec![0u8; 8 * 1024])).unwrap()
    }

    #[test]
    fn epochs_prefixes_and_subsets() {
        let mut d = dev();
        d.write_at(0, &[1u8; 1024]).unwrap();
        d.write_at(1024, &[2u8; 1024]).unwrap();
        d.flush().unwrap();
        d.write_at(2048, &[3u8; 1024]).unwrap();
        let states = d.crash_states(&CrashOptions::default());
        // Epoch 0: {}, {0}, {0,1}, {1}; epoch 1 adds {0,1,2}.
        let sets: Vec<Vec<usize>> = states.iter().map(|s| s.applied.clone()).collect();
        assert_eq!(
            sets,
            vec![vec![], vec![0], vec![0, 1], vec![1], vec![0, 1, 2]]
        );
        // A write of epoch 1 never appears without all of epoch 0.
        for s in &states {
            if s.applied.contains(&2) {
                assert!(s.applied.contains(&0) && s.applied.contains(&1));
            }
        }
        let img = d.materialize(&states[3]);
        assert_eq!(img[0], 0);
        assert_eq!(img[1024], 2);
        assert_eq!(d.final_image(), d.inner.data);
    }

    #[test]
    fn subsets_bounded_by_k() {
        let mut d = dev();
        for i in 0..8u64 {
            d.write_at(i * 1024, &[i as u8 + 1; 1024]).unwrap();
        }
        let opts = CrashOptions {
            subset_k: 3,
            ..CrashOptions::default()
        };
        let states = d.crash_states(&opts);
        // 9 prefixes + 2^3 subsets of the last 3 (5 fixed), minus the 4
        // subsets that are also prefixes ({}, {5}, {5,6}, {5,6,7}).
        assert_eq!(states.len(), 9 + 8 - 4);
        // Every state applies writes 0..5 unless it is a short prefix.
        for s in &states {
            if s.applied.len() > 5 {
                assert_eq!(&s.applied[..5], &[0, 1, 2, 3, 4]);
            }
        }
        assert!(states.iter().any(|s| s.applied == vec![0, 1, 2, 3, 4, 7]));
    }

    #[test]
    fn torn_write_is_sector_prefix() {
        let mut d = dev();
        d.write_at(4096, &[9u8; 4096]).unwrap();
        let opts = CrashOptions {
            torn: true,
            ..CrashOptions::default()
        };
        let states = d.crash_states(&opts);
        let torn: Vec<_> = states.iter().filter(|s| s.torn.is_some()).collect();
        assert_eq!(torn.len(), 7);
        let img = d.materialize(torn[0]);
        assert_eq!(img[4096 + 511], 9);
        assert_eq!(img[4096 + 512], 0);
    }
}
