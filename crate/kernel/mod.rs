//! Simulated kernel code paths, as async functions named like the kernel's,
//! over the deterministic simulator (`crate::sim`) and the real engine
//! (`crate::engine`).
//!
//! - [`state`]: the simulated kernel ([`Kernel`]): the mounted engine, the
//!   in-memory `ext4_inode_info` ([`Ext4InodeInfo`]) with its locks, the
//!   processes with their `mm`, the data log the oracles read.
//! - [`pagecache`]: pages with uptodate/dirty/writeback and buffer state.
//! - [`provenance`]: where every byte of every block came from (the
//!   stale-data oracle) and what was promised durable (the lost-write oracle).
//! - [`handle`]: `ext4_journal_start`/`ext4_journal_stop`, the seam the
//!   ext4<->jbd2 glue replaces ([`JournalOps`]).
//! - [`mm`], [`fault`]: mappings, `filemap_fault`, `ext4_page_mkwrite`.
//! - [`buffered`], [`direct`], [`writeback`], [`inode_ops`], [`migrate`]:
//!   write(2)/read(2), `iomap_dio_rw`, `ext4_writepages`, fsync/truncate/
//!   fallocate/punch, `EXT4_IOC_MIGRATE`.
//! - [`image`], [`runner`]: a scenario's image and its exploration;
//!   [`fsck_memo`]: the end-of-run fsck, memoized per image.
//!
//! Locking rule of the model: kernel state lives in `RefCell`s that are never
//! borrowed across an `.await`; every access another task could race with is
//! announced to the scheduler first (a lock, or a [`crate::sim::Location`]
//! read/write), so DPOR sees the dependence.

pub mod base_image;
pub mod buffered;
pub mod dax;
pub mod direct;
pub mod fault;
pub mod fsck_memo;
pub mod handle;
pub mod image;
pub mod inline;
pub mod inode_ops;
pub mod ioctl;
// jbd2glue: the journal glue and S1's conversion paths.
pub mod jbd2;
pub mod migrate;
pub mod mm;
pub mod pagecache;
pub mod provenance;
pub mod runner;
pub mod state;
pub mod state_digest;
pub mod writeback;

pub use crate::scenario::history::{Change, KernelVersion};
pub use handle::{ext4_journal_start, ext4_journal_stop, DefaultJournalOps, JournalOps};
pub use state::{Errno, Ext4InodeInfo, KResult, Kernel};
