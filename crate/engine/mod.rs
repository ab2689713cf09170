//! ext4 on disk: format, allocation, directories, inline data, extents,
//! block maps, xattrs, jbd2 journal, recovery, fsck.

pub mod csum;
pub mod error;
pub mod journal;
pub mod map;

pub use error::{CorruptKind, Ext4Error, Result};
