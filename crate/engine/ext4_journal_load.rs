//! Mounting with a journal (fs/ext4/super.c `ext4_load_journal`,
//! `ext4_get_journal_inode`, `ext4_put_super`): find the journal inode,
//! resolve its blocks into the journal's block map, load the jbd2
//! superblock, replay the log when INCOMPAT_RECOVER is set (or the log is
//! not empty), clear the flag, move a journal error into the superblock's
//! error state (`ext4_clear_journal_err`), and attach the journal.
//!
//! After a replay that stopped at a transaction whose commit block fails
//! its checksum, the kernel (fs/jbd2/journal.c `jbd2_journal_load`, v6.x)
//! refuses the mount with EFSCORRUPTED and leaves the log in place, so
//! every later mount fails the same way; e2fsck (journal.c
//! `recover_ext3_journal` + `e2fsck_check_ext3_journal`, what an
//! administrator runs next) resets the log, records -EINVAL in the
//! journal's `s_errno` and moves it into `EXT4_ERROR_FS`. `ext4lab
//! recover` leaves that second state, the one `e2fsck -y -E journal_only`
//! leaves (tests/recover_state.rs compares them field by field).

use super::error::{CorruptKind, Ext4Error, InodeCorruption, Result};
use super::ext4_jbd2::Ext4Journal;
use super::fs::{Ext4Fs, OpenOptions, ReadOnlyReason};
use super::inode::EXT4_JOURNAL_INO;
use super::journal::{Journal, RecoveryInfo};
use super::map::MapFlags;
use super::mount_opts::{DataMode, MountOptions};
use super::superblock::{COMPAT_HAS_JOURNAL, EXT4_ERROR_FS, EXT4_VALID_FS, INCOMPAT_RECOVER};
use crate::device::BlockDevice;

/// What a mount found and did, for reports (`ext4lab recover --json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MountReport {
    /// The filesystem has a journal.
    pub has_journal: bool,
    /// INCOMPAT_RECOVER was set in the superblock.
    pub needs_recovery: bool,
    /// The jbd2 superblock's `s_start` at mount (0: empty log).
    pub log_start: u32,
    /// What recovery did, when it ran.
    pub recovery: Option<RecoveryInfo>,
    /// The data mode in effect.
    pub data_mode: DataMode,
}

impl<D: BlockDevice> Ext4Fs<D> {
    /// `ext4_get_journal_inode` + the block map: journal block `l` lives in
    /// filesystem block `map[l]`.
    pub fn ext4_journal_blocks(&mut self) -> Result<Vec<u64>> {
        let ino = match self.sb.s_journal_inum {
            0 => EXT4_JOURNAL_INO,
            i => i,
        };
        let mut inode = self.ext4_iget(ino)?;
        let bs = u64::from(self.block_size());
        let n = inode.size() / bs;
        if n == 0 || n > u64::from(u32::MAX) || n > self.sb.blocks_count() {
            return Err(CorruptKind::Inode {
                ino,
                why: InodeCorruption::JournalSize { size: inode.size() },
            }
            .into());
        }
        let mut map = Vec::with_capacity(n as usize);
        let mut lblk = 0u32;
        while u64::from(lblk) < n {
            let want = (n - u64::from(lblk)) as u32;
            let m = self.ext4_map_blocks_inode(ino, &mut inode, lblk, want, MapFlags::empty())?;
            let Some(p) = m.m_pblk else {
                return Err(CorruptKind::Inode {
                    ino,
                    why: InodeCorruption::JournalHole { lblk },
                }
                .into());
            };
            let len = m.m_len.max(1);
            for k in 0..len {
                map.push(p + u64::from(k));
            }
            lblk = lblk.checked_add(len).ok_or(Ext4Error::FileTooBig)?;
        }
        map.truncate(n as usize);
        Ok(map)
    }

    /// Mount `dev` like `mount -o opts`: open the filesystem, and if it has
    /// a journal, load it (`ext4_load_journal`), replay it when needed,
    /// clear INCOMPAT_RECOVER and attach it so that every later change goes
    /// through transactions. Without a journal this is [`Ext4Fs::open`].
    pub fn ext4_mount(dev: D, opts: &MountOptions) -> Result<(Ext4Fs<D>, MountReport)> {
        let ro = OpenOptions {
            read_only: true,
            fsck: false,
            ..Default::default()
        };
        let mut fs = Ext4Fs::open(dev, ro.clone())?;
        let data_mode = opts.data_mode(&fs.sb);
        let mut report = MountReport {
            has_journal: fs.sb.has_compat(COMPAT_HAS_JOURNAL),
            needs_recovery: fs.sb.has_incompat(INCOMPAT_RECOVER),
            log_start: 0,
            recovery: None,
            data_mode,
        };
        if !report.has_journal || opts.noload {
            let dev = fs.into_device();
            let o = OpenOptions {
                read_only: opts.read_only,
                fsck: false,
                ..Default::default()
            };
            return Ok((Ext4Fs::open(dev, o)?, report));
        }
        let map = fs.ext4_journal_blocks()?;
        let bs = fs.block_size();
        let blocks = fs.sb.blocks_count();
        let mut journal = Journal::jbd2_journal_load(&mut fs.dev, bs, map.clone(), blocks)?;
        report.log_start = journal.j_superblock.s_start;
        if report.needs_recovery || journal.needs_recovery() {
            let info = journal.jbd2_journal_recover(&mut fs.dev)?;
            report.recovery = Some(info);
            // Replay rewrote metadata under the opened fs: open it again.
            let dev = fs.into_device();
            fs = Ext4Fs::open(dev, ro.clone())?;
            journal = Journal::jbd2_journal_load(&mut fs.dev, bs, map, blocks)?;
        }
        let mut commit = false;
        if report.needs_recovery {
            fs.sb.s_feature_incompat &= !INCOMPAT_RECOVER;
            fs.ext4_recount_free()?;
            commit = true;
        }
        // A replay that failed part-way (a corrupt descriptor or revoke
        // block) leaves the filesystem unchecked: e2fsck's
        // `e2fsck_clear_recover(ctx, error)` clears EXT4_VALID_FS.
        if report.recovery.as_ref().is_some_and(|r| r.error.is_some()) {
            fs.sb.s_state &= !EXT4_VALID_FS;
            commit = true;
        }
        // `ext4_clear_journal_err` (and e2fsck's `e2fsck_check_ext3_journal`):
        // an error the journal recorded (`s_errno`: a previous abort, or
        // -EINVAL for a transaction whose commit block failed its
        // checksum) moves into the superblock's error state and is
        // cleared in the journal, so the next mount and e2fsck -n see a
        // filesystem marked in need of a check, not a pending journal error.
        if journal.j_superblock.s_errno != 0 && !opts.read_only {
            fs.sb.s_state |= EXT4_ERROR_FS;
            journal.j_superblock.s_errno = 0;
            journal.write_superblock(&mut fs.dev)?;
            commit = true;
        }
        if commit {
            fs.ext4_commit_super()?;
            fs.dev.flush()?;
        }
        fs.read_only = if opts.read_only {
            Some(ReadOnlyReason::Requested)
        } else {
            let unknown = fs.sb.s_feature_ro_compat & !super::superblock::RO_COMPAT_SUPPORTED;
            super::fs::write_refusal(&fs.sb, unknown != 0)
        };
        if fs.read_only.is_none() {
            fs.s_journal = Some(Box::new(Ext4Journal::new(
                journal,
                data_mode,
                report.recovery.clone(),
            )));
        }
        Ok((fs, report))
    }

    /// The free counts of the superblock from the group descriptors, as
    /// the kernel's percpu counters are set up at mount.
    pub(crate) fn ext4_recount_free(&mut self) -> Result<()> {
        let mut blocks = 0u64;
        let mut inodes = 0u64;
        for d in &self.groups {
            blocks += u64::from(d.free_blocks_count(&self.sb));
            inodes += u64::from(d.free_inodes_count(&self.sb));
        }
        self.sb.set_free_blocks_count(blocks);
        self.sb.s_free_inodes_count = u32::try_from(inodes).unwrap_or(u32::MAX);
        Ok(())
    }

    /// `ext4_put_super` (unmount): sync everything through the journal,
    /// leave it empty with INCOMPAT_RECOVER clear, give the device back.
    pub fn ext4_put_super(mut self) -> Result<D> {
        if self.read_only.is_none() {
            self.ext4_sync_fs()?;
        }
        Ok(self.into_device())
    }
}

/// Replay the journal of the filesystem on `dev` in place, the way a mount
/// does (`ext4lab recover`), and give the device back with the report.
pub fn ext4_recover_device<D: BlockDevice>(dev: D) -> Result<(D, MountReport)> {
    let (fs, report) = Ext4Fs::ext4_mount(dev, &MountOptions::default())?;
    Ok((fs.ext4_put_super()?, report))
}
