//! ext4lab: a real ext4 engine inside a deterministic simulation of the
//! kernel code paths that race. See ARCHITECTURE.md for the map.
//!
//! Layers (data flows down; nothing below `wasm` knows JavaScript):
//! - [`device`]: the `BlockDevice` trait and its backends.
//! - [`engine`]: ext4 on disk.
//! - [`sim`]: the deterministic executor, primitives, schedulers, oracles.
//! - [`kernel`]: simulated kernel paths (async fns named like the kernel's).
//! - [`scenario`]: scenario text, built-ins, variants.
//! - [`view`]: what the page and the CLI show (scenarios, links, the disk
//!   and journal of a run), as plain serde data.
//! - `wasm` (browser build only): the JavaScript boundary.

// These docs are read by the crate's own developers (`cargo doc
// --document-private-items` shows the targets), and a kernel function's
// doc naming the private helper it models is the point of the link.
#![allow(rustdoc::private_intra_doc_links)]

pub mod device;
pub mod engine;
pub mod kernel;
pub mod scenario;
pub mod sim;
pub mod view;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

/// The engine's version, as shown by the page and the CLI.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
