//! Renamed variants and option values of the built-ins, applied when a
//! link is decoded, so that a link made before a rename still opens the
//! variant it meant.
//!
//! A rename applies only when the built-in as this build has it lacks the
//! old name and has the new one: the table can name renames before the
//! scenario files make them, and stays harmless after.
//!
//! The first entries are the revision-2 names of shared/SCENARIOS.md for
//! the variants of the first wave (scenarios/*.toml at abc7d1b): each old
//! variant maps to the revision-2 variant that stands for the same code.

use super::{Link, LinkScenario};
use crate::scenario::builtins::builtin;
use crate::scenario::model::Scenario;
use crate::scenario::parse::parse_scenario;

/// The renames of one built-in.
pub struct Renames {
    pub builtin: &'static str,
    /// (old variant name, new variant name).
    pub variants: &'static [(&'static str, &'static str)],
    /// (option, old value, new value).
    pub option_values: &'static [(&'static str, &'static str, &'static str)],
}

/// Every rename, per built-in.
pub static RENAMES: &[Renames] = &[
    Renames {
        builtin: "s1",
        variants: &[
            // Ted's 2017 patch as posted: page lock, then the handle.
            ("pagecache-convert-lock-page-first", "ted-2017-as-posted"),
            // the same conversion with the order Eric asked for.
            ("pagecache-convert", "pagecache-handle-first"),
        ],
        option_values: &[],
    },
    Renames {
        builtin: "s2",
        variants: &[
            ("no-convert-in-mkwrite", "no-convert"),
            ("convert-xattr-sem-only", "mainline"),
            // inode_lock taken in page_mkwrite under mmap_lock.
            ("convert-under-mmap-lock", "inode-lock-in-mkwrite"),
        ],
        option_values: &[],
    },
    Renames {
        builtin: "s3",
        variants: &[
            ("migrate-flag-retval", "flag-retval"),
            ("migrate-flag-buffer-new", "flag-buffer-new"),
        ],
        option_values: &[],
    },
    Renames {
        builtin: "s4",
        variants: &[
            // the flip with no writeback or invalidation: v4.13's -j.
            ("no-writeback", "v4.13"),
            ("writeback-inside-handle", "wb-inside-handle"),
            // fault lock-out, writeback and invalidation outside the handle.
            ("writeback-outside-handle", "ross-v1"),
        ],
        option_values: &[],
    },
    Renames {
        builtin: "s5",
        variants: &[
            ("dio-begin-late", "v5.5"),
            ("dio-begin-early", "jan-dio-begin-early"),
            ("dio-check-get-block", "ritesh-check-get-block"),
            ("dio-check-no-barrier", "no-barrier"),
            ("dioread-nolock", "dioread-nolock-default"),
        ],
        // the one weak mode buffered atomic_inc: LKMM behaviour.
        option_values: &[("memory", "weak", "lkmm")],
    },
];

/// Renames `link`'s variant and option values where the built-in it names
/// has renamed them (see the module doc).
pub fn apply(link: &mut Link) {
    let LinkScenario::Builtin { id, .. } = &link.scenario else {
        return;
    };
    let Some(Ok(sc)) = builtin(id).map(|b| parse_scenario(b.text)) else {
        return;
    };
    apply_to(link, &sc);
}

/// [`apply`] against scenario `sc` standing for the link's built-in.
pub fn apply_to(link: &mut Link, sc: &Scenario) {
    let LinkScenario::Builtin { id, .. } = &link.scenario else {
        return;
    };
    let Some(r) = RENAMES.iter().find(|r| r.builtin == id) else {
        return;
    };
    let has_variant = |n: &str| sc.variants.iter().any(|v| v.name == n);
    if !has_variant(&link.variant) {
        if let Some((_, new)) = r
            .variants
            .iter()
            .find(|(old, new)| *old == link.variant && has_variant(new))
        {
            link.variant = new.to_string();
        }
    }
    for (opt, value) in link.options.iter_mut() {
        let Some(decl) = sc.options.iter().find(|o| &o.name == opt) else {
            continue;
        };
        let has_value = |n: &str| decl.values.iter().any(|v| v.name == n);
        if has_value(value) {
            continue;
        }
        if let Some((_, _, new)) = r
            .option_values
            .iter()
            .find(|(o, old, new)| o == opt && old == value && has_value(new))
        {
            *value = new.to_string();
        }
    }
}
