//! The registry of modelled kernel history: kernel versions, and the
//! changes (merged commits, proposals posted on a list, hypothetical orders)
//! whose code the simulated kernel paths can run with or without.
//!
//! A scenario runs one kernel version (`[kernel] version = "v4.12"`); every
//! modelled commit merged at or before that version is applied. A variant
//! may name another version and apply or revert changes on top
//! (`apply = ["p:ritesh-2019-12-03"]`). The kernel paths ask
//! `k.applied(Change::X)`: a typed id, so a path can never read a name that
//! is not in this table, and an unknown id in a scenario text is an error
//! with its line and column.
//!
//! Ids: the commit's 12-hex prefix for merged commits (`ea3d7209ca01`),
//! `p:` + a slug for proposals (`p:ritesh-2019-12-03`), `h:` + a slug for
//! hypothetical code a thread warns against (`h:wb-inside-handle`).
//!
//! This module is data only (no kernel code reads anything here but
//! [`ChangeSet::contains`]); crate/kernel cites each change where it
//! branches on it.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A kernel release (`v4.12`, `v2.6.25`, `v4.15-rc1`). Ordered the way
/// releases are: `v2.6.26-rc1 < v2.6.26 < v3.0 < v4.12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KernelVersion {
    pub major: u16,
    pub minor: u16,
    /// The third number of 2.6.x releases (0 from 3.0 on).
    pub sub: u16,
    /// Release candidate number; `None` for the release itself.
    pub rc: Option<u8>,
}

impl KernelVersion {
    /// `vMAJOR.MINOR` release.
    pub const fn new(major: u16, minor: u16) -> KernelVersion {
        KernelVersion {
            major,
            minor,
            sub: 0,
            rc: None,
        }
    }

    /// The newest kernel the registry models: a scenario that wants
    /// "today's code, every fix applied" names this.
    pub const LATEST: KernelVersion = KernelVersion::new(6, 16);

    /// Parses `v4.12`, `4.12`, `v2.6.25`, `v4.15-rc1`. The error says what
    /// was expected.
    pub fn parse(s: &str) -> Result<KernelVersion, String> {
        let bad = || {
            format!("`{s}` is not a kernel version (expected e.g. \"v4.12\", \"v2.6.25\", \"v4.15-rc1\")")
        };
        let t = s.strip_prefix('v').unwrap_or(s);
        let (nums, rc) = match t.split_once("-rc") {
            Some((n, r)) => {
                let rc: u8 = r.parse().map_err(|_| bad())?;
                if rc == 0 {
                    return Err(bad());
                }
                (n, Some(rc))
            }
            None => (t, None),
        };
        let parts: Vec<&str> = nums.split('.').collect();
        let num = |p: &str| -> Result<u16, String> {
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let v = match parts.as_slice() {
            [a, b] => KernelVersion {
                major: num(a)?,
                minor: num(b)?,
                sub: 0,
                rc,
            },
            [a, b, c] => KernelVersion {
                major: num(a)?,
                minor: num(b)?,
                sub: num(c)?,
                rc,
            },
            _ => return Err(bad()),
        };
        // Three-number versions are the 2.6.x series; 3.0 on has two.
        if (parts.len() == 3) != (v.major == 2) || !(2..=9).contains(&v.major) {
            return Err(bad());
        }
        Ok(v)
    }

    fn key(&self) -> (u16, u16, u16, u16) {
        (
            self.major,
            self.minor,
            self.sub,
            self.rc.map_or(u16::MAX, u16::from),
        )
    }
}

impl Ord for KernelVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for KernelVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.major == 2 {
            write!(f, "v{}.{}.{}", self.major, self.minor, self.sub)?;
        } else {
            write!(f, "v{}.{}", self.major, self.minor)?;
        }
        if let Some(rc) = self.rc {
            write!(f, "-rc{rc}")?;
        }
        Ok(())
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KernelVersion::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What kind of change an entry is (from its id's shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A commit merged into torvalds/linux (id: 12-hex prefix).
    Commit,
    /// A patch or sketch posted on a list, never merged (`p:`).
    Proposal,
    /// Code a thread describes or warns against, never posted (`h:`).
    Hypothetical,
}

/// One entry of the registry.
#[derive(Debug, Serialize)]
pub struct ChangeInfo {
    #[serde(skip)]
    pub change: Change,
    /// `ea3d7209ca01`, `p:ritesh-2019-12-03`, `h:wb-inside-handle`.
    pub id: &'static str,
    pub title: &'static str,
    pub author: &'static str,
    /// Authored or posted, `YYYY-MM-DD`.
    pub date: &'static str,
    /// The release that first contained it (`"v4.5-rc1"`); `None` when
    /// never merged.
    pub merged: Option<&'static str>,
    /// The commit id in full or abbreviated, or the thread message id, or
    /// the seed file the proposal is quoted in.
    pub source: &'static str,
    /// The kernel functions whose model it changes.
    pub functions: &'static [&'static str],
    /// Changes that must be applied with it (a proposal on top of another).
    pub requires: &'static [Change],
    /// What the change does, in the project's words.
    pub doc: &'static str,
}

impl ChangeInfo {
    /// Commit, proposal or hypothetical.
    pub fn kind(&self) -> ChangeKind {
        if self.id.starts_with("p:") {
            ChangeKind::Proposal
        } else if self.id.starts_with("h:") {
            ChangeKind::Hypothetical
        } else {
            ChangeKind::Commit
        }
    }

    /// The release it was merged in, parsed.
    pub fn merged_version(&self) -> Option<KernelVersion> {
        self.merged.and_then(|m| KernelVersion::parse(m).ok())
    }
}

macro_rules! registry {
    ($( $(#[$doc:meta])* $name:ident { $($field:ident : $val:expr),* $(,)? } )*) => {
        /// A modelled kernel change (see the module doc). The kernel paths
        /// branch on these with `k.applied(Change::X)`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum Change {
            $( $(#[$doc])* $name, )*
        }

        /// Every entry, in [`Change`] order.
        pub static REGISTRY: &[ChangeInfo] = &[
            $( ChangeInfo { change: Change::$name, $($field: $val),* }, )*
        ];
    };
}

registry! {
    /// 2.6.26: the migrate flag (merged form of the 2008 thread's fix).
    MigrateVsMmapWrite {
        id: "267e4db9ac28",
        title: "ext4: Fix race between migration and mmap write",
        author: "Aneesh Kumar K.V",
        date: "2008-03-13",
        merged: Some("v2.6.26-rc1"),
        source: "commit 267e4db9ac28 (tytso/ext4-patch-queue ext4-migration-locking-fix.patch)",
        functions: &["ext4_get_blocks_wrap", "ext4_ext_migrate", "ext4_ext_swap_inode_data", "ext4_do_update_inode"],
        requires: &[],
        doc: "ext4_ext_migrate sets EXT4_EXT_MIGRATE under i_data_sem; the allocating branch of \
              ext4_get_blocks_wrap clears it when the indirect mapper really allocated (buffer_new); \
              ext4_ext_swap_inode_data fails with EAGAIN when the flag is gone. The bit is masked \
              when the inode is written.",
    }
    /// The first posting of the 2008 fix: any positive get_blocks result clears the flag.
    AneeshMigrateFlagRetval {
        id: "p:aneesh-2008-03-13",
        title: "ext4: Fix race between migration and mmap write (v1)",
        author: "Aneesh Kumar K.V",
        date: "2008-03-13",
        merged: None,
        source: "shared/seeds/002_2881c825127a0c80.txt",
        functions: &["ext4_get_blocks_wrap", "ext4_ext_migrate", "ext4_ext_swap_inode_data"],
        requires: &[],
        doc: "As the merged fix, but the flag is cleared in the allocating (down_write) branch of \
              ext4_get_blocks_wrap whenever the call returned > 0, whether or not a block was new.",
    }
    /// v4.5: i_mmap_sem serializes page faults against punch hole, truncate, collapse.
    FaultsVsHolePunch {
        id: "ea3d7209ca01",
        title: "ext4: fix races between page faults and hole punching",
        author: "Jan Kara",
        date: "2015-12-07",
        merged: Some("v4.5-rc1"),
        source: "commit ea3d7209ca01",
        functions: &["ext4_filemap_fault", "ext4_page_mkwrite", "ext4_punch_hole", "ext4_setattr", "ext4_collapse_range", "ext4_zero_range"],
        requires: &[],
        doc: "Adds EXT4_I(inode)->i_mmap_sem: page faults (filemap_fault, page_mkwrite) take it for \
              read; punch hole, truncate, collapse and zero range take it for write around dropping \
              the page cache and freeing blocks, so a fault can no longer instantiate a page over \
              blocks being freed.",
    }
    /// v4.7: data journalling turned on writes delalloc/unwritten pages back first.
    JournalFlagWriteback {
        id: "4c54659269ec",
        title: "ext4: handle unwritten or delalloc buffers before enabling data journaling",
        author: "Daeho Jeong",
        date: "2016-04-25",
        merged: Some("v4.7-rc1"),
        source: "commit 4c54659269ec",
        functions: &["ext4_change_inode_journal_flag"],
        // The i_mmap_sem it takes is ea3d7209ca01's; without it a page
        // fault is not kept out while the file is written back.
        requires: &[Change::FaultsVsHolePunch],
        doc: "When turning data journalling on (val=1), take i_mmap_sem for write and \
              filemap_write_and_wait the whole file before flipping the flag.",
    }
    /// v4.7: s_journal_flag_rwsem between the journal-flag change and writepages.
    JournalFlagRwsem {
        id: "c8585c6fcaf2",
        title: "ext4: fix races between changing inode journal mode and ext4_writepages",
        author: "Daeho Jeong",
        date: "2016-04-25",
        merged: Some("v4.7-rc1"),
        source: "commit c8585c6fcaf2",
        functions: &["ext4_change_inode_journal_flag", "ext4_writepages"],
        requires: &[],
        doc: "A per-filesystem percpu rwsem, s_journal_flag_rwsem: ext4_writepages takes it for \
              read, ext4_change_inode_journal_flag for write (after its writeback) before \
              jbd2_journal_lock_updates.",
    }
    /// v4.12: page_mkwrite converts inline data first.
    MkwriteConvertsInline {
        id: "7b4cc9787fe3",
        title: "ext4: evict inline data when writing to memory map",
        author: "Eric Biggers",
        date: "2017-04-30",
        merged: Some("v4.12-rc1"),
        source: "commit 7b4cc9787fe3",
        functions: &["ext4_page_mkwrite"],
        requires: &[],
        doc: "ext4_page_mkwrite calls ext4_convert_inline_data() before anything else, so a dirty \
              page of a shared mapping never belongs to an inode with inline data (writeback \
              BUG_ONs on one).",
    }
    /// v4.15: no journal-flag change under -o dax.
    JournalFlagEbusyDax {
        id: "e9072d859df3",
        title: "ext4: prevent data corruption with journaling + DAX",
        author: "Ross Zwisler",
        date: "2017-10-12",
        merged: Some("v4.15-rc1"),
        source: "commit e9072d859df3",
        functions: &["ext4_change_inode_journal_flag"],
        requires: &[],
        doc: "Refuse to change the per-inode journal-data flag with EBUSY when the filesystem is \
              mounted -o dax, mapped or not, and stop calling ext4_set_inode_flags there, so S_DAX \
              never changes under a live inode.",
    }
    /// v4.18: a delalloc write that outgrows the inline area stops its
    /// one-credit handle before converting.
    InlineAppendStopsHandle {
        id: "8bc1379b82b8",
        title: "ext4: avoid running out of journal credits when appending to an inline file",
        author: "Theodore Ts'o",
        date: "2018-06-16",
        merged: Some("v4.18"),
        source: "commit 8bc1379b82b8 (CVE-2018-10883)",
        functions: &["ext4_da_write_inline_data_begin"],
        requires: &[],
        doc: "ext4_da_write_inline_data_begin stops the one-credit handle it started before \
              ext4_da_convert_inline_data_to_extent, so the conversion (page 0, xattr_sem, the \
              delalloc reservation) runs with no handle held instead of inside it.",
    }
    /// v5.5: ext4 direct I/O through iomap.
    IomapDio {
        id: "b1b4705d54ab",
        title: "ext4: introduce direct I/O read using iomap infrastructure",
        author: "Matthew Bobrowski",
        date: "2019-11-05",
        merged: Some("v5.5-rc1"),
        source: "commit b1b4705d54ab (with 378f32bab371 for writes)",
        functions: &["ext4_dio_read_iter", "ext4_dio_write_iter", "iomap_dio_rw", "ext4_iomap_begin"],
        requires: &[],
        doc: "O_DIRECT reads and writes go through iomap_dio_rw: flush and invalidate the page cache \
              range, inode_dio_begin, map with ext4_iomap_begin, submit bios, convert unwritten \
              extents in the end_io path.",
    }
    /// v5.6: dioread_nolock by default.
    DioreadNolockDefault {
        id: "244adf6426ee",
        title: "ext4: make dioread_nolock the default",
        author: "Theodore Ts'o",
        date: "2020-02-13",
        merged: Some("v5.6-rc1"),
        source: "commit 244adf6426ee",
        functions: &["ext4_fill_super", "ext4_should_dioread_nolock", "mpage_map_one_extent"],
        requires: &[],
        doc: "Mount with dioread_nolock unless told otherwise: buffered writeback allocates \
              unwritten extents and converts them when the I/O completes.",
    }
    /// v5.7: no dioread_nolock under nodelalloc.
    DioreadNolockNeedsDelalloc {
        id: "c8980e1980cc",
        title: "ext4: disable dioread_nolock whenever delayed allocation is disabled",
        author: "Eric Whitney",
        date: "2020-02-11",
        merged: Some("v5.7-rc1"),
        source: "commit c8980e1980cc",
        functions: &["ext4_should_dioread_nolock"],
        requires: &[],
        doc: "ext4_should_dioread_nolock answers false when the filesystem is mounted nodelalloc, \
              so page_mkwrite under nodelalloc allocates written blocks again.",
    }
    /// v5.7: s_journal_flag_rwsem becomes s_writepages_rwsem.
    WritepagesRwsemRename {
        id: "bbd55937de8f",
        title: "ext4: rename s_journal_flag_rwsem to s_writepages_rwsem",
        author: "Eric Biggers",
        date: "2020-02-19",
        merged: Some("v5.6-rc3"),
        source: "commit bbd55937de8f",
        functions: &["ext4_writepages", "ext4_change_inode_journal_flag"],
        requires: &[],
        doc: "The rwsem is renamed: it now protects writepages against any change of how an inode \
              maps or journals its data.",
    }
    /// v5.7: migrate takes s_writepages_rwsem.
    WritepagesVsExtentsFlag {
        id: "cb85f4d23f79",
        title: "ext4: fix race between writepages and enabling EXT4_EXTENTS_FL",
        author: "Eric Biggers",
        date: "2020-02-19",
        merged: Some("v5.6-rc3"),
        source: "commit cb85f4d23f79",
        functions: &["ext4_ext_migrate", "ext4_writepages"],
        requires: &[],
        doc: "ext4_ext_migrate holds s_writepages_rwsem for write, so writeback cannot run while \
              the inode switches from a block map to extents.",
    }
    /// v5.15: i_mmap_sem becomes mapping->invalidate_lock.
    InvalidateLock {
        id: "d4f5258eae7b",
        title: "ext4: Convert to use mapping->invalidate_lock",
        author: "Jan Kara",
        date: "2021-04-12",
        merged: Some("v5.15-rc1"),
        source: "commit d4f5258eae7b",
        functions: &["ext4_filemap_fault", "ext4_page_mkwrite", "ext4_punch_hole", "ext4_setattr", "filemap_fault"],
        requires: &[],
        doc: "EXT4_I(inode)->i_mmap_sem is replaced by the generic mapping->invalidate_lock; \
              filemap_fault takes it (shared) only around reading a page in, ext4_page_mkwrite \
              takes it shared, truncate/punch take it exclusive.",
    }
    /// Ted's 2017 rework of the inline conversion, as first posted.
    TedConvertThroughPagecache {
        id: "p:ted-2017-06-05",
        title: "ext4: convert inline data through the page cache",
        author: "Theodore Ts'o",
        date: "2017-06-05",
        merged: None,
        source: "shared/seeds/000_1fdf521128dba5a9.txt",
        functions: &["ext4_convert_inline_data", "reg_convert_inline_data_nolock"],
        requires: &[],
        doc: "Regular files convert by filling and dirtying page 0 (ordered data), not by journalling \
              the new block as metadata. As posted: page 0 is locked before the transaction starts, \
              and the helper WARNs when the caller does not hold i_rwsem.",
    }
    /// Eric's review of Ted's patch: the handle first, then the page.
    TedConvertHandleFirst {
        id: "h:ted-2017-handle-first",
        title: "Ted's conversion with the transaction started before the page lock",
        author: "Eric Biggers (review)",
        date: "2017-06-05",
        merged: None,
        source: "shared/seeds/000_1fdf521128dba5a9.txt",
        functions: &["ext4_convert_inline_data"],
        requires: &[Change::TedConvertThroughPagecache],
        doc: "The order ext4 documents: ext4_journal_start, then grab and lock page 0.",
    }
    /// Baokun Li's sketch: inode_lock inside page_mkwrite.
    BaokunInodeLockInMkwrite {
        id: "p:baokun-2023-05-30",
        title: "ext4: take inode_lock in ext4_page_mkwrite to convert inline data",
        author: "Baokun Li",
        date: "2023-05-30",
        merged: None,
        source: "shared/seeds/001_171e1e0098e092f6.txt",
        functions: &["ext4_page_mkwrite"],
        requires: &[Change::MkwriteConvertsInline],
        doc: "page_mkwrite takes inode_lock around the inline conversion while the fault holds \
              mmap_lock: the reverse of write(2)'s i_rwsem -> mmap_lock.",
    }
    /// Convert in ->mmap instead of page_mkwrite.
    ConvertInMmap {
        id: "p:baokun-2023-05-29-mmap",
        title: "ext4: convert inline data in ext4_file_mmap",
        author: "Baokun Li",
        date: "2023-05-29",
        merged: None,
        source: "shared/seeds/001_171e1e0098e092f6.txt (posted again by Cascardo, 2025-05-26)",
        functions: &["ext4_file_mmap", "ext4_page_mkwrite"],
        requires: &[],
        doc: "Convert a shared writable mapping's inline data when it is mapped, under inode_lock, \
              while mmap() holds mmap_lock for write.",
    }
    /// Baokun Li's RFC: drop the fault lock, convert, VM_FAULT_RETRY.
    BaokunFaultRetry {
        id: "p:baokun-2024-04-15",
        title: "ext4: convert inline data in page_mkwrite with VM_FAULT_RETRY",
        author: "Baokun Li",
        date: "2024-04-15",
        merged: None,
        source: "shared/seeds/001_171e1e0098e092f6.txt",
        functions: &["ext4_page_mkwrite"],
        requires: &[Change::MkwriteConvertsInline],
        doc: "If the inode has inline data: without FAULT_FLAG_ALLOW_RETRY answer SIGBUS; else \
              release the fault lock, convert under inode_lock and return VM_FAULT_RETRY.",
    }
    /// Ross Zwisler's first fix for the journal/DAX flag switch.
    RossFlagSwitchV1 {
        id: "p:ross-2017-09-05",
        title: "ext4: safely transition S_DAX on journaling changes",
        author: "Ross Zwisler",
        date: "2017-09-05",
        merged: None,
        source: "shared/seeds/003_c1abf705d7d2d6d2.txt",
        functions: &["ext4_change_inode_journal_flag"],
        requires: &[],
        doc: "Before the flag change, outside any handle: lock out faults (i_mmap_sem for write), \
              write back and invalidate the page cache, for both directions of the flag.",
    }
    /// Jan Kara's suggestion: EBUSY when the file is mapped.
    JanEbusyIfMapped {
        id: "p:jan-2017-09-ebusy-if-mapped",
        title: "refuse the journal-flag change of a mapped file",
        author: "Jan Kara",
        date: "2017-09-06",
        merged: None,
        source: "shared/seeds/003_c1abf705d7d2d6d2.txt",
        functions: &["ext4_change_inode_journal_flag"],
        requires: &[Change::RossFlagSwitchV1],
        doc: "On top of Ross's patch (Jan's reply to it): return EBUSY from the flag change when \
              the flip would change S_DAX and a VMA maps the file: a VMA keeps the vm_ops chosen \
              at mmap time, so S_DAX must not change under it.",
    }
    /// The order Ross's mail says is forbidden: writeback inside the handle.
    WritebackInsideHandle {
        id: "h:wb-inside-handle",
        title: "flag change that writes back while holding a journal handle",
        author: "(hypothetical, from the thread)",
        date: "2017-09-05",
        merged: None,
        source: "shared/seeds/003_c1abf705d7d2d6d2.txt",
        functions: &["ext4_ioctl_setflags", "ext4_change_inode_journal_flag"],
        requires: &[Change::RossFlagSwitchV1],
        doc: "Ross's fault lock-out, writeback and invalidation moved inside the handle \
              ext4_ioctl_setflags holds: i_mmap_sem (w) and the writeback's \
              s_journal_flag_rwsem (r) are taken with a handle open, though both rank above \
              jbd2_handle.",
    }
    /// Jan Kara's first proposal for the DIO vs page_mkwrite exposure.
    JanDioBeginEarly {
        id: "p:jan-2019-11-29",
        title: "inode_dio_begin before invalidating, unwritten extents in writeback during DIO",
        author: "Jan Kara",
        date: "2019-11-29",
        merged: None,
        source: "shared/seeds/004_aacbbf09d21f9803.txt",
        functions: &["iomap_dio_rw", "mpage_map_one_extent"],
        requires: &[],
        doc: "iomap_dio_rw raises i_dio_count after filemap_write_and_wait_range and before \
              invalidating the page cache, followed by smp_mb__after_atomic; writeback \
              (mpage_map_one_extent) allocates unwritten extents while i_dio_count > 0 (the diff \
              as Ritesh's 2019-12-03 mail writes it, which hands the io_end the writeback \
              handle's reserved handle, reserved only under dioread_nolock).",
    }
    /// Jan's proposal without its barrier (the thread's warning).
    NoBarrierAfterDioBegin {
        id: "h:no-mb-after-dio-begin",
        title: "inode_dio_begin early without smp_mb__after_atomic",
        author: "(hypothetical, from the thread)",
        date: "2019-11-29",
        merged: None,
        source: "shared/seeds/004_aacbbf09d21f9803.txt",
        functions: &["iomap_dio_rw"],
        requires: &[Change::JanDioBeginEarly],
        doc: "The early i_dio_count increment with no barrier after it: atomic_inc is unordered on \
              weakly ordered CPUs, so the invalidation's loads may pass it.",
    }
    /// Ritesh's addition: page_mkwrite checks i_dio_count too.
    RiteshDioCheckGetBlock {
        id: "p:ritesh-2019-12-03",
        title: "page_mkwrite allocates unwritten blocks while DIO is in flight",
        author: "Ritesh Harjani",
        date: "2019-12-03",
        merged: None,
        source: "shared/seeds/004_aacbbf09d21f9803.txt",
        functions: &["ext4_page_mkwrite"],
        requires: &[Change::JanDioBeginEarly],
        doc: "ext4_page_mkwrite hands block_page_mkwrite ext4_get_block_unwritten while \
              i_dio_count > 0, ext4_get_block otherwise.",
    }
    /// Jan's reply: page_mkwrite always allocates unwritten extents.
    JanMkwriteUnwritten {
        id: "p:jan-2019-12-03",
        title: "page_mkwrite always allocates unwritten extents",
        author: "Jan Kara",
        date: "2019-12-03",
        merged: None,
        source: "shared/seeds/004_aacbbf09d21f9803.txt",
        functions: &["ext4_page_mkwrite"],
        requires: &[Change::JanDioBeginEarly],
        doc: "ext4_page_mkwrite uses ext4_get_block_unwritten for extent files whatever \
              i_dio_count says, so a block is written before it is marked written.",
    }
    /// v5.10: page_mkwrite journals a data=journal page's buffers at fault time.
    DataJournalMkwrite {
        id: "64a9f1449950",
        title: "ext4: data=journal: fixes for ext4_page_mkwrite()",
        author: "Mauricio Faria de Oliveira",
        date: "2020-10-05",
        merged: Some("v5.10-rc1"),
        source: "commit 64a9f1449950",
        functions: &["ext4_page_mkwrite"],
        requires: &[],
        doc: "For an inode that journals its data, ext4_page_mkwrite no longer returns early \
              when the page's buffers are mapped; it maps them (__block_write_begin), takes \
              write access and journals them with write_end_fn, so the page is in the running \
              transaction from the fault on and a commit (an fsync's included) logs it as it \
              is then, store and all, whoever writes the page back.",
    }
    /// v5.19: fallocate converts inline data under inode_lock.
    FallocateInlineUnderInodeLock {
        id: "f87c7a4b084a",
        title: "ext4: fix race condition between ext4_write and ext4_convert_inline_data",
        author: "Baokun Li",
        date: "2022-04-28",
        merged: Some("v5.19-rc1"),
        source: "commit f87c7a4b084a",
        functions: &["ext4_fallocate", "ext4_punch_hole"],
        requires: &[],
        doc: "ext4_fallocate converted an inline inode's data (ext4_convert_inline_data) before \
              taking inode_lock, so the conversion could run beside a write(2) that had seen \
              the inode inline. The commit takes inode_lock around the conversion and does it \
              before every mode, punch hole included (ext4_punch_hole's own conversion goes).",
    }
}

impl Change {
    /// This change's registry entry.
    pub fn info(self) -> &'static ChangeInfo {
        &REGISTRY[self as usize]
    }

    /// The change with id `id` (exact match).
    pub fn from_id(id: &str) -> Option<Change> {
        REGISTRY.iter().find(|c| c.id == id).map(|c| c.change)
    }

    /// `ea3d7209ca01`.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// Whether a kernel path reads this change (`k.applied`). The others
    /// are recorded for their history, and a version has them or not, but
    /// applying or reverting one would change nothing, so a variant or a
    /// custom kernel may not name them (tests/history_cli.rs checks this
    /// list against crate/kernel):
    /// - b1b4705d54ab: the DIO read path is the iomap one for every kernel
    ///   that reads with O_DIRECT here (v4.12's `ext4_direct_IO` falls back
    ///   to buffered I/O for inline data exactly as v5.5's
    ///   `ext4_dio_read_iter` does, the one pre-v5.5 use, S1);
    /// - bbd55937de8f: lock names follow the run's version
    ///   (`LockClass::name`), not the rename's presence;
    /// - cb85f4d23f79: the v5.6 `ext4_ext_migrate` is not modelled (S3 runs
    ///   the 2008 migrate);
    /// - p:baokun-2023-05-29-mmap: `ext4_file_mmap` converting inline data
    ///   is not modelled.
    pub fn modelled(self) -> bool {
        !matches!(
            self,
            Change::IomapDio
                | Change::WritepagesRwsemRename
                | Change::WritepagesVsExtentsFlag
                | Change::ConvertInMmap
        )
    }
}

impl Serialize for Change {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// The set of changes a run applies (a bitset: `contains` is on hot paths).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChangeSet(u128);

impl ChangeSet {
    pub fn contains(&self, c: Change) -> bool {
        self.0 & (1u128 << c as u8) != 0
    }
    pub fn insert(&mut self, c: Change) {
        self.0 |= 1u128 << c as u8;
    }
    pub fn remove(&mut self, c: Change) {
        self.0 &= !(1u128 << c as u8);
    }
    /// The changes in registry order.
    pub fn iter(&self) -> impl Iterator<Item = Change> + '_ {
        REGISTRY
            .iter()
            .map(|i| i.change)
            .filter(move |&c| self.contains(c))
    }

    /// Every commit merged at or before `v`.
    pub fn merged_by(v: KernelVersion) -> ChangeSet {
        let mut s = ChangeSet::default();
        for i in REGISTRY {
            if i.merged_version().is_some_and(|m| m <= v) {
                s.insert(i.change);
            }
        }
        s
    }
}

impl Serialize for ChangeSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Why a version + apply + revert choice is not a valid kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// An id in `apply`/`revert` that the registry does not have.
    UnknownChange { id: String },
    /// `apply` names a commit that version already has.
    AlreadyMerged {
        id: String,
        merged: String,
        version: KernelVersion,
    },
    /// `revert` names a change the version does not have.
    NotApplied { id: String, version: KernelVersion },
    /// `apply`/`revert` names a change no kernel path models.
    NotModelled { id: String },
    /// An applied change needs another that is not applied.
    Requires { id: String, needs: String },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::UnknownChange { id } => write!(
                f,
                "unknown change `{id}` (see `ext4lab history` for the modelled commits and proposals)"
            ),
            HistoryError::AlreadyMerged { id, merged, version } => write!(
                f,
                "`{id}` is already in {version} (merged in {merged}); nothing to apply"
            ),
            HistoryError::NotApplied { id, version } => {
                write!(f, "`{id}` is not part of {version}; nothing to revert")
            }
            HistoryError::NotModelled { id } => write!(
                f,
                "`{id}` is in the registry for its history, but no kernel path models it: \
                 applying or reverting it would change nothing"
            ),
            HistoryError::Requires { id, needs } => {
                write!(f, "`{id}` applies on top of `{needs}`, which is not applied")
            }
        }
    }
}

/// The release that brought delayed allocation to ext4 (2.6.27-rc1:
/// `ext4_da_aops`, `ext4_da_writepages`, the `delalloc` mount option).
/// Its `ext4_da_writepages` also started the journal handle before
/// locking pages, where ext4 had written pages one at a time with the page
/// locked first.
pub const DELALLOC_MERGED: KernelVersion = KernelVersion {
    major: 2,
    minor: 6,
    sub: 27,
    rc: Some(1),
};

/// The changes a kernel at `version`, with `apply` added and `revert` taken
/// out, runs with. Errors name the first offending id.
pub fn resolve_changes(
    version: KernelVersion,
    apply: &[String],
    revert: &[String],
) -> Result<ChangeSet, HistoryError> {
    let mut set = ChangeSet::merged_by(version);
    let lookup = |id: &String| {
        let c =
            Change::from_id(id).ok_or_else(|| HistoryError::UnknownChange { id: id.clone() })?;
        if c.modelled() {
            Ok(c)
        } else {
            Err(HistoryError::NotModelled { id: id.clone() })
        }
    };
    for id in apply {
        let c = lookup(id)?;
        if set.contains(c) {
            return Err(HistoryError::AlreadyMerged {
                id: id.clone(),
                merged: c.info().merged.unwrap_or("").to_string(),
                version,
            });
        }
        set.insert(c);
    }
    for id in revert {
        let c = lookup(id)?;
        if !set.contains(c) {
            return Err(HistoryError::NotApplied {
                id: id.clone(),
                version,
            });
        }
        set.remove(c);
    }
    for c in set.iter() {
        for &need in c.info().requires {
            if !set.contains(need) {
                return Err(HistoryError::Requires {
                    id: c.id().to_string(),
                    needs: need.id().to_string(),
                });
            }
        }
    }
    Ok(set)
}

/// How one built-in variant runs a change: merged into its kernel version
/// (`version`), or named in its `apply`/`revert`.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeUse {
    pub scenario: &'static str,
    pub variant: String,
    pub how: &'static str,
}

/// One registry entry as `ext4lab history --json` and the page's custom
/// kernel panel show it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub id: &'static str,
    pub kind: ChangeKind,
    pub title: &'static str,
    pub author: &'static str,
    pub date: &'static str,
    /// The release it was merged in, or `"unmerged"`.
    pub merged: &'static str,
    pub source: &'static str,
    pub functions: &'static [&'static str],
    /// Ids of the changes it needs applied with it.
    pub requires: Vec<&'static str>,
    pub doc: &'static str,
    /// Whether a kernel path reads it ([`Change::modelled`]).
    pub modelled: bool,
    pub used_by: Vec<ChangeUse>,
}

/// The registry with the built-in variants that run each entry.
pub fn history_rows() -> Vec<HistoryRow> {
    let resolved: Vec<_> = super::builtins()
        .iter()
        .filter_map(|b| super::parse_scenario(b.text).ok().map(|sc| (b.id, sc)))
        .collect();
    REGISTRY
        .iter()
        .map(|info| {
            let mut used_by = Vec::new();
            for (id, sc) in &resolved {
                for v in &sc.variants {
                    let how = if v.apply.iter().any(|a| a == info.id) {
                        "apply"
                    } else if v.revert.iter().any(|r| r == info.id) {
                        "revert"
                    } else {
                        match sc.resolve(&v.name, &Default::default()) {
                            Ok(rc) if sc.kernel.is_some() && rc.applied(info.change) => "version",
                            _ => continue,
                        }
                    };
                    used_by.push(ChangeUse {
                        scenario: id,
                        variant: v.name.clone(),
                        how,
                    });
                }
            }
            HistoryRow {
                id: info.id,
                kind: info.kind(),
                title: info.title,
                author: info.author,
                date: info.date,
                merged: info.merged.unwrap_or("unmerged"),
                source: info.source,
                functions: info.functions,
                requires: info.requires.iter().map(|r| r.id()).collect(),
                doc: info.doc,
                modelled: info.change.modelled(),
                used_by,
            }
        })
        .collect()
}

/// Kernel versions worth offering a user picking one: every release a
/// modelled commit was merged in, the release before each (the kernel
/// without it), the versions the built-ins run, and [`KernelVersion::LATEST`],
/// oldest first.
pub fn version_choices() -> Vec<KernelVersion> {
    let mut out = std::collections::BTreeSet::new();
    for info in REGISTRY {
        if let Some(v) = info.merged_version() {
            out.insert(v);
            // The release before an -rc1 is the previous minor release.
            if v.rc == Some(1) && v.major > 2 {
                let prev = if v.minor == 0 {
                    None
                } else {
                    Some(KernelVersion::new(v.major, v.minor - 1))
                };
                out.extend(prev);
            }
        }
    }
    for b in super::builtins() {
        if let Ok(sc) = super::parse_scenario(b.text) {
            let own = sc.variants.iter().filter_map(|v| v.kernel.as_deref());
            for t in sc.kernel.iter().map(|k| k.version.as_str()).chain(own) {
                out.extend(KernelVersion::parse(t).ok());
            }
        }
    }
    out.insert(KernelVersion::LATEST);
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_in_enum_order_with_unique_well_formed_ids() {
        let mut ids = std::collections::BTreeSet::new();
        for (i, c) in REGISTRY.iter().enumerate() {
            assert_eq!(c.change as usize, i, "{}", c.id);
            assert!(ids.insert(c.id), "duplicate id {}", c.id);
            match c.kind() {
                ChangeKind::Commit => {
                    assert_eq!(c.id.len(), 12, "{}", c.id);
                    assert!(c.id.bytes().all(|b| b.is_ascii_hexdigit()), "{}", c.id);
                    assert!(c.merged_version().is_some(), "{} needs a version", c.id);
                }
                _ => assert!(c.merged.is_none(), "{} is not merged", c.id),
            }
            assert!(REGISTRY.len() <= 128);
        }
    }

    #[test]
    fn versions_order_and_round_trip() {
        let v = |s| KernelVersion::parse(s).unwrap();
        assert!(v("v2.6.25") < v("v2.6.26-rc1"));
        assert!(v("v2.6.26-rc1") < v("v2.6.26"));
        assert!(v("v2.6.39") < v("v3.0"));
        assert!(v("v4.9") < v("v4.12"));
        assert!(v("v4.15-rc1") < v("v4.15"));
        for s in ["v2.6.25", "v4.12", "v4.15-rc1", "v6.9"] {
            assert_eq!(v(s).to_string(), s);
        }
        assert_eq!(v("5.5"), v("v5.5"));
        for bad in [
            "",
            "v",
            "4",
            "v4.12.1",
            "v2.6",
            "vx.y",
            "v4.12-rc0",
            "v4.12-rcx",
            "v10.1",
        ] {
            assert!(KernelVersion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolution_applies_merged_commits_and_checks_ids() {
        let v = |s| KernelVersion::parse(s).unwrap();
        let s = resolve_changes(v("v4.4"), &[], &[]).unwrap();
        assert!(!s.contains(Change::FaultsVsHolePunch));
        let s = resolve_changes(v("v4.5"), &[], &[]).unwrap();
        assert!(s.contains(Change::FaultsVsHolePunch));
        let s = resolve_changes(v("v4.4"), &["ea3d7209ca01".into()], &[]).unwrap();
        assert!(s.contains(Change::FaultsVsHolePunch));
        assert!(matches!(
            resolve_changes(v("v4.5"), &["ea3d7209ca01".into()], &[]),
            Err(HistoryError::AlreadyMerged { .. })
        ));
        assert!(matches!(
            resolve_changes(v("v4.4"), &[], &["ea3d7209ca01".into()]),
            Err(HistoryError::NotApplied { .. })
        ));
        assert!(matches!(
            resolve_changes(v("v4.4"), &["nope".into()], &[]),
            Err(HistoryError::UnknownChange { .. })
        ));
        assert!(matches!(
            resolve_changes(v("v5.5"), &["p:ritesh-2019-12-03".into()], &[]),
            Err(HistoryError::Requires { .. })
        ));
        let s = resolve_changes(
            v("v5.5"),
            &["p:jan-2019-11-29".into(), "p:ritesh-2019-12-03".into()],
            &[],
        )
        .unwrap();
        assert!(s.contains(Change::RiteshDioCheckGetBlock));
        let ids: Vec<&str> = s.iter().map(Change::id).collect();
        assert!(ids.contains(&"b1b4705d54ab") && ids.contains(&"p:jan-2019-11-29"));
        assert!(!ids.contains(&"244adf6426ee"), "v5.6 is not in v5.5");
        let json = serde_json::to_string(&s).unwrap();
        assert!(
            json.ends_with(r#""p:jan-2019-11-29","p:ritesh-2019-12-03"]"#),
            "{json}"
        );
    }

    #[test]
    fn version_choices_bracket_every_merge_and_cover_the_built_ins() {
        let vs = version_choices();
        assert!(vs.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        let has = |t: &str| vs.contains(&KernelVersion::parse(t).unwrap());
        // ea3d7209ca01 (v4.5-rc1): the kernel with it and the one without.
        assert!(has("v4.5-rc1") && has("v4.4"));
        // the built-ins' own versions, and today's code
        assert!(has("v4.12") && has("v5.5") && has("v6.9"));
        assert_eq!(vs.last(), Some(&KernelVersion::LATEST));
        let rows = history_rows();
        assert_eq!(rows.len(), REGISTRY.len());
        let r = rows.iter().find(|r| r.id == "4c54659269ec").unwrap();
        assert_eq!(r.requires, ["ea3d7209ca01"]);
        assert!(
            r.used_by.iter().any(|u| u.scenario == "s4"),
            "{:?}",
            r.used_by
        );
    }
}
