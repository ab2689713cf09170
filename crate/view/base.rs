//! A stored image as the starting point of a scenario run, as a run target
//! names it ([`BaseRef`]), where a run finds its bytes ([`BaseBytes`]), and
//! why it cannot be used ([`BaseFailure`]). The bytes themselves are the
//! worker's (`crate/wasm/device/base.rs` keeps them by content hash); the
//! views only ask for them.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::kernel::base_image::BaseImageError;

/// A base image as a run target names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseRef {
    /// The library name (for messages; the hash decides).
    pub name: String,
    /// `kernel::base_image::base_hash` of the bytes.
    pub hash: String,
}

/// The bytes of the base image a target names, if the caller holds them
/// (the worker: `crate::wasm::device::base::get`; natively: none).
pub type BaseBytes<'a> = &'a dyn Fn(&BaseRef) -> Option<Rc<Vec<u8>>>;

/// Why a base image cannot be used: the kernel's [`BaseImageError`], or the
/// worker does not hold it, or its bytes are not the ones named.
#[derive(Debug)]
pub enum BaseFailure {
    Unfit(BaseImageError),
    NotLoaded(BaseRef),
    HashMismatch {
        name: String,
        want: String,
        got: String,
    },
    BadScenario(String),
}

impl BaseFailure {
    pub fn kind(&self) -> &'static str {
        match self {
            BaseFailure::Unfit(e) => e.kind(),
            BaseFailure::NotLoaded(_) => "base-not-loaded",
            BaseFailure::HashMismatch { .. } => "base-hash-mismatch",
            BaseFailure::BadScenario(_) => "bad-scenario",
        }
    }

    pub fn message(&self, name: &str) -> String {
        match self {
            BaseFailure::Unfit(e) => format!("base image {name}: {e}"),
            BaseFailure::NotLoaded(r) => format!(
                "base image {} (content {}) is not loaded in this worker",
                r.name, r.hash
            ),
            BaseFailure::HashMismatch { name, want, got } => format!(
                "base image {name} has content {got}, not the {want} the run names (it changed)"
            ),
            BaseFailure::BadScenario(m) => m.clone(),
        }
    }
}
