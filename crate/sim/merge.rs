//! Combining the reports of the shards of one exploration into one report
//! (`ext4lab merge`, the page's worker pool).
//!
//! Rules. The shards of one exploration are `(i, n)` for every `i` in
//! `0..n`, each exactly once: a missing or duplicate shard, or shards of
//! different counts, is an error naming it ([`check_shard_set`]).
//! Counters add up; the search is exhausted only if every shard's is, and
//! stopped at a find (`Stats::stopped_at_find`) if any shard's was.
//! Outcomes are merged by their key (kind, tasks, locks, blocks, site):
//! counts add up, and of the schedules showing one the merged record keeps
//! the one with the fewest preemptions, the shortest, and the first found
//! (by execution index), ties broken by the smaller token so the result
//! does not depend on the order of the parts. Learned lock-graph edges are
//! the union.
//!
//! Counts. A DFS shard counts only its own executions, so executions add
//! up to the unsharded search's under naive DFS. Under DPOR each shard
//! prunes with what it explored itself, so the shards together run more
//! executions than one unsharded search (the overlap); the outcomes are
//! the same (module doc of `sched::dfs`). A lock-order inversion is
//! reported by every shard that closes the cycle in its lock graph, so its
//! merged count is the number of shards that saw it, not of executions.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::explore::{OutcomeRecord, Report, Stats};
use super::oracle::OutcomeKey;

/// Why a set of shard results cannot be merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// No results.
    Empty,
    /// Results of different shard counts (`I/N` with different N).
    MixedCounts { first: u32, other: u32 },
    /// A shard index outside `1..=N` (1-based as the CLI writes it).
    OutOfRange { shard: u32, count: u32 },
    /// The same shard twice (1-based).
    Duplicate { shard: u32, count: u32 },
    /// Shards not given (1-based).
    Missing { shards: Vec<u32>, count: u32 },
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::Empty => write!(f, "no shard results to merge"),
            MergeError::MixedCounts { first, other } => write!(
                f,
                "shards of different splits: /{first} and /{other} are not parts of one exploration"
            ),
            MergeError::OutOfRange { shard, count } => {
                write!(
                    f,
                    "shard {shard}/{count} does not exist (1 <= I <= {count})"
                )
            }
            MergeError::Duplicate { shard, count } => {
                write!(f, "shard {shard}/{count} is given twice")
            }
            MergeError::Missing { shards, count } => {
                let names: Vec<String> = shards.iter().map(|s| format!("{s}/{count}")).collect();
                write!(
                    f,
                    "missing shard{} {}",
                    if shards.len() > 1 { "s" } else { "" },
                    names.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for MergeError {}

/// Checks that `shards` (0-based index, count) are every shard of one
/// split exactly once.
pub fn check_shard_set(shards: &[(u32, u32)]) -> Result<(), MergeError> {
    let Some(&(_, n)) = shards.first() else {
        return Err(MergeError::Empty);
    };
    let mut have = BTreeSet::new();
    for &(i, m) in shards {
        if m != n {
            return Err(MergeError::MixedCounts { first: n, other: m });
        }
        if i >= n {
            return Err(MergeError::OutOfRange {
                shard: i + 1,
                count: n,
            });
        }
        if !have.insert(i) {
            return Err(MergeError::Duplicate {
                shard: i + 1,
                count: n,
            });
        }
    }
    let missing: Vec<u32> = (0..n)
        .filter(|i| !have.contains(i))
        .map(|i| i + 1)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(MergeError::Missing {
            shards: missing,
            count: n,
        })
    }
}

/// The counters of the parts together.
pub fn merge_stats(parts: &[&Stats]) -> Stats {
    let mut s = Stats {
        exhausted: !parts.is_empty(),
        ..Stats::default()
    };
    for p in parts {
        s.executions += p.executions;
        s.complete += p.complete;
        s.cut_by_step_limit += p.cut_by_step_limit;
        s.deadlocks += p.deadlocks;
        s.crashes += p.crashes;
        s.pruned_by_dpor += p.pruned_by_dpor;
        s.foreign_executions += p.foreign_executions;
        s.cut_runs += p.cut_runs;
        s.cut_steps += p.cut_steps;
        s.mispredicted_steps += p.mispredicted_steps;
        if s.first_misprediction.is_none() {
            s.first_misprediction.clone_from(&p.first_misprediction);
        }
        s.steps += p.steps;
        s.exhausted &= p.exhausted;
        s.budget_exhausted |= p.budget_exhausted;
        s.cancelled |= p.cancelled;
        s.reduction_given_up |= p.reduction_given_up;
        s.stopped_at_find |= p.stopped_at_find;
    }
    s
}

/// Merges outcome records by key (see the module doc), in key order.
pub fn merge_records<'a>(parts: impl IntoIterator<Item = &'a OutcomeRecord>) -> Vec<OutcomeRecord> {
    let mut by_key: BTreeMap<OutcomeKey, OutcomeRecord> = BTreeMap::new();
    for r in parts {
        let Some(have) = by_key.get_mut(&r.key) else {
            by_key.insert(r.key.clone(), r.clone());
            continue;
        };
        have.count += r.count;
        if (r.first_execution, &r.first_token) < (have.first_execution, &have.first_token) {
            have.first_execution = r.first_execution;
            have.first_token = r.first_token.clone();
            have.first = r.first.clone();
        }
        if (r.fewest_preemptions, &r.fewest_token) < (have.fewest_preemptions, &have.fewest_token) {
            have.fewest_preemptions = r.fewest_preemptions;
            have.fewest_token = r.fewest_token.clone();
            have.fewest = r.fewest.clone();
        }
        if (r.shortest_len, &r.shortest_token) < (have.shortest_len, &have.shortest_token) {
            have.shortest_len = r.shortest_len;
            have.shortest_token = r.shortest_token.clone();
        }
    }
    by_key.into_values().collect()
}

/// One report of the parts' reports (the shard set is not checked here:
/// see [`check_shard_set`]).
pub fn merge_reports(parts: &[Report]) -> Report {
    let mut stats = merge_stats(&parts.iter().map(|p| &p.stats).collect::<Vec<_>>());
    let outcomes = merge_records(parts.iter().flat_map(|p| &p.outcomes));
    stats.distinct_outcomes = outcomes.len() as u64;
    let lock_graph: BTreeSet<(String, String)> = parts
        .iter()
        .flat_map(|p| p.lock_graph.iter().cloned())
        .collect();
    let mut typed: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for p in parts {
        for (a, b, t) in &p.lock_graph_typed {
            typed
                .entry((a.clone(), b.clone()))
                .or_default()
                .extend(t.split('|').map(str::to_string));
        }
    }
    Report {
        stats,
        outcomes,
        schedules: parts
            .iter()
            .flat_map(|p| p.schedules.iter().cloned())
            .collect(),
        lock_graph: lock_graph.into_iter().collect(),
        lock_graph_typed: typed
            .into_iter()
            .map(|((a, b), t)| (a, b, t.into_iter().collect::<Vec<_>>().join("|")))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_sets() {
        assert_eq!(check_shard_set(&[(1, 3), (0, 3), (2, 3)]), Ok(()));
        assert_eq!(check_shard_set(&[]), Err(MergeError::Empty));
        assert_eq!(
            check_shard_set(&[(0, 3), (2, 3)]),
            Err(MergeError::Missing {
                shards: vec![2],
                count: 3
            })
        );
        let dup = check_shard_set(&[(0, 2), (1, 2), (1, 2)]).unwrap_err();
        assert_eq!(dup.to_string(), "shard 2/2 is given twice");
        assert_eq!(
            check_shard_set(&[(0, 2), (1, 4)]),
            Err(MergeError::MixedCounts { first: 2, other: 4 })
        );
        assert_eq!(
            check_shard_set(&[(0, 2), (3, 2)]),
            Err(MergeError::OutOfRange { shard: 4, count: 2 })
        );
        assert_eq!(
            check_shard_set(&[(0, 4), (2, 4)]).unwrap_err().to_string(),
            "missing shards 2/4, 4/4"
        );
    }
}
