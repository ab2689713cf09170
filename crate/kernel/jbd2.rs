//! The ext4<->jbd2 glue in the simulated kernel: [`Jbd2JournalOps`]
//! replaces the core's sim-only journal with the engine's real one.
//!
//! - A handle is the simulator's `jbd2_handle` lock class
//!   ([`crate::sim::Journal::start`]): `jbd2_journal_start` waits while the
//!   running transaction is T_LOCKED. Engine calls are atomic in the
//!   simulation, so the engine's own handle is opened and closed inside
//!   each call (implicitly); the sim handle is what other tasks wait on.
//! - [`jbd2_journal_commit_transaction`] is the commit (kjournald2's body,
//!   and what fsync waits for): lock the transaction and wait for its
//!   handles (`t_updates` to 0), capture it in the engine in the same step
//!   (`jbd2_commit_start`), then write ordered data, log blocks and commit
//!   block with one bio whose completion is its own event.
//! - Commits are serialized by `j_commit_mutex` (one kjournald2).
//! - [`ext4_fill_super`] mounts the scenario image with the journal
//!   (replaying it if needed) and data writes as bios.

use std::rc::Rc;

use crate::engine::error::Ext4Error;
use crate::engine::fs::Ext4Fs;
use crate::engine::mount_opts::{DataMode, MountOptions};
use crate::engine::superblock::COMPAT_HAS_JOURNAL;
use crate::scenario::RunConfig;
use crate::sim::{Handle, Mutex};

use super::handle::{HandleType, JournalOps, KFuture};
use super::image::ScenarioImage;
use super::state::{Errno, Ext4InodeInfo, KResult, Kernel, SimDisk};

/// The engine's data mode for a scenario's `[mount] data`.
pub fn data_mode(rc: &RunConfig) -> DataMode {
    match rc.mount.data {
        crate::scenario::DataMode::Ordered => DataMode::Ordered,
        crate::scenario::DataMode::Writeback => DataMode::Writeback,
        crate::scenario::DataMode::Journal => DataMode::Journal,
    }
}

/// `ext4_fill_super` for one execution: restore the image and mount it;
/// with a journal, load it (replaying a dirty log) and let data writes go
/// to the device as the bios of the simulated page cache.
pub fn ext4_fill_super(img: &ScenarioImage, rc: &RunConfig) -> Result<Ext4Fs<SimDisk>, Ext4Error> {
    let fs = img.mount()?;
    if !fs.sb.has_compat(COMPAT_HAS_JOURNAL) {
        return Ok(fs);
    }
    let dev = fs.into_device();
    ext4_mount_sim(dev, data_mode(rc))
}

fn ext4_mount_sim(dev: SimDisk, mode: DataMode) -> Result<Ext4Fs<SimDisk>, Ext4Error> {
    let opts = MountOptions {
        data: Some(mode),
        ..MountOptions::default()
    };
    let (mut fs, _report) = Ext4Fs::ext4_mount(dev, &opts)?;
    fs.ext4_jbd2_set_data_writes_direct(true);
    Ok(fs)
}

/// Install the glue on a kernel whose filesystem has a journal. Call
/// inside an execution (it creates sim objects).
pub fn jbd2_install(k: &Kernel) {
    if k.fs.borrow().is_journalled() {
        *k.jops.borrow_mut() = Rc::new(Jbd2JournalOps {
            j_commit_mutex: Mutex::named("j_commit_mutex", "j_commit_mutex"),
        });
    }
}

/// The glue's [`JournalOps`].
pub struct Jbd2JournalOps {
    /// Serializes commits (the kernel has one kjournald2 per journal).
    pub j_commit_mutex: Mutex,
}

impl JournalOps for Jbd2JournalOps {
    fn start<'a>(
        &'a self,
        k: &'a Kernel,
        _ei: &'a Ext4InodeInfo,
        _ht: HandleType,
        _credits: u32,
    ) -> KFuture<'a, KResult<Handle>> {
        Box::pin(async move {
            let _f = crate::kfn!("jbd2__journal_start");
            Ok(k.journal.start().await)
        })
    }
    fn stop(&self, _k: &Kernel, handle: Handle) {
        let _f = crate::kfn!("jbd2_journal_stop");
        handle.stop();
    }
    fn fsync_commit<'a>(
        &'a self,
        k: &'a Kernel,
        _ei: &'a Ext4InodeInfo,
    ) -> KFuture<'a, KResult<()>> {
        Box::pin(async move {
            // jbd2_complete_transaction + jbd2_log_wait_commit: the commit
            // runs to its end before fsync returns.
            let _f = crate::kfn!("jbd2_complete_transaction");
            jbd2_journal_commit_transaction(k, self.j_commit_mutex).await?;
            Ok(())
        })
    }
    fn kjournald2<'a>(&'a self, k: &'a Kernel, commits: u32) -> KFuture<'a, ()> {
        Box::pin(async move {
            for _ in 0..commits {
                let _ = jbd2_journal_commit_transaction(k, self.j_commit_mutex).await;
            }
        })
    }
}

/// `jbd2_journal_commit_transaction`: commit the running transaction and
/// return its tid once the commit block is on disk.
///
/// Preconditions: the current task holds no handle (it would wait for
/// itself: the deadlock oracle reports it).
pub async fn jbd2_journal_commit_transaction(k: &Kernel, commit_mutex: Mutex) -> KResult<u32> {
    let _f = crate::kfn!("jbd2_journal_commit_transaction");
    commit_mutex.lock().await;
    // T_LOCKED, wait for t_updates == 0, next transaction opens.
    let tid = k.journal.commit().await;
    // In the same step: the engine's transaction becomes the committing one.
    let started = k.fs.borrow_mut().jbd2_commit_start();
    let r = match started {
        Err(e) => Err(k.engine_error("jbd2_journal_commit_transaction", e)),
        Ok(None) => Ok(()),
        Ok(Some(_)) => {
            // Ordered data, log blocks, commit block: one bio.
            let Some(kk) = k.me() else {
                commit_mutex.unlock();
                return Err(Errno::EIO);
            };
            let head = k.fs.borrow().ext4_journal().map_or(0, |j| j.journal.j_head);
            let (_, done) = crate::sim::submit_bio(u64::from(head), true, move || {
                let r = kk.fs.borrow_mut().jbd2_commit_write();
                if let Err(e) = r {
                    kk.engine_error("jbd2_journal_commit_transaction", e);
                }
            });
            done.wait().await;
            Ok(())
        }
    };
    k.journal.commit_done(tid);
    commit_mutex.unlock();
    r.map(|()| tid)
}

/// The crash: everything volatile is gone (page cache, in-flight bios, the
/// engine's cached metadata and running transaction); the disk keeps what
/// was written. Then the filesystem is mounted again, which replays the
/// journal (`ext4_load_journal`). The oracles then read the recovered disk.
pub fn crash_and_recover(k: &Kernel) {
    for ei in k.inodes.values() {
        ei.mapping.pages.borrow_mut().clear();
    }
    let journalled = k.fs.borrow().is_journalled();
    let dev = k.fs.borrow_mut().device().clone();
    let mounted = if journalled {
        ext4_mount_sim(dev, data_mode(&k.rc))
    } else {
        Ext4Fs::open(dev, crate::engine::fs::OpenOptions::default())
    };
    match mounted {
        Ok(fs) => {
            let replayed = fs
                .ext4_journal()
                .and_then(|j| j.recovery.as_ref())
                .map_or(0, |r| r.transactions_replayed);
            *k.fs.borrow_mut() = fs;
            crate::sim::note(format!(
                "crash: page cache dropped, journal recovery replayed {replayed} transaction(s)"
            ));
        }
        Err(e) => {
            k.engine_error("ext4_load_journal", e);
        }
    }
}
