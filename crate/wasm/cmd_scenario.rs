//! Worker commands about scenarios and share links: the request of each
//! message and the view it asks for (`crate::view::scenario`, plain data
//! in, plain data out). Each `handle_*` returns `Ok(body)` or a
//! [`Failure`] that `super::handle_message` turns into `{ok: false, error}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::scenario::link::Link;
use crate::scenario::CustomKernel;
use crate::view::scenario::{
    self as view, BuiltinList, CheckBody, DecodeBody, EncodeBody, HistoryBody, ResolveBody,
    ScenarioBody,
};
use crate::view::Failure;

/// `{cmd: "scenarios"}`: the built-ins in order s1..s8.
pub fn handle_list() -> BuiltinList {
    view::list_builtins()
}

/// `{cmd: "scenario", key}`: a built-in by id or long name.
#[derive(Debug, Deserialize)]
pub struct GetBuiltin {
    pub key: String,
}

pub fn handle_get(req: GetBuiltin) -> Result<ScenarioBody, Failure> {
    view::get_builtin(&req.key)
}

/// `{cmd: "check-scenario", text}`: every problem (for lint markers) and,
/// when there are none, the parsed scenario.
#[derive(Debug, Deserialize)]
pub struct CheckText {
    pub text: String,
}

pub fn handle_check(req: CheckText) -> CheckBody {
    view::check(&req.text)
}

/// `{cmd: "resolve-scenario", text, variant, options, custom?}`: the
/// configuration one run would use (mount options, memory model, kernel
/// version and changes, tasks).
#[derive(Debug, Deserialize)]
pub struct ResolveReq {
    pub text: String,
    pub variant: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    pub custom: Option<CustomKernel>,
}

pub fn handle_resolve(req: ResolveReq) -> Result<ResolveBody, Failure> {
    view::resolve(&req.text, &req.variant, &req.options, req.custom.as_ref())
}

/// `{cmd: "history"}`: the registry of modelled kernel changes (as
/// `ext4lab history --json`) and the kernel versions worth offering.
pub fn handle_history() -> HistoryBody {
    view::history()
}

/// `{cmd: "link-encode", link}`: the URL fragment (`#v3.…`).
#[derive(Debug, Deserialize)]
pub struct EncodeReq {
    pub link: Link,
}

pub fn handle_encode(req: EncodeReq) -> EncodeBody {
    view::encode(&req.link)
}

/// `{cmd: "link-decode", fragment}`: the link, its scenario text, checked
/// against the scenario (variant and options exist).
#[derive(Debug, Deserialize)]
pub struct DecodeReq {
    pub fragment: String,
}

pub fn handle_decode(req: DecodeReq) -> Result<DecodeBody, Failure> {
    view::decode(&req.fragment)
}
