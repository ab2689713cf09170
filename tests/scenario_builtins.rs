//! Every built-in scenario parses, validates, round-trips through TOML and
//! JSON, and resolves each of its expectations.

use ext4lab::scenario::{builtin, builtins, parse_scenario, Scenario};

#[test]
fn every_builtin_parses() {
    assert_eq!(builtins().len(), 8);
    for b in builtins() {
        let s = parse_scenario(b.text).unwrap_or_else(|e| panic!("{}: {e}", b.file));
        assert_eq!(s.meta.id, b.id);
        assert_eq!(s.meta.name, b.name);
        assert!(!b.title().is_empty());
        // A before and an after, at least; each seed race has three or more.
        let least = if b.id <= "s5" { 3 } else { 2 };
        assert!(s.variants.len() >= least, "{}", b.id);
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
    use ext4lab::scenario::history::Change;
    let s = parse_scenario(builtin("s5").unwrap().text).unwrap();
    let opts = [("mount".to_string(), "nodelalloc".to_string())].into();
    let cfg = s.resolve("dioread-nolock-default", &opts).unwrap();
    assert!(cfg.applied(Change::DioreadNolockDefault));
    assert!(cfg.applied(Change::DioreadNolockNeedsDelalloc));
    assert!(!cfg.mount.delalloc);
    assert_eq!(cfg.kernel.to_string(), "v5.5");
    let cfg = s.resolve("no-barrier", &Default::default()).unwrap();
    assert!(cfg.mount.delalloc);
    assert!(cfg.applied(Change::JanDioBeginEarly));
    assert!(cfg.applied(Change::NoBarrierAfterDioBegin));
    assert!(!cfg.applied(Change::RiteshDioCheckGetBlock));
    let cfg = s
        .resolve("ritesh-check-get-block", &Default::default())
        .unwrap();
    assert!(cfg.applied(Change::RiteshDioCheckGetBlock));
    assert!(!cfg.applied(Change::NoBarrierAfterDioBegin));
    assert!(s.resolve("no-such-variant", &Default::default()).is_err());
    let bad = [("mount".to_string(), "sync".to_string())].into();
    assert!(s.resolve("v5.5", &bad).is_err());
}

#[test]
fn s4_t2_option_selects_one_t2() {
    let s = parse_scenario(builtin("s4").unwrap().text).unwrap();
    for t2 in ["store", "store-unmap"] {
        let opts = [("t2".to_string(), t2.to_string())].into();
        let cfg = s.resolve("v4.13", &opts).unwrap();
        let n: Vec<_> = cfg
            .tasks
            .iter()
            .filter(|&&i| s.tasks[i].name == "T2")
            .collect();
        assert_eq!(n.len(), 1, "{t2}");
        assert!(cfg.mount.dax);
        assert_eq!(cfg.kernel.to_string(), "v4.13");
    }
}
