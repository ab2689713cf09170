//! Block devices. The engine and the journal see storage only through
//! [`BlockDevice`]: synchronous, byte-addressed but always used in whole
//! filesystem blocks, with `flush` as the write barrier the journal's commit
//! ordering depends on.
//!
//! Backends: memory (copy-on-write snapshots, used by the simulator for every
//! explored schedule), file (native only), OPFS and IndexedDB (browser; they
//! live with the JavaScript glue in `crate/wasm`).

use thiserror::Error;

pub mod counting;
#[cfg(not(target_arch = "wasm32"))]
pub mod file;
pub mod mem;

pub use counting::{CountingDevice, IoCounts};
#[cfg(not(target_arch = "wasm32"))]
pub use file::FileDevice;
pub use mem::{MemDevice, SnapshotId};

/// A borrowed device as a `BlockDevice` value: the engine takes its device
/// by value, and the image library and fsck keep theirs. Used as
/// `DevRef<dyn BlockDevice>` wherever speed does not matter, so that the
/// engine is compiled once for all of those callers, not once per device
/// type (each copy of the engine is tens of KB of the wasm module).
pub struct DevRef<'a, D: BlockDevice + ?Sized>(pub &'a mut D);

impl<D: BlockDevice + ?Sized> BlockDevice for DevRef<'_, D> {
    fn size(&self) -> u64 {
        self.0.size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.0.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        self.0.write_at(offset, buf)
    }
    fn flush(&mut self) -> Result<()> {
        self.0.flush()
    }
}

/// Errors a block device can return. Storage faults (quota, a lost OPFS
/// handle, a failed flush) are reported here, never by panicking.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceError {
    /// An access past the end of the device.
    #[error("access out of range: offset {offset} len {len} on a device of {size} bytes")]
    OutOfRange { offset: u64, len: usize, size: u64 },
    /// An access not aligned to the device's granule.
    #[error("unaligned access: offset {offset} len {len} (granule {granule})")]
    Unaligned {
        offset: u64,
        len: usize,
        granule: u32,
    },
    /// The device was opened read-only.
    #[error("device is read-only")]
    ReadOnly,
    /// The backing store failed (I/O error, quota exceeded, handle lost).
    #[error("storage error: {0}")]
    Io(String),
}

pub type Result<T> = std::result::Result<T, DeviceError>;

/// The smallest unit a device is addressed in. ext4's smallest block size is
/// 1024, and the superblock sits at byte 1024, so every engine access is a
/// multiple of this.
pub const GRANULE: u32 = 1024;

/// A synchronous block device.
///
/// Offsets and lengths are multiples of [`GRANULE`]. Writes may be cached by
/// the device until [`BlockDevice::flush`]; a flush is a barrier: every
/// write issued before it is durable before any write issued after it.
pub trait BlockDevice {
    /// Size in bytes (a multiple of [`GRANULE`]).
    fn size(&self) -> u64;
    /// Read `buf.len()` bytes at `offset`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()>;
    /// Write `buf` at `offset`.
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()>;
    /// Make every write issued so far durable (a write barrier).
    fn flush(&mut self) -> Result<()>;
}

/// Check an access against a device of `size` bytes.
pub fn check_access(offset: u64, len: usize, size: u64) -> Result<()> {
    if offset % GRANULE as u64 != 0 || len % GRANULE as usize != 0 {
        return Err(DeviceError::Unaligned {
            offset,
            len,
            granule: GRANULE,
        });
    }
    match offset.checked_add(len as u64) {
        Some(end) if end <= size => Ok(()),
        _ => Err(DeviceError::OutOfRange { offset, len, size }),
    }
}

impl<D: BlockDevice + ?Sized> BlockDevice for Box<D> {
    fn size(&self) -> u64 {
        (**self).size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        (**self).write_at(offset, buf)
    }
    fn flush(&mut self) -> Result<()> {
        (**self).flush()
    }
}
