//! Checks of switches, options, variants and their expectations.

use std::collections::BTreeMap;

use super::{root, Checker, Path};
use crate::scenario::error::ErrorKind;
use crate::scenario::history::KernelVersion;
use crate::scenario::locks::LockClass;
use crate::scenario::model::Scenario;
use crate::scenario::variant::{Expectation, Presence, ERRNO_NAMES, LOCK_CLASSES};

/// Switch and option declarations; returns option name -> its value names.
pub(super) fn check_switches_options(
    c: &mut Checker,
    s: &Scenario,
) -> BTreeMap<String, Vec<String>> {
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

pub(super) fn check_when(
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

pub(super) fn check_variants(
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
        c.variant_ident(&v.name, p.k("name"));
        check_switch_values(c, s, &v.switches, &p.k("switches"));
        // The kernel the variant runs (format 1: no version, no era check).
        let version = v
            .kernel
            .as_deref()
            .or(s.kernel.as_ref().map(|k| k.version.as_str()))
            .and_then(|t| KernelVersion::parse(t).ok());
        for (j, e) in v.expect.iter().enumerate() {
            check_expectation(c, s, options, files, e, version, &p.k("expect").i(j));
        }
        check_contradictions(c, s, &v.expect, &p);
    }
}

/// The option values an expectation's run uses: defaults, then its `when`.
fn effective_options(s: &Scenario, e: &Expectation) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = s
        .options
        .iter()
        .map(|o| (o.name.clone(), o.default.clone()))
        .collect();
    m.extend(e.when.iter().map(|(k, v)| (k.clone(), v.clone())));
    m
}

/// An unqualified `absent` row contradicts any `found` row of the same kind
/// under the same option values.
fn check_contradictions(c: &mut Checker, s: &Scenario, rows: &[Expectation], p: &Path) {
    for (j, a) in rows.iter().enumerate() {
        let bare = a.tasks.is_empty()
            && a.locks.is_empty()
            && a.warning.is_none()
            && a.errno.is_empty()
            && a.file.is_none();
        if a.expect != Presence::Absent || !bare {
            continue;
        }
        let opts = effective_options(s, a);
        let clash = rows.iter().any(|f| {
            f.expect == Presence::Found && f.kind == a.kind && effective_options(s, f) == opts
        });
        if clash {
            c.push(
                ErrorKind::BadValue,
                p.k("expect").i(j).k("expect"),
                format!(
                    "`{}` is expected both found and absent under the same options",
                    a.kind.as_str()
                ),
            );
        }
    }
}

fn check_expectation(
    c: &mut Checker,
    s: &Scenario,
    options: &BTreeMap<String, Vec<String>>,
    files: &BTreeMap<String, bool>,
    e: &Expectation,
    version: Option<KernelVersion>,
    p: &Path,
) {
    check_when(c, options, &e.when, &p.k("when"));
    let opts = effective_options(s, e);
    for (k, t) in e.tasks.iter().enumerate() {
        let mut named = s.tasks.iter().filter(|x| &x.name == t).peekable();
        let exists = named.peek().is_some();
        let runs = named.any(|x| x.when.iter().all(|(o, v)| opts.get(o) == Some(v)));
        if exists && !runs {
            c.push(
                ErrorKind::Undefined,
                p.k("tasks").i(k),
                format!("task `{t}` does not run under this row's option values"),
            );
        }
        if !exists {
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
            continue;
        }
        // A class of another era can never match what this kernel reports.
        let (Some(v), Some(class)) = (version, LockClass::from_name(l)) else {
            continue;
        };
        let now = class
            .name(v)
            .map(|n| if n == "page lock" { "page_lock" } else { n });
        if now != Some(l.as_str()) {
            let hint = match now {
                Some(n) => format!("{v} names it `{n}`"),
                None => format!("{v} has no such lock"),
            };
            c.push(
                ErrorKind::BadValue,
                p.k("locks").i(k),
                format!("lock class `{l}` is not of this variant's kernel: {hint}"),
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
