//! The disk and journal of a scenario run, at the start and after trace
//! step `step` (the run is replayed and cut with `max_steps = step + 1`, so
//! the state is exact for that step, not for a prefix of the schedule's
//! choices). The page's Disk & journal tab (`{cmd: "disk"}`) and `ext4lab
//! replay LINK --disk` show it; [`disk_text`] is its text form.
//!
//! For each of the scenario's files: the block map (extents or the
//! indirect map's runs) from the in-memory inode (`ei->i_data`, what
//! `ext4_map_blocks` sees), the page cache (`PG_dirty`, `BH_Delay`,
//! `BH_Unwritten`), and where each mapped block's bytes on disk came from:
//! the recipe's provenance of the block when its bytes are still those the
//! image was built with, or "written in this run". A block mapped written
//! whose bytes still belong to another file (the deleted "secret") is
//! *stale*: a read that goes to disk returns them. The journal area is
//! parsed into transactions by `engine::journal::logview`.
//!
//! The state is read through hooks that change nothing: the kernel's
//! inodes are kept (the journal seam factory is called with the kernel and
//! hands back the journal ops already installed), and the device is read
//! after the run stops. Metadata the engine holds in its buffer cache and
//! has not checkpointed is not on the device yet (it is in the journal's
//! log blocks once committed): the block map shown is the in-memory one.

mod text;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Serialize;

pub use self::text::disk_text;
use crate::device::mem::MemDevice;
use crate::device::BlockDevice;
use crate::engine::fs::{Ext4Fs, OpenOptions};
use crate::engine::inode::{EXT4_EXTENTS_FL, EXT4_INLINE_DATA_FL};
use crate::engine::journal::logview::{jbd2_log_view, LogView};
use crate::kernel::image::ScenarioImage;
use crate::kernel::runner::{run_options, scenario_model_with, JournalOpsFactory};
use crate::kernel::state::SimDisk;
use crate::kernel::Ext4InodeInfo;
use crate::scenario::{RunConfig, Scenario};
use crate::sim::sched::replay::Replay;
use crate::sim::{EndKind, Schedule};
use crate::view::Failure;

/// Most logical blocks listed per file (the view is a picture, not a dump).
pub const MAX_BLOCKS: u64 = 256;

/// One extent (or run of an indirect map).
#[derive(Debug, Serialize)]
pub struct ExtentView {
    pub lblk: u32,
    pub len: u32,
    pub pblk: u64,
    pub unwritten: bool,
}

/// One page of the cache (`struct page` + its buffer head).
#[derive(Debug, Serialize)]
pub struct PageView {
    pub uptodate: bool,
    pub dirty: bool,
    /// `BH_Delay`: delalloc reserved, no block yet.
    pub delay: bool,
    pub unwritten: bool,
    /// `b_blocknr` when `BH_Mapped`.
    pub mapped: Option<u64>,
    /// Names of the files whose bytes the page holds (not zeros).
    pub origins: Vec<String>,
}

/// One logical block of a file.
#[derive(Debug, Serialize)]
pub struct BlockView {
    pub lblk: u64,
    pub pblk: Option<u64>,
    /// hole, delalloc, unwritten, stale, dirty, written.
    pub state: &'static str,
    pub unwritten: bool,
    /// Whose bytes the block holds on disk: a file name, "zeros", or
    /// "this run" (rewritten since the image was built).
    pub disk: Option<String>,
    pub page: Option<PageView>,
}

/// One of the scenario's files: its inode, block map and blocks.
#[derive(Debug, Serialize)]
pub struct FileView {
    pub name: String,
    pub ino: u32,
    pub layout: &'static str,
    pub i_size: u64,
    pub i_disksize: u64,
    pub i_reserved_data_blocks: u32,
    pub extents: Vec<ExtentView>,
    pub blocks: Vec<BlockView>,
    pub error: Option<String>,
}

/// The files and the journal after `steps` steps of the run.
#[derive(Debug, Serialize)]
pub struct DiskState {
    /// Steps run to reach this state.
    pub steps: u32,
    pub end: EndKind,
    pub files: Vec<FileView>,
    pub journal: Option<LogView>,
    pub journal_error: Option<String>,
}

/// The view: the state at the start and at the step asked for.
#[derive(Debug, Serialize)]
pub struct DiskBody {
    pub block_size: u32,
    pub start: DiskState,
    pub at: DiskState,
}

/// Bytes of the blocks the recipe gave a provenance, as built.
struct Baseline {
    bytes: BTreeMap<u64, Vec<u8>>,
}

fn read_block(dev: &mut dyn BlockDevice, pblk: u64, bs: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; bs];
    let off = pblk.checked_mul(bs as u64)?;
    dev.read_at(off, &mut buf).ok()?;
    Some(buf)
}

/// The disk view of the run of `sc` under `rc` on `img` that `token`
/// schedules: at the start, and after trace step `step` (none: the end of
/// the run). `img` must be fresh: the bytes the recipe's blocks were built
/// with are read from its device before the runs (each run restores the
/// image's snapshot, not the device as it was handed in).
///
/// A `step` past the end of the run is not an error here (the page asks
/// for any step it shows): the state is then the end's, and
/// [`DiskBody::has_step`] says whether the run reached `step`.
pub fn disk_view(
    sc: Rc<Scenario>,
    rc: RunConfig,
    img: Rc<ScenarioImage>,
    token: &str,
    step: Option<u32>,
) -> Result<DiskBody, Failure> {
    let bs = sc.image.block_size as usize;
    // The device holds the snapshot right after the build.
    let base = {
        let mut dev = img.dev.borrow_mut();
        Baseline {
            bytes: img
                .base_log
                .block_prov
                .keys()
                .filter_map(|&b| read_block(&mut *dev, b, bs).map(|d| (b, d)))
                .collect(),
        }
    };
    // Keep the inodes of the execution (plain Rc clones; the journal ops
    // handed back are the ones the kernel already has).
    let kept: Rc<RefCell<BTreeMap<String, Rc<Ext4InodeInfo>>>> = Rc::default();
    let keep = kept.clone();
    let factory: JournalOpsFactory = Rc::new(move |k| {
        *keep.borrow_mut() = k.inodes.clone();
        k.jops.borrow().clone()
    });
    let model = scenario_model_with(sc.clone(), rc.clone(), img.clone(), Some(factory));
    let sched =
        Schedule::from_token(token).map_err(|e| Failure::new("bad-token", e.to_string()))?;
    let state_at = |max_steps: Option<u32>| -> DiskState {
        let mut opts = run_options(&sc, &rc);
        if let Some(m) = max_steps {
            opts.max_steps = m;
        }
        let mut r = Replay::new(&sched);
        let exec = model.run(&mut r, &opts);
        let inodes = kept.borrow().clone();
        snapshot_state(&img, &base, &inodes, bs, exec.steps, exec.end)
    };
    let start = state_at(Some(0));
    let at = state_at(step.map(|s| s.saturating_add(1)));
    Ok(DiskBody {
        block_size: bs as u32,
        start,
        at,
    })
}

impl DiskBody {
    /// The run reached trace step `step` (0-based): it ran more steps than
    /// that before it ended or was cut.
    pub fn has_step(&self, step: u32) -> bool {
        self.at.steps > step
    }
}

fn snapshot_state(
    img: &ScenarioImage,
    base: &Baseline,
    inodes: &BTreeMap<String, Rc<Ext4InodeInfo>>,
    bs: usize,
    steps: u32,
    end: EndKind,
) -> DiskState {
    // A copy of the device: opening the engine on it never touches the run's.
    // (As a SimDisk, the device type the kernel paths already compile the
    // engine for: no second copy of these functions in the wasm.)
    let bytes = img.dev.borrow().to_bytes();
    let mut state = DiskState {
        steps,
        end,
        files: Vec::new(),
        journal: None,
        journal_error: None,
    };
    let mut fs = match Ext4Fs::open(
        SimDisk(Rc::new(RefCell::new(MemDevice::from_bytes(&bytes)))),
        OpenOptions {
            read_only: true,
            fsck: false,
            ..Default::default()
        },
    ) {
        Ok(fs) => fs,
        Err(e) => {
            state.journal_error = Some(format!("the image does not open: {e}"));
            return state;
        }
    };
    let name_of = |o: u32| -> String {
        if o == 0 {
            "zeros".into()
        } else {
            img.ino_names
                .get(&o)
                .cloned()
                .unwrap_or_else(|| format!("inode {o}"))
        }
    };
    for name in img.files.keys() {
        let Some(ei) = inodes.get(name) else { continue };
        state
            .files
            .push(file_view(&mut fs, img, base, ei, bs, &name_of));
    }
    let map = fs.ext4_journal_blocks();
    let jbs = fs.block_size();
    match map {
        Ok(map) => match jbd2_log_view(fs.device(), &map, jbs) {
            Ok(v) => state.journal = Some(v),
            Err(e) => state.journal_error = Some(e.to_string()),
        },
        Err(e) => state.journal_error = Some(format!("no journal: {e}")),
    }
    state
}

/// Whose bytes block `pblk` holds on disk (see the module doc).
fn disk_origin(
    fs: &mut Ext4Fs<SimDisk>,
    img: &ScenarioImage,
    base: &Baseline,
    pblk: u64,
    bs: usize,
    name_of: &dyn Fn(u32) -> String,
) -> (Option<u32>, String) {
    let Some(now) = read_block(fs.device(), pblk, bs) else {
        return (None, "unreadable".into());
    };
    match base.bytes.get(&pblk) {
        Some(was) if *was == now => {
            let prov = img.base_log.block_prov(pblk, bs);
            // The origin most of the block's bytes have.
            let mut count: BTreeMap<u32, usize> = BTreeMap::new();
            for p in prov {
                *count.entry(p).or_default() += 1;
            }
            let o = count
                .into_iter()
                .max_by_key(|&(o, n)| (n, o != 0))
                .map(|(o, _)| o)
                .unwrap_or(0);
            (Some(o), name_of(o))
        }
        Some(_) => (None, "this run".into()),
        None if now.iter().all(|&b| b == 0) => (Some(0), "zeros".into()),
        None => (None, "this run".into()),
    }
}

fn file_view(
    fs: &mut Ext4Fs<SimDisk>,
    img: &ScenarioImage,
    base: &Baseline,
    ei: &Ext4InodeInfo,
    bs: usize,
    name_of: &dyn Fn(u32) -> String,
) -> FileView {
    let (raw, i_size, i_disksize, reserved) = {
        let m = ei.mem.borrow();
        let mut raw = m.raw.clone();
        raw.i_flags = m.i_flags & !crate::kernel::state::EXT4_EXT_MIGRATE;
        (raw, m.i_size, m.i_disksize, m.i_reserved_data_blocks)
    };
    let layout = if raw.has_flag(EXT4_INLINE_DATA_FL) {
        "inline"
    } else if raw.has_flag(EXT4_EXTENTS_FL) {
        "extents"
    } else {
        "indirect"
    };
    let mut view = FileView {
        name: ei.name.clone(),
        ino: ei.ino,
        layout,
        i_size,
        i_disksize,
        i_reserved_data_blocks: reserved,
        extents: Vec::new(),
        blocks: Vec::new(),
        error: None,
    };
    if layout != "inline" {
        match fs.walk_mapping(ei.ino, &raw) {
            Ok(own) => {
                view.extents = own
                    .data
                    .iter()
                    .map(|e| ExtentView {
                        lblk: e.ee_block,
                        len: e.ee_len,
                        pblk: e.pblk,
                        unwritten: e.unwritten,
                    })
                    .collect()
            }
            Err(e) => view.error = Some(e.to_string()),
        }
    }
    let pages = ei.mapping.pages.borrow();
    let bsz = bs as u64;
    let mut last = i_size.div_ceil(bsz);
    for e in &view.extents {
        last = last.max(u64::from(e.lblk) + u64::from(e.len));
    }
    if let Some((&i, _)) = pages.iter().next_back() {
        last = last.max(i + 1);
    }
    for lblk in 0..last.min(MAX_BLOCKS) {
        let ext = view
            .extents
            .iter()
            .find(|e| lblk >= u64::from(e.lblk) && lblk < u64::from(e.lblk) + u64::from(e.len));
        let pblk = ext.map(|e| e.pblk + (lblk - u64::from(e.lblk)));
        let unwritten = ext.is_some_and(|e| e.unwritten);
        let page = pages.get(&lblk).map(|p| {
            let mut origins: Vec<u32> = p.prov.iter().copied().filter(|&o| o != 0).collect();
            origins.sort_unstable();
            origins.dedup();
            PageView {
                uptodate: p.uptodate,
                dirty: p.dirty,
                delay: p.bh.delay,
                unwritten: p.bh.unwritten,
                mapped: p.bh.b_blocknr,
                origins: origins.into_iter().map(name_of).collect(),
            }
        });
        let (origin, disk) = match pblk {
            Some(b) => {
                let (o, label) = disk_origin(fs, img, base, b, bs, name_of);
                (o, Some(label))
            }
            None => (None, None),
        };
        let foreign = origin.is_some_and(|o| o != 0 && o != ei.ino);
        let state = match (&pblk, &page) {
            (None, Some(p)) if p.delay => "delalloc",
            (None, Some(p)) if p.dirty => "dirty",
            (None, _) => "hole",
            (Some(_), _) if unwritten => "unwritten",
            (Some(_), _) if foreign => "stale",
            (Some(_), Some(p)) if p.dirty => "dirty",
            (Some(_), _) => "written",
        };
        view.blocks.push(BlockView {
            lblk,
            pblk,
            state,
            unwritten,
            disk,
            page,
        });
    }
    view
}
