//! Small reference models: the classic concurrency bugs the simulator must
//! find, the store-buffering litmus test, and the benchmark model shared
//! with loom and shuttle. Tests and `benches/sim.rs` use them; they also
//! show how a world is written.

use std::cell::RefCell;
use std::rc::Rc;

use super::api::preempt_point;
use super::exec::Model;
use super::oracle::{Outcome, OutcomeKind};
use super::sync::{smp_mb, AtomicT, Mutex, RwSemaphore};

/// T0 takes A then B, T1 takes B then A: a deadlock in some schedules.
pub fn abba_mutex() -> Model {
    Model::new(|w| {
        let a = Mutex::new("A");
        let b = Mutex::new("B");
        w.spawn("T0", async move {
            a.lock().await;
            b.lock().await;
            b.unlock();
            a.unlock();
        });
        w.spawn("T1", async move {
            b.lock().await;
            a.lock().await;
            a.unlock();
            b.unlock();
        });
    })
}

/// The rwsem inversion: T0 holds A for read and wants B; T1 holds B and
/// wants A for read. With `writer` a third task queues `down_write(A)`
/// in between: writer fairness makes T1's read wait behind it, which
/// closes the cycle. Without it, two readers never deadlock.
pub fn rwsem_writer_fair(writer: bool) -> Model {
    Model::new(move |w| {
        let a = RwSemaphore::new("A");
        let b = Mutex::new("B");
        w.spawn("T0", async move {
            a.down_read().await;
            b.lock().await;
            b.unlock();
            a.up_read();
        });
        w.spawn("T1", async move {
            b.lock().await;
            a.down_read().await;
            a.up_read();
            b.unlock();
        });
        if writer {
            w.spawn("T2", async move {
                a.down_write().await;
                a.up_write();
            });
        }
    })
}

/// A lock-order inversion between A and B that never deadlocks: both
/// tasks take the outer lock C first.
pub fn serialized_inversion() -> Model {
    Model::new(|w| {
        let a = Mutex::new("A");
        let b = Mutex::new("B");
        let c = Mutex::new("C");
        w.spawn("T0", async move {
            c.lock().await;
            a.lock().await;
            b.lock().await;
            b.unlock();
            a.unlock();
            c.unlock();
        });
        w.spawn("T1", async move {
            c.lock().await;
            b.lock().await;
            a.lock().await;
            a.unlock();
            b.unlock();
            c.unlock();
        });
    })
}

/// Store buffering: T0 `x = 1; r0 = y`, T1 `y = 1; r1 = x`. Under
/// sequential consistency r0 = r1 = 0 is impossible; with store buffers
/// and no barrier it happens. Reported as `Other("r0=0 r1=0")`.
pub fn store_buffering(barrier: bool) -> Model {
    Model::new(move |w| {
        let x = AtomicT::new("x", 0);
        let y = AtomicT::new("y", 0);
        let r = Rc::new(RefCell::new([-1i64; 2]));
        let (r0, r1) = (r.clone(), r.clone());
        w.spawn("T0", async move {
            x.set(1).await;
            if barrier {
                smp_mb();
            }
            r0.borrow_mut()[0] = y.read().await;
        });
        w.spawn("T1", async move {
            y.set(1).await;
            if barrier {
                smp_mb();
            }
            r1.borrow_mut()[1] = x.read().await;
        });
        w.on_end(move |_| {
            let [a, b] = *r.borrow();
            let mut o = Outcome::new(OutcomeKind::Other(format!("r0={a} r1={b}")), 0);
            o.site = "store-buffering".into();
            vec![o]
        });
    })
}

/// The benchmark model (as in loom's and shuttle's benchmarks): 3 tasks,
/// each 10 rounds of lock A / add 1 / unlock; tasks 0 and 1 also take A
/// then B once, in the same order. No bug; the counter ends at 30
/// (checked: a wrong count is reported as `Other("counter ...")`).
pub fn reference() -> Model {
    Model::new(|w| {
        let a = Mutex::new("A");
        let b = Mutex::new("B");
        let counter = Rc::new(RefCell::new(0u32));
        for i in 0..3 {
            let counter = counter.clone();
            w.spawn(format!("T{i}"), async move {
                for _ in 0..10 {
                    a.lock().await;
                    *counter.borrow_mut() += 1;
                    a.unlock();
                }
                if i < 2 {
                    a.lock().await;
                    b.lock().await;
                    b.unlock();
                    a.unlock();
                }
            });
        }
        w.on_end(move |_| {
            let n = *counter.borrow();
            if n == 30 {
                vec![]
            } else {
                vec![Outcome::new(OutcomeKind::Other(format!("counter {n}")), 0)]
            }
        });
    })
}

/// Three tasks of about 50 steps each: every task updates its own locks
/// and shared counters; T0 and T1 share lock P, T1 and T2 share Q, and each
/// task has long stretches of private work (its own lock), so most pairs
/// of steps commute and DPOR has much to prune. Outcome: the final values.
pub fn three_tasks_50() -> Model {
    Model::new(|w| {
        let p = Mutex::new("P");
        let q = Mutex::new("Q");
        let own: Vec<Mutex> = (0..3)
            .map(|i| Mutex::named(format!("own{i}"), "own"))
            .collect();
        let shared = Rc::new(RefCell::new([0u32; 2]));
        for (i, &mine) in own.iter().enumerate() {
            let shared = shared.clone();
            w.spawn(format!("T{i}"), async move {
                for round in 0..12 {
                    for _ in 0..3 {
                        mine.lock().await;
                        mine.unlock();
                    }
                    if round % 6 == 0 {
                        let lk = if i == 0 || (i == 1 && round == 0) {
                            p
                        } else {
                            q
                        };
                        lk.lock().await;
                        let slot = usize::from(lk == q);
                        let v = shared.borrow()[slot];
                        shared.borrow_mut()[slot] = v * 3 + i as u32 + 1;
                        lk.unlock();
                    }
                }
            });
        }
        w.on_end(move |_| {
            let [a, b] = *shared.borrow();
            vec![Outcome::new(OutcomeKind::Other(format!("P={a} Q={b}")), 0)]
        });
    })
}

/// Two tasks racing on unprotected shared state through `preempt_point`
/// (a lost update: read, preempt, write).
pub fn lost_update() -> Model {
    Model::new(|w| {
        let v = Rc::new(RefCell::new(0));
        for i in 0..2 {
            let v = v.clone();
            w.spawn(format!("T{i}"), async move {
                preempt_point().await;
                let x = *v.borrow();
                preempt_point().await;
                *v.borrow_mut() = x + 1;
            });
        }
        w.on_end(move |_| {
            vec![Outcome::new(
                OutcomeKind::Other(format!("v={}", v.borrow())),
                0,
            )]
        });
    })
}
