//! Running, as plain serde data in and out: exploration (one shard `I/N`
//! per worker, progress reported to an [`Observer`]), replay of a token
//! with its trace, the trace's Chrome trace-event JSON, manual stepping
//! (stateless: the page sends the whole choice prefix, so undo is dropping
//! the last one), finding a link's outcome again, and the disk image after
//! a step. These are the worker's `capabilities`, `explore`, `merge`,
//! `replay`, `refind`, `chrome-trace`, `manual` and `image` commands;
//! `crate/wasm/cmd_explore.rs` adds only what is JavaScript's (progress
//! posted to the page, the image's bytes as a `Uint8Array`, the base images
//! the worker holds).
//!
//! What runs is a [`Target`]: a scenario (text, variant, options), built
//! into a model by the kernel paths (`crate/kernel`: the image recipe on the
//! engine's mkfs, the tasks, the oracles), or one of the simulator's
//! reference models (`crate/sim/models.rs`), labelled as such on the page.
//! A scenario target may start from a stored image ([`BaseRef`]); its bytes
//! come from the caller ([`BaseBytes`]). [`image_at_step`] gives the disk
//! image after a schedule prefix.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::base::{BaseBytes, BaseFailure, BaseRef};
use crate::kernel::base_image::build_image_on;
use crate::kernel::image::{build_image, ScenarioImage};
use crate::kernel::runner::{run_options, scenario_model};
use crate::scenario::link::dfs_bound;
use crate::scenario::{parse_scenario, CustomKernel, RunConfig, Scenario};
use crate::sim::explore::{self as sim_explore, ExploreConfig, Observer, OutcomeRecord, Stats};
use crate::sim::sched::replay::Replay;
use crate::sim::sched::DecisionKind;
use crate::sim::trace::Trace;
use crate::sim::{models, EndKind, Model, Outcome, RunOptions, Schedule, Strategy};
use crate::view::Failure;

/// `{cmd: "capabilities"}`.
#[derive(Debug, Serialize)]
pub struct Capabilities {
    /// Scenarios can be run and explored.
    pub explore: bool,
    /// What is missing when `explore` is false, in words for the page.
    pub missing: Vec<&'static str>,
    /// The simulator's reference models can be run.
    pub models: Vec<ModelInfo>,
}

#[derive(Debug, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub doc: &'static str,
}

const MODELS: &[(&str, &str)] = &[
    ("abba_mutex", "T0 takes A then B, T1 takes B then A: a deadlock in some schedules."),
    ("rwsem_writer_fair", "T0 holds rwsem A for read and wants B; T1 holds B and wants A for read; T2 queues down_write(A): writer fairness closes the cycle."),
    ("rwsem_two_readers", "The same inversion without the writer: two readers never deadlock, but lockdep reports the inversion."),
    ("serialized_inversion", "A and B taken in both orders under an outer lock C: lockdep reports it, no schedule deadlocks."),
    ("store_buffering", "Store buffering without a barrier (weak memory): r0 = r1 = 0 is reachable."),
    ("store_buffering_mb", "Store buffering with smp_mb(): r0 = r1 = 0 is not reachable."),
    ("lost_update", "Two tasks read, preempt, write an unprotected counter: v=1 is a lost update."),
];

pub fn capabilities() -> Capabilities {
    Capabilities {
        explore: true,
        missing: vec![],
        models: MODELS
            .iter()
            .map(|&(name, doc)| ModelInfo { name, doc })
            .collect(),
    }
}

/// What to run: `{kind: "scenario", text, variant, options}` or `{kind:
/// "model", name}`. Read through [`TargetWire`] (a plain struct) rather
/// than as an internally tagged enum, which serde buffers through its
/// `Content` type (and compiles that machinery again for it: wasm size).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "TargetWire")]
pub enum Target {
    Scenario {
        text: String,
        variant: String,
        #[serde(default)]
        options: BTreeMap<String, String>,
        /// Start from this stored image (its bytes from the caller's
        /// [`BaseBytes`]: the worker's `device::base`) instead of the
        /// recipe's mkfs.
        #[serde(default)]
        base: Option<BaseRef>,
        /// The variant's kernel changed (the page's custom kernel: a
        /// version, changes applied and reverted).
        #[serde(default)]
        custom: Option<CustomKernel>,
    },
    Model {
        name: String,
    },
}

impl Target {
    /// A scenario target parsed and resolved (with its custom kernel), and
    /// the base image it names. A reference model is not a scenario.
    pub fn resolved(&self) -> Result<(Scenario, RunConfig, &Option<BaseRef>), Failure> {
        let Target::Scenario {
            text,
            variant,
            options,
            base,
            custom,
        } = self
        else {
            return Err(Failure::new(
                "not-a-scenario",
                "a reference model has no scenario".into(),
            ));
        };
        let sc = parse_scenario(text).map_err(|e| Failure::new("bad-scenario", e.render()))?;
        let rc = sc
            .resolve_custom(variant, options, custom.as_ref())
            .map_err(|e| Failure::new("bad-choice", e.render()))?;
        Ok((sc, rc, base))
    }
}

/// The scenario's starting image: the recipe on the engine's mkfs, or on a
/// copy of the base image the target names (its bytes from `bases`).
pub fn scenario_image(
    sc: &Scenario,
    base: &Option<BaseRef>,
    bases: BaseBytes,
) -> Result<ScenarioImage, Failure> {
    let Some(r) = base else {
        return build_image(sc).map_err(|e| Failure::new("image", e.to_string()));
    };
    let bytes = bases(r).ok_or_else(|| {
        let f = BaseFailure::NotLoaded(r.clone());
        Failure::new(f.kind(), f.message(&r.name))
    })?;
    build_image_on(sc, &bytes).map_err(|e| {
        let f = BaseFailure::Unfit(e);
        Failure::new(f.kind(), f.message(&r.name))
    })
}

#[derive(Deserialize)]
pub struct TargetWire {
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    options: BTreeMap<String, String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    base: Option<BaseRef>,
    #[serde(default)]
    custom: Option<CustomKernel>,
}

impl TryFrom<TargetWire> for Target {
    type Error = String;
    fn try_from(w: TargetWire) -> Result<Target, String> {
        match w.kind.as_str() {
            "scenario" => Ok(Target::Scenario {
                text: w.text.ok_or("missing field `text`")?,
                variant: w.variant.ok_or("missing field `variant`")?,
                options: w.options,
                base: w.base,
                custom: w.custom,
            }),
            "model" => Ok(Target::Model {
                name: w.name.ok_or("missing field `name`")?,
            }),
            other => Err(format!(
                "unknown target kind `{other}`, expected `scenario` or `model`"
            )),
        }
    }
}

/// The model and run options for a target.
/// The declared lock order of a target: ext4's in the scenario variant's
/// kernel version; none for a reference model.
fn lock_order_for(t: &Target) -> crate::sim::LockOrder {
    match t {
        Target::Scenario { .. } => t
            .resolved()
            .map(|(_, rc, _)| crate::kernel::runner::lock_order(&rc))
            .unwrap_or_default(),
        Target::Model { .. } => crate::sim::LockOrder::none(),
    }
}

pub fn model_for(t: &Target, bases: BaseBytes) -> Result<(Model, RunOptions), Failure> {
    let mut opts = RunOptions::default();
    match t {
        Target::Scenario { .. } => {
            let (sc, rc, base) = t.resolved()?;
            let img = scenario_image(&sc, base, bases)?;
            let opts = run_options(&sc, &rc);
            Ok((scenario_model(Rc::new(sc), rc, Rc::new(img)), opts))
        }
        Target::Model { name } => {
            let m = match name.as_str() {
                "abba_mutex" => models::abba_mutex(),
                "rwsem_writer_fair" => models::rwsem_writer_fair(true),
                "rwsem_two_readers" => models::rwsem_writer_fair(false),
                "serialized_inversion" => models::serialized_inversion(),
                "store_buffering" | "store_buffering_mb" => {
                    opts.memory = crate::sim::MemoryModel::X86;
                    opts.store_window = 4;
                    models::store_buffering(name == "store_buffering_mb")
                }
                "lost_update" => models::lost_update(),
                other => {
                    return Err(Failure::new(
                        "unknown-model",
                        format!("no reference model `{other}`"),
                    ))
                }
            };
            Ok((m, opts))
        }
    }
}

/// The strategy as the page and the share link name it: `{kind:
/// "random"}`, `{kind: "pct", depth}`, `{kind: "dfs", bound}` (read
/// through a plain struct, like [`Target`]).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "StrategyWire")]
pub enum PageStrategy {
    Random,
    Pct { depth: u32 },
    Dfs { bound: u32 },
}

#[derive(Deserialize)]
pub struct StrategyWire {
    kind: String,
    #[serde(default)]
    depth: Option<u32>,
    #[serde(default)]
    bound: Option<u32>,
}

impl TryFrom<StrategyWire> for PageStrategy {
    type Error = String;
    fn try_from(w: StrategyWire) -> Result<PageStrategy, String> {
        match w.kind.as_str() {
            "random" => Ok(PageStrategy::Random),
            "pct" => Ok(PageStrategy::Pct {
                depth: w.depth.ok_or("missing field `depth`")?,
            }),
            "dfs" => Ok(PageStrategy::Dfs {
                bound: w.bound.ok_or("missing field `bound`")?,
            }),
            other => Err(format!(
                "unknown strategy `{other}`, expected `random`, `pct` or `dfs`"
            )),
        }
    }
}

/// `{cmd: "explore", target, strategy, seed, maxExecutions, shard, progressId}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExploreReq {
    pub target: Target,
    pub strategy: PageStrategy,
    #[serde(default)]
    pub seed: u64,
    pub max_executions: u64,
    /// `(index, count)`, 0-based: this worker's disjoint part.
    #[serde(default = "whole")]
    pub shard: (u32, u32),
    /// Posted back with each progress message so the page knows whose it is.
    #[serde(default)]
    pub progress_id: u32,
    #[serde(default = "every")]
    pub progress_every: u64,
    /// Scenario outcome kind names (`lost-write`...): stop once each has
    /// shown (`ExploreConfig::stop_when_found`; the page's "Find the race").
    #[serde(default)]
    pub stop_when_found: Vec<String>,
}

fn whole() -> (u32, u32) {
    (0, 1)
}
fn every() -> u64 {
    200
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExploreBody {
    pub stats: Stats,
    pub outcomes: Vec<OutcomeRecord>,
    pub lock_graph: Vec<(String, String)>,
    /// The replay token of every execution, for a single run (so the page
    /// can show its trace even when it had no outcome); empty otherwise.
    pub tokens: Vec<String>,
}

/// `{cmd: "explore", ...}`: one shard of the exploration of the target,
/// `obs` told the progress every `progress_every` executions (the worker
/// posts it to the page; cancelling is the page's: it terminates the
/// worker).
pub fn explore(
    req: ExploreReq,
    bases: BaseBytes,
    obs: &mut dyn Observer,
) -> Result<ExploreBody, Failure> {
    let (model, run) = model_for(&req.target, bases)?;
    let strategy = match req.strategy {
        PageStrategy::Random => Strategy::Random { seed: req.seed },
        PageStrategy::Pct { depth } => Strategy::Pct {
            seed: req.seed,
            depth,
        },
        PageStrategy::Dfs { bound } => Strategy::Dfs {
            preemption_bound: dfs_bound(bound),
            dpor: true,
        },
    };
    let (i, n) = req.shard;
    if n == 0 || i >= n {
        return Err(Failure::new("bad-shard", format!("shard {i}/{n}")));
    }
    let stop_when_found = crate::kernel::runner::kind_groups(&req.stop_when_found)
        .map_err(|e| Failure::new("bad-message", format!("stopWhenFound: {e}")))?;
    let cfg = ExploreConfig {
        strategy,
        stop_when_found,
        max_executions: req.max_executions.max(1),
        shard: (i, n),
        run,
        keep_schedules: req.max_executions <= 1,
        declared_order: lock_order_for(&req.target),
        progress_every: req.progress_every.max(1),
        ..Default::default()
    };
    let report = sim_explore::explore(&model, &cfg, obs);
    Ok(ExploreBody {
        stats: report.stats,
        outcomes: report.outcomes,
        lock_graph: report.lock_graph,
        tokens: report.schedules.iter().map(Schedule::to_token).collect(),
    })
}

/// `{cmd: "merge", parts}`: the workers' shard reports as one, by the
/// rules `ext4lab merge` uses (`sim::merge`).
#[derive(Debug, Deserialize)]
pub struct MergeReq {
    pub parts: Vec<ExploreBody>,
}

pub fn merge(req: MergeReq) -> Result<ExploreBody, Failure> {
    if req.parts.is_empty() {
        return Err(Failure::new("bad-message", "nothing to merge".into()));
    }
    let reports: Vec<crate::sim::Report> = req
        .parts
        .iter()
        .map(|p| crate::sim::Report {
            stats: p.stats.clone(),
            outcomes: p.outcomes.clone(),
            schedules: Vec::new(),
            lock_graph: p.lock_graph.clone(),
            lock_graph_typed: Vec::new(),
        })
        .collect();
    let merged = crate::sim::merge_reports(&reports);
    Ok(ExploreBody {
        stats: merged.stats,
        outcomes: merged.outcomes,
        lock_graph: merged.lock_graph,
        tokens: req.parts.into_iter().flat_map(|p| p.tokens).collect(),
    })
}

/// `{cmd: "replay", target, token}`: one execution with its trace.
#[derive(Debug, Deserialize)]
pub struct ReplayReq {
    pub target: Target,
    pub token: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunBody {
    pub token: String,
    pub end: EndKind,
    pub steps: u32,
    pub preemptions: u32,
    pub outcomes: Vec<Outcome>,
    pub trace: Option<Trace>,
    /// FNV-1a 64 of the trace, 16 hex digits.
    pub trace_hash: Option<String>,
    pub divergence: Option<String>,
    /// The step at which the replayed schedule stopped fitting the model.
    pub divergence_step: Option<u32>,
    /// Manual mode: the decision the run stopped at.
    pub pending: Option<Pending>,
}

#[derive(Debug, Serialize)]
pub struct Pending {
    /// "schedule" or "value".
    pub kind: &'static str,
    /// For a value decision: choices are 0..n.
    pub n: u32,
    pub candidates: Vec<u32>,
    pub labels: Vec<String>,
    pub preemptive: Vec<bool>,
}

fn body(exec: crate::sim::Execution, pending: Option<Pending>) -> RunBody {
    RunBody {
        token: exec.token(),
        end: exec.end,
        steps: exec.steps,
        preemptions: exec.preemptions,
        trace_hash: exec.trace_hash().map(|h| format!("{h:016x}")),
        outcomes: exec.outcomes,
        trace: exec.trace,
        divergence_step: exec.divergence.as_ref().map(|d| d.step),
        divergence: exec.divergence.map(|d| d.message),
        pending,
    }
}

pub fn replay(req: ReplayReq, bases: BaseBytes) -> Result<RunBody, Failure> {
    let (model, opts) = model_for(&req.target, bases)?;
    let exec = sim_explore::replay(&model, &req.token, &opts)
        .map_err(|e| Failure::new("bad-token", e.to_string()))?;
    Ok(body(exec, None))
}

/// `{cmd: "refind", fragment, kind?}`: the page's "find it again" for a
/// link whose schedule no longer replays (made by another engine): explore
/// the link's variant and options (today's text of its built-in, the
/// scenario's own strategy) for the outcome kind the link shows (or `kind`)
/// and answer the shortest schedule found as a new link. The same as
/// `ext4lab replay --refind` (`kernel::runner::refind`).
#[derive(Debug, Deserialize)]
pub struct RefindReq {
    pub fragment: String,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RefindBody {
    /// The new link, `#v3.` included.
    pub fragment: String,
    pub kind: String,
    /// Choices in the schedule found.
    pub steps: u32,
    pub executions: u64,
    /// The engine the old link was made with ("ext4lab 0.1 ...").
    pub made_with: String,
}

pub fn refind(req: RefindReq, bases: BaseBytes) -> Result<RefindBody, Failure> {
    use crate::scenario::link::{decode_link, LinkError};
    let link = match decode_link(&req.fragment) {
        Ok(l) => l,
        // a built-in changed since: find it again in today's text
        Err(LinkError::HashMismatch { link, .. }) => *link,
        Err(e) => return Err(Failure::new("bad-link", e.to_string())),
    };
    let kind = req.kind.or_else(|| link.outcome.clone()).ok_or_else(|| {
        Failure::new(
            "link-no-outcome",
            format!(
                "the link does not say which outcome it showed (made with {})",
                link.made_with()
            ),
        )
    })?;
    if !crate::scenario::OutcomeKind::ALL
        .iter()
        .any(|k| k.as_str() == kind)
    {
        return Err(Failure::new(
            "bad-kind",
            format!("`{kind}` is not an outcome kind"),
        ));
    }
    let (sc, rc) = link
        .open()
        .map_err(|e| Failure::new("bad-link", e.to_string()))?;
    let base = link.base.as_ref().map(|b| BaseRef {
        name: b.name.clone(),
        hash: b.hash.clone(),
    });
    let img = Rc::new(scenario_image(&sc, &base, bases)?);
    let sc = Rc::new(sc);
    let (report, rec) = crate::kernel::runner::refind(&sc, &rc, img, &kind);
    let rec = rec.ok_or_else(|| {
        Failure::new(
            "not-found",
            format!(
                "no {kind} in {} executions of {} / {} ({})",
                report.stats.executions,
                sc.meta.name,
                rc.variant,
                if report.stats.exhausted {
                    "every schedule within the bound explored"
                } else {
                    "budget reached"
                }
            ),
        )
    })?;
    let mut new = link.refound(
        rec.shortest_token.clone(),
        sc.preemption_bound_of(&rc.variant),
    );
    new.outcome = Some(kind.clone());
    Ok(RefindBody {
        fragment: crate::scenario::link::encode_link(&new),
        kind,
        steps: rec.shortest_len,
        executions: report.stats.executions,
        made_with: link.made_with(),
    })
}

/// `{cmd: "chrome-trace", target, token}`: the trace as Chrome trace-event
/// JSON text (opens in Perfetto).
pub fn chrome_trace(req: ReplayReq, bases: BaseBytes) -> Result<ChromeBody, Failure> {
    let (model, opts) = model_for(&req.target, bases)?;
    let exec = sim_explore::replay(&model, &req.token, &opts)
        .map_err(|e| Failure::new("bad-token", e.to_string()))?;
    let trace = exec
        .trace
        .ok_or_else(|| Failure::new("no-trace", "the replay recorded no trace".into()))?;
    Ok(ChromeBody {
        json: trace.to_chrome_json().to_string(),
    })
}

#[derive(Debug, Serialize)]
pub struct ChromeBody {
    pub json: String,
}

/// `{cmd: "manual", target, choices}`: replays the choices, stops at the
/// next decision and lists its candidates.
#[derive(Debug, Deserialize)]
pub struct ManualReq {
    pub target: Target,
    pub choices: Vec<u32>,
}

pub fn manual(req: ManualReq, bases: BaseBytes) -> Result<RunBody, Failure> {
    let (model, mut opts) = model_for(&req.target, bases)?;
    opts.trace = true;
    let mut r = Replay::new(&Schedule(req.choices));
    let exec = model.run(&mut r, &opts);
    let pending = if exec.end == EndKind::Stopped {
        r.stopped.map(|p| Pending {
            kind: match p.kind {
                DecisionKind::Schedule => "schedule",
                DecisionKind::Value(_) => "value",
            },
            n: match p.kind {
                DecisionKind::Value(n) => n,
                DecisionKind::Schedule => 0,
            },
            candidates: p.candidates.iter().map(|a| u32::from(a.0)).collect(),
            labels: p.labels,
            preemptive: p.preemptive,
        })
    } else {
        None
    };
    Ok(body(exec, pending))
}

/// `{cmd: "image", target, token, step}`: the disk image (the bytes a
/// `.img` file holds, which `debugfs` opens) after trace step `step` of
/// `token` (the replay is cut with `max_steps = step + 1`: exact for that
/// step). The older `choices` (replay only the first N recorded choices)
/// is still accepted. Metadata the engine has not checkpointed yet is in
/// the journal's log blocks, not at home: the image is what a crash at
/// that step would leave before recovery.
#[derive(Debug, Deserialize)]
pub struct ImageReq {
    pub target: Target,
    pub token: String,
    #[serde(default)]
    pub choices: Option<u32>,
    #[serde(default)]
    pub step: Option<u32>,
}

/// The image after the step, and the steps the run took.
#[derive(Debug)]
pub struct ImageAtStep {
    pub steps: u32,
    /// The whole device.
    pub bytes: Vec<u8>,
}

pub fn image_at_step(req: ImageReq, bases: BaseBytes) -> Result<ImageAtStep, Failure> {
    if let Target::Model { .. } = &req.target {
        return Err(Failure::new(
            "no-image",
            "reference models have no disk".into(),
        ));
    }
    let (sc, rc, base) = req.target.resolved()?;
    let img = Rc::new(scenario_image(&sc, base, bases)?);
    let mut opts = run_options(&sc, &rc);
    if let Some(s) = req.step {
        opts.max_steps = s.saturating_add(1);
    }
    let model = scenario_model(Rc::new(sc), rc, img.clone());
    let mut sched =
        Schedule::from_token(&req.token).map_err(|e| Failure::new("bad-token", e.to_string()))?;
    if let Some(c) = req.choices {
        sched.0.truncate(c as usize);
    }
    let mut r = Replay::new(&sched);
    let exec = model.run(&mut r, &opts);
    let bytes = img.dev.borrow().to_bytes();
    Ok(ImageAtStep {
        steps: exec.steps,
        bytes,
    })
}
