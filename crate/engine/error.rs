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
    #[error("extent tree of inode {ino}, block {block}: {why}")]
    Extent {
        ino: u32,
        block: u64,
        why: ExtentCorruption,
    },
    #[error("extent block {block} of inode {ino}: checksum mismatch")]
    ExtentChecksum { ino: u32, block: u64 },
    #[error("block map of inode {ino}, block {block}: {why}")]
    BlockMap {
        ino: u32,
        block: u64,
        why: BlockMapCorruption,
    },
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

/// What is wrong in an extent tree node (`struct ext4_extent_header` and
/// its entries) or in the tree as a whole. The messages name the fields as
/// the kernel's `ext4_ext_check` and e2fsck do.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtentCorruption {
    #[error("invalid magic {magic:#06x}")]
    BadMagic { magic: u16 },
    #[error("eh_depth {depth} too large")]
    DepthTooLarge { depth: u16 },
    #[error("unexpected eh_depth {depth}, parent says {parent}")]
    DepthMismatch { depth: u16, parent: u16 },
    #[error("invalid eh_max {eh_max} (space {space})")]
    BadMax { eh_max: u16, space: u16 },
    #[error("eh_entries {entries} > eh_max {eh_max}")]
    EntriesOverMax { entries: u16, eh_max: u16 },
    #[error("eh_entries is 0 but eh_depth is > 0")]
    NoEntriesWithDepth,
    #[error("empty non-root node")]
    EmptyNonRoot,
    #[error("extent {index} has zero length")]
    ZeroLength { index: usize },
    #[error("extent {index} (lblk {lblk}) points at blocks {start}+{len} past blocks_count {blocks_count}")]
    PastBlocksCount {
        index: usize,
        lblk: u32,
        start: u64,
        len: u32,
        blocks_count: u64,
    },
    #[error("extent {index} runs past the last logical block")]
    PastLastLogical { index: usize },
    #[error("index {index} points at block {leaf} (blocks_count {blocks_count})")]
    IndexOutOfRange {
        index: usize,
        leaf: u64,
        blocks_count: u64,
    },
    #[error("index {index} points at its own block")]
    IndexSelf { index: usize },
    #[error("entry {index} (lblk {lblk}) out of order or overlapping")]
    OutOfOrder { index: usize, lblk: u32 },
    #[error("first entry lblk {lblk} != index key {key}")]
    KeyMismatch { lblk: u32, key: u32 },
    #[error("extent at {lblk} overlaps or precedes the one at {prev}")]
    Overlap { lblk: u32, prev: u32 },
    #[error("tree block {block} referenced twice")]
    TreeBlockTwice { block: u64 },
    #[error("empty index node")]
    EmptyIndexNode,
    #[error("extent at {lblk} vanished")]
    Vanished { lblk: u32 },
    #[error("remove_space does not converge")]
    RemoveSpaceLoops,
    #[error("tree block pool exhausted")]
    PoolExhausted,
}

/// What is wrong in an indirect block map (`i_block` and the indirect
/// blocks it points at), or with a data write into filesystem metadata.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockMapCorruption {
    #[error("pointer {offset} = {value} past blocks_count")]
    PointerPastEnd { offset: usize, value: u32 },
    #[error("indirect pointer {offset} = {value} past blocks_count")]
    IndirectPointerPastEnd { offset: usize, value: u32 },
    #[error("pointer {ptr} past blocks_count")]
    BlockPastEnd { ptr: u32 },
    #[error("pointer {ptr} (lblk {lblk}) past blocks_count")]
    MappedPastEnd { ptr: u32, lblk: u64 },
    #[error("block {ptr} mapped at lblk {lblk}, past 2^32 - 1")]
    LblkPast32Bits { ptr: u32, lblk: u64 },
    #[error("indirect block {block} referenced twice")]
    IndirectTwice { block: u32 },
    #[error("indirect block {block} also mapped as data at lblk {lblk}")]
    IndirectAlsoData { block: u64, lblk: u32 },
    #[error("data write into filesystem metadata")]
    DataIntoMetadata,
    #[error("journalled data into filesystem metadata")]
    JournalledDataIntoMetadata,
    #[error("data write of {count} blocks into filesystem metadata")]
    DataRunIntoMetadata { count: u64 },
}

impl From<CorruptKind> for Ext4Error {
    fn from(k: CorruptKind) -> Self {
        Ext4Error::Corrupt(k)
    }
}
