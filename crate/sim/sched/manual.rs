//! Manual scheduling for the UI: the caller picks each next choice. Every
//! call re-runs the model from scratch over the chosen prefix (executions
//! are cheap), so undo is just dropping the last choice.

use super::replay::{Replay, StopPoint};
use crate::sim::exec::{EndKind, Execution, Model, RunOptions};
use crate::sim::token::Schedule;

/// A manual scheduling session.
pub struct ManualSession {
    model: Model,
    opts: RunOptions,
    prefix: Vec<u32>,
}

/// The state after the chosen prefix.
pub struct ManualState {
    /// The execution up to here (trace recorded).
    pub execution: Execution,
    /// The pending decision, or None when the execution ended.
    pub pending: Option<StopPoint>,
}

impl ManualSession {
    pub fn new(model: Model, mut opts: RunOptions) -> Self {
        opts.trace = true;
        ManualSession {
            model,
            opts,
            prefix: Vec::new(),
        }
    }

    /// The choices made so far (a schedule prefix; its token is a link).
    pub fn prefix(&self) -> Schedule {
        Schedule(self.prefix.clone())
    }

    /// Replays the prefix and reports where it stands.
    pub fn state(&self) -> ManualState {
        let mut r = Replay::new(&Schedule(self.prefix.clone()));
        let execution = self.model.run(&mut r, &self.opts);
        let pending = if execution.end == EndKind::Stopped {
            r.stopped
        } else {
            None
        };
        ManualState { execution, pending }
    }

    /// Appends a choice; returns false (and changes nothing) when it is not
    /// one of the pending candidates / values.
    pub fn choose(&mut self, choice: u32) -> bool {
        let st = self.state();
        let ok = match &st.pending {
            Some(p) => match p.kind {
                super::DecisionKind::Schedule => {
                    p.candidates.iter().any(|a| u32::from(a.0) == choice)
                }
                super::DecisionKind::Value(n) => choice < n,
            },
            None => false,
        };
        if ok {
            self.prefix.push(choice);
        }
        ok
    }

    /// Drops the last choice.
    pub fn undo(&mut self) -> bool {
        self.prefix.pop().is_some()
    }
}
