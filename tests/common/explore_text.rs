//! Explore one variant of a scenario text under DFS with DPOR and a
//! preemption bound: the shared set-up of the kernel-path tests that carry
//! their own small program. One copy, included with `#[path]`.

use std::rc::Rc;

use ext4lab::kernel::runner::{explore_variant, kind_name};
use ext4lab::scenario::parse_scenario;
use ext4lab::sim::{Report, Strategy};

/// `variant` of `text` at its default options, under DFS+DPOR with
/// preemption bound `bound`, at most `budget` executions (`None`: the
/// scenario's own budget).
pub fn explore_text(text: &str, variant: &str, bound: u32, budget: Option<u64>) -> Report {
    explore_text_with(text, variant, &[], bound, budget)
}

/// [`explore_text`] with option values (`("data", "writeback")`).
pub fn explore_text_with(
    text: &str,
    variant: &str,
    options: &[(&str, &str)],
    bound: u32,
    budget: Option<u64>,
) -> Report {
    let sc = Rc::new(parse_scenario(text).unwrap_or_else(|e| panic!("{e}")));
    let strategy = Strategy::Dfs {
        preemption_bound: Some(bound),
        dpor: true,
    };
    let options = options
        .iter()
        .map(|&(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (_, rep) = explore_variant(&sc, variant, &options, Some(strategy), budget)
        .unwrap_or_else(|e| panic!("{variant}: {e}"));
    rep
}

/// The kinds of `rep`'s outcomes, in report order (`lost-write`, ...).
#[allow(dead_code)] // not every test that includes this file asks for kinds
pub fn outcome_kinds(rep: &Report) -> Vec<String> {
    rep.outcomes
        .iter()
        .map(|o| kind_name(&o.key.kind).to_string())
        .collect()
}
