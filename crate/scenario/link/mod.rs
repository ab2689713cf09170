//! Share links: the URL fragment that replays a run.
//!
//! A link is `#v<N>.<payload>`: the format version, a dot, then the
//! version's payload. Version 1's payload is URL-safe base64 (no padding) of
//! raw deflate (miniz_oxide) of a compact JSON object ([`v1`]). Version 2
//! carries the same JSON object in a zlib stream instead of raw deflate: its
//! Adler-32 trailer makes a tampered or mistyped link an error
//! ([`LinkError::Decompress`]) instead of a different valid link. It holds the
//! scenario (a built-in's id and content hash, or the full text), the
//! variant, option values, the exploration strategy and seed, the
//! simulator's replay token (opaque here) and optionally the step to show.
//!
//! Decoding never panics and never evaluates anything: a damaged link gives
//! a [`LinkError`]. Decompression stops at [`MAX_PAYLOAD`] bytes. Old
//! versions keep loading: [`migrate`] decodes each known version into its
//! own struct and upgrades it step by step to the current [`Link`].

mod migrate;
pub mod renames;
mod v1;

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::builtins::{builtin, fnv1a64};
use super::error::ScenarioError;
use super::model::Scenario;
use super::parse::parse_scenario;
use super::resolve::{CustomKernel, RunConfig};

/// The version [`encode_link`] writes.
pub const LINK_VERSION: u32 = 3;

/// The ext4lab version whose engine makes the links this build writes
/// (`Link::engine`): a schedule replays as it did only on the engine that
/// made it.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Largest decompressed payload accepted (1 MiB): a decompression bomb
/// stops here instead of exhausting memory.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// Largest fragment accepted before any decoding (characters).
pub const MAX_FRAGMENT: usize = 1 << 20;

/// Which scenario a link replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LinkScenario {
    /// A built-in, by id (`s5`) and the FNV-1a 64 content hash of its text
    /// when the link was made (16 lowercase hex digits).
    Builtin { id: String, hash: String },
    /// A user scenario, carried whole.
    Text { text: String },
}

/// The exploration strategy and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Strategy {
    /// Seeded random scheduling.
    Random,
    /// Probabilistic concurrency testing with `depth` priority change points.
    Pct { depth: u32 },
    /// Exhaustive DFS with partial-order reduction under a preemption bound;
    /// [`NO_BOUND`] is no bound (every interleaving).
    Dfs { bound: u32 },
}

/// The DFS bound a link (and the page's worker) writes for no preemption
/// bound: the search covers every interleaving.
pub const NO_BOUND: u32 = u32::MAX;

/// A DFS bound as links and scenario texts store it ([`NO_BOUND`]: none)
/// as the explorer takes it (`None`: every interleaving).
pub fn dfs_bound(b: u32) -> Option<u32> {
    (b != NO_BOUND).then_some(b)
}

/// Everything a share link carries (the current version's view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub scenario: LinkScenario,
    pub variant: String,
    /// Option values that differ from (or restate) the defaults.
    pub options: BTreeMap<String, String>,
    pub strategy: Strategy,
    /// Seeds the scheduler's PRNG (random, PCT); DFS ignores it.
    pub seed: u64,
    /// The simulator's replay token, opaque here; empty = no schedule.
    pub schedule: String,
    /// The step of the trace to show, if any.
    pub step: Option<u64>,
    /// The stored disk image the runs start from instead of the recipe's
    /// mkfs (the playground's image library), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<LinkBase>,
    /// The variant's kernel changed ad hoc (a custom variant: version,
    /// changes applied and reverted), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomKernel>,
    /// The ext4lab version whose engine made the schedule (link version
    /// 3); `None` for older links (ext4lab 0.1.x). [`encode_link`] writes
    /// [`ENGINE_VERSION`] when it is `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The outcome kind the link shows (`deadlock`, `stale-data`...), so
    /// that a link whose schedule no longer fits can be found again
    /// (`ext4lab replay --refind`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// A stored image a link's runs start from: its library name and the
/// FNV-1a 64 of its bytes (16 lowercase hex digits). The image itself is
/// not in the link; the page opening it must have one of that name whose
/// bytes hash the same, or refuse the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkBase {
    pub name: String,
    pub hash: String,
}

/// Why a link could not be decoded or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("not an ext4lab link: it must start with `#v<version>.`")]
    BadPrefix,
    #[error("link version {0} is unknown to this build (it knows 1..={LINK_VERSION})")]
    UnknownVersion(u32),
    #[error("link is {len} characters long; the limit is {MAX_FRAGMENT}")]
    TooLong { len: usize },
    #[error("link is damaged: not URL-safe base64 ({0})")]
    BadBase64(String),
    #[error("link is damaged: its compressed data does not inflate ({0})")]
    Decompress(String),
    #[error("link payload inflates past {MAX_PAYLOAD} bytes; refusing it")]
    TooLarge,
    #[error("link payload is malformed: {0}")]
    BadPayload(String),
    #[error("link names built-in scenario `{0}`, which this build does not have")]
    UnknownBuiltin(String),
    /// The built-in changed since the link was made; `link` is the decoded
    /// link, so a caller may still open it against today's text.
    #[error("built-in `{id}` has changed since the link was made (hash {link_hash}, now {current_hash})")]
    HashMismatch {
        id: String,
        link_hash: String,
        current_hash: String,
        link: Box<Link>,
    },
    #[error("the link's scenario does not parse: {0}")]
    BadScenario(ScenarioError),
    #[error("the link does not fit its scenario: {0}")]
    BadChoice(ScenarioError),
}

impl Link {
    /// A link to built-in `id` as it is in this build.
    pub fn to_builtin(id: &str, variant: &str) -> Option<Link> {
        let b = builtin(id)?;
        Some(Link {
            scenario: LinkScenario::Builtin {
                id: b.id.to_string(),
                hash: b.hash_hex(),
            },
            variant: variant.to_string(),
            options: BTreeMap::new(),
            strategy: Strategy::Dfs { bound: 2 },
            seed: 0,
            schedule: String::new(),
            step: None,
            base: None,
            custom: None,
            engine: Some(ENGINE_VERSION.to_string()),
            outcome: None,
        })
    }

    /// The scenario text the link refers to (a built-in's current text).
    pub fn scenario_text(&self) -> Result<&str, LinkError> {
        match &self.scenario {
            LinkScenario::Text { text } => Ok(text),
            LinkScenario::Builtin { id, .. } => builtin(id)
                .map(|b| b.text)
                .ok_or_else(|| LinkError::UnknownBuiltin(id.clone())),
        }
    }

    /// "ext4lab 0.2.0", or for a link that does not say, the versions that
    /// made such links.
    pub fn made_with(&self) -> String {
        match &self.engine {
            Some(v) => format!("ext4lab {v}"),
            None => "ext4lab 0.1 (links before version 3 do not name the engine)".into(),
        }
    }

    /// The same run found again by this build's engine: `schedule` (a
    /// replay token found by exploring the link's variant and options with
    /// the scenario's DFS under `bound`), this engine's version, today's
    /// hash of the built-in, the step to show dropped.
    pub fn refound(&self, schedule: String, bound: u32) -> Link {
        let mut l = Link {
            schedule,
            strategy: Strategy::Dfs { bound },
            seed: 0,
            step: None,
            engine: Some(ENGINE_VERSION.to_string()),
            ..self.clone()
        };
        if let LinkScenario::Builtin { id, hash } = &mut l.scenario {
            if let Some(b) = builtin(id) {
                *hash = b.hash_hex();
            }
        }
        l
    }

    /// Parses the scenario and resolves the variant and options.
    pub fn open(&self) -> Result<(Scenario, RunConfig), LinkError> {
        let scenario = parse_scenario(self.scenario_text()?).map_err(LinkError::BadScenario)?;
        let cfg = scenario
            .resolve_custom(&self.variant, &self.options, self.custom.as_ref())
            .map_err(LinkError::BadChoice)?;
        Ok((scenario, cfg))
    }
}

/// Encodes `link` as a URL fragment, `#v3.` included.
pub fn encode_link(link: &Link) -> String {
    let json = v1::LinkV1::from_current(link).to_json();
    let mut packed = miniz_oxide::deflate::compress_to_vec_zlib(json.as_bytes(), 9);
    packed.extend_from_slice(&crc32c::crc32c(json.as_bytes()).to_le_bytes());
    format!("#v{LINK_VERSION}.{}", URL_SAFE_NO_PAD.encode(packed))
}

/// Decodes a fragment (with or without its `#`) into the current [`Link`]
/// without checking the built-in it names.
pub fn decode_link_unchecked(fragment: &str) -> Result<Link, LinkError> {
    if fragment.len() > MAX_FRAGMENT {
        return Err(LinkError::TooLong {
            len: fragment.len(),
        });
    }
    let s = fragment.strip_prefix('#').unwrap_or(fragment);
    let rest = s.strip_prefix('v').ok_or(LinkError::BadPrefix)?;
    let (ver, payload) = rest.split_once('.').ok_or(LinkError::BadPrefix)?;
    if ver.is_empty() || ver.len() > 9 || !ver.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LinkError::BadPrefix);
    }
    let version: u32 = ver.parse().map_err(|_| LinkError::BadPrefix)?;
    if !migrate::is_known(version) {
        return Err(LinkError::UnknownVersion(version));
    }
    let packed = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| LinkError::BadBase64(e.to_string()))?;
    // v3: a CRC-32C of the JSON follows the zlib stream. The zlib
    // Adler-32 alone lets structured flips through: a deflate back
    // reference that turns "4,2,0" into "5,0,1" keeps both of its sums.
    let (packed, crc) = if version >= 3 {
        if packed.len() < 4 {
            return Err(LinkError::Decompress("no checksum".into()));
        }
        let (z, c) = packed.split_at(packed.len() - 4);
        (z, Some(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
    } else {
        (&packed[..], None)
    };
    let inflated = if version == 1 {
        miniz_oxide::inflate::decompress_to_vec_with_limit(packed, MAX_PAYLOAD)
    } else {
        // zlib: header and Adler-32 checked by the inflater.
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(packed, MAX_PAYLOAD)
    };
    let json = inflated.map_err(|e| {
        if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
            LinkError::TooLarge
        } else {
            LinkError::Decompress(format!("{:?}", e.status))
        }
    })?;
    if let Some(crc) = crc {
        if crc32c::crc32c(&json) != crc {
            return Err(LinkError::Decompress("checksum mismatch".into()));
        }
    }
    let mut link = migrate::upgrade(migrate::parse_payload(version, &json)?)?;
    renames::apply(&mut link);
    Ok(link)
}

/// Decodes a fragment and checks that a built-in it names exists and has
/// not changed since the link was made.
pub fn decode_link(fragment: &str) -> Result<Link, LinkError> {
    let link = decode_link_unchecked(fragment)?;
    if let LinkScenario::Builtin { id, hash } = &link.scenario {
        let b = builtin(id).ok_or_else(|| LinkError::UnknownBuiltin(id.clone()))?;
        let current = format!("{:016x}", fnv1a64(b.text.as_bytes()));
        if *hash != current {
            return Err(LinkError::HashMismatch {
                id: id.clone(),
                link_hash: hash.clone(),
                current_hash: current,
                link: Box::new(link),
            });
        }
    }
    Ok(link)
}
