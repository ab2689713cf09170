//! Pass 4 (e2fsck pass4.c): every inode in use is named as often as its
//! `i_links_count` says; an inode named nowhere is unattached (an EA
//! inode counts as named once when attributes refer to it, and its
//! stored reference count must match them).

use super::{Checker, Finding, I_BAD, I_DIR};
use crate::device::BlockDevice;
use crate::engine::error::Result;
use crate::engine::inode::{EXT4_BAD_INO, EXT4_EA_INODE_FL, EXT4_INDEX_FL, EXT4_ROOT_INO};
use crate::engine::superblock::RO_COMPAT_DIR_NLINK;

/// `EXT2_LINK_MAX`.
const EXT2_LINK_MAX: u32 = 65000;

impl<D: BlockDevice> Checker<'_, D> {
    pub(super) fn pass4(&mut self) -> Result<()> {
        let first = self.first_ino();
        let prj = self.sb.s_prj_quota_inum;
        let orphan = self.sb.s_orphan_file_inum;
        let mut dir_nlink = self.sb.has_ro_compat(RO_COMPAT_DIR_NLINK);
        for i in 1..=self.sb.s_inodes_count {
            if (i == prj && prj != 0)
                || (i == orphan && orphan != 0)
                || i == EXT4_BAD_INO
                || (i > EXT4_ROOT_INO && i < first)
            {
                continue;
            }
            if !self.used(i) {
                continue;
            }
            let st = self.inodes[i as usize];
            let link_count = u32::from(st.links);
            let mut counted = st.counted;
            if counted == 0 && st.i_flags & EXT4_EA_INODE_FL != 0 {
                if let Some(&refs) = self.ea_inode_refs.get(&i) {
                    counted = 1;
                    if let Some(vi) = self.read_inode_lenient(i)? {
                        let stored = (u64::from(vi.i_ctime) << 32) | u64::from(vi.l_i_version);
                        if stored != refs && vi.i_ctime != vi.i_atime {
                            self.push(Finding::EaInodeRefCount {
                                ino: i,
                                recorded: stored,
                                counted: refs,
                            });
                        }
                    }
                }
            }
            if counted == 0 {
                if st.bits & I_BAD != 0 {
                    self.process_bad_inode(i)?;
                }
                self.push(Finding::Unattached { ino: i });
                continue;
            }
            let isdir = st.bits & I_DIR != 0;
            if isdir && counted > EXT2_LINK_MAX {
                if !dir_nlink {
                    self.push(Finding::DirNlinkWithoutFeature { ino: i });
                    dir_nlink = true;
                }
                counted = 1;
            }
            if counted != link_count {
                // A directory with more links than i_links_count holds
                // keeps 1 when indexed (PR_4_DIR_OVERFLOW_REF_COUNT is only
                // offered when e2fsck may write).
                let overflow =
                    isdir && counted > 1 && st.i_flags & EXT4_INDEX_FL != 0 && link_count == 1;
                if !overflow {
                    self.push(Finding::BadLinkCount {
                        ino: i,
                        recorded: link_count,
                        counted,
                    });
                }
            }
        }
        Ok(())
    }
}
