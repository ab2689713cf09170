//! The only Rust that knows JavaScript: opaque handles, plain data out.
//!
//! The page never calls into wasm directly. A dedicated worker (web/worker.ts)
//! owns this module and forwards each `{cmd, ...}` message to
//! [`handle_message`], which answers with plain serde data: `{ok: true, ...}`
//! or `{ok: false, error: {kind, message}}`. Errors are values, never throws.

pub mod bench;
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

/// A request from the page, as the worker receives it.
#[derive(Debug, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
enum Command {
    /// Who are you: the engine's version and a self-check computation.
    Hello,
    /// crc32c of a UTF-8 string (the checksum every ext4 metadata block uses).
    Crc32c { text: String },
    /// The built-in scenarios (id, name, title, hash).
    Scenarios,
    /// One built-in's text and parsed form.
    Scenario(cmd_scenario::GetBuiltin),
    /// Every error of a scenario text (line/column), or its parsed form.
    CheckScenario(cmd_scenario::CheckText),
    /// The run configuration of a variant and options.
    ResolveScenario(cmd_scenario::ResolveReq),
    /// Share link: encode page state as a URL fragment.
    LinkEncode(cmd_scenario::EncodeReq),
    /// Share link: decode a fragment (typed errors, never evaluated).
    LinkDecode(cmd_scenario::DecodeReq),
    /// What this build can run (the simulator and kernel paths present?).
    Capabilities,
    /// Explore a target (one shard), posting progress.
    Explore(cmd_explore::ExploreReq),
    /// Replay a token with its trace.
    Replay(cmd_explore::ReplayReq),
    /// The trace of a token as Chrome trace-event JSON.
    ChromeTrace(cmd_explore::ReplayReq),
    /// Manual stepping: replay the choices, list the next candidates.
    Manual(cmd_explore::ManualReq),
    /// The disk image after a schedule prefix (a .img debugfs opens).
    Image(cmd_explore::ImageReq),
    /// The files' block maps, page cache and the journal's transactions at
    /// the start and at a step.
    Disk(cmd_disk::DiskReq),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Hello {
    engine: &'static str,
    version: &'static str,
    /// crc32c("123456789"): the standard check value, 0xe3069283.
    crc32c_check: String,
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
fn fail(f: cmd_scenario::Failure) -> JsValue {
    #[derive(Serialize)]
    struct Err {
        ok: bool,
        error: cmd_scenario::Failure,
    }
    to_js(&Err {
        ok: false,
        error: f,
    })
}

fn answer<T: Serialize>(r: Result<T, cmd_scenario::Failure>) -> JsValue {
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

/// Answer one message from the page. Never throws: malformed messages get
/// `{ok: false, error: {kind: "bad-message", ...}}`.
#[wasm_bindgen]
pub fn handle_message(msg: JsValue) -> JsValue {
    let cmd: Command = match serde_wasm_bindgen::from_value(msg) {
        Ok(c) => c,
        Err(e) => return err("bad-message", e.to_string()),
    };
    match cmd {
        Command::Hello => ok(hello()),
        Command::Crc32c { text } => {
            #[derive(Serialize)]
            struct Crc {
                crc32c: String,
            }
            ok(Crc {
                crc32c: format!("{:08x}", crate::engine::csum::crc32c(text.as_bytes())),
            })
        }
        Command::Scenarios => ok(cmd_scenario::handle_list()),
        Command::Scenario(r) => answer(cmd_scenario::handle_get(r)),
        Command::CheckScenario(r) => ok(cmd_scenario::handle_check(r)),
        Command::ResolveScenario(r) => answer(cmd_scenario::handle_resolve(r)),
        Command::LinkEncode(r) => ok(cmd_scenario::handle_encode(r)),
        Command::LinkDecode(r) => answer(cmd_scenario::handle_decode(r)),
        Command::Capabilities => ok(cmd_explore::handle_capabilities()),
        Command::Explore(r) => answer(cmd_explore::handle_explore(r)),
        Command::Replay(r) => answer(cmd_explore::handle_replay(r)),
        Command::ChromeTrace(r) => answer(cmd_explore::handle_chrome(r)),
        Command::Manual(r) => answer(cmd_explore::handle_manual(r)),
        Command::Disk(r) => answer(cmd_disk::handle_disk(r)),
        Command::Image(r) => match cmd_explore::handle_image(r) {
            Ok(v) => v,
            Err(f) => fail(f),
        },
    }
}

/// Answer one message, asynchronously: the image-library commands
/// (`image-*`, see `device::commands`) need storage, which is async; every
/// other command goes to [`handle_message`]. The worker awaits each answer
/// before taking the next message. Never throws.
#[wasm_bindgen]
pub async fn handle_request(msg: JsValue) -> JsValue {
    match device::commands::handle(&msg).await {
        Some(answer) => answer,
        None => handle_message(msg),
    }
}

fn hello() -> Hello {
    Hello {
        engine: "ext4lab",
        version: crate::VERSION,
        crc32c_check: format!("{:08x}", crate::engine::csum::crc32c(b"123456789")),
    }
}
