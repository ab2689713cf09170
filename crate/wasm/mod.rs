//! The only Rust that knows JavaScript: opaque handles, plain data out.
//!
//! The page never calls into wasm directly. A dedicated worker (web/worker.ts)
//! owns this module and forwards each `{cmd, ...}` message to
//! [`handle_message`], which answers with plain serde data: `{ok: true, ...}`
//! or `{ok: false, error: {kind, message}}`. Errors are values, never throws.
//!
//! Two modules are built from this crate (scripts/build-wasm.sh): `pkg/`,
//! everything, and `pkg-lite/` with the `lite` feature, which answers only
//! [`crate::view::SCENARIO_COMMANDS`] (scenario text, share links, the
//! kernel history: what the page needs to become interactive). Nothing it
//! exports reaches the engine, the kernel model or the simulator, so the
//! linker leaves them out (296 KB gzip against 1,061 KB). The worker loads
//! each on its first command (web/worker.ts), so the page opens on the
//! small one and the engine arrives with the library's first listing or
//! the first run.

#[cfg(not(feature = "lite"))]
pub mod bench;
#[cfg(not(feature = "lite"))]
pub mod cmd_disk;
pub mod cmd_explore;
pub mod cmd_scenario;
pub mod device;
pub mod opfs;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// Installs the panic hook so a bug shows a Rust message in the console.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The commands of [`handle_message`], by their `cmd` (kebab-case), are
/// [`crate::view::SCENARIO_COMMANDS`] (`hello`: the engine's version and a
/// self-check, `crc32c {text}`, `scenarios`: the built-ins, `scenario
/// {key}`, `check-scenario {text}`: every error with line/column,
/// `resolve-scenario {text, variant, options, custom}`, `history`: the
/// modelled kernel changes, `link-encode {link}`, `link-decode
/// {fragment}`, `capabilities`; all the `lite` module answers) and these:
/// `explore {...}` (one shard, posting progress), `merge`, `replay
/// {target, token}`, `refind`, `chrome-trace {target, token}`, `manual
/// {target, choices}`, `image {target, token, step}` (a .img debugfs
/// opens), `disk {target, token, step}` (block maps, page cache, journal
/// transactions).
///
/// The message is read as `cmd` plus the command's own request struct
/// (serde ignores the extra `cmd` field), not as one internally tagged
/// enum: that form buffers every variant through serde's `Content` and
/// compiled a copy of that machinery per variant (wasm size).
pub const ENGINE_COMMANDS: &[&str] = &[
    "explore",
    "merge",
    "replay",
    "refind",
    "chrome-trace",
    "manual",
    "image",
    "disk",
];

#[derive(Debug, Deserialize)]
struct Crc32cReq {
    text: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Hello {
    engine: &'static str,
    version: &'static str,
    /// crc32c("123456789"): the standard check value, 0xe3069283.
    crc32c_check: String,
    /// "scenario" (the `lite` build) or "engine".
    module: &'static str,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    kind: &'static str,
    message: String,
}

fn ok<T: Serialize>(body: T) -> JsValue {
    #[derive(Serialize)]
    struct Ok<T> {
        ok: bool,
        #[serde(flatten)]
        body: T,
    }
    to_js(&Ok { ok: true, body })
}

fn err(kind: &'static str, message: String) -> JsValue {
    #[derive(Serialize)]
    struct Err {
        ok: bool,
        error: ErrorBody,
    }
    to_js(&Err {
        ok: false,
        error: ErrorBody { kind, message },
    })
}

/// `{ok: false, error: failure}` for a command's typed failure.
fn fail(f: crate::view::Failure) -> JsValue {
    #[derive(Serialize)]
    struct Err {
        ok: bool,
        error: crate::view::Failure,
    }
    to_js(&Err {
        ok: false,
        error: f,
    })
}

fn answer<T: Serialize>(r: Result<T, crate::view::Failure>) -> JsValue {
    match r {
        Ok(body) => ok(body),
        Err(f) => fail(f),
    }
}

pub(crate) fn to_js<T: Serialize>(v: &T) -> JsValue {
    // Maps as plain objects so the page reads them with ordinary property access.
    let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    v.serialize(&ser)
        .unwrap_or_else(|e| JsValue::from_str(&format!("serialization failed: {e}")))
}

/// The request struct of a message (its fields besides `cmd`).
fn req<T: serde::de::DeserializeOwned>(msg: JsValue) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(msg).map_err(|e| err("bad-message", e.to_string()))
}

/// Answer one message from the page. Never throws: malformed messages get
/// `{ok: false, error: {kind: "bad-message", ...}}`.
#[wasm_bindgen]
pub fn handle_message(msg: JsValue) -> JsValue {
    let cmd = js_sys::Reflect::get(&msg, &"cmd".into())
        .ok()
        .and_then(|c| c.as_string());
    let Some(cmd) = cmd else {
        return err("bad-message", "missing field `cmd`".into());
    };
    let answer = match cmd.as_str() {
        "hello" => Ok(ok(hello())),
        "crc32c" => req::<Crc32cReq>(msg).map(|r| {
            #[derive(Serialize)]
            struct Crc {
                crc32c: String,
            }
            ok(Crc {
                crc32c: format!("{:08x}", crate::engine::csum::crc32c(r.text.as_bytes())),
            })
        }),
        "scenarios" => Ok(ok(cmd_scenario::handle_list())),
        "scenario" => req(msg).map(|r| answer(cmd_scenario::handle_get(r))),
        "check-scenario" => req(msg).map(|r| ok(cmd_scenario::handle_check(r))),
        "resolve-scenario" => req(msg).map(|r| answer(cmd_scenario::handle_resolve(r))),
        "history" => Ok(ok(cmd_scenario::handle_history())),
        "link-encode" => req(msg).map(|r| ok(cmd_scenario::handle_encode(r))),
        "link-decode" => req(msg).map(|r| answer(cmd_scenario::handle_decode(r))),
        "capabilities" => Ok(ok(cmd_explore::handle_capabilities())),
        other
            if ENGINE_COMMANDS.contains(&other)
                || (cfg!(feature = "lite") && other.starts_with("image-")) =>
        {
            engine_command(other, msg)
        }
        other => Err(err(
            "bad-message",
            format!(
                "unknown command `{other}`, expected one of {}",
                crate::view::SCENARIO_COMMANDS
                    .iter()
                    .chain(ENGINE_COMMANDS)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    };
    answer.unwrap_or_else(|e| e)
}

/// The commands that run the engine ([`ENGINE_COMMANDS`]).
#[cfg(not(feature = "lite"))]
fn engine_command(cmd: &str, msg: JsValue) -> Result<JsValue, JsValue> {
    match cmd {
        "explore" => req(msg).map(|r| answer(cmd_explore::handle_explore(r))),
        "merge" => req(msg).map(|r| answer(cmd_explore::handle_merge(r))),
        "replay" => req(msg).map(|r| answer(cmd_explore::handle_replay(r))),
        "refind" => req(msg).map(|r| answer(cmd_explore::handle_refind(r))),
        "chrome-trace" => req(msg).map(|r| answer(cmd_explore::handle_chrome(r))),
        "manual" => req(msg).map(|r| answer(cmd_explore::handle_manual(r))),
        "image" => req(msg).map(|r| match cmd_explore::handle_image(r) {
            Ok(v) => v,
            Err(f) => fail(f),
        }),
        "disk" => req(msg).map(|r| answer(cmd_disk::handle_disk(r))),
        other => Err(err(
            "bad-message",
            format!("`{other}` is not an engine command"),
        )),
    }
}

/// The scenario module has no engine: its commands are elsewhere.
#[cfg(feature = "lite")]
fn engine_command(cmd: &str, _msg: JsValue) -> Result<JsValue, JsValue> {
    Err(err(
        "needs-engine",
        format!("`{cmd}` needs the engine module (pkg/); this is the scenario module (pkg-lite/)"),
    ))
}

/// Answer one message, asynchronously: the image-library commands
/// (`image-*`, see `device::commands`) need storage, which is async; every
/// other command goes to [`handle_message`]. The worker awaits each answer
/// before taking the next message. Never throws.
#[wasm_bindgen]
pub async fn handle_request(msg: JsValue) -> JsValue {
    #[cfg(not(feature = "lite"))]
    if let Some(answer) = device::commands::handle(&msg).await {
        return answer;
    }
    handle_message(msg)
}

fn hello() -> Hello {
    Hello {
        engine: "ext4lab",
        version: crate::VERSION,
        crc32c_check: format!("{:08x}", crate::engine::csum::crc32c(b"123456789")),
        module: if cfg!(feature = "lite") {
            "scenario"
        } else {
            "engine"
        },
    }
}
