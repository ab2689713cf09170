//! Quota usage (e2fsck's quota context, lib/support/mkquota.c and
//! quotaio_tree.c; unix.c `quota_compare_and_update` → `PR_6_UPDATE_QUOTAS`):
//! with the quota feature, pass 1 charges every counted inode's space
//! (clusters, attribute values in EA inodes included) and inode count to
//! its user, group and project; afterwards each quota file (v2r1 tree
//! format) must hold exactly those usages, and an entry for every id used.

use super::{Checker, Finding};
use crate::device::BlockDevice;
use crate::engine::error::{Ext4Error, Result};
use crate::engine::inode::Ext4Inode;
use crate::engine::map::MapFlags;
use crate::engine::ondisk::le32;
use crate::engine::superblock::RO_COMPAT_QUOTA;
use std::collections::BTreeMap;

/// Space (bytes) and inodes charged to one id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub space: u64,
    pub inodes: u64,
}

/// `QT_BLKSIZE`: the quota tree's block size.
const QT_BLKSIZE: usize = 1024;
/// `QT_TREEOFF`: the root block of the tree.
const QT_TREEOFF: u32 = 1;
/// `QT_TREEDEPTH`.
const QT_TREEDEPTH: u32 = 4;
/// `sizeof(struct v2r1_disk_dqblk)`.
const DQBLK_SIZE: usize = 72;
/// `sizeof(struct qt_disk_dqdbheader)`.
const DQDB_HEADER: usize = 16;
/// `V2_DQMAGICS`: user, group, project.
const MAGICS: [u32; 3] = [0xd9c0_1f11, 0xd9c0_1927, 0xd9c0_3f14];

impl<D: BlockDevice> Checker<'_, D> {
    /// `quota_data_add` + `quota_data_inodes` for one inode.
    pub(super) fn quota_charge(
        &mut self,
        inode: &Ext4Inode,
        raw: &[u8],
        clusters: u64,
        inodes: u64,
    ) {
        if !self.sb.has_ro_compat(RO_COMPAT_QUOTA) {
            return;
        }
        let uid = u32::from(inode.i_uid) | (u32::from(inode.l_i_uid_high) << 16);
        let gid = u32::from(inode.i_gid) | (u32::from(inode.l_i_gid_high) << 16);
        // get_qid: i_projid when i_extra_isize covers it.
        let extra = super::pass1::extra_isize(raw);
        let projid = if 128 + extra >= 0xA0 {
            le32(raw, 0x9C)
        } else {
            0
        };
        let space = clusters * (self.bs << self.cluster_bits);
        let inums = self.quota_inums();
        for (t, id) in [uid, gid, projid].into_iter().enumerate() {
            // project quota needs inodes larger than 128 bytes.
            if inums[t] == 0 || (t == 2 && self.sb.inode_size() <= 128) {
                continue;
            }
            let u = self.quota[t].entry(id).or_default();
            u.space += space;
            u.inodes += inodes;
        }
    }

    /// `quota_compare_and_update` for each quota type with an inode.
    pub(super) fn check_quota(&mut self) -> Result<()> {
        if !self.sb.has_ro_compat(RO_COMPAT_QUOTA) {
            return Ok(());
        }
        for (t, ino) in self.quota_inums().into_iter().enumerate() {
            if ino == 0 {
                continue;
            }
            let file = match self.read_quota_file(ino, t) {
                Ok(Some(f)) => f,
                Ok(None) => {
                    self.push(Finding::QuotaFileInvalid { ino });
                    continue;
                }
                Err(Ext4Error::Corrupt(_)) | Err(Ext4Error::Invalid(_)) => {
                    self.push(Finding::QuotaFileInvalid { ino });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let counted = std::mem::take(&mut self.quota[t]);
            let mut bad = Vec::new();
            for (&id, u) in &file {
                if counted.get(&id).copied().unwrap_or_default() != *u {
                    bad.push(id);
                }
            }
            for id in counted.keys() {
                if !file.contains_key(id) {
                    bad.push(*id);
                }
            }
            bad.sort_unstable();
            bad.dedup();
            for id in bad {
                self.push(Finding::QuotaUsage { qtype: t as u8, id });
            }
        }
        Ok(())
    }

    /// Every entry of a v2r1 quota file: id -> (curspace, curinodes);
    /// `None` when the header is not one e2fsck accepts.
    fn read_quota_file(&mut self, ino: u32, qtype: usize) -> Result<Option<BTreeMap<u32, Usage>>> {
        let Some(mut inode) = self.read_inode_lenient(ino)? else {
            return Ok(None);
        };
        let bs = self.bs as usize;
        let size = usize::try_from(inode.size())
            .unwrap_or(usize::MAX)
            .min(64 << 20);
        let mut data = vec![0u8; size.div_ceil(bs) * bs];
        for l in 0..data.len() / bs {
            let m =
                self.fs
                    .ext4_map_blocks_inode(ino, &mut inode, l as u32, 1, MapFlags::empty())?;
            if let Some(p) = m.m_pblk.filter(|_| !m.unwritten) {
                let b = self.fs.bread(p)?;
                data[l * bs..(l + 1) * bs].copy_from_slice(&b);
            }
        }
        // v2_check_file: a byte-swapped magic or an unknown version is
        // refused; e2fsck 1.47.0 does not look at the magic otherwise.
        let version = le32(&data, 4);
        if le32(&data, 0) == MAGICS[qtype].swap_bytes() || version > 1 {
            return Ok(None);
        }
        let mut out = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        report_tree(&data, QT_TREEOFF, 0, version, &mut seen, &mut out);
        Ok(Some(out))
    }
}

/// `report_tree`: walk the radix tree; at the last level the references
/// are data blocks, each read once.
fn report_tree(
    data: &[u8],
    blk: u32,
    depth: u32,
    version: u32,
    seen: &mut std::collections::BTreeSet<u32>,
    out: &mut BTreeMap<u32, Usage>,
) {
    let off = blk as usize * QT_BLKSIZE;
    let Some(block) = data.get(off..off + QT_BLKSIZE) else {
        return;
    };
    for i in 0..QT_BLKSIZE / 4 {
        let r = le32(block, 4 * i);
        if r == 0 {
            continue;
        }
        if depth == QT_TREEDEPTH - 1 {
            if seen.insert(r) {
                report_block(data, r, version, out);
            }
        } else {
            report_tree(data, r, depth + 1, version, seen, out);
        }
    }
}

/// `report_block`: the used entries of a data block (`v2r1_disk_dqblk`,
/// 72 bytes, or `v2r0_disk_dqblk`, 48 bytes with 32-bit counts).
fn report_block(data: &[u8], blk: u32, version: u32, out: &mut BTreeMap<u32, Usage>) {
    let off = blk as usize * QT_BLKSIZE;
    let Some(block) = data.get(off..off + QT_BLKSIZE) else {
        return;
    };
    let size = if version == 1 { DQBLK_SIZE } else { 48 };
    for i in 0..(QT_BLKSIZE - DQDB_HEADER) / size {
        let e = &block[DQDB_HEADER + i * size..DQDB_HEADER + (i + 1) * size];
        if e.iter().all(|&b| b == 0) {
            continue;
        }
        let q64 = |o: usize| u64::from(le32(e, o)) | (u64::from(le32(e, o + 4)) << 32);
        let usage = if version == 1 {
            Usage {
                inodes: q64(24),
                space: q64(48),
            }
        } else {
            Usage {
                inodes: u64::from(le32(e, 12)),
                space: q64(24),
            }
        };
        out.insert(le32(e, 0), usage);
    }
}
