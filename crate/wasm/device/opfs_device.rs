//! The OPFS block device: one image = one file in the origin-private file
//! system, accessed through its exclusive `FileSystemSyncAccessHandle`
//! (dedicated workers only), so the `BlockDevice` trait stays synchronous
//! without any caching tricks for reads.
//!
//! Writes of a barrier epoch (between two flushes) are kept as dirty 4 KiB
//! pages; [`BlockDevice::flush`] writes them out as runs (up to 1 MiB per
//! write, bridging gaps of up to 16 clean pages by reading them back first)
//! and then calls the handle's `flush()`. Whole pages written in ascending
//! order (sequential file data) go to a [`Stream`] instead: one buffer,
//! written as one 1 MiB write as soon as it is full, so a long sequential
//! write costs one copy and one handle write per MiB, not a boxed page per
//! 4 KiB copied again at the barrier. A single write of at least
//! [`DIRECT_MIN`] whole pages (the engine writes each contiguous run of
//! file data with one call) skips the copy: it goes to the handle at once,
//! in writes of at most 1 MiB, as an early write of the epoch (allowed, see
//! below); the dirty pages it covers are dropped and a stream overlapping
//! it is written out first, so nothing older lands over it later. Each
//! OPFS write costs ~40-75 µs
//! whatever its size, so a journal commit of 64 blocks becomes one write
//! instead of 64. Reads go to the handle directly, then the epoch's dirty
//! pages are laid over them.
//!
//! Barrier semantics: writes issued before a flush are all written and the
//! handle flushed before `flush()` returns, and nothing issued after it is
//! written before that. Writes within one epoch may reach storage in any
//! order (and early: past [`WRITEBACK_LIMIT`] dirty bytes the device writes
//! pages out without a flush to bound memory; the journal orders nothing
//! inside an epoch, so this is allowed).
//!
//! Failure: once a write-out or a flush fails, the device is *failed*: every
//! later call returns the same error (the typed fault is in
//! [`OpfsDevice::fault`]). Storage then holds everything up to the last
//! successful flush plus possibly part of the failed epoch, which is what a
//! crash at that point leaves; the journal recovers from exactly that.
//!
//! Dropping the device without a flush is a crash: dirty pages are lost.

use super::fault::{FaultKind, StorageFault};
use super::pages::{pieces, DirtyPages, Piece, Stream, DIRECT_MIN, MAX_RUN, PAGE, STREAM_RESTART};
use crate::device::{check_access, BlockDevice, DeviceError, Result};
use crate::wasm::opfs;
use wasm_bindgen::prelude::*;
use web_sys::{FileSystemDirectoryHandle, FileSystemSyncAccessHandle};

#[wasm_bindgen(module = "/crate/wasm/device/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = shimHandleFault)]
    fn shim_handle_fault(
        handle: &FileSystemSyncAccessHandle,
        method: &str,
        error_name: &str,
        count: u32,
    );
}

/// A storage fault to inject into an OPFS device's handle (a JavaScript
/// shim on the handle object, so the device's real error path runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// The next `write()` throws `QuotaExceededError` (a full disk).
    QuotaOnWrite,
    /// The next `flush()` throws `InvalidStateError` (a failed barrier).
    FlushFails,
}

/// Dirty bytes past which the device writes pages out before the next
/// flush (memory bound; see the module doc for why this keeps the barrier).
pub const WRITEBACK_LIMIT: usize = 32 << 20;

/// Counters for the benchmark and the tests (how well writes coalesce).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpfsStats {
    /// `write()` calls on the handle.
    pub handle_writes: u64,
    /// `flush()` calls on the handle.
    pub handle_flushes: u64,
    pub bytes_written: u64,
}

pub struct OpfsDevice {
    name: String,
    handle: FileSystemSyncAccessHandle,
    size: u64,
    dirty: DirtyPages,
    stream: Stream,
    scratch: Vec<u8>,
    failed: Option<StorageFault>,
    stats: OpfsStats,
    closed: bool,
}

impl OpfsDevice {
    /// Create the image file `name` in `dir` with `size` bytes (zeros).
    /// Fails with [`FaultKind::Exists`] if it exists.
    pub async fn create(
        dir: &FileSystemDirectoryHandle,
        name: &str,
        size: u64,
    ) -> std::result::Result<Self, StorageFault> {
        if size == 0 || size % PAGE as u64 != 0 {
            return Err(StorageFault::new(
                FaultKind::Invalid,
                name,
                "create",
                format!("size {size} is not a positive multiple of {PAGE}"),
            ));
        }
        if opfs::open_sync_in(dir, name, false).await.is_ok_and(|h| {
            h.close();
            true
        }) {
            return Err(StorageFault::new(
                FaultKind::Exists,
                name,
                "create",
                "file exists",
            ));
        }
        let handle = opfs::open_sync_in(dir, name, true)
            .await
            .map_err(|e| fault_of(name, "open", e))?;
        if let Err(e) = handle.truncate_with_f64(size as f64) {
            handle.close();
            return Err(StorageFault::from_js(name, "truncate", &e));
        }
        Ok(Self::from_handle(name, handle, size))
    }

    /// Open the existing image file `name` in `dir`; its size is the file's.
    pub async fn open(
        dir: &FileSystemDirectoryHandle,
        name: &str,
    ) -> std::result::Result<Self, StorageFault> {
        let handle = opfs::open_sync_in(dir, name, false)
            .await
            .map_err(|e| fault_of(name, "open", e))?;
        let size = match handle.get_size() {
            Ok(s) => s as u64,
            Err(e) => {
                handle.close();
                return Err(StorageFault::from_js(name, "getSize", &e));
            }
        };
        Ok(Self::from_handle(name, handle, size))
    }

    /// Wrap a handle already taken (its file holds `size` bytes).
    pub fn from_handle(name: &str, handle: FileSystemSyncAccessHandle, size: u64) -> Self {
        OpfsDevice {
            name: name.to_string(),
            handle,
            size,
            dirty: DirtyPages::new(),
            stream: Stream::default(),
            scratch: Vec::new(),
            failed: None,
            stats: OpfsStats::default(),
            closed: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fault that failed the device, if any.
    pub fn fault(&self) -> Option<&StorageFault> {
        self.failed.as_ref()
    }

    pub fn stats(&self) -> OpfsStats {
        self.stats
    }

    /// Dirty pages waiting for the next barrier (the stream's included).
    pub fn dirty_pages(&self) -> usize {
        self.dirty.len() + self.stream.len()
    }

    /// The underlying handle (for fault shims in tests and the fault demo).
    pub fn handle(&self) -> &FileSystemSyncAccessHandle {
        &self.handle
    }

    /// Make the handle fail once as `fault` says (tests, the fault demo).
    pub fn inject_fault(&self, fault: InjectedFault) {
        match fault {
            InjectedFault::QuotaOnWrite => {
                shim_handle_fault(&self.handle, "write", "QuotaExceededError", 1)
            }
            InjectedFault::FlushFails => {
                shim_handle_fault(&self.handle, "flush", "InvalidStateError", 1)
            }
        }
    }

    /// Flush and release the handle. A failed device is closed without
    /// writing anything more, and its fault is returned.
    pub fn close(mut self) -> std::result::Result<(), StorageFault> {
        let r = self.barrier();
        self.release();
        r
    }

    /// Release the handle without writing the dirty pages: a crash.
    pub fn crash(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if !self.closed {
            self.closed = true;
            self.handle.close();
        }
    }

    fn check(&self) -> Result<()> {
        match &self.failed {
            Some(f) => Err(f.clone().into()),
            None => Ok(()),
        }
    }

    fn fail(&mut self, f: StorageFault) -> DeviceError {
        self.failed = Some(f.clone());
        f.into()
    }

    /// Write the stream out as one write (no flush) and empty it.
    fn write_stream(&mut self) -> std::result::Result<(), StorageFault> {
        if self.stream.is_empty() {
            return Ok(());
        }
        let at = self.stream.offset();
        let len = (self.stream.bytes().len() as u64).min(self.size.saturating_sub(at)) as usize;
        opfs::write_at(&self.handle, at, &self.stream.bytes()[..len])
            .map_err(|e| fault_of(&self.name, "write", e))?;
        self.stats.handle_writes += 1;
        self.stats.bytes_written += len as u64;
        self.stream.clear();
        Ok(())
    }

    /// Write every dirty page out as coalesced runs, and the stream (no
    /// flush).
    fn write_out(&mut self) -> std::result::Result<(), StorageFault> {
        self.write_stream()?;
        let (handle, name, stats) = (&self.handle, &self.name, &mut self.stats);
        let read = |at: u64, span: &mut [u8]| {
            opfs::read_at(handle, at, span).map_err(|e| fault_of(name, "read", e))
        };
        self.dirty
            .runs(self.size, &mut self.scratch, read, |at, run| {
                opfs::write_at(handle, at, run).map_err(|e| fault_of(name, "write", e))?;
                stats.handle_writes += 1;
                stats.bytes_written += run.len() as u64;
                Ok(())
            })?;
        self.dirty.clear();
        Ok(())
    }

    fn barrier(&mut self) -> std::result::Result<(), StorageFault> {
        if let Some(f) = &self.failed {
            return Err(f.clone());
        }
        let r = self.write_out().and_then(|()| {
            opfs::flush(&self.handle).map_err(|e| fault_of(&self.name, "flush", e))?;
            self.stats.handle_flushes += 1;
            Ok(())
        });
        if let Err(f) = &r {
            self.failed = Some(f.clone());
        }
        r
    }

    /// Read one whole page from storage (zeros past the end of the file).
    fn load_page(&self, index: u64) -> std::result::Result<Box<[u8]>, StorageFault> {
        let mut page = vec![0u8; PAGE].into_boxed_slice();
        opfs::read_at(&self.handle, index * PAGE as u64, &mut page)
            .map_err(|e| fault_of(&self.name, "read", e))?;
        Ok(page)
    }
}

/// Map the OPFS layer's error into a typed fault (keeping the DOM name).
pub(crate) fn fault_of(image: &str, op: &'static str, e: opfs::OpfsError) -> StorageFault {
    StorageFault::from_parts(image, op, e.name, e.message)
}

impl BlockDevice for OpfsDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.check()?;
        check_access(offset, buf.len(), self.size)?;
        if let Err(e) = opfs::read_at(&self.handle, offset, buf) {
            let f = fault_of(&self.name, "read", e);
            return Err(self.fail(f));
        }
        self.dirty.overlay(offset, buf);
        self.stream.overlay(offset, buf);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        self.check()?;
        check_access(offset, buf.len(), self.size)?;
        if buf.len() >= DIRECT_MIN && offset % PAGE as u64 == 0 && buf.len() % PAGE == 0 {
            if let Err(f) = self.write_direct(offset, buf) {
                return Err(self.fail(f));
            }
            return Ok(());
        }
        for Piece {
            index,
            within: in_page,
            buf: range,
        } in pieces(offset, buf.len(), PAGE)
        {
            let n = range.len();
            let src = &buf[range];
            if let Some(page) = self.stream.get_mut(index) {
                page[in_page..in_page + n].copy_from_slice(src);
            } else if n == PAGE {
                self.write_page(index, src)?;
            } else if let Some(page) = self.dirty.get_mut(index) {
                page[in_page..in_page + n].copy_from_slice(src);
            } else {
                let mut page = match self.load_page(index) {
                    Ok(p) => p,
                    Err(f) => return Err(self.fail(f)),
                };
                page[in_page..in_page + n].copy_from_slice(src);
                self.dirty.insert(index, page);
            }
        }
        if self.dirty.bytes() >= WRITEBACK_LIMIT {
            if let Err(f) = self.write_out() {
                return Err(self.fail(f));
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.barrier().map_err(DeviceError::from)
    }
}

impl OpfsDevice {
    /// A long whole-page write straight to the handle (no copy), in writes
    /// of at most [`MAX_RUN`] bytes. Pages of the epoch it covers are
    /// superseded: an overlapping stream is written out first (so the new
    /// bytes land last) and covered dirty pages are dropped. Storage takes
    /// it before the barrier, which the epoch allows (module doc).
    ///
    /// Preconditions: `offset` and `buf.len()` page-aligned, in range.
    fn write_direct(&mut self, offset: u64, buf: &[u8]) -> std::result::Result<(), StorageFault> {
        let first = offset / PAGE as u64;
        let end = first + (buf.len() / PAGE) as u64;
        if self.stream.overlaps(first, end) {
            self.write_stream()?;
        }
        self.dirty.remove_range(first, end);
        for (i, chunk) in buf.chunks(MAX_RUN).enumerate() {
            let at = offset + (i * MAX_RUN) as u64;
            opfs::write_at(&self.handle, at, chunk)
                .map_err(|e| fault_of(&self.name, "write", e))?;
            self.stats.handle_writes += 1;
            self.stats.bytes_written += chunk.len() as u64;
        }
        Ok(())
    }

    /// A whole-page write of page `index` (not in the stream): the next
    /// page of the stream (which is written out when full), the start of a
    /// new stream, or a dirty page.
    fn write_page(&mut self, index: u64, src: &[u8]) -> Result<()> {
        let next = !self.stream.is_empty() && index == self.stream.end();
        if !next && !self.stream.is_empty() && self.stream.len() < STREAM_RESTART {
            // A short stream gives way to a new one starting here.
            self.stream.spill(&mut self.dirty);
        }
        if (next || self.stream.is_empty()) && self.stream.push(index, src) {
            // The page now lives in the stream only.
            self.dirty.remove(index);
            if self.stream.is_full() {
                if let Err(f) = self.write_stream() {
                    return Err(self.fail(f));
                }
            }
            return Ok(());
        }
        match self.dirty.get_mut(index) {
            Some(page) => page.copy_from_slice(src),
            None => self.dirty.insert(index, src.to_vec().into_boxed_slice()),
        }
        Ok(())
    }
}

impl Drop for OpfsDevice {
    /// A drop without [`OpfsDevice::close`] is a crash: dirty pages are lost.
    fn drop(&mut self) {
        self.release();
    }
}
