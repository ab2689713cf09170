//! The memory device: chunked storage with copy-on-write snapshots.
//!
//! The simulator resets the image before every explored schedule, so a
//! restore must cost O(chunks dirtied since the snapshot), not O(device).
//! Each chunk remembers the generation in which it was last saved; the first
//! write to a chunk in a newer generation pushes its old contents onto the
//! undo log of the newest snapshot. `restore` pops those logs back to the
//! snapshot and starts a fresh generation, so the snapshot stays usable for
//! the next schedule.

use super::{check_access, BlockDevice, Result};

/// Bytes per copy-on-write chunk.
pub const CHUNK_SIZE: usize = 4096;

/// Names a snapshot taken with [`MemDevice::snapshot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotId {
    depth: usize,
    serial: u64,
}

/// Why a restore was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The snapshot was discarded by restoring an older one.
    #[error("snapshot {serial} no longer exists")]
    Stale { serial: u64 },
}

struct Snapshot {
    serial: u64,
    /// Generation in which chunks were last saved into this snapshot's log.
    gen: u64,
    /// (chunk index, contents before the first write since the snapshot).
    undo: Vec<(usize, Option<Box<[u8]>>)>,
}

/// Counters of what the device did (for tests and the UI).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemStats {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    /// Chunks copied into an undo log since the device was created.
    pub chunks_saved: u64,
    /// Chunks put back by the last `restore`.
    pub last_restore_chunks: u64,
}

/// A RAM-backed device. Unwritten chunks are not allocated and read as zeros.
pub struct MemDevice {
    size: u64,
    chunks: Vec<Option<Box<[u8]>>>,
    /// Generation in which each chunk was last saved to an undo log.
    chunk_gen: Vec<u64>,
    snapshots: Vec<Snapshot>,
    next_serial: u64,
    next_gen: u64,
    stats: MemStats,
}

impl MemDevice {
    /// A zero-filled device of `size` bytes (rounded up to a whole granule).
    pub fn new(size: u64) -> Self {
        let size = size.div_ceil(super::GRANULE as u64) * super::GRANULE as u64;
        let n = size.div_ceil(CHUNK_SIZE as u64) as usize;
        MemDevice {
            size,
            chunks: (0..n).map(|_| None).collect(),
            chunk_gen: vec![0; n],
            snapshots: Vec::new(),
            next_serial: 1,
            next_gen: 1,
            stats: MemStats::default(),
        }
    }

    /// A device holding a copy of `bytes` (an image file read into memory).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        static ZERO: [u8; CHUNK_SIZE] = [0; CHUNK_SIZE];
        let mut d = MemDevice::new(bytes.len() as u64);
        for (i, c) in bytes.chunks(CHUNK_SIZE).enumerate() {
            // A slice compare is a memcmp: fast even in unoptimised builds.
            if c != &ZERO[..c.len()] {
                let mut chunk = vec![0u8; CHUNK_SIZE].into_boxed_slice();
                chunk[..c.len()].copy_from_slice(c);
                d.chunks[i] = Some(chunk);
            }
        }
        d
    }

    /// The whole contents (for writing an image out).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.size as usize];
        for (i, c) in self.chunks.iter().enumerate() {
            if let Some(c) = c {
                let start = i * CHUNK_SIZE;
                let end = (start + CHUNK_SIZE).min(out.len());
                out[start..end].copy_from_slice(&c[..end - start]);
            }
        }
        out
    }

    pub fn stats(&self) -> MemStats {
        self.stats
    }

    /// Chunks allocated (touched by a non-zero write at least once).
    pub fn allocated_chunks(&self) -> usize {
        self.chunks.iter().filter(|c| c.is_some()).count()
    }

    /// Take a snapshot of the current contents. Costs O(1).
    pub fn snapshot(&mut self) -> SnapshotId {
        let serial = self.next_serial;
        self.next_serial += 1;
        let gen = self.next_gen;
        self.next_gen += 1;
        self.snapshots.push(Snapshot {
            serial,
            gen,
            undo: Vec::new(),
        });
        SnapshotId {
            depth: self.snapshots.len() - 1,
            serial,
        }
    }

    /// Put the contents back as they were at `id`. Snapshots taken after
    /// `id` are discarded; `id` itself stays valid. Costs O(chunks dirtied
    /// since `id`).
    pub fn restore(&mut self, id: &SnapshotId) -> std::result::Result<(), SnapshotError> {
        match self.snapshots.get(id.depth) {
            Some(s) if s.serial == id.serial => {}
            _ => return Err(SnapshotError::Stale { serial: id.serial }),
        }
        let mut restored = 0u64;
        while self.snapshots.len() > id.depth {
            let top = self.snapshots.len() - 1;
            let undo = std::mem::take(&mut self.snapshots[top].undo);
            for (idx, old) in undo.into_iter().rev() {
                self.chunks[idx] = old;
                restored += 1;
            }
            if top == id.depth {
                break;
            }
            self.snapshots.pop();
        }
        // A fresh generation: every chunk must be saved again on its next write.
        let gen = self.next_gen;
        self.next_gen += 1;
        self.snapshots[id.depth].gen = gen;
        self.stats.last_restore_chunks = restored;
        Ok(())
    }

    /// Forget snapshot `id` and all newer ones, keeping the current contents.
    pub fn drop_snapshot(&mut self, id: &SnapshotId) {
        if matches!(self.snapshots.get(id.depth), Some(s) if s.serial == id.serial) {
            // Merge the logs into the parent so older snapshots still restore.
            let mut merged = Vec::new();
            for s in self.snapshots.drain(id.depth..) {
                merged.extend(s.undo);
            }
            if let Some(parent) = self.snapshots.last_mut() {
                parent.undo.extend(merged);
                // New writes must still be saved against the parent.
                parent.gen = self.next_gen;
                self.next_gen += 1;
            }
        }
    }

    /// The chunks whose contents may differ from snapshot `id`'s: those
    /// saved into the undo log of `id` or of a newer snapshot, ascending,
    /// each once (a chunk written back to its old bytes stays listed).
    /// Every other chunk holds what it held at `id`. `None` when `id` no
    /// longer exists. Costs O(chunks written since `id`).
    pub fn changed_since(&self, id: &SnapshotId) -> Option<Vec<usize>> {
        match self.snapshots.get(id.depth) {
            Some(s) if s.serial == id.serial => {}
            _ => return None,
        }
        let mut idx: Vec<usize> = self.snapshots[id.depth..]
            .iter()
            .flat_map(|s| s.undo.iter().map(|(i, _)| *i))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        Some(idx)
    }

    /// The contents of chunk `idx` ([`CHUNK_SIZE`] bytes; `None`: never
    /// written or past the end, reads as zeros).
    pub fn chunk(&self, idx: usize) -> Option<&[u8]> {
        self.chunks.get(idx).and_then(|c| c.as_deref())
    }

    /// Chunks written since the newest snapshot (or restore).
    pub fn dirty_chunks(&self) -> usize {
        self.snapshots.last().map_or(0, |s| s.undo.len())
    }

    fn touch(&mut self, idx: usize) -> &mut [u8] {
        if let Some(top) = self.snapshots.last_mut() {
            if self.chunk_gen[idx] != top.gen {
                self.chunk_gen[idx] = top.gen;
                top.undo.push((idx, self.chunks[idx].clone()));
                self.stats.chunks_saved += 1;
            }
        }
        self.chunks[idx].get_or_insert_with(|| vec![0u8; CHUNK_SIZE].into_boxed_slice())
    }
}

impl BlockDevice for MemDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        check_access(offset, buf.len(), self.size)?;
        self.stats.reads += 1;
        self.stats.bytes_read += buf.len() as u64;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset as usize + done;
            let (idx, within) = (pos / CHUNK_SIZE, pos % CHUNK_SIZE);
            let n = (CHUNK_SIZE - within).min(buf.len() - done);
            match self.chunks.get(idx).and_then(|c| c.as_ref()) {
                Some(c) => buf[done..done + n].copy_from_slice(&c[within..within + n]),
                None => buf[done..done + n].fill(0),
            }
            done += n;
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        check_access(offset, buf.len(), self.size)?;
        self.stats.writes += 1;
        self.stats.bytes_written += buf.len() as u64;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset as usize + done;
            let (idx, within) = (pos / CHUNK_SIZE, pos % CHUNK_SIZE);
            let n = (CHUNK_SIZE - within).min(buf.len() - done);
            let chunk = self.touch(idx);
            chunk[within..within + n].copy_from_slice(&buf[done..done + n]);
            done += n;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.stats.flushes += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(d: &mut MemDevice, off: u64, byte: u8, len: usize) {
        d.write_at(off, &vec![byte; len]).unwrap();
    }

    fn byte_at(d: &mut MemDevice, off: u64) -> u8 {
        let mut b = [0u8; 1024];
        d.read_at(off, &mut b).unwrap();
        b[0]
    }

    #[test]
    fn unwritten_reads_zero_and_bounds_are_checked() {
        let mut d = MemDevice::new(64 * 1024);
        assert_eq!(byte_at(&mut d, 4096), 0);
        assert!(d.read_at(64 * 1024, &mut [0u8; 1024]).is_err());
        assert!(d.write_at(512, &[0u8; 1024]).is_err());
        fill(&mut d, 3072, 7, 2048); // crosses a chunk boundary
        assert_eq!(byte_at(&mut d, 3072), 7);
        assert_eq!(byte_at(&mut d, 4096), 7);
        assert_eq!(d.allocated_chunks(), 2);
    }

    #[test]
    fn changed_since_lists_the_chunks_written_after_a_snapshot() {
        let mut d = MemDevice::new(1 << 20);
        let s0 = d.snapshot();
        fill(&mut d, 3 * 4096, 1, 1024);
        let s1 = d.snapshot();
        fill(&mut d, 5 * 4096, 2, 1024);
        fill(&mut d, 3 * 4096, 3, 1024); // also saved against s1
        assert_eq!(d.changed_since(&s0), Some(vec![3, 5]));
        assert_eq!(d.changed_since(&s1), Some(vec![3, 5]));
        d.restore(&s1).unwrap();
        assert_eq!(d.changed_since(&s0), Some(vec![3]));
        assert_eq!(d.changed_since(&s1), Some(vec![]));
        assert_eq!(d.chunk(3).map(|c| c[0]), Some(1));
        assert_eq!(d.chunk(5), None, "never written before s1");
        assert_eq!(d.chunk(9), None);
        d.restore(&s0).unwrap();
        assert_eq!(d.changed_since(&s1), None, "s1 is gone");
        assert_eq!(d.changed_since(&s0), Some(vec![]));
    }

    #[test]
    fn restore_undoes_only_dirtied_chunks_and_stays_valid() {
        let mut d = MemDevice::new(1 << 20);
        fill(&mut d, 0, 1, 1 << 20);
        let s = d.snapshot();
        fill(&mut d, 8192, 2, 1024);
        fill(&mut d, 8192, 3, 1024); // same chunk: saved once
        fill(&mut d, 65536, 4, 4096);
        assert_eq!(d.dirty_chunks(), 2);
        d.restore(&s).unwrap();
        assert_eq!(d.stats().last_restore_chunks, 2);
        assert_eq!(byte_at(&mut d, 8192), 1);
        assert_eq!(byte_at(&mut d, 65536), 1);
        // Second schedule from the same snapshot.
        fill(&mut d, 8192, 9, 1024);
        assert_eq!(d.dirty_chunks(), 1);
        d.restore(&s).unwrap();
        assert_eq!(d.stats().last_restore_chunks, 1);
        assert_eq!(byte_at(&mut d, 8192), 1);
    }

    #[test]
    fn nested_snapshots() {
        let mut d = MemDevice::new(64 * 1024);
        let a = d.snapshot();
        fill(&mut d, 0, 1, 1024);
        let b = d.snapshot();
        fill(&mut d, 0, 2, 1024);
        fill(&mut d, 4096, 2, 1024);
        d.restore(&b).unwrap();
        assert_eq!(byte_at(&mut d, 0), 1);
        assert_eq!(byte_at(&mut d, 4096), 0);
        fill(&mut d, 0, 3, 1024);
        d.restore(&a).unwrap();
        assert_eq!(byte_at(&mut d, 0), 0);
        assert_eq!(
            d.restore(&b),
            Err(SnapshotError::Stale { serial: b.serial })
        );
        d.restore(&a).unwrap();
    }

    #[test]
    fn drop_snapshot_keeps_parent_restorable() {
        let mut d = MemDevice::new(64 * 1024);
        let a = d.snapshot();
        fill(&mut d, 0, 1, 1024);
        let b = d.snapshot();
        fill(&mut d, 0, 2, 1024);
        d.drop_snapshot(&b);
        fill(&mut d, 8192, 5, 1024);
        assert_eq!(byte_at(&mut d, 0), 2);
        d.restore(&a).unwrap();
        assert_eq!(byte_at(&mut d, 0), 0);
        assert_eq!(byte_at(&mut d, 8192), 0);
    }

    #[test]
    fn bytes_round_trip() {
        let mut img = vec![0u8; 16 * 1024];
        img[5000] = 0xab;
        let mut d = MemDevice::from_bytes(&img);
        assert_eq!(d.to_bytes(), img);
        assert_eq!(d.allocated_chunks(), 1);
        let mut b = [0u8; 1024];
        d.read_at(4096, &mut b).unwrap();
        assert_eq!(b[904], 0xab);
    }
}
