//! The simulated kernel's state: the mounted engine, `ext4_inode_info`,
//! processes, and the per-run configuration.
//!
//! [`Ext4InodeInfo`] holds the inode's locks as the kernel names them
//! (`i_rwsem`, `invalidate_lock`, `i_data_sem`, `xattr_sem`; the names change
//! by era, `crate::scenario::locks`) and `i_dio_count`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use crate::device::mem::MemDevice;
use crate::device::BlockDevice;
use crate::engine::fs::Ext4Fs;
use crate::engine::inode::Ext4Inode;
pub use crate::scenario::history::DELALLOC_MERGED;
use crate::scenario::history::{Change, KernelVersion};
use crate::scenario::locks::LockClass;
use crate::scenario::RunConfig;
use crate::sim::{AtomicT, Journal, Location, ObjName, PercpuRwSemaphore, RwSemaphore, WaitQueue};

use super::handle::{DefaultJournalOps, JournalOps};
use super::mm::Process;
use super::pagecache::AddressSpace;
use super::provenance::DataLog;

/// A syscall error as the user sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    EAGAIN,
    EBUSY,
    EFAULT,
    EIO,
    ENOSPC,
    EINVAL,
    EOPNOTSUPP,
    /// A fault answered VM_FAULT_SIGBUS.
    SIGBUS,
}

impl Errno {
    /// The errno's name (`"EAGAIN"`).
    pub fn name(self) -> &'static str {
        match self {
            Errno::EAGAIN => "EAGAIN",
            Errno::EBUSY => "EBUSY",
            Errno::EFAULT => "EFAULT",
            Errno::EIO => "EIO",
            Errno::ENOSPC => "ENOSPC",
            Errno::EINVAL => "EINVAL",
            Errno::EOPNOTSUPP => "EOPNOTSUPP",
            Errno::SIGBUS => "SIGBUS",
        }
    }
}

/// Result of a kernel path.
pub type KResult<T> = Result<T, Errno>;

/// A [`BlockDevice`] over a shared [`MemDevice`]: the runner keeps the
/// device (and its snapshot) across executions while each execution mounts
/// its own [`Ext4Fs`] on it.
#[derive(Clone)]
pub struct SimDisk(pub Rc<RefCell<MemDevice>>);

impl BlockDevice for SimDisk {
    fn size(&self) -> u64 {
        self.0.borrow().size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> crate::device::Result<()> {
        self.0.borrow_mut().read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> crate::device::Result<()> {
        self.0.borrow_mut().write_at(offset, buf)
    }
    fn flush(&mut self) -> crate::device::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// In-memory inode state bits (`EXT4_STATE_*`, `ext4_test_inode_state`).
pub mod state_bits {
    /// `EXT4_STATE_MAY_INLINE_DATA`: the inode may keep data inline.
    pub const EXT4_STATE_MAY_INLINE_DATA: u32 = 1 << 0;
}

/// The 2008 migrate flag, kept in `ei->i_flags` as 267e4db9ac28 (v2.6.26-rc1,
/// include/linux/ext4_fs.h) and Aneesh's first posting define it:
/// `#define EXT4_EXT_MIGRATE 0x00100000 /* Inode is migrating */`. It was
/// in-memory only: both patches mask it in `ext4_do_update_inode`. (The bit
/// collided with `FS_DIRECTIO_FL` and moved to `EXT4_STATE_EXT_MIGRATE` in
/// 2009; on today's disks 0x00100000 is `EXT4_VERITY_FL`.)
pub const EXT4_EXT_MIGRATE: u32 = 0x0010_0000;

/// Fields of `ext4_inode_info` protected by the locks of [`Ext4InodeInfo`].
#[derive(Clone, Debug)]
pub struct InodeMem {
    /// The in-memory copy of the on-disk inode (`i_block`, `i_blocks`,
    /// `i_size`...); written back by `ext4_mark_inode_dirty`.
    pub raw: Ext4Inode,
    /// `ei->i_flags`: may carry in-memory-only bits (`EXT4_EXT_MIGRATE`).
    pub i_flags: u32,
    /// `ei->i_state_flags` (`EXT4_STATE_*`).
    pub i_state_flags: u32,
    /// `inode->i_size`.
    pub i_size: u64,
    /// `ei->i_disksize`: the size the on-disk inode may claim.
    pub i_disksize: u64,
    /// `ei->i_reserved_data_blocks`: delalloc reservations.
    pub i_reserved_data_blocks: u32,
    /// `inode->i_flags` (the VFS's `S_*` bits, set by
    /// `ext4_set_inode_flags`): only [`S_DAX`] is modelled.
    pub vfs_i_flags: u32,
}

/// `S_DAX` (v4.13 include/linux/fs.h): the inode's data is accessed
/// directly (`IS_DAX`), not through the page cache.
pub const S_DAX: u32 = 8192;

/// `struct ext4_inode_info` (with the VFS inode): locks, counters, state.
pub struct Ext4InodeInfo {
    pub ino: u32,
    /// The file's name in the root directory (traces, outcomes).
    pub name: String,
    /// `inode->i_rwsem` (`inode_lock`; `i_mutex` before v4.7).
    pub i_rwsem: RwSemaphore,
    /// `mapping->invalidate_lock` (v5.15), `EXT4_I(inode)->i_mmap_sem`
    /// (v4.5, ea3d7209ca01); before v4.5 no such lock exists and the
    /// kernel paths do not take it (`k.applied(Change::FaultsVsHolePunch)`).
    pub invalidate_lock: RwSemaphore,
    /// `ei->i_data_sem`: protects the block map.
    pub i_data_sem: RwSemaphore,
    /// `ei->xattr_sem`: protects inline data and xattrs.
    pub xattr_sem: RwSemaphore,
    /// `inode->i_dio_count`.
    pub i_dio_count: AtomicT,
    /// Announces unlocked reads/writes of `i_flags` / state bits / sizes.
    pub i_flags_loc: Location,
    /// Announces accesses to `ei->i_data` (the block map) made without
    /// `i_data_sem`: 2.6.25's `ext4_ext_migrate` walks it unlocked, and the
    /// allocating path of `ext4_map_blocks` writes it under `i_data_sem`.
    pub i_data_loc: Location,
    pub mem: RefCell<InodeMem>,
    /// `inode->i_mapping`.
    pub mapping: AddressSpace,
    /// `I_SYNC` in `inode->i_state`: the flusher or sync(2) is writing the
    /// inode back ([`super::writeback::writeback_single_inode`]).
    pub i_sync: Cell<bool>,
    /// Announces the accesses to `inode->i_state` (made under
    /// `inode->i_lock` in the kernel).
    pub i_state_loc: Location,
    /// The `__I_SYNC` bit's wait queue (`inode_sleep_on_writeback`).
    pub i_sync_wq: WaitQueue,
    /// `ei->jinode`: the inode on the journal's ordered-data lists
    /// ([`super::jbd2::jbd2_journal_file_inode`]); accessed after
    /// `Kernel::j_list_loc` (the journal's `j_list_lock`).
    pub jinode: RefCell<Jbd2Inode>,
}

/// `struct jbd2_inode` (include/linux/jbd2.h, v4.7..v6.9): which
/// transactions must write out or wait for this inode's data before their
/// commit record (data=ordered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Jbd2Inode {
    /// `i_transaction->t_tid`: the transaction whose `t_inode_list` holds
    /// the inode (the running one, or the committing one).
    pub i_transaction: Option<u32>,
    /// `i_next_transaction->t_tid`: the running transaction, while
    /// `i_transaction` is committing.
    pub i_next_transaction: Option<u32>,
    /// `JI_WRITE_DATA` | `JI_WAIT_DATA`.
    pub i_flags: u8,
}

/// `JI_WRITE_DATA`: the commit writes the inode's dirty pages out.
pub const JI_WRITE_DATA: u8 = 1;
/// `JI_WAIT_DATA`: the commit waits for the inode's pages under writeback.
pub const JI_WAIT_DATA: u8 = 2;

impl Ext4InodeInfo {
    /// `ext4_iget` into the simulation: creates the locks (inside an
    /// execution) from the on-disk inode, each named as kernel `version`
    /// names its lockdep class (`i_mutex` before v4.7, `i_mmap_sem` v4.5 to
    /// v5.14: [`LockClass::name`]). A lock the version does not have is
    /// named as the commit that brought it named it (`i_mmap_sem`,
    /// ea3d7209ca01): only that commit, applied to an older kernel, takes
    /// it there.
    pub fn new(ino: u32, name: &str, raw: Ext4Inode, version: KernelVersion) -> Ext4InodeInfo {
        let class = |c: LockClass| {
            c.name(version)
                .or_else(|| c.all_names().next())
                .unwrap_or("?")
        };
        let i_rwsem = class(LockClass::InodeLock);
        let invalidate_lock = class(LockClass::InvalidateLock);
        let size = raw.size();
        let i_flags = raw.i_flags;
        let i_state_flags = if raw.has_flag(crate::engine::inode::EXT4_INLINE_DATA_FL) {
            state_bits::EXT4_STATE_MAY_INLINE_DATA
        } else {
            0
        };
        // The sim objects' names are joined only when shown (`ObjName`).
        let n: Rc<str> = Rc::from(name);
        Ext4InodeInfo {
            ino,
            name: name.to_string(),
            i_rwsem: RwSemaphore::named(ObjName::Field(n.clone(), i_rwsem), i_rwsem),
            invalidate_lock: RwSemaphore::named(
                ObjName::Field(n.clone(), invalidate_lock),
                invalidate_lock,
            ),
            i_data_sem: RwSemaphore::named(ObjName::Field(n.clone(), "i_data_sem"), "i_data_sem"),
            xattr_sem: RwSemaphore::named(ObjName::Field(n.clone(), "xattr_sem"), "xattr_sem"),
            i_dio_count: AtomicT::new(ObjName::Field(n.clone(), "i_dio_count"), 0),
            i_flags_loc: Location::new(ObjName::Of("EXT4_I(", n.clone(), ")->i_flags")),
            i_data_loc: Location::new(ObjName::Of("EXT4_I(", n.clone(), ")->i_data")),
            mem: RefCell::new(InodeMem {
                raw,
                i_flags,
                i_state_flags,
                i_size: size,
                i_disksize: size,
                i_reserved_data_blocks: 0,
                vfs_i_flags: 0,
            }),
            mapping: AddressSpace::new(&n, class(LockClass::IMmapRwsem)),
            i_sync: Cell::new(false),
            i_state_loc: Location::new(ObjName::Field(n.clone(), "i_state")),
            i_sync_wq: WaitQueue::new(ObjName::Field(n, "__I_SYNC")),
            jinode: RefCell::new(Jbd2Inode::default()),
        }
    }

    /// `inode_is_locked`: whether the current task holds `i_rwsem`.
    pub fn inode_is_locked(&self) -> bool {
        self.i_rwsem.is_held_by_current()
    }

    /// `i_size_read`.
    pub fn i_size(&self) -> u64 {
        self.mem.borrow().i_size
    }

    /// `IS_DAX(inode)`.
    pub fn is_dax(&self) -> bool {
        self.mem.borrow().vfs_i_flags & S_DAX != 0
    }

    /// `ext4_test_inode_flag`-style check on the in-memory `i_flags`.
    pub fn test_flag(&self, fl: u32) -> bool {
        self.mem.borrow().i_flags & fl != 0
    }
}

/// v6.9 include/linux/fs.h `sb_start_write` (`__sb_start_write(sb,
/// SB_FREEZE_WRITE)`: `percpu_down_read` of `s_writers.rw_sem[0]`, lockdep
/// class `sb_writers`), as the VFS takes it before a syscall that changes
/// the filesystem reaches ext4: `file_start_write` in `vfs_write` and
/// `vfs_fallocate`, `mnt_want_write` for truncate(2) and
/// `mnt_want_write_file` for the ioctls. Freeze protection: only
/// `freeze_super` takes it for write, and no scenario freezes, so it never
/// waits; it is taken for the order lockdep learns (`sb_writers` before
/// `i_rwsem` and the handle). Kernels before v3.6 (5accdf82ba25) have none.
/// Returns what [`sb_end_write`] releases.
pub async fn sb_start_write(k: &Kernel) -> Option<PercpuRwSemaphore> {
    if let Some(s) = k.sb_writers {
        s.down_read().await;
    }
    k.sb_writers
}
/// `sb_end_write`.
pub fn sb_end_write(s: Option<PercpuRwSemaphore>) {
    if let Some(s) = s {
        s.up_read();
    }
}
/// v6.9 include/linux/fs.h `sb_start_pagefault`
/// (`__sb_start_write(sb, SB_FREEZE_PAGEFAULT)`, class `sb_pagefaults`),
/// which `ext4_page_mkwrite` and a DAX write fault take first: the same
/// freeze protection as [`sb_start_write`], one level down (v3.6 on).
pub async fn sb_start_pagefault(k: &Kernel) {
    if let Some(s) = k.sb_pagefaults {
        s.down_read().await;
    }
}
/// `sb_end_pagefault`.
pub fn sb_end_pagefault(k: &Kernel) {
    if let Some(s) = k.sb_pagefaults {
        s.up_read();
    }
}

/// `inode_lock(inode)`: v4.7 include/linux/fs.h, `down_write(&inode->i_rwsem)`
/// (the wrapper came in v4.5 over `mutex_lock(&inode->i_mutex)`, which
/// callers took directly before; the lock class is named by the run's
/// kernel).
pub async fn inode_lock(ei: &Ext4InodeInfo) {
    ei.i_rwsem.down_write().await
}
/// `inode_unlock(inode)`.
pub fn inode_unlock(ei: &Ext4InodeInfo) {
    ei.i_rwsem.up_write()
}
/// `inode_lock_shared(inode)`: v4.7 include/linux/fs.h,
/// `down_read(&inode->i_rwsem)`.
pub async fn inode_lock_shared(ei: &Ext4InodeInfo) {
    ei.i_rwsem.down_read().await
}
/// `inode_unlock_shared(inode)`.
pub fn inode_unlock_shared(ei: &Ext4InodeInfo) {
    ei.i_rwsem.up_read()
}

/// The simulated kernel of one execution.
pub struct Kernel {
    /// The mounted filesystem (the engine). Never borrowed across an await.
    pub fs: RefCell<Ext4Fs<SimDisk>>,
    /// The scenario's resolved configuration (variant switches, mount).
    pub rc: RunConfig,
    /// The jbd2 journal as the simulator sees it (`jbd2_handle` class).
    pub journal: Journal,
    /// The ext4<->jbd2 seam (see [`JournalOps`]).
    pub jops: RefCell<Rc<dyn JournalOps>>,
    /// Open inodes by file name.
    pub inodes: BTreeMap<String, Rc<Ext4InodeInfo>>,
    /// Processes by name.
    pub procs: BTreeMap<String, Rc<Process>>,
    /// What reads returned, what was written and promised durable, and where
    /// every block's bytes came from.
    pub log: RefCell<DataLog>,
    /// Announces block-bitmap accesses (allocation and freeing).
    pub balloc_loc: Location,
    /// Announces the accesses to the inodes' `jinode` (the journal's
    /// `j_list_lock` in the kernel).
    pub j_list_loc: Location,
    /// Names of inode numbers (files of the image, deleted ones included).
    pub ino_names: BTreeMap<u32, String>,
    /// A weak self-reference for bio completions (set by the runner).
    pub me: RefCell<Weak<Kernel>>,
    /// `sbi->s_journal_flag_rwsem` (c8585c6fcaf2, v4.7; named
    /// `s_writepages_rwsem` from v5.6-rc3): `ext4_writepages` takes it for
    /// read, `ext4_change_inode_journal_flag` for write. `None` in a kernel
    /// without c8585c6fcaf2.
    pub s_journal_flag_rwsem: Option<PercpuRwSemaphore>,
    /// `sb->s_writers.rw_sem[SB_FREEZE_WRITE - 1]` (lockdep class
    /// `sb_writers`; 5accdf82ba25, v3.6): [`sb_start_write`]. `None` before.
    pub sb_writers: Option<PercpuRwSemaphore>,
    /// `sb->s_writers.rw_sem[SB_FREEZE_PAGEFAULT - 1]` (`sb_pagefaults`,
    /// v3.6): [`sb_start_pagefault`]. `None` before.
    pub sb_pagefaults: Option<PercpuRwSemaphore>,
}

impl Kernel {
    /// A kernel over a mounted `fs` (call inside an execution: it creates
    /// sim objects).
    pub fn new(
        fs: Ext4Fs<SimDisk>,
        rc: RunConfig,
        log: DataLog,
        ino_names: BTreeMap<u32, String>,
    ) -> Kernel {
        Kernel {
            fs: RefCell::new(fs),
            journal: Journal::new("journal", 2),
            jops: RefCell::new(Rc::new(DefaultJournalOps)),
            inodes: BTreeMap::new(),
            procs: BTreeMap::new(),
            log: RefCell::new(log),
            balloc_loc: Location::new("block bitmap"),
            j_list_loc: Location::new("j_list_lock"),
            ino_names,
            me: RefCell::new(Weak::new()),
            s_journal_flag_rwsem: rc
                .applied(crate::scenario::history::Change::JournalFlagRwsem)
                .then(|| {
                    let class = crate::scenario::locks::LockClass::WritepagesRwsem
                        .name(rc.kernel)
                        .unwrap_or("s_journal_flag_rwsem");
                    PercpuRwSemaphore::new(class)
                }),
            sb_writers: LockClass::SbWriters
                .name(rc.kernel)
                .map(PercpuRwSemaphore::new),
            sb_pagefaults: LockClass::SbPagefaults
                .name(rc.kernel)
                .map(PercpuRwSemaphore::new),
            rc,
        }
    }

    /// This kernel as an `Rc` (bio completions keep it).
    pub fn me(&self) -> Option<Rc<Kernel>> {
        self.me.borrow().upgrade()
    }

    /// Whether the kernel this run models has change `c` (a commit merged
    /// by the scenario's version, or applied by the variant; see
    /// [`crate::scenario::history`]).
    pub fn applied(&self, c: crate::scenario::history::Change) -> bool {
        self.rc.applied(c)
    }

    /// The kernel release this run models.
    pub fn version(&self) -> KernelVersion {
        self.rc.kernel
    }

    /// The lockdep class name of `c` in this run's kernel (`i_mutex`,
    /// `i_mmap_sem`...), `None` when that kernel does not have the lock.
    pub fn lock_name(&self, c: LockClass) -> Option<&'static str> {
        c.name(self.rc.kernel)
    }

    /// Mount option `delalloc` (`test_opt(sb, DELALLOC)`) as the mount
    /// leaves it: v4.13 fs/ext4/super.c `ext4_fill_super` clears it under
    /// data=journal ("mounting with data=journal disables delayed
    /// allocation"; an explicit `delalloc` fails the mount, which the
    /// scenario format cannot tell from the default). Before
    /// [`DELALLOC_MERGED`] ext4 had no delayed allocation at all (2.6.25
    /// fs/ext4/super.c knows no `delalloc` option; `ext4_aops` are the
    /// ordered/writeback/journalled ones), so the scenario's default
    /// `delalloc = true` means nodelalloc there. The resolver already
    /// leaves the resolved configuration so (what the page shows); the
    /// test here keeps a hand-made `RunConfig` honest.
    pub fn delalloc(&self) -> bool {
        self.rc.mount.delalloc
            && self.rc.mount.data != crate::scenario::DataMode::Journal
            && self.version() >= DELALLOC_MERGED
    }

    /// Whether `ei` has the delalloc address space operations: v4.13
    /// fs/ext4/inode.c `ext4_set_aops` gives an inode that journals its data
    /// (`chattr +j`) `ext4_journalled_aops`, and `ext4_da_aops` only to the
    /// others of a delalloc mount. `ext4_page_mkwrite` makes the same test
    /// (`test_opt(DELALLOC) && !ext4_should_journal_data(inode)`). Read at
    /// each call, so it follows `ext4_change_inode_journal_flag`.
    pub fn ext4_da_aops(&self, ei: &Ext4InodeInfo) -> bool {
        self.delalloc() && !super::inode_ops::ext4_should_journal_data(self, ei)
    }

    /// `ext4_should_dioread_nolock(inode)` (v5.5 fs/ext4/ext4_jbd2.h) for
    /// a regular file: the mount option (`dioread_nolock = false` is
    /// `nodioread_nolock`; unset, `ext4_fill_super` turns it on from
    /// 244adf6426ee, v5.6), an extent-mapped inode that does not journal
    /// its data, and, from c8980e1980cc (v5.7), a delalloc mount.
    pub fn ext4_should_dioread_nolock(&self, ei: &Ext4InodeInfo) -> bool {
        // The mount option as the scenario set it, or the kernel's default
        // (the resolver fills it in: on with 244adf6426ee).
        let opt = self
            .rc
            .mount
            .dioread_nolock
            .unwrap_or_else(|| self.applied(Change::DioreadNolockDefault));
        if !opt || !ei.test_flag(crate::engine::inode::EXT4_EXTENTS_FL) {
            return false;
        }
        if ei.test_flag(crate::engine::inode::EXT4_JOURNAL_DATA_FL)
            || self.rc.mount.data == crate::scenario::DataMode::Journal
        {
            return false;
        }
        if self.applied(Change::DioreadNolockNeedsDelalloc) && !self.delalloc() {
            return false;
        }
        true
    }

    /// The inode of file `name`.
    pub fn inode(&self, name: &str) -> KResult<Rc<Ext4InodeInfo>> {
        self.inodes.get(name).cloned().ok_or(Errno::EINVAL)
    }

    /// The name of inode `ino` (or `inode N`).
    pub fn ino_name(&self, ino: u32) -> String {
        self.ino_names
            .get(&ino)
            .cloned()
            .unwrap_or_else(|| format!("inode {ino}"))
    }

    /// Block size (= PAGE_SIZE in the model).
    pub fn block_size(&self) -> u64 {
        self.fs.borrow().block_size() as u64
    }

    /// `ext4_mark_inode_dirty`: write the in-memory inode to the engine
    /// (fs/ext4/inode.c `ext4_do_update_inode`), masking `EXT4_EXT_MIGRATE`
    /// as 267e4db9ac28 and Aneesh's first posting do (and only then: no
    /// other kernel sets it).
    ///
    /// Precondition: the caller holds whatever protects the fields it changed.
    pub fn ext4_mark_inode_dirty(&self, ei: &Ext4InodeInfo) -> KResult<()> {
        let raw = {
            let m = ei.mem.borrow();
            let mut raw = m.raw.clone();
            raw.i_flags = m.i_flags;
            // 267e4db9ac28 / Aneesh's first posting (ext4_do_update_inode):
            // "clear the migrate flag in the raw_inode"
            if self.applied(Change::MigrateVsMmapWrite)
                || self.applied(Change::AneeshMigrateFlagRetval)
            {
                raw.i_flags &= !EXT4_EXT_MIGRATE;
            }
            raw.set_size(m.i_disksize);
            raw
        };
        self.fs
            .borrow_mut()
            .write_inode(ei.ino, &raw)
            .map_err(|e| self.engine_error("ext4_mark_inode_dirty", e))
    }

    /// An engine error inside a kernel path: recorded as an outcome, EIO.
    pub fn engine_error(&self, site: &str, e: crate::engine::error::Ext4Error) -> Errno {
        let mut o =
            crate::sim::Outcome::new(crate::sim::OutcomeKind::Other("engine-error".into()), 0);
        o.site = site.to_string();
        o.message = e.to_string();
        o.tasks.push(crate::sim::current_task_name());
        crate::sim::report(o);
        Errno::EIO
    }
}
