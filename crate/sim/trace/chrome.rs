//! Chrome trace-event JSON (opens in Perfetto and chrome://tracing).
//!
//! Layout: one process per simulated process, one thread per task. Time
//! is the event's index in the trace (1 µs per event), so timestamps are
//! unique and increasing. Kernel functions (`kfn!` scopes) are `B`/`E`
//! pairs on the task's thread, so they nest per track; scopes still open
//! when the execution ends (deadlock, crash) are closed at the end. Held
//! locks are async slices (`b`/`e`, category "lock", id per lock and task);
//! blocks, wakes, steps, bios, warnings and the crash are thread-scoped
//! instant events (`i`), and each wake is also a flow (`s` -> `f`) from the
//! waker to the woken task.

use serde_json::{json, Value};

use super::{EventKind, Trace};

fn fnv(s: &str) -> u64 {
    super::fnv1a64(s.as_bytes())
}

impl Trace {
    /// The trace as Chrome trace-event JSON.
    pub fn to_chrome_json(&self) -> Value {
        let mut procs: Vec<String> = Vec::new();
        for t in &self.tasks {
            if !procs.contains(&t.process) {
                procs.push(t.process.clone());
            }
        }
        let pid_of = |task: usize| -> usize {
            self.tasks
                .get(task)
                .and_then(|t| procs.iter().position(|p| *p == t.process))
                .map(|i| i + 1)
                .unwrap_or(0)
        };
        let mut out: Vec<Value> = Vec::new();
        for (i, p) in procs.iter().enumerate() {
            out.push(json!({"ph":"M","name":"process_name","pid":i+1,"tid":0,"args":{"name":p}}));
        }
        for (i, t) in self.tasks.iter().enumerate() {
            out.push(json!({"ph":"M","name":"thread_name","pid":pid_of(i),"tid":i,"args":{"name":t.name}}));
        }
        let mut open: Vec<Vec<String>> = vec![Vec::new(); self.tasks.len()];
        let task_index = |name: &str| self.tasks.iter().position(|t| t.name == name);
        let mut flow = 0u64;
        let mut ts = 0u64;
        for ev in &self.events {
            ts += 1;
            let tid = ev.task.map(|t| t as usize).unwrap_or(0);
            let pid = pid_of(tid);
            let step = ev.step;
            let inst = |name: String, cat: &str| json!({"ph":"i","s":"t","name":name,"cat":cat,"pid":pid,"tid":tid,"ts":ts,"args":{"step":step}});
            match &ev.kind {
                EventKind::Enter { func } => {
                    if let Some(s) = open.get_mut(tid) {
                        s.push(func.clone());
                    }
                    out.push(json!({"ph":"B","name":func,"cat":"kfn","pid":pid,"tid":tid,"ts":ts,"args":{"step":step}}));
                }
                EventKind::Exit { func } => {
                    let ok = open.get_mut(tid).and_then(|s| s.pop()).is_some();
                    if ok {
                        out.push(
                            json!({"ph":"E","name":func,"cat":"kfn","pid":pid,"tid":tid,"ts":ts}),
                        );
                    }
                }
                EventKind::Acquire { lock, class, mode } => {
                    let id = format!("{:x}", fnv(&format!("{lock}/{tid}")));
                    out.push(json!({"ph":"b","name":lock,"cat":"lock","id":id,"pid":pid,"tid":tid,"ts":ts,
                        "args":{"class":class,"mode":format!("{mode:?}"),"step":step}}));
                }
                EventKind::Release { lock } => {
                    let id = format!("{:x}", fnv(&format!("{lock}/{tid}")));
                    out.push(json!({"ph":"e","name":lock,"cat":"lock","id":id,"pid":pid,"tid":tid,"ts":ts}));
                }
                EventKind::Wake { task, lock } => {
                    out.push(inst(format!("wake {task} ({lock})"), "wait"));
                    if let Some(w) = task_index(task) {
                        flow += 1;
                        out.push(json!({"ph":"s","name":"wake","cat":"wait","id":flow,"pid":pid,"tid":tid,"ts":ts}));
                        out.push(json!({"ph":"f","bp":"e","name":"wake","cat":"wait","id":flow,"pid":pid_of(w),"tid":w,"ts":ts}));
                    }
                }
                EventKind::Block { lock } => out.push(inst(format!("block on {lock}"), "wait")),
                EventKind::Step { op, .. } => out.push(inst(format!("step {step}: {op}"), "step")),
                EventKind::Spawn { name, .. } => out.push(inst(format!("spawn {name}"), "task")),
                EventKind::Finish => out.push(inst("exit".into(), "task")),
                EventKind::BioSubmit {
                    bio,
                    block,
                    write,
                    blocks,
                } => out.push(inst(
                    format!(
                        "submit_bio {bio} {} block {block}{}",
                        if *write { "W" } else { "R" },
                        if *blocks > 1 {
                            format!(" (+{} more)", blocks - 1)
                        } else {
                            String::new()
                        }
                    ),
                    "bio",
                )),
                EventKind::BioComplete { bio, block } => {
                    out.push(inst(format!("bio {bio} end_io block {block}"), "bio"))
                }
                EventKind::Crash { point } => out.push(inst(format!("CRASH at {point}"), "crash")),
                EventKind::Warn { site } => out.push(inst(format!("WARN {site}"), "warn")),
                EventKind::Bug { site } => out.push(inst(format!("BUG {site}"), "warn")),
                EventKind::Error { site, errno } => {
                    out.push(inst(format!("{site}: {errno}"), "error"))
                }
                EventKind::Flush { atomic, task } => out.push(inst(
                    format!("store of {task} to {atomic} visible"),
                    "memory",
                )),
                EventKind::Note { text } => out.push(inst(text.clone(), "note")),
                EventKind::Signal { object, what } => {
                    out.push(inst(format!("{what} {object}"), "signal"))
                }
            }
        }
        ts += 1;
        for (tid, stack) in open.iter().enumerate() {
            for func in stack.iter().rev() {
                out.push(
                    json!({"ph":"E","name":func,"cat":"kfn","pid":pid_of(tid),"tid":tid,"ts":ts}),
                );
            }
        }
        json!({"traceEvents": out, "displayTimeUnit": "ns"})
    }
}
