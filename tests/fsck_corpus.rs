#![cfg(not(target_arch = "wasm32"))]
//! The fsck corpus: one row per e2fsck problem class the engine checks.
//! Each row copies a clean base image (`mkfs.ext4 -d` + debugfs, built
//! once per process, tests/common/fsck.rs), damages exactly one structure
//! (debugfs `sif`/`ssv`/`set_bg`, or a byte patch with the checksums
//! around it recomputed), and checks that
//! - `e2fsck -fn`'s verdict is the row's (the table is checked, not trusted),
//! - the engine's verdict is the same,
//! - the engine reports a finding with the row's e2fsck problem code.
//!
//! Adding a class is adding a row. docs/fsck.md lists the classes with
//! the rows that cover them (`docs_list_every_row` keeps them in step).
#[path = "common/fsck.rs"]
mod fsck_common;
use fsck_common::*;

/// One corruption class.
pub struct Case {
    pub name: &'static str,
    pub base: &'static str,
    pub damage: fn(&Img),
    /// `e2fsck -fn` exits 0.
    pub clean: bool,
    /// The e2fsck problem code the engine must report (`Finding::problem`).
    pub finding: &'static str,
}

const fn case(
    name: &'static str,
    base: &'static str,
    damage: fn(&Img),
    clean: bool,
    finding: &'static str,
) -> Case {
    Case {
        name,
        base,
        damage,
        clean,
        finding,
    }
}

/// i_block word `k` as debugfs names it.
fn w(k: usize) -> String {
    format!("block[{k}]")
}

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

pub const SUPER: &[Case] = &[
    case(
        "superblock error state",
        "default",
        |i| i.ssv("state", 3),
        true,
        "EXT2_ERROR_FS",
    ),
    case(
        "group descriptor checksum",
        "default",
        |i| i.set_bg(0, "exclude_bitmap", 7),
        true,
        "PR_0_GDT_CSUM",
    ),
    case(
        "descriptor checksum of an INODE_UNINIT group: its bitmap is read",
        "default",
        |i| i.set_bg(1, "itable_unused", 7),
        false,
        "PR_5_INODE_BMAP_PADDING",
    ),
    case(
        "resize inode: reserved GDT block without its backups",
        "default",
        |i| {
            let sb = i.sb();
            let desc = ext4lab::engine::balloc::gdt_blocks(&sb);
            let blk = u64::from(sb.s_first_data_block) + 1 + desc + 3;
            let mut b = i.read_block(blk);
            b[0] ^= 1;
            i.write_block(blk, &b);
        },
        true,
        "PR_0_RESIZE_INODE_INVALID",
    ),
    case(
        "journal superblock magic",
        "default",
        |i| {
            let b = i.block("<8>", 0);
            i.patch(b, 0, &[0, 0, 0, 0]);
        },
        false,
        "PR_0_JOURNAL_BAD_INODE",
    ),
    case(
        "journal superblock block size",
        "default",
        |i| {
            let b = i.block("<8>", 0);
            i.patch(b, 12, &0x800u32.to_be_bytes());
        },
        false,
        "PR_0_JOURNAL_BAD_SUPER",
    ),
    case(
        "journal inode not a regular file",
        "default",
        |i| i.sif("<8>", "mode", "040600"),
        false,
        "PR_1_JOURNAL_BAD_MODE",
    ),
];

pub const PASS1: &[Case] = &[
    case(
        "inode checksum",
        "default",
        |i| i.sif("/medium.bin", "checksum", "0x1234"),
        false,
        "PR_1_INODE_ONLY_CSUM_INVALID",
    ),
    case(
        "i_blocks too small",
        "default",
        |i| i.sif("/medium.bin", "blocks", 2),
        false,
        "PR_1_BAD_I_BLOCKS",
    ),
    case(
        "i_size smaller than the blocks",
        "default",
        |i| i.sif("/big.bin", "size", 1),
        false,
        "PR_1_BAD_I_SIZE",
    ),
    case(
        "directory i_size",
        "default",
        |i| i.sif("/d", "size", 3072),
        false,
        "PR_1_BAD_I_SIZE",
    ),
    case(
        "deleted inode with zero dtime",
        "default",
        |i| i.sif("/d/sub/b.txt", "links_count", 0),
        false,
        "PR_1_ZERO_DTIME",
    ),
    case(
        "in-use inode with dtime",
        "default",
        |i| i.sif("/small.txt", "dtime", 12345678),
        false,
        "PR_1_SET_DTIME",
    ),
    case(
        "orphan-list dtime",
        "default",
        |i| i.sif("/small.txt", "dtime", 5),
        false,
        "PR_1_LOW_DTIME",
    ),
    case(
        "root not a directory",
        "default",
        |i| i.sif("<2>", "mode", "0100644"),
        false,
        "PR_1_ROOT_NO_DIR",
    ),
    case(
        "root with dtime",
        "default",
        |i| i.sif("<2>", "dtime", 12345678),
        false,
        "PR_1_ROOT_DTIME",
    ),
    case(
        "reserved inode with a mode",
        "default",
        |i| i.sif("<9>", "mode", "0100644"),
        false,
        "PR_1_RESERVED_BAD_MODE",
    ),
    case(
        "imagic flag",
        "default",
        |i| i.sif("/small.txt", "flags", "0x82000"),
        false,
        "PR_1_SET_IMAGIC",
    ),
    case(
        "casefold flag on a file",
        "default",
        |i| i.sif("/small.txt", "flags", "0x40080000"),
        false,
        "PR_1_CASEFOLD_NONDIR",
    ),
    case(
        "casefold flag without the feature",
        "default",
        |i| i.sif("/d", "flags", "0x40080000"),
        false,
        "PR_1_CASEFOLD_FEATURE",
    ),
    case(
        "inline-data flag without the feature",
        "default",
        |i| i.sif("/small.txt", "flags", "0x10000000"),
        false,
        "PR_1_INLINE_DATA_SET",
    ),
    case(
        "inline-data flag without system.data",
        "inline",
        |i| i.debugfs("ea_rm /small.txt system.data"),
        false,
        "PR_1_INLINE_DATA_NO_ATTR",
    ),
    case(
        "extent flag without the feature",
        "blockmap",
        |i| i.sif("/medium.bin", "flags", "0x80000"),
        false,
        "PR_1_EXTENTS_SET",
    ),
    case(
        "extent header without the flag",
        "default",
        |i| i.sif("/medium.bin", "flags", 0),
        false,
        "PR_1_UNSET_EXTENT_FL",
    ),
    case(
        "extent root header",
        "default",
        |i| i.sif("/medium.bin", &w(0), 0),
        false,
        "PR_1_MISSING_EXTENT_HEADER",
    ),
    case(
        "extent start block 0",
        "default",
        |i| i.sif("/medium.bin", &w(5), 0),
        false,
        "PR_1_EXTENT_BAD_START_BLK",
    ),
    case(
        "extent past the end of the filesystem",
        "default",
        |i| {
            let end = i.sb().blocks_count() - 2;
            i.sif("/medium.bin", &w(5), end)
        },
        false,
        "PR_1_EXTENT_ENDS_BEYOND",
    ),
    case(
        "extent of zero length",
        "default",
        |i| i.sif("/medium.bin", &w(4), 0),
        false,
        "PR_1_EXTENT_LENGTH_ZERO",
    ),
    case(
        "extents out of order",
        "default",
        |i| i.sif("/sparse3.bin", &w(6), 40),
        false,
        "PR_1_OUT_OF_ORDER_EXTENTS",
    ),
    case(
        "extents mapping the same logical block",
        "default",
        |i| i.sif("/sparse3.bin", &w(6), 0),
        false,
        "PR_1_EXTENT_COLLISION",
    ),
    case(
        "extent index node header",
        "default",
        |i| {
            let b = i.extent_leaf("/sparse.bin");
            i.patch(b, 0, &[0, 0]);
        },
        false,
        "PR_1_EXTENT_HEADER_INVALID",
    ),
    case(
        "extent block checksum",
        "default",
        |i| {
            let b = i.extent_leaf("/sparse.bin");
            let mut d = i.read_block(b);
            let t = 12 + 12 * u16::from_le_bytes([d[4], d[5]]) as usize;
            d[t] ^= 0xff;
            i.write_block(b, &d);
        },
        false,
        "PR_1_EXTENT_ONLY_CSUM_INVALID",
    ),
    case(
        "extent index key differs from the child's first key",
        "default",
        |i| i.sif("/sparse.bin", &w(3), 1),
        false,
        "PR_1_EXTENT_INDEX_START_INVALID",
    ),
    case(
        "unwritten extent in a directory",
        "default",
        |i| {
            let len = i.inode("/d").i_block[16];
            i.patch_inode("/d", 0x28 + 16, &[len, 0x80]);
        },
        false,
        "PR_1_UNINIT_DBLOCK",
    ),
    case(
        "orphan list head out of range (a note)",
        "default",
        |i| i.ssv("last_orphan", 3),
        true,
        "PR_0_ORPHAN_ILLEGAL_HEAD_INODE",
    ),
    case(
        "illegal block in a block map",
        "blockmap",
        |i| i.sif("/medium.bin", &w(0), 99_999_999),
        false,
        "PR_1_ILLEGAL_BLOCK_NUM",
    ),
    case(
        "illegal indirect block",
        "blockmap",
        |i| i.sif("/big.bin", "block[IND]", 99_999_999),
        false,
        "PR_1_ILLEGAL_BLOCK_NUM",
    ),
    case(
        "i_extra_isize",
        "default",
        |i| i.sif("/small.txt", "extra_isize", 3),
        false,
        "PR_1_EXTRA_ISIZE",
    ),
    case(
        "in-inode attribute hash",
        "default",
        |i| {
            let extra = usize::from(i.inode("/small.txt").i_extra_isize);
            i.patch_inode("/small.txt", 128 + extra + 4 + 12, &le32(0xdead_beef));
        },
        false,
        "PR_1_ATTR_HASH",
    ),
    case(
        "in-inode attribute value size",
        "default",
        |i| {
            let extra = usize::from(i.inode("/small.txt").i_extra_isize);
            i.patch_inode("/small.txt", 128 + extra + 4 + 8, &le32(4000));
        },
        false,
        "PR_1_ATTR_VALUE_SIZE",
    ),
    case(
        "attribute block magic",
        "default",
        |i| {
            let b = i.xattr_block("/medium.bin");
            i.patch_xattr_block(b, 0, &le32(0x1234));
        },
        false,
        "PR_1_BAD_EA_BLOCK",
    ),
    case(
        "attribute block h_blocks",
        "default",
        |i| {
            let b = i.xattr_block("/medium.bin");
            i.patch_xattr_block(b, 8, &le32(2));
        },
        false,
        "PR_1_EA_MULTI_BLOCK",
    ),
    case(
        "attribute block reference count",
        "default",
        |i| {
            let b = i.xattr_block("/medium.bin");
            i.patch_xattr_block(b, 4, &le32(2));
        },
        false,
        "PR_1_EXTATTR_REFCOUNT",
    ),
    case(
        "attribute block checksum",
        "default",
        |i| {
            let b = i.xattr_block("/medium.bin");
            i.patch(b, 0x10, &le32(0x1234));
        },
        false,
        "PR_1_EA_BLOCK_ONLY_CSUM_INVALID",
    ),
    case(
        "attribute block entry hash",
        "default",
        |i| {
            let b = i.xattr_block("/medium.bin");
            i.patch_xattr_block(b, 32 + 12, &le32(0xdead_beef));
        },
        false,
        "PR_1_ATTR_HASH",
    ),
    case(
        "attribute entry with name index 0",
        "default",
        |i| {
            let b = i.xattr_block("/medium.bin");
            i.patch_xattr_block(b, 32 + 1, &[0]);
        },
        false,
        "PR_1_EA_BAD_NAME",
    ),
    case(
        "attribute value past the block",
        "default",
        |i| {
            let b = i.xattr_block("/medium.bin");
            i.patch_xattr_block(b, 32 + 2, &[0xf0, 0x03]);
        },
        false,
        "PR_1_EA_BAD_VALUE",
    ),
    case(
        "a block of two files",
        "default",
        |i| {
            let b = i.block("/big.bin", 0);
            i.sif("/medium.bin", &w(5), b)
        },
        false,
        "PR_1B_DUP_BLOCK",
    ),
    case(
        "a file block in the inode table",
        "default",
        |i| {
            let sb = i.sb();
            let _ = sb;
            let (b, _) = i.inode_loc(2);
            i.sif("/medium.bin", &w(5), b)
        },
        false,
        "PR_1B_DUP_BLOCK",
    ),
    case(
        "directory without blocks",
        "default",
        |i| i.sif("/empty", &w(1), 0x0004_0000),
        false,
        "PR_1_ZERO_LENGTH_DIR",
    ),
    case(
        "index flag on a file",
        "default",
        |i| i.sif("/small.txt", "flags", "0x81000"),
        false,
        "PR_1_HTREE_NODIR",
    ),
    case(
        "htree hash version",
        "default",
        |i| i.patch_dx("/many", 0, 28, &[9]),
        false,
        "PR_1_HTREE_HASHV",
    ),
    case(
        "htree root reserved field",
        "default",
        |i| i.patch_dx("/many", 0, 24, &le32(1)),
        false,
        "PR_1_HTREE_BADROOT",
    ),
    case(
        "htree depth",
        "default",
        |i| i.patch_dx("/many", 0, 30, &[7]),
        false,
        "PR_1_HTREE_DEPTH",
    ),
    case(
        "fast symlink with the extent flag",
        "default",
        |i| i.sif("/sl", "flags", "0x80000"),
        false,
        "PR_1_FAST_SYMLINK_EXTENT_FL",
    ),
    case(
        "FIFO with a size",
        "default",
        |i| i.sif("/pipe", "size", 10),
        false,
        "PR_1_SET_NONZSIZE",
    ),
    case(
        "EA_INODE flag on a file without ea_inode (a note; the kernel refuses it)",
        "default",
        |i| i.sif("/small.txt", "flags", "0x280000"),
        true,
        "EXT4_EA_INODE_FL",
    ),
    case(
        "immutable FIFO (a note)",
        "default",
        |i| i.sif("/pipe", "flags", "0x10"),
        true,
        "PR_1_SET_IMMUTABLE",
    ),
    case(
        "FIFO with the inline-data flag (a note)",
        "inline",
        |i| {
            i.debugfs("ea_set /pipe system.data x");
            i.sif("/pipe", "flags", "0x10000000");
        },
        true,
        "PR_1_SPECIAL_EXTENTS_IDATA",
    ),
];

pub const PASS2: &[Case] = &[
    case(
        "unknown file type in i_mode",
        "default",
        |i| i.sif("/small.txt", "mode", "0170644"),
        false,
        "PR_2_BAD_MODE",
    ),
    case(
        "symlink size",
        "default",
        |i| i.sif("/longlink", "size", 5),
        false,
        "PR_2_INVALID_SYMLINK",
    ),
    case(
        "i_faddr",
        "default",
        |i| i.sif("/small.txt", "faddr", 1),
        false,
        "PR_2_FADDR_ZERO",
    ),
    case(
        "i_file_acl_high without 64bit",
        "blockmap",
        |i| i.sif("/small.txt", "file_acl_hi", 1),
        false,
        "PR_2_I_FILE_ACL_HI_ZERO",
    ),
    case(
        "i_file_acl outside the filesystem",
        "default",
        |i| i.sif("/small.txt", "file_acl", 99_999_999),
        false,
        "PR_2_FILE_ACL_BAD",
    ),
    case(
        "directory i_size_high",
        "default",
        |i| i.sif("/d", "size_hi", 1),
        false,
        "PR_2_DIR_SIZE_HIGH_ZERO",
    ),
    case(
        "directory entry rec_len",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o + 4, &[5, 0]);
        },
        false,
        "PR_2_DIR_CORRUPTED",
    ),
    case(
        "'.' names another inode",
        "default",
        |i| i.patch_dir("/d", 0, 0, &le32(2)),
        false,
        "PR_2_BAD_INODE_DOT",
    ),
    case(
        "'.' missing",
        "default",
        |i| i.patch_dir("/d", 0, 0, &le32(0)),
        false,
        "PR_2_MISSING_DOT",
    ),
    case(
        "first entry not '.'",
        "default",
        |i| i.patch_dir("/d", 0, 8, b"x"),
        false,
        "PR_2_1ST_NOT_DOT",
    ),
    case(
        "'.' not NUL-terminated",
        "default",
        |i| i.patch_dir("/d", 0, 9, b"z"),
        false,
        "PR_2_DOT_NULL_TERM",
    ),
    case(
        "'..' missing",
        "default",
        |i| i.patch_dir("/d", 0, 12, &le32(0)),
        false,
        "PR_2_MISSING_DOT_DOT",
    ),
    case(
        "second entry not '..'",
        "default",
        |i| i.patch_dir("/d", 0, 20, b"xx"),
        false,
        "PR_2_2ND_NOT_DOT_DOT",
    ),
    case(
        "entry names its own directory",
        "default",
        |i| {
            let d = i.ino("/d");
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o, &le32(d));
        },
        false,
        "PR_2_LINK_DOT",
    ),
    case(
        "entry names a reserved inode",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o, &le32(5));
        },
        false,
        "PR_2_BAD_INO",
    ),
    case(
        "entry names an inode past the count",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o, &le32(9_999_999));
        },
        false,
        "PR_2_BAD_INO",
    ),
    case(
        "second '.'",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o + 6, &[1, 1, b'.']);
        },
        false,
        "PR_2_DUP_DOT",
    ),
    case(
        "second '..'",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o + 6, &[2, 1, b'.', b'.']);
        },
        false,
        "PR_2_DUP_DOT_DOT",
    ),
    case(
        "entry names the root",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o, &le32(2));
        },
        false,
        "PR_2_LINK_ROOT",
    ),
    case(
        "empty name",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o + 6, &[0]);
        },
        false,
        "PR_2_NULL_NAME",
    ),
    case(
        "'/' in a name",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o + 9, b"/");
        },
        false,
        "PR_2_BAD_NAME",
    ),
    case(
        "entry names an unused inode",
        "default",
        |i| {
            i.sif("/d/sub/b.txt", "links_count", 0);
            i.sif("/d/sub/b.txt", "mode", 0);
        },
        false,
        "PR_2_UNUSED_INODE",
    ),
    case(
        "entry names an inode past bg_itable_unused",
        "default",
        |i| {
            let sb = i.sb();
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o, &le32(sb.s_inodes_per_group - 2));
        },
        false,
        "PR_2_INOREF_IN_UNUSED",
    ),
    case(
        "wrong file type",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o + 7, &[2]);
        },
        false,
        "PR_2_BAD_FILETYPE",
    ),
    case(
        "file type not set (a note)",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o + 7, &[0]);
        },
        true,
        "PR_2_SET_FILETYPE",
    ),
    case(
        "a second name for a directory",
        "default",
        |i| {
            let sub = i.ino("/d/sub");
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o, &le32(sub));
            i.patch_dir("/d", 0, o + 7, &[2]);
        },
        false,
        "PR_2_LINK_DIR",
    ),
    case(
        "directory block checksum",
        "default",
        |i| {
            let b = i.block("/d", 0);
            let bs = i.block_size() as usize;
            i.patch(b, bs - 4, &le32(0x1234));
        },
        false,
        "PR_2_LEAF_NODE_ONLY_CSUM_INVALID",
    ),
    case(
        "directory block without its checksum tail",
        "default",
        |i| {
            let b = i.block("/empty", 0);
            let bs = i.block_size() as usize;
            // '..' spans the tail.
            i.patch(b, 12 + 4, &((bs - 12) as u16).to_le_bytes());
        },
        false,
        "PR_2_LEAF_NODE_MISSING_CSUM",
    ),
    case(
        "hole in a directory",
        "blockmap",
        |i| i.sif("/many", &w(1), 0),
        false,
        "PR_2_DIRECTORY_HOLE",
    ),
    case(
        "htree limit",
        "default",
        |i| i.patch_dx("/many", 0, 32, &[3, 0]),
        false,
        "PR_2_HTREE_BAD_LIMIT",
    ),
    case(
        "htree count",
        "default",
        |i| i.patch_dx("/many", 0, 34, &[0xff, 0x0f]),
        false,
        "PR_2_HTREE_BAD_COUNT",
    ),
    case(
        "htree entry past the directory",
        "default",
        |i| i.patch_dx("/many", 0, 36 + 8, &le32(4000)),
        false,
        "PR_2_HTREE_BADBLK",
    ),
    case(
        "htree hashes out of order",
        "default",
        |i| {
            let b = i.read_block(i.block("/many", 0));
            let count = u16::from_le_bytes([b[34], b[35]]) as usize;
            assert!(count >= 3, "htree root of /many has {count} entries");
            i.patch_dx("/many", 0, 32 + 8 * 2, &le32(2));
        },
        false,
        "PR_2_HTREE_HASH_ORDER",
    ),
    case(
        "htree leaf holds hashes outside its range",
        "default",
        |i| {
            let b = i.read_block(i.block("/many", 0));
            let h = u32::from_le_bytes(b[40..44].try_into().unwrap());
            i.patch_dx("/many", 0, 40, &le32(h.wrapping_add(0x0800_0000) & !1));
        },
        false,
        "PR_2_HTREE_MIN_HASH",
    ),
    case(
        "htree root checksum",
        "default",
        |i| {
            let blk = i.block("/many", 0);
            let b = i.read_block(blk);
            let limit = u16::from_le_bytes([b[32], b[33]]) as usize;
            i.patch(blk, 32 + limit * 8 + 4, &le32(0x1234));
        },
        false,
        "PR_2_HTREE_ROOT_CSUM_INVALID",
    ),
];

pub const PASS345: &[Case] = &[
    case(
        "no root inode",
        "default",
        |i| i.sif("<2>", "links_count", 0),
        false,
        "PR_3_NO_ROOT_INODE",
    ),
    case(
        "unconnected directory",
        "default",
        |i| {
            let o = i.dirent_offset("/", 0, b"d");
            i.patch_dir("/", 0, o, &le32(0));
        },
        false,
        "PR_3_UNCONNECTED_DIR",
    ),
    case(
        "'..' names the wrong directory",
        "default",
        |i| i.patch_dir("/d/sub", 0, 12, &le32(2)),
        false,
        "PR_3_BAD_DOT_DOT",
    ),
    case(
        "link count too high",
        "default",
        |i| i.sif("/medium.bin", "links_count", 5),
        false,
        "PR_4_BAD_REF_COUNT",
    ),
    case(
        "directory link count",
        "default",
        |i| i.sif("/d", "links_count", 7),
        false,
        "PR_4_BAD_REF_COUNT",
    ),
    case(
        "inode in use without a name",
        "default",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            i.patch_dir("/d", 0, o, &le32(0));
        },
        false,
        "PR_4_UNATTACHED_INODE",
    ),
    case(
        "block in use marked free",
        "default",
        |i| {
            let b = i.block("/medium.bin", 3);
            i.debugfs(&format!("freeb {b}"));
        },
        false,
        "PR_5_BLOCK_USED",
    ),
    case(
        "free block marked in use",
        "default",
        |i| {
            let b = i.sb().blocks_count() - 10;
            i.debugfs(&format!("setb {b}"));
        },
        false,
        "PR_5_BLOCK_UNUSED",
    ),
    case(
        "inode in use marked free",
        "default",
        |i| i.debugfs("freei /small.txt"),
        false,
        "PR_5_INODE_USED",
    ),
    case(
        "free inode marked in use",
        "default",
        |i| i.debugfs("seti <1000>"),
        false,
        "PR_5_INODE_UNUSED",
    ),
    case(
        "bit set in an INODE_UNINIT group's bitmap (ignored)",
        "default",
        |i| {
            let sb = i.sb();
            i.debugfs(&format!("seti <{}>", sb.s_inodes_per_group + 5));
        },
        true,
        "",
    ),
    case(
        "group free blocks count",
        "default",
        |i| i.debugfs_n(&["set_bg 1 free_blocks_count 100", "set_bg 1 checksum calc"]),
        false,
        "PR_5_FREE_BLOCK_COUNT_GROUP",
    ),
    case(
        "group free inodes count",
        "default",
        |i| i.debugfs_n(&["set_bg 0 free_inodes_count 5", "set_bg 0 checksum calc"]),
        false,
        "PR_5_FREE_INODE_COUNT_GROUP",
    ),
    case(
        "group directories count",
        "default",
        |i| i.debugfs_n(&["set_bg 0 used_dirs_count 50", "set_bg 0 checksum calc"]),
        false,
        "PR_5_FREE_DIR_COUNT_GROUP",
    ),
    case(
        "superblock free blocks (a note)",
        "default",
        |i| i.ssv("free_blocks_count", 100),
        true,
        "PR_5_FREE_BLOCK_COUNT",
    ),
    case(
        "superblock free inodes (a note)",
        "default",
        |i| i.ssv("free_inodes_count", 100),
        true,
        "PR_5_FREE_INODE_COUNT",
    ),
    case(
        "block bitmap checksum",
        "default",
        |i| {
            i.debugfs_n(&[
                "set_bg 0 block_bitmap_csum 0x1234",
                "set_bg 0 checksum calc",
            ])
        },
        false,
        "PR_5_BLOCK_BITMAP_CSUM_INVALID",
    ),
    case(
        "inode bitmap checksum",
        "default",
        |i| {
            i.debugfs_n(&[
                "set_bg 0 inode_bitmap_csum 0x1234",
                "set_bg 0 checksum calc",
            ])
        },
        false,
        "PR_5_INODE_BITMAP_CSUM_INVALID",
    ),
    case(
        "inode bitmap padding",
        "nocsum",
        |i| {
            let sb = i.sb();
            let gd_blk = u64::from(sb.s_first_data_block) + 1;
            let gd = i.read_block(gd_blk);
            let ib = u64::from(u32::from_le_bytes(gd[4..8].try_into().unwrap()));
            let bs = i.block_size() as usize;
            let n = (sb.s_inodes_per_group / 8) as usize;
            assert!(n < bs, "no padding in the inode bitmap");
            i.patch(ib, bs - 1, &[0]);
        },
        false,
        "PR_5_INODE_BMAP_PADDING",
    ),
];

pub const FEATURES: &[Case] = &[
    case(
        "bigalloc: i_blocks",
        "bigalloc",
        |i| i.sif("/medium.bin", "blocks", 2),
        false,
        "PR_1_BAD_I_BLOCKS",
    ),
    case(
        "bigalloc: cluster in use marked free",
        "bigalloc",
        |i| {
            let b = i.block("/big.bin", 40);
            i.debugfs(&format!("freeb {b}"));
        },
        false,
        "PR_5_BLOCK_USED",
    ),
    case(
        "bigalloc: extent start not aligned with its logical cluster",
        "bigalloc",
        |i| {
            let b = i.block("/big.bin", 0);
            i.sif("/big.bin", &w(5), b + 1)
        },
        false,
        "PR_1_MISALIGNED_CLUSTER",
    ),
    case(
        "quota: a file changes owner behind the quota files' back",
        "quota",
        |i| i.sif("/medium.bin", "uid", 1000),
        false,
        "PR_6_UPDATE_QUOTAS",
    ),
    case(
        "quota: a file changes project",
        "quota",
        |i| i.sif("/medium.bin", "projid", 7),
        false,
        "PR_6_UPDATE_QUOTAS",
    ),
    case(
        "quota: the user quota file's version",
        "quota",
        |i| {
            let b = i.block("<3>", 0);
            i.patch(b, 4, &le32(7));
        },
        false,
        "PR_6_UPDATE_QUOTAS",
    ),
    case(
        "quota: the user quota file's magic (e2fsck 1.47.0 does not check it)",
        "quota",
        |i| {
            let b = i.block("<3>", 0);
            i.patch(b, 0, &le32(0));
        },
        true,
        "",
    ),
    case(
        "quota: a usage entry",
        "quota",
        |i| {
            // The root's entry: the first used slot of the tree's data block.
            let bs = i.block_size() as usize;
            let n = (i.inode("<3>").size() / bs as u64) as u32;
            let data = (0..n)
                .map(|l| i.read_block(i.block("<3>", l)))
                .collect::<Vec<_>>()
                .concat();
            let mut blk = 1usize;
            for _ in 0..4 {
                let r = &data[blk * 1024..blk * 1024 + 1024];
                blk = (0..256)
                    .map(|k| u32::from_le_bytes(r[4 * k..4 * k + 4].try_into().unwrap()))
                    .find(|&x| x != 0)
                    .unwrap() as usize;
            }
            let at = blk * 1024 + 16 + 48;
            i.patch(i.block("<3>", (at / bs) as u32), at % bs, &le32(12345));
        },
        false,
        "PR_6_UPDATE_QUOTAS",
    ),
    case(
        "ea_inode: value inode without EXT4_EA_INODE_FL",
        "ea_inode",
        |i| {
            let extra = usize::from(i.inode("/small.txt").i_extra_isize);
            let (blk, off) = i.inode_loc(i.ino("/small.txt"));
            let raw = i.read_block(blk);
            let e = off + 128 + extra + 4;
            let inum = u32::from_le_bytes(raw[e + 4..e + 8].try_into().unwrap());
            assert!(inum != 0, "user.big is not in an EA inode");
            i.sif(&format!("<{inum}>"), "flags", "0x80000");
        },
        false,
        "PR_1_ATTR_NO_EA_INODE_FL",
    ),
    case(
        "ea_inode: the value inode's reference count",
        "ea_inode",
        |i| {
            let extra = usize::from(i.inode("/small.txt").i_extra_isize);
            let (blk, off) = i.inode_loc(i.ino("/small.txt"));
            let raw = i.read_block(blk);
            let e = off + 128 + extra + 4;
            let inum = u32::from_le_bytes(raw[e + 4..e + 8].try_into().unwrap());
            i.sif(&format!("<{inum}>"), "version", 5);
        },
        false,
        "PR_4_EA_INODE_REF_COUNT",
    ),
    case(
        "orphan_file: a slot holds an inode number",
        "features",
        |i| {
            let ino = i.sb().s_orphan_file_inum;
            let b = i.block(&format!("<{ino}>"), 0);
            i.patch(b, 0, &le32(12));
        },
        false,
        "PR_6_ORPHAN_BLOCK_DIRTY",
    ),
    case(
        "orphan_present with an empty orphan file",
        "features",
        |i| {
            let ro = i.sb().s_feature_ro_compat | 0x10000;
            i.ssv("feature_ro_compat", ro);
        },
        false,
        "PR_6_ORPHAN_PRESENT_CLEAN_FILE",
    ),
    case(
        "encrypt flag without an encryption context",
        "features",
        |i| i.sif("/medium.bin", "flags", "0x80800"),
        false,
        "PR_1_MISSING_ENCRYPTION_XATTR",
    ),
    case(
        "verity: initialized blocks past EOF are its Merkle tree (clean)",
        "features",
        |i| {
            i.sif("/big.bin", "size", 1);
            i.sif("/big.bin", "flags", "0x180000");
        },
        true,
        "",
    ),
    case(
        "casefold flag on an indexed directory of lower-case names (clean)",
        "features",
        |i| i.sif("/many", "flags", "0x40081000"),
        true,
        "",
    ),
    case(
        "casefold flag on an indexed directory hashed case-sensitively",
        "features",
        |i| i.sif("/upper", "flags", "0x40081000"),
        false,
        "PR_2_HTREE_MIN_HASH",
    ),
    case(
        "an 8-level extent tree (a note; the kernel stops at 5)",
        "default",
        |i| deepen(i, "/small.txt", 8),
        true,
        "PR_1_EXTENT_BAD_MAX_DEPTH",
    ),
    case(
        "a 32-level extent tree (a note)",
        "default",
        |i| deepen(i, "/small.txt", 32),
        true,
        "PR_1_EXTENT_BAD_MAX_DEPTH",
    ),
    case(
        "a name twice in one directory block (both names' inodes counted)",
        "nocsum",
        |i| {
            let o = i.dirent_offset("/d", 0, b"a.txt");
            let sub = i.dirent_offset("/d", 0, b"sub");
            i.patch_dir("/d", 0, sub + 6, &[5, 2, b'a', b'.', b't', b'x', b't']);
            let _ = o;
        },
        false,
        "PR_2_REPORT_DUP_DIRENT",
    ),
    case(
        "quota inode number past the inode count (a note before pass 1)",
        "quota",
        |i| i.ssv("usr_quota_inum", 99_999),
        false,
        "PR_0_INVALID_QUOTA_INO",
    ),
    case(
        "hurd: i_frag",
        "hurd",
        |i| i.sif("/small.txt", "frag", 1),
        false,
        "PR_2_FRAG_ZERO",
    ),
    case(
        "hurd: the high mode bits where Linux keeps l_i_file_acl_high (clean)",
        "hurd",
        |i| i.patch_inode("/small.txt", 0x76, &[0, 0]),
        true,
        "",
    ),
    case(
        "shared_blocks: two files sharing a block (clean)",
        "default",
        |i| {
            let ro = i.sb().s_feature_ro_compat | 0x4000;
            i.ssv("feature_ro_compat", ro);
            let b = i.block("/big.bin", 0);
            let old = i.block("/medium.bin", 0);
            i.sif("/medium.bin", &w(5), b);
            // The blocks /medium.bin no longer maps are free now.
            let len = u64::from(u16::from_le_bytes(
                i.inode("/medium.bin").i_block[16..18].try_into().unwrap(),
            ));
            i.debugfs(&format!("freeb {old} {len}"));
            let sb = i.sb();
            let g = ((old - u64::from(sb.s_first_data_block)) / u64::from(sb.s_blocks_per_group))
                as u32;
            let free = i.group_free_blocks(g) + len as u32;
            i.debugfs_n(&[
                &format!("set_bg {g} free_blocks_count {free}"),
                &format!("set_bg {g} checksum calc"),
                &format!("ssv free_blocks_count {}", sb.free_blocks_count() + len),
            ]);
        },
        true,
        "",
    ),
    case(
        "inline directory i_size",
        "inline",
        |i| i.sif("/d/sub", "size", 61),
        false,
        "PR_1_BAD_I_SIZE",
    ),
    case(
        "inline directory whose system.data is not whole entries",
        "inline",
        |i| i.debugfs("ea_set /d system.data abc"),
        false,
        "PR_2_BAD_INLINE_DIR_SIZE",
    ),
    case(
        "block-mapped symlink with a second block",
        "blockmap",
        |i| {
            let b = i.sb().blocks_count() - 5;
            i.sif("/longlink", &w(1), b)
        },
        false,
        "PR_2_INVALID_SYMLINK",
    ),
];

/// Rebuild `path`'s one-extent tree as a chain `depth` index levels deep
/// (one entry per node), in free blocks at the end of the filesystem.
fn deepen(i: &Img, path: &str, depth: u16) {
    let sb = i.sb();
    let bs = i.block_size() as usize;
    let ino = i.ino(path);
    let inode = i.inode(path);
    let seed = ext4lab::engine::inode::inode_csum_seed(&sb, ino, inode.i_generation);
    let leaf_entry: [u8; 12] = inode.i_block[12..24].try_into().unwrap();
    let base = sb.blocks_count() - 200;
    let max = ((bs - 12) / 12) as u16;
    // Node k (depth k) lives in block base + k; the leaf (depth 0) holds the extent.
    for k in 0..depth {
        let mut b = vec![0u8; bs];
        b[0..2].copy_from_slice(&0xF30Au16.to_le_bytes());
        b[2..4].copy_from_slice(&1u16.to_le_bytes());
        b[4..6].copy_from_slice(&max.to_le_bytes());
        b[6..8].copy_from_slice(&k.to_le_bytes());
        if k == 0 {
            b[12..24].copy_from_slice(&leaf_entry);
        } else {
            b[16..20].copy_from_slice(&((base + u64::from(k) - 1) as u32).to_le_bytes());
        }
        if sb.has_metadata_csum() {
            let c = ext4lab::engine::map::extent_disk::ext4_extent_block_csum(seed, &b, max);
            let t = ext4lab::engine::map::extent_disk::ext4_extent_tail_offset(max);
            b[t..t + 4].copy_from_slice(&c.to_le_bytes());
        }
        i.write_block(base + u64::from(k), &b);
        i.debugfs(&format!("setb {}", base + u64::from(k)));
    }
    let mut root = [0u8; 60];
    root[0..2].copy_from_slice(&0xF30Au16.to_le_bytes());
    root[2..4].copy_from_slice(&1u16.to_le_bytes());
    root[4..6].copy_from_slice(&4u16.to_le_bytes());
    root[6..8].copy_from_slice(&depth.to_le_bytes());
    root[16..20].copy_from_slice(&((base + u64::from(depth) - 1) as u32).to_le_bytes());
    i.patch_inode(path, 0x28, &root);
    let blocks = u64::from(inode.i_blocks_lo) + u64::from(depth) * (bs as u64 / 512);
    i.sif(path, "blocks", blocks);
    // The group's and the superblock's free counts.
    let g = ((base - u64::from(sb.s_first_data_block)) / u64::from(sb.s_blocks_per_group)) as u32;
    let free = i.group_free_blocks(g) - u32::from(depth);
    i.debugfs_n(&[
        &format!("set_bg {g} free_blocks_count {free}"),
        &format!("set_bg {g} checksum calc"),
        &format!(
            "ssv free_blocks_count {}",
            sb.free_blocks_count() - u64::from(depth)
        ),
    ]);
}

/// Run the rows; every disagreement is collected, then reported at once.
fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let img = Img::from_base(c.base);
        (c.damage)(&img);
        let (e2_clean, text) = e2fsck_fn(&img.path);
        let engine = engine_fsck(&img.path);
        let engine_clean = engine.as_ref().is_ok_and(|r| r.is_clean());
        let codes: Vec<&str> = match &engine {
            Ok(r) => r.findings.iter().map(|f| f.problem()).collect(),
            Err(_) => Vec::new(),
        };
        let mut why = Vec::new();
        if e2_clean != c.clean {
            why.push(format!(
                "e2fsck -fn clean={e2_clean}, the row says {}",
                c.clean
            ));
        }
        if engine_clean != e2_clean {
            why.push(format!(
                "engine clean={engine_clean}, e2fsck clean={e2_clean}"
            ));
        }
        if !c.finding.is_empty() && !codes.contains(&c.finding) {
            why.push(format!("no {} finding", c.finding));
        }
        if !why.is_empty() {
            let findings = match &engine {
                Ok(r) => format!("{:#?}", r.findings),
                Err(e) => format!("unreadable: {e}"),
            };
            failures.push(format!(
                "--- {} ({}): {}\nengine: {findings}\ne2fsck:\n{text}",
                c.name,
                c.base,
                why.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_superblock_and_journal() {
    run(SUPER);
}

#[test]
fn corpus_pass1() {
    run(PASS1);
}

#[test]
fn corpus_pass2() {
    run(PASS2);
}

#[test]
fn corpus_pass345() {
    run(PASS345);
}

#[test]
fn corpus_features() {
    run(FEATURES);
}

/// The clean bases are clean for both.
#[test]
fn bases_are_clean() {
    for b in BASES {
        let img = Img::from_base(b.name);
        let r = engine_fsck(&img.path).expect("engine reads the base");
        assert!(r.findings.is_empty(), "{}: {:#?}", b.name, r.findings);
    }
}

/// docs/fsck.md lists every row next to its problem code, and the number
/// of rows.
#[test]
fn docs_list_every_row() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/fsck.md")).unwrap();
    let all: Vec<&Case> = [SUPER, PASS1, PASS2, PASS345, FEATURES]
        .into_iter()
        .flatten()
        .collect();
    for c in &all {
        if c.finding.is_empty() {
            continue;
        }
        let line = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", c.finding)))
            .unwrap_or_else(|| panic!("docs/fsck.md has no row for {}", c.finding));
        assert!(
            line.contains(c.name),
            "docs/fsck.md: {} should list {:?}",
            c.finding,
            c.name
        );
    }
    assert!(
        doc.contains(&format!("{} rows, all agree", all.len())),
        "docs/fsck.md should say {} rows",
        all.len()
    );
}

/// A tree deeper than `EXT4_MAX_EXTENT_DEPTH` is only a note for e2fsck
/// (and the engine's fsck), but the kernel's `ext4_find_extent` refuses
/// it (EFSCORRUPTED), and so do the engine's reads.
#[test]
fn deep_extent_tree_is_refused_by_reads() {
    let i = Img::from_base("default");
    deepen(&i, "/small.txt", 8);
    let bytes = std::fs::read(&i.path).unwrap();
    let mut fs = ext4lab::engine::Ext4Fs::open(
        ext4lab::device::MemDevice::from_bytes(&bytes),
        Default::default(),
    )
    .unwrap();
    let ino = fs.lookup("/small.txt").unwrap();
    assert!(matches!(
        fs.read_all(ino),
        Err(ext4lab::engine::Ext4Error::Corrupt(
            ext4lab::engine::CorruptKind::Extent { .. }
        ))
    ));
}
