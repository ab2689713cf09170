//! The jbd2 handle, page lock and writeback, bios, crash points,
//! completions, wait queues, nondet, WARN/BUG reporting, and the Perfetto
//! export.

use std::cell::RefCell;
use std::rc::Rc;

use ext4lab::kfn;
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

/// S4's `writeback-inside-handle` shape: T1 holds a handle and wants
/// invalidate_lock (w); T2 holds invalidate_lock (r) and starts a handle;
/// kjournald2 commits.
fn journal_flag_switch(handle_first: bool) -> Model {
    Model::new(move |w| {
        let j = Journal::new("journal", 1);
        let inval = RwSemaphore::named("f invalidate_lock", "invalidate_lock");
        w.spawn("T1 chattr", async move {
            let _f = kfn!("ext4_change_inode_journal_flag");
            if handle_first {
                let h = j.start().await;
                inval.down_write().await;
                inval.up_write();
                h.stop();
            } else {
                inval.down_write().await;
                let h = j.start().await;
                h.stop();
                inval.up_write();
            }
        });
        w.spawn("T2 fault", async move {
            let _f = kfn!("ext4_page_mkwrite");
            inval.down_read().await;
            let h = j.start().await;
            h.stop();
            inval.up_read();
        });
        w.spawn("kjournald2", async move {
            let _f = kfn!("jbd2_journal_commit_transaction");
            let tid = j.commit().await;
            j.commit_done(tid);
        });
    })
}

#[test]
fn jbd2_handle_inside_invalidate_lock_deadlocks_three_ways() {
    let r = explore(&journal_flag_switch(true), &dfs(Some(2)), &mut NoObserver);
    let rec = r.find(&OutcomeKind::Deadlock).expect("deadlock");
    assert_eq!(rec.key.tasks, vec!["T1 chattr", "T2 fault", "kjournald2"]);
    let Some(Detail::Deadlock(d)) = &rec.first.detail else {
        panic!()
    };
    let k = d.cycle.iter().find(|w| w.task == "kjournald2").unwrap();
    assert_eq!(k.wants_class, "jbd2_handle");
    assert_eq!(
        k.waits_for,
        vec!["T1 chattr"],
        "commit waits for the open handle"
    );
    let t2 = d.cycle.iter().find(|w| w.task == "T2 fault").unwrap();
    assert_eq!(
        t2.waits_for,
        vec!["kjournald2"],
        "T_LOCKED: the new handle waits for the commit"
    );
    assert_eq!(t2.stack, vec!["ext4_page_mkwrite"]);
    let inv = r.find(&OutcomeKind::LockOrderInversion).expect("lockdep");
    assert_eq!(inv.key.locks, vec!["invalidate_lock", "jbd2_handle"]);

    let r = explore(&journal_flag_switch(false), &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted);
    assert!(r.find(&OutcomeKind::Deadlock).is_none());
    assert!(r.find(&OutcomeKind::LockOrderInversion).is_none());
}

#[test]
fn jbd2_commit_waits_for_handles_and_new_handles_join_the_next_transaction() {
    let m = Model::new(|w| {
        let j = Journal::new("journal", 7);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
        w.spawn("T1", async move {
            let h = j.start().await;
            let nested = j.start().await;
            assert_eq!(nested.tid, h.tid);
            nested.stop();
            preempt_point().await;
            s1.borrow_mut().push(format!("T1 stop tid {}", h.tid));
            h.stop();
        });
        w.spawn("T2", async move {
            let h = j.start().await;
            s2.borrow_mut().push(format!("T2 tid {}", h.tid));
            h.stop();
        });
        w.spawn("kjournald2", async move {
            let tid = j.commit().await;
            // handles that waited on T_LOCKED are already on tid + 1
            assert_eq!(j.committing_tid(), Some(tid));
            assert_eq!(j.running_tid(), tid + 1);
            s3.borrow_mut().push(format!("commit {tid}"));
            j.commit_done(tid);
        });
        w.spawn("fsync", async move {
            j.wait_commit(7).await;
            assert_eq!(j.commit_sequence(), 7);
        });
        w.on_end(move |end| {
            assert_eq!(end.end, EndKind::Complete);
            let s = seen.borrow();
            let commit = s.iter().position(|x| x == "commit 7").unwrap();
            for (i, x) in s.iter().enumerate() {
                if x.ends_with("tid 7") {
                    assert!(i < commit, "tid 7 handles are before its commit: {s:?}");
                }
                if x.ends_with("tid 8") {
                    assert!(
                        i > commit,
                        "tid 8 handles start after the commit locked 7: {s:?}"
                    );
                }
            }
            let t2 = s.iter().position(|x| x.starts_with("T2")).unwrap();
            vec![Outcome::new(OutcomeKind::Other(s[t2].clone()), 0)]
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted);
    let mut naive = dfs(None);
    naive.strategy = Strategy::Dfs {
        preemption_bound: None,
        dpor: false,
    };
    assert_eq!(
        explore(&m, &naive, &mut NoObserver).outcome_keys(),
        r.outcome_keys()
    );
    let kinds: Vec<_> = r.outcome_keys().into_iter().map(|k| k.kind).collect();
    assert_eq!(
        kinds,
        vec![
            OutcomeKind::Other("T2 tid 7".into()),
            OutcomeKind::Other("T2 tid 8".into())
        ]
    );
}

fn writeback_and_crash() -> Model {
    Model::new(|w| {
        let page = Page::new("f page 0");
        let data = Rc::new(RefCell::new(0u8));
        let d2 = data.clone();
        w.spawn("writeback", async move {
            let _f = kfn!("ext4_writepages");
            page.lock().await;
            page.set_writeback();
            let (_bio, done) = submit_bio(100, true, move || page.end_writeback());
            page.unlock();
            crash_point("after submit_bio").await;
            done.wait().await;
        });
        w.spawn("truncate", async move {
            let _f = kfn!("truncate_inode_pages_range");
            page.lock().await;
            page.wait_on_writeback().await;
            assert!(!page.is_writeback());
            *d2.borrow_mut() = 1;
            page.unlock();
        });
        w.on_end(move |end| {
            let mut o = Outcome::new(OutcomeKind::Other(format!("{:?}", end.end)), 0);
            o.blocks = end.inflight_bios.iter().map(|b| b.1).collect();
            if end.end == EndKind::Complete {
                assert_eq!(*data.borrow(), 1);
            }
            vec![o]
        });
    })
}

#[test]
fn bios_complete_as_their_own_steps_and_crash_points_are_choices() {
    for dpor in [false, true] {
        let mut cfg = dfs(Some(2));
        cfg.strategy = Strategy::Dfs {
            preemption_bound: Some(2),
            dpor,
        };
        let r = explore(&writeback_and_crash(), &cfg, &mut NoObserver);
        assert!(r.stats.exhausted);
        let keys: Vec<_> = r
            .outcome_keys()
            .into_iter()
            .map(|k| (k.kind, k.blocks))
            .collect();
        assert!(keys.contains(&(OutcomeKind::Other("Complete".into()), vec![])));
        assert!(
            keys.contains(&(OutcomeKind::Other("Crashed".into()), vec![100])),
            "{keys:?}"
        );
        assert!(
            keys.contains(&(OutcomeKind::Other("Crashed".into()), vec![])),
            "{keys:?}"
        );
        assert!(r.find(&OutcomeKind::Deadlock).is_none());
        assert!(r.stats.crashes > 0);
    }
}

#[test]
fn wait_queue_without_wake_up_blocks_forever() {
    let m = |wake: bool| {
        Model::new(move |w| {
            let wq = WaitQueue::new("j_wait_done_commit");
            let flag = Rc::new(RefCell::new(false));
            let f2 = flag.clone();
            w.spawn("waiter", async move {
                wq.wait_event(move || *f2.borrow()).await;
            });
            w.spawn("waker", async move {
                preempt_point().await;
                *flag.borrow_mut() = true;
                if wake {
                    wq.wake_up();
                }
            });
        })
    };
    let r = explore(&m(true), &dfs(None), &mut NoObserver);
    assert!(r.outcomes.is_empty(), "{:?}", r.outcome_keys());
    let r = explore(&m(false), &dfs(None), &mut NoObserver);
    let rec = r.find(&OutcomeKind::Deadlock).expect("sleeps forever");
    assert_eq!(rec.key.tasks, vec!["waiter"]);
    assert_eq!(rec.key.locks, vec!["wait queue"]);
}

#[test]
fn completions_let_waiters_through() {
    let m = Model::new(|w| {
        let c = Completion::new("done");
        for i in 0..2 {
            w.spawn(format!("waiter{i}"), async move { c.wait().await });
        }
        w.spawn("completer", async move {
            c.complete();
            preempt_point().await;
            c.complete();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted && r.outcomes.is_empty());
    let m = Model::new(|w| {
        let c = Completion::new("done");
        w.spawn("waiter", async move { c.wait().await });
        w.spawn("waiter2", async move { c.wait().await });
        w.spawn("completer", async move { c.complete() });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert!(
        r.find(&OutcomeKind::Deadlock).is_some(),
        "one complete() lets one waiter through"
    );
}

#[test]
fn nondet_values_are_explored_and_replayed() {
    let m = Model::new(|w| {
        w.spawn("T", async move {
            let v = nondet(3).await;
            report(Outcome::new(OutcomeKind::Other(format!("v={v}")), 0));
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert_eq!(r.stats.executions, 3);
    assert_eq!(r.outcomes.len(), 3);
    let rec = &r.outcomes[2];
    let e = replay(&m, &rec.first_token, &RunOptions::default()).unwrap();
    assert_eq!(e.outcomes[0].kind, rec.key.kind);
}

#[test]
fn warnings_bugs_and_lock_assertions() {
    let m = Model::new(|w| {
        let i_rwsem = RwSemaphore::named("f i_rwsem", "i_rwsem");
        let m = Mutex::new("s_mutex");
        w.spawn("T", async move {
            let _f = kfn!("ext4_convert_inline_data_nolock");
            warn_on(
                !i_rwsem.is_held_by_current(),
                "WARN_ON(!inode_is_locked(inode))",
            );
            m.assert_held();
            i_rwsem.down_write().await;
            assert!(i_rwsem.is_held_by_current() && i_rwsem.is_write_held_by_current());
            assert!(i_rwsem.is_locked());
            i_rwsem.up_write();
            report_error("ext4_ioctl_setflags", "EBUSY", false);
            bug("BUG_ON(1)").await;
            unreachable!();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    let sites: Vec<_> = r
        .outcomes
        .iter()
        .map(|o| (o.key.kind.clone(), o.key.site.clone()))
        .collect();
    assert_eq!(
        sites,
        vec![
            (
                OutcomeKind::KernelWarning,
                "WARN_ON(!inode_is_locked(inode))".into()
            ),
            (OutcomeKind::KernelWarning, "lockdep_assert_held".into()),
            (OutcomeKind::UserVisibleError, "ext4_ioctl_setflags".into()),
            (OutcomeKind::KernelBug, "BUG_ON(1)".into()),
        ]
    );
    let e = replay(&m, &r.outcomes[0].first_token, &RunOptions::default()).unwrap();
    assert_eq!(e.end, EndKind::Halted);
}

#[test]
fn perfetto_export_nests_per_thread() {
    let m = journal_flag_switch(true);
    let r = explore(&m, &dfs(Some(2)), &mut NoObserver);
    let rec = r.find(&OutcomeKind::Deadlock).unwrap();
    let e = replay(&m, &rec.fewest_token, &RunOptions::default()).unwrap();
    assert_eq!(e.end, EndKind::Deadlock);
    let trace = e.trace.unwrap();
    let json = trace.to_chrome_json();
    let events = json["traceEvents"].as_array().unwrap();
    let mut stacks: std::collections::BTreeMap<(u64, u64), Vec<String>> = Default::default();
    let mut last_ts = 0;
    let mut names = 0;
    for ev in events {
        let ph = ev["ph"].as_str().unwrap();
        if ph == "M" {
            names += 1;
            continue;
        }
        let ts = ev["ts"].as_u64().unwrap();
        assert!(ts >= last_ts);
        last_ts = ts;
        let key = (ev["pid"].as_u64().unwrap(), ev["tid"].as_u64().unwrap());
        let name = ev["name"].as_str().unwrap().to_string();
        match ph {
            "B" => stacks.entry(key).or_default().push(name),
            "E" => assert_eq!(stacks.entry(key).or_default().pop(), Some(name)),
            _ => {}
        }
    }
    assert!(stacks.values().all(|s| s.is_empty()), "every B has its E");
    assert_eq!(names, 3 + 3, "process and thread names");
    let text = serde_json::to_string(&json).unwrap();
    assert!(text.contains("\"ph\":\"b\"") && text.contains("jbd2_journal_commit_transaction"));
    assert!(text.contains("ext4_page_mkwrite"));
    // the structured trace round-trips through serde
    let back: trace::Trace = serde_json::from_str(&serde_json::to_string(&trace).unwrap()).unwrap();
    assert_eq!(back.hash(), trace.hash());
}

#[test]
fn dpor_crash_sees_writes_that_could_come_later() {
    // the bio completes in a step independent of the path to the crash
    // point; DPOR must still explore the crash before the completion.
    let m = Model::new(|w| {
        let (_bio, _done) = submit_bio(7, true, || {});
        w.spawn("T", async move {
            preempt_point().await;
            crash_point("after work").await;
        });
        w.on_end(|end| {
            let mut o = Outcome::new(OutcomeKind::Other(format!("{:?}", end.end)), 0);
            o.blocks = end.inflight_bios.iter().map(|b| b.1).collect();
            vec![o]
        });
    });
    let naive = explore(
        &m,
        &ExploreConfig {
            strategy: Strategy::Dfs {
                preemption_bound: Some(1),
                dpor: false,
            },
            ..Default::default()
        },
        &mut NoObserver,
    );
    let dpor = explore(&m, &dfs(Some(1)), &mut NoObserver);
    assert_eq!(naive.outcome_keys().len(), 3, "{:?}", naive.outcome_keys());
    assert_eq!(naive.outcome_keys(), dpor.outcome_keys());
}

#[test]
fn traces_record_bios_writeback_and_crashes() {
    let m = writeback_and_crash();
    let r = explore(&m, &dfs(Some(1)), &mut NoObserver);
    let kinds = |token: &str| -> Vec<String> {
        let e = replay(&m, token, &RunOptions::default()).unwrap();
        e.trace
            .unwrap()
            .events
            .iter()
            .map(|ev| match &ev.kind {
                trace::EventKind::Signal { what, .. } => what.clone(),
                trace::EventKind::BioSubmit { block, .. } => format!("submit {block}"),
                trace::EventKind::BioComplete { block, .. } => format!("complete {block}"),
                trace::EventKind::Crash { point } => format!("crash {point}"),
                _ => String::new(),
            })
            .filter(|s| !s.is_empty())
            .collect()
    };
    let done = r.find(&OutcomeKind::Other("Complete".into())).unwrap();
    assert_eq!(
        kinds(&done.first_token),
        [
            "set_page_writeback",
            "submit 100",
            "complete 100",
            "end_page_writeback",
            "complete"
        ]
    );
    let crashed = r
        .outcomes
        .iter()
        .find(|o| o.key.kind == OutcomeKind::Other("Crashed".into()) && o.key.blocks == [100])
        .unwrap();
    assert_eq!(
        kinds(&crashed.first_token),
        ["set_page_writeback", "submit 100", "crash after submit_bio"]
    );
}

#[test]
fn sleeping_under_a_spinlock_warns() {
    let m = Model::new(|w| {
        let lock = SpinLock::named("f i_raw_lock", "i_raw_lock");
        let sem = RwSemaphore::named("f i_data_sem", "i_data_sem");
        w.spawn("T", async move {
            lock.lock().await;
            lock.assert_held();
            sem.down_read().await;
            sem.up_read();
            lock.unlock();
            sem.down_read().await;
            sem.up_read();
        });
    });
    let r = explore(&m, &dfs(None), &mut NoObserver);
    let sites: Vec<_> = r.outcomes.iter().map(|o| o.key.site.clone()).collect();
    assert_eq!(
        sites,
        vec!["might_sleep"],
        "one warning: only the sleep under the spinlock"
    );
    assert!(r.outcomes[0].first.message.contains("f i_raw_lock"));
}

#[test]
fn trylocks_never_wait() {
    let m = Model::new(|w| {
        let m = Mutex::new("s_mutex");
        let page = Page::new("f page 0");
        let sem = RwSemaphore::named("f i_rwsem", "i_rwsem");
        w.spawn("holder", async move {
            m.lock().await;
            sem.down_read().await;
            page.lock().await;
            preempt_point().await;
            page.unlock();
            sem.up_read();
            m.unlock();
        });
        w.spawn("writer", async move {
            sem.down_write().await;
            sem.up_write();
        });
        w.spawn("trier", async move {
            let got = (
                m.try_lock().await,
                page.try_lock().await,
                sem.down_read_trylock().await,
            );
            if got.0 {
                m.unlock();
            }
            if got.1 {
                page.unlock();
            }
            if got.2 {
                sem.up_read();
            }
            report(Outcome::new(OutcomeKind::Other(format!("{got:?}")), 0));
        });
    });
    let mut naive = dfs(None);
    naive.strategy = Strategy::Dfs {
        preemption_bound: None,
        dpor: false,
    };
    let rn = explore(&m, &naive, &mut NoObserver);
    let r = explore(&m, &dfs(None), &mut NoObserver);
    assert!(r.stats.exhausted);
    assert!(r.find(&OutcomeKind::Deadlock).is_none());
    let kinds: Vec<_> = r.outcome_keys().into_iter().map(|k| k.kind).collect();
    assert!(kinds.contains(&OutcomeKind::Other("(true, true, true)".into())));
    assert!(kinds.contains(&OutcomeKind::Other("(false, false, false)".into())));
    // a reader trylock fails while the writer waits even if only readers hold
    assert!(kinds.contains(&OutcomeKind::Other("(true, true, false)".into())));
    assert!(
        r.find(&OutcomeKind::LockOrderInversion).is_none(),
        "trylocks add no dependency"
    );
    assert_eq!(
        rn.outcome_keys(),
        r.outcome_keys(),
        "DPOR sees trylocks race with releases"
    );
}
