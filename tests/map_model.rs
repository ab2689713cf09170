//! Seeded random sequences of map/create/unwritten/convert/punch/truncate
//! on extent trees (and block maps), checked after every step against an
//! in-memory model and against the allocator: the walk must own exactly the
//! blocks the allocator handed out, each once.

use ext4lab::engine::map::mem::MemMapContext;
use ext4lab::engine::map::*;
use ext4lab::engine::Ext4Error;
use std::collections::{BTreeMap, BTreeSet};

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::XorShift64Star;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Extent,
    Indirect,
}

struct Fs {
    kind: Kind,
    ctx: MemMapContext,
    i_block: [u8; 60],
    model: BTreeMap<u32, (u64, bool)>,
    /// Most tree/indirect blocks seen at once.
    max_meta: usize,
}

impl Fs {
    fn new(kind: Kind, bs: u32, nblocks: u64, seed: Option<u32>) -> Fs {
        let mut i_block = [0u8; 60];
        if kind == Kind::Extent {
            ext4_ext_tree_init(&mut i_block);
        }
        Fs {
            kind,
            ctx: MemMapContext::new(bs, nblocks, seed),
            i_block,
            model: BTreeMap::new(),
            max_meta: 0,
        }
    }
    fn map(&mut self, lblk: u32, len: u32, flags: MapFlags) -> Result<MapResult, Ext4Error> {
        match self.kind {
            Kind::Extent => ext4_ext_map_blocks(&mut self.ctx, &mut self.i_block, lblk, len, flags),
            Kind::Indirect => {
                ext4_ind_map_blocks(&mut self.ctx, &mut self.i_block, lblk, len, flags)
            }
        }
    }
    fn remove(&mut self, start: u32, end: u32) -> Result<(), Ext4Error> {
        match self.kind {
            Kind::Extent => ext4_ext_remove_space(&mut self.ctx, &mut self.i_block, start, end),
            Kind::Indirect => ext4_ind_remove_space(&mut self.ctx, &mut self.i_block, start, end),
        }
    }
    fn walk(&mut self) -> Ownership {
        match self.kind {
            Kind::Extent => ext4_ext_walk(&mut self.ctx, &self.i_block).expect("walk"),
            Kind::Indirect => ext4_ind_walk(&mut self.ctx, &self.i_block).expect("walk"),
        }
    }
    fn depth(&self) -> u16 {
        u16::from_le_bytes([self.i_block[6], self.i_block[7]])
    }

    /// Walk == model, and walk's blocks == allocator's blocks, disjoint.
    fn check(&mut self, step: usize) {
        let own = self.walk();
        self.max_meta = self.max_meta.max(own.metadata.len());
        let mut seen = BTreeMap::new();
        let mut owned = BTreeSet::new();
        for e in &own.data {
            assert!(e.ee_len > 0, "step {step}: empty extent");
            if self.kind == Kind::Extent {
                let max = if e.unwritten { 32767 } else { 32768 };
                assert!(e.ee_len <= max, "step {step}: extent too long {e:?}");
            }
            for i in 0..e.ee_len {
                let prev = seen.insert(e.ee_block + i, (e.pblk + i as u64, e.unwritten));
                assert!(
                    prev.is_none(),
                    "step {step}: lblk {} mapped twice",
                    e.ee_block + i
                );
                assert!(
                    owned.insert(e.pblk + i as u64),
                    "step {step}: data block {} owned twice",
                    e.pblk + i as u64
                );
            }
        }
        for m in &own.metadata {
            assert!(owned.insert(*m), "step {step}: tree block {m} owned twice");
        }
        assert_eq!(
            seen, self.model,
            "step {step}: mapping differs from the model"
        );
        assert_eq!(
            owned,
            self.ctx.allocated(),
            "step {step}: owned blocks differ from allocated blocks (leak or loss)"
        );
    }
}

/// Check a MapResult against the model; returns nothing, panics on mismatch.
fn check_lookup(fs: &Fs, lblk: u32, len: u32, r: &MapResult, step: usize) {
    assert_eq!(r.m_lblk, lblk);
    assert!(
        r.m_len >= 1 && r.m_len <= len.max(1),
        "step {step}: m_len {} for len {len}",
        r.m_len
    );
    match r.m_pblk {
        Some(p) => {
            for i in 0..r.m_len {
                assert_eq!(
                    fs.model.get(&(lblk + i)),
                    Some(&(p + i as u64, r.unwritten)),
                    "step {step}: lookup {lblk}+{i} disagrees with the model"
                );
            }
        }
        None => {
            for i in 0..r.m_len {
                assert!(
                    !fs.model.contains_key(&(lblk + i)),
                    "step {step}: hole at {} is mapped",
                    lblk + i
                );
            }
            if r.m_len < len {
                assert!(
                    fs.model.contains_key(&(lblk + r.m_len)),
                    "step {step}: hole ended early at {}",
                    lblk + r.m_len
                );
            }
        }
    }
}

fn run(
    kind: Kind,
    bs: u32,
    seed: u64,
    steps: usize,
    span: u32,
    csum: Option<u32>,
    prefill: u32,
) -> (u16, usize) {
    let mut rng = XorShift64Star(seed);
    let mut fs = Fs::new(kind, bs, 20_000, csum);
    // Fragment free space: every third block is someone else's.
    for b in (1..20_000).step_by(3) {
        let _ = fs.ctx.reserve(b);
    }
    fs.ctx.max_run = 1 + rng.below(4) as u32;
    let mut max_depth = 0;
    // Fragment on purpose: every other logical block, one at a time.
    for lblk in (0..prefill).step_by(2) {
        let r = fs.map(lblk, 1, MapFlags::CREATE).expect("prefill");
        assert!(r.new && r.m_len == 1);
        fs.model.insert(lblk, (r.m_pblk.unwrap(), false));
        if kind == Kind::Extent {
            max_depth = max_depth.max(fs.depth());
        }
    }
    fs.check(0);
    for step in 0..steps {
        let lblk = if rng.below(50) == 0 {
            100_000 + rng.below(1000) as u32
        } else {
            rng.below(span as u64) as u32
        };
        let lim = if rng.below(4) == 0 { 40 } else { 6 };
        let len = 1 + rng.below(lim) as u32;
        match rng.below(10) {
            0 | 1 => {
                let (ib, writes) = (fs.i_block, fs.ctx.writes);
                let r = fs.map(lblk, len, MapFlags::empty()).expect("lookup");
                check_lookup(&fs, lblk, len, &r, step);
                assert_eq!(
                    (ib, writes),
                    (fs.i_block, fs.ctx.writes),
                    "step {step}: a lookup wrote"
                );
            }
            2..=5 => {
                let unwrit = kind == Kind::Extent && rng.below(3) == 0;
                let flags = if unwrit {
                    MapFlags::CREATE | MapFlags::UNWRIT_EXT
                } else {
                    MapFlags::CREATE
                };
                let was = fs.model.get(&lblk).copied();
                let r = fs.map(lblk, len, flags).expect("create");
                let p = r.m_pblk.expect("create maps");
                match was {
                    None => {
                        assert!(r.new, "step {step}: allocation without new");
                        assert_eq!(r.unwritten, unwrit);
                        for i in 0..r.m_len {
                            assert!(
                                fs.model.insert(lblk + i, (p + i as u64, unwrit)).is_none(),
                                "step {step}: allocated over a mapping"
                            );
                        }
                    }
                    Some((wp, wu)) => {
                        assert_eq!(wp, p, "step {step}: create moved a mapped block");
                        if wu && !unwrit {
                            assert!(
                                !r.unwritten && r.new,
                                "step {step}: write into unwritten not converted"
                            );
                            for i in 0..r.m_len {
                                let e = fs.model.get_mut(&(lblk + i)).unwrap();
                                assert_eq!(*e, (p + i as u64, true));
                                e.1 = false;
                            }
                        } else {
                            assert!(!r.new);
                            check_lookup(&fs, lblk, len, &r, step);
                        }
                    }
                }
            }
            6 if kind == Kind::Extent => {
                let r = fs.map(lblk, len, MapFlags::CONVERT).expect("convert");
                if let Some(p) = r.m_pblk {
                    assert!(!r.unwritten);
                    for i in 0..r.m_len {
                        let e = fs.model.get_mut(&(lblk + i)).expect("converted a hole");
                        assert_eq!(e.0, p + i as u64);
                        e.1 = false;
                    }
                }
                check_lookup(&fs, lblk, len, &r, step);
            }
            7 | 8 => {
                let lim = if rng.below(3) == 0 { 200 } else { 10 };
                let end = lblk + rng.below(lim) as u32;
                fs.remove(lblk, end).expect("punch");
                let keys: Vec<u32> = fs.model.range(lblk..=end).map(|(k, _)| *k).collect();
                for k in keys {
                    fs.model.remove(&k);
                }
            }
            _ => {
                if rng.below(8) == 0 {
                    fs.remove(lblk, u32::MAX - 1).expect("truncate");
                    fs.model.retain(|k, _| *k < lblk);
                }
            }
        }
        if kind == Kind::Extent {
            max_depth = max_depth.max(fs.depth());
        }
        if step % 16 == 0 || step + 1 == steps {
            fs.check(step);
        }
    }
    // Truncate to zero frees everything.
    fs.remove(0, u32::MAX - 1).expect("final truncate");
    fs.model.clear();
    fs.check(steps);
    assert!(
        fs.ctx.allocated().is_empty(),
        "blocks leaked after full truncate"
    );
    (max_depth, steps)
}

#[test]
fn extent_random_1k() {
    let mut deepest = 0;
    for seed in 1..=6u64 {
        let (d, _) = run(
            Kind::Extent,
            1024,
            seed * 0x9E37_79B9,
            2000,
            3000,
            None,
            if seed % 2 == 0 { 1200 } else { 0 },
        );
        eprintln!("seed {seed}: max depth {d}");
        deepest = deepest.max(d);
    }
    assert!(
        deepest >= 2,
        "1 KiB extent trees never reached depth 2 (max {deepest})"
    );
}

#[test]
fn extent_random_4k_csum() {
    for seed in 1..=3u64 {
        run(
            Kind::Extent,
            4096,
            seed * 0x1234_5677,
            2000,
            4000,
            Some(0xC0FF_EE00 ^ seed as u32),
            3000,
        );
    }
}

#[test]
fn indirect_random_1k() {
    for seed in 1..=4u64 {
        // 1 KiB blocks: apb 256, DIND from lblk 268, TIND from 65804.
        run(
            Kind::Indirect,
            1024,
            seed * 0x5851_F42D,
            1500,
            3000,
            None,
            if seed % 2 == 0 { 600 } else { 0 },
        );
    }
}

#[test]
fn indirect_random_4k() {
    for seed in 1..=3u64 {
        run(
            Kind::Indirect,
            4096,
            seed * 0x2545_F491,
            1500,
            3000,
            None,
            200,
        );
    }
}

/// Thousands of single-block extents inserted in random order: leaves and
/// non-root index blocks split (the depth-2 root gains entries), every
/// block still maps right, and removing everything in random pieces frees
/// every data and tree block.
#[test]
fn extent_deep_tree_index_splits() {
    let (depth, root_entries) = deep_tree(9000);
    assert_eq!(depth, 2);
    assert!(
        root_entries >= 2,
        "no index block split (root has {root_entries})"
    );
}

/// The same with enough extents for depth 3 (slow in debug builds).
#[test]
#[ignore]
fn extent_depth_3() {
    let (depth, _) = deep_tree(24_000);
    assert!(depth >= 3, "depth only {depth}");
}

/// Returns the deepest depth reached and the root's entry count then.
fn deep_tree(n: u32) -> (u16, u16) {
    let mut rng = XorShift64Star(0x00C0_FFEE);
    let mut fs = Fs::new(Kind::Extent, 1024, 2 * n as u64 + 2000, Some(0x5EED));
    // Logical blocks 0, 2, 4, ... in random order (Fisher-Yates).
    let mut order: Vec<u32> = (0..n).map(|i| i * 2).collect();
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut max_depth = 0;
    for (k, l) in order.iter().enumerate() {
        let r = fs.map(*l, 1, MapFlags::CREATE).expect("create");
        assert!(r.new && r.m_len == 1);
        fs.model.insert(*l, (r.m_pblk.unwrap(), false));
        // Keep neighbours from merging: take the next physical block away.
        let _ = fs.ctx.reserve(r.m_pblk.unwrap() + 1);
        max_depth = max_depth.max(fs.depth());
        if k % 1500 == 0 {
            fs.check(k);
        }
    }
    fs.check(n as usize);
    let root_entries = u16::from_le_bytes([fs.i_block[2], fs.i_block[3]]);
    let own = fs.walk();
    assert_eq!(own.data.len(), n as usize);
    // Random punches until empty.
    let mut steps = 0;
    while !fs.model.is_empty() {
        let l = rng.below(2 * n as u64) as u32;
        let end = l + rng.below(300) as u32;
        fs.remove(l, end).expect("punch");
        let keys: Vec<u32> = fs.model.range(l..=end).map(|(k, _)| *k).collect();
        for k in keys {
            fs.model.remove(&k);
        }
        steps += 1;
        if steps % 20 == 0 {
            fs.check(steps);
        }
        if steps > 400 {
            fs.remove(0, u32::MAX - 1).expect("truncate");
            fs.model.clear();
        }
    }
    fs.check(steps);
    assert_eq!(fs.depth(), 0);
    assert!(fs.ctx.allocated().is_empty());
    (max_depth, root_entries)
}
