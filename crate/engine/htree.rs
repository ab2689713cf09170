//! Hash-indexed directories (fs/ext4/namei.c `dx_*`): the root
//! (`struct dx_root`) and interior nodes (`struct dx_node`), their checksum
//! tail (`struct dx_tail`), `dx_probe`, adding an entry with a leaf split
//! (`do_split`), splitting an index node or adding a level, and
//! `make_indexed_dir` when a one-block directory fills up.

use super::csum::ext4_chksum;
use super::dir::{
    self, add_entry, dirblock_csum_set, empty_dir_block, ext4_dir_rec_len, parse_entries,
    write_entry,
};
use super::error::{CorruptKind, DirCorruption, Ext4Error, Result};
use super::fs::Ext4Fs;
use super::hash::ext4fs_dirhash;
use super::inode::{Ext4Inode, EXT4_CASEFOLD_FL, EXT4_INDEX_FL};
use super::map::MapFlags;
use super::ondisk::{le16, le32, put_le16, put_le32};
use super::superblock::{EXT2_FLAGS_UNSIGNED_HASH, INCOMPAT_CASEFOLD, INCOMPAT_LARGEDIR};
use crate::device::BlockDevice;

/// Offset of `dx_root_info` in block 0.
const DX_ROOT_INFO: usize = 0x18;
/// Offset of the root's entries (`dx_countlimit` overlays entry 0's hash).
const DX_ROOT_ENTRIES: usize = 0x20;
/// Offset of an interior node's entries (after the fake dirent).
const DX_NODE_ENTRIES: usize = 0x8;

/// One index block on the probe path.
#[derive(Debug, Clone)]
pub struct DxFrame {
    pub lblk: u32,
    pub pblk: u64,
    pub data: Vec<u8>,
    /// Offset of the entries (0x20 in the root, 0x8 in a node).
    pub off: usize,
    /// (hash, logical block); entry 0's hash is implicit 0.
    pub entries: Vec<(u32, u32)>,
    pub limit: u16,
    /// Index of the entry followed.
    pub at: usize,
}

/// `dx_root_limit` / `dx_node_limit`.
fn dx_limit(bs: usize, off: usize, csum: bool) -> u16 {
    let n = (bs - off) / 8;
    (if csum { n - 1 } else { n }) as u16
}

/// `ext4_dx_csum` over an index block.
fn dx_csum(seed: u32, data: &[u8], off: usize, count: usize, limit: usize) -> u32 {
    let size = off + count * 8;
    let tail = off + limit * 8;
    let mut c = ext4_chksum(seed, &data[..size.min(data.len())]);
    c = ext4_chksum(c, data.get(tail..tail + 4).unwrap_or(&[0; 4]));
    ext4_chksum(c, &[0; 4])
}

impl DxFrame {
    fn parse(
        lblk: u32,
        pblk: u64,
        data: Vec<u8>,
        off: usize,
        want_limit: u16,
        dir: u32,
    ) -> Result<Self> {
        let bad = |why: DirCorruption| {
            Ext4Error::from(CorruptKind::Dir {
                ino: dir,
                block: pblk,
                why,
            })
        };
        let limit = le16(&data, off);
        let count = le16(&data, off + 2) as usize;
        if limit != want_limit {
            return Err(bad(DirCorruption::DxLimit {
                limit,
                want: want_limit,
            }));
        }
        if count == 0 || count > limit as usize {
            return Err(bad(DirCorruption::DxCount { count, limit }));
        }
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let hash = if i == 0 { 0 } else { le32(&data, off + 8 * i) };
            entries.push((hash, le32(&data, off + 8 * i + 4)));
        }
        if entries.windows(2).any(|w| w[1].0 < w[0].0) {
            return Err(bad(DirCorruption::DxHashOrder));
        }
        Ok(DxFrame {
            lblk,
            pblk,
            data,
            off,
            entries,
            limit,
            at: 0,
        })
    }

    /// Write count/limit/entries (and the tail checksum) back into `data`.
    fn store(&mut self, seed: Option<u32>) {
        let off = self.off;
        put_le16(&mut self.data, off, self.limit);
        put_le16(&mut self.data, off + 2, self.entries.len() as u16);
        for (i, &(h, b)) in self.entries.iter().enumerate() {
            if i > 0 {
                put_le32(&mut self.data, off + 8 * i, h);
            }
            put_le32(&mut self.data, off + 8 * i + 4, b);
        }
        if let Some(s) = seed {
            let tail = off + self.limit as usize * 8;
            put_le32(&mut self.data, tail, 0);
            let c = dx_csum(s, &self.data, off, self.entries.len(), self.limit as usize);
            put_le32(&mut self.data, tail + 4, c);
        }
    }

    /// `dx_probe`'s search: the last entry whose hash is <= `hash`.
    fn find(&mut self, hash: u32) {
        self.at = self.entries.iter().rposition(|e| e.0 <= hash).unwrap_or(0);
    }
}

impl<D: BlockDevice> Ext4Fs<D> {
    fn max_dx_levels(&self) -> usize {
        if self.sb.has_incompat(INCOMPAT_LARGEDIR) {
            3
        } else {
            2
        }
    }

    /// The hash of `name` in a directory (version from the dx root). In a
    /// casefolded directory (`EXT4_CASEFOLD_FL`, casefold feature) the
    /// name is hashed casefolded (`ext4fs_dirhash` + `utf8_casefold`), or
    /// as bytes when it is not valid UTF-8 (`opaque_seq`).
    pub fn dx_hash(&self, root_version: u8, casefold: bool, name: &[u8]) -> u32 {
        let mut v = root_version;
        if v <= 2 && self.sb.s_flags & EXT2_FLAGS_UNSIGNED_HASH != 0 {
            v += 3;
        }
        let folded = if casefold && self.sb.has_incompat(INCOMPAT_CASEFOLD) {
            super::casefold::casefold(name)
        } else {
            None
        };
        ext4fs_dirhash(folded.as_deref().unwrap_or(name), v, &self.sb.s_hash_seed).0
    }

    fn dx_read(
        &mut self,
        dir: u32,
        inode: &mut Ext4Inode,
        lblk: u32,
        root: bool,
    ) -> Result<DxFrame> {
        let (pblk, data) = self.dir_block(dir, inode, lblk)?;
        let bs = data.len();
        let csum = self.sb.has_metadata_csum();
        let off = if root {
            DX_ROOT_ENTRIES
        } else {
            DX_NODE_ENTRIES
        };
        if !root && (le32(&data, 0) != 0 || dir::rec_len_from_disk(le16(&data, 4), bs) != bs) {
            return Err(CorruptKind::Dir {
                ino: dir,
                block: pblk,
                why: DirCorruption::DxNodeFakeDirent,
            }
            .into());
        }
        let f = DxFrame::parse(lblk, pblk, data, off, dx_limit(bs, off, csum), dir)?;
        if let Some(seed) = self.dir_seed(dir, inode) {
            let tail = off + f.limit as usize * 8;
            let stored = le32(&f.data, tail + 4);
            if dx_csum(seed, &f.data, off, f.entries.len(), f.limit as usize) != stored {
                return Err(CorruptKind::DirChecksum {
                    ino: dir,
                    block: pblk,
                }
                .into());
            }
        }
        Ok(f)
    }

    /// `dx_probe`: the index path from the root to the leaf for `hash`.
    /// Returns (frames, hash version).
    pub fn dx_probe(
        &mut self,
        dir: u32,
        inode: &mut Ext4Inode,
        name: &[u8],
    ) -> Result<(Vec<DxFrame>, u32)> {
        let mut root = self.dx_read(dir, inode, 0, true)?;
        let info = &root.data[DX_ROOT_INFO..DX_ROOT_INFO + 8];
        let (version, info_len, levels) = (info[4], info[5], info[6] as usize);
        if le32(info, 0) != 0 || info_len != 8 || version > 5 || levels >= self.max_dx_levels() {
            return Err(CorruptKind::Dir {
                ino: dir,
                block: root.pblk,
                why: DirCorruption::DxRootInfo {
                    version,
                    info_len,
                    levels,
                },
            }
            .into());
        }
        let hash = self.dx_hash(version, inode.has_flag(EXT4_CASEFOLD_FL), name);
        root.find(hash);
        let mut frames = vec![root];
        for _ in 0..levels {
            let Some(prev) = frames.last() else { break };
            let next = prev.entries[prev.at].1;
            let mut f = self.dx_read(dir, inode, next, false)?;
            f.find(hash);
            frames.push(f);
        }
        Ok((frames, hash))
    }

    fn dx_store(&mut self, dir: u32, inode: &Ext4Inode, f: &mut DxFrame) -> Result<()> {
        let seed = self.dir_seed(dir, inode);
        f.store(seed);
        self.ext4_handle_dirty_metadata(f.pblk, f.data.clone())
    }

    /// `ext4_append`: a new block at the end of the directory.
    fn dir_append(&mut self, dir: u32, inode: &mut Ext4Inode) -> Result<(u32, u64)> {
        let lblk = self.dir_blocks(dir, inode)?;
        let m = self.ext4_map_blocks_inode(dir, inode, lblk, 1, MapFlags::CREATE)?;
        let pblk = m.m_pblk.ok_or(Ext4Error::NoSpace)?;
        inode.set_size((lblk as u64 + 1) * self.block_size() as u64);
        Ok((lblk, pblk))
    }

    /// Rewrite a leaf block holding exactly `entries` (name, inode, type).
    fn write_leaf(
        &mut self,
        dir: u32,
        inode: &Ext4Inode,
        pblk: u64,
        entries: &[(Vec<u8>, u32, u8)],
    ) -> Result<()> {
        let seed = self.dir_seed(dir, inode);
        let bs = self.block_size() as usize;
        let end = if seed.is_some() {
            bs - dir::EXT4_DIR_TAIL_SIZE
        } else {
            bs
        };
        let mut data = empty_dir_block(bs, seed);
        let mut off = 0;
        for (i, (name, ino, ft)) in entries.iter().enumerate() {
            let len = if i + 1 == entries.len() {
                end - off
            } else {
                ext4_dir_rec_len(name.len())
            };
            write_entry(&mut data, off, *ino, len, name, *ft);
            off += len;
        }
        if let Some(s) = seed {
            dirblock_csum_set(s, &mut data);
        }
        self.ext4_handle_dirty_metadata(pblk, data)
    }

    /// `ext4_dx_add_entry`.
    ///
    /// Preconditions: the directory's `i_rwsem` held for write.
    pub(crate) fn ext4_dx_add_entry(
        &mut self,
        dir: u32,
        inode: &mut Ext4Inode,
        name: &[u8],
        ino: u32,
        ft: u8,
    ) -> Result<()> {
        let (mut frames, hash) = self.dx_probe(dir, inode, name)?;
        let version = frames[0].data[DX_ROOT_INFO + 4];
        let cf = inode.has_flag(EXT4_CASEFOLD_FL);
        let bs = self.block_size() as usize;
        let seed = self.dir_seed(dir, inode);
        let end = if seed.is_some() {
            bs - dir::EXT4_DIR_TAIL_SIZE
        } else {
            bs
        };
        let leaf_lblk = {
            let b = frames.last().map(|f| f.entries[f.at].1).unwrap_or(0);
            b
        };
        let (leaf_pblk, mut leaf) = self.dir_block(dir, inode, leaf_lblk)?;
        if add_entry(&mut leaf[..end], dir, leaf_pblk, name, ino, ft)? {
            if let Some(s) = seed {
                dirblock_csum_set(s, &mut leaf);
            }
            return self.ext4_handle_dirty_metadata(leaf_pblk, leaf);
        }
        // The leaf is full: make room in the index first.
        let last = frames.len() - 1;
        if frames[last].entries.len() == frames[last].limit as usize {
            if last == 0 {
                // Root full: add a level (move the root's entries to a node).
                if frames.len() >= self.max_dx_levels() {
                    return Err(Ext4Error::NoSpace);
                }
                let (nl, np) = self.dir_append(dir, inode)?;
                let mut node = DxFrame {
                    lblk: nl,
                    pblk: np,
                    data: fake_node_block(bs),
                    off: DX_NODE_ENTRIES,
                    entries: frames[0].entries.clone(),
                    limit: dx_limit(bs, DX_NODE_ENTRIES, seed.is_some()),
                    at: frames[0].at,
                };
                frames[0].entries = vec![(0, nl)];
                frames[0].at = 0;
                frames[0].data[DX_ROOT_INFO + 6] += 1;
                self.dx_store(dir, inode, &mut node)?;
                let mut root = frames.remove(0);
                self.dx_store(dir, inode, &mut root)?;
                frames = vec![root, node];
            } else {
                // Split the node; the parent must have room.
                let parent = last - 1;
                if frames[parent].entries.len() == frames[parent].limit as usize {
                    return Err(Ext4Error::NoSpace);
                }
                let (nl, np) = self.dir_append(dir, inode)?;
                let n = frames[last].entries.len();
                let keep = n / 2;
                let moved: Vec<(u32, u32)> = frames[last].entries.split_off(keep);
                let hash2 = moved[0].0;
                let mut node2 = DxFrame {
                    lblk: nl,
                    pblk: np,
                    data: fake_node_block(bs),
                    off: DX_NODE_ENTRIES,
                    entries: moved,
                    limit: frames[last].limit,
                    at: 0,
                };
                let pat = frames[parent].at;
                frames[parent].entries.insert(pat + 1, (hash2, nl));
                if frames[last].at >= keep {
                    node2.at = frames[last].at - keep;
                    let mut old = std::mem::replace(&mut frames[last], node2);
                    self.dx_store(dir, inode, &mut old)?;
                    frames[parent].at = pat + 1;
                } else {
                    self.dx_store(dir, inode, &mut node2)?;
                }
                let mut p = frames[parent].clone();
                self.dx_store(dir, inode, &mut p)?;
                frames[parent] = p;
            }
        }
        // `do_split`: move the upper half (by hash) of the leaf to a new block.
        let mut map: Vec<(u32, Vec<u8>, u32, u8)> = parse_entries(&leaf[..end], dir, leaf_pblk, 0)?
            .into_iter()
            .filter(|e| e.inode != 0)
            .map(|e| {
                (
                    self.dx_hash(version, cf, &e.name),
                    e.name,
                    e.inode,
                    e.file_type,
                )
            })
            .collect();
        map.sort_by_key(|e| e.0);
        let mut size = 0;
        let mut moved = 0;
        for e in map.iter().rev() {
            let sz = ext4_dir_rec_len(e.1.len());
            if size + sz / 2 > bs / 2 {
                break;
            }
            size += sz;
            moved += 1;
        }
        let split = (map.len() - moved).max(1).min(map.len());
        let hash2 = map.get(split).map_or(hash, |e| e.0);
        let continued = split > 0 && map.get(split).is_some() && map[split - 1].0 == hash2;
        let (nl, np) = self.dir_append(dir, inode)?;
        let upper: Vec<(Vec<u8>, u32, u8)> = map[split..]
            .iter()
            .map(|e| (e.1.clone(), e.2, e.3))
            .collect();
        let mut lower: Vec<(Vec<u8>, u32, u8)> = map[..split]
            .iter()
            .map(|e| (e.1.clone(), e.2, e.3))
            .collect();
        let mut upper = upper;
        if hash >= hash2 {
            upper.push((name.to_vec(), ino, ft));
        } else {
            lower.push((name.to_vec(), ino, ft));
        }
        self.write_leaf(dir, inode, leaf_pblk, &lower)?;
        self.write_leaf(dir, inode, np, &upper)?;
        let last = frames.len() - 1;
        let at = frames[last].at;
        frames[last]
            .entries
            .insert(at + 1, (hash2 + u32::from(continued), nl));
        let mut f = frames[last].clone();
        self.dx_store(dir, inode, &mut f)?;
        self.write_inode(dir, inode)
    }

    /// `make_indexed_dir`: turn a full one-block directory into an htree
    /// (root in block 0, the entries in block 1), then add `name`.
    pub(crate) fn make_indexed_dir(
        &mut self,
        dir: u32,
        inode: &mut Ext4Inode,
        name: &[u8],
        ino: u32,
        ft: u8,
    ) -> Result<()> {
        let (pblk0, b0) = self.dir_block(dir, inode, 0)?;
        let bs = b0.len();
        let seed = self.dir_seed(dir, inode);
        let end = if dir::has_tail(&b0) {
            bs - dir::EXT4_DIR_TAIL_SIZE
        } else {
            bs
        };
        let entries = parse_entries(&b0[..end], dir, pblk0, 0)?;
        let parent = entries
            .get(1)
            .filter(|e| e.name == b"..")
            .map(|e| e.inode)
            .ok_or_else(|| {
                Ext4Error::from(CorruptKind::Dir {
                    ino: dir,
                    block: pblk0,
                    why: DirCorruption::NoDotDot,
                })
            })?;
        let live: Vec<(Vec<u8>, u32, u8)> = entries
            .iter()
            .skip(2)
            .filter(|e| e.inode != 0)
            .map(|e| (e.name.clone(), e.inode, e.file_type))
            .collect();
        let (l1, p1) = self.dir_append(dir, inode)?;
        self.write_leaf(dir, inode, p1, &live)?;
        // The root: '.', '..' spanning the block, dx_root_info, one entry.
        let mut root = vec![0u8; bs];
        write_entry(&mut root, 0, dir, 12, b".", dir::EXT4_FT_DIR);
        write_entry(&mut root, 12, parent, bs - 12, b"..", dir::EXT4_FT_DIR);
        root[DX_ROOT_INFO + 4] = self.sb.s_def_hash_version.min(2);
        root[DX_ROOT_INFO + 5] = 8;
        let mut f = DxFrame {
            lblk: 0,
            pblk: pblk0,
            data: root,
            off: DX_ROOT_ENTRIES,
            entries: vec![(0, l1)],
            limit: dx_limit(bs, DX_ROOT_ENTRIES, seed.is_some()),
            at: 0,
        };
        self.dx_store(dir, inode, &mut f)?;
        inode.i_flags |= EXT4_INDEX_FL;
        self.write_inode(dir, inode)?;
        self.ext4_dx_add_entry(dir, inode, name, ino, ft)
    }

    /// `ext4_dx_find_entry`: look `name` up through the index. `Ok(None)`
    /// when absent; `Err` on a damaged index (the caller falls back to a
    /// linear scan).
    pub(crate) fn dx_find_entry(
        &mut self,
        dir: u32,
        name: &[u8],
    ) -> Result<Option<super::dirops::LocatedEntry>> {
        let mut inode = self.ext4_iget(dir)?;
        let (frames, hash) = self.dx_probe(dir, &mut inode, name)?;
        let Some(bottom) = frames.last() else {
            return Ok(None);
        };
        let mut at = bottom.at;
        loop {
            let lblk = bottom.entries[at].1;
            let (pblk, data) = self.dir_block(dir, &mut inode, lblk)?;
            let end = if dir::has_tail(&data) {
                data.len() - dir::EXT4_DIR_TAIL_SIZE
            } else {
                data.len()
            };
            if let Some(e) = parse_entries(&data[..end], dir, pblk, 0)?
                .into_iter()
                .find(|e| e.inode != 0 && self.name_matches(&inode, &e.name, name))
            {
                return Ok(Some(super::dirops::LocatedEntry {
                    entry: e,
                    loc: super::dirops::EntryLoc::Block { lblk, pblk },
                }));
            }
            // `ext4_htree_next_block`: a colliding hash continues in the next leaf.
            match bottom.entries.get(at + 1) {
                Some(&(h, _)) if h & 1 == 1 && h & !1 == hash => at += 1,
                Some(_) => return Ok(None),
                None if frames.len() == 1 => return Ok(None),
                None => {
                    return Err(Ext4Error::Invalid(
                        "hash run continues past an index node".into(),
                    ))
                }
            }
        }
    }

    /// Check an indexed directory: every index block's structure and
    /// checksum, and that each leaf's names hash into its range.
    /// Returns the problems found (empty when sound).
    pub fn dx_check(&mut self, dir: u32) -> Result<Vec<String>> {
        let mut inode = self.ext4_iget(dir)?;
        let mut problems = Vec::new();
        let root = match self.dx_read(dir, &mut inode, 0, true) {
            Ok(r) => r,
            Err(Ext4Error::Corrupt(k)) => return Ok(vec![k.to_string()]),
            Err(e) => return Err(e),
        };
        let version = root.data[DX_ROOT_INFO + 4];
        let levels = root.data[DX_ROOT_INFO + 6] as usize;
        if levels >= self.max_dx_levels() {
            return Ok(vec![format!("dx root has {levels} indirect levels")]);
        }
        // (frame entries, depth, hash range)
        let mut stack = vec![(root.entries.clone(), 0usize, 0u32, u32::MAX)];
        let nblocks = self.dir_blocks(dir, &inode)?;
        let mut seen = std::collections::BTreeSet::new();
        while let Some((entries, depth, lo, hi)) = stack.pop() {
            for (i, &(h, blk)) in entries.iter().enumerate() {
                let start = if i == 0 { lo } else { h };
                let stop = entries.get(i + 1).map_or(hi, |e| e.0);
                if blk >= nblocks || !seen.insert(blk) {
                    problems.push(format!("dx entry points at block {blk} (bad or repeated)"));
                    continue;
                }
                if depth < levels {
                    match self.dx_read(dir, &mut inode, blk, false) {
                        Ok(n) => stack.push((n.entries, depth + 1, start, stop)),
                        Err(Ext4Error::Corrupt(k)) => problems.push(k.to_string()),
                        Err(e) => return Err(e),
                    }
                    continue;
                }
                let (pblk, data) = match self.dir_block(dir, &mut inode, blk) {
                    Ok(x) => x,
                    Err(Ext4Error::Corrupt(k)) => {
                        problems.push(k.to_string());
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let end = if dir::has_tail(&data) {
                    data.len() - dir::EXT4_DIR_TAIL_SIZE
                } else {
                    data.len()
                };
                for e in parse_entries(&data[..end], dir, pblk, 0)?
                    .into_iter()
                    .filter(|e| e.inode != 0)
                {
                    let hh = self.dx_hash(version, inode.has_flag(EXT4_CASEFOLD_FL), &e.name);
                    if hh < (start & !1)
                        || (stop != u32::MAX && hh >= (stop & !1) && stop & 1 == 0 && hh > start)
                    {
                        problems.push(format!(
                            "{:?} (hash {hh:#x}) outside {start:#x}..{stop:#x} in block {blk}",
                            String::from_utf8_lossy(&e.name)
                        ));
                    }
                }
            }
        }
        Ok(problems)
    }
}

/// An empty interior node: a fake dirent spanning the block.
fn fake_node_block(bs: usize) -> Vec<u8> {
    let mut b = vec![0u8; bs];
    put_le32(&mut b, 0, 0);
    put_le16(&mut b, 4, dir::rec_len_to_disk(bs));
    b
}
