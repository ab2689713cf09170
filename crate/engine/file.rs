//! File data: `read`, `write`, `truncate`, `fallocate` (unwritten extents)
//! and `punch_hole` on regular files, inline or block-mapped
//! (fs/ext4/file.c, inode.c, extents.c).

use super::error::{Ext4Error, Result};
use super::fs::Ext4Fs;
use super::inode::{Ext4Inode, EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL};
use super::map::MapFlags;
use crate::device::BlockDevice;

/// The largest file `read_all` returns in one buffer (4 GiB).
pub const READ_ALL_MAX: u64 = 4 << 30;

/// The largest logical block an extent maps (`EXT_MAX_BLOCKS - 1`).
pub const EXT4_MAX_LBLK: u32 = 0xFFFF_FFFE;

impl<D: BlockDevice> Ext4Fs<D> {
    fn touch_mtime(&self, inode: &mut Ext4Inode) {
        let (s, e) = self.now.encode();
        inode.i_mtime = s;
        inode.i_ctime = s;
        inode.i_mtime_extra = e;
        inode.i_ctime_extra = e;
    }

    fn max_file_blocks(&self, inode: &Ext4Inode) -> u64 {
        if inode.has_flag(EXT4_EXTENTS_FL) {
            EXT4_MAX_LBLK as u64
        } else {
            let a = (self.block_size() / 4) as u64;
            12 + a + a * a + a * a * a
        }
    }

    /// Read up to `buf.len()` bytes at `off`; returns how many (0 at EOF).
    /// Holes and unwritten extents read as zeros.
    ///
    /// Preconditions: `i_data_sem` held for read (or the inode otherwise stable).
    pub fn read(&mut self, ino: u32, off: u64, buf: &mut [u8]) -> Result<usize> {
        let mut inode = self.ext4_iget(ino)?;
        if inode.is_dir() {
            return Err(Ext4Error::IsDir(format!("inode {ino}")));
        }
        let size = inode.size();
        if off >= size || buf.is_empty() {
            return Ok(0);
        }
        let n = (size - off).min(buf.len() as u64) as usize;
        if inode.has_flag(EXT4_INLINE_DATA_FL) {
            let data = self.read_inline_data(ino)?;
            let start = off as usize;
            let end = (start + n).min(data.len());
            buf[..end - start].copy_from_slice(&data[start..end]);
            return Ok(end - start);
        }
        let bs = self.block_size() as u64;
        let mut done = 0usize;
        let mut blockbuf = vec![0u8; bs as usize];
        while done < n {
            let pos = off + done as u64;
            let lblk = u32::try_from(pos / bs).map_err(|_| Ext4Error::FileTooBig)?;
            let within = (pos % bs) as usize;
            let want_blocks = ((n - done + within) as u64).div_ceil(bs) as u32;
            let m =
                self.ext4_map_blocks_inode(ino, &mut inode, lblk, want_blocks, MapFlags::empty())?;
            let run = (m.m_len.max(1) as u64 * bs - within as u64).min((n - done) as u64) as usize;
            match m.m_pblk {
                Some(p) if !m.unwritten => {
                    // Whole blocks straight into the caller's buffer.
                    let mut left = run;
                    let mut w = within;
                    let mut b = p;
                    while left > 0 {
                        let take = (bs as usize - w).min(left);
                        if w == 0 && take == bs as usize {
                            self.read_data_block(b, &mut buf[done..done + take])?;
                        } else {
                            self.read_data_block(b, &mut blockbuf)?;
                            buf[done..done + take].copy_from_slice(&blockbuf[w..w + take]);
                        }
                        done += take;
                        left -= take;
                        w = 0;
                        b += 1;
                    }
                }
                _ => {
                    buf[done..done + run].fill(0);
                    done += run;
                }
            }
        }
        Ok(n)
    }

    /// The whole contents of a file (at most [`READ_ALL_MAX`] bytes; use
    /// `read` in pieces for larger or untrusted sizes).
    pub fn read_all(&mut self, ino: u32) -> Result<Vec<u8>> {
        let size = self.ext4_iget(ino)?.size();
        if size > READ_ALL_MAX {
            return Err(Ext4Error::FileTooBig);
        }
        let len = usize::try_from(size).map_err(|_| Ext4Error::FileTooBig)?;
        let mut out = vec![0u8; len];
        let n = self.read(ino, 0, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// Write `data` at `off` (extending the file). Inline files stay
    /// inline while they fit and are converted otherwise. Returns the bytes
    /// written.
    ///
    /// Preconditions: `i_rwsem` held; takes `i_data_sem` (write) per mapping.
    pub fn write(&mut self, ino: u32, off: u64, data: &[u8]) -> Result<usize> {
        self.check_inode_write(ino)?;
        let inode = self.ext4_iget(ino)?;
        if inode.is_dir() {
            return Err(Ext4Error::IsDir(format!("inode {ino}")));
        }
        let end = off
            .checked_add(data.len() as u64)
            .ok_or(Ext4Error::FileTooBig)?;
        let bs = self.block_size() as u64;
        if end.div_ceil(bs) > self.max_file_blocks(&inode) {
            return Err(Ext4Error::FileTooBig);
        }
        if data.is_empty() {
            return Ok(0);
        }
        if inode.has_flag(EXT4_INLINE_DATA_FL) {
            let raw = self.read_inode_raw(ino)?;
            let max = super::inline::max_inline_size(&raw, ino)? as u64;
            if end <= max {
                let mut cur = self.read_inline_data(ino)?;
                let new_len = (end as usize).max(cur.len());
                cur.resize(new_len, 0);
                cur[off as usize..end as usize].copy_from_slice(data);
                if self.write_inline_data(ino, &cur, true)? {
                    return Ok(data.len());
                }
            }
            self.ext4_convert_inline_data(ino)?;
        }
        let mut inode = self.ext4_iget(ino)?;
        let mut done = 0usize;
        let mut blockbuf = vec![0u8; bs as usize];
        while done < data.len() {
            let pos = off + done as u64;
            let lblk = (pos / bs) as u32;
            let within = (pos % bs) as usize;
            let want = ((data.len() - done + within) as u64).div_ceil(bs) as u32;
            let m = self.ext4_map_blocks_inode(ino, &mut inode, lblk, want, MapFlags::CREATE)?;
            let Some(p) = m.m_pblk else {
                return Err(Ext4Error::Invalid(format!(
                    "inode {ino}: no block mapped for write at {lblk}"
                )));
            };
            let mut left = (m.m_len.max(1) as u64 * bs - within as u64)
                .min((data.len() - done) as u64) as usize;
            let mut w = within;
            let mut b = p;
            while left > 0 {
                if w == 0 && left >= bs as usize {
                    // The mapping's whole blocks (physically contiguous):
                    // one device write for the run, not one per block.
                    let whole = left - left % bs as usize;
                    self.write_data_blocks(b, &data[done..done + whole])?;
                    done += whole;
                    left -= whole;
                    b += whole as u64 / bs;
                    continue;
                }
                // A partial block at either end: read-modify-write.
                let take = (bs as usize - w).min(left);
                if m.new {
                    blockbuf.fill(0);
                } else {
                    self.read_data_block(b, &mut blockbuf)?;
                }
                blockbuf[w..w + take].copy_from_slice(&data[done..done + take]);
                self.write_data_block(b, &blockbuf)?;
                done += take;
                left -= take;
                w = 0;
                b += 1;
            }
        }
        if end > inode.size() {
            inode.set_size(end);
        }
        self.touch_mtime(&mut inode);
        self.write_inode(ino, &inode)?;
        Ok(data.len())
    }

    /// Zero bytes `from..` of the block holding `from` (`ext4_block_truncate_page`).
    fn zero_partial_block(
        &mut self,
        ino: u32,
        inode: &mut Ext4Inode,
        from: u64,
        to: u64,
    ) -> Result<()> {
        let bs = self.block_size() as u64;
        let within = (from % bs) as usize;
        if within == 0 && to - from >= bs {
            return Ok(());
        }
        let m = self.ext4_map_blocks_inode(ino, inode, (from / bs) as u32, 1, MapFlags::empty())?;
        if let (Some(p), false) = (m.m_pblk, m.unwritten) {
            let mut b = vec![0u8; bs as usize];
            self.read_data_block(p, &mut b)?;
            let stop = ((to - from) as usize + within).min(bs as usize);
            b[within..stop].fill(0);
            self.write_data_block(p, &b)?;
        }
        Ok(())
    }

    /// `ext4_truncate` / `ext4_setattr(ATTR_SIZE)`: set the size, freeing
    /// blocks past it. Growing leaves a hole.
    ///
    /// Preconditions: `i_rwsem` and `invalidate_lock` held for write.
    pub fn truncate(&mut self, ino: u32, size: u64) -> Result<()> {
        self.check_inode_write(ino)?;
        let mut inode = self.ext4_iget(ino)?;
        if inode.is_dir() {
            return Err(Ext4Error::IsDir(format!("inode {ino}")));
        }
        let bs = self.block_size() as u64;
        if size.div_ceil(bs) > self.max_file_blocks(&inode) {
            return Err(Ext4Error::FileTooBig);
        }
        if inode.has_flag(EXT4_INLINE_DATA_FL) {
            let raw = self.read_inode_raw(ino)?;
            let max = super::inline::max_inline_size(&raw, ino)? as u64;
            if size <= max {
                let mut cur = self.read_inline_data(ino)?;
                cur.resize(size as usize, 0);
                if self.write_inline_data(ino, &cur, true)? {
                    return Ok(());
                }
            }
            self.ext4_convert_inline_data(ino)?;
            inode = self.ext4_iget(ino)?;
        }
        let old = inode.size();
        if size < old {
            if size % bs != 0 {
                self.zero_partial_block(ino, &mut inode, size, old)?;
            }
            let first = size.div_ceil(bs);
            if first <= EXT4_MAX_LBLK as u64 {
                self.remove_space(ino, &mut inode, first as u32, EXT4_MAX_LBLK)?;
            }
        }
        inode.set_size(size);
        self.touch_mtime(&mut inode);
        self.write_inode(ino, &inode)
    }

    /// `ext4_fallocate` (mode 0 or KEEP_SIZE): allocate unwritten extents
    /// over holes in `off..off+len`.
    pub fn fallocate(&mut self, ino: u32, off: u64, len: u64, keep_size: bool) -> Result<()> {
        self.check_inode_write(ino)?;
        if len == 0 {
            return Err(Ext4Error::Invalid("fallocate of zero length".into()));
        }
        let inode0 = self.ext4_iget(ino)?;
        if inode0.has_flag(EXT4_INLINE_DATA_FL) {
            self.ext4_convert_inline_data(ino)?;
        }
        let mut inode = self.ext4_iget(ino)?;
        if !inode.has_flag(EXT4_EXTENTS_FL) {
            return Err(Ext4Error::Invalid(format!(
                "inode {ino}: fallocate needs extents"
            )));
        }
        let bs = self.block_size() as u64;
        let end = off.checked_add(len).ok_or(Ext4Error::FileTooBig)?;
        let (first, last) = (off / bs, end.div_ceil(bs));
        if last > EXT4_MAX_LBLK as u64 {
            return Err(Ext4Error::FileTooBig);
        }
        let mut lblk = first as u32;
        while (lblk as u64) < last {
            let want = (last - lblk as u64) as u32;
            let m = self.ext4_map_blocks_inode(
                ino,
                &mut inode,
                lblk,
                want,
                MapFlags::CREATE | MapFlags::UNWRIT_EXT,
            )?;
            lblk += m.m_len.max(1);
        }
        if !keep_size && end > inode.size() {
            inode.set_size(end);
        }
        self.touch_mtime(&mut inode);
        self.write_inode(ino, &inode)
    }

    /// `ext4_punch_hole`: zero partial blocks at the edges and free the
    /// whole blocks of `off..off+len`; the size is unchanged.
    pub fn punch_hole(&mut self, ino: u32, off: u64, len: u64) -> Result<()> {
        self.check_inode_write(ino)?;
        let inode0 = self.ext4_iget(ino)?;
        if inode0.has_flag(EXT4_INLINE_DATA_FL) {
            self.ext4_convert_inline_data(ino)?;
        }
        let mut inode = self.ext4_iget(ino)?;
        let size = inode.size();
        let end = off.saturating_add(len).min(size);
        if off >= end {
            return Ok(());
        }
        let bs = self.block_size() as u64;
        let first_full = off.div_ceil(bs);
        let end_full = end / bs;
        if off % bs != 0 {
            let stop = end.min(first_full * bs);
            self.zero_partial_block(ino, &mut inode, off, stop)?;
        }
        if end % bs != 0 && end_full >= first_full && end_full * bs >= off {
            self.zero_partial_block(ino, &mut inode, end_full * bs, end)?;
        }
        if end_full > first_full {
            self.remove_space(ino, &mut inode, first_full as u32, (end_full - 1) as u32)?;
        }
        self.touch_mtime(&mut inode);
        self.write_inode(ino, &inode)
    }
}
