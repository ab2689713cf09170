//! Every expectation row of every built-in scenario, one test per
//! (scenario, variant), generated from the scenario files at run time: a
//! new variant or row needs no Rust.
//!
//! A variant's test explores each option set its rows name with DFS+DPOR
//! under the scenario's preemption bound (at most 2,000,000 executions) and
//! with PCT within the scenario's budget and seed. A "found" row passes
//! when the DFS shows the outcome (with the row's tasks and errno): the
//! table states what the exhaustive search finds; whether PCT also finds it
//! within the budget is printed on the row's line (two rows it misses: S5
//! no-barrier's lkmm stale read and S8 v5.5's lost write; tests/
//! scenario_sN.rs assert PCT where a scenario relies on it). An "absent"
//! row needs the DFS to finish without the outcome. Each row prints one
//! line with executions, seconds and completeness.
//!
//! The explorations take seconds to minutes in an optimized build and far
//! longer in a debug one, so every trial is ignored in debug builds; the
//! `tables` group of `scripts/test.sh` runs them with `--profile tables
//! -- --include-ignored`. Run one with e.g. `cargo test --profile tables
//! --test scenario_rows -- --include-ignored s5::v5.5`.

#[cfg(not(target_arch = "wasm32"))]
#[path = "common/rows.rs"]
mod rows;

/// Executions one variant's DFS may take (the largest built-in, S4 v4.13,
/// needs about 290,000).
#[cfg(not(target_arch = "wasm32"))]
const DFS_BUDGET: u64 = 2_000_000;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use libtest_mimic::{Arguments, Failed, Trial};

    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for b in ext4lab::scenario::builtins() {
        let sc = rows::scenario(b.id);
        for v in &sc.variants {
            let (id, variant) = (b.id, v.name.clone());
            let name = format!("{id}::{variant}");
            trials.push(
                Trial::test(name, move || {
                    let (lines, ok) = rows::check_rows_with(
                        id,
                        &variant,
                        |_| true,
                        DFS_BUDGET,
                        rows::FoundBy::Dfs,
                    );
                    for l in &lines {
                        eprintln!("{l}");
                    }
                    if lines.is_empty() {
                        return Err(Failed::from(format!(
                            "{id} {variant}: the scenario file has no rows for this variant"
                        )));
                    }
                    if !ok {
                        return Err(Failed::from(lines.join("\n")));
                    }
                    Ok(())
                })
                .with_ignored_flag(cfg!(debug_assertions)),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

#[cfg(target_arch = "wasm32")]
fn main() {}
