//! The engine's error type. Corruption is always `Corrupt(CorruptKind)`
//! naming the structure and the block or inode; parsing never panics.

use crate::device::DeviceError;
use thiserror::Error;

pub type Result<T> = std::result::Result<T, Ext4Error>;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ext4Error {
    #[error("device: {0}")]
    Device(#[from] DeviceError),
    /// The jbd2 layer failed (journal corrupt, no credits, no log space).
    #[error("journal: {0}")]
    Journal(super::journal::JournalError),
    #[error("corrupt filesystem: {0}")]
    Corrupt(CorruptKind),
    /// The image uses INCOMPAT features this engine does not implement.
    #[error("unsupported incompatible features: {names}")]
    UnsupportedFeatures { names: String, mask: u32 },
    /// Mounted read-only (unknown RO_COMPAT features, or asked for).
    #[error("filesystem is read-only")]
    ReadOnly,
    /// The engine reads this feature but cannot make this change correctly
    /// (writing on bigalloc, quota, ea_inode, ...; data of a verity or
    /// encrypted inode): refused, the image is left as it was.
    #[error("not supported on this filesystem: {feature} (read-only)")]
    Unsupported { feature: &'static str },
    /// The journal holds transactions not yet replayed (INCOMPAT_RECOVER):
    /// the filesystem is read-only until recovery runs.
    #[error("the journal needs recovery; filesystem is read-only until it is replayed")]
    NeedsRecovery,
    #[error("no space left on device")]
    NoSpace,
    #[error("no free inodes")]
    NoInodes,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Exists(String),
    #[error("not a directory: {0}")]
    NotDir(String),
    #[error("is a directory: {0}")]
    IsDir(String),
    #[error("directory not empty: {0}")]
    NotEmpty(String),
    #[error("file too large")]
    FileTooBig,
    #[error("name too long")]
    NameTooLong,
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// What is corrupt, and where. Every variant names the inode or block.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptKind {
    #[error("bad superblock magic {magic:#06x}")]
    SuperblockMagic { magic: u16 },
    #[error("superblock checksum mismatch")]
    SuperblockChecksum,
    #[error("superblock field {field} invalid ({value})")]
    SuperblockField { field: &'static str, value: u64 },
    #[error("image truncated: need block {block}, device has {blocks} blocks")]
    Truncated { block: u64, blocks: u64 },
    #[error("group descriptor {group} checksum mismatch")]
    GroupDescChecksum { group: u32 },
    #[error("inode {ino} checksum mismatch")]
    InodeChecksum { ino: u32 },
    #[error("inode {ino}: {what}")]
    Inode { ino: u32, what: String },
    #[error("extent tree of inode {ino}, block {block}: {what}")]
    Extent { ino: u32, block: u64, what: String },
    #[error("extent block {block} of inode {ino}: checksum mismatch")]
    ExtentChecksum { ino: u32, block: u64 },
    #[error("block map of inode {ino}, block {block}: {what}")]
    BlockMap { ino: u32, block: u64, what: String },
    #[error("directory inode {ino}, block {block}: {what}")]
    Dir { ino: u32, block: u64, what: String },
    #[error("directory inode {ino}, block {block}: checksum mismatch")]
    DirChecksum { ino: u32, block: u64 },
    #[error("xattr of inode {ino} (block {block}): {what}")]
    Xattr { ino: u32, block: u64, what: String },
    #[error("inline data of inode {ino}: {what}")]
    InlineData { ino: u32, what: String },
    #[error("bitmap of group {group} (block {block}): {what}")]
    Bitmap {
        group: u32,
        block: u64,
        what: String,
    },
}

impl From<CorruptKind> for Ext4Error {
    fn from(k: CorruptKind) -> Self {
        Ext4Error::Corrupt(k)
    }
}
