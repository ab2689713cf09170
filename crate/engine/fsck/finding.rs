//! What the checker reports: one [`Finding`] per inconsistency, each naming
//! the inode, block or group, and each tied to the e2fsck problem code
//! (`e2fsck/problem.h` of e2fsprogs 1.47) that reports the same thing.
//!
//! [`Finding::is_error`] follows what `e2fsck -n` does with the problem:
//! a problem whose fix is refused without `PR_NO_OK` leaves the filesystem
//! "invalid" (exit status 4); problems found while checking the superblock,
//! the group descriptors, the resize inode and the journal superblock do
//! not, because e2fsck marks the filesystem valid again after those checks
//! (`unix.c`: `ext2fs_mark_valid` after `check_super_block` and
//! `check_resize_inode`). Those, and problems e2fsck only prints, are notes.

use serde::Serialize;

/// Who owns a block (cluster, on bigalloc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "ino", rename_all = "snake_case")]
pub enum Owner {
    /// Filesystem metadata (superblocks, descriptors, bitmaps, inode tables).
    Fs,
    Inode(u32),
}

/// A group's metadata block that is misplaced or shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupTable {
    BlockBitmap,
    InodeBitmap,
    InodeTable,
}

/// Which bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BitmapKind {
    Block,
    Inode,
}

/// A reserved inode e2fsck checks by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialInode {
    Journal,
    Quota,
    OrphanFile,
}

/// Problems of one extent or extent-tree node (`scan_extent_node`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtentProblem {
    /// `PR_1_EXTENT_BAD_START_BLK`: the physical start is 0 or past the end.
    BadStart,
    /// `PR_1_EXTENT_ENDS_BEYOND`: the extent runs past the filesystem.
    EndsBeyond,
    /// `PR_1_OUT_OF_ORDER_EXTENTS`: a key below the previous one.
    OutOfOrder,
    /// `PR_1_EXTENT_END_OUT_OF_BOUNDS`: past the range of its index entry.
    EndOutOfBounds,
    /// `PR_1_EXTENT_LENGTH_ZERO`.
    ZeroLength,
    /// `PR_1_EXTENT_COLLISION`: maps a logical block mapped before.
    Collision,
    /// `PR_1_TOOBIG_DIR`: a directory block beyond 2^32 bytes without large_dir.
    TooBigDir,
    /// `PR_1_EXTENT_HEADER_INVALID` (reported as `PR_1_READ_EXTENT`): a
    /// tree block whose header is not a valid node of the expected depth.
    BadNodeHeader,
    /// `PR_1_EXTENT_INDEX_START_INVALID`: a child's first key differs from
    /// the index entry that points at it.
    IndexStartInvalid,
    /// `PR_1_EXTENT_ONLY_CSUM_INVALID`: the node passes every check but its checksum.
    NodeChecksum,
    /// `PR_1_UNINIT_DBLOCK`: an unwritten extent in a directory.
    UninitDirBlock,
}

/// Problems of an extended-attribute block or the in-inode attribute area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XattrProblem {
    /// `PR_1_BAD_EA_BLOCK`: no `EXT2_EXT_ATTR_MAGIC`.
    BadMagic,
    /// `PR_1_EA_MULTI_BLOCK`: `h_blocks != 1`.
    MultiBlock,
    /// `PR_1_EA_ALLOC_COLLISION` / `PR_1_INODE_EA_ALLOC_COLLISION`:
    /// entries or values overlap or run off the end.
    Collision,
    /// `PR_1_EA_BAD_NAME`: `e_name_index` 0.
    BadName,
    /// `PR_1_EA_BAD_VALUE`: a value past the block.
    BadValue,
    /// `PR_1_ATTR_NAME_LEN` (in-inode): the name runs past the area.
    NameLen,
    /// `PR_1_ATTR_VALUE_SIZE` (in-inode): the value does not fit.
    ValueSize,
    /// `PR_1_ATTR_HASH`: `e_hash` does not match the entry.
    Hash,
    /// `PR_1_ATTR_VALUE_EA_INODE`: `e_value_inum` out of range, or an inode
    /// that is not an EA inode.
    ValueEaInode,
    /// `PR_1_ATTR_NO_EA_INODE_FL`: the value inode lacks `EXT4_EA_INODE_FL`.
    NoEaInodeFlag,
    /// `PR_1_EA_BLOCK_ONLY_CSUM_INVALID`: sound but for its checksum.
    Checksum,
    /// `PR_2_FILE_ACL_BAD`: `i_file_acl` outside the filesystem.
    BlockOutOfRange,
    /// `PR_2_FILE_ACL_ZERO`: an attribute block on a filesystem without ext_attr.
    WithoutFeature,
}

/// Problems of a hash-tree (dx) directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HtreeProblem {
    /// `PR_1_HTREE_SET`: `EXT4_INDEX_FL` without dir_index.
    WithoutFeature,
    /// `PR_1_HTREE_NODIR`: `EXT4_INDEX_FL` on a non-directory.
    NotDirectory,
    /// `PR_1_HTREE_BADROOT` / `PR_2_HTREE_BAD_ROOT`: `dx_root_info` invalid.
    BadRoot,
    /// `PR_1_HTREE_HASHV`: unknown hash version.
    HashVersion,
    /// `PR_1_HTREE_INCOMPAT`: incompatible root flags.
    Incompat,
    /// `PR_1_HTREE_DEPTH`: more indirect levels than allowed.
    Depth,
    /// `PR_1_HTREE_NEEDS_SIPHASH` / `PR_1_HTREE_CANNOT_SIPHASH`.
    Siphash,
    /// `PR_2_HTREE_ROOT_CSUM_INVALID` / `PR_2_HTREE_NODE_CSUM_INVALID`.
    NodeChecksum,
    /// `PR_2_HTREE_BAD_LIMIT`.
    BadLimit,
    /// `PR_2_HTREE_BAD_COUNT`.
    BadCount,
    /// `PR_2_HTREE_BADBLK`: an index entry past the directory.
    BadBlock,
    /// `PR_2_HTREE_HASH_ORDER`: hashes out of order in an index node.
    HashOrder,
    /// `PR_2_HTREE_MIN_HASH`: a block holds a hash below its range.
    MinHash,
    /// `PR_2_HTREE_MAX_HASH`: a block holds a hash above its range.
    MaxHash,
    /// `PR_2_HTREE_NOTREF`: a block no index entry points at.
    NotReferenced,
    /// `PR_2_HTREE_DUPREF`: a block two index entries point at.
    ReferencedTwice,
    /// `PR_2_HTREE_BAD_DEPTH`: a leaf at the wrong depth.
    BadDepth,
}

/// Problems of one directory entry or block (pass 2 `check_dir_block`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirProblem {
    /// `PR_2_DIR_CORRUPTED`: rec_len or name_len do not describe an entry.
    Corrupted,
    /// `PR_2_FINAL_RECLEN`: the last entry does not end the block.
    FinalRecLen,
    /// `PR_2_LEAF_NODE_ONLY_CSUM_INVALID`.
    Checksum,
    /// `PR_2_LEAF_NODE_MISSING_CSUM`: metadata_csum but no dirent tail.
    MissingChecksum,
    /// `PR_2_DIRECTORY_HOLE`: a directory block is not mapped.
    Hole,
    /// `PR_2_MISSING_DOT`.
    MissingDot,
    /// `PR_2_1ST_NOT_DOT`.
    FirstNotDot,
    /// `PR_2_DOT_NULL_TERM`.
    DotNotTerminated,
    /// `PR_2_BAD_INODE_DOT`: `.` names another inode.
    BadInodeDot,
    /// `PR_2_SPLIT_DOT` (a note under -n): `.` spans more than it needs.
    BigDot,
    /// `PR_2_MISSING_DOT_DOT`.
    MissingDotDot,
    /// `PR_2_2ND_NOT_DOT_DOT`.
    SecondNotDotDot,
    /// `PR_2_DOT_DOT_NULL_TERM`.
    DotDotNotTerminated,
    /// `PR_2_LINK_DOT`: an entry names the directory itself.
    LinkToDot,
    /// `PR_2_BAD_INO`: an inode number out of range or reserved.
    BadInode,
    /// `PR_2_DUP_DOT`.
    DuplicateDot,
    /// `PR_2_DUP_DOT_DOT`.
    DuplicateDotDot,
    /// `PR_2_LINK_ROOT`.
    LinkToRoot,
    /// `PR_2_NULL_NAME`.
    NullName,
    /// `PR_2_BAD_NAME`: `/` or NUL in a name.
    BadName,
    /// `PR_2_BAD_ENCODED_NAME`: not valid in the casefold encoding (strict mode).
    BadEncodedName,
    /// `PR_2_INOREF_BG_INO_UNINIT`: names an inode of an INODE_UNINIT group.
    InodeInUninitGroup,
    /// `PR_2_INOREF_IN_UNUSED`: names an inode past `bg_itable_unused`.
    InodeInUnusedArea,
    /// `PR_2_UNUSED_INODE`: names an inode that is not in use.
    UnusedInode,
    /// `PR_2_LINK_DIR`: a second name for a directory.
    LinkToDirectory,
    /// `PR_2_BAD_FILETYPE`.
    BadFileType,
    /// `PR_2_SET_FILETYPE`: file type 0 (a note).
    FileTypeNotSet,
    /// `PR_2_CLEAR_FILETYPE`: a file type without the filetype feature.
    FileTypeWithoutFeature,
    /// `PR_2_REPORT_DUP_DIRENT`: a name twice in one block. The directory is
    /// then rebuilt in pass 3A even under -n, which asks to rename the
    /// second name (`PR_2_NON_UNIQUE_FILE`): an error.
    DuplicateEntry,
    /// `PR_2_BAD_ENCRYPTED_NAME`: shorter than one cipher block.
    BadEncryptedName,
    /// `PR_2_UNENCRYPTED_FILE`: an unencrypted file in an encrypted directory.
    UnencryptedFile,
    /// `PR_2_INCONSISTENT_ENCRYPTION_POLICY`.
    InconsistentEncryptionPolicy,
    /// `PR_2_BAD_INLINE_DIR_SIZE`: inline directory size not a multiple of 4.
    BadInlineSize,
    /// `PR_2_UNEXPECTED_HTREE_BLOCK`: a block past the htree's range.
    UnexpectedHtreeBlock,
}

/// Fields of an inode that are wrong by themselves (pass 1, and the
/// "bad inode" checks of pass 2 `e2fsck_process_bad_inode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InodeProblem {
    /// `PR_1_ROOT_NO_DIR`.
    RootNotDirectory,
    /// `PR_1_ROOT_DTIME`.
    RootDtime,
    /// `PR_1_RESERVED_BAD_MODE`.
    ReservedBadMode,
    /// `PR_1_JOURNAL_BAD_MODE` / `PR_1_QUOTA_BAD_MODE` / `PR_1_ORPHAN_FILE_BAD_MODE`.
    SpecialBadMode(SpecialInode),
    /// `PR_1_JOURNAL_INODE_NOT_CLEAR` / `PR_1_QUOTA_INODE_NOT_CLEAR` /
    /// `PR_1_ORPHAN_FILE_NOT_CLEAR`: unused but not empty.
    SpecialNotClear(SpecialInode),
    /// `PR_1_INVALID_BAD_INODE`.
    BadBlocksInode,
    /// `PR_1_ZERO_DTIME`: deleted (no links) with `i_dtime` 0.
    ZeroDtime,
    /// `PR_1_SET_DTIME`: in use with `i_dtime` set.
    DtimeSet,
    /// `PR_1_LOW_DTIME`: `i_dtime` looks like an orphan-list link.
    LowDtime,
    /// `PR_1_SET_IMAGIC`.
    Imagic,
    /// `PR_1_CASEFOLD_NONDIR`.
    CasefoldNotDirectory,
    /// `PR_1_CASEFOLD_FEATURE`.
    CasefoldWithoutFeature,
    /// `PR_1_INLINE_DATA_SET`: `EXT4_INLINE_DATA_FL` without inline_data.
    InlineDataWithoutFeature,
    /// `PR_1_INLINE_DATA_NO_ATTR`: no valid `system.data` attribute.
    InlineDataNoAttr,
    /// `PR_1_CLEAR_*` of `fix_inline_data_extents_file`: both flags set.
    InlineDataAndExtents,
    /// `PR_1_EXTENTS_SET` / `PR_1_EXTENT_FEATURE`.
    ExtentsWithoutFeature,
    /// `PR_1_UNSET_EXTENT_FL`: an extent header without the flag.
    ExtentFlagMissing,
    /// `PR_1_MISSING_EXTENT_HEADER`: the flag without a valid root header.
    BadExtentHeader,
    /// `PR_1_FAST_SYMLINK_EXTENT_FL`.
    FastSymlinkExtents,
    /// `PR_1_SPECIAL_EXTENTS_IDATA` (a note under -n).
    SpecialFileFlags,
    /// `PR_1_SET_IMMUTABLE` (a note under -n): immutable/append-only on a
    /// device, FIFO or socket.
    SpecialImmutable,
    /// `PR_1_SET_NONZSIZE`: a device, FIFO or socket with a size.
    SpecialSize,
    /// `PR_1_EXTRA_ISIZE`.
    ExtraIsize,
    /// `PR_1_EA_TIME_OUT_OF_RANGE` (a note under -n).
    TimeOutOfRange,
    /// `PR_1_ZERO_LENGTH_DIR`: a directory with no blocks.
    ZeroLengthDirectory,
    /// `PR_1_NO_BIGALLOC_BLOCKMAP_FILES`.
    BlockMapOnBigalloc,
    /// `PR_2_BAD_MODE`: no known file type.
    BadMode,
    /// `PR_2_BAD_CHAR_DEV`, `_BLOCK_DEV`, `_FIFO`, `_SOCKET`.
    BadDevice,
    /// `PR_2_INVALID_SYMLINK`.
    InvalidSymlink,
    /// `PR_2_FADDR_ZERO`.
    FaddrSet,
    /// `PR_2_FRAG_ZERO` / `PR_2_FSIZE_ZERO` (hurd).
    FragmentSet,
    /// `PR_2_BLOCKS_HI_ZERO`: `l_i_blocks_hi` without huge_file.
    BlocksHiSet,
    /// `PR_2_I_FILE_ACL_HI_ZERO`: `l_i_file_acl_high` without 64bit.
    FileAclHiSet,
    /// `PR_2_DIR_SIZE_HIGH_ZERO`: `i_size_high` of a small directory.
    DirSizeHighSet,
    /// `PR_1_TOOBIG_REG` / `_SYMLINK` / `_DIR` (block maps).
    TooBig,
    /// `PR_1_MISSING_ENCRYPTION_XATTR`: encrypted without an encryption context.
    MissingEncryptionXattr,
    /// `PR_1_CORRUPT_ENCRYPTION_XATTR`: the encryption context is invalid.
    CorruptEncryptionXattr,
}

/// Orphan-file block problems (`check_init_orphan_file`, `PR_6_ORPHAN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanFileProblem {
    /// `PR_6_ORPHAN_FILE_CORRUPTED`: the orphan file must be recreated
    /// (after a hole, a wrong size or a dirty block).
    Corrupted,
    /// `PR_6_ORPHAN_FILE_HOLE`.
    Hole,
    /// `PR_6_ORPHAN_FILE_WRONG_SIZE`.
    WrongSize,
    /// `PR_6_ORPHAN_BLOCK_DIRTY`: a slot holds an inode number.
    BlockDirty,
    /// `PR_6_ORPHAN_PRESENT_CLEAN_FILE`.
    PresentButEmpty,
    /// `PR_6_ORPHAN_PRESENT_NO_FILE`.
    PresentWithoutFile,
    /// `PR_6_ORPHAN_FILE_WITHOUT_JOURNAL`.
    WithoutJournal,
}

/// Journal problems found before the passes (`e2fsck_check_ext3_journal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalProblem {
    /// `PR_0_JOURNAL_BAD_INODE`: the journal inode is not a usable journal.
    BadInode,
    /// `PR_0_JOURNAL_BAD_SUPER` / `PR_0_JOURNAL_UNSUPP_*`.
    BadSuperblock,
    /// `PR_0_JOURNAL_HAS_JOURNAL`: has_journal clear but a journal inode set.
    HasJournalClear,
    /// `PR_0_JOURNAL_RECOVER_SET`: needs_recovery without a journal.
    RecoverWithoutJournal,
    /// `PR_0_JOURNAL_RECOVERY_CLEAR`: the log holds data but needs_recovery is clear.
    DataButNoRecover,
    /// needs_recovery set: `e2fsck -n` skips the replay and checks the
    /// filesystem as it is ("Warning: skipping journal recovery").
    NeedsRecovery,
    /// The journal superblock's `s_errno` is set (moved into the
    /// superblock's error state by a mount or e2fsck).
    Errno,
}

/// One inconsistency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    // ---- superblock, descriptors, journal (notes under -n) ----
    /// `EXT2_ET_SB_CSUM_INVALID` (e2fsck reads a backup superblock).
    SuperblockChecksum,
    /// The primary superblock is unusable (magic, geometry): e2fsck
    /// ("Superblock invalid, trying backup blocks") checks the backup.
    SuperblockInvalid,
    /// `ext2fs_check_desc` fails on the primary descriptors (a table
    /// outside its group, or overlapping other metadata): e2fsck
    /// ("Group descriptors look bad... trying backup blocks") checks the backup.
    GroupDescriptorsInvalid,
    /// The check used the backup superblock at `block` and its descriptors.
    BackupSuperblock { block: u64 },
    /// `s_state` has `EXT4_ERROR_FS`: the kernel recorded an error.
    ErrorState,
    /// `PR_0_GDT_CSUM`.
    GroupDescChecksum { group: u32 },
    /// `PR_0_BB_NOT_GROUP` / `PR_0_IB_NOT_GROUP` / `PR_0_ITABLE_NOT_GROUP`.
    GroupTableNotInGroup {
        group: u32,
        table: GroupTable,
        block: u64,
    },
    /// `PR_1_BB_CONFLICT` / `PR_1_IB_CONFLICT` / `PR_1_ITABLE_CONFLICT`:
    /// group metadata claimed twice.
    GroupTableConflict {
        group: u32,
        table: GroupTable,
        block: u64,
    },
    /// `PR_0_GDT_UNINIT`: uninit flags without a descriptor checksum feature.
    GroupUninitWithoutFeature { group: u32 },
    /// `PR_0_BB_UNINIT_LAST`.
    LastGroupBlockUninit { group: u32 },
    /// `PR_0_GDT_ITABLE_UNUSED`: `bg_itable_unused` above `s_inodes_per_group`.
    GroupItableUnusedInvalid { group: u32, recorded: u32 },
    /// `PR_0_RESIZE_INODE_INVALID`, `PR_0_CLEAR_RESIZE_INODE`,
    /// `PR_0_NONZERO_RESERVED_GDT_BLOCKS`.
    ResizeInodeInvalid,
    /// `PR_0_INVALID_QUOTA_INO`: a quota inode number that cannot be one.
    QuotaInodeInvalid { ino: u32 },
    /// `PR_0_ORPHAN_ILLEGAL_HEAD_INODE`: `s_last_orphan` is not an inode
    /// that can be on the orphan list.
    OrphanListInvalid { ino: u32 },
    /// Problems found by `e2fsck_check_ext3_journal`.
    Journal { problem: JournalProblem },
    /// `PR_0_MMP_*`: the MMP block is missing or invalid.
    MmpInvalid { block: u64 },

    // ---- pass 1: inodes and blocks ----
    /// `PR_1_INODE_ONLY_CSUM_INVALID` (or `PR_1_INODE_IS_GARBAGE`).
    InodeChecksum { ino: u32 },
    /// A field of the inode is wrong.
    BadInode { ino: u32, problem: InodeProblem },
    /// An extent or extent-tree node is wrong (`lblk`/`block` of the entry).
    BadExtent {
        ino: u32,
        lblk: u32,
        block: u64,
        problem: ExtentProblem,
    },
    /// `PR_1_EXTENT_BAD_MAX_DEPTH` (a note under -n): deeper than needed.
    ExtentTreeTooDeep { ino: u32, depth: u16, max: u16 },
    /// `PR_1_ILLEGAL_BLOCK_NUM` (block maps): a block number outside the filesystem.
    IllegalBlock { ino: u32, block: u64 },
    /// An extended attribute problem (`block` 0: the in-inode area).
    BadXattr {
        ino: u32,
        block: u64,
        problem: XattrProblem,
    },
    /// `PR_1_EXTATTR_REFCOUNT`: `h_refcount` differs from the references.
    XattrRefcount {
        block: u64,
        recorded: u32,
        counted: u32,
    },
    /// An htree problem in directory `ino` (`block`: logical block).
    BadHtree {
        ino: u32,
        block: u32,
        problem: HtreeProblem,
    },
    /// `PR_1_BAD_I_SIZE`.
    WrongSize { ino: u32, size: u64, expected: u64 },
    /// `PR_1_BAD_I_BLOCKS`.
    WrongIBlocks {
        ino: u32,
        recorded: u64,
        counted: u64,
    },
    /// Pass 1B (`PR_1B_DUP_BLOCK`, then `PR_1D_*`): `count` blocks from
    /// `block` claimed by two owners.
    BlockOwnedTwice {
        block: u64,
        count: u64,
        first: Owner,
        second: Owner,
    },
    /// `PR_1_MISALIGNED_CLUSTER` (bigalloc).
    MisalignedCluster { ino: u32, lblk: u32, block: u64 },
    /// `PR_2_FEATURE_LARGE_FILES`: a file of 2 GiB or more without large_file.
    LargeFileWithoutFeature { ino: u32 },
    /// `PR_2_FEATURE_LARGE_DIRS`: a 3-level htree or a 4 GiB directory without large_dir.
    LargeDirWithoutFeature { ino: u32 },
    /// `EXT4_EA_INODE_FL` on an inode reached through a directory, on a
    /// filesystem without ea_inode. e2fsck 1.47 -n does not object, so this
    /// is a note; the kernel's `ext4_iget` refuses such an inode
    /// ("unexpected EA_INODE flag", EFSCORRUPTED).
    UnexpectedEaInodeFlag { ino: u32 },

    // ---- pass 2: directories ----
    /// A directory entry or block problem. `block` is the logical block
    /// (0 for inline directories), `offset` the entry's offset in it,
    /// `entry` the inode the entry names (0 when the entry is unreadable).
    BadDirEntry {
        dir: u32,
        block: u32,
        offset: u32,
        entry: u32,
        problem: DirProblem,
    },

    // ---- pass 3: connectivity ----
    /// `PR_3_NO_ROOT_INODE`.
    NoRoot,
    /// `PR_3_UNCONNECTED_DIR`.
    UnconnectedDir { ino: u32, parent: u32 },
    /// `PR_3_LOOPED_DIR`.
    LoopedDir { ino: u32 },
    /// `PR_3_BAD_DOT_DOT`: a directory's `..` is not the directory holding its name.
    WrongDotDot {
        ino: u32,
        recorded: u32,
        expected: u32,
    },

    // ---- pass 4: reference counts ----
    /// `PR_4_UNATTACHED_INODE` (after `PR_4_ZERO_LEN_INODE`): in use, no name.
    Unattached { ino: u32 },
    /// `PR_4_BAD_REF_COUNT`.
    BadLinkCount {
        ino: u32,
        recorded: u32,
        counted: u32,
    },
    /// `PR_4_EA_INODE_REF_COUNT`.
    EaInodeRefCount {
        ino: u32,
        recorded: u64,
        counted: u64,
    },
    /// `PR_4_DIR_NLINK_FEATURE`: a directory with more than 65000 links
    /// without dir_nlink.
    DirNlinkWithoutFeature { ino: u32 },

    // ---- pass 5: bitmaps and counts ----
    /// `PR_5_BLOCK_UNUSED` / `PR_5_BLOCK_RANGE_UNUSED`: marked in use, owned by nobody.
    BlockInUseButUnowned { start: u64, count: u64 },
    /// `PR_5_BLOCK_USED` / `PR_5_BLOCK_RANGE_USED`: owned but marked free.
    BlockOwnedButFree { start: u64, count: u64 },
    /// `PR_5_INODE_USED`: in use but free in the bitmap.
    InodeInUseButFree { ino: u32 },
    /// `PR_5_INODE_UNUSED`: marked in the bitmap but not in use.
    InodeFreeButMarked { ino: u32 },
    /// `PR_5_BLOCK_BMAP_PADDING` / `PR_5_INODE_BMAP_PADDING`.
    BitmapPadding { group: u32, bitmap: BitmapKind },
    /// `PR_5_BLOCK_BITMAP_CSUM_INVALID` / `PR_5_INODE_BITMAP_CSUM_INVALID`.
    BitmapChecksum { group: u32, bitmap: BitmapKind },
    /// `PR_5_FREE_BLOCK_COUNT_GROUP`.
    WrongGroupFreeBlocks {
        group: u32,
        recorded: u32,
        counted: u32,
    },
    /// `PR_5_FREE_INODE_COUNT_GROUP`.
    WrongGroupFreeInodes {
        group: u32,
        recorded: u32,
        counted: u32,
    },
    /// `PR_5_FREE_DIR_COUNT_GROUP`.
    WrongGroupDirs {
        group: u32,
        recorded: u32,
        counted: u32,
    },
    /// `PR_5_FREE_BLOCK_COUNT` (a note: the kernel keeps these loosely).
    WrongFreeBlocks { recorded: u64, counted: u64 },
    /// `PR_5_FREE_INODE_COUNT` (a note).
    WrongFreeInodes { recorded: u64, counted: u64 },

    // ---- after the passes ----
    /// `PR_6_UPDATE_QUOTAS`: quota type `qtype` (0 user, 1 group, 2
    /// project) records a usage for `id` other than the one counted (or
    /// none for an id in use).
    QuotaUsage { qtype: u8, id: u32 },
    /// `PR_6_UPDATE_QUOTAS`: a quota file e2fsck cannot read (header).
    QuotaFileInvalid { ino: u32 },
    /// Orphan-file problems.
    OrphanFile {
        ino: u32,
        block: u64,
        problem: OrphanFileProblem,
    },
}

impl Finding {
    /// Whether `e2fsck -n` calls the filesystem unclean for this (exit
    /// status 4). The rest are notes: e2fsck prints them and exits 0.
    pub fn is_error(&self) -> bool {
        use Finding as F;
        match self {
            F::SuperblockChecksum
            | F::SuperblockInvalid
            | F::GroupDescriptorsInvalid
            | F::BackupSuperblock { .. }
            | F::ErrorState
            | F::GroupDescChecksum { .. }
            | F::GroupTableNotInGroup { .. }
            | F::GroupUninitWithoutFeature { .. }
            | F::LastGroupBlockUninit { .. }
            | F::GroupItableUnusedInvalid { .. }
            | F::ResizeInodeInvalid
            | F::QuotaInodeInvalid { .. }
            | F::OrphanListInvalid { .. }
            | F::MmpInvalid { .. }
            | F::ExtentTreeTooDeep { .. }
            | F::MisalignedCluster { .. }
            | F::UnexpectedEaInodeFlag { .. }
            | F::WrongFreeBlocks { .. }
            | F::WrongFreeInodes { .. } => false,
            F::BadInode { problem, .. } => !matches!(
                problem,
                InodeProblem::SpecialFileFlags
                    | InodeProblem::TimeOutOfRange
                    | InodeProblem::SpecialImmutable
            ),
            F::BadDirEntry { problem, .. } => {
                !matches!(problem, DirProblem::FileTypeNotSet | DirProblem::BigDot)
            }
            F::OrphanFile { problem, .. } => !matches!(
                problem,
                OrphanFileProblem::Hole | OrphanFileProblem::WrongSize
            ),
            F::Journal { problem } => problem.is_fatal(),
            _ => true,
        }
    }

    /// The e2fsck problem code (`e2fsck/problem.h`) that reports this.
    pub fn problem(&self) -> &'static str {
        use Finding as F;
        match self {
            F::SuperblockChecksum => "EXT2_ET_SB_CSUM_INVALID",
            F::SuperblockInvalid => "EXT2_ET_BAD_MAGIC",
            F::GroupDescriptorsInvalid => "EXT2_ET_GDESC_BAD_BLOCK_MAP",
            F::BackupSuperblock { .. } => "get_backup_sb",
            F::ErrorState => "EXT2_ERROR_FS",
            F::GroupDescChecksum { .. } => "PR_0_GDT_CSUM",
            F::GroupTableNotInGroup { table, .. } => match table {
                GroupTable::BlockBitmap => "PR_0_BB_NOT_GROUP",
                GroupTable::InodeBitmap => "PR_0_IB_NOT_GROUP",
                GroupTable::InodeTable => "PR_0_ITABLE_NOT_GROUP",
            },
            F::GroupTableConflict { table, .. } => match table {
                GroupTable::BlockBitmap => "PR_1_BB_CONFLICT",
                GroupTable::InodeBitmap => "PR_1_IB_CONFLICT",
                GroupTable::InodeTable => "PR_1_ITABLE_CONFLICT",
            },
            F::GroupUninitWithoutFeature { .. } => "PR_0_GDT_UNINIT",
            F::LastGroupBlockUninit { .. } => "PR_0_BB_UNINIT_LAST",
            F::GroupItableUnusedInvalid { .. } => "PR_0_GDT_ITABLE_UNUSED",
            F::ResizeInodeInvalid => "PR_0_RESIZE_INODE_INVALID",
            F::QuotaInodeInvalid { .. } => "PR_0_INVALID_QUOTA_INO",
            F::OrphanListInvalid { .. } => "PR_0_ORPHAN_ILLEGAL_HEAD_INODE",
            F::Journal { problem } => match problem {
                JournalProblem::BadInode => "PR_0_JOURNAL_BAD_INODE",
                JournalProblem::BadSuperblock => "PR_0_JOURNAL_BAD_SUPER",
                JournalProblem::HasJournalClear => "PR_0_JOURNAL_HAS_JOURNAL",
                JournalProblem::RecoverWithoutJournal => "PR_0_JOURNAL_RECOVER_SET",
                JournalProblem::DataButNoRecover => "PR_0_JOURNAL_RECOVERY_CLEAR",
                JournalProblem::NeedsRecovery => "EXT3_FEATURE_INCOMPAT_RECOVER",
                JournalProblem::Errno => "PR_0_JNL_TXN_CORRUPT",
            },
            F::MmpInvalid { .. } => "PR_0_MMP_INVALID_BLK",
            F::InodeChecksum { .. } => "PR_1_INODE_ONLY_CSUM_INVALID",
            F::BadInode { problem, .. } => inode_problem_code(*problem),
            F::BadExtent { problem, .. } => match problem {
                ExtentProblem::BadStart => "PR_1_EXTENT_BAD_START_BLK",
                ExtentProblem::EndsBeyond => "PR_1_EXTENT_ENDS_BEYOND",
                ExtentProblem::OutOfOrder => "PR_1_OUT_OF_ORDER_EXTENTS",
                ExtentProblem::EndOutOfBounds => "PR_1_EXTENT_END_OUT_OF_BOUNDS",
                ExtentProblem::ZeroLength => "PR_1_EXTENT_LENGTH_ZERO",
                ExtentProblem::Collision => "PR_1_EXTENT_COLLISION",
                ExtentProblem::TooBigDir => "PR_1_TOOBIG_DIR",
                ExtentProblem::BadNodeHeader => "PR_1_EXTENT_HEADER_INVALID",
                ExtentProblem::IndexStartInvalid => "PR_1_EXTENT_INDEX_START_INVALID",
                ExtentProblem::NodeChecksum => "PR_1_EXTENT_ONLY_CSUM_INVALID",
                ExtentProblem::UninitDirBlock => "PR_1_UNINIT_DBLOCK",
            },
            F::ExtentTreeTooDeep { .. } => "PR_1_EXTENT_BAD_MAX_DEPTH",
            F::IllegalBlock { .. } => "PR_1_ILLEGAL_BLOCK_NUM",
            F::BadXattr { problem, block, .. } => match problem {
                XattrProblem::BadMagic => "PR_1_BAD_EA_BLOCK",
                XattrProblem::MultiBlock => "PR_1_EA_MULTI_BLOCK",
                XattrProblem::Collision if *block == 0 => "PR_1_INODE_EA_ALLOC_COLLISION",
                XattrProblem::Collision => "PR_1_EA_ALLOC_COLLISION",
                XattrProblem::BadName => "PR_1_EA_BAD_NAME",
                XattrProblem::BadValue => "PR_1_EA_BAD_VALUE",
                XattrProblem::NameLen => "PR_1_ATTR_NAME_LEN",
                XattrProblem::ValueSize => "PR_1_ATTR_VALUE_SIZE",
                XattrProblem::Hash => "PR_1_ATTR_HASH",
                XattrProblem::ValueEaInode => "PR_1_ATTR_VALUE_EA_INODE",
                XattrProblem::NoEaInodeFlag => "PR_1_ATTR_NO_EA_INODE_FL",
                XattrProblem::Checksum => "PR_1_EA_BLOCK_ONLY_CSUM_INVALID",
                XattrProblem::BlockOutOfRange => "PR_2_FILE_ACL_BAD",
                XattrProblem::WithoutFeature => "PR_2_FILE_ACL_ZERO",
            },
            F::XattrRefcount { .. } => "PR_1_EXTATTR_REFCOUNT",
            F::BadHtree {
                problem: HtreeProblem::NodeChecksum,
                block: 0,
                ..
            } => "PR_2_HTREE_ROOT_CSUM_INVALID",
            F::BadHtree { problem, .. } => match problem {
                HtreeProblem::WithoutFeature => "PR_1_HTREE_SET",
                HtreeProblem::NotDirectory => "PR_1_HTREE_NODIR",
                HtreeProblem::BadRoot => "PR_1_HTREE_BADROOT",
                HtreeProblem::HashVersion => "PR_1_HTREE_HASHV",
                HtreeProblem::Incompat => "PR_1_HTREE_INCOMPAT",
                HtreeProblem::Depth => "PR_1_HTREE_DEPTH",
                HtreeProblem::Siphash => "PR_1_HTREE_NEEDS_SIPHASH",
                HtreeProblem::NodeChecksum => "PR_2_HTREE_NODE_CSUM_INVALID",
                HtreeProblem::BadLimit => "PR_2_HTREE_BAD_LIMIT",
                HtreeProblem::BadCount => "PR_2_HTREE_BAD_COUNT",
                HtreeProblem::BadBlock => "PR_2_HTREE_BADBLK",
                HtreeProblem::HashOrder => "PR_2_HTREE_HASH_ORDER",
                HtreeProblem::MinHash => "PR_2_HTREE_MIN_HASH",
                HtreeProblem::MaxHash => "PR_2_HTREE_MAX_HASH",
                HtreeProblem::NotReferenced => "PR_2_HTREE_NOTREF",
                HtreeProblem::ReferencedTwice => "PR_2_HTREE_DUPREF",
                HtreeProblem::BadDepth => "PR_2_HTREE_BAD_DEPTH",
            },
            F::WrongSize { .. } => "PR_1_BAD_I_SIZE",
            F::WrongIBlocks { .. } => "PR_1_BAD_I_BLOCKS",
            F::BlockOwnedTwice { .. } => "PR_1B_DUP_BLOCK",
            F::MisalignedCluster { .. } => "PR_1_MISALIGNED_CLUSTER",
            F::LargeFileWithoutFeature { .. } => "PR_2_FEATURE_LARGE_FILES",
            F::LargeDirWithoutFeature { .. } => "PR_2_FEATURE_LARGE_DIRS",
            F::UnexpectedEaInodeFlag { .. } => "EXT4_EA_INODE_FL",
            F::BadDirEntry { problem, .. } => dir_problem_code(*problem),
            F::NoRoot => "PR_3_NO_ROOT_INODE",
            F::UnconnectedDir { .. } => "PR_3_UNCONNECTED_DIR",
            F::LoopedDir { .. } => "PR_3_LOOPED_DIR",
            F::WrongDotDot { .. } => "PR_3_BAD_DOT_DOT",
            F::Unattached { .. } => "PR_4_UNATTACHED_INODE",
            F::BadLinkCount { .. } => "PR_4_BAD_REF_COUNT",
            F::EaInodeRefCount { .. } => "PR_4_EA_INODE_REF_COUNT",
            F::DirNlinkWithoutFeature { .. } => "PR_4_DIR_NLINK_FEATURE",
            F::BlockInUseButUnowned { .. } => "PR_5_BLOCK_UNUSED",
            F::BlockOwnedButFree { .. } => "PR_5_BLOCK_USED",
            F::InodeInUseButFree { .. } => "PR_5_INODE_USED",
            F::InodeFreeButMarked { .. } => "PR_5_INODE_UNUSED",
            F::BitmapPadding { bitmap, .. } => match bitmap {
                BitmapKind::Block => "PR_5_BLOCK_BMAP_PADDING",
                BitmapKind::Inode => "PR_5_INODE_BMAP_PADDING",
            },
            F::BitmapChecksum { bitmap, .. } => match bitmap {
                BitmapKind::Block => "PR_5_BLOCK_BITMAP_CSUM_INVALID",
                BitmapKind::Inode => "PR_5_INODE_BITMAP_CSUM_INVALID",
            },
            F::WrongGroupFreeBlocks { .. } => "PR_5_FREE_BLOCK_COUNT_GROUP",
            F::WrongGroupFreeInodes { .. } => "PR_5_FREE_INODE_COUNT_GROUP",
            F::WrongGroupDirs { .. } => "PR_5_FREE_DIR_COUNT_GROUP",
            F::WrongFreeBlocks { .. } => "PR_5_FREE_BLOCK_COUNT",
            F::WrongFreeInodes { .. } => "PR_5_FREE_INODE_COUNT",
            F::QuotaUsage { .. } | F::QuotaFileInvalid { .. } => "PR_6_UPDATE_QUOTAS",
            F::OrphanFile { problem, .. } => match problem {
                OrphanFileProblem::Corrupted => "PR_6_ORPHAN_FILE_CORRUPTED",
                OrphanFileProblem::Hole => "PR_6_ORPHAN_FILE_HOLE",
                OrphanFileProblem::WrongSize => "PR_6_ORPHAN_FILE_WRONG_SIZE",
                OrphanFileProblem::BlockDirty => "PR_6_ORPHAN_BLOCK_DIRTY",
                OrphanFileProblem::PresentButEmpty => "PR_6_ORPHAN_PRESENT_CLEAN_FILE",
                OrphanFileProblem::PresentWithoutFile => "PR_6_ORPHAN_PRESENT_NO_FILE",
                OrphanFileProblem::WithoutJournal => "PR_6_ORPHAN_FILE_WITHOUT_JOURNAL",
            },
        }
    }

    /// The blocks this finding names, for callers that trace them back
    /// (the simulator's fsck oracle names the tasks that allocated them).
    pub fn blocks(&self) -> std::ops::Range<u64> {
        match *self {
            Finding::BlockInUseButUnowned { start, count }
            | Finding::BlockOwnedButFree { start, count } => start..start + count.min(64),
            Finding::BlockOwnedTwice { block, count, .. } => block..block + count.min(64),
            _ => 0..0,
        }
    }
}

fn inode_problem_code(p: InodeProblem) -> &'static str {
    use InodeProblem as P;
    match p {
        P::RootNotDirectory => "PR_1_ROOT_NO_DIR",
        P::RootDtime => "PR_1_ROOT_DTIME",
        P::ReservedBadMode => "PR_1_RESERVED_BAD_MODE",
        P::SpecialBadMode(s) => match s {
            SpecialInode::Journal => "PR_1_JOURNAL_BAD_MODE",
            SpecialInode::Quota => "PR_1_QUOTA_BAD_MODE",
            SpecialInode::OrphanFile => "PR_1_ORPHAN_FILE_BAD_MODE",
        },
        P::SpecialNotClear(s) => match s {
            SpecialInode::Journal => "PR_1_JOURNAL_INODE_NOT_CLEAR",
            SpecialInode::Quota => "PR_1_QUOTA_INODE_NOT_CLEAR",
            SpecialInode::OrphanFile => "PR_1_ORPHAN_FILE_NOT_CLEAR",
        },
        P::BadBlocksInode => "PR_1_INVALID_BAD_INODE",
        P::ZeroDtime => "PR_1_ZERO_DTIME",
        P::DtimeSet => "PR_1_SET_DTIME",
        P::LowDtime => "PR_1_LOW_DTIME",
        P::Imagic => "PR_1_SET_IMAGIC",
        P::CasefoldNotDirectory => "PR_1_CASEFOLD_NONDIR",
        P::CasefoldWithoutFeature => "PR_1_CASEFOLD_FEATURE",
        P::InlineDataWithoutFeature => "PR_1_INLINE_DATA_SET",
        P::InlineDataNoAttr => "PR_1_INLINE_DATA_NO_ATTR",
        P::InlineDataAndExtents => "PR_1_CLEAR_EXTENT_INLINE_DATA_INODE",
        P::ExtentsWithoutFeature => "PR_1_EXTENTS_SET",
        P::ExtentFlagMissing => "PR_1_UNSET_EXTENT_FL",
        P::BadExtentHeader => "PR_1_MISSING_EXTENT_HEADER",
        P::FastSymlinkExtents => "PR_1_FAST_SYMLINK_EXTENT_FL",
        P::SpecialFileFlags => "PR_1_SPECIAL_EXTENTS_IDATA",
        P::SpecialImmutable => "PR_1_SET_IMMUTABLE",
        P::SpecialSize => "PR_1_SET_NONZSIZE",
        P::ExtraIsize => "PR_1_EXTRA_ISIZE",
        P::TimeOutOfRange => "PR_1_EA_TIME_OUT_OF_RANGE",
        P::ZeroLengthDirectory => "PR_1_ZERO_LENGTH_DIR",
        P::BlockMapOnBigalloc => "PR_1_NO_BIGALLOC_BLOCKMAP_FILES",
        P::BadMode => "PR_2_BAD_MODE",
        P::BadDevice => "PR_2_BAD_CHAR_DEV",
        P::InvalidSymlink => "PR_2_INVALID_SYMLINK",
        P::FaddrSet => "PR_2_FADDR_ZERO",
        P::FragmentSet => "PR_2_FRAG_ZERO",
        P::BlocksHiSet => "PR_2_BLOCKS_HI_ZERO",
        P::FileAclHiSet => "PR_2_I_FILE_ACL_HI_ZERO",
        P::DirSizeHighSet => "PR_2_DIR_SIZE_HIGH_ZERO",
        P::TooBig => "PR_1_TOOBIG_REG",
        P::MissingEncryptionXattr => "PR_1_MISSING_ENCRYPTION_XATTR",
        P::CorruptEncryptionXattr => "PR_1_CORRUPT_ENCRYPTION_XATTR",
    }
}

fn dir_problem_code(p: DirProblem) -> &'static str {
    use DirProblem as P;
    match p {
        P::Corrupted => "PR_2_DIR_CORRUPTED",
        P::FinalRecLen => "PR_2_FINAL_RECLEN",
        P::Checksum => "PR_2_LEAF_NODE_ONLY_CSUM_INVALID",
        P::MissingChecksum => "PR_2_LEAF_NODE_MISSING_CSUM",
        P::Hole => "PR_2_DIRECTORY_HOLE",
        P::MissingDot => "PR_2_MISSING_DOT",
        P::FirstNotDot => "PR_2_1ST_NOT_DOT",
        P::DotNotTerminated => "PR_2_DOT_NULL_TERM",
        P::BadInodeDot => "PR_2_BAD_INODE_DOT",
        P::BigDot => "PR_2_SPLIT_DOT",
        P::MissingDotDot => "PR_2_MISSING_DOT_DOT",
        P::SecondNotDotDot => "PR_2_2ND_NOT_DOT_DOT",
        P::DotDotNotTerminated => "PR_2_DOT_DOT_NULL_TERM",
        P::LinkToDot => "PR_2_LINK_DOT",
        P::BadInode => "PR_2_BAD_INO",
        P::DuplicateDot => "PR_2_DUP_DOT",
        P::DuplicateDotDot => "PR_2_DUP_DOT_DOT",
        P::LinkToRoot => "PR_2_LINK_ROOT",
        P::NullName => "PR_2_NULL_NAME",
        P::BadName => "PR_2_BAD_NAME",
        P::BadEncodedName => "PR_2_BAD_ENCODED_NAME",
        P::InodeInUninitGroup => "PR_2_INOREF_BG_INO_UNINIT",
        P::InodeInUnusedArea => "PR_2_INOREF_IN_UNUSED",
        P::UnusedInode => "PR_2_UNUSED_INODE",
        P::LinkToDirectory => "PR_2_LINK_DIR",
        P::BadFileType => "PR_2_BAD_FILETYPE",
        P::FileTypeNotSet => "PR_2_SET_FILETYPE",
        P::FileTypeWithoutFeature => "PR_2_CLEAR_FILETYPE",
        P::DuplicateEntry => "PR_2_REPORT_DUP_DIRENT",
        P::BadEncryptedName => "PR_2_BAD_ENCRYPTED_NAME",
        P::UnencryptedFile => "PR_2_UNENCRYPTED_FILE",
        P::InconsistentEncryptionPolicy => "PR_2_INCONSISTENT_ENCRYPTION_POLICY",
        P::BadInlineSize => "PR_2_BAD_INLINE_DIR_SIZE",
        P::UnexpectedHtreeBlock => "PR_2_UNEXPECTED_HTREE_BLOCK",
    }
}
