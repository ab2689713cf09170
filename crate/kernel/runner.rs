//! The scenario runner: one [`Model`] per (scenario, run configuration).
//! Each execution restores the image snapshot, mounts it with the engine,
//! builds the simulated kernel (inodes, processes, mappings), spawns the
//! scenario's tasks, and at the end runs the data oracles: lost write and
//! fsck (stale data is reported by the reads themselves).
//!
//! Set-up tasks (`setup = true`) run to completion before the race starts.
//! A step's error is reported as a user-visible outcome, marked expected
//! when [`errno_expected`] finds it among the man pages' errors for that
//! situation.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::engine::fsck::Finding;
use crate::engine::Ext4Fs;
use crate::scenario::{Memory, Pattern, RunConfig, Scenario, Step, Task, TaskKind};
use crate::sim::{
    explore, ExploreConfig, LockOrder, MemoryModel, Model, NoObserver, Outcome, OutcomeKind,
    Report, RunOptions, Strategy,
};

use super::buffered::{ext4_buffered_write_iter, filemap_read, WriteSource};
use super::direct::ext4_dio_read_iter;
use super::fault::FaultFlags;
use super::handle::JournalOps;
use super::image::ScenarioImage;
use super::inode_ops::{ext4_setattr_like, ext4_sync_file, ksys_sync, SpaceOp};
use super::migrate::ext4_ext_migrate;
use super::mm::{user_access, vm_mmap, vm_munmap, Access, Process, Vma};
use super::pagecache::PAGE_SIZE;
use super::provenance::Held;
use super::state::{Errno, Ext4InodeInfo, KResult, Kernel, SimDisk};

/// Steps of weak-memory store buffering (`RunOptions::store_window`).
pub const WEAK_MEMORY_WINDOW: u32 = crate::sim::DEFAULT_STORE_WINDOW;

/// The simulator's memory model for a scenario's `memory` choice.
pub fn memory_model(m: Memory) -> MemoryModel {
    match m {
        Memory::Sc => MemoryModel::Sc,
        Memory::X86 => MemoryModel::X86,
        Memory::Lkmm => MemoryModel::Lkmm,
    }
}

/// The scenario outcome kind name (`"stale-data"`...) of a sim outcome.
pub fn kind_name(k: &OutcomeKind) -> &'static str {
    match k {
        OutcomeKind::Deadlock => "deadlock",
        OutcomeKind::LockOrderInversion => "lock-order-inversion",
        OutcomeKind::StaleData => "stale-data",
        OutcomeKind::LostWrite => "lost-write",
        OutcomeKind::Fsck => "fsck",
        OutcomeKind::KernelWarning | OutcomeKind::KernelBug => "kernel-warning",
        OutcomeKind::UserVisibleError => "user-error",
        OutcomeKind::StepLimit => "step-limit",
        // The run could not go on (the task limit, an engine error mid-run).
        OutcomeKind::Other(name) if name == "engine-error" => "engine-error",
        _ => "other",
    }
}

/// The sim outcome kinds each scenario kind name stands for (`"kernel-warning"`:
/// a WARN or a BUG), as [`ExploreConfig::stop_when_found`] groups: a search
/// that finds a race stops once each name has shown. An unknown name, or one
/// no run can show (`ok`), is an error naming it.
///
/// [`ExploreConfig::stop_when_found`]: crate::sim::ExploreConfig::stop_when_found
pub fn kind_groups(names: &[String]) -> Result<Vec<Vec<OutcomeKind>>, String> {
    const SIM_KINDS: [OutcomeKind; 9] = [
        OutcomeKind::Deadlock,
        OutcomeKind::LockOrderInversion,
        OutcomeKind::StaleData,
        OutcomeKind::LostWrite,
        OutcomeKind::Fsck,
        OutcomeKind::KernelWarning,
        OutcomeKind::KernelBug,
        OutcomeKind::UserVisibleError,
        OutcomeKind::StepLimit,
    ];
    names
        .iter()
        .map(|n| {
            let g: Vec<OutcomeKind> = SIM_KINDS
                .iter()
                .filter(|k| kind_name(k) == n.as_str())
                .cloned()
                .collect();
            if g.is_empty() {
                let mut known: Vec<&str> = SIM_KINDS.iter().map(kind_name).collect();
                known.dedup();
                Err(format!(
                    "`{n}` is not an outcome kind a run can show ({})",
                    known.join(", ")
                ))
            } else {
                Ok(g)
            }
        })
        .collect()
}

/// Run options of a configuration (weak memory, step limit).
pub fn run_options(sc: &Scenario, rc: &RunConfig) -> RunOptions {
    RunOptions {
        memory: memory_model(rc.memory),
        store_window: WEAK_MEMORY_WINDOW,
        max_steps: (sc.explore.max_steps as u32).clamp(100, 100_000),
        ..RunOptions::default()
    }
}

/// The exploration settings of a scenario (strategy from `[explore]`
/// unless `strategy` overrides it; DFS under the bound of `rc`'s variant,
/// `Scenario::bound_of`).
pub fn explore_config(sc: &Scenario, rc: &RunConfig, strategy: Option<Strategy>) -> ExploreConfig {
    let strategy = strategy.unwrap_or(Strategy::Dfs {
        preemption_bound: sc.bound_of(&rc.variant),
        dpor: true,
    });
    ExploreConfig {
        strategy,
        max_executions: sc.explore.budget.max(1),
        run: run_options(sc, rc),
        declared_order: lock_order(rc),
        ..ExploreConfig::default()
    }
}

/// The lock order fs/ext4/super.c declares in the run's kernel version
/// (`scenario::locks::ext4_lock_order`), for the lockdep oracle.
pub fn lock_order(rc: &RunConfig) -> LockOrder {
    let o = crate::scenario::locks::ext4_lock_order(rc.kernel);
    LockOrder {
        source: o.source,
        chains: o.chains,
    }
}

/// Makes the [`JournalOps`] of each execution (the journal glue passes
/// its own to [`scenario_model_with`]).
pub type JournalOpsFactory = Rc<dyn Fn(&Kernel) -> Rc<dyn JournalOps>>;

/// The model of `sc` under `rc` on `img`, with the core's
/// [`super::handle::DefaultJournalOps`].
pub fn scenario_model(sc: Rc<Scenario>, rc: RunConfig, img: Rc<ScenarioImage>) -> Model {
    scenario_model_with(sc, rc, img, None)
}

/// [`scenario_model`] with the journal seam replaced: `jops` is called once
/// per execution, after the kernel (fs, inodes, processes) is built and
/// before any task runs.
pub fn scenario_model_with(
    sc: Rc<Scenario>,
    rc: RunConfig,
    img: Rc<ScenarioImage>,
    jops: Option<JournalOpsFactory>,
) -> Model {
    Model::new(move |w| {
        // jbd2glue: mount with the journal when the image has one.
        let fs = match super::jbd2::ext4_fill_super(&img, &rc) {
            Ok(fs) => fs,
            Err(e) => {
                let msg = e.to_string();
                w.on_end(move |_| {
                    let mut o = Outcome::new(OutcomeKind::Other("engine-error".into()), 0);
                    o.message = msg;
                    vec![o]
                });
                return;
            }
        };
        let mut k = Kernel::new(fs, rc.clone(), img.base_log.clone(), img.ino_names.clone());
        for (name, &ino) in &img.files {
            let raw = match k.fs.borrow_mut().ext4_iget(ino) {
                Ok(r) => r,
                Err(_) => continue,
            };
            let ei = Ext4InodeInfo::new(ino, name, raw, rc.kernel);
            // __ext4_iget -> ext4_set_inode_flags: S_DAX from the mount.
            super::inode_ops::ext4_set_inode_flags(&k, &ei);
            k.inodes.insert(name.clone(), Rc::new(ei));
        }
        for p in &sc.processes {
            let proc_ = Process::new(&p.name, rc.kernel);
            for m in &p.mappings {
                // Mapped before the run: ext4_file_mmap chose the vm_ops
                // from S_DAX as the inode was then.
                let vm_ops = match k.inodes.get(&m.file) {
                    Some(ei) if ei.is_dax() => super::dax::VmOps::Dax,
                    _ => super::dax::VmOps::File,
                };
                let len = m
                    .len
                    .unwrap_or_else(|| k.inodes.get(&m.file).map(|i| i.i_size()).unwrap_or(0));
                proc_.vmas.borrow_mut().insert(
                    m.name.clone(),
                    Vma {
                        file: m.file.clone(),
                        offset: m.offset,
                        len,
                        shared: m.shared,
                        writable: m.writable,
                        vm_ops,
                    },
                );
            }
            k.procs.insert(p.name.clone(), Rc::new(proc_));
        }
        // The data oracles' log, visible to the dependence relation.
        let inos: Vec<u32> = k.inodes.values().map(|ei| ei.ino).collect();
        k.log.borrow_mut().announce(
            rc.tasks
                .iter()
                .filter_map(|&ti| sc.tasks.get(ti))
                .map(|t| t.name.as_str()),
            &inos,
        );
        // jbd2glue: the real journal when the image has one; an explicit
        // factory (scenario_model_with) still takes precedence.
        super::jbd2::jbd2_install(&k);
        if let Some(f) = &jops {
            let ops = f(&k);
            *k.jops.borrow_mut() = ops;
        }
        let k = Rc::new(k);
        *k.me.borrow_mut() = Rc::downgrade(&k);
        {
            let (k, img) = (k.clone(), img.clone());
            w.state_digest(move || super::state_digest::kernel_state_digest(&k, &img));
        }
        // `setup = true` tasks run to completion before any other task
        // starts, so their steps never interleave with the race: the others
        // wait on `setup_done`, completed when the last set-up task ends
        // (kjournald2 excepted: a set-up fsync needs its commit).
        let setups = rc
            .tasks
            .iter()
            .filter(|&&ti| sc.tasks.get(ti).is_some_and(|t| t.setup))
            .count();
        let setup_done = (setups > 0).then(|| crate::sim::Completion::new("setup_done"));
        let setup_left = Rc::new(std::cell::Cell::new(setups));
        for &ti in &rc.tasks {
            let Some(task) = sc.tasks.get(ti).cloned() else {
                continue;
            };
            let kk = k.clone();
            let setup_left = setup_left.clone();
            match task.kind {
                TaskKind::Kjournald2 => {
                    let commits = task.commits.unwrap_or(1);
                    // The commit thread runs from mount on: a set-up task's
                    // fsync waits for its commit.
                    w.spawn_in("kjournald2", task.name.clone(), async move {
                        let ops = kk.jops.borrow().clone();
                        ops.kjournald2(&kk, commits).await;
                    });
                }
                _ => {
                    let process = task.process.clone().unwrap_or_else(|| task.name.clone());
                    w.spawn_in(process, task.name.clone(), async move {
                        match setup_done {
                            Some(done) if !task.setup => done.wait().await,
                            _ => {}
                        }
                        run_task(&kk, &task).await;
                        if let (Some(done), true) = (setup_done, task.setup) {
                            setup_left.set(setup_left.get() - 1);
                            if setup_left.get() == 0 {
                                done.complete_all();
                            }
                        }
                    });
                }
            }
        }
        // Every journalled filesystem has its kjournald2: one the scenario
        // does not list commits only when asked (no timer commits).
        let listed = rc.tasks.iter().any(|&ti| {
            sc.tasks
                .get(ti)
                .is_some_and(|t| t.kind == TaskKind::Kjournald2)
        });
        if !listed && k.fs.borrow().is_journalled() {
            let kk = k.clone();
            w.spawn_in("kjournald2", "kjournald2", async move {
                let ops = kk.jops.borrow().clone();
                ops.kjournald2(&kk, 0).await;
            });
        }
        let kk = k.clone();
        let img = img.clone();
        w.on_end(move |view| {
            if view.end == crate::sim::EndKind::Deadlock
                || view.end == crate::sim::EndKind::StepLimit
                || view.end == crate::sim::EndKind::TaskLimit
            {
                return Vec::new();
            }
            let crashed = view.end == crate::sim::EndKind::Crashed;
            if crashed {
                super::jbd2::crash_and_recover(&kk); // jbd2glue
            }
            end_oracles(
                &kk,
                crashed,
                view.end == crate::sim::EndKind::Complete,
                &img,
            )
        });
    })
}

/// The inodes whose data `step` may write or remove, for the data
/// oracles' log (`DataLog::begin_step`): its file's and those of the
/// mappings it uses. `None` (every inode) for a step that names none (a
/// sync) or a name that does not resolve.
fn step_inodes(k: &Kernel, p: Option<&Process>, step: &Step) -> Option<Vec<u32>> {
    let mut inos = Vec::new();
    let mut add = |file: &str| {
        let ino = k.inodes.get(file)?.ino;
        if !inos.contains(&ino) {
            inos.push(ino);
        }
        Some(())
    };
    if let Some(f) = step.file() {
        add(f)?;
    }
    for m in step.mappings() {
        add(&p?.vmas.borrow().get(m)?.file)?;
    }
    (!inos.is_empty()).then_some(inos)
}

/// Runs a task's steps; a failing step reports a user-visible error and
/// the task goes on with its next step. (The simulated user program, not
/// kernel code.)
async fn run_task(k: &Kernel, task: &Task) {
    let p = task.process.as_ref().and_then(|n| k.procs.get(n)).cloned();
    for step in &task.steps {
        let inos = step_inodes(k, p.as_deref(), step);
        k.log
            .borrow_mut()
            .begin_step(&crate::sim::current_task_name(), inos.as_deref());
        if let Err(e) = run_step(k, p.as_deref(), step).await {
            let expected = errno_expected(k, p.as_deref(), step, e);
            crate::sim::report_error(step.op(), e.name(), expected);
        }
    }
}

/// Whether the man page of `step`'s syscall lists `e` for the situation the
/// program is in, so that the error is the program's and not the kernel's
/// (reported as a user-error with `expected`; the page shows it quietly):
/// - write(2): ENOSPC ("no room for the data"); EINVAL for an O_DIRECT
///   request not aligned to the logical block size;
/// - read(2) with O_DIRECT: EINVAL when not aligned (open(2), O_DIRECT);
/// - fallocate(2) (punch hole included): ENOSPC, and EOPNOTSUPP ("the
///   filesystem ... does not support this operation": a block-mapped file);
/// - a load or store through a mapping: SIGBUS when the access reaches a
///   page that lies wholly past the end of the file (mmap(2), "beyond the
///   end of the mapped file"), e.g. after a truncate. A SIGBUS inside EOF
///   is not expected.
///
/// EFBIG, which the man pages also list, has no path in the model: no step
/// reaches `s_maxbytes`. Checked right after the step failed, with no
/// scheduling point between, so `i_size` is the size the failing path saw
/// or a later one of the same atomic step.
pub fn errno_expected(k: &Kernel, p: Option<&Process>, step: &Step, e: Errno) -> bool {
    match (step, e) {
        (Step::Write { .. }, Errno::ENOSPC) => true,
        (Step::Write { direct, .. } | Step::Read { direct, .. }, Errno::EINVAL) => *direct,
        (Step::Fallocate { .. } | Step::PunchHole { .. }, Errno::ENOSPC | Errno::EOPNOTSUPP) => {
            true
        }
        (
            Step::Store {
                mapping,
                offset,
                len,
                ..
            }
            | Step::Load {
                mapping,
                offset,
                len,
            }
            | Step::Gup {
                mapping,
                offset,
                len,
                ..
            },
            Errno::SIGBUS,
        ) => {
            let Some(vma) = p.and_then(|p| p.vmas.borrow().get(mapping).cloned()) else {
                return false;
            };
            let Ok(ei) = k.inode(&vma.file) else {
                return false;
            };
            let last_page = (vma.offset + offset + len.max(&1) - 1) / PAGE_SIZE;
            last_page * PAGE_SIZE >= ei.i_size()
        }
        _ => false,
    }
}

fn bytes_of(fill: &Option<String>, pattern: &Option<String>, len: u64) -> Vec<u8> {
    let mut buf = vec![0u8; len as usize];
    if let Some(p) = Pattern::from_fields(fill, pattern) {
        p.fill(0, &mut buf);
    }
    buf
}

/// One step: the syscall or kernel event it names (the dispatcher of the
/// simulated user program, not kernel code). A syscall that changes the
/// filesystem runs under the VFS's freeze protection
/// ([`super::state::sb_start_write`]).
async fn run_step(k: &Kernel, p: Option<&Process>, step: &Step) -> KResult<()> {
    let modifies = matches!(
        step,
        Step::Write { .. }
            | Step::Truncate { .. }
            | Step::Fallocate { .. }
            | Step::PunchHole { .. }
            | Step::Migrate { .. }
            | Step::Setflags { .. }
    );
    if !modifies {
        return run_syscall(k, p, step).await;
    }
    let sb = super::state::sb_start_write(k).await;
    let r = run_syscall(k, p, step).await;
    super::state::sb_end_write(sb);
    r
}

/// [`run_step`]'s dispatch.
async fn run_syscall(k: &Kernel, p: Option<&Process>, step: &Step) -> KResult<()> {
    match step {
        Step::Write {
            file,
            offset,
            len,
            fill,
            pattern,
            from,
            direct,
        } => {
            let ei = k.inode(file)?;
            let pos = offset.unwrap_or_else(|| ei.i_size());
            let bytes = bytes_of(fill, pattern, *len);
            // O_DIRECT from a buffer the task holds (not one in a mapping),
            // on kernels whose direct write is modelled (an inline inode
            // writes through the page cache there, as ext4_should_use_dio
            // sends it).
            if *direct && from.is_none() && k.version() >= super::direct::DIO_WRITE_MODELLED {
                return super::direct::ext4_dio_write_iter(k, &ei, pos, &bytes).await;
            }
            let src = match (from, p) {
                (Some(b), Some(p)) => WriteSource::Mapping {
                    p,
                    map: &b.mapping,
                    offset: b.offset,
                },
                _ => WriteSource::Bytes(&bytes),
            };
            ext4_buffered_write_iter(k, &ei, pos, *len, src).await?;
        }
        Step::Read {
            file,
            offset,
            len,
            direct,
            ..
        } => {
            let ei = k.inode(file)?;
            // v4.12 fs/ext4/inode.c ext4_direct_IO: "if
            // (ext4_has_inline_data(inode)) return 0": buffered I/O.
            if *direct && !super::inline::ext4_has_inline_data(&ei) {
                ext4_dio_read_iter(k, &ei, *offset, *len).await?;
            } else {
                filemap_read(k, &ei, *offset, *len).await?;
            }
        }
        Step::Mmap {
            file,
            name,
            offset,
            len,
            shared,
            writable,
        } => {
            let p = p.ok_or(Errno::EINVAL)?;
            let ei = k.inode(file)?;
            let vma = Vma {
                file: file.clone(),
                offset: *offset,
                len: len.unwrap_or_else(|| ei.i_size()),
                shared: *shared,
                writable: *writable,
                vm_ops: Default::default(),
            };
            vm_mmap(k, p, name, vma).await?;
        }
        Step::Munmap { mapping } => vm_munmap(k, p.ok_or(Errno::EINVAL)?, mapping).await?,
        Step::Store {
            mapping,
            offset,
            len,
            fill,
            pattern,
        } => {
            let bytes = bytes_of(fill, pattern, *len);
            let p = p.ok_or(Errno::EINVAL)?;
            user_access(
                k,
                p,
                mapping,
                *offset,
                *len,
                Access::Store(&bytes),
                FaultFlags::USER,
            )
            .await?;
        }
        Step::Load {
            mapping,
            offset,
            len,
        } => {
            let p = p.ok_or(Errno::EINVAL)?;
            user_access(k, p, mapping, *offset, *len, Access::Load, FaultFlags::USER).await?;
        }
        Step::Gup {
            mapping,
            offset,
            len,
            write,
            allow_retry,
        } => {
            let p = p.ok_or(Errno::EINVAL)?;
            let flags = FaultFlags {
                allow_retry: *allow_retry,
            };
            let access = if *write {
                Access::PinWrite
            } else {
                Access::Load
            };
            user_access(k, p, mapping, *offset, *len, access, flags).await?;
        }
        Step::Fsync { file, .. } => ext4_sync_file(k, &*k.inode(file)?).await?,
        Step::Sync => ksys_sync(k).await?,
        Step::Truncate { file, size } => {
            let ei = k.inode(file)?;
            let r = k.log.borrow_mut().begin_removal(
                ei.ino,
                *size,
                u64::MAX,
                crate::sim::current_task_name(),
            );
            let res = ext4_setattr_like(k, &ei, SpaceOp::Truncate(*size)).await;
            k.log.borrow_mut().end_removal(r);
            res?
        }
        Step::Fallocate {
            file,
            offset,
            len,
            keep_size,
        } => {
            let op = SpaceOp::Fallocate {
                offset: *offset,
                len: *len,
                keep_size: *keep_size,
            };
            ext4_setattr_like(k, &*k.inode(file)?, op).await?
        }
        Step::PunchHole { file, offset, len } => {
            let op = SpaceOp::PunchHole {
                offset: *offset,
                len: *len,
            };
            let ei = k.inode(file)?;
            let r = k.log.borrow_mut().begin_removal(
                ei.ino,
                *offset,
                offset.saturating_add(*len),
                crate::sim::current_task_name(),
            );
            let res = ext4_setattr_like(k, &ei, op).await;
            k.log.borrow_mut().end_removal(r);
            res?
        }
        Step::Migrate { file } => ext4_ext_migrate(k, &*k.inode(file)?).await?,
        Step::Writeback { file, sync_all } => {
            let _f = crate::kfn!("wb_workfn");
            let targets: Vec<Rc<Ext4InodeInfo>> = match file {
                Some(f) => vec![k.inode(f)?],
                None => k.inodes.values().cloned().collect(),
            };
            for ei in targets {
                super::writeback::writeback_single_inode(k, &ei, *sync_all).await?;
            }
        }
        Step::Commit => {
            let _f = crate::kfn!("jbd2_journal_force_commit");
            crate::sim::preempt_point().await;
            if let Some(ei) = k.inodes.values().next() {
                // jbd2glue: a real commit when the journal is loaded.
                let ops = k.jops.borrow().clone();
                ops.fsync_commit(k, ei).await?;
            }
        }
        Step::DropCaches => super::inode_ops::drop_pagecache_sb(k).await,
        Step::Crash { .. } => crate::sim::crash_point("crash").await,
        Step::Setflags { file, flags } => {
            super::ioctl::ext4_ioctl(k, &*k.inode(file)?, flags).await?
        }
    }
    Ok(())
}

/// End-of-execution oracles: write back what the model says is on disk
/// (the engine's dirty metadata), then lost write (durable writes read back
/// through the engine, as after dropping the caches; without a crash, also
/// each file as a read(2) after the run returns it, against the sequential
/// rule, only when every task finished: `complete`; a run a `BUG()` halted
/// stopped operations half done) and fsck. Not run after a deadlock or the
/// step limit; after a crash (`crashed`), on the recovered disk. The fsck
/// is answered from `img`'s memo when a run before left the same disk
/// ([`super::fsck_memo`]).
pub fn end_oracles(
    k: &Kernel,
    crashed: bool,
    complete: bool,
    img: &super::image::ScenarioImage,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut fs = k.fs.borrow_mut();
    if let Err(e) = fs.sync() {
        return vec![engine_error_outcome("sync", &e)];
    }
    let log = k.log.borrow();
    // lost write, per byte (crate/kernel/provenance.rs)
    for (i, w) in log.writes.iter().enumerate() {
        if !w.durable {
            continue;
        }
        let mut buf = vec![0u8; w.bytes.len()];
        let n = match fs.read(w.ino, w.offset, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                out.push(engine_error_outcome("read", &e));
                continue;
            }
        };
        // The write's own bytes first (no record is scanned for them), then
        // what a later operation may have left instead. After a crash the
        // disk is what recovery made of it, and each byte must be one of
        // those values. Without a crash the disk is the running state with
        // the engine's metadata written home but not the dirty pages, a
        // state the kernel never leaves behind (data=ordered writes the
        // data before the metadata that allocates it commits): a block a
        // later write allocated may hold anything there, so a later
        // operation covering the byte excuses it whatever it holds; the
        // sequential check below judges the bytes a read returns.
        let held = |b: usize| match (crashed, b < n) {
            (false, _) => Held::Any,
            (true, true) => Held::Byte(buf[b]),
            (true, false) => Held::PastEof,
        };
        let lost: Vec<usize> = (0..w.bytes.len())
            .filter(|&b| b >= n || buf[b] != w.bytes[b])
            .filter(|&b| !log.allowed_later(i, w.offset + b as u64, held(b)))
            .collect();
        let (Some(&first), Some(&last)) = (lost.first(), lost.last()) else {
            continue;
        };
        let mut o = Outcome::new(OutcomeKind::LostWrite, 0);
        o.tasks.push(w.task.clone());
        // The task whose fsync/sync promised it (when not the writer).
        let by = w.durable_by.clone().unwrap_or_else(|| w.task.clone());
        if by != w.task {
            o.tasks.push(by.clone());
        }
        o.site = "ext4_sync_file".into();
        let (from, to) = (w.offset + first as u64, w.offset + last as u64 + 1);
        let seen = if first < n {
            format!(
                "holds {:?}",
                String::from_utf8_lossy(&buf[first..(last + 1).min(n)])
                    .chars()
                    .take(8)
                    .collect::<String>()
            )
        } else {
            "is past EOF".to_string()
        };
        o.message = if lost.len() < w.bytes.len() {
            format!(
                "{} of the {} bytes written by {} to {} at offset {} and made durable are not on disk (from offset {from}, which {seen})",
                lost.len(),
                w.bytes.len(),
                w.task,
                k.ino_name(w.ino),
                w.offset,
            )
        } else {
            format!(
                "{} bytes written by {} to {} at offset {} and made durable are not on disk (offset {from} {seen})",
                w.bytes.len(),
                w.task,
                k.ino_name(w.ino),
                w.offset
            )
        };
        if by != w.task {
            o.message
                .push_str(&format!("; {by}'s fsync returned after the write"));
        }
        let later = log.later_records(i, from, to);
        if !later.is_empty() {
            o.message
                .push_str(&format!("; considered and ruled out: {}", later.join(", ")));
        }
        out.push(o);
    }
    // stale data after a crash: what recovery left mapped in each file
    if crashed {
        out.extend(exposed_after_crash(k, &mut fs, &log));
    }
    // lost write, the sequential rule (every task finished): every file
    // with records
    if complete {
        let mut inos: Vec<u32> = log.writes.iter().map(|w| w.ino).collect();
        inos.extend(log.removals.iter().map(|r| r.ino));
        inos.sort_unstable();
        inos.dedup();
        for ino in inos {
            let Some(ei) = k.inodes.values().find(|e| e.ino == ino) else {
                continue;
            };
            let data = match file_as_read(&mut fs, ei) {
                Ok(d) => d,
                Err(e) => {
                    out.push(engine_error_outcome("read", &e));
                    continue;
                }
            };
            let Some((x, weighed)) = log.sequential_violation(ino, &data) else {
                continue;
            };
            let mut o = Outcome::new(OutcomeKind::LostWrite, 0);
            let held = match data.get(x as usize) {
                Some(b) => format!("holds {:?}", *b as char),
                None => "is past EOF".to_string(),
            };
            o.site = "end of run".into();
            for w in log.writes.iter().filter(|w| w.ino == ino) {
                o.tasks.push(w.task.clone());
            }
            for r in log.removals.iter().filter(|r| r.ino == ino) {
                o.tasks.push(r.task.clone());
            }
            o.tasks.sort();
            o.tasks.dedup();
            o.message = format!(
                "after the run, offset {x} of {} {held}, which no order of the operations on it leaves (the last ones there: {})",
                k.ino_name(ino),
                weighed.join(", ")
            );
            out.push(o);
        }
    }
    // fsck (memoized per image when the run is on the image's device)
    match img.fsck_memo.ext4_fsck(&mut fs, &img.dev, &img.snap) {
        Ok(rep) if !rep.is_clean() => {
            let mut o = Outcome::new(OutcomeKind::Fsck, 0);
            for f in rep.findings.iter().filter(|f| f.is_error()) {
                let blocks: Vec<u64> = match f {
                    Finding::BlockInUseButUnowned { start, count } => {
                        (*start..start + count.min(&64)).collect()
                    }
                    Finding::BlockOwnedTwice { block, .. } => vec![*block],
                    _ => Vec::new(),
                };
                for b in blocks {
                    o.blocks.push(b);
                    if let Some(t) = log.alloc_by.get(&b) {
                        o.tasks.push(t.clone());
                    }
                }
            }
            for (_, t) in &log.map_replaced_by {
                o.tasks.push(t.clone());
            }
            o.tasks.sort();
            o.tasks.dedup();
            o.site = "ext4_fsck".into();
            o.message = rep
                .findings
                .iter()
                .filter(|f| f.is_error())
                .map(|f| format!("{f:?}"))
                .collect::<Vec<_>>()
                .join("; ");
            out.push(o);
        }
        Ok(_) => {}
        Err(e) => {
            let mut o = Outcome::new(OutcomeKind::Fsck, 0);
            o.site = "ext4_fsck".into();
            o.message = e;
            out.push(o);
        }
    }
    out
}

/// The stale-data oracle after a crash (nothing reads during recovery, so
/// the run's reads cannot see it): every written block that journal
/// recovery leaves mapped in a live file, up to its size, must hold zeros
/// or the file's own bytes. Bytes of another file (a deleted file's freed
/// block reused by an allocation whose data never reached the disk) are
/// exposure. data=writeback may expose, and the kernel documents it: it is
/// reported all the same, since it is stale data a reader would get. Under
/// data=journal the data is logged with the allocation and must never be
/// exposed.
///
/// Under data=ordered the commit writes the inode's dirty pages over the
/// blocks the transaction allocated before the commit record
/// (`journal_submit_data_buffers`, crate/kernel/jbd2.rs), so exposure
/// there is a kernel bug, reported like the others. Not checked under
/// data=ordered on kernels before inode-based ordered mode
/// ([`super::jbd2::ORDERED_BY_INODE`], v2.6.27): their commit writes the
/// per-buffer ordered-data list (`jbd2_journal_dirty_data`), which the
/// model does not have, so it would report exposure those kernels prevent.
///
/// Unwritten extents and holes read as zeros and are not looked at.
fn exposed_after_crash(
    k: &Kernel,
    fs: &mut Ext4Fs<SimDisk>,
    log: &super::provenance::DataLog,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    if super::jbd2::data_mode(&k.rc) == crate::engine::DataMode::Ordered
        && k.version() < super::jbd2::ORDERED_BY_INODE
    {
        return out;
    }
    let bs = u64::from(fs.block_size());
    for (name, ei) in &k.inodes {
        let Ok(inode) = fs.ext4_iget(ei.ino) else {
            continue;
        };
        if inode.has_flag(crate::engine::inode::EXT4_INLINE_DATA_FL) {
            continue;
        }
        let size = inode.size();
        for lblk in 0..size.div_ceil(bs) {
            let Ok(m) = fs.ext4_map_blocks(
                ei.ino,
                lblk as u32,
                1,
                crate::engine::map::MapFlags::empty(),
            ) else {
                break;
            };
            let Some(pblk) = m.m_pblk.filter(|_| !m.unwritten) else {
                continue;
            };
            let n = (size - lblk * bs).min(bs) as usize;
            let prov = log.block_prov(pblk, bs as usize);
            let Some(&bad) = prov[..n].iter().find(|&&p| p != 0 && p != ei.ino) else {
                continue;
            };
            let count = prov[..n].iter().filter(|&&p| p == bad).count();
            let mut o = Outcome::new(OutcomeKind::StaleData, 0);
            o.blocks.push(pblk);
            if let Some(t) = log.alloc_by.get(&pblk) {
                o.tasks.push(t.clone());
            }
            o.site = "journal recovery".into();
            o.message = format!(
                "after the crash and journal recovery, {name}'s block {lblk} (block {pblk}) holds {count} bytes written by {} (stale)",
                k.ino_name(bad)
            );
            out.push(o);
        }
    }
    out
}

/// File `ei` as a read(2) after the run returns it: `i_size` bytes, each
/// page from the page cache when cached and uptodate, else from the disk
/// through the engine (holes and unwritten extents read as zeros).
/// An engine error is the oracle's answer, never a file of zeros.
fn file_as_read(
    fs: &mut Ext4Fs<SimDisk>,
    ei: &Ext4InodeInfo,
) -> Result<Vec<u8>, crate::engine::error::Ext4Error> {
    let size = ei.i_size();
    let mut data = vec![0u8; size as usize];
    fs.read(ei.ino, 0, &mut data)?;
    let pages = ei.mapping.pages.borrow();
    for (&idx, ps) in pages.range(0..size.div_ceil(PAGE_SIZE)) {
        if ps.uptodate {
            let at = (idx * PAGE_SIZE) as usize;
            let n = (size as usize - at).min(PAGE_SIZE as usize);
            data[at..at + n].copy_from_slice(&ps.data[..n]);
        }
    }
    Ok(data)
}

/// The outcome an oracle reports when the engine cannot answer it (a
/// corrupt image after the run, say): `engine-error`, naming what failed.
fn engine_error_outcome(what: &str, e: &crate::engine::error::Ext4Error) -> Outcome {
    let mut o = Outcome::new(OutcomeKind::Other("engine-error".into()), 0);
    o.site = format!("end of run: {what}");
    o.message = e.to_string();
    o
}

/// `replay --refind`, the page's "find it again": explores `rc` with the
/// scenario's own `[explore]` settings (its strategy, seed, PCT depth and
/// budget, and the variant's preemption bound, `Scenario::bound_of`) and, when that finds no outcome of kind
/// `kind` (a scenario outcome kind name, `deadlock`...), with the other
/// of DFS under the bound and PCT, same budget. Returns the last report and
/// the record whose `shortest_token` is the shortest schedule found.
pub fn refind(
    sc: &Rc<Scenario>,
    rc: &RunConfig,
    img: Rc<ScenarioImage>,
    kind: &str,
) -> (Report, Option<crate::sim::OutcomeRecord>) {
    use crate::scenario::StrategyKind;
    let model = scenario_model(sc.clone(), rc.clone(), img);
    let dfs = Strategy::Dfs {
        preemption_bound: sc.bound_of(&rc.variant),
        dpor: true,
    };
    let pct = Strategy::Pct {
        seed: sc.explore.seed,
        depth: sc.explore.pct_depth.max(1),
    };
    let own = match sc.explore.strategy {
        StrategyKind::Dfs => dfs.clone(),
        StrategyKind::Pct => pct.clone(),
        StrategyKind::Random => Strategy::Random {
            seed: sc.explore.seed,
        },
    };
    let other = if matches!(own, Strategy::Dfs { .. }) {
        pct
    } else {
        dfs
    };
    let mut last = Report::default();
    for strategy in [own, other] {
        let cfg = explore_config(sc, rc, Some(strategy));
        let report = explore(&model, &cfg, &mut NoObserver);
        let rec = report
            .outcomes
            .iter()
            .filter(|r| kind_name(&r.key.kind) == kind)
            .min_by_key(|r| (r.shortest_len, r.fewest_preemptions))
            .cloned();
        if rec.is_some() {
            return (report, rec);
        }
        last = report;
    }
    (last, None)
}

/// Build the image and explore `variant` with `options`.
pub fn explore_variant(
    sc: &Rc<Scenario>,
    variant: &str,
    options: &BTreeMap<String, String>,
    strategy: Option<Strategy>,
    budget: Option<u64>,
) -> Result<(RunConfig, Report), String> {
    let rc = sc.resolve(variant, options).map_err(|e| e.to_string())?;
    let img = Rc::new(super::image::build_image(sc).map_err(|e| e.to_string())?);
    let model = scenario_model(sc.clone(), rc.clone(), img);
    let mut cfg = explore_config(sc, &rc, strategy);
    if let Some(b) = budget {
        cfg.max_executions = b;
    }
    Ok((rc.clone(), explore(&model, &cfg, &mut NoObserver)))
}

/// A compact, kernel-named timeline of a traced execution: one line per
/// lock acquire/block, bio submit/complete, warning, error and flush of a
/// buffered store, with the step, the task and its innermost kernel
/// function (for the scenario pages and `ext4lab replay --timeline`).
pub fn timeline(trace: &crate::sim::trace::Trace) -> Vec<String> {
    use crate::sim::trace::EventKind as E;
    let mut out = Vec::new();
    for ev in &trace.events {
        let task = ev
            .task
            .and_then(|t| trace.tasks.get(t as usize))
            .map(|t| t.name.as_str())
            .unwrap_or("-");
        let func = ev.stack.last().map(String::as_str).unwrap_or("");
        let what = match &ev.kind {
            E::Acquire { lock, mode, .. } => format!("acquires {lock} ({mode:?})"),
            E::Block { lock } => format!("blocks on {lock}"),
            E::BioSubmit {
                bio,
                block,
                write,
                blocks,
            } => format!(
                "submits bio {bio} ({} {})",
                if *write { "write" } else { "read" },
                blocks_text(*block, *blocks)
            ),
            E::BioComplete { bio, block } => format!("bio {bio} completes (block {block})"),
            E::Warn { site } => format!("WARNING: {site}"),
            E::Bug { site } => format!("kernel BUG: {site}"),
            E::Error { site, errno } => format!("{site} returns {errno}"),
            E::Flush { atomic, task } => format!("{task}'s store to {atomic} becomes visible"),
            E::Crash { point } => format!("crash at {point}"),
            E::Note { text } => text.clone(),
            _ => continue,
        };
        out.push(format!(
            "{:>4}  {:<24} {:<32} {}",
            ev.step, task, func, what
        ));
    }
    out
}

/// "block 1292" or, for a bio of several blocks, "blocks 1292-1295".
fn blocks_text(block: u64, blocks: u32) -> String {
    if blocks > 1 {
        format!("blocks {block}-{}", block + u64::from(blocks) - 1)
    } else {
        format!("block {block}")
    }
}
