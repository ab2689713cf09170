//! What the page and the CLI show, as plain serde data: the built-in list,
//! a scenario checked or resolved, share links decoded, and the disk and
//! journal of a run at one step. No JavaScript and no I/O: `crate/wasm`
//! turns a worker message into these calls and their answers into
//! `{ok: true, ...}`; `ext4lab` prints the same data as JSON or text.
//!
//! - [`scenario`]: scenarios and share links (`scenarios`, `scenario`,
//!   `check-scenario`, `resolve-scenario`, `history`, `link-*`).
//! - [`explore`]: running a target (`capabilities`, `explore`, `merge`,
//!   `replay`, `refind`, `chrome-trace`, `manual`, `image`).
//! - [`base`]: a stored image as a run's starting point, as a target names
//!   it.
//! - [`disk`]: the disk and journal view of a scenario run (`disk`,
//!   `ext4lab replay LINK --disk`), and its text form.

pub mod base;
pub mod disk;
pub mod explore;
pub mod scenario;

use serde::Serialize;

/// The worker commands that need no engine: scenario text, share links, the
/// kernel history and the capabilities list. The page's scenario module
/// (`pkg-lite/`, the `lite` feature, see crate/wasm) answers these and no
/// others; web/worker.ts sends them there and every other command to the
/// engine module. tests/protocol_types.rs checks web/protocol.ts lists the
/// same.
pub const SCENARIO_COMMANDS: &[&str] = &[
    "hello",
    "crc32c",
    "scenarios",
    "scenario",
    "check-scenario",
    "resolve-scenario",
    "history",
    "link-encode",
    "link-decode",
    "capabilities",
];

use crate::scenario::link::Link;

/// A failed view: a kind for programs, a message for people, and
/// optionally data the page may use (a link whose built-in changed). The
/// worker answers it as `{ok: false, error: failure}`.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Box<Link>>,
}

impl Failure {
    pub fn new(kind: &'static str, message: String) -> Failure {
        Failure {
            kind,
            message,
            link: None,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.kind)
    }
}
