//! The scenario data model: what a scenario text deserializes into.
//!
//! Everything is plain data (serde Serialize + Deserialize), ordered
//! deterministically (Vec in author order, BTreeMap for keyed maps), so the
//! web page receives it as JSON and the kernel paths read it directly.
//! See docs/scenario-format.md for every key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::link::NO_BOUND;
use super::step::Step;
use super::variant::{OptionDecl, Switch, Variant};

/// The scenario text format version this build writes (`format = 2`: a
/// `[kernel]` version, variants as changes applied or reverted). Format 1
/// texts (variants as `[[switches]]` values) still load.
pub const SCENARIO_FORMAT: u32 = 2;

/// A whole scenario: metadata, image recipe, mount options, switches,
/// variants, options, processes, tasks and exploration defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Text format version; must be [`SCENARIO_FORMAT`].
    pub format: u32,
    pub meta: Meta,
    pub image: Image,
    #[serde(default)]
    pub mount: Mount,
    #[serde(default)]
    pub explore: Explore,
    /// `[kernel]`: the kernel the scenario runs (format 2; required there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelDecl>,
    /// Knobs the kernel paths read (`inline_convert = "jbd2"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub switches: Vec<Switch>,
    /// Named sets of switch values: the code before a fix, proposals, the fix.
    pub variants: Vec<Variant>,
    /// User-visible toggles (`mount = "delalloc" | "nodelalloc"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<OptionDecl>,
    /// Processes: each has its own mm (`mmap_lock`) and premapped regions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<Process>,
    pub tasks: Vec<Task>,
}

/// `[kernel]`: which kernel a scenario runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelDecl {
    /// A release, `"v4.12"`, `"v2.6.25"`: every modelled commit merged at or
    /// before it is applied (see [`crate::scenario::history`]).
    pub version: String,
}

/// Who the scenario is and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Short id: `s1`..`s5` for built-ins; any `[a-z0-9-]` for user scenarios.
    pub id: String,
    /// Long name, e.g. `dio-vs-mkwrite`.
    pub name: String,
    pub title: String,
    /// The race in a few sentences.
    pub story: String,
    /// Source thread (a file in shared/seeds or a mailing-list URL).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// The starting image, built by the engine's own mkfs before every run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// `s_log_block_size` as bytes: 1024, 2048, 4096 (or up to 65536).
    #[serde(default = "default_block_size")]
    pub block_size: u32,
    /// `s_inode_size`: 128, 256, 512, 1024.
    #[serde(default = "default_inode_size")]
    pub inode_size: u16,
    /// `s_blocks_count`, in blocks of `block_size`.
    #[serde(default = "default_blocks_count")]
    pub blocks_count: u64,
    /// Features relative to mke2fs's defaults, mke2fs `-O` style:
    /// `"inline_data"` adds, `"^extent"` removes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Whether the image has a jbd2 journal (`has_journal`).
    #[serde(default = "yes")]
    pub journal: bool,
    /// Journal size in blocks (mke2fs `-J size=` in blocks); default: mke2fs's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_blocks: Option<u32>,
    /// Regular files in the root directory, created in this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileSpec>,
}

fn default_block_size() -> u32 {
    4096
}
fn default_inode_size() -> u16 {
    256
}
fn default_blocks_count() -> u64 {
    4096
}
fn yes() -> bool {
    true
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_true(b: &bool) -> bool {
    *b
}

/// How a file maps its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `EXT4_EXTENTS_FL`: an extent tree in `i_block`.
    #[default]
    Extents,
    /// ext3-style direct/indirect block map (no `EXT4_EXTENTS_FL`).
    Indirect,
    /// `EXT4_INLINE_DATA_FL`: bytes in `i_block` and the `system.data` xattr.
    Inline,
}

/// A file of the image. Contents are runs of bytes; a block no run touches
/// (below `size`) is a hole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Name in the root directory.
    pub name: String,
    #[serde(default)]
    pub layout: Layout,
    /// `i_size`; default: the end of the last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Shorthand for one run at offset 0: `fill = "A"` (or `pattern`), `len`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
    /// Runs of bytes at given offsets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Run>,
    /// Byte ranges stated to be holes (checked: inside `size`, touching no run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holes: Vec<Range>,
    /// Created, written, then unlinked: its blocks are free but keep its bytes
    /// (the "secret" the stale-data oracle recognises).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
    /// The file starts with the journal-data flag (`chattr +j`, `EXT4_JOURNAL_DATA_FL`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub journal_data: bool,
}

/// A run of bytes: `len` bytes at `offset`, all `fill` or a repeated `pattern`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Run {
    pub offset: u64,
    pub len: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Allocated as an unwritten extent (fallocate): reads as zeros. Needs
    /// `layout = "extents"`; then `fill`/`pattern` must be absent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unwritten: bool,
}

/// A byte range `[offset, offset + len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub offset: u64,
    pub len: u64,
}

/// `data=` mount option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataMode {
    #[default]
    Ordered,
    Writeback,
    Journal,
}

/// Mount options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    #[serde(default)]
    pub data: DataMode,
    /// `delalloc` (default) or `nodelalloc`.
    #[serde(default = "yes")]
    pub delalloc: bool,
    /// `dioread_nolock` (true) or `nodioread_nolock` (false): buffered
    /// writes allocate unwritten extents first. Unset: the kernel's
    /// default, on from 244adf6426ee (v5.6-rc1), off before; the resolved
    /// configuration ([`super::RunConfig`]) always says which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dioread_nolock: Option<bool>,
    /// `-o dax` (v4.13 `EXT4_MOUNT_DAX`): regular files that do not journal
    /// their data (and are not inline or encrypted) are `S_DAX`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dax: bool,
    /// The block device needs stable pages (`BDI_CAP_STABLE_WRITES` from
    /// v3.9, `SB_I_STABLE_WRITES` from v5.10: a T10 PI integrity profile,
    /// a checksumming driver). Not a mount option but the device's
    /// property; only then does `wait_for_stable_page` wait on writeback.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stable_writes: bool,
}

impl Default for Mount {
    fn default() -> Self {
        Mount {
            data: DataMode::Ordered,
            delalloc: true,
            dioread_nolock: None,
            dax: false,
            stable_writes: false,
        }
    }
}

/// Partial mount options, as a variant or an option value overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delalloc: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dioread_nolock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dax: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_writes: Option<bool>,
}

impl MountOverride {
    pub fn is_empty(&self) -> bool {
        *self == MountOverride::default()
    }

    /// Applies the set fields on top of `m`.
    pub fn apply(&self, m: &mut Mount) {
        if let Some(d) = self.data {
            m.data = d;
        }
        if let Some(d) = self.delalloc {
            m.delalloc = d;
        }
        if let Some(d) = self.dioread_nolock {
            m.dioread_nolock = Some(d);
        }
        if let Some(d) = self.dax {
            m.dax = d;
        }
        if let Some(d) = self.stable_writes {
            m.stable_writes = d;
        }
    }
}

/// The memory model of `atomic_t` values (the simulator's `MemoryModel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Memory {
    /// Sequential consistency: every store is visible at once.
    #[default]
    Sc,
    /// x86-TSO: stores buffered in order; every atomic RMW (`atomic_inc`
    /// too) and every full barrier drains the buffer.
    X86,
    /// The Linux kernel memory model (arm64, POWER): non-value-returning
    /// atomics are unordered, `smp_mb__after_atomic` orders them.
    ///
    /// `weak`, the name of the one weak mode before there were two, reads
    /// as `lkmm`: that mode buffered `atomic_inc` past later loads (which
    /// only LKMM allows; x86 never does), and every verdict it gave came
    /// from that.
    #[serde(alias = "weak")]
    Lkmm,
}

/// A process: one mm, hence one `mmap_lock`, and the mappings it starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<Mapping>,
}

/// A mapping present when the run starts (mmap done during set-up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Name steps use to refer to it (`mapping = "mf"`).
    pub name: String,
    pub file: String,
    /// File offset of the mapping (page aligned).
    #[serde(default)]
    pub offset: u64,
    /// Length; default: the file's size rounded up to a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
    /// MAP_SHARED (true) or MAP_PRIVATE.
    #[serde(default = "yes")]
    pub shared: bool,
    /// PROT_WRITE.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub writable: bool,
}

/// What runs a task's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// A user thread making syscalls and touching memory, in a process.
    #[default]
    User,
    /// A kernel worker (e.g. the flusher running `ext4_writepages`): steps,
    /// no process, so no mapping steps.
    Kworker,
    /// The jbd2 commit thread (kjournald2): no steps; it commits each
    /// transaction when asked or when it fills, at most `commits` times.
    Kjournald2,
}

/// A task: a schedulable thread of kernel code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// `T1`, `kjournald2`, ...
    pub name: String,
    #[serde(default)]
    pub kind: TaskKind,
    /// The process this user task runs in (needed for mapping steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// Set-up tasks run to completion, in order, before the racing tasks
    /// start; their interleavings are not explored.
    #[serde(default, skip_serializing_if = "is_false")]
    pub setup: bool,
    /// The task exists only when these options have these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, String>,
    /// Bound on kjournald2 commits (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commits: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

/// Exploration strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    Random,
    Pct,
    /// Exhaustive DFS with partial-order reduction under a preemption bound.
    #[default]
    Dfs,
}

/// Exploration defaults (the UI and the tests start from these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Explore {
    #[serde(default)]
    pub strategy: StrategyKind,
    /// Preemption bound for DFS (and the bound under which "absent" is
    /// claimed); [`NO_BOUND`] (`"none"` in the text) for every interleaving.
    #[serde(default = "default_bound", with = "bound_text")]
    pub preemption_bound: u32,
    /// PCT depth (number of priority change points + 1).
    #[serde(default = "default_depth")]
    pub pct_depth: u32,
    /// Runs the random/PCT scheduler gets before it must have found "found" outcomes.
    #[serde(default = "default_budget")]
    pub budget: u64,
    #[serde(default)]
    pub seed: u64,
    /// Bound on scheduling steps per run (no hang on a livelock).
    #[serde(default = "default_max_steps")]
    pub max_steps: u64,
    /// The variant the UI opens first; default: the first variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_variant: Option<String>,
}

fn default_bound() -> u32 {
    2
}

/// `preemption_bound` in the text: a number, or `"none"` for no bound
/// ([`NO_BOUND`], as in share links and `ext4lab explore --bound none`).
pub(crate) mod bound_text {
    use super::NO_BOUND;
    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &u32, s: S) -> Result<S::Ok, S::Error> {
        if *b == NO_BOUND {
            s.serialize_str("none")
        } else {
            s.serialize_u32(*b)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = u32;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of preemptions or \"none\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
                match u32::try_from(v) {
                    Ok(b) if b != NO_BOUND => Ok(b),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
                match u32::try_from(v) {
                    Ok(b) if b != NO_BOUND => Ok(b),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
                match v {
                    "none" => Ok(NO_BOUND),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}
/// A variant's own `preemption_bound` (absent: the scenario's), read and
/// written as [`bound_text`] does.
pub(crate) mod opt_bound_text {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => super::bound_text::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        super::bound_text::deserialize(d).map(Some)
    }
}

fn default_depth() -> u32 {
    3
}
fn default_budget() -> u64 {
    2000
}
fn default_max_steps() -> u64 {
    20_000
}

impl Explore {
    /// The DFS preemption bound: `None` for every interleaving.
    pub fn bound(&self) -> Option<u32> {
        super::link::dfs_bound(self.preemption_bound)
    }
}

impl Default for Explore {
    fn default() -> Self {
        Explore {
            strategy: StrategyKind::Dfs,
            preemption_bound: default_bound(),
            pct_depth: default_depth(),
            budget: default_budget(),
            seed: 0,
            max_steps: default_max_steps(),
            default_variant: None,
        }
    }
}
