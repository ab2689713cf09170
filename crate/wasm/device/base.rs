//! Base images of scenario runs: the bytes of a stored image, kept in the
//! worker's memory under their content hash ([`base_hash`]) so that every
//! run of a target naming `{name, hash}` starts from exactly those bytes.
//!
//! The page's engine worker loads an image from the library
//! (`image-base-load`, which also checks it against the scenario); the
//! exploring workers of the pool get the bytes from the page
//! (`image-base-put`, hash verified). Runs build their in-memory image from
//! the cached bytes (`kernel::base_image::build_image_on`): the stored image
//! is never written by exploring.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Serialize;

use crate::kernel::base_image::{base_hash, build_image_on, BaseImageError, MAX_BASE_IMAGE};
use crate::scenario::parse_scenario;

/// Base images a worker keeps at once (the newest ones).
const KEEP: usize = 2;

/// A base image as a run target names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BaseRef {
    /// The library name (for messages; the hash decides).
    pub name: String,
    /// [`base_hash`] of the bytes.
    pub hash: String,
}

thread_local! {
    /// (hash, bytes), oldest first.
    static BASES: RefCell<Vec<(String, Rc<Vec<u8>>)>> = const { RefCell::new(Vec::new()) };
}

/// Keep `bytes` as a base image; returns its hash.
pub fn put(bytes: Vec<u8>) -> String {
    let hash = base_hash(&bytes);
    BASES.with(|b| {
        let mut b = b.borrow_mut();
        b.retain(|(h, _)| *h != hash);
        b.push((hash.clone(), Rc::new(bytes)));
        let extra = b.len().saturating_sub(KEEP);
        b.drain(..extra);
    });
    hash
}

/// The bytes of the base image `r`, if this worker holds them.
pub fn get(r: &BaseRef) -> Option<Rc<Vec<u8>>> {
    BASES.with(|b| {
        b.borrow()
            .iter()
            .find(|(h, _)| *h == r.hash)
            .map(|(_, v)| v.clone())
    })
}

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

/// Check `bytes` as the base of `text` (built completely once, as each run
/// will): the typed reason it cannot be, if any.
pub fn check(text: &str, bytes: &[u8]) -> Result<(), BaseFailure> {
    let sc = parse_scenario(text).map_err(|e| BaseFailure::BadScenario(e.render()))?;
    build_image_on(&sc, bytes)
        .map(|_| ())
        .map_err(BaseFailure::Unfit)
}

/// Take bytes sent by the page for `name`, refusing them unless they hash
/// to `hash` and fit the size limit.
pub fn put_checked(name: &str, hash: &str, bytes: Vec<u8>) -> Result<(), BaseFailure> {
    let size = bytes.len() as u64;
    if size > MAX_BASE_IMAGE {
        return Err(BaseFailure::Unfit(BaseImageError::TooLarge {
            size,
            max: MAX_BASE_IMAGE,
        }));
    }
    let got = base_hash(&bytes);
    if got != hash {
        return Err(BaseFailure::HashMismatch {
            name: name.to_string(),
            want: hash.to_string(),
            got,
        });
    }
    put(bytes);
    Ok(())
}
