//! Switches, variants, options and expected outcomes.
//!
//! A *switch* is a knob a kernel path reads (`inline_convert`), declared with
//! the values it may take. A *variant* is a named set of switch values (the
//! code before a fix, each proposal, the fix) plus mount/memory overrides and
//! the outcomes expected of it. An *option* is a user-visible toggle that is
//! not "which code": mount options, the memory model, which racing task runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{Memory, MountOverride};

/// A named knob of the kernel paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub name: String,
    /// The values it may take, in the order the UI lists them.
    pub values: Vec<String>,
    /// The value when a variant does not set it; must be one of `values`.
    pub default: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
}

/// A named variant of the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// As in SCENARIOS.md's tables: `jan-dio-begin-early`, `v5.5`.
    pub name: String,
    /// Short tag: "before", "the patch", "current code".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// What the code does differently, in a sentence or two.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// The code this variant stands for, as SCENARIOS.md names it
    /// (`"v4.12 (still mainline in 2025)"`, `"Ted's patch, posted 2017-06-05"`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    /// What the thread claims of this code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub claim: String,
    /// How sure the reading behind the expected verdict is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// Another kernel version for this variant (format 2); default: the
    /// scenario's `[kernel] version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Changes added on top of the version (registry ids, format 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apply: Vec<String>,
    /// Changes of the version taken out (registry ids, format 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revert: Vec<String>,
    /// Switch values (format 1); switches not named take their default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub switches: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "MountOverride::is_empty")]
    pub mount: MountOverride,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// This variant's DFS preemption bound, when it is not the scenario's
    /// `[explore] preemption_bound` (a number, or `"none"`: every
    /// interleaving). "Absent" is claimed under it, and the tables check
    /// the variant's rows under it: a scenario whose fixes finish quickly
    /// unbounded while its other variants do not says `"none"` on the fixes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::model::opt_bound_text"
    )]
    pub preemption_bound: Option<u32>,
    /// Expected outcomes (the acceptance criteria).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expectation>,
}

/// Confidence in an expected verdict (SCENARIOS.md's "conf." column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    Low,
    MediumLow,
    Medium,
    MediumHigh,
    High,
}

/// A user-visible toggle with named values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionDecl {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// Must name one of `values`.
    pub default: String,
    pub values: Vec<OptionValue>,
}

/// One value of an option and what choosing it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionValue {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    #[serde(default, skip_serializing_if = "MountOverride::is_empty")]
    pub mount: MountOverride,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// Switch values this option value forces (applied after the variant's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub switches: BTreeMap<String, String>,
}

/// The outcome classes the oracles report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// A read returned bytes no task wrote to that file (e.g. the secret's).
    StaleData,
    /// No task can run and some are blocked: a wait-for cycle.
    Deadlock,
    /// Two lock classes taken in both orders (or against the declared order).
    LockOrderInversion,
    /// Data acknowledged durable is not on disk after the run (and recovery).
    LostWrite,
    /// The image is inconsistent (engine fsck; natively also `e2fsck -fn`).
    Fsck,
    /// A WARN_ON/BUG_ON the real code has at that point fired.
    KernelWarning,
    /// A syscall result or signal the user sees (EAGAIN, EBUSY, SIGBUS, EFAULT).
    UserError,
    /// A run that completes with no outcome at all.
    Ok,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 8] = [
        OutcomeKind::StaleData,
        OutcomeKind::Deadlock,
        OutcomeKind::LockOrderInversion,
        OutcomeKind::LostWrite,
        OutcomeKind::Fsck,
        OutcomeKind::KernelWarning,
        OutcomeKind::UserError,
        OutcomeKind::Ok,
    ];

    /// The name as written in the text (`stale-data`).
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::StaleData => "stale-data",
            OutcomeKind::Deadlock => "deadlock",
            OutcomeKind::LockOrderInversion => "lock-order-inversion",
            OutcomeKind::LostWrite => "lost-write",
            OutcomeKind::Fsck => "fsck",
            OutcomeKind::KernelWarning => "kernel-warning",
            OutcomeKind::UserError => "user-error",
            OutcomeKind::Ok => "ok",
        }
    }
}

/// Whether an outcome must be found or must be absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    /// Some schedule shows it, and the explorer finds it (exhaustively under
    /// the preemption bound, and random/PCT within the budget).
    Found,
    /// Exhaustive exploration under the bound finishes without it.
    Absent,
}

/// One expected outcome of a variant under one option combination.
///
/// The matchers narrow which reported outcomes count: all `tasks` and all
/// `locks` must be involved; `warning` is a substring of the warning's name;
/// `errno` lists acceptable error names (any of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub kind: OutcomeKind,
    pub expect: Presence,
    /// Option values for this row; options not named are at their default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub when: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<String>,
    /// Lock classes (see [`LOCK_CLASSES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Acceptable errors (see [`ERRNO_NAMES`]); any one matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errno: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The table's words, shown next to the outcome.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Lock classes a row may name (`locks = [...]`), as lockdep names them in
/// the kernel era the variant runs (SCENARIOS.md "Lock classes"; the eras
/// are in [`super::locks`]: `i_mutex` before v4.7, `i_rwsem` after, ...).
/// `page_lock` is the page/folio lock.
pub const LOCK_CLASSES: &[&str] = &[
    "mmap_sem",
    "mmap_lock",
    "i_mutex",
    "i_rwsem",
    "i_mmap_sem",
    "invalidate_lock",
    "i_data_sem",
    "xattr_sem",
    "s_journal_flag_rwsem",
    "s_writepages_rwsem",
    "i_mmap_lock",
    "i_mmap_mutex",
    "i_mmap_rwsem",
    "page_lock",
    "jbd2_handle",
    "j_barrier",
    "sb_writers",
    "sb_pagefaults",
    "sb_internal",
];

/// Error names an expectation may match: errno values and signals.
pub const ERRNO_NAMES: &[&str] = &[
    "EAGAIN",
    "EBUSY",
    "EFAULT",
    "EINVAL",
    "EIO",
    "ENOMEM",
    "ENOSPC",
    "EOPNOTSUPP",
    "EPERM",
    "SIGBUS",
    "SIGSEGV",
];
