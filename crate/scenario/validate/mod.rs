//! Semantic checks of a deserialized scenario: names unique, references
//! defined, values allowed. Each problem carries a document path
//! (`tasks[1].steps[0].file`) that [`crate::scenario::parse`] turns into a line/column.

use std::collections::BTreeSet;

use super::error::{ErrorKind, ScenarioError};
use super::model::{Scenario, SCENARIO_FORMAT};

mod image;
mod refs;
mod tasks;

use image::check_image;
use refs::{check_switches_options, check_variants};
use tasks::check_processes_tasks;

/// The simulator's page size (`PAGE_SIZE`).
pub const PAGE_SIZE: u64 = 4096;

/// Largest length a single step or run may name (keeps runs bounded).
pub const MAX_IO_LEN: u64 = 16 << 20;

/// Features `image.features` may add or remove (mke2fs names).
pub const KNOWN_FEATURES: &[&str] = &[
    "extent",
    "inline_data",
    "64bit",
    "flex_bg",
    "metadata_csum",
    "dir_index",
    "extra_isize",
    "huge_file",
    "sparse_super",
    "filetype",
    "large_file",
    "dir_nlink",
    "uninit_bg",
];

/// One segment of a document path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A document path under construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Path(pub Vec<Seg>);

impl Path {
    pub(super) fn k(&self, key: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }
    pub(super) fn i(&self, idx: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Index(idx));
        p
    }
    fn render(&self) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

pub(super) fn root() -> Path {
    Path::default()
}

/// A problem found by [`validate`], with its path still structured.
pub(crate) struct Problem {
    pub path: Path,
    pub error: ScenarioError,
}

pub(super) struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    pub(super) fn push(&mut self, kind: ErrorKind, path: Path, msg: impl Into<String>) {
        let error = ScenarioError::new(kind, path.render(), msg);
        self.problems.push(Problem { path, error });
    }

    /// Reports duplicates in `names` (each with its path).
    pub(super) fn unique<'a>(&mut self, what: &str, names: impl Iterator<Item = (&'a str, Path)>) {
        let mut seen = BTreeSet::new();
        for (n, p) in names {
            if !seen.insert(n.to_string()) {
                self.push(
                    ErrorKind::Duplicate,
                    p,
                    format!("duplicate {what} name `{n}`"),
                );
            }
        }
    }

    pub(super) fn ident(&mut self, what: &str, s: &str, path: Path) {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            self.push(
                ErrorKind::BadValue,
                path,
                format!("{what} `{s}` must be 1-64 characters of [A-Za-z0-9_-]"),
            );
        }
    }

    /// A variant name: as [`Self::ident`], dots allowed too (variants named
    /// after the release they run: `v5.5`, `v4.13`).
    pub(super) fn variant_ident(&mut self, s: &str, path: Path) {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !ok {
            self.push(
                ErrorKind::BadValue,
                path,
                format!("variant `{s}` must be 1-64 characters of [A-Za-z0-9_.-]"),
            );
        }
    }

    /// `fill`/`pattern`: exactly one of them (unless `optional`), fill one byte.
    pub(super) fn bytes(
        &mut self,
        fill: &Option<String>,
        pattern: &Option<String>,
        path: &Path,
        optional: bool,
    ) {
        match (fill, pattern) {
            (Some(_), Some(_)) => self.push(
                ErrorKind::BadValue,
                path.k("pattern"),
                "give either `fill` or `pattern`, not both",
            ),
            (None, None) if !optional => self.push(
                ErrorKind::BadValue,
                path.clone(),
                "the bytes are missing: give `fill = \"X\"` (one byte) or `pattern = \"...\"`",
            ),
            _ => {}
        }
        if let Some(f) = fill {
            if f.len() != 1 {
                self.push(
                    ErrorKind::BadValue,
                    path.k("fill"),
                    format!("`fill` must be exactly one ASCII byte, got {:?}", f),
                );
            }
        }
        if let Some(p) = pattern {
            if p.is_empty() || p.len() > 4096 {
                self.push(
                    ErrorKind::BadValue,
                    path.k("pattern"),
                    "`pattern` must be 1-4096 bytes",
                );
            }
        }
    }

    pub(super) fn len(&mut self, len: u64, path: Path) {
        if len == 0 || len > MAX_IO_LEN {
            self.push(
                ErrorKind::BadValue,
                path,
                format!("length must be between 1 and {MAX_IO_LEN} bytes, got {len}"),
            );
        }
    }
}

/// Format 2's `[kernel]` and each variant's `kernel`/`apply`/`revert`
/// (format 1 has `[[switches]]` instead).
fn check_kernel(c: &mut Checker, s: &Scenario) {
    use crate::scenario::history::{resolve_changes, Change, HistoryError, KernelVersion};
    let version = |c: &mut Checker, text: &str, path: Path| match KernelVersion::parse(text) {
        Ok(v) => Some(v),
        Err(m) => {
            c.push(ErrorKind::BadValue, path, m);
            None
        }
    };
    if s.format == 1 {
        if s.kernel.is_some() {
            c.push(
                ErrorKind::Version,
                root().k("kernel"),
                "`[kernel]` needs `format = 2`",
            );
        }
        for (i, v) in s.variants.iter().enumerate() {
            if v.kernel.is_some() || !v.apply.is_empty() || !v.revert.is_empty() {
                c.push(
                    ErrorKind::Version,
                    root().k("variants").i(i),
                    "`kernel`, `apply` and `revert` need `format = 2`",
                );
            }
        }
        return;
    }
    if !s.switches.is_empty() {
        c.push(
            ErrorKind::Version,
            root().k("switches"),
            "format 2 has no `[[switches]]`: a variant names a kernel version and the changes it applies or reverts",
        );
    }
    let base = match &s.kernel {
        Some(k) => version(c, &k.version, root().k("kernel").k("version")),
        None => {
            c.push(
                ErrorKind::Schema,
                root().k("kernel"),
                "format 2 needs `[kernel] version = \"vX.Y\"`",
            );
            None
        }
    };
    for (i, v) in s.variants.iter().enumerate() {
        let p = root().k("variants").i(i);
        if !v.switches.is_empty() {
            c.push(
                ErrorKind::Version,
                p.k("switches"),
                "format 2 variants use `apply`/`revert`, not `switches`",
            );
        }
        let ver = match &v.kernel {
            Some(k) => version(c, k, p.k("kernel")),
            None => base,
        };
        let mut unknown = false;
        for (key, ids) in [("apply", &v.apply), ("revert", &v.revert)] {
            for (j, id) in ids.iter().enumerate() {
                if Change::from_id(id).is_none() {
                    unknown = true;
                    c.push(
                        ErrorKind::Undefined,
                        p.k(key).i(j),
                        HistoryError::UnknownChange { id: id.clone() }.to_string(),
                    );
                }
            }
        }
        if let (Some(ver), false) = (ver, unknown) {
            if let Err(e) = resolve_changes(ver, &v.apply, &v.revert) {
                let at = match &e {
                    HistoryError::AlreadyMerged { id, .. } | HistoryError::Requires { id, .. } => v
                        .apply
                        .iter()
                        .position(|x| x == id)
                        .map(|j| p.k("apply").i(j)),
                    HistoryError::NotApplied { id, .. } => v
                        .revert
                        .iter()
                        .position(|x| x == id)
                        .map(|j| p.k("revert").i(j)),
                    HistoryError::NotModelled { id } => v
                        .apply
                        .iter()
                        .position(|x| x == id)
                        .map(|j| p.k("apply").i(j))
                        .or_else(|| {
                            v.revert
                                .iter()
                                .position(|x| x == id)
                                .map(|j| p.k("revert").i(j))
                        }),
                    HistoryError::UnknownChange { .. } => None,
                };
                c.push(ErrorKind::BadValue, at.unwrap_or(p), e.to_string());
            }
        }
    }
}

/// Most tasks a scenario may name. One execution holds at most
/// [`crate::sim::MAX_TASKS`] tasks (the vector clocks are fixed arrays);
/// the rest is left for the kernel's own: kjournald2, kworkers and bio
/// completions. A run that still spawns one too many ends with an
/// `engine-error` outcome (crate/sim/rt `Rt::spawn`).
pub const MAX_SCENARIO_TASKS: usize = 24;

/// Checks `s`. Returns every problem found, in document order of the checks.
pub(crate) fn validate(s: &Scenario) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    if !(1..=SCENARIO_FORMAT).contains(&s.format) {
        c.push(
            ErrorKind::Version,
            root().k("format"),
            format!(
                "scenario format {} is unknown; this build reads formats 1 to {SCENARIO_FORMAT}",
                s.format
            ),
        );
        return c.problems;
    }
    check_kernel(&mut c, s);
    c.ident("meta.id", &s.meta.id, root().k("meta").k("id"));
    c.ident("meta.name", &s.meta.name, root().k("meta").k("name"));
    let files = check_image(&mut c, s);
    let options = check_switches_options(&mut c, s);
    check_variants(&mut c, s, &options, &files);
    check_processes_tasks(&mut c, s, &options, &files);
    if s.tasks.len() > MAX_SCENARIO_TASKS {
        c.push(
            ErrorKind::BadValue,
            root().k("tasks").i(MAX_SCENARIO_TASKS),
            format!(
                "at most {MAX_SCENARIO_TASKS} tasks: this scenario has {}",
                s.tasks.len()
            ),
        );
    }
    if let Some(v) = &s.explore.default_variant {
        if !s.variants.iter().any(|x| &x.name == v) {
            c.push(
                ErrorKind::Undefined,
                root().k("explore").k("default_variant"),
                format!("no variant named `{v}`"),
            );
        }
    }
    c.problems
}
