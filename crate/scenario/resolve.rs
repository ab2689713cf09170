//! Resolving a (variant, options) choice into the concrete configuration the
//! kernel paths run with: mount options, memory model, every switch's value,
//! and the tasks that exist.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::{ErrorKind, ScenarioError};
use super::history::{resolve_changes, Change, ChangeSet, KernelVersion};
use super::model::{DataMode, Memory, Mount, Scenario};
use super::variant::Expectation;

/// A variant's kernel changed ad hoc (the CLI's `--kernel/--apply/--revert`,
/// the page's "custom variant"). With `kernel` set, the run is that release
/// plus `apply` minus `revert` (the variant's own lists are dropped: they
/// were relative to its version); without, `apply`/`revert` extend the
/// variant's. The variant still supplies mount and memory overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomKernel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apply: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revert: Vec<String>,
}

impl CustomKernel {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.kernel.is_none() && self.apply.is_empty() && self.revert.is_empty()
    }
}

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
    /// The kernel release the run models (format 1: from the switches it
    /// declares, see crate/scenario/format1.rs).
    pub kernel: KernelVersion,
    /// The changes applied: every commit merged by `kernel`, plus the
    /// variant's `apply`, minus its `revert`.
    pub changes: ChangeSet,
    /// The ad-hoc kernel change on top of the variant, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomKernel>,
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
        self.resolve_custom(variant, options, None)
    }

    /// [`Scenario::resolve`] with the variant's kernel changed as `custom`
    /// says (see [`CustomKernel`]).
    pub fn resolve_custom(
        &self,
        variant: &str,
        options: &BTreeMap<String, String>,
        custom: Option<&CustomKernel>,
    ) -> Result<RunConfig, ScenarioError> {
        let custom = custom.filter(|c| !c.is_empty());
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
        let (kernel, changes) = self.kernel_of(v, custom, &switches)?;
        // Unset: the kernel's own default (v5.6 ext4_fill_super sets
        // DIOREAD_NOLOCK unless told `nodioread_nolock`).
        if mount.dioread_nolock.is_none() {
            mount.dioread_nolock = Some(changes.contains(Change::DioreadNolockDefault));
        }
        // Delayed allocation as the mount leaves it: none before 2.6.27-rc1
        // (the format's default `delalloc = true` means nodelalloc there),
        // and v4.13 ext4_fill_super clears it under data=journal.
        if kernel < super::history::DELALLOC_MERGED || mount.data == DataMode::Journal {
            mount.delalloc = false;
        }
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
            custom: custom.cloned(),
            tasks,
        })
    }

    /// The kernel version and applied changes of variant `v`: its own
    /// `kernel` or the scenario's, with its `apply`/`revert`. Format 1
    /// scenarios (no `[kernel]`) run what their switch values stood for.
    fn kernel_of(
        &self,
        v: &super::variant::Variant,
        custom: Option<&CustomKernel>,
        switches: &BTreeMap<String, String>,
    ) -> Result<(KernelVersion, ChangeSet), ScenarioError> {
        let own = custom.and_then(|c| c.kernel.as_ref());
        let (text, path) = match (own, &v.kernel, &self.kernel) {
            (Some(k), _, _) => (k.as_str(), "kernel".to_string()),
            (None, Some(k), _) => (k.as_str(), format!("variants.{}.kernel", v.name)),
            (None, None, Some(k)) => (k.version.as_str(), "kernel.version".to_string()),
            (None, None, None) => ("", String::new()),
        };
        // Format 1: the switches' values stand for a version and changes.
        let format1 = self.kernel.is_none() && v.kernel.is_none();
        let version = if text.is_empty() {
            let declared: Vec<&str> = self.switches.iter().map(|s| s.name.as_str()).collect();
            super::format1::format1_version(&declared)
        } else {
            KernelVersion::parse(text)
                .map_err(|m| ScenarioError::new(ErrorKind::BadValue, path, m))?
        };
        let (mut apply, mut revert) = match own {
            Some(_) => (Vec::new(), Vec::new()),
            None if format1 => super::format1::format1_changes(switches),
            None => (v.apply.clone(), v.revert.clone()),
        };
        if let Some(c) = custom {
            apply.extend(c.apply.iter().cloned());
            revert.extend(c.revert.iter().cloned());
        }
        let changes = resolve_changes(version, &apply, &revert).map_err(|e| {
            let path = match custom {
                Some(_) => "apply".to_string(),
                None => format!("variants.{}.apply", v.name),
            };
            ScenarioError::new(ErrorKind::BadValue, path, e.to_string())
        })?;
        Ok((version, changes))
    }

    /// The DFS preemption bound of `variant` as the text writes it: the
    /// variant's own `preemption_bound` if it has one, else the
    /// scenario's `[explore]` one ([`super::link::NO_BOUND`]: none). A name
    /// that is no variant (a custom kernel's) gets the scenario's.
    pub fn preemption_bound_of(&self, variant: &str) -> u32 {
        self.variants
            .iter()
            .find(|v| v.name == variant)
            .and_then(|v| v.preemption_bound)
            .unwrap_or(self.explore.preemption_bound)
    }

    /// The DFS preemption bound of `variant`: `None` for every
    /// interleaving (see [`Scenario::preemption_bound_of`]).
    pub fn bound_of(&self, variant: &str) -> Option<u32> {
        super::link::dfs_bound(self.preemption_bound_of(variant))
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
