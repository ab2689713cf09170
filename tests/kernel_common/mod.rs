//! Shared helpers of the scenario table tests: explore every expectation
//! row of a built-in scenario and check it.

use std::rc::Rc;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::scenario::{builtin, parse_scenario, Presence, Scenario};
use ext4lab::sim::{OutcomeRecord, Strategy};

pub fn scenario(id: &str) -> Rc<Scenario> {
    let b = builtin(id).expect("built-in");
    Rc::new(parse_scenario(b.text).expect("parses"))
}

/// Whether `rec` matches the row: same kind, and every task the row names
/// is among the outcome's tasks, and the errno (for user errors).
fn matches(rec: &OutcomeRecord, kind: &str, tasks: &[String], errno: &[String]) -> bool {
    kind_name(&rec.key.kind) == kind
        && tasks.iter().all(|t| rec.key.tasks.contains(t))
        && (errno.is_empty() || errno.contains(&rec.first.message))
}

/// Explore every row of `variant` (DFS with DPOR under the scenario's
/// bound); returns a line per row and whether all passed.
pub fn check_variant(id: &str, variant: &str) -> (Vec<String>, bool) {
    let sc = scenario(id);
    let mut lines = Vec::new();
    let mut ok = true;
    let rows = sc.expectations().expect("rows");
    for (rc, e) in rows.iter().filter(|(rc, _)| rc.variant == variant) {
        let (_, rep) = explore_variant(&sc, variant, &rc.options, None, Some(20_000)).unwrap();
        let kind = e.kind.as_str();
        let hit = rep
            .outcomes
            .iter()
            .find(|r| matches(r, kind, &e.tasks, &e.errno));
        let pass = match e.expect {
            Presence::Found => hit.is_some(),
            Presence::Absent => {
                rep.stats.exhausted && !rep.outcomes.iter().any(|r| kind_name(&r.key.kind) == kind)
            }
        };
        ok &= pass;
        lines.push(format!(
            "{id} {variant} {:?} {kind} {:?}: {} (executions {}, exhausted {}, outcomes {:?})",
            rc.options,
            e.expect,
            if pass { "PASS" } else { "FAIL" },
            rep.stats.executions,
            rep.stats.exhausted,
            rep.outcomes
                .iter()
                .map(|r| format!("{}{:?}", kind_name(&r.key.kind), r.key.tasks))
                .collect::<Vec<_>>()
        ));
    }
    (lines, ok)
}

/// PCT within the scenario's budget finds the row's outcome.
pub fn pct_finds(
    id: &str,
    variant: &str,
    kind: &str,
    opts: &std::collections::BTreeMap<String, String>,
) -> bool {
    let sc = scenario(id);
    let (_, rep) = explore_variant(
        &sc,
        variant,
        opts,
        Some(Strategy::Pct {
            seed: sc.explore.seed,
            depth: 3,
        }),
        None,
    )
    .unwrap();
    rep.outcomes.iter().any(|r| kind_name(&r.key.kind) == kind)
}
