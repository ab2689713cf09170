//! The trace of one execution: every event as structured data, its stable
//! hash, and the Chrome trace-event export (`chrome.rs`).
//!
//! Trace hash: FNV-1a 64 over the compact JSON serialization
//! (`serde_json::to_vec`) of the [`Trace`] (tasks then events, fields in
//! declaration order). JSON of these types is canonical: no maps, no floats.

pub mod chrome;

use serde::{Deserialize, Serialize};

use super::rt::Mode;

/// One event. `task` is the task whose step it happened in (None during
/// world setup); `stack` its kernel function stack (`kfn!` scopes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub step: u32,
    pub task: Option<u32>,
    pub stack: Vec<String>,
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventKind {
    Spawn {
        name: String,
        process: String,
    },
    /// The scheduler ran `actor`, which performed `op`.
    Step {
        actor: u8,
        op: String,
    },
    Finish,
    Enter {
        func: String,
    },
    Exit {
        func: String,
    },
    Acquire {
        lock: String,
        class: String,
        mode: Mode,
    },
    Release {
        lock: String,
    },
    Block {
        lock: String,
    },
    Wake {
        task: String,
        lock: String,
    },
    BioSubmit {
        bio: u32,
        block: u64,
        write: bool,
        /// Blocks from `block` on, when more than one (absent in the JSON
        /// otherwise, so one-block traces keep their hashes).
        #[serde(default, skip_serializing_if = "is_one_block")]
        blocks: u32,
    },
    BioComplete {
        bio: u32,
        block: u64,
    },
    Crash {
        point: String,
    },
    Warn {
        site: String,
    },
    /// A `BUG()`: the run halts here.
    Bug {
        site: String,
    },
    Error {
        site: String,
        errno: String,
    },
    Flush {
        atomic: String,
        task: String,
    },
    Note {
        text: String,
    },
    /// A state change of a non-lock object (PG_writeback set/cleared,
    /// complete(), wake_up(), transaction state).
    Signal {
        object: String,
        what: String,
    },
}

/// Name and process of a task, by task id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    pub name: String,
    pub process: String,
}

/// A recorded execution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub tasks: Vec<TaskInfo>,
    pub events: Vec<Event>,
}

/// FNV-1a 64 of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Trace {
    /// The stable trace hash (see the module doc).
    pub fn hash(&self) -> u64 {
        fnv1a64(&serde_json::to_vec(self).unwrap_or_default())
    }
}

/// `BioSubmit::blocks` is left out of the JSON for a one-block bio.
fn is_one_block(n: &u32) -> bool {
    *n <= 1
}
