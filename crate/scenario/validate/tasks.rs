//! Checks of processes, mappings, tasks and their steps.

use std::collections::{BTreeMap, BTreeSet};

use super::refs::check_when;
use super::{root, Checker, Path, PAGE_SIZE};
use crate::scenario::error::ErrorKind;
use crate::scenario::model::{Scenario, TaskKind};
use crate::scenario::step::{FlagChange, Step};

pub(super) fn check_processes_tasks(
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
