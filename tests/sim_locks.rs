//! The lock primitives the kernel paths take by era: the percpu rwsem
//! (freeze protection, s_journal_flag_rwsem), the rwsem hand-off rules of
//! each era, the jbd2 transaction barrier (jbd2_journal_lock_updates), and
//! lockdep's view of read and write acquisitions.

use std::cell::Cell;
use std::rc::Rc;

use ext4lab::kfn;
use ext4lab::sim::trace::EventKind;
use ext4lab::sim::*;

fn dfs(bound: Option<u32>) -> ExploreConfig {
    ExploreConfig {
        strategy: Strategy::Dfs {
            preemption_bound: bound,
            dpor: true,
        },
        ..Default::default()
    }
}

/// A reader that takes `percpu_down_read` twice (with `writer`, a task
/// queues `percpu_down_write` in between).
fn percpu_recursive_read(writer: bool) -> Model {
    Model::new(move |w| {
        let s = PercpuRwSemaphore::new("sb_writers");
        w.spawn("T1", async move {
            s.down_read().await;
            preempt_point().await;
            s.down_read().await;
            s.up_read();
            s.up_read();
        });
        if writer {
            w.spawn("freeze", async move {
                s.down_write().await;
                s.up_write();
            });
        }
    })
}

#[test]
fn percpu_readers_do_not_block_readers_but_a_writer_blocks_new_readers() {
    let r = explore(&percpu_recursive_read(false), &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted);
    assert!(r.outcomes.is_empty(), "{:?}", r.outcome_keys());

    // "Like the normal down_read() this is not recursive, the writer can
    // come after the first percpu_down_read() and create the deadlock."
    let r = explore(&percpu_recursive_read(true), &dfs(None), &mut NoObserver);
    let rec = r.find(&OutcomeKind::Deadlock).expect("deadlock");
    let Some(Detail::Deadlock(d)) = &rec.first.detail else {
        panic!()
    };
    let t1 = d.blocked.iter().find(|w| w.task == "T1").unwrap();
    assert_eq!(
        t1.waits_for,
        vec!["freeze"],
        "the new reader waits for the writer"
    );
    let fr = d.blocked.iter().find(|w| w.task == "freeze").unwrap();
    assert_eq!(
        fr.waits_for,
        vec!["T1"],
        "the writer waits for the reader in"
    );
}

/// Writer W1 holds the semaphore; R1, W2, R2 queue in that order; W1
/// releases. Returns the names woken by the release.
fn woken_by_release(make: fn() -> Sem) -> Vec<String> {
    #[derive(Clone, Copy)]
    enum Kind {
        Read,
        Write,
    }
    let m = Model::new(move |w| {
        let s = make();
        for (name, kind) in [
            ("W1", Kind::Write),
            ("R1", Kind::Read),
            ("W2", Kind::Write),
            ("R2", Kind::Read),
        ] {
            w.spawn(name, async move {
                match kind {
                    Kind::Write => s.down_write().await,
                    Kind::Read => s.down_read().await,
                }
                preempt_point().await;
                match kind {
                    Kind::Write => s.up_write(),
                    Kind::Read => s.up_read(),
                }
            });
        }
    });
    // W1 starts and takes the lock; R1, W2, R2 start and queue; W1's
    // preempt_point runs and releases.
    let schedule = Schedule(vec![0, 0, 1, 1, 2, 2, 3, 3, 0]);
    let exec = replay_schedule(&m, &schedule, &RunOptions::default());
    let trace = exec.trace.expect("trace");
    let release_step = trace
        .events
        .iter()
        .rev()
        .find(|e| matches!(&e.kind, EventKind::Release { .. }))
        .map(|e| e.step)
        .expect("W1 released");
    trace
        .events
        .iter()
        .filter(|e| e.step == release_step)
        .filter_map(|e| match &e.kind {
            EventKind::Wake { task, .. } => Some(task.clone()),
            _ => None,
        })
        .collect()
}

#[derive(Clone, Copy)]
enum Sem {
    Percpu(PercpuRwSemaphore),
    Rw(RwSemaphore),
}

impl Sem {
    async fn down_read(self) {
        match self {
            Sem::Percpu(s) => s.down_read().await,
            Sem::Rw(s) => s.down_read().await,
        }
    }
    async fn down_write(self) {
        match self {
            Sem::Percpu(s) => s.down_write().await,
            Sem::Rw(s) => s.down_write().await,
        }
    }
    fn up_read(self) {
        match self {
            Sem::Percpu(s) => s.up_read(),
            Sem::Rw(s) => s.up_read(),
        }
    }
    fn up_write(self) {
        match self {
            Sem::Percpu(s) => s.up_write(),
            Sem::Rw(s) => s.up_write(),
        }
    }
}

#[test]
fn hand_off_rules_by_era() {
    // percpu_up_write wakes "readers until we've woken a single writer":
    // R1, and W2 (which then waits for R1); R2 stays queued behind W2.
    let woken = woken_by_release(|| Sem::Percpu(PercpuRwSemaphore::new("sb_writers")));
    assert_eq!(woken, ["R1"], "W2 is handed the lock only when R1 leaves");
    // rwsem before v5.3: the readers in front of the first writer.
    let woken = woken_by_release(|| {
        Sem::Rw(RwSemaphore::with_wake(
            "i_data_sem",
            "i_data_sem",
            RwWake::FrontReaders,
        ))
    });
    assert_eq!(woken, ["R1"]);
    // rwsem since v5.3 (d3681e269fff): every queued reader.
    let woken = woken_by_release(|| Sem::Rw(RwSemaphore::new("i_data_sem")));
    assert_eq!(woken, ["R1", "R2"]);
}

/// T1 has a handle open, T2 raises the barrier, T3 starts a handle;
/// invariants checked inside the tasks (code between awaits is atomic).
fn barrier_model() -> Model {
    Model::new(|w| {
        let j = Journal::new("journal", 1);
        let open = Rc::new(Cell::new(0u32));
        let barrier = Rc::new(Cell::new(false));
        for name in ["T1", "T3"] {
            let (open, barrier) = (open.clone(), barrier.clone());
            w.spawn(name, async move {
                let h = j.start().await;
                assert!(
                    !barrier.get(),
                    "{name} joined a transaction under the barrier"
                );
                open.set(open.get() + 1);
                preempt_point().await;
                open.set(open.get() - 1);
                h.stop();
            });
        }
        let (open2, barrier2) = (open.clone(), barrier.clone());
        w.spawn("T2", async move {
            let _f = kfn!("ext4_change_inode_journal_flag");
            j.lock_updates().await;
            assert_eq!(open2.get(), 0, "lock_updates returned with t_updates > 0");
            assert_eq!(j.t_updates(), 0);
            assert_eq!(j.barrier_count(), 1);
            barrier2.set(true);
            preempt_point().await;
            barrier2.set(false);
            j.unlock_updates();
        });
        w.spawn("kjournald2", async move {
            let tid = j.commit().await;
            j.commit_done(tid);
        });
    })
}

#[test]
fn lock_updates_waits_for_handles_and_holds_off_new_ones() {
    let r = explore(&barrier_model(), &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted);
    // no deadlock, and no assertion in a task fired (a panic would abort)
    assert!(r.outcomes.is_empty(), "{:?}", r.outcome_keys());
    assert!(r.stats.executions > 10);
}

#[test]
fn the_commit_runs_under_the_barrier() {
    // jbd2_journal_flush under jbd2_journal_lock_updates (the journal-flag
    // change, val=0): the commit waits for t_updates only.
    let m = Model::new(|w| {
        let j = Journal::new("journal", 1);
        w.spawn("T1 chattr", async move {
            j.lock_updates().await;
            // the transaction kjournald2 commits (tid 1)
            j.wait_commit(1).await;
            j.unlock_updates();
        });
        w.spawn("kjournald2", async move {
            let tid = j.commit().await;
            j.commit_done(tid);
        });
        w.spawn("T2", async move {
            let h = j.start().await;
            h.stop();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted);
    assert!(r.outcomes.is_empty(), "{:?}", r.outcome_keys());
}

#[test]
fn a_barrier_holder_waiting_for_a_handle_starter_deadlocks() {
    // T2 holds the barrier and wants M; T3 holds M and starts a handle.
    let m = Model::new(|w| {
        let j = Journal::new("journal", 1);
        let m = Mutex::new("M");
        w.spawn("T2", async move {
            j.lock_updates().await;
            m.lock().await;
            m.unlock();
            j.unlock_updates();
        });
        w.spawn("T3", async move {
            m.lock().await;
            let h = j.start().await;
            h.stop();
            m.unlock();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    let rec = r.find(&OutcomeKind::Deadlock).expect("deadlock");
    let Some(Detail::Deadlock(d)) = &rec.first.detail else {
        panic!()
    };
    let t3 = d
        .cycle
        .iter()
        .find(|w| w.task == "T3")
        .expect("T3 in the cycle");
    assert_eq!(t3.wants_class, "jbd2_handle");
    assert_eq!(
        t3.waits_for,
        ["T2"],
        "the handle start waits for the barrier holder"
    );
    // lockdep: lock_updates is a jbd2_handle write acquisition
    // (jbd2_might_wait_for_commit), then j_barrier.
    assert!(r.lock_graph.contains(&("j_barrier".into(), "M".into())));
    assert!(r.lock_graph.contains(&("M".into(), "jbd2_handle".into())));
}

/// T1 holds a handle and waits for a page's writeback to end; the
/// conversion worker ends it after starting its handle (`reserved`: the
/// io_end's reserved handle, else an ordinary one); kjournald2 commits.
fn writeback_under_handle(reserved: bool) -> Model {
    Model::new(move |w| {
        let j = Journal::new("journal", 1);
        let wb = Completion::new("page writeback");
        w.spawn("T1", async move {
            let h = j.start().await;
            wb.wait().await;
            h.stop();
        });
        w.spawn("kjournald2", async move {
            let tid = j.commit().await;
            j.commit_done(tid);
        });
        w.spawn("kworker", async move {
            let h = if reserved {
                j.start_reserved().await.expect("the worker has no handle")
            } else {
                j.start().await
            };
            // the handle's transaction is never one already committed
            assert!(h.tid > j.commit_sequence());
            h.stop();
            wb.complete();
        });
    })
}

#[test]
fn a_reserved_handle_joins_a_transaction_locked_for_commit() {
    // An ordinary start waits while the commit holds the transaction
    // T_LOCKED, and the commit waits for T1's handle: deadlock.
    let r = explore(&writeback_under_handle(false), &dfs(None), &mut NoObserver);
    let rec = r.find(&OutcomeKind::Deadlock).expect("deadlock");
    let Some(Detail::Deadlock(d)) = &rec.first.detail else {
        panic!()
    };
    // (a completion has no owner, so the report lists the blocked tasks)
    let names: Vec<&str> = d.blocked.iter().map(|w| w.task.as_str()).collect();
    assert!(
        ["T1", "kworker", "kjournald2"]
            .iter()
            .all(|t| names.contains(t)),
        "{names:?}"
    );
    // jbd2_journal_start_reserved joins it: every interleaving ends.
    let r = explore(&writeback_under_handle(true), &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted);
    assert!(r.outcomes.is_empty(), "{:?}", r.outcome_keys());
    assert!(r.stats.executions > 3, "{}", r.stats.executions);
}

#[test]
fn a_reserved_start_under_an_open_handle_warns() {
    let m = Model::new(|w| {
        let j = Journal::new("journal", 1);
        w.spawn("T1", async move {
            let h = j.start().await;
            assert!(j.start_reserved().await.is_none());
            h.stop();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    let rec = r.find(&OutcomeKind::KernelWarning).expect("warning");
    assert_eq!(rec.first.site, "jbd2_journal_start_reserved");
}

#[test]
fn lock_updates_under_an_open_handle_never_returns() {
    let m = Model::new(|w| {
        let j = Journal::new("journal", 1);
        w.spawn("T1", async move {
            let h = j.start().await;
            j.lock_updates().await;
            j.unlock_updates();
            h.stop();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert!(r.find(&OutcomeKind::Deadlock).is_some());
}

#[test]
fn unlock_updates_without_the_barrier_warns() {
    let m = Model::new(|w| {
        let j = Journal::new("journal", 1);
        w.spawn("T1", async move {
            preempt_point().await;
            j.unlock_updates();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    let keys = r.outcome_keys();
    assert!(
        keys.iter().any(|k| k.site == "jbd2_journal_unlock_updates"),
        "{keys:?}"
    );
}

#[test]
fn lockdep_reads_and_writes() {
    // Two rwsems read in both orders: lockdep (non-recursive reads) reports
    // the cycle, and it is a real deadlock once writers queue on both.
    let make = |writers: bool| {
        Model::new(move |w| {
            let a = RwSemaphore::new("A");
            let b = RwSemaphore::new("B");
            w.spawn("T0", async move {
                a.down_read().await;
                b.down_read().await;
                b.up_read();
                a.up_read();
            });
            w.spawn("T1", async move {
                b.down_read().await;
                a.down_read().await;
                a.up_read();
                b.up_read();
            });
            if writers {
                for (n, s) in [("WA", a), ("WB", b)] {
                    w.spawn(n, async move {
                        s.down_write().await;
                        s.up_write();
                    });
                }
            }
        })
    };
    let r = explore(&make(false), &dfs(None), &mut NoObserver);
    assert!(r.find(&OutcomeKind::LockOrderInversion).is_some());
    assert!(
        r.find(&OutcomeKind::Deadlock).is_none(),
        "readers alone never block"
    );
    assert!(r
        .lock_graph_typed
        .contains(&("A".into(), "B".into(), "SN".into())));
    let r = explore(&make(true), &dfs(Some(3)), &mut NoObserver);
    assert!(r.find(&OutcomeKind::Deadlock).is_some());

    // Edges go from the most recent held lock (lockdep's check_prevs_add):
    // A -> B -> C gives A->B and B->C, not A->C.
    let m = Model::new(|w| {
        let a = Mutex::new("A");
        let b = PercpuRwSemaphore::new("B");
        let c = Mutex::new("C");
        w.spawn("T0", async move {
            a.lock().await;
            b.down_read().await;
            c.lock().await;
            c.unlock();
            b.up_read();
            a.unlock();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert_eq!(
        r.lock_graph_typed,
        [
            ("A".to_string(), "B".to_string(), "EN".to_string()),
            ("B".to_string(), "C".to_string(), "SN".to_string())
        ]
    );
}
