//! ext4 on disk: format, allocation, directories, inline data, extents,
//! block maps, xattrs, jbd2 journal, recovery, fsck.

pub mod csum;
pub mod error;
pub mod journal;
pub mod map;

pub use error::{CorruptKind, Ext4Error, Result};
pub mod balloc;
pub mod bmap;
pub mod cache;
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
