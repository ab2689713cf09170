//! Entries of a directory inode, block-mapped or inline: iterate, find,
//! add (growing the directory or converting it out of inline data), remove
//! (fs/ext4/namei.c, inline.c). Indexed (htree) directories are read
//! linearly; before an add, the index is dropped (`EXT4_INDEX_FL` cleared
//! and its node blocks rewritten as empty leaves), as the kernel does when
//! it cannot use an index.

use super::dir::{
    self, add_entry, dirblock_csum_set, dirblock_csum_verify, empty_dir_block, has_tail,
    init_dot_dotdot, parse_entries, remove_entry, DirEntry, EXT4_DIR_TAIL_SIZE, EXT4_FT_DIR,
};
use super::error::{CorruptKind, DirCorruption, Ext4Error, InodeCorruption, Result};
use super::fs::Ext4Fs;
use super::inline::{inline_bytes, set_inline_bytes};
use super::inode::{inode_csum_seed, Ext4Inode, EXT4_INDEX_FL, EXT4_INLINE_DATA_FL};
use super::map::MapFlags;
use super::ondisk::{le16, le32};
use crate::device::BlockDevice;

/// Where an entry lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryLoc {
    /// Logical block and physical block of a block directory.
    Block { lblk: u32, pblk: u64 },
    /// Inline: area 0 is `i_block[4..]`, area 1 the `system.data` value.
    Inline { area: u8 },
}

/// A directory entry with its location.
#[derive(Debug, Clone)]
pub struct LocatedEntry {
    pub entry: DirEntry,
    pub loc: EntryLoc,
}

/// Whether a block of an indexed directory is an index node (a fake
/// dirent with inode 0 spanning the block, or the root).
fn is_dx_node(block: &[u8], lblk: u32, indexed: bool) -> bool {
    if !indexed {
        return false;
    }
    if lblk == 0 {
        return true;
    }
    le32(block, 0) == 0 && dir::rec_len_from_disk(le16(block, 4), block.len()) == block.len()
}

impl<D: BlockDevice> Ext4Fs<D> {
    pub(crate) fn dir_seed(&self, ino: u32, inode: &Ext4Inode) -> Option<u32> {
        self.sb
            .has_metadata_csum()
            .then(|| inode_csum_seed(&self.sb, ino, inode.i_generation))
    }

    /// Read directory block `lblk` of `ino`: (pblk, bytes), checksum verified.
    pub(crate) fn dir_block(
        &mut self,
        ino: u32,
        inode: &mut Ext4Inode,
        lblk: u32,
    ) -> Result<(u64, Vec<u8>)> {
        let m = self.ext4_map_blocks_inode(ino, inode, lblk, 1, MapFlags::empty())?;
        let Some(pblk) = m.m_pblk else {
            return Err(CorruptKind::Dir {
                ino,
                block: lblk as u64,
                why: DirCorruption::Hole,
            }
            .into());
        };
        let data = self.bread(pblk)?;
        if let Some(seed) = self.dir_seed(ino, inode) {
            let indexed = inode.has_flag(EXT4_INDEX_FL);
            if !is_dx_node(&data, lblk, indexed) && !dirblock_csum_verify(seed, &data) {
                return Err(CorruptKind::DirChecksum { ino, block: pblk }.into());
            }
        }
        Ok((pblk, data))
    }

    pub(crate) fn dir_blocks(&self, ino: u32, inode: &Ext4Inode) -> Result<u32> {
        let bs = self.block_size() as u64;
        let n = inode.size().div_ceil(bs);
        u32::try_from(n).map_err(|_| {
            CorruptKind::Inode {
                ino,
                why: InodeCorruption::DirectorySize { size: inode.size() },
            }
            .into()
        })
    }

    /// Every live entry of directory `ino` (including `.` and `..` of
    /// block directories; inline directories report `..` from i_block).
    pub fn dir_entries(&mut self, ino: u32) -> Result<Vec<LocatedEntry>> {
        let raw = self.read_inode_raw(ino)?;
        let mut inode = Ext4Inode::decode(&raw);
        if !inode.is_dir() {
            return Err(Ext4Error::NotDir(format!("inode {ino}")));
        }
        let mut out = Vec::new();
        if inode.has_flag(EXT4_INLINE_DATA_FL) {
            let bytes = inline_bytes(&raw, ino)?;
            let parent = le32(&bytes, 0);
            let dot = |name: &[u8], i: u32| DirEntry {
                inode: i,
                rec_len: 0,
                file_type: EXT4_FT_DIR,
                name: name.to_vec(),
                offset: 0,
            };
            out.push(LocatedEntry {
                entry: dot(b".", ino),
                loc: EntryLoc::Inline { area: 0 },
            });
            out.push(LocatedEntry {
                entry: dot(b"..", parent),
                loc: EntryLoc::Inline { area: 0 },
            });
            for (area, (start, end)) in [(4usize, 60usize), (60, bytes.len())]
                .into_iter()
                .enumerate()
            {
                if end > start {
                    for e in parse_entries(&bytes[start..end], ino, 0, 0)? {
                        if e.inode != 0 {
                            out.push(LocatedEntry {
                                entry: e,
                                loc: EntryLoc::Inline { area: area as u8 },
                            });
                        }
                    }
                }
            }
            return Ok(out);
        }
        let indexed = inode.has_flag(EXT4_INDEX_FL);
        let bs = self.block_size() as usize;
        for lblk in 0..self.dir_blocks(ino, &inode)? {
            let (pblk, data) = self.dir_block(ino, &mut inode, lblk)?;
            let entries = if is_dx_node(&data, lblk, indexed) {
                if lblk == 0 {
                    // `.` and `..` of the dx root; the rest is the index.
                    let mut v = parse_entries(&data[..12], ino, pblk, 0)?;
                    let dd_len = dir::rec_len_from_disk(le16(&data, 16), bs).min(bs - 12);
                    v.extend(
                        parse_entries(&data[12..12 + dd_len], ino, pblk, 12)?
                            .into_iter()
                            .take(1),
                    );
                    v
                } else {
                    Vec::new()
                }
            } else {
                let end = if has_tail(&data) {
                    bs - EXT4_DIR_TAIL_SIZE
                } else {
                    bs
                };
                parse_entries(&data[..end], ino, pblk, 0)?
            };
            for e in entries {
                if e.inode != 0 {
                    out.push(LocatedEntry {
                        entry: e,
                        loc: EntryLoc::Block { lblk, pblk },
                    });
                }
            }
        }
        Ok(out)
    }

    /// `ext4_find_entry`: the entry called `name` in `dir`.
    pub fn find_entry(&mut self, dir: u32, name: &[u8]) -> Result<Option<LocatedEntry>> {
        let inode = self.ext4_iget(dir)?;
        if inode.has_flag(EXT4_INDEX_FL)
            && !inode.has_flag(EXT4_INLINE_DATA_FL)
            && self.sb.has_compat(super::superblock::COMPAT_DIR_INDEX)
            && name != b"."
            && name != b".."
        {
            if let Ok(found) = self.dx_find_entry(dir, name) {
                return Ok(found);
            }
        }
        Ok(self
            .dir_entries(dir)?
            .into_iter()
            .find(|e| self.name_matches(&inode, &e.entry.name, name)))
    }

    /// `ext4_match`: names are equal, or equal casefolded in a casefolded
    /// directory (`ext4_ci_compare`; invalid UTF-8 compares as bytes).
    pub(crate) fn name_matches(&self, dir: &Ext4Inode, entry: &[u8], name: &[u8]) -> bool {
        if entry == name {
            return true;
        }
        if !dir.has_flag(super::inode::EXT4_CASEFOLD_FL)
            || !self.sb.has_incompat(super::superblock::INCOMPAT_CASEFOLD)
        {
            return false;
        }
        match (
            super::casefold::casefold(entry),
            super::casefold::casefold(name),
        ) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// Refuse changing the entries of a directory the engine cannot
    /// write correctly (encrypted: names are ciphertext; `Unsupported`).
    pub(crate) fn check_dir_writable(&mut self, dir: u32) -> Result<()> {
        self.check_inode_write(dir)
    }

    /// Rewrite a block directory's index blocks as plain leaves and clear
    /// `EXT4_INDEX_FL`, so entries can be added linearly.
    fn drop_dx_index(&mut self, ino: u32, inode: &mut Ext4Inode) -> Result<()> {
        let seed = self.dir_seed(ino, inode);
        let bs = self.block_size() as usize;
        for lblk in 0..self.dir_blocks(ino, inode)? {
            let (pblk, data) = self.dir_block(ino, inode, lblk)?;
            if !is_dx_node(&data, lblk, true) {
                continue;
            }
            let block = if lblk == 0 {
                let parent = le32(&data, 12);
                init_dot_dotdot(bs, ino, parent, seed)
            } else {
                empty_dir_block(bs, seed)
            };
            self.ext4_handle_dirty_metadata(pblk, block)?;
        }
        inode.i_flags &= !EXT4_INDEX_FL;
        self.write_inode(ino, inode)
    }

    /// `ext4_add_entry`: link `name` -> `ino` in `dir`.
    pub(crate) fn add_dir_entry(
        &mut self,
        dir: u32,
        name: &[u8],
        ino: u32,
        file_type: u8,
    ) -> Result<()> {
        if name.is_empty() || name.len() > dir::EXT4_NAME_LEN {
            return Err(Ext4Error::NameTooLong);
        }
        self.check_dir_writable(dir)?;
        let ft = if self.sb.has_incompat(super::superblock::INCOMPAT_FILETYPE) {
            file_type
        } else {
            0
        };
        let raw = self.read_inode_raw(dir)?;
        let mut inode = Ext4Inode::decode(&raw);
        if inode.has_flag(EXT4_INLINE_DATA_FL) {
            let mut bytes = inline_bytes(&raw, dir)?;
            for (start, end) in [(4usize, 60usize), (60, bytes.len())] {
                if end > start && add_entry(&mut bytes[start..end], dir, 0, name, ino, ft)? {
                    let mut raw = raw.clone();
                    set_inline_bytes(&mut raw, dir, &bytes)?;
                    return self.write_inode_raw(dir, &mut raw);
                }
            }
            self.convert_inline_dir(dir)?;
            return self.add_dir_entry(dir, name, ino, file_type);
        }
        if inode.has_flag(EXT4_INDEX_FL) {
            if self.sb.has_compat(super::superblock::COMPAT_DIR_INDEX) {
                return self.ext4_dx_add_entry(dir, &mut inode, name, ino, ft);
            }
            // Without dir_index the index is dropped (as the kernel ignores it).
            self.drop_dx_index(dir, &mut inode)?;
        }
        let seed = self.dir_seed(dir, &inode);
        let bs = self.block_size() as usize;
        let end = if seed.is_some() {
            bs - EXT4_DIR_TAIL_SIZE
        } else {
            bs
        };
        let nblocks = self.dir_blocks(dir, &inode)?;
        if nblocks == 1 && self.sb.has_compat(super::superblock::COMPAT_DIR_INDEX) {
            let (pblk, mut data) = self.dir_block(dir, &mut inode, 0)?;
            if add_entry(&mut data[..end], dir, pblk, name, ino, ft)? {
                if let Some(s) = seed {
                    dirblock_csum_set(s, &mut data);
                }
                return self.ext4_handle_dirty_metadata(pblk, data);
            }
            return self.make_indexed_dir(dir, &mut inode, name, ino, ft);
        }
        for lblk in 0..nblocks {
            let (pblk, mut data) = self.dir_block(dir, &mut inode, lblk)?;
            if add_entry(&mut data[..end], dir, pblk, name, ino, ft)? {
                if let Some(s) = seed {
                    dirblock_csum_set(s, &mut data);
                }
                return self.ext4_handle_dirty_metadata(pblk, data);
            }
        }
        // `ext4_append`: a new block at the end of the directory.
        let m = self.ext4_map_blocks_inode(dir, &mut inode, nblocks, 1, MapFlags::CREATE)?;
        let pblk = m.m_pblk.ok_or(Ext4Error::NoSpace)?;
        let mut data = empty_dir_block(bs, seed);
        add_entry(&mut data[..end], dir, pblk, name, ino, ft)?;
        if let Some(s) = seed {
            dirblock_csum_set(s, &mut data);
        }
        self.ext4_handle_dirty_metadata(pblk, data)?;
        inode.set_size((nblocks as u64 + 1) * bs as u64);
        self.write_inode(dir, &inode)
    }

    /// `ext4_delete_entry`: remove `name` from `dir`; returns the entry.
    pub(crate) fn remove_dir_entry(&mut self, dir: u32, name: &[u8]) -> Result<DirEntry> {
        self.check_dir_writable(dir)?;
        let Some(found) = self.find_entry(dir, name)? else {
            return Err(Ext4Error::NotFound(
                String::from_utf8_lossy(name).into_owned(),
            ));
        };
        match found.loc {
            EntryLoc::Inline { area } => {
                let mut raw = self.read_inode_raw(dir)?;
                let mut bytes = inline_bytes(&raw, dir)?;
                let (start, end) = if area == 0 {
                    (4, 60)
                } else {
                    (60, bytes.len())
                };
                remove_entry(&mut bytes[start..end], dir, 0, found.entry.offset)?;
                set_inline_bytes(&mut raw, dir, &bytes)?;
                self.write_inode_raw(dir, &mut raw)?;
            }
            EntryLoc::Block { lblk, pblk } => {
                let mut inode = self.ext4_iget(dir)?;
                let (_, mut data) = self.dir_block(dir, &mut inode, lblk)?;
                let seed = self.dir_seed(dir, &inode);
                let bs = data.len();
                let end = if has_tail(&data) {
                    bs - EXT4_DIR_TAIL_SIZE
                } else {
                    bs
                };
                if is_dx_node(&data, lblk, inode.has_flag(EXT4_INDEX_FL)) {
                    self.drop_dx_index(dir, &mut inode)?;
                    return self.remove_dir_entry(dir, name);
                }
                remove_entry(&mut data[..end], dir, pblk, found.entry.offset)?;
                if let Some(s) = seed {
                    dirblock_csum_set(s, &mut data);
                }
                self.ext4_handle_dirty_metadata(pblk, data)?;
            }
        }
        Ok(found.entry)
    }

    /// Point the existing entry `name` of `dir` at `ino` (rename over an
    /// existing target, or `..` of a moved directory).
    pub(crate) fn set_dir_entry_inode(
        &mut self,
        dir: u32,
        name: &[u8],
        ino: u32,
        file_type: u8,
    ) -> Result<()> {
        self.check_dir_writable(dir)?;
        let raw = self.read_inode_raw(dir)?;
        let mut inode = Ext4Inode::decode(&raw);
        if inode.has_flag(EXT4_INLINE_DATA_FL) && name == b".." {
            let mut raw = raw;
            let mut bytes = inline_bytes(&raw, dir)?;
            bytes[..4].copy_from_slice(&ino.to_le_bytes());
            set_inline_bytes(&mut raw, dir, &bytes)?;
            return self.write_inode_raw(dir, &mut raw);
        }
        let Some(found) = self.find_entry(dir, name)? else {
            return Err(Ext4Error::NotFound(
                String::from_utf8_lossy(name).into_owned(),
            ));
        };
        match found.loc {
            EntryLoc::Inline { area } => {
                let mut raw = raw;
                let mut bytes = inline_bytes(&raw, dir)?;
                let base = if area == 0 { 4 } else { 60 };
                let off = base + found.entry.offset;
                bytes[off..off + 4].copy_from_slice(&ino.to_le_bytes());
                bytes[off + 7] = file_type;
                set_inline_bytes(&mut raw, dir, &bytes)?;
                self.write_inode_raw(dir, &mut raw)
            }
            EntryLoc::Block { lblk, pblk } => {
                let (_, mut data) = self.dir_block(dir, &mut inode, lblk)?;
                let off = found.entry.offset;
                data[off..off + 4].copy_from_slice(&ino.to_le_bytes());
                data[off + 7] = file_type;
                if let Some(s) = self.dir_seed(dir, &inode) {
                    if has_tail(&data) {
                        dirblock_csum_set(s, &mut data);
                    }
                }
                self.ext4_handle_dirty_metadata(pblk, data)
            }
        }
    }

    /// `ext4_convert_inline_data_nolock` for a directory: a block holding
    /// `.`, `..` and every inline entry.
    pub fn convert_inline_dir(&mut self, dir: u32) -> Result<()> {
        let entries = self.dir_entries(dir)?;
        let parent = entries
            .iter()
            .find(|e| e.entry.name == b"..")
            .map_or(dir, |e| e.entry.inode);
        self.ext4_destroy_inline_data(dir)?;
        let mut inode = self.ext4_iget(dir)?;
        let m = self.ext4_map_blocks_inode(dir, &mut inode, 0, 1, MapFlags::CREATE)?;
        let pblk = m.m_pblk.ok_or(Ext4Error::NoSpace)?;
        let seed = self.dir_seed(dir, &inode);
        let bs = self.block_size() as usize;
        let end = if seed.is_some() {
            bs - EXT4_DIR_TAIL_SIZE
        } else {
            bs
        };
        let mut data = init_dot_dotdot(bs, dir, parent, seed);
        for e in entries
            .iter()
            .filter(|e| e.entry.name != b"." && e.entry.name != b"..")
        {
            if !add_entry(
                &mut data[..end],
                dir,
                pblk,
                &e.entry.name,
                e.entry.inode,
                e.entry.file_type,
            )? {
                return Err(Ext4Error::NoSpace);
            }
        }
        if let Some(s) = seed {
            dirblock_csum_set(s, &mut data);
        }
        self.ext4_handle_dirty_metadata(pblk, data)?;
        inode.set_size(bs as u64);
        self.write_inode(dir, &inode)
    }
}
