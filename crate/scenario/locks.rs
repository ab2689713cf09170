//! Lock classes by kernel era, and the lock order ext4 declares in each.
//!
//! The kernel paths name every lock after the kernel they model
//! (`i_mutex` in v4.5, `i_rwsem` from v4.7); the lockdep oracle checks the
//! order fs/ext4/super.c documents in the run's kernel version; scenario
//! rows (`locks = [...]`) name classes the same way. This module is the one
//! table of those names (data only; kernel code asks
//! [`LockClass::name`] with `k.version()`).
//!
//! Renames and introductions (the release that first has the new name):
//!
//! | class | names | source |
//! |---|---|---|
//! | inode lock | `i_mutex` → `i_rwsem` (v4.7) | 9902af79c01a "parallel lookups: actual switch to rwsem" |
//! | mm lock | `mmap_sem` → `mmap_lock` (v5.8) | da1c55f1b272 "mmap locking API: rename mmap_sem to mmap_lock" |
//! | ext4 fault/truncate lock | none → `i_mmap_sem` (v4.5) → `invalidate_lock` (v5.15) | ea3d7209ca01; "ext4: Convert to use mapping->invalidate_lock" (v5.15) |
//! | journal-flag / writepages rwsem | none → `s_journal_flag_rwsem` (v4.7) → `s_writepages_rwsem` (v5.6-rc3) | c8585c6fcaf2; Eric Biggers, "ext4: rename s_journal_flag_rwsem to s_writepages_rwsem" (also in 5.5.7) |
//! | mapping's rmap lock | `i_mmap_lock` (spinlock) → `i_mmap_mutex` (v3.0) → `i_mmap_rwsem` (v3.19) | "mm: Convert i_mmap_lock to a mutex"; c8c06efa8b55 "mm: convert i_mmap_mutex to rwsem" |
//! | freeze protection | none → `sb_writers`, `sb_pagefaults`, `sb_internal` (v3.6) | 5accdf82ba25 "fs: Improve filesystem freezing handling" (percpu rwsems from v4.3) |
//!
//! Classes with one name in every modelled era: `i_data_sem`, `xattr_sem`,
//! `jbd2_handle` (a handle on the running transaction), `j_barrier`
//! (`jbd2_journal_lock_updates`), `page lock` (the page/folio lock; written
//! `page_lock` in scenario rows; lockdep itself does not track it).
//!
//! The declared order: Jan Kara's "ext4: document lock ordering"
//! (e74031fd7ed0, v4.5-rc1) added the "Lock ordering" comment to
//! fs/ext4/super.c; da1c55f1b272 (v5.8) renamed `mmap_sem` in it and the
//! invalidate_lock conversion (v5.15) replaced `i_mmap_sem`. The comment
//! kept saying `i_mutex` after v4.7: it means the inode lock, `i_rwsem`.
//! Kernels before v4.5 declare no order: the oracle then checks only the
//! orders it learns (and the 2.6.2x order differs: `block_page_mkwrite`
//! took the page lock before starting a handle).

use super::history::KernelVersion;

/// A declared lock order: chains of class names, each acquired after the
/// ones before it, and where they are written. (The simulator's lockdep
/// takes it as `sim::LockOrder`; this layer does not depend on the
/// simulator.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeclaredOrder {
    /// "fs/ext4/super.c \"Lock ordering\" (v4.13)".
    pub source: String,
    pub chains: Vec<Vec<&'static str>>,
}

impl DeclaredOrder {
    /// Whether it declares nothing.
    pub fn is_empty(&self) -> bool {
        self.chains.iter().all(|c| c.len() < 2)
    }

    /// Each consecutive pair of every chain, sorted, deduplicated.
    pub fn pairs(&self) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = self
            .chains
            .iter()
            .flat_map(|c| c.windows(2).map(|w| (w[0], w[1])))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// A lock class that exists, under one name or another, across eras.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockClass {
    /// `inode->i_mutex` / `inode->i_rwsem`.
    InodeLock,
    /// `mm->mmap_sem` / `mm->mmap_lock`.
    MmapLock,
    /// `EXT4_I(inode)->i_mmap_sem` / `mapping->invalidate_lock`.
    InvalidateLock,
    /// `sbi->s_journal_flag_rwsem` / `sbi->s_writepages_rwsem`.
    WritepagesRwsem,
    /// `mapping->i_mmap_lock` / `i_mmap_mutex` / `i_mmap_rwsem`.
    IMmapRwsem,
    /// `sb_start_write` (`SB_FREEZE_WRITE`).
    SbWriters,
    /// `sb_start_pagefault` (`SB_FREEZE_PAGEFAULT`).
    SbPagefaults,
    /// `sb_start_intwrite` (`SB_FREEZE_FS`).
    SbInternal,
    /// `EXT4_I(inode)->i_data_sem`.
    IDataSem,
    /// `EXT4_I(inode)->xattr_sem`.
    XattrSem,
    /// A jbd2 handle (transaction start).
    Jbd2Handle,
    /// `journal->j_barrier`.
    JBarrier,
    /// The page (folio) lock.
    PageLock,
}

const fn v(major: u16, minor: u16) -> KernelVersion {
    KernelVersion::new(major, minor)
}

const V5_6_RC3: KernelVersion = KernelVersion {
    major: 5,
    minor: 6,
    sub: 0,
    rc: Some(3),
};

impl LockClass {
    /// Every class.
    pub const ALL: [LockClass; 13] = [
        LockClass::InodeLock,
        LockClass::MmapLock,
        LockClass::InvalidateLock,
        LockClass::WritepagesRwsem,
        LockClass::IMmapRwsem,
        LockClass::SbWriters,
        LockClass::SbPagefaults,
        LockClass::SbInternal,
        LockClass::IDataSem,
        LockClass::XattrSem,
        LockClass::Jbd2Handle,
        LockClass::JBarrier,
        LockClass::PageLock,
    ];

    /// The names this class had, with the first release of each; `None`
    /// for an era in which the lock did not exist. Ascending.
    fn eras(self) -> &'static [(KernelVersion, Option<&'static str>)] {
        const START: KernelVersion = KernelVersion {
            major: 2,
            minor: 6,
            sub: 0,
            rc: None,
        };
        match self {
            LockClass::InodeLock => {
                const { &[(START, Some("i_mutex")), (v(4, 7), Some("i_rwsem"))] }
            }
            LockClass::MmapLock => {
                const { &[(START, Some("mmap_sem")), (v(5, 8), Some("mmap_lock"))] }
            }
            LockClass::InvalidateLock => {
                const {
                    &[
                        (START, None),
                        (v(4, 5), Some("i_mmap_sem")),
                        (v(5, 15), Some("invalidate_lock")),
                    ]
                }
            }
            LockClass::WritepagesRwsem => {
                const {
                    &[
                        (START, None),
                        (v(4, 7), Some("s_journal_flag_rwsem")),
                        (V5_6_RC3, Some("s_writepages_rwsem")),
                    ]
                }
            }
            LockClass::IMmapRwsem => {
                const {
                    &[
                        (START, Some("i_mmap_lock")),
                        (v(3, 0), Some("i_mmap_mutex")),
                        (v(3, 19), Some("i_mmap_rwsem")),
                    ]
                }
            }
            LockClass::SbWriters => const { &[(START, None), (v(3, 6), Some("sb_writers"))] },
            LockClass::SbPagefaults => const { &[(START, None), (v(3, 6), Some("sb_pagefaults"))] },
            LockClass::SbInternal => const { &[(START, None), (v(3, 6), Some("sb_internal"))] },
            LockClass::IDataSem => const { &[(START, Some("i_data_sem"))] },
            LockClass::XattrSem => const { &[(START, Some("xattr_sem"))] },
            LockClass::Jbd2Handle => const { &[(START, Some("jbd2_handle"))] },
            LockClass::JBarrier => const { &[(START, Some("j_barrier"))] },
            LockClass::PageLock => const { &[(START, Some("page lock"))] },
        }
    }

    /// The lockdep class name of this lock in kernel `version` (what the
    /// kernel paths name the lock, and what the oracles report), or `None`
    /// when that kernel does not have it.
    pub fn name(self, version: KernelVersion) -> Option<&'static str> {
        self.eras()
            .iter()
            .rev()
            .find(|(from, _)| *from <= version)
            .and_then(|(_, n)| *n)
    }

    /// Every name the class ever had.
    pub fn all_names(self) -> impl Iterator<Item = &'static str> {
        self.eras().iter().filter_map(|(_, n)| *n)
    }

    /// The class a name (of any era) belongs to; `page_lock` is the page
    /// lock as scenario rows write it.
    pub fn from_name(name: &str) -> Option<LockClass> {
        let name = if name == "page_lock" {
            "page lock"
        } else {
            name
        };
        LockClass::ALL
            .into_iter()
            .find(|c| c.all_names().any(|n| n == name))
    }
}

/// Whether a row's lock name `row` (`page_lock`, `i_rwsem`...) names the
/// reported lock class `class` (`page lock`, `i_mutex`...): the same name,
/// or two names of one class in different eras (a row may say
/// `invalidate_lock` of a v4.13 kernel, whose paths report `i_mmap_sem`).
pub fn lock_name_matches(row: &str, class: &str) -> bool {
    row == class
        || (row == "page_lock" && class == "page lock")
        || LockClass::from_name(row).is_some_and(|c| LockClass::from_name(class) == Some(c))
}

/// The version "Lock ordering" first appears in fs/ext4/super.c
/// (e74031fd7ed0).
pub const LOCK_ORDER_DOCUMENTED: KernelVersion = v(4, 5);

/// The lock order fs/ext4/super.c documents in kernel `version`, with the
/// class names of that version (empty before v4.5). One chain per line of
/// the comment; "transaction start" is `jbd2_handle`, `sb_start_write` /
/// `sb_start_pagefault` the freeze protection classes, "i_mutex" the inode
/// lock, "page lock(s)" the page lock.
pub fn ext4_lock_order(version: KernelVersion) -> DeclaredOrder {
    if version < LOCK_ORDER_DOCUMENTED {
        return DeclaredOrder::default();
    }
    use LockClass::*;
    // (v4.5..) page fault path, buffered write path (2), truncate (2),
    // direct IO (2), writepages; the same in every revision but for names.
    let chains: [&[LockClass]; 8] = [
        &[
            MmapLock,
            SbPagefaults,
            InvalidateLock,
            Jbd2Handle,
            PageLock,
            IDataSem,
        ],
        &[SbWriters, InodeLock, MmapLock],
        &[SbWriters, InodeLock, Jbd2Handle, PageLock, IDataSem],
        &[SbWriters, InodeLock, InvalidateLock, IMmapRwsem, PageLock],
        &[SbWriters, InodeLock, InvalidateLock, Jbd2Handle, IDataSem],
        &[SbWriters, InodeLock, MmapLock],
        &[SbWriters, InodeLock, Jbd2Handle, IDataSem],
        &[Jbd2Handle, PageLock, IDataSem],
    ];
    let chains = chains
        .iter()
        .map(|c| c.iter().filter_map(|l| l.name(version)).collect())
        .collect();
    DeclaredOrder {
        source: format!("fs/ext4/super.c \"Lock ordering\" ({version})"),
        chains,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ver(s: &str) -> KernelVersion {
        KernelVersion::parse(s).unwrap()
    }

    #[test]
    fn names_by_era() {
        assert_eq!(LockClass::InodeLock.name(ver("v4.5")), Some("i_mutex"));
        assert_eq!(LockClass::InodeLock.name(ver("v4.7")), Some("i_rwsem"));
        assert_eq!(LockClass::MmapLock.name(ver("v5.5")), Some("mmap_sem"));
        assert_eq!(LockClass::MmapLock.name(ver("v6.9")), Some("mmap_lock"));
        assert_eq!(LockClass::InvalidateLock.name(ver("v2.6.25")), None);
        assert_eq!(
            LockClass::InvalidateLock.name(ver("v4.13")),
            Some("i_mmap_sem")
        );
        assert_eq!(
            LockClass::InvalidateLock.name(ver("v5.14")),
            Some("i_mmap_sem")
        );
        assert_eq!(
            LockClass::InvalidateLock.name(ver("v5.15")),
            Some("invalidate_lock")
        );
        assert_eq!(LockClass::WritepagesRwsem.name(ver("v4.6")), None);
        assert_eq!(
            LockClass::WritepagesRwsem.name(ver("v5.5")),
            Some("s_journal_flag_rwsem")
        );
        assert_eq!(
            LockClass::WritepagesRwsem.name(ver("v5.6-rc2")),
            Some("s_journal_flag_rwsem")
        );
        assert_eq!(
            LockClass::WritepagesRwsem.name(ver("v5.6")),
            Some("s_writepages_rwsem")
        );
        assert_eq!(LockClass::SbWriters.name(ver("v2.6.25")), None);
        assert_eq!(
            LockClass::IMmapRwsem.name(ver("v2.6.25")),
            Some("i_mmap_lock")
        );
        assert_eq!(LockClass::from_name("i_mutex"), Some(LockClass::InodeLock));
        assert_eq!(LockClass::from_name("page_lock"), Some(LockClass::PageLock));
        assert_eq!(LockClass::from_name("nonsense"), None);
        assert!(lock_name_matches("invalidate_lock", "i_mmap_sem"));
        assert!(lock_name_matches("i_rwsem", "i_mutex"));
        assert!(lock_name_matches("page_lock", "page lock"));
        assert!(!lock_name_matches("i_rwsem", "i_data_sem"));
    }

    #[test]
    fn declared_order_by_era() {
        assert!(ext4_lock_order(ver("v2.6.25")).is_empty());
        assert!(ext4_lock_order(ver("v4.4")).is_empty());
        let o = ext4_lock_order(ver("v4.13"));
        assert_eq!(
            o.chains[0],
            [
                "mmap_sem",
                "sb_pagefaults",
                "i_mmap_sem",
                "jbd2_handle",
                "page lock",
                "i_data_sem"
            ]
        );
        assert_eq!(o.chains[1], ["sb_writers", "i_rwsem", "mmap_sem"]);
        let o = ext4_lock_order(ver("v4.5"));
        assert_eq!(o.chains[1], ["sb_writers", "i_mutex", "mmap_sem"]);
        let o = ext4_lock_order(ver("v6.9"));
        assert_eq!(
            o.chains[3],
            [
                "sb_writers",
                "i_rwsem",
                "invalidate_lock",
                "i_mmap_rwsem",
                "page lock"
            ]
        );
        assert!(o.pairs().contains(&("mmap_lock", "sb_pagefaults")));
    }
}
