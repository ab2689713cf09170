//! The image library: named disk images stored in OPFS (one file each in
//! the `ext4lab-images` directory) or in IndexedDB (the `ext4lab-images`
//! database). Names are unique across both backends.
//!
//! [`Library::open`] is what the scenario runner calls to start a scenario
//! from a stored image. Images the worker keeps open (for the page, or a
//! running scenario) are held in the library, so export and delete see
//! their latest state and an OPFS image's exclusive handle is taken once.

use super::ext4::{self, FsSummary};
use super::fault::{FaultKind, StorageFault};
use super::idb::{IdbStore, ImageRecord, CHUNK, DB_NAME, DB_VERSION};
use super::idb_device::{IdbDevice, Residency};
use super::opfs_device::{fault_of, InjectedFault, OpfsDevice};
use super::{Backend, ImageDevice};
use crate::device::{BlockDevice, GRANULE};
use crate::engine::superblock::SUPERBLOCK_OFFSET;
use crate::wasm::opfs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;
use web_sys::FileSystemDirectoryHandle;

/// The OPFS directory the playground keeps its images in.
pub const OPFS_DIR: &str = "ext4lab-images";

/// Largest image the library accepts (the IndexedDB device holds an image
/// in memory; OPFS would manage more, but the page imports through memory).
pub const MAX_IMAGE: u64 = 1 << 30;

#[wasm_bindgen(module = "/crate/wasm/device/glue.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = opfsListFiles)]
    async fn opfs_list_files(dir: &FileSystemDirectoryHandle) -> Result<JsValue, JsValue>;
}

/// One library entry as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInfo {
    pub name: String,
    pub backend: Backend,
    /// Bytes; `None` when the image cannot be inspected now (OPFS file
    /// whose handle another tab holds).
    pub size: Option<u64>,
    /// Held open by this worker.
    pub open: bool,
}

#[derive(Deserialize)]
struct OpfsFile {
    name: String,
    size: f64,
}

/// A library over one OPFS directory and one IndexedDB database (tests use
/// their own names so they never touch the user's images).
pub struct Library {
    opfs_dir: String,
    idb_name: String,
    idb: Option<IdbStore>,
    open: BTreeMap<String, ImageDevice>,
    armed: Option<InjectedFault>,
}

/// Check an image name: 1-64 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
pub fn check_name(name: &str) -> Result<(), StorageFault> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StorageFault::new(
            FaultKind::Invalid,
            name,
            "name",
            "names are 1-64 characters of A-Z a-z 0-9 . _ - and do not start with '.'",
        ))
    }
}

fn check_size(name: &str, size: u64) -> Result<(), StorageFault> {
    if size == 0 || size % GRANULE as u64 != 0 || size > MAX_IMAGE {
        return Err(StorageFault::new(
            FaultKind::Invalid,
            name,
            "size",
            format!("size {size} must be a positive multiple of {GRANULE} up to {MAX_IMAGE}"),
        ));
    }
    Ok(())
}

impl Default for Library {
    fn default() -> Self {
        Self::new(OPFS_DIR, DB_NAME)
    }
}

impl Library {
    pub fn new(opfs_dir: &str, idb_name: &str) -> Self {
        Library {
            opfs_dir: opfs_dir.to_string(),
            idb_name: idb_name.to_string(),
            idb: None,
            open: BTreeMap::new(),
            armed: None,
        }
    }

    /// Fault injection: the next OPFS image this library creates or opens
    /// gets `fault` on its handle (tests and the page's fault demo).
    pub fn arm_fault(&mut self, fault: InjectedFault) {
        self.armed = Some(fault);
    }

    fn take_armed(&mut self, dev: &ImageDevice) {
        if let ImageDevice::Opfs(d) = dev {
            if let Some(f) = self.armed.take() {
                d.inject_fault(f);
            }
        }
    }

    async fn dir(&self) -> Result<FileSystemDirectoryHandle, StorageFault> {
        opfs::subdir(&self.opfs_dir)
            .await
            .map_err(|e| fault_of("", "opfs-dir", e))
    }

    /// The database connection, opened on first use.
    pub async fn idb(&mut self) -> Result<IdbStore, StorageFault> {
        if let Some(s) = &self.idb {
            return Ok(s.clone());
        }
        let s = IdbStore::open(&self.idb_name, DB_VERSION).await?;
        self.idb = Some(s.clone());
        Ok(s)
    }

    /// Every image, sorted by name.
    pub async fn list(&mut self) -> Result<Vec<ImageInfo>, StorageFault> {
        let mut out = BTreeMap::new();
        let files = opfs_list_files(&self.dir().await?)
            .await
            .map_err(|e| StorageFault::from_js("", "opfs-list", &e))?;
        let files: Vec<OpfsFile> = serde_wasm_bindgen::from_value(files)
            .map_err(|e| StorageFault::new(FaultKind::Other, "", "opfs-list", e.to_string()))?;
        for f in files {
            let open = self.open.get(&f.name);
            let size = match open {
                Some(d) => Some(d.size()),
                None if f.size >= 0.0 => Some(f.size as u64),
                None => None,
            };
            let info = ImageInfo {
                name: f.name.clone(),
                backend: Backend::Opfs,
                size,
                open: open.is_some(),
            };
            out.insert(f.name, info);
        }
        for r in self.idb().await?.list().await? {
            let open = self.open.contains_key(&r.name);
            let info = ImageInfo {
                name: r.name.clone(),
                backend: Backend::Idb,
                size: Some(r.size),
                open,
            };
            out.entry(r.name).or_insert(info);
        }
        Ok(out.into_values().collect())
    }

    /// Which backend holds `name`, if any.
    pub async fn backend_of(&mut self, name: &str) -> Result<Option<Backend>, StorageFault> {
        if let Some(d) = self.open.get(name) {
            return Ok(Some(d.backend()));
        }
        if opfs::open_sync_in(&self.dir().await?, name, false)
            .await
            .map(|h| h.close())
            .is_ok()
        {
            return Ok(Some(Backend::Opfs));
        }
        // A file whose handle is busy elsewhere still exists: ask the listing.
        let files = opfs_list_files(&self.dir().await?)
            .await
            .map_err(|e| StorageFault::from_js(name, "opfs-list", &e))?;
        let files: Vec<OpfsFile> = serde_wasm_bindgen::from_value(files).unwrap_or_default();
        if files.iter().any(|f| f.name == name) {
            return Ok(Some(Backend::Opfs));
        }
        match self.idb().await?.get(name).await {
            Ok(_) => Ok(Some(Backend::Idb)),
            Err(f) if f.kind == FaultKind::NotFound => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// Create an empty (zero-filled) image; it is left open in the library.
    pub async fn create(
        &mut self,
        name: &str,
        backend: Backend,
        size: u64,
    ) -> Result<(), StorageFault> {
        check_name(name)?;
        check_size(name, size)?;
        if self.backend_of(name).await?.is_some() {
            return Err(StorageFault::new(
                FaultKind::Exists,
                name,
                "create",
                "name taken",
            ));
        }
        let dev = match backend {
            Backend::Opfs => {
                ImageDevice::Opfs(OpfsDevice::create(&self.dir().await?, name, size).await?)
            }
            Backend::Idb => {
                let store = self.idb().await?;
                let record = ImageRecord {
                    name: name.to_string(),
                    size,
                    chunk_size: CHUNK as u32,
                };
                store.create(&record).await?;
                ImageDevice::Idb(IdbDevice::open_record(&store, record, Residency::Eager).await?)
            }
        };
        self.take_armed(&dev);
        self.open.insert(name.to_string(), dev);
        Ok(())
    }

    /// Store `bytes` as a new image. All or nothing: a failure (quota)
    /// removes the partial image.
    pub async fn import(
        &mut self,
        name: &str,
        backend: Backend,
        bytes: &[u8],
    ) -> Result<(), StorageFault> {
        self.create(name, backend, bytes.len() as u64).await?;
        let r = self.fill(name, bytes).await;
        if r.is_err() {
            let _ = self.delete(name).await;
        }
        r
    }

    async fn fill(&mut self, name: &str, bytes: &[u8]) -> Result<(), StorageFault> {
        let dev = self.open_mut(name)?;
        match dev {
            ImageDevice::Opfs(d) => {
                // Straight to the handle in 1 MiB writes; one flush.
                for (i, piece) in bytes.chunks(1 << 20).enumerate() {
                    opfs::write_at(d.handle(), (i as u64) << 20, piece)
                        .map_err(|e| fault_of(name, "write", e))?;
                }
                opfs::flush(d.handle()).map_err(|e| fault_of(name, "flush", e))?;
            }
            ImageDevice::Idb(d) => {
                // Zero chunks stay unstored (they read as zeros).
                for (i, piece) in bytes.chunks(CHUNK).enumerate() {
                    if piece.iter().any(|&b| b != 0) {
                        let at = (i * CHUNK) as u64;
                        d.write_at(at, piece)
                            .map_err(|e| dev_fault(name, "write", e))?;
                    }
                }
                d.flush().map_err(|e| dev_fault(name, "flush", e))?;
                d.persist().await?;
            }
        }
        Ok(())
    }

    /// Open `name` (or return the already open device). This is the
    /// scenario runner's entry point: the device stays owned by the
    /// library; use it through [`Library::open_mut`] and call
    /// [`Library::persist`] before answering the page.
    pub async fn open(&mut self, name: &str) -> Result<&mut ImageDevice, StorageFault> {
        if !self.open.contains_key(name) {
            check_name(name)?;
            let dev = match self.backend_of(name).await? {
                Some(Backend::Opfs) => {
                    ImageDevice::Opfs(OpfsDevice::open(&self.dir().await?, name).await?)
                }
                Some(Backend::Idb) => {
                    let store = self.idb().await?;
                    ImageDevice::Idb(IdbDevice::open(&store, name, Residency::Eager).await?)
                }
                None => {
                    return Err(StorageFault::new(
                        FaultKind::NotFound,
                        name,
                        "open",
                        "no such image",
                    ))
                }
            };
            self.take_armed(&dev);
            self.open.insert(name.to_string(), dev);
        }
        self.open_mut(name)
    }

    /// Whether this library holds `name` open.
    pub fn is_open(&self, name: &str) -> bool {
        self.open.contains_key(name)
    }

    /// The filesystem summary of `name` (the engine's superblock parser),
    /// reading only the superblock: an open image through its device, an
    /// OPFS image through a short-lived handle, an IndexedDB image through
    /// an on-demand open that loads one chunk. `None`: not ext4.
    /// [`FaultKind::ImageBusy`] when another tab holds the OPFS image.
    pub async fn peek(&mut self, name: &str) -> Result<Option<FsSummary>, StorageFault> {
        let summary = |dev: &mut dyn BlockDevice| {
            ext4::summary(dev).map_err(|e| {
                StorageFault::new(FaultKind::ReadFailed, name, "superblock", e.to_string())
            })
        };
        if let Some(dev) = self.open.get_mut(name) {
            return summary(dev);
        }
        match self.backend_of(name).await? {
            Some(Backend::Opfs) => match OpfsDevice::open(&self.dir().await?, name).await {
                Ok(mut d) => {
                    let r = summary(&mut d);
                    d.crash(); // read-only use: nothing to write
                    r
                }
                Err(f) => Err(f),
            },
            Some(Backend::Idb) => {
                let store = self.idb().await?;
                let mut d = IdbDevice::open(&store, name, Residency::OnDemand).await?;
                d.prefetch(SUPERBLOCK_OFFSET, 1024).await?;
                summary(&mut d)
            }
            None => Err(StorageFault::new(
                FaultKind::NotFound,
                name,
                "info",
                "no such image",
            )),
        }
    }

    /// Open `name` and hand its device over to the caller (the library
    /// forgets it): the caller owns it until [`ImageDevice::close`].
    pub async fn take(&mut self, name: &str) -> Result<ImageDevice, StorageFault> {
        self.open(name).await?;
        self.open.remove(name).ok_or_else(|| {
            StorageFault::new(FaultKind::NotFound, name, "open", "image is not open")
        })
    }

    /// An image this library holds open.
    pub fn open_mut(&mut self, name: &str) -> Result<&mut ImageDevice, StorageFault> {
        self.open.get_mut(name).ok_or_else(|| {
            StorageFault::new(FaultKind::NotFound, name, "open", "image is not open")
        })
    }

    /// Persist `name` (see [`ImageDevice::persist`]).
    pub async fn persist(&mut self, name: &str) -> Result<(), StorageFault> {
        self.open_mut(name)?.persist().await
    }

    /// Flush, persist and release `name`. A failed device is released too
    /// (so a reopen starts from storage) and its fault returned.
    pub async fn close(&mut self, name: &str) -> Result<(), StorageFault> {
        match self.open.remove(name) {
            Some(dev) => dev.close().await,
            None => Ok(()),
        }
    }

    /// Release `name` without flushing: a crash (tests, the crash demo).
    pub fn crash(&mut self, name: &str) {
        match self.open.remove(name) {
            Some(ImageDevice::Opfs(d)) => d.crash(),
            Some(ImageDevice::Idb(d)) => drop(d),
            None => {}
        }
    }

    /// The image's bytes as they are now (open images: including writes not
    /// yet flushed). Images not open are opened and closed again.
    pub async fn export(&mut self, name: &str) -> Result<Vec<u8>, StorageFault> {
        let was_open = self.open.contains_key(name);
        let dev = self.open(name).await?;
        let mut out = vec![0u8; dev.size() as usize];
        let r = dev
            .read_at(0, &mut out)
            .map_err(|e| dev_fault(name, "read", e));
        if !was_open {
            self.close(name).await?;
        }
        r.map(|()| out)
    }

    /// Delete `name` (closing it first if open, without writing more).
    pub async fn delete(&mut self, name: &str) -> Result<(), StorageFault> {
        self.crash(name);
        self.open.remove(name);
        match self.backend_of(name).await? {
            Some(Backend::Opfs) => opfs::remove_in(&self.dir().await?, name)
                .await
                .map_err(|e| fault_of(name, "delete", e)),
            Some(Backend::Idb) => self.idb().await?.delete(name).await,
            None => Err(StorageFault::new(
                FaultKind::NotFound,
                name,
                "delete",
                "no such image",
            )),
        }
    }
}

/// A device error as a fault (the typed one when the device kept it).
pub(crate) fn dev_fault(
    name: &str,
    op: &'static str,
    e: crate::device::DeviceError,
) -> StorageFault {
    StorageFault::new(FaultKind::Other, name, op, e.to_string())
}
