//! The step vocabulary: what a task does, one syscall or kernel event per step.
//!
//! In the text a step is an inline table tagged by `op`:
//! `{ op = "store", mapping = "mf", offset = 0, len = 16, fill = "B" }`.
//! Each step names the kernel path the simulator runs for it (see
//! docs/scenario-format.md for the table).

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_true(b: &bool) -> bool {
    *b
}
fn yes() -> bool {
    true
}

/// A user buffer that lies inside a mapping: copying from/to it faults on the
/// mapped file (taking `mmap_lock`) while the syscall holds its own locks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BufRef {
    pub mapping: String,
    #[serde(default)]
    pub offset: u64,
}

/// One step of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// write(2)/pwrite(2): `ext4_file_write_iter` -> `ext4_buffered_write_iter`
    /// or, with `direct`, `ext4_dio_write_iter` -> `iomap_dio_rw`.
    /// No `offset` = append at `i_size`. Bytes: `fill`/`pattern`, or `from` a
    /// buffer inside a mapping (the copy faults while `i_rwsem` is held).
    #[serde(alias = "pwrite")]
    Write {
        file: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset: Option<u64>,
        len: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fill: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<BufRef>,
        #[serde(default, skip_serializing_if = "is_false")]
        direct: bool,
    },
    /// read(2)/pread(2): buffered (`filemap_read`) or, with `direct`,
    /// `ext4_dio_read_iter` -> `iomap_dio_rw`. With `into` a buffer inside a
    /// mapping, a direct read pins it with get_user_pages(FOLL_WRITE).
    #[serde(alias = "pread")]
    Read {
        file: String,
        #[serde(default)]
        offset: u64,
        len: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        into: Option<BufRef>,
        #[serde(default, skip_serializing_if = "is_false")]
        direct: bool,
    },
    /// mmap(2) (takes `mmap_lock` for write): creates mapping `name`.
    Mmap {
        file: String,
        name: String,
        #[serde(default)]
        offset: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        len: Option<u64>,
        #[serde(default = "yes")]
        shared: bool,
        #[serde(default = "yes", skip_serializing_if = "is_true")]
        writable: bool,
    },
    /// munmap(2) (takes `mmap_lock` for write).
    Munmap { mapping: String },
    /// A CPU store into a mapping: write fault -> `ext4_page_mkwrite` when the
    /// page is not yet writable.
    Store {
        mapping: String,
        #[serde(default)]
        offset: u64,
        len: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fill: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
    /// A CPU load from a mapping: read fault -> `ext4_filemap_fault`.
    Load {
        mapping: String,
        #[serde(default)]
        offset: u64,
        len: u64,
    },
    /// get_user_pages on a mapping: a fault taken without
    /// FAULT_FLAG_ALLOW_RETRY (unless `allow_retry`), so the fault handler
    /// may not return VM_FAULT_RETRY. `write` = FOLL_WRITE (reaches page_mkwrite).
    Gup {
        mapping: String,
        #[serde(default)]
        offset: u64,
        len: u64,
        #[serde(default = "yes")]
        write: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        allow_retry: bool,
    },
    /// fsync(2)/fdatasync(2): `ext4_sync_file`.
    Fsync {
        file: String,
        #[serde(default, skip_serializing_if = "is_false")]
        datasync: bool,
    },
    /// sync(2): write back everything, then commit the journal.
    Sync,
    /// truncate(2): `ext4_setattr` -> `ext4_truncate`.
    Truncate { file: String, size: u64 },
    /// fallocate(2) mode 0 (or FALLOC_FL_KEEP_SIZE): unwritten extents.
    Fallocate {
        file: String,
        offset: u64,
        len: u64,
        #[serde(default, skip_serializing_if = "is_false")]
        keep_size: bool,
    },
    /// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): `ext4_punch_hole`.
    PunchHole { file: String, offset: u64, len: u64 },
    /// ioctl(EXT4_IOC_MIGRATE): `ext4_ext_migrate` (block map -> extents).
    Migrate { file: String },
    /// ioctl(FS_IOC_SETFLAGS) as chattr spells it: `"+j"`/`"-j"` journal data
    /// (`ext4_change_inode_journal_flag`), `"+x"`/`"-x"` DAX.
    Setflags { file: String, flags: String },
    /// Writeback: `ext4_writepages` on one file (or every dirty inode), as the
    /// flusher (WB_SYNC_NONE) or a data-integrity pass (`sync_all`: WB_SYNC_ALL).
    Writeback {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        sync_all: bool,
    },
    /// Ask jbd2 to commit the running transaction and wait for it
    /// (`jbd2_journal_force_commit`); the commit itself runs in kjournald2.
    Commit,
    /// echo 3 > /proc/sys/vm/drop_caches: clean pages and the inode cache go.
    DropCaches,
    /// Crash point: everything volatile is dropped (in-flight writes may tear
    /// when `torn`), then the image is mounted again, which runs journal
    /// recovery. The run ends here; the oracles check the recovered image.
    Crash {
        #[serde(default, skip_serializing_if = "is_false")]
        torn: bool,
    },
}

impl Step {
    /// The `op` name as written in the text.
    pub fn op(&self) -> &'static str {
        match self {
            Step::Write { .. } => "write",
            Step::Read { .. } => "read",
            Step::Mmap { .. } => "mmap",
            Step::Munmap { .. } => "munmap",
            Step::Store { .. } => "store",
            Step::Load { .. } => "load",
            Step::Gup { .. } => "gup",
            Step::Fsync { .. } => "fsync",
            Step::Sync => "sync",
            Step::Truncate { .. } => "truncate",
            Step::Fallocate { .. } => "fallocate",
            Step::PunchHole { .. } => "punch_hole",
            Step::Migrate { .. } => "migrate",
            Step::Setflags { .. } => "setflags",
            Step::Writeback { .. } => "writeback",
            Step::Commit => "commit",
            Step::DropCaches => "drop_caches",
            Step::Crash { .. } => "crash",
        }
    }

    /// The file this step names directly, if any (not through a mapping).
    pub fn file(&self) -> Option<&str> {
        match self {
            Step::Write { file, .. }
            | Step::Read { file, .. }
            | Step::Mmap { file, .. }
            | Step::Fsync { file, .. }
            | Step::Truncate { file, .. }
            | Step::Fallocate { file, .. }
            | Step::PunchHole { file, .. }
            | Step::Migrate { file }
            | Step::Setflags { file, .. } => Some(file),
            Step::Writeback { file, .. } => file.as_deref(),
            _ => None,
        }
    }

    /// The mappings this step uses (not the one an `mmap` creates).
    pub fn mappings(&self) -> Vec<&str> {
        match self {
            Step::Munmap { mapping }
            | Step::Store { mapping, .. }
            | Step::Load { mapping, .. }
            | Step::Gup { mapping, .. } => vec![mapping.as_str()],
            Step::Write { from: Some(b), .. } => vec![b.mapping.as_str()],
            Step::Read { into: Some(b), .. } => vec![b.mapping.as_str()],
            _ => Vec::new(),
        }
    }

    /// The key under which a step's mapping reference sits in the text.
    pub(crate) fn mapping_key(&self) -> &'static [&'static str] {
        match self {
            Step::Write { .. } => &["from", "mapping"],
            Step::Read { .. } => &["into", "mapping"],
            _ => &["mapping"],
        }
    }
}

/// Parsed `setflags` flags: which inode flags to set or clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct FlagChange {
    /// `Some(true)` = `+j` (set `EXT4_JOURNAL_DATA_FL`), `Some(false)` = `-j`.
    pub journal_data: Option<bool>,
    /// `Some(true)` = `+x` (set `FS_DAX_FL`), `Some(false)` = `-x`.
    pub dax: Option<bool>,
}

impl FlagChange {
    /// Parses chattr-style `"+j"`, `"-x"`, `"+j-x"`. Letters: `j` journal
    /// data, `x` DAX. Errors name the offending character.
    pub fn parse(s: &str) -> Result<FlagChange, String> {
        let mut out = FlagChange::default();
        let mut sign: Option<bool> = None;
        for c in s.chars() {
            match c {
                '+' => sign = Some(true),
                '-' => sign = Some(false),
                'j' | 'x' => {
                    let Some(v) = sign else {
                        return Err(format!("flag `{c}` needs a `+` or `-` before it"));
                    };
                    let slot = if c == 'j' {
                        &mut out.journal_data
                    } else {
                        &mut out.dax
                    };
                    if slot.is_some() {
                        return Err(format!("flag `{c}` given twice"));
                    }
                    *slot = Some(v);
                }
                other => {
                    return Err(format!(
                        "unknown flag `{other}` (known: j = journal data, x = DAX)"
                    ))
                }
            }
        }
        if out == FlagChange::default() {
            return Err("no flag given (e.g. \"+j\")".into());
        }
        Ok(out)
    }
}
