//! The worker's image-library commands (`image-*`), answered asynchronously
//! (storage is async even when the devices are not). Answers follow the
//! worker protocol: `{ok: true, ...}` or `{ok: false, error: {kind,
//! message, image, op, domName}}`; storage errors carry the typed
//! [`FaultKind`] as `kind`, engine errors `engine-error`.
//!
//! Every command that touched an image persists it before answering, so
//! `ok` means stored; an image the command opened itself is closed again
//! (only `image-open` keeps one open, e.g. for a scenario run).

use super::ext4::{self, MkfsRequest};
use super::fault::{FaultKind, StorageFault};
use super::library::Library;
use super::{Backend, ImageDevice, InjectedFault};
use crate::device::BlockDevice;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// An image command, read from the message by [`parse_command`] (its `cmd`
/// picks the request struct; see `super::super::ENGINE_COMMANDS` for why not one
/// internally tagged enum).
#[derive(Debug)]
enum ImageCommand {
    /// Every stored image with its size and filesystem summary.
    List,
    /// A new zero-filled image, formatted by the engine's mkfs when `mkfs`
    /// is given.
    Create {
        name: String,
        backend: Backend,
        size: u64,
        mkfs: Option<MkfsRequest>,
    },
    /// A new image holding `bytes` (a Uint8Array, read apart from serde).
    Import {
        name: String,
        backend: Backend,
    },
    /// The image's bytes (`bytes`, a Uint8Array).
    Export {
        name: String,
    },
    Delete {
        name: String,
    },
    /// Hold the image open in this worker (its OPFS handle taken).
    Open {
        name: String,
    },
    Close {
        name: String,
    },
    Info {
        name: String,
    },
    Fsck {
        name: String,
    },
    ReadFile {
        name: String,
        path: String,
    },
    /// Write `bytes` as the file at `path` (created if missing).
    WriteFile {
        name: String,
        path: String,
    },
    /// Raw write of `bytes` at byte `offset`, then a barrier.
    WriteBlocks {
        name: String,
        offset: u64,
    },
    /// Fault demo: make the next write-out (`quota`), flush (`flush`) or
    /// IndexedDB persist (`idb-abort`) of an image fail.
    InjectFault {
        name: String,
        fault: FaultName,
    },
    /// Load the image as a scenario base in this worker (see
    /// [`super::base`]); with `text`, check it against that scenario. The
    /// answer carries the content hash and the bytes (for the pool).
    BaseLoad {
        name: String,
        text: Option<String>,
    },
    /// Keep `bytes` (hashing to `hash`) as the base image `name` in this
    /// worker: how the exploring workers get it without storage access.
    BasePut {
        name: String,
        hash: String,
    },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum FaultName {
    Quota,
    Flush,
    IdbAbort,
}

#[derive(Deserialize)]
struct NameReq {
    name: String,
}

#[derive(Deserialize)]
struct CreateReq {
    name: String,
    backend: Backend,
    size: u64,
    mkfs: Option<MkfsRequest>,
}

#[derive(Deserialize)]
struct ImportReq {
    name: String,
    backend: Backend,
}

#[derive(Deserialize)]
struct FileReq {
    name: String,
    path: String,
}

#[derive(Deserialize)]
struct BlocksReq {
    name: String,
    offset: u64,
}

#[derive(Deserialize)]
struct BaseLoadReq {
    name: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
struct BasePutReq {
    name: String,
    hash: String,
}

#[derive(Deserialize)]
struct FaultReq {
    name: String,
    fault: FaultName,
}

/// The command `cmd` (an `image-*` name) with its fields from `msg`.
fn parse_command(cmd: &str, msg: &JsValue) -> Result<ImageCommand, String> {
    fn de<T: serde::de::DeserializeOwned>(msg: &JsValue) -> Result<T, String> {
        serde_wasm_bindgen::from_value(msg.clone()).map_err(|e| e.to_string())
    }
    let named = |msg: &JsValue| de::<NameReq>(msg).map(|r| r.name);
    Ok(match cmd {
        "image-list" => ImageCommand::List,
        "image-create" => {
            let r: CreateReq = de(msg)?;
            ImageCommand::Create {
                name: r.name,
                backend: r.backend,
                size: r.size,
                mkfs: r.mkfs,
            }
        }
        "image-import" => {
            let r: ImportReq = de(msg)?;
            ImageCommand::Import {
                name: r.name,
                backend: r.backend,
            }
        }
        "image-export" => ImageCommand::Export { name: named(msg)? },
        "image-delete" => ImageCommand::Delete { name: named(msg)? },
        "image-open" => ImageCommand::Open { name: named(msg)? },
        "image-close" => ImageCommand::Close { name: named(msg)? },
        "image-info" => ImageCommand::Info { name: named(msg)? },
        "image-fsck" => ImageCommand::Fsck { name: named(msg)? },
        "image-read-file" => {
            let r: FileReq = de(msg)?;
            ImageCommand::ReadFile {
                name: r.name,
                path: r.path,
            }
        }
        "image-write-file" => {
            let r: FileReq = de(msg)?;
            ImageCommand::WriteFile {
                name: r.name,
                path: r.path,
            }
        }
        "image-write-blocks" => {
            let r: BlocksReq = de(msg)?;
            ImageCommand::WriteBlocks {
                name: r.name,
                offset: r.offset,
            }
        }
        "image-inject-fault" => {
            let r: FaultReq = de(msg)?;
            ImageCommand::InjectFault {
                name: r.name,
                fault: r.fault,
            }
        }
        "image-base-load" => {
            let r: BaseLoadReq = de(msg)?;
            ImageCommand::BaseLoad {
                name: r.name,
                text: r.text,
            }
        }
        "image-base-put" => {
            let r: BasePutReq = de(msg)?;
            ImageCommand::BasePut {
                name: r.name,
                hash: r.hash,
            }
        }
        other => return Err(format!("unknown image command `{other}`")),
    })
}

thread_local! {
    /// The worker's library. Taken out while a command runs (commands are
    /// serialized by the worker; a re-entrant call gets an error, not a
    /// RefCell panic).
    static LIBRARY: RefCell<Option<Library>> = RefCell::new(Some(Library::default()));
}

enum Failure {
    Storage(StorageFault),
    Base(String, super::base::BaseFailure),
    Engine(String, String),
    Bad(String),
}

impl From<StorageFault> for Failure {
    fn from(f: StorageFault) -> Self {
        Failure::Storage(f)
    }
}

fn to_js<T: Serialize>(v: &T) -> JsValue {
    let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    v.serialize(&ser)
        .unwrap_or_else(|e| JsValue::from_str(&format!("serialization failed: {e}")))
}

fn ok_with(body: impl Serialize) -> JsValue {
    let v = to_js(&body);
    let obj: js_sys::Object = if v.is_object() {
        v.unchecked_into()
    } else {
        js_sys::Object::new()
    };
    let _ = js_sys::Reflect::set(&obj, &"ok".into(), &JsValue::TRUE);
    obj.into()
}

fn error_answer(f: Failure) -> JsValue {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        kind: String,
        message: String,
        image: String,
        op: String,
        dom_name: String,
    }
    let body = match f {
        Failure::Storage(f) => Body {
            kind: f.kind.as_str().into(),
            message: f.to_string(),
            image: f.image.clone(),
            op: f.op.into(),
            dom_name: f.dom_name.clone(),
        },
        Failure::Base(image, f) => Body {
            kind: f.kind().into(),
            message: f.message(&image),
            image,
            op: "base".into(),
            dom_name: String::new(),
        },
        Failure::Engine(image, message) => Body {
            kind: "engine-error".into(),
            message,
            image,
            op: String::new(),
            dom_name: String::new(),
        },
        Failure::Bad(message) => Body {
            kind: "bad-message".into(),
            message,
            image: String::new(),
            op: String::new(),
            dom_name: String::new(),
        },
    };
    #[derive(Serialize)]
    struct Err {
        ok: bool,
        error: Body,
    }
    to_js(&Err {
        ok: false,
        error: body,
    })
}

fn bytes_of(msg: &JsValue) -> Result<Vec<u8>, Failure> {
    let v =
        js_sys::Reflect::get(msg, &"bytes".into()).map_err(|_| Failure::Bad("no bytes".into()))?;
    if let Some(a) = v.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(a.to_vec());
    }
    if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(js_sys::Uint8Array::new(b).to_vec());
    }
    Err(Failure::Bad(
        "`bytes` must be a Uint8Array or an ArrayBuffer".into(),
    ))
}

/// Run `f` on the worker's library (the one the page's `image-*` commands
/// use), so open images are shared with the page. Fails with
/// [`FaultKind::Invalid`] while an `image-*` command is running.
pub async fn with_worker_library<T, F>(f: F) -> Result<T, StorageFault>
where
    F: for<'a> FnOnce(
        &'a mut Library,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<T, StorageFault>> + 'a>,
    >,
{
    let Some(mut lib) = LIBRARY.with(|l| l.borrow_mut().take()) else {
        return Err(StorageFault::new(
            FaultKind::Invalid,
            "",
            "library",
            "another image command is running",
        ));
    };
    let r = f(&mut lib).await;
    LIBRARY.with(|l| *l.borrow_mut() = Some(lib));
    r
}

/// **The scenario runner's entry point**: open the stored image `name`
/// (OPFS or IndexedDB, whichever holds it) as a [`BlockDevice`] the caller
/// owns. Run the engine on it; `persist().await` it before telling the page
/// a change is stored; `close().await` it at the end (until then an OPFS
/// image is locked against other tabs). Errors are typed (`image-busy`,
/// `not-found`, ...).
pub async fn open_image(name: &str) -> Result<ImageDevice, StorageFault> {
    let name = name.to_string();
    with_worker_library(move |lib| Box::pin(async move { lib.take(&name).await })).await
}

/// The bytes of the stored image `name`, e.g. for
/// `MemDevice::from_bytes` when a scenario explores many schedules from the
/// same starting image (each run then snapshots memory, not storage).
pub async fn read_image(name: &str) -> Result<Vec<u8>, StorageFault> {
    let name = name.to_string();
    with_worker_library(move |lib| Box::pin(async move { lib.export(&name).await })).await
}

/// Answer `msg` if it is an `image-*` command; `None` otherwise.
pub async fn handle(msg: &JsValue) -> Option<JsValue> {
    let cmd = js_sys::Reflect::get(msg, &"cmd".into()).ok()?.as_string()?;
    if !cmd.starts_with("image-") {
        return None;
    }
    let parsed = match parse_command(&cmd, msg) {
        Ok(c) => c,
        Err(e) => return Some(error_answer(Failure::Bad(e))),
    };
    let Some(mut lib) = LIBRARY.with(|l| l.borrow_mut().take()) else {
        return Some(error_answer(Failure::Bad(
            "another image command is running".into(),
        )));
    };
    let answer = run(&mut lib, parsed, msg).await;
    LIBRARY.with(|l| *l.borrow_mut() = Some(lib));
    Some(answer.unwrap_or_else(error_answer))
}

/// The engine error of an operation on `dev`, preferring the device's
/// typed storage fault when storage was the cause.
fn engine_failure(dev: &ImageDevice, name: &str, e: crate::engine::Ext4Error) -> Failure {
    match dev.fault() {
        Some(f) => Failure::Storage(f.clone()),
        None => Failure::Engine(name.to_string(), e.to_string()),
    }
}

/// Open `name` (if needed), run `f` on it, persist, and close it again if
/// it was not open before.
async fn with_image<T>(
    lib: &mut Library,
    name: &str,
    f: impl FnOnce(&mut ImageDevice) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let was_open = lib.is_open(name);
    let dev = lib.open(name).await?;
    let r = f(dev);
    if let Some(fault) = dev.fault().cloned() {
        // A failed device is dropped (its OPFS handle released) so the next
        // command starts again from what storage holds; the error goes to
        // the page now.
        lib.crash(name);
        return Err(r.err().unwrap_or(Failure::Storage(fault)));
    }
    let stored = if was_open {
        lib.persist(name).await
    } else {
        lib.close(name).await
    };
    if stored.is_err() {
        lib.crash(name);
    }
    match (r, stored) {
        (Ok(v), Ok(())) => Ok(v),
        (Err(e), _) => Err(e),
        (Ok(_), Err(f)) => Err(Failure::Storage(f)),
    }
}

async fn run(lib: &mut Library, cmd: ImageCommand, msg: &JsValue) -> Result<JsValue, Failure> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Info {
        name: String,
        backend: Option<Backend>,
        size: Option<u64>,
        open: bool,
        /// Held open by another tab or worker.
        busy: bool,
        fs: Option<ext4::FsSummary>,
    }
    match cmd {
        ImageCommand::List => {
            let mut images = Vec::new();
            for i in lib.list().await? {
                let (fs, busy) = match lib.peek(&i.name).await {
                    Ok(fs) => (fs, false),
                    Err(f) if f.kind == FaultKind::ImageBusy => (None, true),
                    Err(_) => (None, false),
                };
                images.push(Info {
                    name: i.name,
                    backend: Some(i.backend),
                    size: i.size,
                    open: i.open,
                    busy,
                    fs,
                });
            }
            #[derive(Serialize)]
            struct List {
                images: Vec<Info>,
            }
            Ok(ok_with(List { images }))
        }
        ImageCommand::Create {
            name,
            backend,
            size,
            mkfs,
        } => {
            lib.create(&name, backend, size).await?;
            if let Some(req) = mkfs {
                let dev = lib.open_mut(&name)?;
                if let Err(e) = ext4::format(dev, &req) {
                    let fail = engine_failure(dev, &name, e);
                    let _ = lib.delete(&name).await;
                    return Err(fail);
                }
            }
            if let Err(f) = lib.close(&name).await {
                let _ = lib.delete(&name).await;
                return Err(f.into());
            }
            info(lib, &name).await
        }
        ImageCommand::Import { name, backend } => {
            let bytes = bytes_of(msg)?;
            lib.import(&name, backend, &bytes).await?;
            lib.close(&name).await?;
            info(lib, &name).await
        }
        ImageCommand::Export { name } => {
            let bytes = lib.export(&name).await?;
            #[derive(Serialize)]
            struct Export<'a> {
                name: &'a str,
                size: u64,
            }
            let answer = ok_with(Export {
                name: &name,
                size: bytes.len() as u64,
            });
            let _ = js_sys::Reflect::set(
                &answer,
                &"bytes".into(),
                &js_sys::Uint8Array::from(&bytes[..]),
            );
            Ok(answer)
        }
        ImageCommand::Delete { name } => {
            lib.delete(&name).await?;
            Ok(ok_with(serde_json::json!({ "name": name })))
        }
        ImageCommand::Open { name } => {
            lib.open(&name).await?;
            info(lib, &name).await
        }
        ImageCommand::Close { name } => {
            lib.close(&name).await?;
            Ok(ok_with(serde_json::json!({ "name": name })))
        }
        ImageCommand::Info { name } => info(lib, &name).await,
        ImageCommand::Fsck { name } => {
            let report = with_image(lib, &name, |dev| {
                ext4::fsck(dev).map_err(|e| engine_failure(dev, &name, e))
            })
            .await?;
            #[derive(Serialize)]
            struct Fsck {
                clean: bool,
                report: crate::engine::fsck::FsckReport,
            }
            Ok(ok_with(Fsck {
                clean: report.is_clean(),
                report,
            }))
        }
        ImageCommand::ReadFile { name, path } => {
            let data = with_image(lib, &name, |dev| {
                ext4::read_file(dev, &path).map_err(|e| engine_failure(dev, &name, e))
            })
            .await?;
            let answer =
                ok_with(serde_json::json!({ "name": name, "path": path, "size": data.len() }));
            let _ = js_sys::Reflect::set(
                &answer,
                &"bytes".into(),
                &js_sys::Uint8Array::from(&data[..]),
            );
            Ok(answer)
        }
        ImageCommand::WriteFile { name, path } => {
            let bytes = bytes_of(msg)?;
            with_image(lib, &name, |dev| {
                ext4::write_file(dev, &path, &bytes).map_err(|e| engine_failure(dev, &name, e))
            })
            .await?;
            Ok(ok_with(
                serde_json::json!({ "name": name, "path": path, "size": bytes.len() }),
            ))
        }
        ImageCommand::WriteBlocks { name, offset } => {
            let bytes = bytes_of(msg)?;
            with_image(lib, &name, |dev| {
                let r = dev.write_at(offset, &bytes).and_then(|()| dev.flush());
                r.map_err(|e| match dev.fault() {
                    Some(f) => Failure::Storage(f.clone()),
                    None => Failure::Storage(StorageFault::new(
                        FaultKind::Invalid,
                        &name,
                        "write",
                        e.to_string(),
                    )),
                })
            })
            .await?;
            Ok(ok_with(
                serde_json::json!({ "name": name, "offset": offset, "size": bytes.len() }),
            ))
        }
        ImageCommand::InjectFault { name, fault } => {
            let dev = lib.open(&name).await?;
            match (fault, dev) {
                (FaultName::Quota, ImageDevice::Opfs(d)) => {
                    d.inject_fault(InjectedFault::QuotaOnWrite)
                }
                (FaultName::Flush, ImageDevice::Opfs(d)) => {
                    d.inject_fault(InjectedFault::FlushFails)
                }
                (FaultName::IdbAbort, ImageDevice::Idb(d)) => d.inject_abort_next_persist(),
                (f, d) => {
                    return Err(Failure::Bad(format!(
                        "fault {f:?} does not apply to a {:?} image",
                        d.backend()
                    )))
                }
            }
            Ok(ok_with(serde_json::json!({ "name": name, "armed": true })))
        }
        ImageCommand::BaseLoad { name, text } => base_load(lib, &name, text.as_deref()).await,
        ImageCommand::BasePut { name, hash } => {
            let bytes = bytes_of(msg)?;
            super::base::put_checked(&name, &hash, bytes)
                .map_err(|f| Failure::Base(name.clone(), f))?;
            Ok(ok_with(serde_json::json!({ "name": name, "hash": hash })))
        }
    }
}

/// `image-base-load`: the bytes of `name` kept as a base image here,
/// checked against the scenario `text` when given.
async fn base_load(lib: &mut Library, name: &str, text: Option<&str>) -> Result<JsValue, Failure> {
    use super::base;
    let bytes = lib.export(name).await?;
    let size = bytes.len() as u64;
    let max = crate::kernel::base_image::MAX_BASE_IMAGE;
    if size > max {
        let e = crate::kernel::base_image::BaseImageError::TooLarge { size, max };
        return Err(Failure::Base(name.into(), base::BaseFailure::Unfit(e)));
    }
    if let Some(text) = text {
        base::check(text, &bytes).map_err(|f| Failure::Base(name.into(), f))?;
    }
    let hash = base::put(bytes.clone());
    let answer = ok_with(serde_json::json!({ "name": name, "hash": hash, "size": size }));
    let _ = js_sys::Reflect::set(
        &answer,
        &"bytes".into(),
        &js_sys::Uint8Array::from(&bytes[..]),
    );
    Ok(answer)
}

async fn info(lib: &mut Library, name: &str) -> Result<JsValue, Failure> {
    let backend = lib.backend_of(name).await?;
    let Some(backend) = backend else {
        return Err(StorageFault::new(FaultKind::NotFound, name, "info", "no such image").into());
    };
    let fs = lib.peek(name).await?;
    let all = lib.list().await?;
    let size = all.iter().find(|i| i.name == name).and_then(|i| i.size);
    Ok(ok_with(serde_json::json!({
        "name": name,
        "backend": backend,
        "size": size,
        "open": lib.is_open(name),
        "fs": fs,
    })))
}
