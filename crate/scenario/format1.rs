//! Format 1 scenarios in terms of kernel history: the nine switches the
//! first kernel model read (`inline_convert`, `mkwrite_inline`, ...) map onto
//! a kernel version and registry changes, so a format-1 text or link still
//! means the code it meant. Switches with other names never changed any
//! kernel path and map onto nothing.

use std::collections::BTreeMap;

use super::history::KernelVersion;

/// The version a format-1 scenario ran, from the switches it declares: each
/// of the five first built-ins declared its own, and its thread names the
/// kernel. A scenario declaring none of them runs the newest kernel.
pub(crate) fn format1_version(declared: &[&str]) -> KernelVersion {
    const ERAS: &[(&str, KernelVersion)] = &[
        ("inline_convert", KernelVersion::new(4, 12)),
        ("mkwrite_inline", KernelVersion::new(6, 9)),
        (
            "migrate_guard",
            KernelVersion {
                major: 2,
                minor: 6,
                sub: 25,
                rc: None,
            },
        ),
        ("flag_switch_writeback", KernelVersion::new(4, 13)),
        ("dax_flip_mapped", KernelVersion::new(4, 13)),
        ("dio_begin", KernelVersion::new(5, 5)),
        ("dio_begin_barrier", KernelVersion::new(5, 5)),
        ("writepages_dio_check", KernelVersion::new(5, 5)),
        ("mkwrite_get_block", KernelVersion::new(5, 5)),
    ];
    ERAS.iter()
        .find(|(name, _)| declared.contains(name))
        .map_or(KernelVersion::LATEST, |&(_, v)| v)
}

/// The registry changes (applied, reverted) that a format-1 run's switch
/// values stood for.
pub(crate) fn format1_changes(switches: &BTreeMap<String, String>) -> (Vec<String>, Vec<String>) {
    let val = |name: &str| switches.get(name).map(String::as_str).unwrap_or("");
    let mut apply: Vec<&str> = Vec::new();
    let mut revert: Vec<&str> = Vec::new();
    match val("inline_convert") {
        "pagecache" => apply.extend(["p:ted-2017-06-05", "h:ted-2017-handle-first"]),
        "pagecache-lock-page-first" => apply.push("p:ted-2017-06-05"),
        _ => {}
    }
    match val("mkwrite_inline") {
        "none" => revert.push("7b4cc9787fe3"),
        "inode-lock" => apply.push("p:baokun-2023-05-30"),
        "fault-retry" => apply.push("p:baokun-2024-04-15"),
        _ => {}
    }
    match val("migrate_guard") {
        "flag-retval" => apply.push("p:aneesh-2008-03-13"),
        "flag-buffer-new" => apply.push("267e4db9ac28"),
        _ => {}
    }
    match val("flag_switch_writeback") {
        "inside-handle" => apply.extend(["p:ross-2017-09-05", "h:wb-inside-handle"]),
        "outside-handle" => apply.push("p:ross-2017-09-05"),
        _ => {}
    }
    if val("dax_flip_mapped") == "ebusy" {
        if !apply.contains(&"p:ross-2017-09-05") {
            apply.push("p:ross-2017-09-05");
        }
        apply.push("p:jan-2017-09-ebusy-if-mapped");
    }
    if val("dio_begin") == "early" || val("writepages_dio_check") == "unwritten-if-dio" {
        apply.push("p:jan-2019-11-29");
        if val("dio_begin_barrier") != "smp_mb__after_atomic" {
            apply.push("h:no-mb-after-dio-begin");
        }
    }
    if val("mkwrite_get_block") == "ext4_dio_check_get_block" {
        if !apply.contains(&"p:jan-2019-11-29") {
            apply.push("p:jan-2019-11-29");
        }
        apply.push("p:ritesh-2019-12-03");
    }
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_string).collect();
    (owned(apply), owned(revert))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::history::{resolve_changes, Change};

    #[test]
    fn first_built_ins_map_onto_registry_changes() {
        let sw = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        /// (switch values, the version they mean, a change, whether applied)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Change, bool);
        let cases: &[Case] = &[
            (
                &[("inline_convert", "pagecache-lock-page-first")],
                "v4.12",
                Change::TedConvertThroughPagecache,
                true,
            ),
            (
                &[("inline_convert", "jbd2")],
                "v4.12",
                Change::TedConvertThroughPagecache,
                false,
            ),
            (
                &[("mkwrite_inline", "none")],
                "v6.9",
                Change::MkwriteConvertsInline,
                false,
            ),
            (
                &[("mkwrite_inline", "xattr-sem")],
                "v6.9",
                Change::MkwriteConvertsInline,
                true,
            ),
            (
                &[("migrate_guard", "flag-buffer-new")],
                "v2.6.25",
                Change::MigrateVsMmapWrite,
                true,
            ),
            (
                &[
                    ("flag_switch_writeback", "outside-handle"),
                    ("dax_flip_mapped", "ebusy"),
                ],
                "v4.13",
                Change::JanEbusyIfMapped,
                true,
            ),
            (
                &[
                    ("dio_begin", "early"),
                    ("dio_begin_barrier", "none"),
                    ("writepages_dio_check", "unwritten-if-dio"),
                    ("mkwrite_get_block", "ext4_dio_check_get_block"),
                ],
                "v5.5",
                Change::NoBarrierAfterDioBegin,
                true,
            ),
        ];
        for (pairs, version, change, want) in cases {
            let s = sw(pairs);
            let names: Vec<&str> = s.keys().map(String::as_str).collect();
            let v = format1_version(&names);
            assert_eq!(v.to_string(), *version, "{pairs:?}");
            let (apply, revert) = format1_changes(&s);
            let set =
                resolve_changes(v, &apply, &revert).unwrap_or_else(|e| panic!("{pairs:?}: {e}"));
            assert_eq!(set.contains(*change), *want, "{pairs:?}");
        }
        assert_eq!(format1_version(&["knob"]), KernelVersion::LATEST);
        assert_eq!(format1_changes(&sw(&[("knob", "on")])), (vec![], vec![]));
    }
}
