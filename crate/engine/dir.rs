//! Directory entries (`struct ext4_dir_entry_2`), the checksum tail
//! (`struct ext4_dir_entry_tail`) and operations on one directory block:
//! parse, find room and insert, remove (fs/ext4/dir.c, namei.c).

use super::csum::ext4_chksum;
use super::error::{CorruptKind, DirCorruption, Result};
use super::inode::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK};
use super::ondisk::{le16, le32, put_le16, put_le32};

/// Size of the dirent header (inode, rec_len, name_len, file_type).
pub const EXT4_DIR_ENTRY_HDR: usize = 8;
/// `sizeof(struct ext4_dir_entry_tail)`.
pub const EXT4_DIR_TAIL_SIZE: usize = 12;
/// `det_reserved_ft` of the tail.
pub const EXT4_DIR_TAIL_FT: u8 = 0xDE;
pub const EXT4_NAME_LEN: usize = 255;

// file_type values
pub const EXT4_FT_UNKNOWN: u8 = 0;
pub const EXT4_FT_REG_FILE: u8 = 1;
pub const EXT4_FT_DIR: u8 = 2;
pub const EXT4_FT_CHRDEV: u8 = 3;
pub const EXT4_FT_BLKDEV: u8 = 4;
pub const EXT4_FT_FIFO: u8 = 5;
pub const EXT4_FT_SOCK: u8 = 6;
pub const EXT4_FT_SYMLINK: u8 = 7;

/// The dirent file type of an `i_mode`.
pub fn ext4_type_by_mode(mode: u16) -> u8 {
    match mode & S_IFMT {
        S_IFREG => EXT4_FT_REG_FILE,
        S_IFDIR => EXT4_FT_DIR,
        S_IFCHR => EXT4_FT_CHRDEV,
        S_IFBLK => EXT4_FT_BLKDEV,
        S_IFIFO => EXT4_FT_FIFO,
        S_IFSOCK => EXT4_FT_SOCK,
        S_IFLNK => EXT4_FT_SYMLINK,
        _ => EXT4_FT_UNKNOWN,
    }
}

/// `EXT4_DIR_REC_LEN(name_len)`: the space an entry needs.
pub const fn ext4_dir_rec_len(name_len: usize) -> usize {
    (name_len + EXT4_DIR_ENTRY_HDR + 3) & !3
}

/// One parsed entry and where it sits in its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub inode: u32,
    pub rec_len: u16,
    pub file_type: u8,
    pub name: Vec<u8>,
    /// Byte offset in the block (or inline area).
    pub offset: usize,
}

/// `ext4_rec_len_from_disk`.
pub fn rec_len_from_disk(v: u16, blocksize: usize) -> usize {
    if v == 0xFFFF || v == 0 {
        blocksize.min(65536)
    } else {
        v as usize
    }
}

/// `ext4_rec_len_to_disk`.
pub fn rec_len_to_disk(len: usize) -> u16 {
    if len >= 65536 {
        0xFFFF
    } else {
        len as u16
    }
}

/// Whether the block ends in a dirent tail.
pub fn has_tail(block: &[u8]) -> bool {
    let n = block.len();
    n >= EXT4_DIR_TAIL_SIZE && {
        let t = &block[n - EXT4_DIR_TAIL_SIZE..];
        le32(t, 0) == 0
            && le16(t, 4) == EXT4_DIR_TAIL_SIZE as u16
            && t[6] == 0
            && t[7] == EXT4_DIR_TAIL_FT
    }
}

/// `ext4_dirblock_csum` over the block minus its tail.
pub fn dirblock_csum(seed: u32, block: &[u8]) -> u32 {
    ext4_chksum(
        seed,
        &block[..block.len().saturating_sub(EXT4_DIR_TAIL_SIZE)],
    )
}

/// Write an empty tail and its checksum (`ext4_dirblock_csum_set`).
pub fn dirblock_csum_set(seed: u32, block: &mut [u8]) {
    let n = block.len();
    let t = n - EXT4_DIR_TAIL_SIZE;
    put_le32(block, t, 0);
    put_le16(block, t + 4, EXT4_DIR_TAIL_SIZE as u16);
    block[t + 6] = 0;
    block[t + 7] = EXT4_DIR_TAIL_FT;
    let c = dirblock_csum(seed, block);
    put_le32(block, t + 8, c);
}

/// `ext4_dirblock_csum_verify`.
pub fn dirblock_csum_verify(seed: u32, block: &[u8]) -> bool {
    has_tail(block) && le32(block, block.len() - 4) == dirblock_csum(seed, block)
}

/// Parse the entries in `area` (a block without its tail, or an inline
/// area). `ino`/`blk` name the directory in errors. Empty slots (inode 0)
/// are returned too, so callers can reuse them.
pub fn parse_entries(area: &[u8], ino: u32, blk: u64, base: usize) -> Result<Vec<DirEntry>> {
    let mut out = Vec::new();
    let mut off = 0usize;
    let bad = |why: DirCorruption| CorruptKind::Dir {
        ino,
        block: blk,
        why,
    };
    while off < area.len() {
        if area.len() - off < EXT4_DIR_ENTRY_HDR {
            return Err(bad(DirCorruption::HeaderPastEnd { offset: off + base }).into());
        }
        let inode = le32(area, off);
        let rec_len = rec_len_from_disk(le16(area, off + 4), area.len() + base);
        let name_len = area[off + 6] as usize;
        let file_type = area[off + 7];
        if rec_len < EXT4_DIR_ENTRY_HDR || rec_len % 4 != 0 || off + rec_len > area.len() {
            return Err(bad(DirCorruption::RecLen {
                rec_len,
                offset: off + base,
            })
            .into());
        }
        if ext4_dir_rec_len(name_len) > rec_len {
            return Err(bad(DirCorruption::NameLen {
                name_len,
                rec_len,
                offset: off + base,
            })
            .into());
        }
        let name = area[off + EXT4_DIR_ENTRY_HDR..off + EXT4_DIR_ENTRY_HDR + name_len].to_vec();
        out.push(DirEntry {
            inode,
            rec_len: rec_len as u16,
            file_type,
            name,
            offset: off + base,
        });
        off += rec_len;
    }
    Ok(out)
}

/// Write one entry header + name at `off` with `rec_len`.
pub fn write_entry(
    area: &mut [u8],
    off: usize,
    inode: u32,
    rec_len: usize,
    name: &[u8],
    file_type: u8,
) {
    put_le32(area, off, inode);
    put_le16(area, off + 4, rec_len_to_disk(rec_len));
    area[off + 6] = name.len() as u8;
    area[off + 7] = file_type;
    area[off + EXT4_DIR_ENTRY_HDR..off + EXT4_DIR_ENTRY_HDR + name.len()].copy_from_slice(name);
}

/// `ext4_insert_dentry` after `ext4_find_dest_de`: put `name` into the
/// first entry with enough slack. Returns false if `area` has no room.
pub fn add_entry(
    area: &mut [u8],
    ino: u32,
    blk: u64,
    name: &[u8],
    inode: u32,
    file_type: u8,
) -> Result<bool> {
    let need = ext4_dir_rec_len(name.len());
    for e in parse_entries(area, ino, blk, 0)? {
        let used = if e.inode == 0 {
            0
        } else {
            ext4_dir_rec_len(e.name.len())
        };
        let rec = e.rec_len as usize;
        if rec >= used + need {
            if used == 0 {
                write_entry(area, e.offset, inode, rec, name, file_type);
            } else {
                put_le16(area, e.offset + 4, rec_len_to_disk(used));
                write_entry(area, e.offset + used, inode, rec - used, name, file_type);
            }
            return Ok(true);
        }
    }
    Ok(false)
}

/// `ext4_generic_delete_entry`: remove the entry at `offset` by merging
/// it into the previous one (or clearing its inode if it is first).
pub fn remove_entry(area: &mut [u8], ino: u32, blk: u64, offset: usize) -> Result<()> {
    let entries = parse_entries(area, ino, blk, 0)?;
    let Some(i) = entries.iter().position(|e| e.offset == offset) else {
        return Err(CorruptKind::Dir {
            ino,
            block: blk,
            why: DirCorruption::NoEntryAt { offset },
        }
        .into());
    };
    if i == 0 {
        put_le32(area, offset, 0);
    } else {
        let prev = &entries[i - 1];
        let merged = prev.rec_len as usize + entries[i].rec_len as usize;
        put_le16(area, prev.offset + 4, rec_len_to_disk(merged));
    }
    Ok(())
}

/// A fresh directory block holding `.` and `..` (`ext4_init_dot_dotdot`),
/// with a tail when `seed` is given.
pub fn init_dot_dotdot(bs: usize, self_ino: u32, parent: u32, seed: Option<u32>) -> Vec<u8> {
    let mut b = vec![0u8; bs];
    let end = if seed.is_some() {
        bs - EXT4_DIR_TAIL_SIZE
    } else {
        bs
    };
    write_entry(&mut b, 0, self_ino, 12, b".", EXT4_FT_DIR);
    write_entry(&mut b, 12, parent, end - 12, b"..", EXT4_FT_DIR);
    if let Some(s) = seed {
        dirblock_csum_set(s, &mut b);
    }
    b
}

/// An empty directory block (one unused entry spanning it).
pub fn empty_dir_block(bs: usize, seed: Option<u32>) -> Vec<u8> {
    let mut b = vec![0u8; bs];
    let end = if seed.is_some() {
        bs - EXT4_DIR_TAIL_SIZE
    } else {
        bs
    };
    write_entry(&mut b, 0, 0, end, b"", 0);
    if let Some(s) = seed {
        dirblock_csum_set(s, &mut b);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_remove_round_trip() {
        let mut b = init_dot_dotdot(1024, 12, 2, Some(7));
        assert!(dirblock_csum_verify(7, &b));
        let end = 1024 - EXT4_DIR_TAIL_SIZE;
        assert!(add_entry(&mut b[..end], 12, 0, b"hello", 13, EXT4_FT_REG_FILE).unwrap());
        let es = parse_entries(&b[..end], 12, 0, 0).unwrap();
        assert_eq!(es.len(), 3);
        assert_eq!(es[2].name, b"hello");
        assert_eq!(es[2].inode, 13);
        remove_entry(&mut b[..end], 12, 0, es[2].offset).unwrap();
        let es = parse_entries(&b[..end], 12, 0, 0).unwrap();
        assert_eq!(es.len(), 2);
        assert_eq!(es[1].rec_len as usize, end - 12);
        assert!(!dirblock_csum_verify(7, &b), "tail not recomputed yet");
        dirblock_csum_set(7, &mut b);
        assert!(dirblock_csum_verify(7, &b));
    }

    #[test]
    fn full_block_refuses_and_bad_rec_len_is_typed() {
        let mut b = vec![0u8; 64];
        write_entry(&mut b, 0, 5, 64, &[b'a'; 50], 1);
        assert!(!add_entry(&mut b, 1, 0, b"x", 6, 1).unwrap());
        b[4] = 3; // rec_len 3
        assert!(parse_entries(&b, 1, 9, 0).is_err());
        b[4] = 0x40;
        b[6] = 60; // name_len past rec_len
        assert!(parse_entries(&b, 1, 9, 0).is_err());
    }
}
