//! Every built-in scenario parses, validates, round-trips through TOML and
//! JSON, and resolves each of its expectations.

use ext4lab::scenario::{builtin, builtins, parse_scenario, Scenario};

#[test]
fn every_builtin_parses() {
    assert_eq!(builtins().len(), 5);
    for b in builtins() {
        let s = parse_scenario(b.text).unwrap_or_else(|e| panic!("{}: {e}", b.file));
        assert_eq!(s.meta.id, b.id);
        assert_eq!(s.meta.name, b.name);
        assert!(!b.title().is_empty());
        assert!(s.variants.len() >= 3, "{}", b.id);
    }
}

#[test]
fn toml_round_trip_is_identity() {
    for b in builtins() {
        let s = parse_scenario(b.text).unwrap();
        let text = ext4lab::scenario::scenario_to_text(&s).unwrap();
        let again = parse_scenario(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", b.id));
        assert_eq!(s, again, "{}", b.id);
    }
}

#[test]
fn json_round_trip_is_identity() {
    for b in builtins() {
        let s = parse_scenario(b.text).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let again: Scenario = serde_json::from_str(&json).unwrap();
        assert_eq!(s, again, "{}", b.id);
    }
}

#[test]
fn every_expectation_resolves() {
    for b in builtins() {
        let s = parse_scenario(b.text).unwrap();
        let rows = s.expectations().unwrap();
        assert!(!rows.is_empty());
        for (cfg, e) in rows {
            // The tasks an expectation names exist in its configuration.
            for t in &e.tasks {
                assert!(
                    cfg.tasks.iter().any(|&i| &s.tasks[i].name == t),
                    "{} {}: task {t} not present under {:?}",
                    b.id,
                    cfg.variant,
                    cfg.options
                );
            }
        }
    }
}

#[test]
fn s5_resolution_applies_variant_then_options() {
    let s = parse_scenario(builtin("s5").unwrap().text).unwrap();
    let opts = [("mount".to_string(), "nodelalloc".to_string())].into();
    let cfg = s.resolve("dioread-nolock", &opts).unwrap();
    assert!(cfg.mount.dioread_nolock);
    assert!(!cfg.mount.delalloc);
    assert_eq!(cfg.switch("dio_begin"), Some("late"));
    let cfg = s
        .resolve("dio-check-no-barrier", &Default::default())
        .unwrap();
    assert!(cfg.mount.delalloc);
    assert_eq!(cfg.switch("dio_begin_barrier"), Some("none"));
    assert_eq!(
        cfg.switch("mkwrite_get_block"),
        Some("ext4_dio_check_get_block")
    );
    assert!(s.resolve("no-such-variant", &Default::default()).is_err());
    let bad = [("mount".to_string(), "sync".to_string())].into();
    assert!(s.resolve("dio-begin-late", &bad).is_err());
}

#[test]
fn s4_flip_option_selects_one_t1() {
    let s = parse_scenario(builtin("s4").unwrap().text).unwrap();
    for flip in ["journal", "dax"] {
        let opts = [("flip".to_string(), flip.to_string())].into();
        let cfg = s.resolve("no-writeback", &opts).unwrap();
        let t1: Vec<_> = cfg
            .tasks
            .iter()
            .filter(|&&i| s.tasks[i].name == "T1")
            .collect();
        assert_eq!(t1.len(), 1, "{flip}");
    }
}
