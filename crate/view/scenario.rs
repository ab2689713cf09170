//! Scenarios and share links as the page shows them: the built-in list,
//! the text of one built-in, checking a text (every error with its line
//! and column, for the editor), resolving a variant and options, the
//! registry of kernel changes, and encoding and decoding share links with
//! the Rust codec.
//!
//! Everything here is plain data in, plain data out; nothing from a link
//! is evaluated. A fallible view returns `Ok(body)` or a [`Failure`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::Failure;
use crate::scenario::history::{history_rows, version_choices, ChangeSet, HistoryRow};
use crate::scenario::link::{decode_link, encode_link, Link, LinkError};
use crate::scenario::{
    builtin, builtins, check_scenario, fnv1a64, parse_scenario, CustomKernel, RunConfig, Scenario,
    ScenarioError,
};

/// One entry of the built-in list (no text: fetch it with [`get_builtin`]).
#[derive(Debug, Serialize)]
pub struct BuiltinInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub file: &'static str,
    pub title: String,
    pub hash: String,
}

#[derive(Debug, Serialize)]
pub struct BuiltinList {
    pub builtins: Vec<BuiltinInfo>,
}

/// The built-ins in order s1..s8.
pub fn list_builtins() -> BuiltinList {
    BuiltinList {
        builtins: builtins()
            .iter()
            .map(|b| BuiltinInfo {
                id: b.id,
                name: b.name,
                file: b.file,
                title: b.title(),
                hash: b.hash_hex(),
            })
            .collect(),
    }
}

/// A scenario text with its parsed form.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioBody {
    pub id: Option<&'static str>,
    pub text: String,
    pub hash: String,
    pub scenario: Scenario,
    pub default_variant: Option<String>,
}

/// A built-in by id or long name.
pub fn get_builtin(key: &str) -> Result<ScenarioBody, Failure> {
    let b = builtin(key)
        .ok_or_else(|| Failure::new("unknown-builtin", format!("no built-in scenario `{key}`")))?;
    let scenario = parse_scenario(b.text)
        .map_err(|e| Failure::new("bad-scenario", format!("built-in {}: {e}", b.id)))?;
    Ok(ScenarioBody {
        id: Some(b.id),
        text: b.text.to_string(),
        hash: b.hash_hex(),
        default_variant: scenario.default_variant().map(str::to_string),
        scenario,
    })
}

/// One error as the editor shows it.
#[derive(Debug, Serialize)]
pub struct ShownError {
    #[serde(flatten)]
    pub error: ScenarioError,
    /// "line 3, column 7: path: message".
    pub rendered: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckBody {
    pub errors: Vec<ShownError>,
    pub scenario: Option<Scenario>,
    pub default_variant: Option<String>,
    /// FNV-1a 64 of the text (what a built-in link records).
    pub hash: String,
    /// The built-in whose text this is exactly, if any.
    pub builtin: Option<&'static str>,
}

/// Every problem of `text` (for lint markers) and, when there are none,
/// the parsed scenario.
pub fn check(text: &str) -> CheckBody {
    let errors: Vec<ShownError> = check_scenario(text)
        .into_iter()
        .map(|e| ShownError {
            rendered: e.render(),
            error: e,
        })
        .collect();
    let scenario = if errors.is_empty() {
        parse_scenario(text).ok()
    } else {
        None
    };
    CheckBody {
        errors,
        default_variant: scenario
            .as_ref()
            .and_then(|s| s.default_variant().map(str::to_string)),
        scenario,
        hash: format!("{:016x}", fnv1a64(text.as_bytes())),
        builtin: builtins().iter().find(|b| b.text == text).map(|b| b.id),
    }
}

#[derive(Debug, Serialize)]
pub struct ResolveBody {
    pub config: RunConfig,
    /// Names of the tasks present, in order.
    pub task_names: Vec<String>,
    /// The run's changes against its kernel version's own: what a custom
    /// kernel of that version would `apply` and `revert` to match it.
    pub delta: CustomKernel,
}

/// The configuration one run of `text` would use (mount options, memory
/// model, kernel version and changes, tasks) for `variant` and `options`,
/// on the `custom` kernel if one is given.
pub fn resolve(
    text: &str,
    variant: &str,
    options: &BTreeMap<String, String>,
    custom: Option<&CustomKernel>,
) -> Result<ResolveBody, Failure> {
    let s = parse_scenario(text).map_err(|e| Failure::new("bad-scenario", e.render()))?;
    let config = s
        .resolve_custom(variant, options, custom)
        .map_err(|e| Failure::new("bad-choice", e.render()))?;
    let task_names = config
        .tasks
        .iter()
        .filter_map(|&i| s.tasks.get(i).map(|t| t.name.clone()))
        .collect();
    let merged = ChangeSet::merged_by(config.kernel);
    let delta = CustomKernel {
        kernel: Some(config.kernel.to_string()),
        apply: config
            .changes
            .iter()
            .filter(|c| !merged.contains(*c))
            .map(|c| c.id().to_string())
            .collect(),
        revert: merged
            .iter()
            .filter(|c| !config.changes.contains(*c))
            .map(|c| c.id().to_string())
            .collect(),
    };
    Ok(ResolveBody {
        config,
        task_names,
        delta,
    })
}

/// The registry of modelled kernel changes (as `ext4lab history --json`)
/// and the kernel versions worth offering.
#[derive(Debug, Serialize)]
pub struct HistoryBody {
    pub changes: Vec<HistoryRow>,
    pub versions: Vec<String>,
}

pub fn history() -> HistoryBody {
    HistoryBody {
        changes: history_rows(),
        versions: version_choices().iter().map(|v| v.to_string()).collect(),
    }
}

/// A link's URL fragment (`#v3.…`).
#[derive(Debug, Serialize)]
pub struct EncodeBody {
    pub fragment: String,
}

pub fn encode(link: &Link) -> EncodeBody {
    EncodeBody {
        fragment: encode_link(link),
    }
}

/// A decoded link with its scenario text.
#[derive(Debug, Serialize)]
pub struct DecodeBody {
    pub link: Link,
    pub text: String,
    /// "ext4lab 0.2.0": the engine that made the link's schedule.
    pub made_with: String,
}

/// The machine name of a [`LinkError`] (the page keys its messages on it).
pub fn link_error_kind(e: &LinkError) -> &'static str {
    match e {
        LinkError::BadPrefix => "link-bad-prefix",
        LinkError::UnknownVersion(_) => "link-unknown-version",
        LinkError::TooLong { .. } => "link-too-long",
        LinkError::BadBase64(_) => "link-bad-base64",
        LinkError::Decompress(_) => "link-decompress",
        LinkError::TooLarge => "link-too-large",
        LinkError::BadPayload(_) => "link-bad-payload",
        LinkError::UnknownBuiltin(_) => "link-unknown-builtin",
        LinkError::HashMismatch { .. } => "link-hash-mismatch",
        LinkError::BadScenario(_) => "link-bad-scenario",
        LinkError::BadChoice(_) => "link-bad-choice",
    }
}

/// The link of `fragment`, checked against its scenario (variant and
/// options exist). A built-in that changed since fails with
/// `link-hash-mismatch` carrying the decoded link.
pub fn decode(fragment: &str) -> Result<DecodeBody, Failure> {
    let fail = |e: LinkError| {
        let mut f = Failure::new(link_error_kind(&e), e.to_string());
        if let LinkError::HashMismatch { link, .. } = e {
            f.link = Some(link);
        }
        f
    };
    let link = decode_link(fragment).map_err(fail)?;
    link.open().map_err(fail)?;
    let text = link.scenario_text().map_err(fail)?.to_string();
    let made_with = link.made_with();
    Ok(DecodeBody {
        link,
        text,
        made_with,
    })
}
