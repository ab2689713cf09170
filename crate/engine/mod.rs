//! ext4 on disk: format, allocation, directories, inline data, extents,
//! block maps, xattrs, jbd2 journal, recovery, fsck.
//!
//! # Public API (what the simulated kernel calls)
//!
//! - Mount and format: [`Ext4Fs::open`] (refuses unknown INCOMPAT features
//!   by name; read-only for unknown RO_COMPAT or INCOMPAT_RECOVER, writes
//!   then fail with `ReadOnly` / `NeedsRecovery`), [`mkfs()`] with
//!   [`MkfsOptions`] (`apply_features("inline_data,^has_journal")`).
//! - Paths (fs/ext4/namei.c): `lookup`, `lookup_in`, `create`, `mkdir`,
//!   `link`, `symlink`, `readlink`, `unlink`, `rmdir`, `rename`,
//!   `dir_entries`, `setattr`, `set_flags`.
//! - Data: `read`, `read_all`, `write`, `truncate`, `fallocate`,
//!   `punch_hole`; block level: `ext4_map_blocks(ino, lblk, len, flags)`
//!   (and `ext4_map_blocks_inode` on an inode already read),
//!   `read_data_block`, `write_data_block`, `walk_mapping`.
//! - Inline data: `read_inline_data`, `write_inline_data`,
//!   `ext4_convert_inline_data`, `ext4_destroy_inline_data`,
//!   `inline::max_inline_size`.
//! - Inodes and xattrs: `ext4_iget`, `write_inode`, `read_inode_raw`,
//!   `write_inode_raw`, `get_xattr`, `set_xattr`, `list_xattrs`.
//! - Metadata and the journal seam: `bread` (cached), and
//!   `ext4_handle_dirty_metadata(blk, data)`, the one function every
//!   metadata change passes (bitmaps, descriptors, the superblock buffer,
//!   inode tables, directory/htree/extent/indirect/xattr blocks).
//!   `ext4_prepare_sync` + `dirty_buffers` + `mark_buffers_clean` let the
//!   journal take them into a transaction; `sync` writes them home.
//!   `ext4_reload` drops everything volatile (after a device snapshot
//!   restore or a simulated crash).
//! - Checking: [`fsck::fsck`] / `Ext4Fs::ext4_fsck` -> structured
//!   [`fsck::Finding`]s; `is_clean()` agrees with `e2fsck -fn`.
//!
//! Time is the `now` field (deterministic); generations come from a
//! seeded sequence. Nothing here iterates a hash map.

pub mod csum;
pub mod error;
pub mod journal;
pub mod map;

pub use error::{
    BitmapCorruption, BlockMapCorruption, CorruptKind, DirCorruption, Ext4Error, ExtentCorruption,
    InlineDataCorruption, InodeCorruption, MkfsError, Result, XattrCorruption,
};
pub mod balloc;
pub mod bmap;
pub mod cache;
pub mod casefold;
pub mod dir;
pub mod dirops;
pub mod file;
pub mod fs;
pub mod group_desc;
pub mod inline;
pub mod inode;
pub mod mkfs;
pub mod namei;
pub(crate) mod ondisk;
pub mod orphan;
pub mod superblock;
pub mod xattr;
pub mod xattr_ops;

pub use fs::{Ext4Fs, OpenOptions};
pub use mkfs::{mkfs, MkfsOptions};
pub mod fsck;
pub mod hash;
pub mod htree;
// jbd2glue: the journal joined to the engine.
pub mod ext4_jbd2;
pub mod ext4_journal_load;
pub mod mount_opts;
pub use ext4_journal_load::{ext4_recover_device, MountReport};
pub use mount_opts::{DataMode, MountOptions};
