//! Storage faults, typed. Every failure of browser storage becomes a
//! [`StorageFault`]: a stable `kind` the page can switch on, the image it hit,
//! the operation, the browser's own error name (`NoModificationAllowedError`,
//! `QuotaExceededError`, ...) and a sentence a user can act on.
//!
//! The engine sees only `DeviceError::Io(text)` (the shared device contract
//! has no browser vocabulary); the devices keep the typed fault as well, so
//! the worker answers the page with the typed kind.

use crate::device::DeviceError;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// What went wrong, as the page switches on it (kebab-case on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The OPFS file's exclusive sync handle is held elsewhere (another tab
    /// or worker): `NoModificationAllowedError`.
    ImageBusy,
    /// The origin's storage quota is exhausted: `QuotaExceededError`.
    QuotaExceeded,
    /// A write-out of dirty blocks failed for another reason.
    WriteFailed,
    /// The barrier itself (`FileSystemSyncAccessHandle.flush`) failed.
    FlushFailed,
    /// A read from storage failed.
    ReadFailed,
    /// Opening the IndexedDB database is blocked by another connection.
    IdbBlocked,
    /// An IndexedDB transaction was aborted: nothing of it was stored.
    IdbAborted,
    /// Our IndexedDB connection was closed under us (another tab upgraded or
    /// deleted the database).
    IdbClosed,
    /// No image of that name.
    NotFound,
    /// An image of that name exists already.
    Exists,
    /// A request the device cannot serve (bad name or size, a non-resident
    /// chunk in lazy mode).
    Invalid,
    /// Anything else the browser reported.
    Other,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::ImageBusy => "image-busy",
            FaultKind::QuotaExceeded => "quota-exceeded",
            FaultKind::WriteFailed => "write-failed",
            FaultKind::FlushFailed => "flush-failed",
            FaultKind::ReadFailed => "read-failed",
            FaultKind::IdbBlocked => "idb-blocked",
            FaultKind::IdbAborted => "idb-aborted",
            FaultKind::IdbClosed => "idb-closed",
            FaultKind::NotFound => "not-found",
            FaultKind::Exists => "exists",
            FaultKind::Invalid => "invalid",
            FaultKind::Other => "storage-error",
        }
    }
}

/// A typed storage failure (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "camelCase")]
#[error("{}", self.describe())]
pub struct StorageFault {
    pub kind: FaultKind,
    pub image: String,
    pub op: &'static str,
    /// The browser's error name (`QuotaExceededError`, ...), or ours.
    pub dom_name: String,
    /// The browser's message, verbatim.
    pub detail: String,
}

impl StorageFault {
    pub fn new(kind: FaultKind, image: &str, op: &'static str, detail: impl Into<String>) -> Self {
        StorageFault {
            kind,
            image: image.to_string(),
            op,
            dom_name: String::new(),
            detail: detail.into(),
        }
    }

    /// Classify a JavaScript error (a DOMException or one of glue.js's named
    /// errors) raised by `op` on `image`.
    pub fn from_js(image: &str, op: &'static str, v: &JsValue) -> Self {
        let name = js_sys::Reflect::get(v, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_else(|| "Error".into());
        let detail = js_sys::Reflect::get(v, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{v:?}"));
        Self::from_parts(image, op, name, detail)
    }

    /// Classify an error by its DOM name (`QuotaExceededError`, ...).
    pub fn from_parts(image: &str, op: &'static str, name: String, detail: String) -> Self {
        let kind = match name.as_str() {
            "NoModificationAllowedError" => FaultKind::ImageBusy,
            "QuotaExceededError" => FaultKind::QuotaExceeded,
            "IdbBlockedError" => FaultKind::IdbBlocked,
            "AbortError" if op.starts_with("idb") => FaultKind::IdbAborted,
            "NotFoundError" => FaultKind::NotFound,
            "ConstraintError" => FaultKind::Exists,
            "InvalidStateError" if op.starts_with("idb") => FaultKind::IdbClosed,
            _ if op == "flush" => FaultKind::FlushFailed,
            _ if op == "write" => FaultKind::WriteFailed,
            _ if op == "read" => FaultKind::ReadFailed,
            _ => FaultKind::Other,
        };
        StorageFault {
            kind,
            image: image.to_string(),
            op,
            dom_name: name,
            detail,
        }
    }

    /// The sentence shown to the user.
    pub fn describe(&self) -> String {
        let img = &self.image;
        let what = match self.kind {
            FaultKind::ImageBusy => {
                format!("image '{img}' is open in another tab or worker; close it there and retry")
            }
            FaultKind::QuotaExceeded => format!(
                "the browser's storage quota is full while writing image '{img}'; \
                 the image keeps its state as of its last successful save; \
                 free space (delete images) and reopen it"
            ),
            FaultKind::WriteFailed => format!(
                "writing image '{img}' failed; it keeps its state as of its last successful \
                 save; reopen it"
            ),
            FaultKind::FlushFailed => format!(
                "the storage barrier (flush) failed for image '{img}'; writes since its last \
                 successful save may be partly stored but nothing after them was; reopen it"
            ),
            FaultKind::ReadFailed => format!("reading image '{img}' failed"),
            FaultKind::IdbBlocked => "the image database is held open by another tab at an \
                 older version; close the other tabs of this site and retry"
                .to_string(),
            FaultKind::IdbAborted => format!(
                "saving image '{img}' to IndexedDB was aborted; none of that save was stored \
                 and the image keeps its state as of its last successful save; reopen it"
            ),
            FaultKind::IdbClosed => "the image database was upgraded or deleted by another \
                 tab; reload this page"
                .to_string(),
            FaultKind::NotFound => format!("there is no image '{img}'"),
            FaultKind::Exists => format!("an image named '{img}' exists already"),
            FaultKind::Invalid => format!("invalid request on image '{img}'"),
            FaultKind::Other => format!("storage failed on image '{img}'"),
        };
        if self.dom_name.is_empty() {
            format!("{what} ({}: {})", self.op, self.detail)
        } else {
            format!("{what} ({} {}: {})", self.op, self.dom_name, self.detail)
        }
    }
}

impl From<StorageFault> for DeviceError {
    fn from(f: StorageFault) -> Self {
        DeviceError::Io(f.to_string())
    }
}
