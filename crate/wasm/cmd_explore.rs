//! Worker commands for running scenarios: what this build can run.
//!
//! Running a scenario needs the simulator's exploration driver (`crate/sim`)
//! and the kernel paths that turn a scenario into tasks (`crate/kernel`).
//! Until both are in the build, [`handle_capabilities`] says so, and the
//! page disables its run controls with that reason instead of showing
//! results it cannot have.

use serde::Serialize;

/// `{cmd: "capabilities"}`.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    /// Scenarios can be run and explored.
    pub explore: bool,
    /// What is missing when `explore` is false, in words for the page.
    pub missing: Vec<&'static str>,
}

pub fn handle_capabilities() -> Capabilities {
    Capabilities {
        explore: false,
        missing: vec![
            "the simulator's exploration driver (crate/sim)",
            "the kernel paths that run a scenario's tasks (crate/kernel)",
        ],
    }
}
