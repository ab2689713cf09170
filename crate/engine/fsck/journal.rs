//! The journal before pass 1 (e2fsck journal.c `e2fsck_check_ext3_journal`,
//! `e2fsck_get_journal`, `e2fsck_journal_load`): the superblock flags
//! agree with the journal inode, the jbd2 superblock is one e2fsck can
//! use, and what the log still holds.
//!
//! e2fsck cannot go on when the journal inode or superblock is unusable
//! and it may not fix it (`-n`): "Cannot proceed with file system check",
//! exit status 8. Those are errors here; the rest are notes (`-n` skips
//! the replay and checks the filesystem as it is).

use super::{Checker, Finding, JournalProblem};
use crate::device::BlockDevice;
use crate::engine::error::{Ext4Error, Result};
use crate::engine::inode::EXT4_JOURNAL_INO;
use crate::engine::journal::ondisk::*;
use crate::engine::superblock::{COMPAT_HAS_JOURNAL, INCOMPAT_JOURNAL_DEV, INCOMPAT_RECOVER};

impl JournalProblem {
    /// Whether e2fsck -n stops ("Cannot proceed"): exit status 8.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            JournalProblem::BadInode
                | JournalProblem::BadSuperblock
                | JournalProblem::RecoverWithoutJournal
        )
    }
}

impl<D: BlockDevice> Checker<'_, D> {
    pub(super) fn check_journal(&mut self) -> Result<()> {
        let sb = self.sb.clone();
        let has = sb.has_compat(COMPAT_HAS_JOURNAL);
        let recover = sb.has_incompat(INCOMPAT_RECOVER);
        if !has && !recover && sb.s_journal_inum == 0 && sb.s_journal_dev == 0 {
            return Ok(());
        }
        if sb.has_incompat(INCOMPAT_JOURNAL_DEV) || (sb.s_journal_inum == 0 && has) {
            // An external journal: e2fsck needs the device; not modelled.
            return Ok(());
        }
        if !has {
            if sb.s_journal_inum != 0 {
                self.journal(JournalProblem::HasJournalClear);
            } else if recover {
                self.journal(JournalProblem::RecoverWithoutJournal);
            }
            return Ok(());
        }
        let map = match self.fs.ext4_journal_blocks() {
            Ok(m) if m.len() >= JBD2_MIN_JOURNAL_BLOCKS as usize => m,
            Ok(_) | Err(Ext4Error::Corrupt(_)) | Err(Ext4Error::Invalid(_)) => {
                self.journal(JournalProblem::BadInode);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if sb.s_journal_inum != EXT4_JOURNAL_INO && sb.s_journal_inum < sb.first_ino() {
            self.journal(JournalProblem::BadInode);
            return Ok(());
        }
        let block = self.fs.bread(map[0])?;
        let jsb = match JournalSuperblock::parse(&block) {
            Ok(j) => j,
            Err(_) => {
                self.journal(JournalProblem::BadSuperblock);
                return Ok(());
            }
        };
        if jsb.s_header.h_magic != JBD2_MAGIC_NUMBER {
            self.journal(JournalProblem::BadInode);
            return Ok(());
        }
        let v2 = match jsb.s_header.h_blocktype {
            JBD2_SUPERBLOCK_V1 => false,
            JBD2_SUPERBLOCK_V2 => true,
            _ => {
                self.journal(JournalProblem::BadSuperblock);
                return Ok(());
            }
        };
        let csum2 = jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2 != 0;
        let csum3 = jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3 != 0;
        let bad = v2
            && (jsb.s_nr_users > 1
                || jsb.s_feature_incompat & !JBD2_KNOWN_INCOMPAT_FEATURES != 0
                || jsb.s_feature_ro_compat & !JBD2_KNOWN_ROCOMPAT_FEATURES != 0
                || (csum2 && csum3)
                || ((csum2 || csum3)
                    && (jsb.s_feature_compat & JBD2_FEATURE_COMPAT_CHECKSUM != 0
                        || jsb.s_checksum_type != JBD2_CRC32C_CHKSUM
                        || jsb.s_checksum != jsb.csum())));
        if bad
            || jsb.s_blocksize != sb.block_size()
            || jsb.s_maxlen as usize > map.len()
            || jsb.s_first == 0
            || jsb.s_first >= jsb.s_maxlen
        {
            self.journal(JournalProblem::BadSuperblock);
            return Ok(());
        }
        if recover {
            self.journal(JournalProblem::NeedsRecovery);
        } else if jsb.s_start != 0 {
            self.journal(JournalProblem::DataButNoRecover);
        }
        if !recover && jsb.s_errno != 0 {
            self.journal(JournalProblem::Errno);
        }
        Ok(())
    }

    fn journal(&mut self, problem: JournalProblem) {
        self.push(Finding::Journal { problem });
    }
}
