//! The orphan file after the passes (e2fsck unix.c + super.c
//! `check_init_orphan_file`, `reinit_orphan_block`): with orphan_file and
//! a journal, every block of the orphan file is mapped and clean (all
//! slots zero, the tail's magic and checksum); orphan_present only with
//! orphan_file and a non-empty orphan file.

use super::{Checker, Finding, OrphanFileProblem};
use crate::device::BlockDevice;
use crate::engine::csum::ext4_chksum;
use crate::engine::error::{Ext4Error, Result};
use crate::engine::map::MapFlags;
use crate::engine::superblock::{COMPAT_HAS_JOURNAL, COMPAT_ORPHAN_FILE, RO_COMPAT_ORPHAN_PRESENT};

/// `EXT4_ORPHAN_BLOCK_MAGIC`.
const ORPHAN_BLOCK_MAGIC: u32 = 0x0b10_ca04;

impl<D: BlockDevice> Checker<'_, D> {
    pub(super) fn check_orphan_file(&mut self) -> Result<()> {
        let sb = self.sb.clone();
        let present = sb.has_ro_compat(RO_COMPAT_ORPHAN_PRESENT);
        let ino = sb.s_orphan_file_inum;
        if !sb.has_compat(COMPAT_ORPHAN_FILE) {
            if present {
                self.orphan(ino, 0, OrphanFileProblem::PresentWithoutFile);
            }
            return Ok(());
        }
        if !sb.has_compat(COMPAT_HAS_JOURNAL) {
            self.orphan(ino, 0, OrphanFileProblem::WithoutJournal);
            return Ok(());
        }
        let Some(mut inode) = self.read_inode_lenient(ino)? else {
            self.orphan(ino, 0, OrphanFileProblem::Corrupted);
            return Ok(());
        };
        let bs = self.bs;
        if inode.size() % bs != 0 {
            self.orphan(ino, 0, OrphanFileProblem::WrongSize);
            self.orphan(ino, 0, OrphanFileProblem::Corrupted);
            return Ok(());
        }
        let blocks = inode.size() / bs;
        let seed = sb.has_metadata_csum().then(|| sb.csum_seed());
        for lblk in 0..blocks {
            let m = match self.fs.ext4_map_blocks_inode(
                ino,
                &mut inode,
                lblk as u32,
                1,
                MapFlags::empty(),
            ) {
                Ok(m) => m,
                Err(Ext4Error::Corrupt(_)) => {
                    self.orphan(ino, 0, OrphanFileProblem::Corrupted);
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let Some(pblk) = m.m_pblk.filter(|_| !m.unwritten) else {
                self.orphan(ino, lblk, OrphanFileProblem::Hole);
                self.orphan(ino, 0, OrphanFileProblem::Corrupted);
                return Ok(());
            };
            let buf = self.fs.bread(pblk)?;
            let mut want = vec![0u8; bs as usize];
            let t = bs as usize - 8;
            want[t..t + 4].copy_from_slice(&ORPHAN_BLOCK_MAGIC.to_le_bytes());
            if let Some(s) = seed {
                let mut c = ext4_chksum(s, &ino.to_le_bytes());
                c = ext4_chksum(c, &inode.i_generation.to_le_bytes());
                c = ext4_chksum(c, &pblk.to_le_bytes());
                c = ext4_chksum(c, &want[..t]);
                want[t + 4..].copy_from_slice(&c.to_le_bytes());
            }
            if buf != want {
                self.orphan(ino, lblk, OrphanFileProblem::BlockDirty);
                self.orphan(ino, 0, OrphanFileProblem::Corrupted);
                return Ok(());
            }
        }
        if present {
            self.orphan(ino, 0, OrphanFileProblem::PresentButEmpty);
        }
        Ok(())
    }

    fn orphan(&mut self, ino: u32, block: u64, problem: OrphanFileProblem) {
        self.push(Finding::OrphanFile {
            ino,
            block,
            problem,
        });
    }
}
