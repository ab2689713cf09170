//! Scenario text format, built-in scenarios, variants and share links.
//!
//! A scenario is TOML text (docs/scenario-format.md): metadata, an image
//! recipe, mount options, switches the kernel paths read, named variants
//! (sets of switch values), options, processes, tasks made of steps, and the
//! outcomes each variant is expected to show. [`parse_scenario`] turns text
//! into a [`Scenario`] or a [`ScenarioError`] with a 1-based line/column;
//! [`Scenario::resolve`] turns a (variant, options) choice into a
//! [`RunConfig`] for the kernel paths. [`builtins`] lists the built-in
//! scenarios (s1..s8); [`link`] encodes and decodes share links.

mod builtins;
mod content;
mod error;
mod format1;
pub mod history;
pub mod link;
pub mod locks;
mod model;
mod parse;
mod resolve;
mod step;
mod validate;
mod variant;

pub use builtins::{builtin, builtins, fnv1a64, Builtin};
pub use content::{Pattern, Segment, SegmentData};
pub use error::{ErrorKind, Location, ScenarioError};
pub use model::{
    DataMode, Explore, FileSpec, Image, KernelDecl, Layout, Mapping, Memory, Meta, Mount,
    MountOverride, Process, Range, Run, Scenario, StrategyKind, Task, TaskKind, SCENARIO_FORMAT,
};
pub use parse::{check_scenario, parse_scenario, scenario_to_text, MAX_SCENARIO_TEXT};
pub use resolve::{CustomKernel, RunConfig};
pub use step::{BufRef, FlagChange, Step};
pub use validate::{KNOWN_FEATURES, MAX_IO_LEN, PAGE_SIZE};
pub use variant::{
    Confidence, Expectation, OptionDecl, OptionValue, OutcomeKind, Presence, Switch, Variant,
    ERRNO_NAMES, LOCK_CLASSES,
};
