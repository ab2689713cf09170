//! `ext4lab scenarios`, `ext4lab explore`, `ext4lab replay`: the built-in
//! race scenarios on the simulated kernel paths.
//!
//! Exit codes: 0 = ran and (for explore) found nothing unexpected to report
//! beyond the listed outcomes; 1 = usage or scenario error; 2 = replay
//! diverged from the scenario.

use std::collections::BTreeMap;
use std::rc::Rc;

use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{explore_config, kind_name, run_options, scenario_model, timeline};
use ext4lab::scenario::link::{
    decode_link, encode_link, Link, LinkError, LinkScenario, Strategy as LinkStrategy,
    ENGINE_VERSION, NO_BOUND,
};
use ext4lab::scenario::{
    builtin, builtins, fnv1a64, parse_scenario, OutcomeKind as ScenarioKind, Scenario,
};
use ext4lab::sim::{replay, Report, Strategy};

/// Loads a built-in (id or long name) or a scenario file.
fn load(name: &str) -> Result<(Rc<Scenario>, LinkScenario), String> {
    if let Some(b) = builtin(name) {
        let sc = parse_scenario(b.text).map_err(|e| e.to_string())?;
        let hash = format!("{:016x}", fnv1a64(b.text.as_bytes()));
        return Ok((
            Rc::new(sc),
            LinkScenario::Builtin {
                id: b.id.to_string(),
                hash,
            },
        ));
    }
    let text = std::fs::read_to_string(name).map_err(|e| format!("{name}: {e}"))?;
    let sc = parse_scenario(&text).map_err(|e| e.to_string())?;
    Ok((Rc::new(sc), LinkScenario::Text { text }))
}

/// `ext4lab scenarios [--json]`.
pub fn cmd_scenarios(json: bool) -> i32 {
    let mut rows = Vec::new();
    for b in builtins() {
        let Ok(sc) = parse_scenario(b.text) else {
            continue;
        };
        let variants: Vec<&str> = sc.variants.iter().map(|v| v.name.as_str()).collect();
        if json {
            rows.push(serde_json::json!({"id": b.id, "name": b.name, "title": sc.meta.title, "variants": variants}));
        } else {
            println!("{} {:<22} {}", b.id, b.name, sc.meta.title);
            println!("   variants: {}", variants.join(", "));
        }
    }
    if json {
        println!("{}", serde_json::Value::Array(rows));
    }
    0
}

/// Options of `ext4lab explore` (parsed by clap as the subcommand's
/// arguments).
#[derive(clap::Args)]
pub struct ExploreArgs {
    pub scenario: String,
    #[arg(long)]
    pub variant: Option<String>,
    /// dfs | pct | random
    #[arg(long)]
    pub strategy: Option<String>,
    /// Preemption bound (dfs): a number, or `none` for every
    /// interleaving.
    #[arg(long, value_parser = parse_bound)]
    pub bound: Option<Bound>,
    /// Most executions.
    #[arg(long)]
    pub budget: Option<u64>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run shard I of N (1-based): DFS shards partition the
    /// schedule space exactly; random/PCT take every N-th run.
    #[arg(long)]
    pub shard: Option<String>,
    /// DFS without partial-order reduction: every alternative
    /// within the bound (slower; what an "absent" claim under a
    /// bound strictly needs, see crate/sim/sched/dfs.rs).
    #[arg(long)]
    pub no_dpor: bool,
    /// DFS with partial-order reduction: learn every step and check that
    /// each follows from the causal past of its task and of what it
    /// accessed (a step that goes two ways from one past read kernel
    /// state that no access announced, and the reduction may have taken
    /// two different interleavings for one). Reports the count and the
    /// first such step; slower.
    #[arg(long)]
    pub check_steps: bool,
    /// NAME=VALUE (repeatable)
    #[arg(long = "option")]
    pub options: Vec<String>,
    /// Run the variant on this kernel release instead (e.g. v4.0): the
    /// variant's own apply/revert lists are dropped, --apply/--revert apply.
    #[arg(long)]
    pub kernel: Option<String>,
    /// A change to add (registry id, repeatable; see `ext4lab history`).
    #[arg(long = "apply")]
    pub apply: Vec<String>,
    /// A change to take out (registry id, repeatable).
    #[arg(long = "revert")]
    pub revert: Vec<String>,
    #[arg(long)]
    pub json: bool,
    /// Stop once every one of these outcome kinds has shown (comma
    /// separated: `lost-write,deadlock`), as the page's "Find the race"
    /// does: the search ends early, so it proves nothing absent.
    #[arg(long, value_delimiter = ',')]
    pub until_found: Vec<String>,
    /// Write where the exploration stands to FILE every
    /// --checkpoint-every executions, when the budget stops it, and on
    /// SIGINT/SIGTERM (then exit 3); --resume FILE goes on from it.
    #[arg(long)]
    pub checkpoint: Option<String>,
    /// Executions between two checkpoints (default 10000).
    #[arg(long, requires = "checkpoint")]
    pub checkpoint_every: Option<u64>,
    /// Go on from a checkpoint of this same exploration (same scenario,
    /// variant, options, kernel, strategy, bound and shard). `auto`: from
    /// the --checkpoint file if it exists (a retried job goes on where the
    /// last try stopped), else from the start.
    #[arg(long)]
    pub resume: Option<String>,
}

/// A checkpoint file: the exploration's claim (checked on resume) and the
/// driver's checkpoint. Typed, because the DFS state holds u128
/// fingerprints that `serde_json::Value` cannot.
#[derive(serde::Serialize)]
struct CheckpointOut<'a> {
    claim: &'a serde_json::Value,
    checkpoint: &'a ext4lab::sim::Checkpoint,
}

#[derive(serde::Deserialize)]
struct CheckpointIn {
    claim: serde_json::Value,
    checkpoint: ext4lab::sim::Checkpoint,
}

/// Writes checkpoints (atomically: a temporary file renamed over FILE) and
/// stops the exploration on SIGINT/SIGTERM.
struct CheckpointObserver {
    path: Option<String>,
    every: u64,
    last: u64,
    claim: serde_json::Value,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    written: u64,
    bytes: u64,
    error: Option<String>,
    /// Progress on stderr (a terminal, not --json): wall-clock start.
    show: Option<std::time::Instant>,
}

impl ext4lab::sim::Observer for CheckpointObserver {
    fn progress(&mut self, stats: &ext4lab::sim::Stats) {
        let Some(t0) = self.show else { return };
        let (n, est) = (stats.executions, stats.estimated_executions);
        let secs = t0.elapsed().as_secs_f64();
        let mut line = format!(
            "\r  {n} executions, {} distinct outcomes",
            stats.distinct_outcomes
        );
        if est > n && n > 0 {
            let left = (est - n) as f64 * secs / n as f64;
            line.push_str(&format!(", about {} left (~{left:.0} s)", est - n));
        }
        eprint!("{line:<78}");
    }
    fn cancelled(&mut self) -> bool {
        self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn checkpoint_due(&mut self, stats: &ext4lab::sim::Stats) -> bool {
        if self.path.is_none() || stats.executions < self.last + self.every {
            return false;
        }
        self.last = stats.executions;
        true
    }
    fn wants_checkpoints(&self) -> bool {
        self.path.is_some()
    }
    fn checkpoint(&mut self, cp: ext4lab::sim::Checkpoint) {
        let Some(path) = &self.path else { return };
        let out = CheckpointOut {
            claim: &self.claim,
            checkpoint: &cp,
        };
        let tmp = format!("{path}.tmp");
        let res = serde_json::to_vec(&out)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                std::fs::write(&tmp, &b).map_err(|e| format!("{tmp}: {e}"))?;
                std::fs::rename(&tmp, path).map_err(|e| format!("{path}: {e}"))?;
                Ok(b.len() as u64)
            });
        match res {
            Ok(n) => {
                self.written += 1;
                self.bytes = n;
            }
            Err(e) => self.error = Some(e),
        }
    }
}

/// Reads `--resume FILE` and checks that it is a checkpoint of `claim`.
fn read_checkpoint(
    path: &str,
    claim: &serde_json::Value,
) -> Result<ext4lab::sim::Checkpoint, String> {
    let text = std::fs::read(path).map_err(|e| format!("--resume {path}: {e}"))?;
    let cp: CheckpointIn = serde_json::from_slice(&text)
        .map_err(|e| format!("--resume {path}: not an ext4lab checkpoint: {e}"))?;
    if let (Some(a), Some(b)) = (cp.claim.as_object(), claim.as_object()) {
        if let Some(k) = a.keys().chain(b.keys()).find(|k| a.get(*k) != b.get(*k)) {
            return Err(format!(
                "--resume {path}: a checkpoint of another exploration ({k}: {} there, {} here)",
                a.get(k).unwrap_or(&serde_json::Value::Null),
                b.get(k).unwrap_or(&serde_json::Value::Null)
            ));
        }
    } else {
        return Err(format!("--resume {path}: the checkpoint has no claim"));
    }
    Ok(cp.checkpoint)
}

/// `ext4lab explore SCENARIO ...`.
pub fn cmd_explore(a: ExploreArgs) -> i32 {
    let (sc, link_sc) = match load(&a.scenario) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("ext4lab explore: {e}");
            return 1;
        }
    };
    let variant = a
        .variant
        .clone()
        .or_else(|| sc.default_variant().map(str::to_string))
        .unwrap_or_default();
    let mut options = BTreeMap::new();
    for o in &a.options {
        let Some((k, v)) = o.split_once('=') else {
            eprintln!("ext4lab explore: --option wants NAME=VALUE, got {o:?}");
            return 1;
        };
        options.insert(k.to_string(), v.to_string());
    }
    let seed = a.seed.unwrap_or(sc.explore.seed);
    let bound = a.bound.unwrap_or(Bound(sc.bound_of(&variant))).0;
    let strat_name = a.strategy.clone().unwrap_or_else(|| "dfs".into());
    let (strategy, link_strategy) = match strat_name.as_str() {
        "dfs" => (
            Strategy::Dfs {
                preemption_bound: bound,
                dpor: !a.no_dpor,
            },
            // a link's bound only says how the schedule was found
            LinkStrategy::Dfs {
                bound: bound.unwrap_or(NO_BOUND),
            },
        ),
        "pct" => (
            Strategy::Pct {
                seed,
                depth: sc.explore.pct_depth.max(1),
            },
            LinkStrategy::Pct {
                depth: sc.explore.pct_depth.max(1),
            },
        ),
        "random" => (Strategy::Random { seed }, LinkStrategy::Random),
        other => {
            eprintln!("ext4lab explore: unknown strategy {other:?} (dfs, pct, random)");
            return 1;
        }
    };
    let shard = match a.shard.as_deref().map(parse_shard).transpose() {
        Ok(s) => s.unwrap_or((0, 1)),
        Err(e) => {
            eprintln!("ext4lab explore: {e}");
            return 1;
        }
    };
    let started = std::time::Instant::now();
    let custom = ext4lab::scenario::CustomKernel {
        kernel: a.kernel.clone(),
        apply: a.apply.clone(),
        revert: a.revert.clone(),
    };
    let rc = match sc.resolve_custom(&variant, &options, Some(&custom)) {
        Ok(rc) => rc,
        Err(e) => {
            eprintln!("ext4lab explore: {e}");
            return 1;
        }
    };
    // What makes two shard results parts of one exploration
    // (`ext4lab merge` and `--resume` require these to be equal).
    let claim = serde_json::json!({
        "scenario": sc.meta.name,
        "scenario_source": match &link_sc {
            LinkScenario::Builtin { id, hash } => format!("builtin {id} {hash}"),
            LinkScenario::Text { text } => format!("text {:016x}", fnv1a64(text.as_bytes())),
        },
        "variant": rc.variant,
        "options": rc.options,
        "kernel": rc.kernel,
        "changes": rc.changes,
        "custom": rc.custom,
        "strategy": strat_name,
        "dpor": strat_name == "dfs" && !a.no_dpor,
        "bound": (strat_name == "dfs").then_some(bound).flatten(),
        "seed": (strat_name != "dfs").then_some(seed),
        "shards": shard.1,
        "engine": ENGINE_VERSION,
    });
    let resume_from = match (a.resume.as_deref(), a.checkpoint.as_deref()) {
        (Some("auto"), Some(c)) => std::path::Path::new(c).exists().then_some(c),
        (Some("auto"), None) => {
            eprintln!(
                "ext4lab explore: --resume auto goes on from the --checkpoint file: give one"
            );
            return 1;
        }
        (r, _) => r,
    };
    let resume = match resume_from.map(|p| read_checkpoint(p, &claim)).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ext4lab explore: {e}");
            return 1;
        }
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if a.checkpoint.is_some() {
        let flag = stop.clone();
        // a second handler (tests run the CLI once per process) is refused
        let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed));
    }
    let mut obs = CheckpointObserver {
        path: a.checkpoint.clone(),
        every: a.checkpoint_every.unwrap_or(10_000).max(1),
        last: resume.as_ref().map_or(0, |c| c.stats.executions),
        claim: claim.clone(),
        stop: stop.clone(),
        written: 0,
        bytes: 0,
        error: None,
        show: (!a.json && std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .then(std::time::Instant::now),
    };
    let until = match ext4lab::kernel::runner::kind_groups(&a.until_found) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("ext4lab explore: --until-found: {e}");
            return 1;
        }
    };
    let (rep, budget) = match explore_sharded(
        &sc,
        &rc,
        strategy,
        Tuning {
            budget: a.budget,
            shard,
            until,
            check_steps: a.check_steps,
        },
        &mut obs,
        resume,
    ) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("ext4lab explore: {e}");
            return 1;
        }
    };
    if obs.show.is_some() {
        eprint!("\r{:<78}\r", "");
    }
    if let Some(e) = &obs.error {
        eprintln!("ext4lab explore: checkpoint not written: {e}");
        return 1;
    }
    let interrupted = stop.load(std::sync::atomic::Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    // a link to a schedule of this run's variant, at a step and naming
    // an outcome if given
    let run_link = |schedule: &str, step: Option<u64>, outcome: Option<String>| {
        encode_link(&Link {
            scenario: link_sc.clone(),
            variant: rc.variant.clone(),
            options: rc.options.clone(),
            strategy: link_strategy,
            seed,
            schedule: schedule.to_string(),
            step,
            base: None,
            custom: (!custom.is_empty()).then(|| custom.clone()),
            engine: Some(ENGINE_VERSION.to_string()),
            outcome,
        })
    };
    let outcomes: Vec<serde_json::Value> = rep
        .outcomes
        .iter()
        .map(|r| {
            let outcome = Some(kind_name(&r.key.kind))
                .filter(|k| ScenarioKind::ALL.iter().any(|x| x.as_str() == *k))
                .map(str::to_string);
            let link = run_link(&r.fewest_token, None, outcome);
            serde_json::json!({
                "kind": kind_name(&r.key.kind),
                "count": r.count,
                "preemptions": r.fewest_preemptions,
                "tasks": r.key.tasks,
                "locks": r.key.locks,
                "blocks": r.key.blocks,
                "site": r.key.site,
                "expected": r.key.expected,
                "link": link,
                "schedule": r.fewest_token,
                // a warning without a message says its site
                "detail": if r.fewest.message.is_empty() { &r.key.site } else { &r.fewest.message },
            })
        })
        .collect();
    let complete = rep.stats.exhausted;
    // Which claim a verdict makes: an absent outcome is absent from every
    // interleaving only after a complete unbounded DFS.
    let scope = match (strat_name.as_str(), bound) {
        ("dfs", None) => "every interleaving of this model".to_string(),
        ("dfs", Some(k)) => format!(
            "every interleaving with at most {k} preemption{}",
            if k == 1 { "" } else { "s" }
        ),
        _ => "the sampled executions".to_string(),
    };
    if a.json {
        // the claim's fields, then what this run did
        let mut out = claim.clone();
        out["claim"] = claim.clone();
        out["seed"] = serde_json::json!(seed);
        let more = serde_json::json!({
                "budget": budget,
                "interrupted": interrupted,
                "checkpoints": obs.written,
                "checkpoint_bytes": obs.bytes,
                "executions": rep.stats.executions,
                "complete": complete,
                "scope": scope,
                "seconds": (seconds * 1000.0).round() / 1000.0,
                "shard": format!("{}/{}", shard.0 + 1, shard.1),
                "foreign_executions": rep.stats.foreign_executions,
                "steps": rep.stats.steps,
                "stats": rep.stats,
                "outcomes": outcomes,
                "report": rep,
        });
        if let (Some(o), serde_json::Value::Object(m)) = (out.as_object_mut(), more) {
            o.extend(m);
        }
        println!("{out}");
    } else {
        println!(
            "{} / {} {:?}: {} executions in {seconds:.1} s{}, {}",
            sc.meta.name,
            rc.variant,
            rc.options,
            rep.stats.executions,
            if shard.1 > 1 {
                format!(" (shard {}/{})", shard.0 + 1, shard.1)
            } else {
                String::new()
            },
            if complete {
                format!("complete: {scope}")
            } else if rep.stats.stopped_at_find {
                "stopped: every --until-found kind showed".to_string()
            } else if interrupted {
                "interrupted".to_string()
            } else {
                "budget reached".to_string()
            }
        );
        if a.check_steps {
            match &rep.stats.first_misprediction {
                None => println!("  steps checked: each followed from its causal past"),
                Some(at) => println!(
                    "  steps checked: {} went otherwise than from an equal causal past \
                     (state read outside the accesses); the first, step {}: {}\n    {}",
                    rep.stats.mispredicted_steps,
                    at.step,
                    at.how,
                    run_link(&at.schedule, Some(u64::from(at.step)), None)
                ),
            }
        }
        if obs.written > 0 {
            println!(
                "  checkpoint: {} ({} bytes); go on with --resume {0}",
                a.checkpoint.as_deref().unwrap_or(""),
                obs.bytes
            );
        }
        print_outcomes(&outcomes);
    }
    if interrupted {
        3
    } else {
        0
    }
}

/// The text form of `explore`'s (and `merge`'s) outcome list.
pub fn print_outcomes(outcomes: &[serde_json::Value]) {
    for o in outcomes {
        // An error the man page lists for what the program did.
        let expected = if o["expected"] == true {
            " (expected: the man page lists it)"
        } else {
            ""
        };
        println!(
            "  {} x{} ({} preemptions){expected}: {}",
            o["kind"], o["count"], o["preemptions"], o["detail"]
        );
        println!(
            "    replay: ext4lab replay '{}'",
            o["link"].as_str().unwrap_or("")
        );
    }
}

/// A `--bound` value: `Some(n)` preemptions, or `None` for no bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound(pub Option<u32>);

/// Parses `--bound N|none`.
pub fn parse_bound(s: &str) -> Result<Bound, String> {
    match s.trim() {
        "none" | "unbounded" => Ok(Bound(None)),
        t => t
            .parse()
            .map(|n| Bound(Some(n)))
            .map_err(|_| format!("--bound wants a number of preemptions or `none`, got {s:?}")),
    }
}

/// Parses `--shard I/N` (1-based I) into the driver's `(I-1, N)`.
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--shard wants I/N with 1 <= I <= N, got {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: u32 = i.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i - 1, n))
}

/// What the command line sets in the scenario's exploration settings.
struct Tuning {
    budget: Option<u64>,
    /// 0-based index, count.
    shard: (u32, u32),
    until: Vec<Vec<ext4lab::sim::OutcomeKind>>,
    check_steps: bool,
}

/// Builds the image and explores `variant` as shard `t.shard` (0-based
/// index, count) of the search: DFS shards partition the schedule space
/// (`sim::sched::dfs`), random/PCT shards take every N-th execution index.
fn explore_sharded(
    sc: &Rc<Scenario>,
    rc: &ext4lab::scenario::RunConfig,
    strategy: Strategy,
    t: Tuning,
    obs: &mut dyn ext4lab::sim::Observer,
    resume: Option<ext4lab::sim::Checkpoint>,
) -> Result<(Report, u64), String> {
    let img = Rc::new(build_image(sc).map_err(|e| e.to_string())?);
    let model = scenario_model(sc.clone(), rc.clone(), img);
    let mut cfg = explore_config(sc, rc, Some(strategy));
    if let Some(b) = t.budget {
        cfg.max_executions = b;
    }
    cfg.shard = t.shard;
    cfg.stop_when_found = t.until;
    cfg.check_steps = t.check_steps;
    let rep = ext4lab::sim::explore_from(&model, &cfg, obs, resume).map_err(|e| e.to_string())?;
    Ok((rep, cfg.max_executions))
}

/// Options of `ext4lab replay`.
#[derive(clap::Args)]
pub struct ReplayArgs {
    pub link: String,
    #[arg(long)]
    pub json: bool,
    /// Write the trace as Chrome trace-event JSON (opens in Perfetto).
    #[arg(long)]
    pub perfetto: Option<String>,
    /// Print the kernel-named timeline (locks, bios, warnings).
    #[arg(long)]
    pub timeline: bool,
    /// Explore the link's variant and options for the outcome it
    /// showed and print the shortest schedule found as a new link
    /// (for a link made by another engine, whose schedule diverges).
    #[arg(long)]
    pub refind: bool,
    /// With --refind: the outcome kind to find (`deadlock`,
    /// `stale-data`...), for links that do not say.
    #[arg(long, requires = "refind")]
    pub kind: Option<String>,
    /// Print the disk and journal view instead: per file its extents,
    /// block states and page cache, and the jbd2 log as transactions, at
    /// the start and at --step (the page's Disk & journal tab).
    #[arg(long, conflicts_with_all = ["refind", "perfetto", "timeline"])]
    pub disk: bool,
    /// With --disk: the trace step whose state to show (0-based; default:
    /// the end of the run).
    #[arg(long, requires = "disk")]
    pub step: Option<u32>,
}

/// `ext4lab replay LINK [--json] [--perfetto FILE] [--timeline]
/// [--refind [--kind KIND]] [--disk [--step N]]`. Exit 0, 1 on a bad link,
/// 2 when the schedule no longer fits the model ("made with ext4lab X,
/// diverged at step N").
/// `--refind` explores the link's variant and options for the outcome kind
/// the link shows (or `--kind`) and prints the shortest schedule found as a
/// new link (exit 0), or says none was found (exit 1); for a link to a
/// built-in that changed since, it explores today's text of the built-in.
/// `--disk` prints the disk view (`crate::cmd_disk`).
pub fn cmd_replay(a: ReplayArgs) -> i32 {
    let ReplayArgs {
        link,
        json,
        perfetto,
        timeline: show_timeline,
        refind,
        kind,
        disk,
        step,
    } = a;
    let link = link.as_str();
    let l = match decode_link(link) {
        Ok(l) => l,
        // A built-in changed since the link was made: its schedule belongs
        // to the old text, but the outcome can be looked for in today's
        // (as the page's "find it again" does).
        Err(LinkError::HashMismatch { link, .. }) if refind => *link,
        Err(e @ LinkError::HashMismatch { .. }) => {
            eprintln!("ext4lab replay: {e} (ext4lab replay --refind looks for its outcome in today's text)");
            return 1;
        }
        Err(e) => {
            eprintln!("ext4lab replay: {e}");
            return 1;
        }
    };
    let sc = match &l.scenario {
        LinkScenario::Builtin { id, .. } => builtin(id).map(|b| b.text.to_string()),
        LinkScenario::Text { text } => Some(text.clone()),
    };
    let Some(Ok(sc)) = sc.map(|t| parse_scenario(&t)) else {
        eprintln!("ext4lab replay: the link's scenario does not parse");
        return 1;
    };
    let sc = Rc::new(sc);
    let rc = match sc.resolve_custom(&l.variant, &l.options, l.custom.as_ref()) {
        Ok(rc) => rc,
        Err(e) => {
            eprintln!("ext4lab replay: {e}");
            return 1;
        }
    };
    let img = match build_image(&sc) {
        Ok(i) => Rc::new(i),
        Err(e) => {
            eprintln!("ext4lab replay: {e}");
            return 1;
        }
    };
    if refind {
        return cmd_refind(&l, &sc, &rc, img, kind, json);
    }
    if disk {
        return crate::cmd_disk::cmd_replay_disk(&l, sc, rc, img, step, json);
    }
    let opts = run_options(&sc, &rc);
    let model = scenario_model(sc.clone(), rc.clone(), img);
    let exec = match replay(&model, &l.schedule, &opts) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("ext4lab replay: {e:?}");
            return 1;
        }
    };
    if let (Some(path), Some(t)) = (perfetto, exec.trace.as_ref()) {
        if let Err(e) = std::fs::write(&path, t.to_chrome_json().to_string()) {
            eprintln!("ext4lab replay: {path}: {e}");
            return 1;
        }
    }
    let outcome: Vec<serde_json::Value> = exec
        .outcomes
        .iter()
        .map(|o| serde_json::json!({"kind": kind_name(&o.kind), "tasks": o.tasks, "blocks": o.blocks, "locks": o.locks, "step": o.step, "site": o.site, "expected": o.expected, "detail": if o.message.is_empty() { &o.site } else { &o.message }}))
        .collect();
    let hash = format!("{:016x}", exec.trace_hash().unwrap_or(0));
    if json {
        println!(
            "{}",
            serde_json::json!({"scenario": sc.meta.name, "variant": rc.variant, "end": format!("{:?}", exec.end), "outcome": outcome, "trace_hash": hash, "made_with": l.made_with(), "diverged": exec.divergence.as_ref().map(|d| d.message.clone()), "diverged_at_step": exec.divergence.as_ref().map(|d| d.step)})
        );
    } else {
        println!(
            "{} / {}: {:?}, trace {hash}",
            sc.meta.name, rc.variant, exec.end
        );
        if show_timeline {
            if let Some(t) = exec.trace.as_ref() {
                for l in timeline(t) {
                    println!("{l}");
                }
            }
        }
        for o in &outcome {
            println!("  {} {}", o["kind"], o["detail"]);
        }
    }
    if let Some(d) = &exec.divergence {
        eprintln!(
            "ext4lab replay: made with {}, diverged at step {}: {} (ext4lab replay --refind finds it again)",
            l.made_with(),
            d.step,
            d.message
        );
        2
    } else {
        0
    }
}

/// `replay --refind`: see [`cmd_replay`].
fn cmd_refind(
    l: &Link,
    sc: &Rc<Scenario>,
    rc: &ext4lab::scenario::RunConfig,
    img: Rc<ext4lab::kernel::image::ScenarioImage>,
    kind: Option<String>,
    json: bool,
) -> i32 {
    let Some(kind) = kind.or_else(|| l.outcome.clone()) else {
        eprintln!(
            "ext4lab replay --refind: the link does not say which outcome it showed (made with {}); pass --kind KIND",
            l.made_with()
        );
        return 1;
    };
    if !ScenarioKind::ALL.iter().any(|k| k.as_str() == kind) {
        eprintln!("ext4lab replay --refind: `{kind}` is not an outcome kind");
        return 1;
    }
    let (report, rec) = ext4lab::kernel::runner::refind(sc, rc, img, &kind);
    let Some(rec) = rec else {
        let how = if report.stats.exhausted {
            "every schedule within the bound explored"
        } else {
            "budget reached"
        };
        if json {
            println!(
                "{}",
                serde_json::json!({"found": false, "kind": kind, "executions": report.stats.executions, "complete": report.stats.exhausted})
            );
        } else {
            eprintln!(
                "ext4lab replay --refind: no {kind} in {} executions of {} / {} ({how})",
                report.stats.executions, sc.meta.name, rc.variant
            );
        }
        return 1;
    };
    let mut new = l.refound(
        rec.shortest_token.clone(),
        sc.preemption_bound_of(&rc.variant),
    );
    new.outcome = Some(kind.clone());
    let frag = encode_link(&new);
    if json {
        println!(
            "{}",
            serde_json::json!({"found": true, "kind": kind, "link": frag, "steps": rec.shortest_len, "preemptions": rec.fewest_preemptions, "tasks": rec.key.tasks, "executions": report.stats.executions, "made_with": l.made_with()})
        );
    } else {
        println!(
            "{} / {}: {kind} found again ({} choices, {} executions)",
            sc.meta.name, rc.variant, rec.shortest_len, report.stats.executions
        );
        println!("{frag}");
    }
    0
}
