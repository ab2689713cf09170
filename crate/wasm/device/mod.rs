//! Browser block devices: images stored in the Origin Private File System
//! ([`OpfsDevice`]) or in IndexedDB ([`IdbDevice`]), both implementing the
//! engine's synchronous [`BlockDevice`], and the image library over them
//! ([`library`]: list, create, import, export, delete, open by name).
//!
//! Storage failures are typed ([`StorageFault`], [`FaultKind`]); a device
//! that hit one stays failed and says so on every later call.
//!
//! For the scenario runner: [`open_image`] opens a stored image by name as
//! an [`ImageDevice`] (a `BlockDevice`) the caller owns; run the engine on
//! it, call [`ImageDevice::persist`] before answering the page (a no-op on
//! OPFS, where `flush()` is already durable), and [`ImageDevice::close`] at
//! the end. [`read_image`] gives the bytes instead (for a `MemDevice` when
//! exploring many schedules from one stored image).

pub mod base;
#[cfg(not(feature = "lite"))]
pub mod bench;
pub mod commands;
pub mod ext4;
pub mod fault;
pub mod idb;
pub mod idb_device;
pub mod library;
pub mod opfs_device;
pub mod pages;

pub use commands::{open_image, read_image};
pub use fault::{FaultKind, StorageFault};
pub use idb::IdbStore;
pub use idb_device::{Durability, IdbDevice, Residency};
pub use opfs_device::{InjectedFault, OpfsDevice};

use crate::device::{BlockDevice, Result};
use serde::Serialize;

/// Where an image lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Opfs,
    Idb,
}

/// An open stored image, whichever its backend.
pub enum ImageDevice {
    Opfs(OpfsDevice),
    Idb(IdbDevice),
}

impl ImageDevice {
    pub fn name(&self) -> &str {
        match self {
            ImageDevice::Opfs(d) => d.name(),
            ImageDevice::Idb(d) => d.name(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            ImageDevice::Opfs(_) => Backend::Opfs,
            ImageDevice::Idb(_) => Backend::Idb,
        }
    }

    /// The fault that failed the device, if any.
    pub fn fault(&self) -> Option<&StorageFault> {
        match self {
            ImageDevice::Opfs(d) => d.fault(),
            ImageDevice::Idb(d) => d.fault(),
        }
    }

    /// Make everything up to the last `flush()` durable. Await it before
    /// telling the page an operation is stored. OPFS: nothing to do beyond
    /// reporting an earlier failure (its flush is synchronous and durable).
    pub async fn persist(&mut self) -> std::result::Result<(), StorageFault> {
        match self {
            ImageDevice::Opfs(d) => d.fault().cloned().map_or(Ok(()), Err),
            ImageDevice::Idb(d) => d.persist().await,
        }
    }

    /// Flush, persist and release the image.
    pub async fn close(mut self) -> std::result::Result<(), StorageFault> {
        let flushed = self.flush();
        match self {
            ImageDevice::Opfs(d) => d.close(),
            ImageDevice::Idb(mut d) => {
                if let Err(e) = flushed {
                    return Err(d.fault().cloned().unwrap_or_else(|| {
                        StorageFault::new(FaultKind::Other, d.name(), "flush", e.to_string())
                    }));
                }
                d.persist().await
            }
        }
    }
}

impl BlockDevice for ImageDevice {
    fn size(&self) -> u64 {
        match self {
            ImageDevice::Opfs(d) => d.size(),
            ImageDevice::Idb(d) => d.size(),
        }
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        match self {
            ImageDevice::Opfs(d) => d.read_at(offset, buf),
            ImageDevice::Idb(d) => d.read_at(offset, buf),
        }
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        match self {
            ImageDevice::Opfs(d) => d.write_at(offset, buf),
            ImageDevice::Idb(d) => d.write_at(offset, buf),
        }
    }
    fn flush(&mut self) -> Result<()> {
        match self {
            ImageDevice::Opfs(d) => d.flush(),
            ImageDevice::Idb(d) => d.flush(),
        }
    }
}
