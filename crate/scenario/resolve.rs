//! Resolving a (variant, options) choice into the concrete configuration the
//! kernel paths run with: mount options, memory model, every switch's value,
//! and the tasks that exist.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::{ErrorKind, ScenarioError};
use super::history::{resolve_changes, Change, ChangeSet, KernelVersion};
use super::model::{Memory, Mount, Scenario};
use super::variant::Expectation;

/// The configuration of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunConfig {
    pub variant: String,
    /// Every option with its chosen (or default) value.
    pub options: BTreeMap<String, String>,
    pub mount: Mount,
    pub memory: Memory,
    /// Every declared switch with its value (format 1).
    pub switches: BTreeMap<String, String>,
    /// The kernel release the run models (format 1: [`KernelVersion::LATEST`]).
    pub kernel: KernelVersion,
    /// The changes applied: every commit merged by `kernel`, plus the
    /// variant's `apply`, minus its `revert`.
    pub changes: ChangeSet,
    /// Indexes into `Scenario::tasks` of the tasks present in this run,
    /// set-up tasks included, in declaration order.
    pub tasks: Vec<usize>,
}

impl RunConfig {
    /// The value of switch `name` (declared switches always have one).
    pub fn switch(&self, name: &str) -> Option<&str> {
        self.switches.get(name).map(String::as_str)
    }

    /// Whether the run's kernel has change `c`.
    pub fn applied(&self, c: Change) -> bool {
        self.changes.contains(c)
    }
}

impl Scenario {
    /// Resolves `variant` with `options` (options not named take their
    /// default). Precedence, lowest first: `[mount]`, switch defaults, the
    /// variant, then each option value in declaration order.
    pub fn resolve(
        &self,
        variant: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<RunConfig, ScenarioError> {
        let v = self
            .variants
            .iter()
            .find(|v| v.name == variant)
            .ok_or_else(|| {
                ScenarioError::new(
                    ErrorKind::Undefined,
                    "variant",
                    format!("no variant named `{variant}`"),
                )
            })?;
        for (k, val) in options {
            let Some(o) = self.options.iter().find(|o| &o.name == k) else {
                return Err(ScenarioError::new(
                    ErrorKind::Undefined,
                    "options",
                    format!("no option named `{k}`"),
                ));
            };
            if !o.values.iter().any(|x| &x.name == val) {
                return Err(ScenarioError::new(
                    ErrorKind::Undefined,
                    format!("options.{k}"),
                    format!("option `{k}` has no value `{val}`"),
                ));
            }
        }
        let mut mount = self.mount;
        let mut memory = Memory::Sc;
        let mut switches: BTreeMap<String, String> = self
            .switches
            .iter()
            .map(|s| (s.name.clone(), s.default.clone()))
            .collect();
        v.mount.apply(&mut mount);
        if let Some(m) = v.memory {
            memory = m;
        }
        switches.extend(v.switches.iter().map(|(k, x)| (k.clone(), x.clone())));
        let mut chosen = BTreeMap::new();
        for o in &self.options {
            let name = options.get(&o.name).unwrap_or(&o.default);
            chosen.insert(o.name.clone(), name.clone());
            if let Some(val) = o.values.iter().find(|x| &x.name == name) {
                val.mount.apply(&mut mount);
                if let Some(m) = val.memory {
                    memory = m;
                }
                switches.extend(val.switches.iter().map(|(k, x)| (k.clone(), x.clone())));
            }
        }
        let (kernel, changes) = self.kernel_of(v)?;
        let tasks = self
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.when.iter().all(|(k, want)| chosen.get(k) == Some(want)))
            .map(|(i, _)| i)
            .collect();
        Ok(RunConfig {
            variant: v.name.clone(),
            options: chosen,
            mount,
            memory,
            switches,
            kernel,
            changes,
            tasks,
        })
    }

    /// The kernel version and applied changes of variant `v`: its own
    /// `kernel` or the scenario's, with its `apply`/`revert`. Format 1
    /// scenarios (no `[kernel]`) run [`KernelVersion::LATEST`].
    fn kernel_of(
        &self,
        v: &super::variant::Variant,
    ) -> Result<(KernelVersion, ChangeSet), ScenarioError> {
        let (text, path) = match (&v.kernel, &self.kernel) {
            (Some(k), _) => (k.as_str(), format!("variants.{}.kernel", v.name)),
            (None, Some(k)) => (k.version.as_str(), "kernel.version".to_string()),
            (None, None) => {
                return Ok((
                    KernelVersion::LATEST,
                    ChangeSet::merged_by(KernelVersion::LATEST),
                ))
            }
        };
        let version = KernelVersion::parse(text)
            .map_err(|m| ScenarioError::new(ErrorKind::BadValue, path, m))?;
        let changes = resolve_changes(version, &v.apply, &v.revert).map_err(|e| {
            ScenarioError::new(
                ErrorKind::BadValue,
                format!("variants.{}.apply", v.name),
                e.to_string(),
            )
        })?;
        Ok((version, changes))
    }

    /// The variant the UI opens first.
    pub fn default_variant(&self) -> Option<&str> {
        self.explore
            .default_variant
            .as_deref()
            .or_else(|| self.variants.first().map(|v| v.name.as_str()))
    }

    /// Every expectation of every variant, with the run configuration it
    /// applies to: what a data-driven test iterates over.
    pub fn expectations(&self) -> Result<Vec<(RunConfig, &Expectation)>, ScenarioError> {
        let mut out = Vec::new();
        for v in &self.variants {
            for e in &v.expect {
                out.push((self.resolve(&v.name, &e.when)?, e));
            }
        }
        Ok(out)
    }
}
