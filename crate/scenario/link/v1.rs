//! Link format version 1: the payload is JSON with short keys.
//!
//! ```text
//! { "b": {"id": "s5", "h": "<16 hex>"} | "t": "<scenario text>",
//!   "v": "<variant>", "o": {"<option>": "<value>", ...},
//!   "s": {"k": "random"} | {"k": "pct", "d": <depth>} | {"k": "dfs", "p": <bound>},
//!   "r": <seed>, "x": "<replay token>", "at": <step> }
//! ```
//! `o`, `x` and `at` are omitted when empty. Unknown keys are rejected, so a
//! tampered payload is an error rather than silently ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Link, LinkError, LinkScenario, Strategy};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BuiltinRefV1 {
    pub id: String,
    pub h: String,
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
        let scenario = match (self.b, self.t) {
            (Some(b), None) => {
                if b.h.len() != 16
                    || !b
                        .h
                        .bytes()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                {
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
        })
    }
}
