//! Dirty pages between barriers, and their coalescing into long contiguous
//! runs. Pure data structure (no JavaScript): the OPFS device keeps the
//! writes of the current barrier epoch here and writes them out as a few
//! large writes, since each OPFS write costs ~40-75 µs whatever its size.

use std::collections::BTreeMap;

/// The cache's unit: ext4's common block size. Writes smaller than a page
/// (1 KiB blocks) read the rest of the page from storage first.
pub const PAGE: usize = 4096;

/// The longest single write a write-out issues (1 MiB writes reach the
/// storage's bandwidth; longer ones gain nothing and cost a larger buffer).
pub const MAX_RUN: usize = 1 << 20;

/// The longest run of clean pages a write-out bridges (see
/// [`DirtyPages::runs`]): 16 pages = 64 KiB, about the cost of one OPFS
/// write call (~40-75 µs) at ~1-2 GB/s of read-back plus write.
pub const MAX_GAP: u64 = 16;

/// One piece of a byte range cut at `unit` boundaries: the unit's index,
/// the offset inside the unit, and the piece's range inside the caller's
/// buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub index: u64,
    pub within: usize,
    pub buf: std::ops::Range<usize>,
}

/// Cut `len` bytes at device `offset` into pieces that each stay inside
/// one `unit`-sized page or chunk (the devices' read/write loops).
pub fn pieces(offset: u64, len: usize, unit: usize) -> impl Iterator<Item = Piece> {
    let mut done = 0usize;
    std::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let at = offset + done as u64;
        let within = (at % unit as u64) as usize;
        let n = (unit - within).min(len - done);
        let piece = Piece {
            index: at / unit as u64,
            within,
            buf: done..done + n,
        };
        done += n;
        Some(piece)
    })
}

/// Dirty pages keyed by page index, in order (a `BTreeMap`, so a write-out
/// walks them by ascending offset and finds runs of adjacent pages).
#[derive(Debug, Default)]
pub struct DirtyPages {
    pages: BTreeMap<u64, Box<[u8]>>,
}

impl DirtyPages {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.pages.len() * PAGE
    }

    pub fn get(&self, index: u64) -> Option<&[u8]> {
        self.pages.get(&index).map(|p| &p[..])
    }

    pub fn get_mut(&mut self, index: u64) -> Option<&mut [u8]> {
        self.pages.get_mut(&index).map(|p| &mut p[..])
    }

    /// Insert (or replace) a whole page.
    pub fn insert(&mut self, index: u64, page: Box<[u8]>) {
        debug_assert_eq!(page.len(), PAGE);
        self.pages.insert(index, page);
    }

    /// Take page `index` out, if dirty.
    pub fn remove(&mut self, index: u64) -> Option<Box<[u8]>> {
        self.pages.remove(&index)
    }

    /// Drop the dirty pages `first..end` (a write of those whole pages went
    /// to storage directly, so their older bytes must not be written over
    /// it at the barrier nor shown to reads).
    pub fn remove_range(&mut self, first: u64, end: u64) {
        if first >= end {
            return;
        }
        let keys: Vec<u64> = self.pages.range(first..end).map(|(&i, _)| i).collect();
        for i in keys {
            self.pages.remove(&i);
        }
    }

    /// Copy the dirty parts of `[offset, offset + buf.len())` over `buf`.
    pub fn overlay(&self, offset: u64, buf: &mut [u8]) {
        let Some(end) = offset.checked_add(buf.len() as u64) else {
            return;
        };
        if buf.is_empty() {
            return;
        }
        let first = offset / PAGE as u64;
        let last = (end - 1) / PAGE as u64;
        for (&index, page) in self.pages.range(first..=last) {
            let page_start = index * PAGE as u64;
            let from = page_start.max(offset);
            let to = (page_start + PAGE as u64).min(end);
            let src = &page[(from - page_start) as usize..(to - page_start) as usize];
            buf[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
    }

    /// Hand every dirty page to `write` as runs, in ascending order, each
    /// at most [`MAX_RUN`] bytes and clipped to `size` (the device's end).
    /// A run bridges gaps of up to [`MAX_GAP`] clean pages: the whole span
    /// is first read back with one `read` (so the clean pages are rewritten
    /// with the bytes storage already holds), since one OPFS write call
    /// costs as much as moving ~16 pages. The pages stay until
    /// [`Self::clear`], so a failed write-out loses nothing.
    ///
    /// Rewriting a clean page with its own bytes is harmless to the
    /// barrier: whatever a crash leaves of that write, the page holds what
    /// it held before.
    pub fn runs<E>(
        &self,
        size: u64,
        scratch: &mut Vec<u8>,
        mut read: impl FnMut(u64, &mut [u8]) -> Result<(), E>,
        mut write: impl FnMut(u64, &[u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        let max_pages = (MAX_RUN / PAGE) as u64;
        let mut count = 0;
        let mut iter = self.pages.keys().copied().peekable();
        while let Some(start) = iter.next() {
            let mut last = start;
            let mut dirty = 1u64;
            while let Some(&next) = iter.peek() {
                if next - last - 1 > MAX_GAP || next - start + 1 > max_pages {
                    break;
                }
                last = next;
                dirty += 1;
                iter.next();
            }
            let span = last - start + 1;
            scratch.resize(span as usize * PAGE, 0);
            let at = start * PAGE as u64;
            if dirty < span {
                read(at, scratch)?;
            }
            for (&index, page) in self.pages.range(start..=last) {
                let off = (index - start) as usize * PAGE;
                scratch[off..off + PAGE].copy_from_slice(page);
            }
            let len = (scratch.len() as u64).min(size.saturating_sub(at)) as usize;
            if len > 0 {
                write(at, &scratch[..len])?;
                count += 1;
            }
        }
        Ok(count)
    }

    pub fn clear(&mut self) {
        self.pages.clear();
    }
}

/// The shortest whole-page write the OPFS device hands to storage
/// directly instead of copying it into its stream or dirty pages: at this
/// length the copy saved (~50 us per MiB) outweighs the share of a handle
/// call (~40-75 us each) the stream would have spread over a whole MiB.
pub const DIRECT_MIN: usize = MAX_RUN / 2;

/// Pages a [`Stream`] shorter than this is spilled into the dirty pages
/// for, when a write elsewhere would start a new stream (a long stream
/// keeps going; the stray page goes to the dirty pages instead).
pub const STREAM_RESTART: usize = 16;

/// A run of whole pages written in ascending order (a sequential write:
/// file data the allocator laid out contiguously), kept in one buffer and
/// written out as one write as soon as it reaches [`MAX_RUN`] bytes,
/// instead of as boxed dirty pages copied again into a run at the barrier.
/// Writing it before the barrier is allowed: within an epoch, writes may
/// reach storage early and in any order (see the OPFS device's module doc).
///
/// Invariant kept by the device: a page is in the stream or in the dirty
/// pages, never both.
#[derive(Debug, Default)]
pub struct Stream {
    /// First page index.
    start: u64,
    /// Whole pages from `start` on; capacity [`MAX_RUN`] once used.
    buf: Vec<u8>,
}

impl Stream {
    /// Pages held.
    pub fn len(&self) -> usize {
        self.buf.len() / PAGE
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The page index one past the last.
    pub fn end(&self) -> u64 {
        self.start + self.len() as u64
    }

    /// Byte offset of the first page.
    pub fn offset(&self) -> u64 {
        self.start * PAGE as u64
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn is_full(&self) -> bool {
        self.buf.len() >= MAX_RUN
    }

    /// The page `index` if the stream holds it.
    pub fn get_mut(&mut self, index: u64) -> Option<&mut [u8]> {
        if index < self.start || index >= self.end() {
            return None;
        }
        let at = (index - self.start) as usize * PAGE;
        self.buf.get_mut(at..at + PAGE)
    }

    /// Append `page` (whole) if it is the next page, or start the stream
    /// at `index` if empty. False (nothing done) otherwise.
    pub fn push(&mut self, index: u64, page: &[u8]) -> bool {
        debug_assert_eq!(page.len(), PAGE);
        if self.buf.is_empty() {
            self.start = index;
            self.buf.reserve(MAX_RUN);
        } else if index != self.end() || self.is_full() {
            return false;
        }
        self.buf.extend_from_slice(page);
        true
    }

    /// Copy the stream's parts of `[offset, offset + buf.len())` over `buf`.
    pub fn overlay(&self, offset: u64, buf: &mut [u8]) {
        let s = self.offset();
        let e = s + self.buf.len() as u64;
        let Some(end) = offset.checked_add(buf.len() as u64) else {
            return;
        };
        let from = s.max(offset);
        let to = e.min(end);
        if from < to {
            buf[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&self.buf[(from - s) as usize..(to - s) as usize]);
        }
    }

    /// Whether the stream holds any page of `first..end`.
    pub fn overlaps(&self, first: u64, end: u64) -> bool {
        !self.is_empty() && first < self.end() && self.start < end
    }

    /// Move every page into `dirty` (the stream is left empty).
    pub fn spill(&mut self, dirty: &mut DirtyPages) {
        for (i, page) in self.buf.chunks_exact(PAGE).enumerate() {
            dirty.insert(self.start + i as u64, page.to_vec().into_boxed_slice());
        }
        self.buf.clear();
    }

    /// Forget the pages (after writing them out, or on a crash).
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}
