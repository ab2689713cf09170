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
    /// `EMLINK`: the inode already has `EXT4_LINK_MAX` links (or, for a
    /// directory without `dir_nlink`, its parent does).
    #[error("too many links to inode {ino}")]
    TooManyLinks { ino: u32 },
    /// `readlink` of an inode that is not a symlink (`EINVAL`).
    #[error("inode {ino} is not a symlink")]
    NotSymlink { ino: u32 },
    /// `ELOOP`: more than `MAX_SYMLINKS` symlinks followed in one lookup.
    #[error("too many symlinks in {path:?}")]
    SymlinkLoop { path: String },
    /// A path with no usable final component (`""`, `"."`, `".."`).
    #[error("bad final component in {path:?}")]
    BadName { path: String },
    /// rename(2) of a directory into its own subtree (`EINVAL`).
    #[error("cannot move {path:?} into itself")]
    MoveIntoItself { path: String },
    /// The mkfs options cannot make a filesystem.
    #[error("mkfs: {0}")]
    Mkfs(MkfsError),
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// Why `mkfs` refused its options (mke2fs's own checks, or a layout this
/// mkfs does not make).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MkfsError {
    #[error("unknown or unsupported feature {name:?}")]
    UnknownFeature { name: String },
    #[error("block size {block_size}")]
    BlockSize { block_size: u32 },
    #[error("inode size {inode_size}")]
    InodeSize { inode_size: u32 },
    #[error("device too small: {bytes} bytes")]
    DeviceTooSmall { bytes: u64 },
    #[error("journal of {blocks} blocks is too small (filesystem too small?)")]
    JournalTooSmall { blocks: u64 },
    #[error("journal of {blocks} blocks needs a TIND block")]
    JournalNeedsTind { blocks: u64 },
    #[error("run of {blocks} blocks needs more than 4 extents")]
    RunTooLongForExtents { blocks: u64 },
    #[error("block map run of {blocks} blocks is longer than 12 blocks without extents")]
    RunTooLongForBlockMap { blocks: u64 },
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
    #[error("inode {ino}: {why}")]
    Inode { ino: u32, why: InodeCorruption },
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
    #[error("directory inode {ino}, block {block}: {why}")]
    Dir {
        ino: u32,
        block: u64,
        why: DirCorruption,
    },
    #[error("directory inode {ino}, block {block}: checksum mismatch")]
    DirChecksum { ino: u32, block: u64 },
    #[error("xattr of inode {ino} (block {block}): {why}")]
    Xattr {
        ino: u32,
        block: u64,
        why: XattrCorruption,
    },
    #[error("inline data of inode {ino}: {why}")]
    InlineData { ino: u32, why: InlineDataCorruption },
    #[error("bitmap of group {group} (block {block}): {why}")]
    Bitmap {
        group: u32,
        block: u64,
        why: BitmapCorruption,
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

/// What is wrong with an inode's fields, or with a chain of inodes.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InodeCorruption {
    #[error("inode table out of block")]
    OutsideTableBlock,
    #[error("i_extra_isize {extra}")]
    ExtraIsize { extra: usize },
    #[error("directory size {size}")]
    DirectorySize { size: u64 },
    #[error("orphan list: a link out of range or in a cycle")]
    OrphanChain,
    #[error("journal inode of {size} bytes")]
    JournalSize { size: u64 },
    #[error("journal has a hole at block {lblk}")]
    JournalHole { lblk: u32 },
}

/// What is wrong in a directory block: a linear entry (`struct
/// ext4_dir_entry_2`, checked as `__ext4_check_dir_entry` does) or an htree
/// node (`dx_probe`).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirCorruption {
    #[error("hole in directory")]
    Hole,
    #[error("entry header at {offset} runs past the end")]
    HeaderPastEnd { offset: usize },
    #[error("rec_len {rec_len} at offset {offset}")]
    RecLen { rec_len: usize, offset: usize },
    #[error("name_len {name_len} exceeds rec_len {rec_len} at offset {offset}")]
    NameLen {
        name_len: usize,
        rec_len: usize,
        offset: usize,
    },
    #[error("no entry at offset {offset}")]
    NoEntryAt { offset: usize },
    #[error("no '..' entry")]
    NoDotDot,
    #[error("dx limit {limit}, expected {want}")]
    DxLimit { limit: u16, want: u16 },
    #[error("dx count {count} (limit {limit})")]
    DxCount { count: usize, limit: u16 },
    #[error("dx hashes out of order")]
    DxHashOrder,
    #[error("dx node without its fake dirent")]
    DxNodeFakeDirent,
    #[error("dx_root_info v{version} len {info_len} levels {levels}")]
    DxRootInfo {
        version: u8,
        info_len: u8,
        levels: usize,
    },
}

/// What is wrong in an extended-attribute area (in the inode body or an
/// attribute block), as `ext4_xattr_check_entries` and
/// `ext4_xattr_block_csum_verify` see it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum XattrCorruption {
    #[error("entry list runs off the end")]
    ListPastEnd,
    #[error("entry header at {offset} runs off the end")]
    HeaderPastEnd { offset: usize },
    #[error("values in EA inodes are not supported")]
    EaInodeValue,
    #[error("name at {offset} runs off the end")]
    NamePastEnd { offset: usize },
    #[error("value of {size} bytes at {offset}")]
    ValuePastEnd { size: usize, offset: usize },
    #[error("entry list not terminated")]
    Unterminated,
    #[error("bad magic {magic:#x}")]
    BlockMagic { magic: u32 },
    #[error("h_blocks {h_blocks}")]
    BlockCount { h_blocks: u32 },
    #[error("checksum mismatch")]
    BlockChecksum,
}

/// What is wrong with an inode's inline data (`i_block` plus the
/// `system.data` attribute).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InlineDataCorruption {
    #[error("no system.data attribute")]
    NoSystemData,
    #[error("i_size {size} > inline {inline}")]
    SizePastInline { size: usize, inline: usize },
}

/// What is wrong in a block or inode bitmap, or in a request to free
/// what the bitmaps say is free or is metadata.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BitmapCorruption {
    #[error("block bitmap checksum mismatch")]
    BlockBitmapChecksum,
    #[error("inode bitmap checksum mismatch")]
    InodeBitmapChecksum,
    #[error("freeing {count} blocks out of range")]
    FreeOutOfRange { count: u32 },
    #[error("freeing {count} blocks of filesystem metadata")]
    FreeMetadata { count: u32 },
    #[error("freeing a free block")]
    FreeingFreeBlock,
    #[error("freeing free inode {ino}")]
    FreeingFreeInode { ino: u32 },
}

impl From<CorruptKind> for Ext4Error {
    fn from(k: CorruptKind) -> Self {
        Ext4Error::Corrupt(k)
    }
}
