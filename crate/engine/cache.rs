//! The metadata block cache (the engine's buffer heads). Metadata blocks are
//! read once and kept; modified blocks are marked dirty and written back by
//! `Ext4Fs::sync`. Every modification goes through
//! `Ext4Fs::ext4_handle_dirty_metadata`, the seam where the journal hooks in.

use std::collections::BTreeMap;

/// One cached block.
#[derive(Debug, Clone)]
pub struct Buffer {
    pub data: Vec<u8>,
    pub dirty: bool,
}

/// Cache statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub writebacks: u64,
}

/// Physical block number -> buffer. Ordered, so write-back is deterministic.
#[derive(Debug, Default, Clone)]
pub struct BufferCache {
    pub(crate) blocks: BTreeMap<u64, Buffer>,
    pub stats: CacheStats,
    /// Clean buffers are dropped once the cache holds more than this many.
    pub capacity: usize,
}

impl BufferCache {
    pub fn new(capacity: usize) -> Self {
        BufferCache {
            blocks: BTreeMap::new(),
            stats: CacheStats::default(),
            capacity,
        }
    }

    pub fn get(&mut self, blk: u64) -> Option<&Buffer> {
        let b = self.blocks.get(&blk);
        if b.is_some() {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
        }
        b
    }

    pub fn insert_clean(&mut self, blk: u64, data: Vec<u8>) {
        if self.blocks.len() >= self.capacity {
            self.shrink();
        }
        self.blocks.insert(blk, Buffer { data, dirty: false });
    }

    pub fn insert_dirty(&mut self, blk: u64, data: Vec<u8>) {
        self.blocks.insert(blk, Buffer { data, dirty: true });
    }

    /// `bforget`: drop a block (freed metadata must never be written back).
    pub fn forget(&mut self, blk: u64) {
        self.blocks.remove(&blk);
    }

    /// Drop blocks `start..start + count` (one range lookup, not one per
    /// block: the usual case, a run of file data, has none cached).
    pub fn forget_range(&mut self, start: u64, count: u64) {
        let end = start.saturating_add(count);
        let cached: Vec<u64> = self.blocks.range(start..end).map(|(&b, _)| b).collect();
        for b in cached {
            self.blocks.remove(&b);
        }
    }

    /// Dirty block numbers in ascending order.
    pub fn dirty_blocks(&self) -> Vec<u64> {
        self.blocks
            .iter()
            .filter(|(_, b)| b.dirty)
            .map(|(&k, _)| k)
            .collect()
    }

    pub fn mark_clean(&mut self, blk: u64) {
        if let Some(b) = self.blocks.get_mut(&blk) {
            b.dirty = false;
        }
    }

    /// Drop every clean buffer.
    pub fn shrink(&mut self) {
        self.blocks.retain(|_, b| b.dirty);
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}
