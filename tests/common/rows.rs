//! Shared helpers of the scenario table tests: explore every expectation
//! row of a built-in scenario and check it.
#![allow(dead_code)] // each test binary uses a part

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

/// How a "found" row must be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoundBy {
    /// By DFS+DPOR under the scenario's preemption bound (the exhaustive
    /// search's verdict); PCT's result is reported, not required.
    Dfs,
    /// By both that DFS and PCT within the scenario's budget and seed.
    PctAndDfs,
}

/// Explore every row of `variant` matching `filter` (on the row's options).
/// A "found" row is looked for with DFS+DPOR under the scenario's
/// preemption bound (at most `dfs_budget` executions) and with PCT within
/// the scenario's budget and seed, and passes as `found_by` says; an
/// "absent" row needs DFS to finish (every schedule within the bound)
/// without the outcome. Explorations are shared by the rows of one option
/// set: one PCT run and one DFS run per set, whatever the number of rows.
/// Returns a line per row and whether all passed.
pub fn check_rows_with(
    id: &str,
    variant: &str,
    filter: impl Fn(&std::collections::BTreeMap<String, String>) -> bool,
    dfs_budget: u64,
    found_by: FoundBy,
) -> (Vec<String>, bool) {
    check_scenario_rows(&scenario(id), variant, filter, dfs_budget, found_by)
}

/// [`check_rows_with`] on any scenario (a text a test carries). An
/// "absent" row is claimed under the scenario's own preemption bound, or
/// in every interleaving when it says `preemption_bound = "none"`; each
/// line says which.
pub fn check_scenario_rows(
    sc: &Rc<Scenario>,
    variant: &str,
    filter: impl Fn(&std::collections::BTreeMap<String, String>) -> bool,
    dfs_budget: u64,
    found_by: FoundBy,
) -> (Vec<String>, bool) {
    use std::collections::BTreeMap;
    let id = sc.meta.id.as_str();
    let claim = match sc.bound_of(variant) {
        Some(b) => format!("bound {b}"),
        None => "every interleaving".to_string(),
    };
    let mut lines = Vec::new();
    let mut ok = true;
    let rows = sc.expectations().expect("rows");
    let mut pct_runs: BTreeMap<BTreeMap<String, String>, ext4lab::sim::Report> = BTreeMap::new();
    let mut dfs_runs: BTreeMap<BTreeMap<String, String>, (ext4lab::sim::Report, f64)> =
        BTreeMap::new();
    for (rc, e) in rows
        .iter()
        .filter(|(rc, _)| rc.variant == variant && filter(&rc.options))
    {
        let kind = e.kind.as_str();
        let dfs = dfs_runs.entry(rc.options.clone()).or_insert_with(|| {
            let t = std::time::Instant::now();
            let (_, rep) =
                explore_variant(sc, variant, &rc.options, None, Some(dfs_budget)).unwrap();
            (rep, t.elapsed().as_secs_f64())
        });
        let (rep, secs) = (&dfs.0, dfs.1);
        let dfs_how = format!(
            "dfs {claim}: {} executions, {secs:.1} s, complete {}",
            rep.stats.executions, rep.stats.exhausted
        );
        let (pass, how) = match e.expect {
            Presence::Found => {
                let by_dfs = rep
                    .outcomes
                    .iter()
                    .any(|r| matches(r, kind, &e.tasks, &e.errno));
                let pct_rep = pct_runs.entry(rc.options.clone()).or_insert_with(|| {
                    let pct = Strategy::Pct {
                        seed: sc.explore.seed,
                        depth: sc.explore.pct_depth.max(1),
                    };
                    explore_variant(sc, variant, &rc.options, Some(pct), None)
                        .unwrap()
                        .1
                });
                let by_pct = pct_rep
                    .outcomes
                    .iter()
                    .any(|r| matches(r, kind, &e.tasks, &e.errno));
                let pass = match found_by {
                    FoundBy::Dfs => by_dfs,
                    FoundBy::PctAndDfs => by_pct && by_dfs,
                };
                (
                    pass,
                    format!(
                        "pct {by_pct} ({} executions), dfs {by_dfs} ({dfs_how})",
                        pct_rep.stats.executions
                    ),
                )
            }
            Presence::Absent => {
                let seen = rep.outcomes.iter().any(|r| kind_name(&r.key.kind) == kind);
                (
                    rep.stats.exhausted && !seen,
                    format!("{dfs_how}, seen {seen}"),
                )
            }
        };
        ok &= pass;
        lines.push(format!(
            "{id} {variant} {:?} {kind} {:?}: {} ({how})",
            rc.options,
            e.expect,
            if pass { "PASS" } else { "FAIL" },
        ));
    }
    (lines, ok)
}

/// Print a table check's lines (the per-row report) and fail unless it
/// checked at least one row and every row passed.
#[allow(dead_code)]
pub fn assert_rows((lines, ok): (Vec<String>, bool)) {
    for l in &lines {
        eprintln!("{l}");
    }
    assert!(!lines.is_empty());
    assert!(ok, "{lines:#?}");
}

#[allow(dead_code)]
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

/// The "found" rows of `variant`, each looked for with PCT alone (the
/// scenario's seed and budget); the outcome must name the row's tasks.
#[allow(dead_code)]
pub fn check_found_by_pct(id: &str, variant: &str) -> (Vec<String>, bool) {
    let sc = scenario(id);
    let mut lines = Vec::new();
    let mut ok = true;
    for (rc, e) in sc.expectations().expect("rows") {
        if rc.variant != variant || e.expect != Presence::Found {
            continue;
        }
        let pct = Strategy::Pct {
            seed: sc.explore.seed,
            depth: sc.explore.pct_depth.max(1),
        };
        let (_, rep) = explore_variant(&sc, variant, &rc.options, Some(pct), None).unwrap();
        let kind = e.kind.as_str();
        let hit = rep
            .outcomes
            .iter()
            .any(|r| matches(r, kind, &e.tasks, &e.errno));
        ok &= hit;
        lines.push(format!(
            "{id} {variant} {:?} {kind} found by PCT in {} executions: {}",
            rc.options,
            rep.stats.executions,
            if hit { "PASS" } else { "FAIL" }
        ));
    }
    (lines, ok)
}
