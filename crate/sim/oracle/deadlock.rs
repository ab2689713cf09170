//! The deadlock oracle: when no actor can run and some tasks are blocked,
//! build the wait-for graph (a waiter waits for the holders of the lock it
//! wants and, on a FIFO rwsem, for the queued tasks ahead of it) and report
//! the first cycle, each task with what it holds and wants, like lockdep's
//! circular dependency report.

use serde::{Deserialize, Serialize};

use super::{Detail, Outcome, OutcomeKind};
use crate::sim::rt::{ObjId, Rt, Status, TaskId};

/// One blocked task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitInfo {
    pub task: String,
    /// Locks held, as "instance (class)".
    pub holds: Vec<String>,
    /// The object waited for.
    pub wants: String,
    pub wants_class: String,
    /// Tasks it waits for (holders, or queued ahead on a fair rwsem).
    pub waits_for: Vec<String>,
    /// Its kernel function stack.
    pub stack: Vec<String>,
}

/// The deadlock: the cycle (if the waits form one) and every blocked task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlockReport {
    pub cycle: Vec<WaitInfo>,
    pub blocked: Vec<WaitInfo>,
}

impl Rt {
    fn wanted(&self, t: TaskId) -> Option<ObjId> {
        match self.tasks[t as usize].status {
            Status::Blocked(o) => Some(o),
            Status::Runnable(op) if !self.op_enabled(op) => Some(op.obj),
            _ => None,
        }
    }

    fn waits_for(&self, t: TaskId, o: ObjId) -> Vec<TaskId> {
        let mut w = self.rw_waits_for(o, t).unwrap_or_else(|| self.holders(o));
        w.retain(|&h| h != t);
        w
    }

    fn wait_info(&self, t: TaskId, o: ObjId) -> WaitInfo {
        let task = &self.tasks[t as usize];
        WaitInfo {
            task: task.name.to_string(),
            holds: task
                .held
                .iter()
                .map(|h| {
                    let mode = if h.mode == crate::sim::rt::Mode::Shared {
                        ", read"
                    } else {
                        ""
                    };
                    format!(
                        "{} ({}{mode})",
                        self.obj_label(h.obj),
                        self.class_name(h.class)
                    )
                })
                .collect(),
            wants: self.obj_label(o),
            wants_class: self
                .objects
                .get(o as usize)
                .map(|ob| self.class_name(ob.class).to_string())
                .unwrap_or_default(),
            waits_for: self
                .waits_for(t, o)
                .iter()
                .map(|&x| self.tasks[x as usize].name.to_string())
                .collect(),
            stack: task.kfn.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The deadlock outcome for the current (stuck) state.
    pub(crate) fn deadlock_outcome(&self) -> Outcome {
        let n = self.ntasks as TaskId;
        let blocked: Vec<(TaskId, ObjId)> = (0..n)
            .filter_map(|t| self.wanted(t).map(|o| (t, o)))
            .collect();
        let mut cycle: Vec<TaskId> = Vec::new();
        'outer: for &(start, _) in &blocked {
            // follow the first blocked successor; a path visits each task once.
            let mut path = vec![start];
            let mut cur = start;
            for _ in 0..=n {
                let Some(o) = self.wanted(cur) else { break };
                let next = self
                    .waits_for(cur, o)
                    .into_iter()
                    .find(|x| self.wanted(*x).is_some());
                let Some(next) = next else { break };
                if let Some(pos) = path.iter().position(|&p| p == next) {
                    cycle = path[pos..].to_vec();
                    break 'outer;
                }
                path.push(next);
                cur = next;
            }
        }
        let report = DeadlockReport {
            cycle: cycle
                .iter()
                .filter_map(|&t| self.wanted(t).map(|o| self.wait_info(t, o)))
                .collect(),
            blocked: blocked.iter().map(|&(t, o)| self.wait_info(t, o)).collect(),
        };
        let mut out = Outcome::new(OutcomeKind::Deadlock, self.step);
        let involved = if report.cycle.is_empty() {
            &report.blocked
        } else {
            &report.cycle
        };
        out.tasks = involved.iter().map(|w| w.task.clone()).collect();
        out.locks = involved.iter().map(|w| w.wants_class.clone()).collect();
        out.site = "deadlock".into();
        out.message = involved
            .iter()
            .map(|w| {
                format!(
                    "{} holds [{}] wants {} ({})",
                    w.task,
                    w.holds.join(", "),
                    w.wants,
                    w.wants_class
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        out.detail = Some(Detail::Deadlock(report));
        out
    }
}
