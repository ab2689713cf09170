//! Link format version 1: the payload is JSON with short keys.
//!
//! ```text
//! { "b": {"id": "s5", "h": "<16 hex>"} | "t": "<scenario text>",
//!   "v": "<variant>", "o": {"<option>": "<value>", ...},
//!   "s": {"k": "random"} | {"k": "pct", "d": <depth>} | {"k": "dfs", "p": <bound>},
//!   "r": <seed>, "x": "<replay token>", "at": <step>,
//!   "i": {"n": "<stored image name>", "h": "<16 hex>"},
//!   "k": {"v": "<kernel version>", "a": ["<change id>", ...], "r": [...]},
//!   "e": "<engine version>", "w": "<outcome kind>" }
//! ```
//! `e` (the ext4lab version whose engine made the schedule) is required in
//! link version 3 and absent before it; `w` (the outcome kind the link
//! shows, `deadlock`...) is optional from version 3.
//! `o`, `x`, `at`, `i` (the base image) and `k` (a custom variant's kernel:
//! version, changes applied, changes reverted; each part optional) are
//! omitted when empty; links made before `k` existed still decode. Unknown keys are rejected, so a
//! tampered payload is an error rather than silently ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Link, LinkBase, LinkError, LinkScenario, Strategy};
use crate::scenario::resolve::CustomKernel;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BuiltinRefV1 {
    pub id: String,
    pub h: String,
}

/// The base image: library name and content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BaseRefV1 {
    pub n: String,
    pub h: String,
}

/// A custom variant's kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KernelV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub v: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub a: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub r: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "kebab-case", deny_unknown_fields)]
pub(super) enum StrategyV1 {
    Random,
    Pct { d: u32 },
    Dfs { p: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<BuiltinRefV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<String>,
    pub v: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub o: BTreeMap<String, String>,
    pub s: StrategyV1,
    pub r: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub i: Option<BaseRefV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<KernelV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w: Option<String>,
}

/// An engine version: 1-32 of `0-9 a-z . + -`.
fn is_engine_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 32
        && v.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b"._+-".contains(&b))
}

/// 16 lowercase hex digits (the content hashes links carry).
fn is_hash16(h: &str) -> bool {
    h.len() == 16
        && h.bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// An image library name: 1-64 of `A-Z a-z 0-9 . _ -`, not starting with `.`.
fn is_image_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && !n.starts_with('.')
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

impl LinkV1 {
    pub fn from_current(l: &Link) -> LinkV1 {
        let (b, t) = match &l.scenario {
            LinkScenario::Builtin { id, hash } => (
                Some(BuiltinRefV1 {
                    id: id.clone(),
                    h: hash.clone(),
                }),
                None,
            ),
            LinkScenario::Text { text } => (None, Some(text.clone())),
        };
        LinkV1 {
            b,
            t,
            v: l.variant.clone(),
            o: l.options.clone(),
            s: match l.strategy {
                Strategy::Random => StrategyV1::Random,
                Strategy::Pct { depth } => StrategyV1::Pct { d: depth },
                Strategy::Dfs { bound } => StrategyV1::Dfs { p: bound },
            },
            r: l.seed,
            x: l.schedule.clone(),
            at: l.step,
            i: l.base.as_ref().map(|b| BaseRefV1 {
                n: b.name.clone(),
                h: b.hash.clone(),
            }),
            k: l.custom
                .as_ref()
                .filter(|c| !c.is_empty())
                .map(|c| KernelV1 {
                    v: c.kernel.clone(),
                    a: c.apply.clone(),
                    r: c.revert.clone(),
                }),
            e: Some(
                l.engine
                    .clone()
                    .unwrap_or_else(|| super::ENGINE_VERSION.to_string()),
            ),
            w: l.outcome.clone(),
        }
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings, integers and maps cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(json: &[u8]) -> Result<LinkV1, LinkError> {
        serde_json::from_slice(json).map_err(|e| LinkError::BadPayload(e.to_string()))
    }

    /// V1 is the current version: convert to [`Link`], checking the
    /// invariants JSON alone cannot express.
    pub fn into_current(self) -> Result<Link, LinkError> {
        if let Some(e) = &self.e {
            if !is_engine_version(e) {
                return Err(LinkError::BadPayload(format!(
                    "engine version `{e}` is not 1-32 of 0-9 a-z . + -"
                )));
            }
        }
        if let Some(w) = &self.w {
            if !crate::scenario::OutcomeKind::ALL
                .iter()
                .any(|k| k.as_str() == w)
            {
                return Err(LinkError::BadPayload(format!(
                    "`{w}` is not an outcome kind"
                )));
            }
        }
        let scenario = match (self.b, self.t) {
            (Some(b), None) => {
                if !is_hash16(&b.h) {
                    return Err(LinkError::BadPayload(format!(
                        "built-in hash `{}` is not 16 lowercase hex digits",
                        b.h
                    )));
                }
                LinkScenario::Builtin {
                    id: b.id,
                    hash: b.h,
                }
            }
            (None, Some(text)) => LinkScenario::Text { text },
            _ => {
                return Err(LinkError::BadPayload(
                    "exactly one of `b` (built-in) and `t` (text) must be present".into(),
                ))
            }
        };
        let base = match self.i {
            None => None,
            Some(i) if is_hash16(&i.h) && is_image_name(&i.n) => Some(LinkBase {
                name: i.n,
                hash: i.h,
            }),
            Some(i) => {
                return Err(LinkError::BadPayload(format!(
                "base image `{}` (hash `{}`) is not a library name with 16 lowercase hex digits",
                i.n, i.h
            )))
            }
        };
        Ok(Link {
            scenario,
            variant: self.v,
            options: self.o,
            strategy: match self.s {
                StrategyV1::Random => Strategy::Random,
                StrategyV1::Pct { d } => Strategy::Pct { depth: d },
                StrategyV1::Dfs { p } => Strategy::Dfs { bound: p },
            },
            seed: self.r,
            schedule: self.x,
            step: self.at,
            base,
            custom: self.k.map(|k| CustomKernel {
                kernel: k.v,
                apply: k.a,
                revert: k.r,
            }),
            engine: self.e,
            outcome: self.w,
        })
    }
}
