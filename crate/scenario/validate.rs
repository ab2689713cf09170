//! Semantic checks of a deserialized scenario: names unique, references
//! defined, values allowed. Each problem carries a document path
//! (`tasks[1].steps[0].file`) that [`super::parse`] turns into a line/column.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{ErrorKind, ScenarioError};
use super::model::{Layout, Scenario, TaskKind, SCENARIO_FORMAT};
use super::step::{FlagChange, Step};
use super::variant::{Expectation, ERRNO_NAMES, LOCK_CLASSES};

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
    fn k(&self, key: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }
    fn i(&self, idx: usize) -> Path {
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

fn root() -> Path {
    Path::default()
}

/// A problem found by [`validate`], with its path still structured.
pub(crate) struct Problem {
    pub path: Path,
    pub error: ScenarioError,
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(&mut self, kind: ErrorKind, path: Path, msg: impl Into<String>) {
        let error = ScenarioError::new(kind, path.render(), msg);
        self.problems.push(Problem { path, error });
    }

    /// Reports duplicates in `names` (each with its path).
    fn unique<'a>(&mut self, what: &str, names: impl Iterator<Item = (&'a str, Path)>) {
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

    fn ident(&mut self, what: &str, s: &str, path: Path) {
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

    /// `fill`/`pattern`: exactly one of them (unless `optional`), fill one byte.
    fn bytes(
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

    fn len(&mut self, len: u64, path: Path) {
        if len == 0 || len > MAX_IO_LEN {
            self.push(
                ErrorKind::BadValue,
                path,
                format!("length must be between 1 and {MAX_IO_LEN} bytes, got {len}"),
            );
        }
    }
}

/// Checks `s`. Returns every problem found, in document order of the checks.
pub(crate) fn validate(s: &Scenario) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    if s.format != SCENARIO_FORMAT {
        c.push(
            ErrorKind::Version,
            root().k("format"),
            format!(
                "scenario format {} is unknown; this build reads format {SCENARIO_FORMAT}",
                s.format
            ),
        );
        return c.problems;
    }
    c.ident("meta.id", &s.meta.id, root().k("meta").k("id"));
    c.ident("meta.name", &s.meta.name, root().k("meta").k("name"));
    let files = check_image(&mut c, s);
    let options = check_switches_options(&mut c, s);
    check_variants(&mut c, s, &options, &files);
    check_processes_tasks(&mut c, s, &options, &files);
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

/// Image checks; returns file name -> deleted.
fn check_image(c: &mut Checker, s: &Scenario) -> BTreeMap<String, bool> {
    let img = &s.image;
    let p = root().k("image");
    if !matches!(
        img.block_size,
        1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536
    ) {
        c.push(
            ErrorKind::BadValue,
            p.k("block_size"),
            "block_size must be a power of two from 1024 to 65536",
        );
    }
    if !matches!(img.inode_size, 128 | 256 | 512 | 1024)
        || u32::from(img.inode_size) > img.block_size
    {
        c.push(
            ErrorKind::BadValue,
            p.k("inode_size"),
            "inode_size must be 128, 256, 512 or 1024 and at most block_size",
        );
    }
    if !(64..=(1 << 20)).contains(&img.blocks_count) {
        c.push(
            ErrorKind::BadValue,
            p.k("blocks_count"),
            "blocks_count must be between 64 and 1048576",
        );
    }
    if let Some(j) = img.journal_blocks {
        if !img.journal {
            c.push(
                ErrorKind::BadValue,
                p.k("journal_blocks"),
                "journal_blocks given but journal = false",
            );
        } else if u64::from(j) < 1024 || u64::from(j) > img.blocks_count / 2 {
            c.push(ErrorKind::BadValue, p.k("journal_blocks"), "journal_blocks must be at least 1024 (JBD2_MIN_JOURNAL_BLOCKS) and at most half the image");
        }
    }
    let mut feats: BTreeMap<&str, bool> = BTreeMap::new();
    for (i, f) in img.features.iter().enumerate() {
        let (on, name) = match f.strip_prefix('^') {
            Some(n) => (false, n),
            None => (true, f.as_str()),
        };
        if name == "has_journal" {
            c.push(
                ErrorKind::BadValue,
                p.k("features").i(i),
                "use `journal = true|false` instead of has_journal",
            );
        } else if !KNOWN_FEATURES.contains(&name) {
            c.push(
                ErrorKind::BadValue,
                p.k("features").i(i),
                format!(
                    "unknown feature `{name}` (known: {})",
                    KNOWN_FEATURES.join(", ")
                ),
            );
        } else if feats.insert(name, on).is_some() {
            c.push(
                ErrorKind::Duplicate,
                p.k("features").i(i),
                format!("feature `{name}` given twice"),
            );
        }
    }
    let extent = feats.get("extent").copied().unwrap_or(true);
    let inline = feats.get("inline_data").copied().unwrap_or(false);
    let image_bytes = img.blocks_count.saturating_mul(u64::from(img.block_size));
    c.unique(
        "file",
        img.files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), p.k("files").i(i).k("name"))),
    );
    let mut out = BTreeMap::new();
    for (i, f) in img.files.iter().enumerate() {
        let fp = p.k("files").i(i);
        if f.name.is_empty()
            || f.name.len() > 255
            || f.name.contains('/')
            || f.name.contains('\0')
            || f.name == "."
            || f.name == ".."
        {
            c.push(
                ErrorKind::BadValue,
                fp.k("name"),
                format!("`{}` is not a valid file name", f.name),
            );
        }
        out.insert(f.name.clone(), f.deleted);
        match f.layout {
            Layout::Inline if !inline => c.push(
                ErrorKind::BadValue,
                fp.k("layout"),
                "layout = \"inline\" needs the inline_data feature",
            ),
            Layout::Extents if !extent => c.push(
                ErrorKind::BadValue,
                fp.k("layout"),
                "layout = \"extents\" needs the extent feature (it is removed by ^extent)",
            ),
            _ => {}
        }
        // Content: shorthand, then runs; check they don't overlap.
        let mut spans: Vec<(u64, u64, Path)> = Vec::new();
        if f.fill.is_some() || f.pattern.is_some() || f.len.is_some() {
            c.bytes(&f.fill, &f.pattern, &fp, false);
            match f.len {
                Some(l) => {
                    c.len(l, fp.k("len"));
                    spans.push((0, l, fp.k("len")));
                }
                None => c.push(
                    ErrorKind::BadValue,
                    fp.clone(),
                    "`fill`/`pattern` at file level needs `len`",
                ),
            }
        }
        for (j, r) in f.runs.iter().enumerate() {
            let rp = fp.k("runs").i(j);
            if r.unwritten {
                if f.layout != Layout::Extents {
                    c.push(
                        ErrorKind::BadValue,
                        rp.k("unwritten"),
                        "unwritten runs need layout = \"extents\"",
                    );
                }
                if r.fill.is_some() || r.pattern.is_some() {
                    c.push(
                        ErrorKind::BadValue,
                        rp.clone(),
                        "an unwritten run reads as zeros: drop `fill`/`pattern`",
                    );
                }
            } else {
                c.bytes(&r.fill, &r.pattern, &rp, false);
            }
            c.len(r.len, rp.k("len"));
            spans.push((r.offset, r.len, rp));
        }
        spans.sort_by_key(|x| x.0);
        let mut end = 0u64;
        for (off, len, sp) in &spans {
            if *off < end {
                c.push(
                    ErrorKind::BadValue,
                    sp.clone(),
                    "this run overlaps the one before it",
                );
            }
            end = end.max(off.saturating_add(*len));
        }
        let size = f.size.unwrap_or(end);
        if size < end {
            c.push(
                ErrorKind::BadValue,
                fp.k("size"),
                format!("size {size} is smaller than the end of the contents ({end})"),
            );
        }
        if size > image_bytes / 2 {
            c.push(
                ErrorKind::BadValue,
                fp.k("size"),
                "the file is larger than half the image",
            );
        }
        for (j, h) in f.holes.iter().enumerate() {
            let hp = fp.k("holes").i(j);
            let hend = h.offset.saturating_add(h.len);
            if h.len == 0 || hend > size {
                c.push(
                    ErrorKind::BadValue,
                    hp,
                    "a hole must be non-empty and inside the file's size",
                );
            } else if spans
                .iter()
                .any(|(o, l, _)| *o < hend && h.offset < o.saturating_add(*l))
            {
                c.push(ErrorKind::BadValue, hp, "this hole overlaps a run of data");
            }
        }
        if f.layout == Layout::Inline {
            let max = 60 + u64::from(img.inode_size).saturating_sub(188);
            if size > max || !f.holes.is_empty() {
                c.push(
                    ErrorKind::BadValue,
                    fp.clone(),
                    format!(
                        "inline data holds at most {max} bytes with {}-byte inodes, and no holes",
                        img.inode_size
                    ),
                );
            }
        }
    }
    out
}

/// Switch and option declarations; returns option name -> its value names.
fn check_switches_options(c: &mut Checker, s: &Scenario) -> BTreeMap<String, Vec<String>> {
    c.unique(
        "switch",
        s.switches
            .iter()
            .enumerate()
            .map(|(i, w)| (w.name.as_str(), root().k("switches").i(i).k("name"))),
    );
    for (i, w) in s.switches.iter().enumerate() {
        let p = root().k("switches").i(i);
        c.ident("switch", &w.name, p.k("name"));
        if w.values.is_empty() {
            c.push(
                ErrorKind::BadValue,
                p.k("values"),
                "a switch needs at least one value",
            );
        }
        c.unique(
            "switch value",
            w.values
                .iter()
                .enumerate()
                .map(|(j, v)| (v.as_str(), p.k("values").i(j))),
        );
        if !w.values.contains(&w.default) {
            c.push(
                ErrorKind::BadValue,
                p.k("default"),
                format!("default `{}` is not one of this switch's values", w.default),
            );
        }
    }
    c.unique(
        "option",
        s.options
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.as_str(), root().k("options").i(i).k("name"))),
    );
    let mut out = BTreeMap::new();
    for (i, o) in s.options.iter().enumerate() {
        let p = root().k("options").i(i);
        c.ident("option", &o.name, p.k("name"));
        if o.values.is_empty() {
            c.push(
                ErrorKind::BadValue,
                p.k("values"),
                "an option needs at least one value",
            );
        }
        c.unique(
            "option value",
            o.values
                .iter()
                .enumerate()
                .map(|(j, v)| (v.name.as_str(), p.k("values").i(j).k("name"))),
        );
        if !o.values.iter().any(|v| v.name == o.default) {
            c.push(
                ErrorKind::BadValue,
                p.k("default"),
                format!("default `{}` is not one of this option's values", o.default),
            );
        }
        for (j, v) in o.values.iter().enumerate() {
            check_switch_values(c, s, &v.switches, &p.k("values").i(j).k("switches"));
        }
        out.insert(
            o.name.clone(),
            o.values.iter().map(|v| v.name.clone()).collect(),
        );
    }
    out
}

fn check_switch_values(c: &mut Checker, s: &Scenario, set: &BTreeMap<String, String>, p: &Path) {
    for (k, v) in set {
        match s.switches.iter().find(|w| &w.name == k) {
            None => c.push(
                ErrorKind::Undefined,
                p.k(k),
                format!("no switch named `{k}` is declared"),
            ),
            Some(w) if !w.values.contains(v) => c.push(
                ErrorKind::BadValue,
                p.k(k),
                format!(
                    "switch `{k}` has no value `{v}` (declared: {})",
                    w.values.join(", ")
                ),
            ),
            _ => {}
        }
    }
}

fn check_when(
    c: &mut Checker,
    options: &BTreeMap<String, Vec<String>>,
    when: &BTreeMap<String, String>,
    p: &Path,
) {
    for (k, v) in when {
        match options.get(k) {
            None => c.push(
                ErrorKind::Undefined,
                p.k(k),
                format!("no option named `{k}`"),
            ),
            Some(vals) if !vals.contains(v) => c.push(
                ErrorKind::Undefined,
                p.k(k),
                format!(
                    "option `{k}` has no value `{v}` (values: {})",
                    vals.join(", ")
                ),
            ),
            _ => {}
        }
    }
}

fn check_variants(
    c: &mut Checker,
    s: &Scenario,
    options: &BTreeMap<String, Vec<String>>,
    files: &BTreeMap<String, bool>,
) {
    if s.variants.is_empty() {
        c.push(
            ErrorKind::BadValue,
            root().k("variants"),
            "a scenario needs at least one variant",
        );
    }
    c.unique(
        "variant",
        s.variants
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.as_str(), root().k("variants").i(i).k("name"))),
    );
    for (i, v) in s.variants.iter().enumerate() {
        let p = root().k("variants").i(i);
        c.ident("variant", &v.name, p.k("name"));
        check_switch_values(c, s, &v.switches, &p.k("switches"));
        for (j, e) in v.expect.iter().enumerate() {
            check_expectation(c, s, options, files, e, &p.k("expect").i(j));
        }
    }
}

fn check_expectation(
    c: &mut Checker,
    s: &Scenario,
    options: &BTreeMap<String, Vec<String>>,
    files: &BTreeMap<String, bool>,
    e: &Expectation,
    p: &Path,
) {
    check_when(c, options, &e.when, &p.k("when"));
    for (k, t) in e.tasks.iter().enumerate() {
        if !s.tasks.iter().any(|x| &x.name == t) {
            c.push(
                ErrorKind::Undefined,
                p.k("tasks").i(k),
                format!("no task named `{t}`"),
            );
        }
    }
    for (k, l) in e.locks.iter().enumerate() {
        if !LOCK_CLASSES.contains(&l.as_str()) {
            c.push(
                ErrorKind::BadValue,
                p.k("locks").i(k),
                format!(
                    "unknown lock class `{l}` (known: {})",
                    LOCK_CLASSES.join(", ")
                ),
            );
        }
    }
    for (k, n) in e.errno.iter().enumerate() {
        if !ERRNO_NAMES.contains(&n.as_str()) {
            c.push(
                ErrorKind::BadValue,
                p.k("errno").i(k),
                format!(
                    "unknown error name `{n}` (known: {})",
                    ERRNO_NAMES.join(", ")
                ),
            );
        }
    }
    if e.warning.as_deref() == Some("") {
        c.push(
            ErrorKind::BadValue,
            p.k("warning"),
            "`warning` must not be empty",
        );
    }
    if let Some(f) = &e.file {
        if !files.contains_key(f) {
            c.push(
                ErrorKind::Undefined,
                p.k("file"),
                format!("no file named `{f}`"),
            );
        }
    }
}

fn check_processes_tasks(
    c: &mut Checker,
    s: &Scenario,
    options: &BTreeMap<String, Vec<String>>,
    files: &BTreeMap<String, bool>,
) {
    let live_file = |c: &mut Checker, f: &str, p: Path| match files.get(f) {
        None => c.push(
            ErrorKind::Undefined,
            p,
            format!("no file named `{f}` in image.files"),
        ),
        Some(true) => c.push(
            ErrorKind::Undefined,
            p,
            format!("file `{f}` is deleted; it cannot be opened"),
        ),
        Some(false) => {}
    };
    c.unique(
        "process",
        s.processes
            .iter()
            .enumerate()
            .map(|(i, x)| (x.name.as_str(), root().k("processes").i(i).k("name"))),
    );
    // process name -> mapping names (premapped, then created by mmap steps).
    let mut maps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (i, pr) in s.processes.iter().enumerate() {
        let p = root().k("processes").i(i);
        c.ident("process", &pr.name, p.k("name"));
        c.unique(
            "mapping",
            pr.mappings
                .iter()
                .enumerate()
                .map(|(j, m)| (m.name.as_str(), p.k("mappings").i(j).k("name"))),
        );
        for (j, m) in pr.mappings.iter().enumerate() {
            let mp = p.k("mappings").i(j);
            live_file(c, &m.file, mp.k("file"));
            if m.offset % PAGE_SIZE != 0 {
                c.push(
                    ErrorKind::BadValue,
                    mp.k("offset"),
                    "a mapping's offset must be page aligned (4096)",
                );
            }
            if let Some(l) = m.len {
                c.len(l, mp.k("len"));
            }
        }
        maps.insert(
            pr.name.as_str(),
            pr.mappings.iter().map(|m| m.name.as_str()).collect(),
        );
    }
    for (ti, t) in s.tasks.iter().enumerate() {
        let Some(pn) = t.process.as_deref() else {
            continue;
        };
        for (si, st) in t.steps.iter().enumerate() {
            if let Step::Mmap { name, .. } = st {
                if let Some(set) = maps.get_mut(pn) {
                    if !set.insert(name.as_str()) {
                        let p = root().k("tasks").i(ti).k("steps").i(si).k("name");
                        c.push(
                            ErrorKind::Duplicate,
                            p,
                            format!("process `{pn}` already has a mapping named `{name}`"),
                        );
                    }
                }
            }
        }
    }
    if s.tasks.is_empty() {
        c.push(
            ErrorKind::BadValue,
            root().k("tasks"),
            "a scenario needs at least one task",
        );
    }
    // Two tasks may share a name only when their `when` conditions exclude
    // each other (one T1 per option value), so a run never has both.
    for (i, t) in s.tasks.iter().enumerate() {
        let clash = s.tasks[..i].iter().any(|u| {
            u.name == t.name
                && !u
                    .when
                    .iter()
                    .any(|(k, v)| t.when.get(k).is_some_and(|w| w != v))
        });
        if clash {
            c.push(
                ErrorKind::Duplicate,
                root().k("tasks").i(i).k("name"),
                format!("duplicate task name `{}` (tasks may share a name only when their `when` conditions exclude each other)", t.name),
            );
        }
    }
    let mut commit_threads = 0;
    for (ti, t) in s.tasks.iter().enumerate() {
        let p = root().k("tasks").i(ti);
        c.ident("task", &t.name, p.k("name"));
        check_when(c, options, &t.when, &p.k("when"));
        if let Some(pn) = &t.process {
            if !maps.contains_key(pn.as_str()) {
                c.push(
                    ErrorKind::Undefined,
                    p.k("process"),
                    format!("no process named `{pn}`"),
                );
            }
        }
        match t.kind {
            TaskKind::Kjournald2 => {
                commit_threads += 1;
                if !s.image.journal {
                    c.push(
                        ErrorKind::BadValue,
                        p.k("kind"),
                        "a kjournald2 task needs image.journal = true",
                    );
                }
                if commit_threads > 1 {
                    c.push(
                        ErrorKind::Duplicate,
                        p.k("kind"),
                        "only one kjournald2 task per scenario",
                    );
                }
                if !t.steps.is_empty() || t.process.is_some() || t.setup {
                    c.push(
                        ErrorKind::BadValue,
                        p.k("kind"),
                        "a kjournald2 task has no steps, no process and is not a set-up task",
                    );
                }
            }
            TaskKind::Kworker if t.process.is_some() => {
                c.push(
                    ErrorKind::BadValue,
                    p.k("process"),
                    "a kworker runs in no process",
                );
            }
            _ => {}
        }
        if t.commits.is_some() && t.kind != TaskKind::Kjournald2 {
            c.push(
                ErrorKind::BadValue,
                p.k("commits"),
                "`commits` only applies to kind = \"kjournald2\"",
            );
        }
        for (si, st) in t.steps.iter().enumerate() {
            check_step(
                c,
                s,
                t.process.as_deref(),
                &maps,
                st,
                &p.k("steps").i(si),
                t.setup,
                &live_file,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_step(
    c: &mut Checker,
    s: &Scenario,
    process: Option<&str>,
    maps: &BTreeMap<&str, BTreeSet<&str>>,
    st: &Step,
    p: &Path,
    setup: bool,
    live_file: &dyn Fn(&mut Checker, &str, Path),
) {
    if let Some(f) = st.file() {
        live_file(c, f, p.k("file"));
    }
    for m in st.mappings() {
        let mut mp = p.clone();
        for k in st.mapping_key() {
            mp = mp.k(k);
        }
        match process {
            None => c.push(
                ErrorKind::Undefined,
                mp,
                format!(
                    "step `{}` uses mapping `{m}` but the task has no process",
                    st.op()
                ),
            ),
            Some(pn) => {
                if maps.get(pn).is_some_and(|set| !set.contains(m)) {
                    c.push(
                        ErrorKind::Undefined,
                        mp,
                        format!("process `{pn}` has no mapping named `{m}`"),
                    );
                }
            }
        }
    }
    match st {
        Step::Write {
            len,
            fill,
            pattern,
            from,
            offset,
            ..
        } => {
            c.len(*len, p.k("len"));
            if from.is_some() {
                if fill.is_some() || pattern.is_some() {
                    c.push(
                        ErrorKind::BadValue,
                        p.k("from"),
                        "the bytes come `from` a mapping: drop `fill`/`pattern`",
                    );
                }
            } else {
                c.bytes(fill, pattern, p, false);
            }
            if offset.is_some_and(|o| {
                o > s
                    .image
                    .blocks_count
                    .saturating_mul(u64::from(s.image.block_size))
            }) {
                c.push(
                    ErrorKind::BadValue,
                    p.k("offset"),
                    "offset lies past the end of the image",
                );
            }
        }
        Step::Store {
            len, fill, pattern, ..
        } => {
            c.len(*len, p.k("len"));
            c.bytes(fill, pattern, p, false);
        }
        Step::Read { len, .. }
        | Step::Load { len, .. }
        | Step::Gup { len, .. }
        | Step::PunchHole { len, .. }
        | Step::Fallocate { len, .. } => {
            c.len(*len, p.k("len"));
        }
        Step::Mmap {
            name, offset, len, ..
        } => {
            c.ident("mapping", name, p.k("name"));
            if process.is_none() {
                c.push(
                    ErrorKind::Undefined,
                    p.clone(),
                    "mmap needs a task with a process",
                );
            }
            if offset % PAGE_SIZE != 0 {
                c.push(
                    ErrorKind::BadValue,
                    p.k("offset"),
                    "a mapping's offset must be page aligned (4096)",
                );
            }
            if let Some(l) = len {
                c.len(*l, p.k("len"));
            }
        }
        Step::Setflags { flags, .. } => {
            if let Err(m) = FlagChange::parse(flags) {
                c.push(ErrorKind::BadValue, p.k("flags"), m);
            }
        }
        Step::Crash { .. } if setup => {
            c.push(ErrorKind::BadValue, p.clone(), "a set-up task cannot crash");
        }
        Step::Commit if !s.image.journal => {
            c.push(
                ErrorKind::BadValue,
                p.clone(),
                "`commit` needs image.journal = true",
            );
        }
        _ => {}
    }
}
