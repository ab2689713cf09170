//! `ext4_xattr_get` / `ext4_xattr_set` on an inode: in-inode first, then
//! one external block (not shared: refcount 1 blocks are rewritten in
//! place, shared ones are copied).

use super::error::{Ext4Error, Result};
use super::fs::Ext4Fs;
use super::inode::Ext4Inode;
use super::ondisk::{le32, put_le32};
use super::xattr::{
    block_build, block_get, ibody_get, ibody_set, XattrEntry, EXT4_XATTR_INDEX_SYSTEM,
};
use crate::device::BlockDevice;

fn is_system_data(e: &XattrEntry) -> bool {
    e.name_index == EXT4_XATTR_INDEX_SYSTEM && e.name == b"data"
}

impl<D: BlockDevice> Ext4Fs<D> {
    fn xattr_seed(&self) -> Option<u32> {
        self.sb.has_metadata_csum().then(|| self.sb.csum_seed())
    }

    /// The attributes in the external block of `inode` (empty if none).
    pub fn xattr_block_entries(&mut self, ino: u32, inode: &Ext4Inode) -> Result<Vec<XattrEntry>> {
        let blk = inode.file_acl_sb(&self.sb);
        if blk == 0 {
            return Ok(Vec::new());
        }
        let data = self.bread(blk)?;
        let seed = self.xattr_seed();
        block_get(&data, blk, ino, seed)
    }

    /// All attributes of `ino` (in-inode then block), by full name.
    pub fn list_xattrs(&mut self, ino: u32) -> Result<Vec<(String, Vec<u8>)>> {
        let raw = self.read_inode_raw(ino)?;
        let inode = Ext4Inode::decode(&raw);
        let mut all = ibody_get(&raw, ino)?;
        all.extend(self.xattr_block_entries(ino, &inode)?);
        Ok(all
            .into_iter()
            .filter(|e| !is_system_data(e))
            .map(|e| (e.full_name(), e.value))
            .collect())
    }

    /// `ext4_xattr_get`.
    pub fn get_xattr(&mut self, ino: u32, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .list_xattrs(ino)?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v))
    }

    /// `ext4_xattr_set`: set (`Some`) or remove (`None`) attribute `name`.
    pub fn set_xattr(&mut self, ino: u32, name: &str, value: Option<&[u8]>) -> Result<()> {
        self.check_writable()?;
        let key = XattrEntry::from_full_name(name, value.map(|v| v.to_vec()).unwrap_or_default())?;
        if is_system_data(&key) {
            return Err(Ext4Error::Invalid(
                "system.data is managed by inline data".into(),
            ));
        }
        let mut raw = self.read_inode_raw(ino)?;
        let mut inode = Ext4Inode::decode(&raw);
        let same = |e: &XattrEntry| e.name_index == key.name_index && e.name == key.name;
        let mut ibody = ibody_get(&raw, ino)?;
        let mut block = self.xattr_block_entries(ino, &inode)?;
        let existed = ibody.iter().any(same) || block.iter().any(same);
        ibody.retain(|e| !same(e));
        block.retain(|e| !same(e));
        if value.is_none() && !existed {
            return Err(Ext4Error::NotFound(name.to_string()));
        }
        if value.is_some() {
            let mut try_ibody = ibody.clone();
            try_ibody.push(key.clone());
            if ibody_set(&mut raw, &try_ibody) {
                ibody = try_ibody;
            } else {
                block.push(key);
            }
        }
        if !ibody_set(&mut raw, &ibody) {
            return Err(Ext4Error::NoSpace);
        }
        // Write the block part.
        let old = inode.file_acl_sb(&self.sb);
        if block.is_empty() {
            if old != 0 {
                self.release_xattr_block(ino, &mut inode)?;
            }
        } else {
            let bs = self.block_size() as usize;
            let blk = if old != 0 && le32(&self.bread(old)?, 4) == 1 {
                old
            } else {
                if old != 0 {
                    self.release_xattr_block(ino, &mut inode)?;
                }
                let goal = self.data_goal(ino);
                let (b, _) = self.ext4_new_blocks(goal, 1)?;
                self.add_i_blocks(&mut inode, 1);
                inode.set_file_acl(b);
                b
            };
            let seed = self.xattr_seed();
            let data = block_build(bs, blk, &block, seed).ok_or(Ext4Error::NoSpace)?;
            self.ext4_handle_dirty_metadata(blk, data)?;
        }
        let (s, e) = self.now.encode();
        inode.i_ctime = s;
        inode.i_ctime_extra = e;
        super::fs::encode_inode_into(&inode, &mut raw);
        self.write_inode_raw(ino, &mut raw)
    }

    /// Drop the inode's reference to its attribute block, freeing it at
    /// refcount zero.
    pub(crate) fn release_xattr_block(&mut self, ino: u32, inode: &mut Ext4Inode) -> Result<()> {
        let blk = inode.file_acl_sb(&self.sb);
        if blk == 0 {
            return Ok(());
        }
        let mut data = self.bread(blk)?;
        let refs = le32(&data, 4);
        if refs <= 1 {
            self.ext4_free_blocks(blk, 1)?;
        } else {
            put_le32(&mut data, 4, refs - 1);
            if let Some(s) = self.xattr_seed() {
                let c = super::xattr::xattr_block_csum(s, blk, &data);
                put_le32(&mut data, 0x10, c);
            }
            self.ext4_handle_dirty_metadata(blk, data)?;
        }
        let _ = ino;
        self.add_i_blocks(inode, -1);
        inode.set_file_acl(0);
        Ok(())
    }
}
