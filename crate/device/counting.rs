//! A wrapper that counts the accesses reaching the device below (tests use
//! it to prove the block cache works).

use super::{BlockDevice, Result};

/// Access counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoCounts {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// Counts every call before passing it to `inner`.
pub struct CountingDevice<D> {
    pub inner: D,
    pub counts: IoCounts,
}

impl<D: BlockDevice> CountingDevice<D> {
    pub fn new(inner: D) -> Self {
        CountingDevice {
            inner,
            counts: IoCounts::default(),
        }
    }
    /// Zero the counters.
    pub fn reset(&mut self) {
        self.counts = IoCounts::default();
    }
}

impl<D: BlockDevice> BlockDevice for CountingDevice<D> {
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.counts.reads += 1;
        self.counts.bytes_read += buf.len() as u64;
        self.inner.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        self.counts.writes += 1;
        self.counts.bytes_written += buf.len() as u64;
        self.inner.write_at(offset, buf)
    }
    fn flush(&mut self) -> Result<()> {
        self.counts.flushes += 1;
        self.inner.flush()
    }
}
