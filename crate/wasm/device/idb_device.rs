//! The IndexedDB block device: an image stored as 64 KiB chunk records,
//! served synchronously from memory, persisted asynchronously at barriers.
//!
//! # A synchronous trait over an asynchronous store
//!
//! IndexedDB has no synchronous API, and `BlockDevice` is synchronous, so:
//!
//! - **Reads** are served from resident chunks in memory. "Lazy" here means
//!   two honest things: chunks never written are not stored and never
//!   loaded (they read as zeros); and with [`Residency::OnDemand`] only the
//!   chunk *index* is read at open, the caller must [`IdbDevice::prefetch`]
//!   (async) the ranges an engine call will touch, and a read of a stored
//!   chunk that was not prefetched fails with an error (never zeros). With
//!   [`Residency::Eager`] (the default for the library) every stored chunk
//!   is loaded at open, so any engine call can run.
//! - **Writes** go to resident chunks and mark them dirty.
//! - **`flush()`** (the barrier) copies the dirty chunks into the *pending*
//!   set and returns: it orders, it does not yet make durable.
//! - **[`IdbDevice::persist`]** (async) writes the pending set in ONE
//!   readwrite transaction. The worker awaits it after every command that
//!   touched the device and before answering the page, so "ok" means
//!   stored. Several barriers of one command go into one transaction: it is
//!   all or nothing, so storage moves from the state at one barrier to the
//!   state at a later one, never to a mixture; every crash state is still a
//!   barrier state, which is all the journal needs.
//! - **A failed persist** (an aborted transaction, quota) fails the device:
//!   the error goes to the page from `persist`, and every later device call
//!   returns it too. Storage holds the state of the last successful persist,
//!   a barrier state, so the image is as consistent as it was then.
//!
//! # Durability
//!
//! Transactions use `durability: "relaxed"` by default: the browser may
//! report completion before its backing store is fsync'd, so a power loss
//! (not a tab crash or a reload, which are covered) can lose the latest
//! completed transactions. Ordering still holds: persists are issued one at
//! a time (the next starts after the previous completed), each is atomic,
//! and the browser's store logs committed transactions in order, so what a
//! power loss leaves is a prefix of them, i.e. the state at some earlier
//! barrier, which the journal recovers from. [`Durability::Strict`] waits
//! for the fsync and is available where losing the tail matters.

use super::fault::{FaultKind, StorageFault};
use super::idb::{idb_chunk_keys, idb_get_chunks, idb_put_chunks, IdbStore, ImageRecord, CHUNK};
use super::pages::{pieces, Piece};
use crate::device::{check_access, BlockDevice, DeviceError, Result};
use std::collections::{BTreeMap, BTreeSet};
use wasm_bindgen::JsCast;

/// Which stored chunks are loaded at open (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Residency {
    Eager,
    OnDemand,
}

/// The IndexedDB transaction durability hint used by persist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Relaxed,
    Strict,
}

pub struct IdbDevice {
    store: IdbStore,
    name: String,
    size: u64,
    /// Chunks in memory (stored or written since open).
    resident: BTreeMap<u64, Box<[u8]>>,
    /// Chunks that exist in the store (as of the last persist).
    stored: BTreeSet<u64>,
    /// Chunks written since the last flush.
    dirty: BTreeSet<u64>,
    /// Chunk contents as of the last flush, waiting for persist.
    pending: BTreeMap<u64, Box<[u8]>>,
    failed: Option<StorageFault>,
    durability: Durability,
    abort_next_persist: bool,
    /// Transactions that persisted something (for tests and the benchmark).
    pub persists: u64,
}

impl IdbDevice {
    /// Open image `name` from `store`.
    pub async fn open(
        store: &IdbStore,
        name: &str,
        residency: Residency,
    ) -> std::result::Result<Self, StorageFault> {
        let record = store.get(name).await?;
        Self::open_record(store, record, residency).await
    }

    pub(crate) async fn open_record(
        store: &IdbStore,
        record: ImageRecord,
        residency: Residency,
    ) -> std::result::Result<Self, StorageFault> {
        let name = record.name.clone();
        if record.chunk_size as usize != CHUNK {
            return Err(StorageFault::new(
                FaultKind::Invalid,
                &name,
                "idb-open",
                format!("chunk size {} (this build uses {CHUNK})", record.chunk_size),
            ));
        }
        let keys = idb_chunk_keys(&store.db, &name)
            .await
            .map_err(|e| StorageFault::from_js(&name, "idb-keys", &e))?;
        let keys: js_sys::Float64Array = keys.dyn_into().map_err(|_| {
            StorageFault::new(FaultKind::Other, &name, "idb-keys", "not a Float64Array")
        })?;
        let stored: BTreeSet<u64> = keys.to_vec().into_iter().map(|k| k as u64).collect();
        let mut dev = IdbDevice {
            store: store.clone(),
            name,
            size: record.size,
            resident: BTreeMap::new(),
            stored,
            dirty: BTreeSet::new(),
            pending: BTreeMap::new(),
            failed: None,
            durability: Durability::Relaxed,
            abort_next_persist: false,
            persists: 0,
        };
        if residency == Residency::Eager {
            let all: Vec<u64> = dev.stored.iter().copied().collect();
            dev.load(&all).await?;
        }
        Ok(dev)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn set_durability(&mut self, d: Durability) {
        self.durability = d;
    }

    pub fn fault(&self) -> Option<&StorageFault> {
        self.failed.as_ref()
    }

    /// Chunks flushed but not yet persisted.
    pub fn pending_chunks(&self) -> usize {
        self.pending.len()
    }

    /// Fault hook: the next persist's transaction is really aborted by the
    /// browser after its puts were issued.
    pub fn inject_abort_next_persist(&mut self) {
        self.abort_next_persist = true;
    }

    /// Load the stored chunks covering `[offset, offset + len)` that are not
    /// resident yet (for [`Residency::OnDemand`]).
    pub async fn prefetch(
        &mut self,
        offset: u64,
        len: u64,
    ) -> std::result::Result<(), StorageFault> {
        if len == 0 {
            return Ok(());
        }
        let first = offset / CHUNK as u64;
        let last = offset.saturating_add(len - 1) / CHUNK as u64;
        let want: Vec<u64> = self
            .stored
            .range(first..=last)
            .copied()
            .filter(|i| !self.resident.contains_key(i))
            .collect();
        self.load(&want).await
    }

    async fn load(&mut self, indexes: &[u64]) -> std::result::Result<(), StorageFault> {
        // Batches keep each read transaction and its promise array modest.
        for batch in indexes.chunks(256) {
            let keys = js_sys::Float64Array::from(
                &batch.iter().map(|&i| i as f64).collect::<Vec<_>>()[..],
            );
            let values = idb_get_chunks(&self.store.db, &self.name, keys)
                .await
                .map_err(|e| StorageFault::from_js(&self.name, "idb-read", &e))?;
            let values: js_sys::Array = values.unchecked_into();
            for (k, &index) in batch.iter().enumerate() {
                let v = values.get(k as u32);
                let mut chunk = vec![0u8; CHUNK].into_boxed_slice();
                if let Some(arr) = v.dyn_ref::<js_sys::Uint8Array>() {
                    if arr.length() as usize != CHUNK {
                        return Err(StorageFault::new(
                            FaultKind::Invalid,
                            &self.name,
                            "idb-read",
                            format!("chunk {index} has {} bytes, expected {CHUNK}", arr.length()),
                        ));
                    }
                    arr.copy_to(&mut chunk);
                }
                // Dirty or pending data in memory is newer than the store's.
                self.resident.entry(index).or_insert(chunk);
            }
        }
        Ok(())
    }

    /// Write the pending set (everything up to the last flush) in one
    /// transaction. See the module doc; on failure the device is failed.
    pub async fn persist(&mut self) -> std::result::Result<(), StorageFault> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let keys: Vec<f64> = pending.keys().map(|&i| i as f64).collect();
        let values = js_sys::Array::new();
        for chunk in pending.values() {
            values.push(&js_sys::Uint8Array::from(&chunk[..]));
        }
        let durability = match self.durability {
            Durability::Relaxed => "relaxed",
            Durability::Strict => "strict",
        };
        let abort = std::mem::take(&mut self.abort_next_persist);
        let r = idb_put_chunks(
            &self.store.db,
            &self.name,
            js_sys::Float64Array::from(&keys[..]),
            values,
            durability,
            abort,
        )
        .await;
        match r {
            Ok(_) => {
                self.stored.extend(pending.keys().copied());
                self.persists += 1;
                Ok(())
            }
            Err(e) => {
                let f = StorageFault::from_js(&self.name, "idb-persist", &e);
                self.failed = Some(f.clone());
                Err(f)
            }
        }
    }

    fn check(&self) -> Result<()> {
        match &self.failed {
            Some(f) => Err(f.clone().into()),
            None => Ok(()),
        }
    }

    fn not_resident(&self, index: u64) -> DeviceError {
        StorageFault::new(
            FaultKind::Invalid,
            &self.name,
            "read",
            format!("chunk {index} is stored but not loaded (prefetch its range first)"),
        )
        .into()
    }
}

impl BlockDevice for IdbDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.check()?;
        check_access(offset, buf.len(), self.size)?;
        for Piece {
            index,
            within,
            buf: range,
        } in pieces(offset, buf.len(), CHUNK)
        {
            let n = range.len();
            let dst = &mut buf[range];
            match self.resident.get(&index) {
                Some(chunk) => dst.copy_from_slice(&chunk[within..within + n]),
                None if self.stored.contains(&index) => return Err(self.not_resident(index)),
                None => dst.fill(0),
            }
        }
        Ok(())
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        self.check()?;
        check_access(offset, buf.len(), self.size)?;
        for Piece {
            index,
            within,
            buf: range,
        } in pieces(offset, buf.len(), CHUNK)
        {
            let n = range.len();
            if !self.resident.contains_key(&index) {
                if self.stored.contains(&index) && n != CHUNK {
                    return Err(self.not_resident(index));
                }
                self.resident
                    .insert(index, vec![0u8; CHUNK].into_boxed_slice());
            }
            if let Some(chunk) = self.resident.get_mut(&index) {
                chunk[within..within + n].copy_from_slice(&buf[range]);
            }
            self.dirty.insert(index);
        }
        Ok(())
    }

    /// The barrier: the dirty chunks as of now join the pending set, which
    /// the next [`IdbDevice::persist`] stores atomically.
    fn flush(&mut self) -> Result<()> {
        self.check()?;
        for index in std::mem::take(&mut self.dirty) {
            if let Some(chunk) = self.resident.get(&index) {
                self.pending.insert(index, chunk.clone());
            }
        }
        Ok(())
    }
}
