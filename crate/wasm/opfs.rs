//! The Origin Private File System, through `FileSystemSyncAccessHandle`
//! (dedicated workers only; one exclusive handle per file). This is the
//! fast path for the browser block device.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetDirectoryOptions,
    FileSystemGetFileOptions, FileSystemSyncAccessHandle, WorkerGlobalScope,
};

/// Errors from OPFS, with the DOMException name kept (e.g.
/// `NoModificationAllowedError` when another tab holds the handle,
/// `QuotaExceededError` when storage is full).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OPFS {op}: {name}: {message}")]
pub struct OpfsError {
    pub op: &'static str,
    pub name: String,
    pub message: String,
}

impl OpfsError {
    pub fn from_js(op: &'static str, v: JsValue) -> Self {
        let name = js_sys::Reflect::get(&v, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| "Error".into());
        let message = js_sys::Reflect::get(&v, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{v:?}"));
        OpfsError { op, name, message }
    }
}

/// The OPFS root directory of this origin (worker context).
pub async fn root() -> Result<FileSystemDirectoryHandle, OpfsError> {
    let global: WorkerGlobalScope = js_sys::global()
        .dyn_into()
        .map_err(|v: js_sys::Object| OpfsError::from_js("root (not in a worker)", v.into()))?;
    let dir = JsFuture::from(global.navigator().storage().get_directory())
        .await
        .map_err(|e| OpfsError::from_js("getDirectory", e))?;
    dir.dyn_into()
        .map_err(|v| OpfsError::from_js("getDirectory", v))
}

/// The subdirectory `name` of the OPFS root, created when missing.
pub async fn subdir(name: &str) -> Result<FileSystemDirectoryHandle, OpfsError> {
    let opts = FileSystemGetDirectoryOptions::new();
    opts.set_create(true);
    let dir = JsFuture::from(root().await?.get_directory_handle_with_options(name, &opts))
        .await
        .map_err(|e| OpfsError::from_js("getDirectoryHandle", e))?;
    dir.dyn_into()
        .map_err(|v| OpfsError::from_js("getDirectoryHandle", v))
}

/// Open (creating if asked) `name` in the OPFS root and take its exclusive
/// synchronous access handle.
pub async fn open_sync(name: &str, create: bool) -> Result<FileSystemSyncAccessHandle, OpfsError> {
    open_sync_in(&root().await?, name, create).await
}

/// Open (creating if asked) `name` in `dir` and take its exclusive
/// synchronous access handle (`NoModificationAllowedError` when another
/// tab or worker holds it).
pub async fn open_sync_in(
    dir: &FileSystemDirectoryHandle,
    name: &str,
    create: bool,
) -> Result<FileSystemSyncAccessHandle, OpfsError> {
    let opts = FileSystemGetFileOptions::new();
    opts.set_create(create);
    let file = JsFuture::from(dir.get_file_handle_with_options(name, &opts))
        .await
        .map_err(|e| OpfsError::from_js("getFileHandle", e))?;
    let file: FileSystemFileHandle = file
        .dyn_into()
        .map_err(|v| OpfsError::from_js("getFileHandle", v))?;
    let handle = JsFuture::from(file.create_sync_access_handle())
        .await
        .map_err(|e| OpfsError::from_js("createSyncAccessHandle", e))?;
    handle
        .dyn_into()
        .map_err(|v| OpfsError::from_js("createSyncAccessHandle", v))
}

/// Remove `name` from the OPFS root (missing is not an error).
pub async fn remove(name: &str) -> Result<(), OpfsError> {
    remove_in(&root().await?, name).await
}

/// Remove `name` from `dir` (missing is not an error).
pub async fn remove_in(dir: &FileSystemDirectoryHandle, name: &str) -> Result<(), OpfsError> {
    match JsFuture::from(dir.remove_entry(name)).await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = OpfsError::from_js("removeEntry", e);
            if e.name == "NotFoundError" {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// Write all of `buf` at byte `at`. (One call through glue.js: building a
/// `FileSystemReadWriteOptions` from Rust costs more than the write of a
/// 4 KiB block.)
pub fn write_at(h: &FileSystemSyncAccessHandle, at: u64, buf: &[u8]) -> Result<(), OpfsError> {
    let n = sah_write(h, buf, at as f64).map_err(|e| OpfsError::from_js("write", e))?;
    if n as usize != buf.len() {
        return Err(OpfsError {
            op: "write",
            name: "ShortWrite".into(),
            message: format!("{n} of {} bytes", buf.len()),
        });
    }
    Ok(())
}

/// Read `buf.len()` bytes at byte `at`; bytes past the end read as zeros.
pub fn read_at(h: &FileSystemSyncAccessHandle, at: u64, buf: &mut [u8]) -> Result<(), OpfsError> {
    let n = sah_read(h, buf, at as f64).map_err(|e| OpfsError::from_js("read", e))? as usize;
    let len = buf.len();
    buf[n.min(len)..].fill(0);
    Ok(())
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/crate/wasm/device/glue.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = sahRead)]
    fn sah_read(h: &FileSystemSyncAccessHandle, buf: &mut [u8], at: f64) -> Result<f64, JsValue>;
    #[wasm_bindgen(catch, js_name = sahWrite)]
    fn sah_write(h: &FileSystemSyncAccessHandle, buf: &[u8], at: f64) -> Result<f64, JsValue>;
}

/// The barrier: everything written before is durable.
pub fn flush(h: &FileSystemSyncAccessHandle) -> Result<(), OpfsError> {
    h.flush().map_err(|e| OpfsError::from_js("flush", e))
}
