//! Inline data (fs/ext4/inline.c): the first 60 bytes in `i_block`, the
//! rest in the in-inode `system.data` xattr. Reading, rewriting, the
//! largest size that fits, and conversion to an extent-mapped file when
//! the data no longer fits (`ext4_convert_inline_data`).

use super::error::{CorruptKind, Ext4Error, InlineDataCorruption, Result};
use super::fs::{encode_inode_into, Ext4Fs};
use super::inode::{Ext4Inode, EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL};
use super::map::{MapFlags, I_BLOCK_SIZE};
use super::xattr::{ibody_get, ibody_room, ibody_set, XattrEntry, EXT4_XATTR_INDEX_SYSTEM};
use crate::device::BlockDevice;

/// `EXT4_MIN_INLINE_DATA_SIZE`: the part kept in `i_block`.
pub const EXT4_MIN_INLINE_DATA_SIZE: usize = I_BLOCK_SIZE;

fn is_system_data(e: &XattrEntry) -> bool {
    e.name_index == EXT4_XATTR_INDEX_SYSTEM && e.name == b"data"
}

/// The `system.data` entry with `value`.
pub fn system_data(value: Vec<u8>) -> XattrEntry {
    XattrEntry {
        name_index: EXT4_XATTR_INDEX_SYSTEM,
        name: b"data".to_vec(),
        value,
    }
}

/// Everything stored inline for this raw inode: `i_block` then the
/// `system.data` value (the caller trims to `i_size` for files).
pub fn inline_bytes(raw: &[u8], ino: u32) -> Result<Vec<u8>> {
    let inode = Ext4Inode::decode(&raw[..raw.len().min(128)]);
    let mut out = inode.i_block.to_vec();
    let attrs = ibody_get(raw, ino)?;
    match attrs.iter().find(|e| is_system_data(e)) {
        Some(e) => out.extend_from_slice(&e.value),
        None => {
            return Err(CorruptKind::InlineData {
                ino,
                why: InlineDataCorruption::NoSystemData,
            }
            .into())
        }
    }
    Ok(out)
}

/// `ext4_get_max_inline_size`: the largest inline size this inode can hold.
pub fn max_inline_size(raw: &[u8], ino: u32) -> Result<usize> {
    if raw.len() <= 128 {
        return Ok(0);
    }
    let attrs = ibody_get(raw, ino)?;
    let others: Vec<XattrEntry> = attrs.into_iter().filter(|e| !is_system_data(e)).collect();
    let entry = system_data(Vec::new()).entry_len();
    let room = ibody_room(raw, &others).saturating_sub(entry);
    Ok(EXT4_MIN_INLINE_DATA_SIZE + (room & !3))
}

/// Store `data` as the whole inline contents of a raw inode. Returns false
/// (nothing changed) when it does not fit.
pub fn set_inline_bytes(raw: &mut [u8], ino: u32, data: &[u8]) -> Result<bool> {
    let mut attrs: Vec<XattrEntry> = ibody_get(raw, ino)?
        .into_iter()
        .filter(|e| !is_system_data(e))
        .collect();
    let tail = data
        .get(EXT4_MIN_INLINE_DATA_SIZE..)
        .unwrap_or(&[])
        .to_vec();
    attrs.insert(0, system_data(tail));
    let mut tmp = raw.to_vec();
    if !ibody_set(&mut tmp, &attrs) {
        return Ok(false);
    }
    let mut inode = Ext4Inode::decode(&tmp);
    let mut head = [0u8; I_BLOCK_SIZE];
    let n = data.len().min(I_BLOCK_SIZE);
    head[..n].copy_from_slice(&data[..n]);
    inode.i_block = head;
    encode_inode_into(&inode, &mut tmp);
    raw.copy_from_slice(&tmp);
    Ok(true)
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// The inline contents of a file (trimmed to `i_size`).
    pub fn read_inline_data(&mut self, ino: u32) -> Result<Vec<u8>> {
        let raw = self.read_inode_raw(ino)?;
        let inode = Ext4Inode::decode(&raw);
        if !inode.has_flag(EXT4_INLINE_DATA_FL) {
            return Err(Ext4Error::Invalid(format!(
                "inode {ino} has no inline data"
            )));
        }
        let mut b = inline_bytes(&raw, ino)?;
        let size = inode.size() as usize;
        if inode.is_reg() || inode.is_symlink() {
            if size > b.len() {
                return Err(CorruptKind::InlineData {
                    ino,
                    why: InlineDataCorruption::SizePastInline {
                        size,
                        inline: b.len(),
                    },
                }
                .into());
            }
            b.truncate(size);
        }
        Ok(b)
    }

    /// The whole inline area of an inline-data inode, `i_block` then the
    /// `system.data` value, not trimmed to `i_size`: what the kernel's
    /// `ext4_read_inline_data(inode, buf, ext4_get_inline_size(inode),
    /// iloc)` copies. A delalloc write that converted through the page
    /// cache leaves `i_size` past the inline area until writeback destroys
    /// it, and the kernel reads the area all the same.
    pub fn read_inline_area(&mut self, ino: u32) -> Result<Vec<u8>> {
        let raw = self.read_inode_raw(ino)?;
        let inode = Ext4Inode::decode(&raw);
        if !inode.has_flag(EXT4_INLINE_DATA_FL) {
            return Err(Ext4Error::Invalid(format!(
                "inode {ino} has no inline data"
            )));
        }
        inline_bytes(&raw, ino)
    }

    /// Replace the inline contents (and `i_size` for files). Returns false
    /// when `data` does not fit inline.
    pub fn write_inline_data(&mut self, ino: u32, data: &[u8], set_size: bool) -> Result<bool> {
        self.check_writable()?;
        let mut raw = self.read_inode_raw(ino)?;
        if !set_inline_bytes(&mut raw, ino, data)? {
            return Ok(false);
        }
        let mut inode = Ext4Inode::decode(&raw);
        if set_size {
            inode.set_size(data.len() as u64);
        }
        inode.i_flags |= EXT4_INLINE_DATA_FL;
        let (s, e) = self.now.encode();
        inode.i_mtime = s;
        inode.i_ctime = s;
        inode.i_mtime_extra = e;
        inode.i_ctime_extra = e;
        encode_inode_into(&inode, &mut raw);
        self.write_inode_raw(ino, &mut raw)?;
        Ok(true)
    }

    /// Make a new (empty) inode an inline-data one.
    pub(crate) fn init_inline(&mut self, ino: u32, data: &[u8]) -> Result<bool> {
        self.write_inline_data(ino, data, true)
    }

    /// `ext4_convert_inline_data`: move the inline bytes of a regular
    /// file/symlink into block 0 of a fresh extent tree. The caller holds
    /// `i_rwsem` and `xattr_sem` (the simulated kernel models them).
    pub fn ext4_convert_inline_data(&mut self, ino: u32) -> Result<()> {
        self.check_writable()?;
        let data = self.read_inline_data(ino)?;
        self.ext4_destroy_inline_data(ino)?;
        if !data.is_empty() {
            let mut inode = self.ext4_iget(ino)?;
            let res = self.ext4_map_blocks_inode(ino, &mut inode, 0, 1, MapFlags::CREATE)?;
            self.write_inode(ino, &inode)?;
            let pblk = res
                .m_pblk
                .ok_or_else(|| Ext4Error::Invalid("no block after allocation".into()))?;
            let mut blk = vec![0u8; self.block_size() as usize];
            blk[..data.len()].copy_from_slice(&data);
            self.write_data_block(pblk, &blk)?;
        }
        Ok(())
    }

    /// `ext4_destroy_inline_data_nolock`: drop `system.data`, clear
    /// INLINE_DATA_FL and start an empty extent tree (or an empty block map
    /// without the extent feature). The inline bytes are gone afterwards:
    /// read them first (`read_inline_data`) and put them where the variant
    /// being simulated puts them (a journalled metadata block, or a page
    /// written back as ordered data).
    ///
    /// Preconditions: `xattr_sem` held for write (and `i_rwsem` in the fixed code).
    pub fn ext4_destroy_inline_data(&mut self, ino: u32) -> Result<()> {
        let mut raw = self.read_inode_raw(ino)?;
        let attrs: Vec<XattrEntry> = ibody_get(&raw, ino)?
            .into_iter()
            .filter(|e| !is_system_data(e))
            .collect();
        ibody_set(&mut raw, &attrs);
        let mut inode = Ext4Inode::decode(&raw);
        inode.i_flags &= !EXT4_INLINE_DATA_FL;
        inode.i_block = [0; I_BLOCK_SIZE];
        if self.sb.has_incompat(super::superblock::INCOMPAT_EXTENTS) {
            inode.i_flags |= EXT4_EXTENTS_FL;
            super::map::ext4_ext_tree_init(&mut inode.i_block);
        }
        encode_inode_into(&inode, &mut raw);
        self.write_inode_raw(ino, &mut raw)
    }
}
