//! On-disk encoding details and failure atomicity: the unwritten length
//! encoding and its limits, long runs split into legal extents, ENOSPC in
//! the middle of a split leaving tree and allocator consistent, and the
//! migrate path (block map runs inserted into an extent tree).

use ext4lab::engine::map::extent_disk::{ext4_ext_space_block, ext4_extent_tail_offset};
use ext4lab::engine::map::mem::MemMapContext;
use ext4lab::engine::map::*;
use ext4lab::engine::Ext4Error;
use std::collections::BTreeSet;

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::XorShift64Star;

fn le16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

#[test]
fn tree_init_and_node_geometry() {
    let mut ib = [0xFFu8; 60];
    ext4_ext_tree_init(&mut ib);
    assert_eq!(le16(&ib, 0x0), 0xF30A);
    assert_eq!(le16(&ib, 0x2), 0);
    assert_eq!(le16(&ib, 0x4), 4);
    assert_eq!(le16(&ib, 0x6), 0);
    assert!(ib[8..].iter().all(|b| *b == 0));
    assert_eq!(ext4_ext_space_block(1024), 84);
    assert_eq!(ext4_ext_space_block(4096), 340);
    assert_eq!(ext4_extent_tail_offset(84), 1020);
    assert_eq!(ext4_extent_tail_offset(340), 4092);
}

#[test]
fn unwritten_length_encoding_and_limits() {
    let mut ctx = MemMapContext::new(4096, 200_000, None);
    let mut ib = [0u8; 60];
    ext4_ext_tree_init(&mut ib);
    // One call asks for 70000 unwritten blocks: at most 32767 per extent.
    let r = ext4_ext_map_blocks(
        &mut ctx,
        &mut ib,
        0,
        70_000,
        MapFlags::CREATE | MapFlags::UNWRIT_EXT,
    )
    .unwrap();
    assert_eq!((r.m_len, r.unwritten, r.new), (32767, true, true));
    assert_eq!(
        le16(&ib, 12 + 4),
        32767 + 32768,
        "ee_len of an unwritten extent is len + 32768"
    );
    let r2 = ext4_ext_map_blocks(&mut ctx, &mut ib, 32767, 70_000, MapFlags::CREATE).unwrap();
    assert_eq!((r2.m_len, r2.unwritten), (32768, false));
    assert_eq!(
        le16(&ib, 24 + 4),
        32768,
        "a full initialized extent has ee_len 32768"
    );
    assert_eq!(le32(&ib, 24), 32767, "ee_block");
    assert_eq!(le32(&ib, 24 + 8) as u64, r2.m_pblk.unwrap(), "ee_start_lo");
    // The two are physically contiguous but of different kinds: no merge.
    assert_eq!(r.m_pblk.unwrap() + 32767, r2.m_pblk.unwrap());
    assert_eq!(le16(&ib, 2), 2);
    // Converting the whole unwritten extent cannot merge either (32767 + 32768 > 32768).
    let c = ext4_ext_map_blocks(&mut ctx, &mut ib, 0, 40_000, MapFlags::CONVERT).unwrap();
    assert_eq!((c.m_len, c.unwritten), (32767, false));
    let own = ext4_ext_walk(&mut ctx, &ib).unwrap();
    assert_eq!(own.data.len(), 2);
    assert!(own.data.iter().all(|e| !e.unwritten));
    // Inserting a known 100000-block run makes legal pieces.
    let mut t = [0u8; 60];
    ext4_ext_tree_init(&mut t);
    ext4_ext_insert_extent(
        &mut ctx,
        &mut t,
        Extent {
            ee_block: 5,
            ee_len: 100_000,
            pblk: 70_000,
            unwritten: true,
        },
    )
    .unwrap();
    let own = ext4_ext_walk(&mut ctx, &t).unwrap();
    assert_eq!(
        own.data.iter().map(|e| e.ee_len).collect::<Vec<_>>(),
        vec![32767, 32767, 32767, 1699]
    );
    // Overlapping inserts are refused and change nothing.
    let before = t;
    let r = ext4_ext_insert_extent(
        &mut ctx,
        &mut t,
        Extent {
            ee_block: 50,
            ee_len: 1,
            pblk: 5,
            unwritten: false,
        },
    );
    assert!(matches!(r, Err(Ext4Error::Invalid(_))), "{r:?}");
    let r = ext4_ext_insert_extent(
        &mut ctx,
        &mut t,
        Extent {
            ee_block: 0,
            ee_len: 6,
            pblk: 5,
            unwritten: false,
        },
    );
    assert!(matches!(r, Err(Ext4Error::Invalid(_))), "{r:?}");
    assert_eq!(t, before);
    // The last logical block.
    let r = ext4_ext_map_blocks(&mut ctx, &mut t, u32::MAX, 1, MapFlags::CREATE);
    assert!(matches!(r, Err(Ext4Error::FileTooBig)), "{r:?}");
    let r = ext4_ext_map_blocks(&mut ctx, &mut t, u32::MAX - 1, 10, MapFlags::CREATE).unwrap();
    assert_eq!(r.m_len, 1);
}

#[test]
fn convert_splits_in_three_and_merges_back() {
    let mut ctx = MemMapContext::new(1024, 1000, None);
    let mut ib = [0u8; 60];
    ext4_ext_tree_init(&mut ib);
    let r = ext4_ext_map_blocks(
        &mut ctx,
        &mut ib,
        10,
        20,
        MapFlags::CREATE | MapFlags::UNWRIT_EXT,
    )
    .unwrap();
    let p = r.m_pblk.unwrap();
    let c = ext4_ext_map_blocks(&mut ctx, &mut ib, 15, 5, MapFlags::CONVERT).unwrap();
    assert_eq!(
        (c.m_pblk, c.m_len, c.unwritten, c.new),
        (Some(p + 5), 5, false, false)
    );
    let own = ext4_ext_walk(&mut ctx, &ib).unwrap();
    let shape: Vec<_> = own
        .data
        .iter()
        .map(|e| (e.ee_block, e.ee_len, e.unwritten))
        .collect();
    assert_eq!(shape, vec![(10, 5, true), (15, 5, false), (20, 10, true)]);
    // A write (CREATE without UNWRIT_EXT) into the rest converts it, with `new`.
    let w = ext4_ext_map_blocks(&mut ctx, &mut ib, 10, 5, MapFlags::CREATE).unwrap();
    assert_eq!(
        (w.m_pblk, w.m_len, w.unwritten, w.new),
        (Some(p), 5, false, true)
    );
    let w = ext4_ext_map_blocks(&mut ctx, &mut ib, 20, 100, MapFlags::CREATE).unwrap();
    assert_eq!((w.m_len, w.new), (10, true));
    let own = ext4_ext_walk(&mut ctx, &ib).unwrap();
    let shape: Vec<_> = own
        .data
        .iter()
        .map(|e| (e.ee_block, e.ee_len, e.unwritten))
        .collect();
    assert_eq!(
        shape,
        vec![(10, 20, false)],
        "converted pieces merge back into one extent"
    );
    // Punch the middle: two extents, the blocks in between freed.
    ext4_ext_remove_space(&mut ctx, &mut ib, 12, 17).unwrap();
    let own = ext4_ext_walk(&mut ctx, &ib).unwrap();
    let shape: Vec<_> = own
        .data
        .iter()
        .map(|e| (e.ee_block, e.ee_len, e.pblk))
        .collect();
    assert_eq!(shape, vec![(10, 2, p), (18, 12, p + 8)]);
    assert_eq!(ctx.allocated().len(), 14);
    // Lookups in the hole report its length.
    let h = ext4_ext_map_blocks(&mut ctx, &mut ib, 12, 100, MapFlags::empty()).unwrap();
    assert_eq!((h.m_pblk, h.m_len), (None, 6));
    let h = ext4_ext_map_blocks(&mut ctx, &mut ib, 40, 100, MapFlags::empty()).unwrap();
    assert_eq!((h.m_pblk, h.m_len), (None, 100));
}

/// Allocation goals: the next block after the previous logical block's
/// mapping (extents and block maps), and 0 (the fs chooses) for an empty map.
#[test]
fn allocation_goals() {
    for extents in [true, false] {
        let mut ctx = MemMapContext::new(1024, 5000, None);
        let mut ib = [0u8; 60];
        if extents {
            ext4_ext_tree_init(&mut ib);
        }
        let map = |ctx: &mut MemMapContext, ib: &mut [u8; 60], l: u32, n: u32| {
            if extents {
                ext4_ext_map_blocks(ctx, ib, l, n, MapFlags::CREATE).unwrap()
            } else {
                ext4_ind_map_blocks(ctx, ib, l, n, MapFlags::CREATE).unwrap()
            }
        };
        let a = map(&mut ctx, &mut ib, 0, 4);
        assert_eq!(
            (a.m_pblk, a.m_len),
            (Some(1), 4),
            "empty map: the allocator's first choice"
        );
        // Someone else takes 5..9; the next write continues after them.
        for b in 5..10 {
            assert!(ctx.reserve(b));
        }
        let b = map(&mut ctx, &mut ib, 4, 2);
        assert_eq!(b.m_pblk, Some(10));
        // A hole far away, after a mapping at 100 -> goal follows it.
        let c = map(&mut ctx, &mut ib, 100, 1);
        let d = map(&mut ctx, &mut ib, 101, 3);
        assert_eq!(d.m_pblk, Some(c.m_pblk.unwrap() + 1));
    }
}

/// ENOSPC at every possible point of a growing tree / block map: the call
/// fails, the map is unchanged, and no block leaks.
#[test]
fn enospc_is_atomic() {
    for extents in [true, false] {
        for budget in 0..40u64 {
            let mut ctx = MemMapContext::new(1024, 3000, None);
            for b in (2..3000).step_by(2) {
                let _ = ctx.reserve(b);
            }
            let mut ib = [0u8; 60];
            if extents {
                ext4_ext_tree_init(&mut ib);
            }
            // Fill to just before the first split, then cap the budget.
            let pre = if extents { 84 + 3 } else { 12 + 255 };
            for l in 0..pre {
                let r = if extents {
                    ext4_ext_map_blocks(&mut ctx, &mut ib, l * 2, 1, MapFlags::CREATE)
                } else {
                    ext4_ind_map_blocks(&mut ctx, &mut ib, l, 1, MapFlags::CREATE)
                };
                r.unwrap();
            }
            ctx.alloc_budget = Some(budget % 5);
            let mut failures = 0;
            for k in 0..(budget / 5 + 3) as u32 {
                let before_ib = ib;
                let before_alloc: BTreeSet<u64> = ctx.allocated();
                let l = if extents {
                    pre * 2 + 100 + k * 3
                } else {
                    pre + 100_000 * k
                };
                let r = if extents {
                    ext4_ext_map_blocks(&mut ctx, &mut ib, l, 1, MapFlags::CREATE)
                } else {
                    ext4_ind_map_blocks(&mut ctx, &mut ib, l, 1, MapFlags::CREATE)
                };
                match r {
                    Ok(m) => assert!(m.new),
                    Err(Ext4Error::NoSpace) => {
                        failures += 1;
                        assert_eq!(ib, before_ib, "a failed allocation changed i_block");
                        assert_eq!(
                            ctx.allocated(),
                            before_alloc,
                            "a failed allocation leaked blocks"
                        );
                    }
                    Err(e) => panic!("unexpected {e:?}"),
                }
                let own = if extents {
                    ext4_ext_walk(&mut ctx, &ib)
                } else {
                    ext4_ind_walk(&mut ctx, &ib)
                }
                .unwrap();
                let mut owned: BTreeSet<u64> = own.metadata.iter().copied().collect();
                for e in &own.data {
                    owned.extend(e.pblk..e.pblk + e.ee_len as u64);
                }
                assert_eq!(
                    owned,
                    ctx.allocated(),
                    "budget {budget}: ownership after ENOSPC"
                );
            }
            assert!(
                failures > 0 || budget % 5 >= 3,
                "budget {budget} never hit ENOSPC"
            );
        }
    }
}

/// EXT4_IOC_MIGRATE's core on random sparse block maps: the walk's runs,
/// inserted into a fresh extent tree, map every block the same way; then
/// the old indirect blocks are freed and nothing else is owned twice.
#[test]
fn migrate_block_map_to_extents() {
    for seed in 1..=5u64 {
        let mut rng = XorShift64Star(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut ctx = MemMapContext::new(1024, 30_000, None);
        ctx.max_run = 1 + (seed as u32 % 3);
        let mut ib = [0u8; 60];
        for _ in 0..400 {
            let l = (rng.next() % 70_500) as u32;
            let n = 1 + (rng.next() % 30) as u32;
            ext4_ind_map_blocks(&mut ctx, &mut ib, l, n, MapFlags::CREATE).unwrap();
        }
        let ind = ext4_ind_walk(&mut ctx, &ib).unwrap();
        let mut tmp = [0u8; 60];
        ext4_ext_tree_init(&mut tmp);
        for e in &ind.data {
            ext4_ext_insert_extent(&mut ctx, &mut tmp, *e).unwrap();
        }
        for b in &ind.metadata {
            ctx.free_blocks(*b, 1).unwrap();
        }
        let ext = ext4_ext_walk(&mut ctx, &tmp).unwrap();
        assert_eq!(ext.data, ind.data, "seed {seed}");
        assert!(u16::from_le_bytes([tmp[6], tmp[7]]) >= 1);
        let mut owned: BTreeSet<u64> = ext.metadata.iter().copied().collect();
        for e in &ext.data {
            for b in e.pblk..e.pblk + e.ee_len as u64 {
                assert!(owned.insert(b), "block {b} owned twice");
            }
        }
        assert_eq!(owned, ctx.allocated());
        // Lookups agree block by block on a sample.
        for _ in 0..300 {
            let l = (rng.next() % 71_000) as u32;
            let a = ext4_ind_map_blocks(&mut ctx, &mut ib, l, 1, MapFlags::empty());
            let b = ext4_ext_map_blocks(&mut ctx, &mut tmp, l, 1, MapFlags::empty()).unwrap();
            // The block map's indirect blocks were freed above, but their
            // contents are still in memory, so the old map still reads.
            assert_eq!(a.unwrap().m_pblk, b.m_pblk, "lblk {l}");
        }
    }
}

#[test]
fn convert_unwritten_range_skips_holes_and_written() {
    let mut ctx = MemMapContext::new(1024, 2000, None);
    let mut ib = [0u8; 60];
    ext4_ext_tree_init(&mut ib);
    let u = MapFlags::CREATE | MapFlags::UNWRIT_EXT;
    ext4_ext_map_blocks(&mut ctx, &mut ib, 0, 10, u).unwrap();
    ext4_ext_map_blocks(&mut ctx, &mut ib, 10, 5, MapFlags::CREATE).unwrap();
    ext4_ext_map_blocks(&mut ctx, &mut ib, 30, 10, u).unwrap();
    // 5..35: 5 unwritten, 5 written, a hole of 15, 5 unwritten.
    let n = ext4_convert_unwritten_extents(&mut ctx, &mut ib, 5, 30).unwrap();
    assert_eq!(n, 10);
    let own = ext4_ext_walk(&mut ctx, &ib).unwrap();
    let shape: Vec<_> = own
        .data
        .iter()
        .map(|e| (e.ee_block, e.ee_len, e.unwritten))
        .collect();
    assert_eq!(
        shape,
        vec![(0, 5, true), (5, 10, false), (30, 5, false), (35, 5, true)]
    );
}
