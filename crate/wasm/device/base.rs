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

use crate::kernel::base_image::{base_hash, build_image_on, BaseImageError, MAX_BASE_IMAGE};
use crate::scenario::parse_scenario;
pub use crate::view::base::{BaseFailure, BaseRef};

/// Base images a worker keeps at once (the newest ones).
const KEEP: usize = 2;

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
