//! An in-memory [`MapContext`]: blocks in a `Vec`, a first-fit bitmap
//! allocator that records who owns what. Tests (here and in other layers)
//! use it to check that a mapping owns exactly the blocks it allocated.

use super::MapContext;
use crate::engine::error::{Ext4Error, Result};
use std::collections::BTreeSet;

/// A filesystem reduced to what block mapping needs.
#[derive(Debug, Clone)]
pub struct MemMapContext {
    pub block_size: u32,
    pub ino: u32,
    pub csum_seed: Option<u32>,
    /// Block contents (only blocks ever written are non-zero).
    pub blocks: Vec<Vec<u8>>,
    /// Allocation bitmap: true = in use (by the mapping or `reserved`).
    pub used: Vec<bool>,
    /// Blocks in use by "someone else" (never freed by the mapping).
    pub reserved: Vec<bool>,
    /// Longest run one `alloc_blocks` call returns (small = fragmented).
    pub max_run: u32,
    /// When set, allocations fail with `NoSpace` after this many more blocks.
    pub alloc_budget: Option<u64>,
    /// Counters.
    pub reads: u64,
    pub writes: u64,
}

impl MemMapContext {
    /// `blocks_count` blocks of `block_size`; block 0 is reserved (like the
    /// boot block / superblock area, a pointer to it is never valid).
    pub fn new(block_size: u32, blocks_count: u64, csum_seed: Option<u32>) -> Self {
        let n = blocks_count as usize;
        let mut c = MemMapContext {
            block_size,
            ino: 12,
            csum_seed,
            blocks: vec![Vec::new(); n],
            used: vec![false; n],
            reserved: vec![false; n],
            max_run: u32::MAX,
            alloc_budget: None,
            reads: 0,
            writes: 0,
        };
        let _ = c.reserve(0);
        c
    }

    /// Mark a free `pblk` used by someone else; false if it was not free.
    pub fn reserve(&mut self, pblk: u64) -> bool {
        match self.used.get_mut(pblk as usize) {
            Some(u) if !*u => {
                *u = true;
                self.reserved[pblk as usize] = true;
                true
            }
            _ => false,
        }
    }

    /// Blocks allocated through this context and not yet freed.
    pub fn allocated(&self) -> BTreeSet<u64> {
        (0..self.used.len() as u64)
            .filter(|b| self.used[*b as usize] && !self.reserved[*b as usize])
            .collect()
    }

    /// Raw access for tests that corrupt blocks.
    pub fn block_mut(&mut self, pblk: u64) -> &mut Vec<u8> {
        let bs = self.block_size as usize;
        let b = &mut self.blocks[pblk as usize];
        if b.is_empty() {
            b.resize(bs, 0);
        }
        b
    }

    fn check(&self, pblk: u64, len: usize) -> Result<()> {
        if pblk >= self.used.len() as u64 || len != self.block_size as usize {
            return Err(Ext4Error::Invalid(format!(
                "block {pblk} (len {len}) out of range"
            )));
        }
        Ok(())
    }
}

impl MapContext for MemMapContext {
    fn block_size(&self) -> u32 {
        self.block_size
    }
    fn blocks_count(&self) -> u64 {
        self.used.len() as u64
    }
    fn ino(&self) -> u32 {
        self.ino
    }
    fn inode_csum_seed(&self) -> Option<u32> {
        self.csum_seed
    }
    fn read_block(&mut self, pblk: u64, buf: &mut [u8]) -> Result<()> {
        self.check(pblk, buf.len())?;
        self.reads += 1;
        let b = &self.blocks[pblk as usize];
        if b.is_empty() {
            buf.fill(0);
        } else {
            buf.copy_from_slice(b);
        }
        Ok(())
    }
    fn write_block(&mut self, pblk: u64, buf: &[u8]) -> Result<()> {
        self.check(pblk, buf.len())?;
        if !self.used[pblk as usize] || self.reserved[pblk as usize] {
            return Err(Ext4Error::Invalid(format!(
                "write to block {pblk} that the mapping does not own"
            )));
        }
        self.writes += 1;
        self.blocks[pblk as usize] = buf.to_vec();
        Ok(())
    }
    fn alloc_blocks(&mut self, goal: u64, count: u32, _metadata: bool) -> Result<(u64, u32)> {
        let n = self.used.len() as u64;
        let want = count.max(1).min(self.max_run.max(1)) as u64;
        let want = match self.alloc_budget {
            Some(0) => return Err(Ext4Error::NoSpace),
            Some(b) => want.min(b),
            None => want,
        };
        let goal = if goal >= n { 0 } else { goal };
        // First free block at or after the goal, wrapping once.
        let first = (goal..n)
            .chain(0..goal)
            .find(|b| !self.used[*b as usize])
            .ok_or(Ext4Error::NoSpace)?;
        let mut got = 0u64;
        while got < want && first + got < n && !self.used[(first + got) as usize] {
            self.used[(first + got) as usize] = true;
            self.blocks[(first + got) as usize].clear();
            got += 1;
        }
        if let Some(b) = self.alloc_budget.as_mut() {
            *b -= got;
        }
        Ok((first, got as u32))
    }
    fn free_blocks(&mut self, pblk: u64, count: u32) -> Result<()> {
        for b in pblk..pblk + count as u64 {
            if b >= self.used.len() as u64 || !self.used[b as usize] || self.reserved[b as usize] {
                return Err(Ext4Error::Invalid(format!(
                    "free of block {b} that is not allocated"
                )));
            }
        }
        for b in pblk..pblk + count as u64 {
            self.used[b as usize] = false;
        }
        Ok(())
    }
}
