//! The deadlock, lockdep and weak-memory oracles on the reference models.

use ext4lab::sim::*;

fn dfs(dpor: bool, bound: Option<u32>) -> ExploreConfig {
    ExploreConfig {
        strategy: Strategy::Dfs {
            preemption_bound: bound,
            dpor,
        },
        ..Default::default()
    }
}

fn deadlock_report(r: &Report) -> Option<oracle::deadlock::DeadlockReport> {
    match &r.find(&OutcomeKind::Deadlock)?.first.detail {
        Some(Detail::Deadlock(d)) => Some(d.clone()),
        _ => None,
    }
}

#[test]
fn abba_mutex_deadlock_found_by_dfs_with_cycle() {
    for dpor in [false, true] {
        let r = explore(&models::abba_mutex(), &dfs(dpor, Some(2)), &mut NoObserver);
        assert!(r.stats.exhausted);
        let d = deadlock_report(&r).expect("deadlock found");
        assert_eq!(d.cycle.len(), 2);
        let t0 = d.cycle.iter().find(|w| w.task == "T0").unwrap();
        let t1 = d.cycle.iter().find(|w| w.task == "T1").unwrap();
        assert_eq!(t0.holds, vec!["A (A)"]);
        assert_eq!(t0.wants, "B");
        assert_eq!(t1.holds, vec!["B (B)"]);
        assert_eq!(t1.wants, "A");
        assert_eq!(t0.waits_for, vec!["T1"]);
        let rec = r.find(&OutcomeKind::Deadlock).unwrap();
        assert_eq!(
            rec.fewest_preemptions, 1,
            "ABBA needs exactly one preemption"
        );
    }
    // bound 0: no preemption, no deadlock
    let r = explore(&models::abba_mutex(), &dfs(true, Some(0)), &mut NoObserver);
    assert!(r.find(&OutcomeKind::Deadlock).is_none());
}

#[test]
fn abba_mutex_deadlock_found_by_pct_and_random() {
    for strategy in [
        Strategy::Pct { seed: 7, depth: 2 },
        Strategy::Random { seed: 7 },
    ] {
        let cfg = ExploreConfig {
            strategy,
            max_executions: 500,
            ..Default::default()
        };
        let r = explore(&models::abba_mutex(), &cfg, &mut NoObserver);
        let rec = r.find(&OutcomeKind::Deadlock).expect("found");
        assert!(rec.count > 0 && rec.count < 500);
        assert_eq!(rec.key.tasks, vec!["T0", "T1"]);
        // the token replays to the same deadlock
        let e = replay(
            &models::abba_mutex(),
            &rec.first_token,
            &RunOptions::default(),
        )
        .unwrap();
        assert_eq!(e.end, EndKind::Deadlock);
        assert!(e.divergence.is_none());
    }
}

#[test]
fn rwsem_deadlock_needs_the_queued_writer() {
    for dpor in [false, true] {
        let r = explore(
            &models::rwsem_writer_fair(true),
            &dfs(dpor, Some(2)),
            &mut NoObserver,
        );
        let d = deadlock_report(&r).expect("writer-fair deadlock found");
        let mut tasks: Vec<&str> = d.cycle.iter().map(|w| w.task.as_str()).collect();
        tasks.sort();
        assert_eq!(
            tasks,
            ["T0", "T1", "T2"],
            "the cycle goes through the queued writer"
        );
        let t1 = d.cycle.iter().find(|w| w.task == "T1").unwrap();
        assert_eq!(
            t1.waits_for,
            vec!["T2"],
            "a reader waits for the writer queued ahead"
        );
        let t2 = d.cycle.iter().find(|w| w.task == "T2").unwrap();
        assert_eq!(
            t2.waits_for,
            vec!["T0"],
            "the writer waits for the reader holding A"
        );

        let r = explore(
            &models::rwsem_writer_fair(false),
            &dfs(dpor, None),
            &mut NoObserver,
        );
        assert!(r.stats.exhausted);
        assert!(
            r.find(&OutcomeKind::Deadlock).is_none(),
            "two readers alone never deadlock"
        );
    }
}

#[test]
fn lockdep_reports_inversion_without_deadlock() {
    let r = explore(
        &models::serialized_inversion(),
        &dfs(true, None),
        &mut NoObserver,
    );
    assert!(r.stats.exhausted);
    assert!(r.find(&OutcomeKind::Deadlock).is_none());
    let rec = r.find(&OutcomeKind::LockOrderInversion).expect("inversion");
    assert_eq!(rec.key.locks, vec!["A", "B"]);
    let Some(Detail::Lockdep(l)) = &rec.first.detail else {
        panic!("no lockdep detail")
    };
    assert!(l.text.contains("possible circular locking dependency"));
    assert!(l.text.contains("Possible unsafe locking scenario"));
    assert_eq!(l.scenario.len(), 4);
    assert_eq!(l.existing.len(), 1);
    assert!(!l.existing[0].declared);
    assert_ne!(
        l.existing[0].task, l.task,
        "the two chains come from the two tasks"
    );
    // C -> A, C -> B, A -> B, B -> A learned
    assert!(r.lock_graph.contains(&("C".into(), "A".into())));
    assert!(r.lock_graph.contains(&("B".into(), "A".into())));
}

#[test]
fn lockdep_checks_the_declared_ext4_order() {
    // page lock -> jbd2_handle (the first posting of S1's patch) against the
    // declared transaction start -> page lock.
    let m = Model::new(|w| {
        let j = Journal::new("journal", 1);
        let page = Page::new("f page 0");
        w.spawn("T1", async move {
            let _f = ext4lab::kfn!("ext4_convert_inline_data");
            page.lock().await;
            let h = j.start().await;
            h.stop();
            page.unlock();
        });
    });
    // No declared order: one task alone shows no inversion.
    let r = explore(&m, &dfs(true, Some(2)), &mut NoObserver);
    assert!(r.find(&OutcomeKind::LockOrderInversion).is_none());
    // The order fs/ext4/super.c declares in v4.12 (S1's kernel).
    let o = ext4lab::scenario::locks::ext4_lock_order(
        ext4lab::scenario::history::KernelVersion::new(4, 12),
    );
    let mut cfg = dfs(true, Some(2));
    cfg.declared_order = LockOrder {
        source: o.source,
        chains: o.chains,
    };
    let r = explore(&m, &cfg, &mut NoObserver);
    let rec = r
        .find(&OutcomeKind::LockOrderInversion)
        .expect("inversion vs declared order");
    assert_eq!(rec.first.site, "declared order");
    let Some(Detail::Lockdep(l)) = &rec.first.detail else {
        panic!()
    };
    assert_eq!(l.trying, "jbd2_handle");
    assert_eq!(l.holding, "page lock");
    assert!(l.existing.iter().all(|c| c.declared));
    assert_eq!(l.new_link.acquired_at, "ext4_convert_inline_data");
    assert!(l.text.contains("fs/ext4/super.c \"Lock ordering\" (v4.12)"));
}

#[test]
fn store_buffering_needs_weak_memory_and_no_barrier() {
    let forbidden = OutcomeKind::Other("r0=0 r1=0".into());
    for dpor in [false, true] {
        let mut cfg = dfs(dpor, Some(2));
        cfg.run.memory = MemoryModel::X86;
        cfg.run.store_window = 3;
        let r = explore(&models::store_buffering(false), &cfg, &mut NoObserver);
        assert!(
            r.find(&forbidden).is_some(),
            "weak memory, no barrier: r0=r1=0 appears (dpor={dpor})"
        );
        let r = explore(&models::store_buffering(true), &cfg, &mut NoObserver);
        assert!(r.stats.exhausted);
        assert!(
            r.find(&forbidden).is_none(),
            "smp_mb forbids it (dpor={dpor})"
        );
        let r = explore(
            &models::store_buffering(false),
            &dfs(dpor, None),
            &mut NoObserver,
        );
        assert!(
            r.find(&forbidden).is_none(),
            "sequential consistency forbids it"
        );
        assert_eq!(r.outcomes.len(), 3);
    }
}

#[test]
fn lost_update_found_through_preempt_points() {
    let r = explore(&models::lost_update(), &dfs(true, Some(1)), &mut NoObserver);
    let keys: Vec<_> = r.outcome_keys().into_iter().map(|k| k.kind).collect();
    assert!(keys.contains(&OutcomeKind::Other("v=1".into())));
    assert!(keys.contains(&OutcomeKind::Other("v=2".into())));
}

/// S2's `convert-under-mmap-lock` shape with the kernel's lock classes:
/// the fault holds mmap_lock (r) and wants i_rwsem; write(2) holds i_rwsem
/// and faults on its user buffer (mmap_lock (r)); munmap in the same
/// process queues mmap_lock (w).
fn mkwrite_convert_under_mmap_lock() -> Model {
    Model::new(|w| {
        let mmap_lock = RwSemaphore::named("P mmap_lock", "mmap_lock");
        let i_rwsem = RwSemaphore::named("f i_rwsem", "i_rwsem");
        w.spawn_in("P", "T1 store", async move {
            let _f = ext4lab::kfn!("do_page_fault");
            mmap_lock.down_read().await;
            let _g = ext4lab::kfn!("ext4_page_mkwrite");
            i_rwsem.down_write().await;
            i_rwsem.up_write();
            mmap_lock.up_read();
        });
        w.spawn_in("P", "T2 write", async move {
            let _f = ext4lab::kfn!("ext4_buffered_write_iter");
            i_rwsem.down_write().await;
            let _g = ext4lab::kfn!("fault_in_iov_iter_readable");
            mmap_lock.down_read().await;
            mmap_lock.up_read();
            i_rwsem.up_write();
        });
        w.spawn_in("P", "T3 munmap", async move {
            let _f = ext4lab::kfn!("__vm_munmap");
            mmap_lock.down_write().await;
            mmap_lock.up_write();
        });
    })
}

#[test]
fn mmap_lock_inversion_deadlocks_with_a_queued_munmap() {
    let m = mkwrite_convert_under_mmap_lock();
    for strategy in [
        Strategy::Dfs {
            preemption_bound: Some(2),
            dpor: true,
        },
        Strategy::Pct { seed: 11, depth: 3 },
    ] {
        let cfg = ExploreConfig {
            strategy,
            max_executions: 3000,
            ..Default::default()
        };
        let r = explore(&m, &cfg, &mut NoObserver);
        let rec = r.find(&OutcomeKind::Deadlock).expect("deadlock");
        assert_eq!(rec.key.tasks, vec!["T1 store", "T2 write", "T3 munmap"]);
        let Some(Detail::Deadlock(d)) = &rec.first.detail else {
            panic!()
        };
        let t1 = d.cycle.iter().find(|w| w.task == "T1 store").unwrap();
        assert_eq!(t1.holds, vec!["P mmap_lock (mmap_lock, read)"]);
        assert_eq!(t1.stack, vec!["do_page_fault", "ext4_page_mkwrite"]);
        let inv = r.find(&OutcomeKind::LockOrderInversion).expect("lockdep");
        assert_eq!(inv.key.locks, vec!["i_rwsem", "mmap_lock"]);
    }
}
