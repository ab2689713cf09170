//! Worker commands for running (`crate::view::explore`, plain data in,
//! plain data out): here only what is JavaScript's, posting the progress of
//! an exploration to the page, the image's bytes as a `Uint8Array`, and the
//! base images this worker holds (`device::base`).

use serde::Serialize;
use wasm_bindgen::JsCast;

use super::device::base;
use crate::sim::explore::{Observer, Stats};
use crate::view::explore::{
    self as view, Capabilities, ChromeBody, ExploreBody, ExploreReq, ImageReq, ManualReq, MergeReq,
    RefindBody, RefindReq, ReplayReq, RunBody,
};
use crate::view::Failure;

/// `{cmd: "capabilities"}`.
pub fn handle_capabilities() -> Capabilities {
    view::capabilities()
}

/// Posts `{progress: id, stats}` to the page from inside the exploration.
/// Cancelling is the page's: it terminates the worker (a wasm call cannot
/// be interrupted otherwise without SharedArrayBuffer).
struct PostProgress {
    id: u32,
}

impl Observer for PostProgress {
    fn progress(&mut self, stats: &Stats) {
        #[derive(Serialize)]
        struct Msg<'a> {
            progress: u32,
            stats: &'a Stats,
        }
        let scope = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>();
        if let Ok(scope) = scope {
            let _ = scope.post_message(&super::to_js(&Msg {
                progress: self.id,
                stats,
            }));
        }
    }
}

/// `{cmd: "explore", target, strategy, seed, maxExecutions, shard, progressId}`.
pub fn handle_explore(req: ExploreReq) -> Result<ExploreBody, Failure> {
    let mut obs = PostProgress {
        id: req.progress_id,
    };
    view::explore(req, &base::get, &mut obs)
}

/// `{cmd: "merge", parts}`.
pub fn handle_merge(req: MergeReq) -> Result<ExploreBody, Failure> {
    view::merge(req)
}

/// `{cmd: "replay", target, token}`.
pub fn handle_replay(req: ReplayReq) -> Result<RunBody, Failure> {
    view::replay(req, &base::get)
}

/// `{cmd: "refind", fragment, kind?}`.
pub fn handle_refind(req: RefindReq) -> Result<RefindBody, Failure> {
    view::refind(req, &base::get)
}

/// `{cmd: "chrome-trace", target, token}`.
pub fn handle_chrome(req: ReplayReq) -> Result<ChromeBody, Failure> {
    view::chrome_trace(req, &base::get)
}

/// `{cmd: "manual", target, choices}`.
pub fn handle_manual(req: ManualReq) -> Result<RunBody, Failure> {
    view::manual(req, &base::get)
}

/// `{cmd: "image", target, token, step}`: `{ok: true, steps, bytes}` with
/// the bytes as a `Uint8Array` (not serde's array of numbers).
pub fn handle_image(req: ImageReq) -> Result<wasm_bindgen::JsValue, Failure> {
    let image = view::image_at_step(req, &base::get)?;
    let out = js_sys::Object::new();
    let set = |k: &str, v: &wasm_bindgen::JsValue| js_sys::Reflect::set(&out, &k.into(), v).is_ok();
    set("ok", &wasm_bindgen::JsValue::TRUE);
    set("steps", &wasm_bindgen::JsValue::from(image.steps));
    set("bytes", &js_sys::Uint8Array::from(&image.bytes[..]).into());
    Ok(out.into())
}
