//! Path-level operations (fs/ext4/namei.c, inode.c, symlink.c): lookup,
//! create, mkdir, link, symlink, unlink, rmdir, rename, setattr flags.

use super::dir::{ext4_type_by_mode, init_dot_dotdot, EXT4_FT_DIR};
use super::error::{Ext4Error, Result};
use super::fs::Ext4Fs;
use super::inode::{
    Ext4Inode, EXT4_EXTENTS_FL, EXT4_FL_USER_MODIFIABLE, EXT4_INLINE_DATA_FL, EXT4_ROOT_INO,
    S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
};
use super::map::{MapFlags, I_BLOCK_SIZE};
use super::superblock::{INCOMPAT_EXTENTS, INCOMPAT_INLINE_DATA, RO_COMPAT_DIR_NLINK};
use crate::device::BlockDevice;

/// What `setattr` changes (`struct iattr` without the size).
#[derive(Debug, Clone, Default)]
pub struct SetAttr {
    pub mode: Option<u16>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub atime: Option<super::inode::Timespec>,
    pub mtime: Option<super::inode::Timespec>,
}

/// `EXT4_LINK_MAX`.
pub const EXT4_LINK_MAX: u16 = 65000;
/// Symlink loops followed by `lookup` before giving up (`ELOOP`).
const MAX_SYMLINKS: usize = 8;

fn name_str(n: &[u8]) -> String {
    String::from_utf8_lossy(n).into_owned()
}

/// Split "/a/b/c" into ("/a/b", "c").
pub fn split_parent(path: &str) -> Result<(&str, &str)> {
    let p = path.trim_end_matches('/');
    match p.rfind('/') {
        Some(i) => {
            let name = &p[i + 1..];
            if name.is_empty() || name == "." || name == ".." {
                return Err(Ext4Error::BadName {
                    path: path.to_string(),
                });
            }
            Ok((if i == 0 { "/" } else { &p[..i] }, name))
        }
        None if !p.is_empty() => Ok(("/", p)),
        None => Err(Ext4Error::BadName {
            path: path.to_string(),
        }),
    }
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// `ext4_lookup` of one name in `dir`.
    pub fn lookup_in(&mut self, dir: u32, name: &[u8]) -> Result<Option<u32>> {
        Ok(self.find_entry(dir, name)?.map(|e| e.entry.inode))
    }

    /// Resolve an absolute path (symlinks in the middle are followed; the
    /// last component is not).
    pub fn lookup(&mut self, path: &str) -> Result<u32> {
        self.lookup_from(EXT4_ROOT_INO, path, 0)
    }

    fn lookup_from(&mut self, start: u32, path: &str, depth: usize) -> Result<u32> {
        let mut cur = if path.starts_with('/') {
            EXT4_ROOT_INO
        } else {
            start
        };
        let comps: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        for (i, c) in comps.iter().enumerate() {
            let inode = self.ext4_iget(cur)?;
            if !inode.is_dir() {
                return Err(Ext4Error::NotDir(name_str(c.as_bytes())));
            }
            let next = self
                .lookup_in(cur, c.as_bytes())?
                .ok_or_else(|| Ext4Error::NotFound(path.to_string()))?;
            let ni = self.ext4_iget(next)?;
            if ni.is_symlink() && i + 1 < comps.len() {
                if depth >= MAX_SYMLINKS {
                    return Err(Ext4Error::SymlinkLoop {
                        path: path.to_string(),
                    });
                }
                let target = self.readlink(next)?;
                cur = self.lookup_from(cur, &String::from_utf8_lossy(&target), depth + 1)?;
            } else {
                cur = next;
            }
        }
        Ok(cur)
    }

    /// `__ext4_new_inode`: allocate and initialise an inode of `mode`.
    fn new_inode(&mut self, dir: u32, mode: u16) -> Result<(u32, Ext4Inode)> {
        let is_dir = mode & S_IFMT == S_IFDIR;
        let group = (dir - 1) / self.sb.s_inodes_per_group;
        let ino = self.ext4_new_inode_number(group, is_dir)?;
        let mut inode = Ext4Inode::zeroed();
        inode.i_mode = mode;
        inode.i_links_count = 1;
        inode.i_generation = self.new_generation();
        if self.sb.inode_size() > 128 {
            inode.i_extra_isize = self
                .sb
                .s_want_extra_isize
                .clamp(4, (self.sb.inode_size() - 128) as u16);
            let (s, e) = self.now.encode();
            inode.i_crtime = s;
            inode.i_crtime_extra = e;
        }
        inode.set_times(self.now);
        if self.sb.has_incompat(INCOMPAT_EXTENTS) && (mode & S_IFMT == S_IFREG || is_dir) {
            inode.i_flags |= EXT4_EXTENTS_FL;
            super::map::ext4_ext_tree_init(&mut inode.i_block);
        }
        let mut raw = vec![0u8; self.sb.inode_size()];
        super::fs::encode_inode_into(&inode, &mut raw);
        self.write_inode_raw(ino, &mut raw)?;
        Ok((ino, inode))
    }

    fn parent_dir(&mut self, path: &str) -> Result<(u32, String)> {
        let (parent, name) = split_parent(path)?;
        if name.len() > super::dir::EXT4_NAME_LEN {
            return Err(Ext4Error::NameTooLong);
        }
        let dir = self.lookup(parent)?;
        if !self.ext4_iget(dir)?.is_dir() {
            return Err(Ext4Error::NotDir(parent.to_string()));
        }
        if self.lookup_in(dir, name.as_bytes())?.is_some() {
            return Err(Ext4Error::Exists(path.to_string()));
        }
        Ok((dir, name.to_string()))
    }

    fn use_inline(&self) -> bool {
        self.sb.has_incompat(INCOMPAT_INLINE_DATA) && self.sb.inode_size() > 128
    }

    /// `ext4_create`: a new empty regular file at `path` (mode bits of `perm`).
    pub fn create(&mut self, path: &str, perm: u16) -> Result<u32> {
        self.check_writable()?;
        let (dir, name) = self.parent_dir(path)?;
        let mode = S_IFREG | (perm & 0o7777);
        let (ino, mut inode) = self.new_inode(dir, mode)?;
        if self.use_inline() {
            inode.i_flags &= !EXT4_EXTENTS_FL;
            inode.i_flags |= EXT4_INLINE_DATA_FL;
            inode.i_block = [0; I_BLOCK_SIZE];
            self.write_inode(ino, &inode)?;
            self.init_inline(ino, &[])?;
        }
        self.add_dir_entry(dir, name.as_bytes(), ino, ext4_type_by_mode(mode))?;
        self.touch_dir(dir, 0)?;
        Ok(ino)
    }

    /// Bump a directory's times and link count by `dlinks`.
    fn touch_dir(&mut self, dir: u32, dlinks: i32) -> Result<()> {
        let mut d = self.ext4_iget(dir)?;
        let (s, e) = self.now.encode();
        d.i_mtime = s;
        d.i_ctime = s;
        d.i_mtime_extra = e;
        d.i_ctime_extra = e;
        if dlinks > 0 {
            // dir_nlink: past EXT4_LINK_MAX the count sticks at 1.
            if d.i_links_count >= EXT4_LINK_MAX - 1 && self.sb.has_ro_compat(RO_COMPAT_DIR_NLINK) {
                d.i_links_count = 1;
            } else if d.i_links_count != 1 || !self.sb.has_ro_compat(RO_COMPAT_DIR_NLINK) {
                d.i_links_count = d
                    .i_links_count
                    .checked_add(1)
                    .ok_or(Ext4Error::TooManyLinks { ino: dir })?;
            }
        } else if dlinks < 0 && d.i_links_count > 2 {
            d.i_links_count -= 1;
        }
        self.write_inode(dir, &d)
    }

    /// `ext4_mkdir`.
    pub fn mkdir(&mut self, path: &str, perm: u16) -> Result<u32> {
        self.check_writable()?;
        let (dir, name) = self.parent_dir(path)?;
        let parent = self.ext4_iget(dir)?;
        if parent.i_links_count >= EXT4_LINK_MAX && !self.sb.has_ro_compat(RO_COMPAT_DIR_NLINK) {
            return Err(Ext4Error::TooManyLinks { ino: dir });
        }
        let mode = S_IFDIR | (perm & 0o7777);
        let (ino, mut inode) = self.new_inode(dir, mode)?;
        inode.i_links_count = 2;
        if self.use_inline() {
            // `ext4_try_create_inline_dir`: parent number, then one empty slot.
            inode.i_flags &= !EXT4_EXTENTS_FL;
            inode.i_flags |= EXT4_INLINE_DATA_FL;
            inode.i_block = [0; I_BLOCK_SIZE];
            self.write_inode(ino, &inode)?;
            let mut bytes = vec![0u8; I_BLOCK_SIZE];
            bytes[..4].copy_from_slice(&dir.to_le_bytes());
            super::dir::write_entry(&mut bytes, 4, 0, I_BLOCK_SIZE - 4, b"", 0);
            self.init_inline(ino, &bytes)?;
        } else {
            let m = self.ext4_map_blocks_inode(ino, &mut inode, 0, 1, MapFlags::CREATE)?;
            let pblk = m.m_pblk.ok_or(Ext4Error::NoSpace)?;
            let seed = self.dir_seed(ino, &inode);
            let blk = init_dot_dotdot(self.block_size() as usize, ino, dir, seed);
            self.ext4_handle_dirty_metadata(pblk, blk)?;
            inode.set_size(self.block_size() as u64);
            self.write_inode(ino, &inode)?;
        }
        self.add_dir_entry(dir, name.as_bytes(), ino, EXT4_FT_DIR)?;
        self.touch_dir(dir, 1)?;
        Ok(ino)
    }

    /// `ext4_link`: a new name for an existing non-directory inode.
    pub fn link(&mut self, target: &str, path: &str) -> Result<()> {
        self.check_writable()?;
        let ino = self.lookup(target)?;
        let mut inode = self.ext4_iget(ino)?;
        if inode.is_dir() {
            return Err(Ext4Error::IsDir(target.to_string()));
        }
        if inode.i_links_count >= EXT4_LINK_MAX {
            return Err(Ext4Error::TooManyLinks { ino });
        }
        let (dir, name) = self.parent_dir(path)?;
        self.add_dir_entry(dir, name.as_bytes(), ino, ext4_type_by_mode(inode.i_mode))?;
        inode = self.ext4_iget(ino)?;
        inode.i_links_count += 1;
        let (s, e) = self.now.encode();
        inode.i_ctime = s;
        inode.i_ctime_extra = e;
        self.write_inode(ino, &inode)?;
        self.touch_dir(dir, 0)
    }

    /// `ext4_symlink`: fast (in `i_block`) below 60 bytes, else one block
    /// (or inline data when the feature is on).
    pub fn symlink(&mut self, target: &str, path: &str) -> Result<u32> {
        self.check_writable()?;
        let t = target.as_bytes();
        if t.is_empty() || t.len() >= self.block_size() as usize {
            return Err(Ext4Error::NameTooLong);
        }
        let (dir, name) = self.parent_dir(path)?;
        let (ino, mut inode) = self.new_inode(dir, S_IFLNK | 0o777)?;
        if t.len() < I_BLOCK_SIZE {
            inode.i_block = [0; I_BLOCK_SIZE];
            inode.i_block[..t.len()].copy_from_slice(t);
            inode.set_size(t.len() as u64);
            self.write_inode(ino, &inode)?;
        } else {
            if self.sb.has_incompat(INCOMPAT_EXTENTS) {
                inode.i_flags |= EXT4_EXTENTS_FL;
                super::map::ext4_ext_tree_init(&mut inode.i_block);
            }
            self.write_inode(ino, &inode)?;
            self.write(ino, 0, t)?;
        }
        self.add_dir_entry(dir, name.as_bytes(), ino, ext4_type_by_mode(S_IFLNK))?;
        self.touch_dir(dir, 0)?;
        Ok(ino)
    }

    /// The target of a symlink.
    pub fn readlink(&mut self, ino: u32) -> Result<Vec<u8>> {
        let inode = self.ext4_iget(ino)?;
        if !inode.is_symlink() {
            return Err(Ext4Error::NotSymlink { ino });
        }
        let size = inode.size() as usize;
        let fast = !inode.has_flag(EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)
            && inode.i_file_acl_lo == 0
            && inode.i_blocks_lo == 0;
        if fast && size < I_BLOCK_SIZE {
            return Ok(inode.i_block[..size].to_vec());
        }
        self.read_all(ino)
    }

    /// Drop one link of `ino`; at zero free its blocks, xattr block and the inode.
    fn drop_link(&mut self, ino: u32, is_dir: bool) -> Result<()> {
        let mut inode = self.ext4_iget(ino)?;
        let remaining = if is_dir {
            0
        } else {
            inode.i_links_count.saturating_sub(1)
        };
        if remaining > 0 {
            inode.i_links_count = remaining;
            let (s, e) = self.now.encode();
            inode.i_ctime = s;
            inode.i_ctime_extra = e;
            return self.write_inode(ino, &inode);
        }
        self.ext4_free_inode_data(ino, &mut inode)?;
        inode.i_links_count = 0;
        inode.i_dtime = self.now.sec as u32;
        self.write_inode(ino, &inode)?;
        self.ext4_free_inode_number(ino, is_dir)
    }

    /// Free every block an inode owns (`ext4_evict_inode` -> truncate to 0).
    pub(crate) fn ext4_free_inode_data(&mut self, ino: u32, inode: &mut Ext4Inode) -> Result<()> {
        let fast_symlink = inode.is_symlink()
            && !inode.has_flag(EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL)
            && inode.i_blocks_lo == 0;
        if !inode.has_flag(EXT4_INLINE_DATA_FL) && !fast_symlink {
            self.remove_space(ino, inode, 0, super::file::EXT4_MAX_LBLK)?;
        }
        let acl = inode.file_acl_sb(&self.sb);
        if acl != 0 {
            self.release_xattr_block(ino, inode)?;
        }
        inode.set_size(0);
        Ok(())
    }

    /// `ext4_unlink`.
    pub fn unlink(&mut self, path: &str) -> Result<()> {
        self.check_writable()?;
        let (parent, name) = split_parent(path)?;
        let dir = self.lookup(parent)?;
        let ino = self
            .lookup_in(dir, name.as_bytes())?
            .ok_or_else(|| Ext4Error::NotFound(path.to_string()))?;
        if self.ext4_iget(ino)?.is_dir() {
            return Err(Ext4Error::IsDir(path.to_string()));
        }
        self.remove_dir_entry(dir, name.as_bytes())?;
        self.touch_dir(dir, 0)?;
        self.drop_link(ino, false)
    }

    fn dir_is_empty(&mut self, ino: u32) -> Result<bool> {
        Ok(self
            .dir_entries(ino)?
            .iter()
            .all(|e| e.entry.name == b"." || e.entry.name == b".."))
    }

    /// `ext4_rmdir`.
    pub fn rmdir(&mut self, path: &str) -> Result<()> {
        self.check_writable()?;
        let (parent, name) = split_parent(path)?;
        let dir = self.lookup(parent)?;
        let ino = self
            .lookup_in(dir, name.as_bytes())?
            .ok_or_else(|| Ext4Error::NotFound(path.to_string()))?;
        if !self.ext4_iget(ino)?.is_dir() {
            return Err(Ext4Error::NotDir(path.to_string()));
        }
        if !self.dir_is_empty(ino)? {
            return Err(Ext4Error::NotEmpty(path.to_string()));
        }
        self.remove_dir_entry(dir, name.as_bytes())?;
        self.touch_dir(dir, -1)?;
        self.drop_link(ino, true)
    }

    /// `ext4_rename` (no flags): move `from` to `to`, replacing a
    /// compatible existing target.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        self.check_writable()?;
        let (fp, fname) = split_parent(from)?;
        let (tp, tname) = split_parent(to)?;
        let old_dir = self.lookup(fp)?;
        let new_dir = self.lookup(tp)?;
        let ino = self
            .lookup_in(old_dir, fname.as_bytes())?
            .ok_or_else(|| Ext4Error::NotFound(from.to_string()))?;
        let inode = self.ext4_iget(ino)?;
        let is_dir = inode.is_dir();
        if is_dir {
            // Refuse moving a directory under itself.
            let mut cur = new_dir;
            for _ in 0..4096 {
                if cur == ino {
                    return Err(Ext4Error::MoveIntoItself {
                        path: from.to_string(),
                    });
                }
                if cur == EXT4_ROOT_INO {
                    break;
                }
                cur = self.lookup_in(cur, b"..")?.unwrap_or(EXT4_ROOT_INO);
            }
        }
        let ft = ext4_type_by_mode(inode.i_mode);
        match self.lookup_in(new_dir, tname.as_bytes())? {
            Some(t) if t == ino => return Ok(()),
            Some(t) => {
                let ti = self.ext4_iget(t)?;
                if ti.is_dir() != is_dir {
                    return Err(if is_dir {
                        Ext4Error::NotDir(to.into())
                    } else {
                        Ext4Error::IsDir(to.into())
                    });
                }
                if ti.is_dir() && !self.dir_is_empty(t)? {
                    return Err(Ext4Error::NotEmpty(to.to_string()));
                }
                self.set_dir_entry_inode(new_dir, tname.as_bytes(), ino, ft)?;
                if ti.is_dir() {
                    self.touch_dir(new_dir, -1)?;
                }
                self.drop_link(t, ti.is_dir())?;
            }
            None => self.add_dir_entry(new_dir, tname.as_bytes(), ino, ft)?,
        }
        self.remove_dir_entry(old_dir, fname.as_bytes())?;
        if is_dir && old_dir != new_dir {
            self.set_dir_entry_inode(ino, b"..", new_dir, EXT4_FT_DIR)?;
            self.touch_dir(old_dir, -1)?;
            self.touch_dir(new_dir, 1)?;
        } else {
            self.touch_dir(old_dir, 0)?;
            self.touch_dir(new_dir, 0)?;
        }
        let mut inode = self.ext4_iget(ino)?;
        let (s, e) = self.now.encode();
        inode.i_ctime = s;
        inode.i_ctime_extra = e;
        self.write_inode(ino, &inode)
    }

    /// `ext4_setattr` for everything but the size (use `truncate`):
    /// permission bits, owner, times. ctime becomes `now`.
    pub fn setattr(&mut self, ino: u32, attr: &SetAttr) -> Result<()> {
        self.check_writable()?;
        let mut inode = self.ext4_iget(ino)?;
        if let Some(m) = attr.mode {
            inode.i_mode = (inode.i_mode & S_IFMT) | (m & 0o7777);
        }
        if let Some(u) = attr.uid {
            inode.i_uid = u as u16;
            inode.l_i_uid_high = (u >> 16) as u16;
        }
        if let Some(g) = attr.gid {
            inode.i_gid = g as u16;
            inode.l_i_gid_high = (g >> 16) as u16;
        }
        if let Some(t) = attr.atime {
            (inode.i_atime, inode.i_atime_extra) = t.encode();
        }
        if let Some(t) = attr.mtime {
            (inode.i_mtime, inode.i_mtime_extra) = t.encode();
        }
        (inode.i_ctime, inode.i_ctime_extra) = self.now.encode();
        self.write_inode(ino, &inode)
    }

    /// `ext4_ioctl_setflags`: set the user-modifiable inode flags.
    pub fn set_flags(&mut self, ino: u32, flags: u32) -> Result<()> {
        self.check_writable()?;
        let mut inode = self.ext4_iget(ino)?;
        let keep = !EXT4_FL_USER_MODIFIABLE | EXT4_EXTENTS_FL;
        let settable = EXT4_FL_USER_MODIFIABLE & !EXT4_EXTENTS_FL;
        inode.i_flags = (inode.i_flags & keep) | (flags & settable);
        self.write_inode(ino, &inode)
    }
}
