//! Corrupt trees and block maps give typed errors naming the inode and
//! block, never a panic or a hang; checksums are verified when seeded.

use ext4lab::engine::map::extent_disk::{write_node, Ent, Node};
use ext4lab::engine::map::mem::MemMapContext;
use ext4lab::engine::map::*;
use ext4lab::engine::{BlockMapCorruption, CorruptKind, Ext4Error, ExtentCorruption};

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::XorShift64Star;

fn node(pblk: Option<u64>, depth: u16, max: u16, entries: Vec<Ent>) -> Node {
    Node {
        pblk,
        eh_max: max,
        eh_depth: depth,
        eh_generation: 0,
        entries,
    }
}
fn idx(lblk: u32, pblk: u64) -> Ent {
    Ent {
        lblk,
        pblk,
        len: 0,
        unwritten: false,
    }
}
fn ext(lblk: u32, pblk: u64, len: u32) -> Ent {
    Ent {
        lblk,
        pblk,
        len,
        unwritten: false,
    }
}

/// Allocate `b` in the context (so writes are allowed) and store `n` in it.
fn put(ctx: &mut MemMapContext, n: &Node) {
    let b = n.pblk.unwrap();
    if !ctx.used[b as usize] {
        ctx.used[b as usize] = true;
    }
    let mut buf = vec![0u8; ctx.block_size as usize];
    write_node(n, &mut buf, ctx.csum_seed);
    *ctx.block_mut(b) = buf;
}

fn root(n: &Node) -> [u8; 60] {
    let mut r = [0u8; 60];
    write_node(n, &mut r, None);
    r
}

fn extent_err(r: Result<impl std::fmt::Debug, Ext4Error>) -> (u64, ExtentCorruption) {
    match r {
        Err(Ext4Error::Corrupt(CorruptKind::Extent { ino, block, why })) => {
            assert_eq!(ino, 12);
            (block, why)
        }
        other => panic!("expected an extent corruption error, got {other:?}"),
    }
}

fn map_err(r: Result<impl std::fmt::Debug, Ext4Error>) -> (u64, BlockMapCorruption) {
    match r {
        Err(Ext4Error::Corrupt(CorruptKind::BlockMap { ino, block, why })) => {
            assert_eq!(ino, 12);
            (block, why)
        }
        other => panic!("expected a block map corruption error, got {other:?}"),
    }
}

#[test]
fn garbage_root_header() {
    let mut ctx = MemMapContext::new(1024, 1000, None);
    let mut ib = [0xA5u8; 60];
    extent_err(ext4_ext_walk(&mut ctx, &ib));
    extent_err(ext4_ext_map_blocks(
        &mut ctx,
        &mut ib,
        0,
        1,
        MapFlags::empty(),
    ));
    extent_err(ext4_ext_map_blocks(
        &mut ctx,
        &mut ib,
        0,
        1,
        MapFlags::CREATE,
    ));
    extent_err(ext4_ext_remove_space(&mut ctx, &mut ib, 0, 10));
    assert!(ctx.allocated().is_empty(), "a failed create must not leak");
}

#[test]
fn entries_over_max_and_bad_max() {
    let mut ctx = MemMapContext::new(1024, 1000, None);
    let mut ib = root(&node(
        None,
        0,
        4,
        vec![ext(0, 10, 1), ext(1, 20, 1), ext(2, 30, 1)],
    ));
    ib[0x2] = 5; // eh_entries 5 > eh_max 4
    let (_, why) = extent_err(ext4_ext_walk(&mut ctx, &ib));
    assert_eq!(
        why,
        ExtentCorruption::EntriesOverMax {
            entries: 5,
            eh_max: 4
        }
    );
    ib[0x2] = 3;
    ib[0x4] = 5; // eh_max larger than the root's space
    let (_, why) = extent_err(ext4_ext_walk(&mut ctx, &ib));
    assert!(
        matches!(why, ExtentCorruption::BadMax { eh_max: 5, .. }),
        "{why}"
    );
    // A block node claiming more entries than a 1 KiB block holds.
    let mut ib = root(&node(None, 1, 4, vec![idx(0, 50)]));
    put(&mut ctx, &node(Some(50), 0, 84, vec![ext(0, 60, 2)]));
    assert!(ext4_ext_walk(&mut ctx, &ib).is_ok());
    ctx.block_mut(50)[0x4] = 81; // less than e2fsprogs' space - 2
    let (b, why) = extent_err(ext4_ext_walk(&mut ctx, &ib));
    assert_eq!(b, 50);
    assert!(
        matches!(why, ExtentCorruption::BadMax { eh_max: 81, .. }),
        "{why}"
    );
    ctx.block_mut(50)[0x4] = 85;
    let (b, why) = extent_err(ext4_ext_map_blocks(
        &mut ctx,
        &mut ib,
        0,
        1,
        MapFlags::empty(),
    ));
    assert_eq!(b, 50);
    assert!(
        matches!(why, ExtentCorruption::BadMax { eh_max: 85, .. }),
        "{why}"
    );
}

#[test]
fn depth_mismatch_and_unsorted() {
    let mut ctx = MemMapContext::new(1024, 1000, None);
    let ib = root(&node(None, 2, 4, vec![idx(0, 50)]));
    // Root says depth 2, so its child must be depth 1; give it depth 0.
    put(&mut ctx, &node(Some(50), 0, 84, vec![ext(0, 60, 2)]));
    let (b, why) = extent_err(ext4_ext_walk(&mut ctx, &ib));
    assert_eq!(b, 50);
    assert_eq!(
        why,
        ExtentCorruption::DepthMismatch {
            depth: 0,
            parent: 1
        }
    );
    // Depth 6 root: past EXT4_MAX_EXTENT_DEPTH.
    let ib = root(&node(None, 6, 4, vec![idx(0, 50)]));
    extent_err(ext4_ext_walk(&mut ctx, &ib));
    // Overlapping extents in a leaf.
    let ib = root(&node(None, 0, 4, vec![ext(0, 10, 5), ext(3, 20, 1)]));
    let (_, why) = extent_err(ext4_ext_walk(&mut ctx, &ib));
    assert_eq!(why, ExtentCorruption::OutOfOrder { index: 1, lblk: 3 });
    // Index key not matching the child's first extent.
    let ib = root(&node(None, 1, 4, vec![idx(7, 50)]));
    put(&mut ctx, &node(Some(50), 0, 84, vec![ext(0, 60, 2)]));
    let (_, why) = extent_err(ext4_ext_walk(&mut ctx, &ib));
    assert_eq!(why, ExtentCorruption::KeyMismatch { lblk: 0, key: 7 });
    // Extents of two leaves overlapping across the leaves.
    let ib = root(&node(None, 1, 4, vec![idx(0, 50), idx(5, 51)]));
    put(&mut ctx, &node(Some(50), 0, 84, vec![ext(0, 60, 10)]));
    put(&mut ctx, &node(Some(51), 0, 84, vec![ext(5, 80, 1)]));
    extent_err(ext4_ext_walk(&mut ctx, &ib));
}

#[test]
fn loops_in_the_tree() {
    let mut ctx = MemMapContext::new(1024, 1000, None);
    // Index block pointing at itself.
    let ib = root(&node(None, 2, 4, vec![idx(0, 50)]));
    put(&mut ctx, &node(Some(50), 1, 84, vec![idx(0, 50)]));
    extent_err(ext4_ext_walk(&mut ctx, &ib));
    // Depth 3: a depth-1 node pointing back at its depth-2 parent.
    let mut ib = root(&node(None, 3, 4, vec![idx(0, 50)]));
    put(&mut ctx, &node(Some(50), 2, 84, vec![idx(0, 51)]));
    put(&mut ctx, &node(Some(51), 1, 84, vec![idx(0, 50)]));
    let (b, why) = extent_err(ext4_ext_walk(&mut ctx, &ib));
    assert_eq!(b, 51, "the walk names the block whose entry loops");
    assert_eq!(why, ExtentCorruption::TreeBlockTwice { block: 50 });
    let (b, why) = extent_err(ext4_ext_map_blocks(
        &mut ctx,
        &mut ib,
        3,
        1,
        MapFlags::CREATE,
    ));
    assert_eq!(b, 50, "a lookup finds the parent where a leaf should be");
    assert!(
        matches!(why, ExtentCorruption::DepthMismatch { .. }),
        "{why}"
    );
    extent_err(ext4_ext_remove_space(&mut ctx, &mut ib, 0, 100));
    // Two index entries sharing one leaf.
    let ib = root(&node(None, 1, 4, vec![idx(0, 52), idx(0, 52)]));
    put(&mut ctx, &node(Some(52), 0, 84, vec![ext(0, 60, 1)]));
    extent_err(ext4_ext_walk(&mut ctx, &ib));
}

#[test]
fn pointers_past_blocks_count() {
    let mut ctx = MemMapContext::new(1024, 1000, None);
    let mut ib = root(&node(None, 0, 4, vec![ext(0, 998, 5)]));
    let (_, why) = extent_err(ext4_ext_map_blocks(
        &mut ctx,
        &mut ib,
        0,
        1,
        MapFlags::empty(),
    ));
    assert!(
        matches!(
            why,
            ExtentCorruption::PastBlocksCount {
                start: 998,
                len: 5,
                blocks_count: 1000,
                ..
            }
        ),
        "{why}"
    );
    let ib = root(&node(None, 1, 4, vec![idx(0, 5000)]));
    extent_err(ext4_ext_walk(&mut ctx, &ib));
    // Block maps: a direct pointer, and a pointer inside the IND block.
    let mut ib = [0u8; 60];
    ib[0..4].copy_from_slice(&5000u32.to_le_bytes());
    map_err(ext4_ind_map_blocks(
        &mut ctx,
        &mut ib,
        0,
        1,
        MapFlags::empty(),
    ));
    map_err(ext4_ind_walk(&mut ctx, &ib));
    let mut ib = [0u8; 60];
    ib[48..52].copy_from_slice(&70u32.to_le_bytes()); // EXT4_IND_BLOCK
    ctx.used[70] = true;
    ctx.block_mut(70)[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let (b, _) = map_err(ext4_ind_map_blocks(
        &mut ctx,
        &mut ib,
        14,
        1,
        MapFlags::empty(),
    ));
    assert_eq!(b, 70);
    map_err(ext4_ind_walk(&mut ctx, &ib));
    map_err(ext4_ind_remove_space(&mut ctx, &mut ib, 0, u32::MAX));
}

#[test]
fn block_map_loops() {
    let mut ctx = MemMapContext::new(1024, 1000, None);
    // DIND block whose first entry (an IND block) is itself.
    let mut ib = [0u8; 60];
    ib[52..56].copy_from_slice(&80u32.to_le_bytes());
    ctx.used[80] = true;
    ctx.block_mut(80)[0..4].copy_from_slice(&80u32.to_le_bytes());
    let (b, why) = map_err(ext4_ind_walk(&mut ctx, &ib));
    assert_eq!(b, 80);
    assert!(
        matches!(why, BlockMapCorruption::IndirectTwice { .. }),
        "{why}"
    );
    // IND block listing itself as data.
    let mut ib = [0u8; 60];
    ib[48..52].copy_from_slice(&81u32.to_le_bytes());
    ctx.used[81] = true;
    ctx.block_mut(81)[0..4].copy_from_slice(&81u32.to_le_bytes());
    map_err(ext4_ind_walk(&mut ctx, &ib));
    // Past the last addressable block.
    let r = ext4_ind_map_blocks(&mut ctx, &mut ib, u32::MAX, 1, MapFlags::CREATE);
    assert!(matches!(r, Err(Ext4Error::FileTooBig)), "{r:?}");
}

#[test]
fn checksums_verify_and_catch_flips() {
    let seed = 0x1234_ABCD;
    let mut ctx = MemMapContext::new(1024, 4000, Some(seed));
    let mut ib = [0u8; 60];
    ext4_ext_tree_init(&mut ib);
    for l in (0..600).step_by(2) {
        let p = ext4_ext_map_blocks(&mut ctx, &mut ib, l, 1, MapFlags::CREATE)
            .unwrap()
            .m_pblk
            .unwrap();
        let _ = ctx.reserve(p + 1);
    }
    let own = ext4_ext_walk(&mut ctx, &ib).expect("a tree written with a seed verifies");
    assert!(own.metadata.len() >= 4);
    // The same tree read without the seed also parses; with another seed it fails.
    ctx.csum_seed = Some(seed ^ 1);
    assert!(matches!(
        ext4_ext_walk(&mut ctx, &ib),
        Err(Ext4Error::Corrupt(CorruptKind::ExtentChecksum { .. }))
    ));
    ctx.csum_seed = Some(seed);
    let leaf = *own.metadata.last().unwrap();
    ctx.block_mut(leaf)[20] ^= 0x40;
    match ext4_ext_walk(&mut ctx, &ib) {
        Err(Ext4Error::Corrupt(CorruptKind::ExtentChecksum { ino: 12, block })) => {
            assert_eq!(block, leaf)
        }
        other => panic!("expected ExtentChecksum, got {other:?}"),
    }
    ctx.block_mut(leaf)[20] ^= 0x40;
    // The tail itself flipped.
    ctx.block_mut(leaf)[1020] ^= 1;
    assert!(matches!(
        ext4_ext_walk(&mut ctx, &ib),
        Err(Ext4Error::Corrupt(CorruptKind::ExtentChecksum { .. }))
    ));
}

/// Random byte flips in a valid depth-2 tree and a valid block map: every
/// call returns (Ok or a typed error), none panics or hangs.
#[test]
fn mutation_fuzz_never_panics() {
    let mut rng = XorShift64Star(0xDEAD_BEEF);
    let mut base = MemMapContext::new(1024, 3000, None);
    let mut eb = [0u8; 60];
    ext4_ext_tree_init(&mut eb);
    let mut ibm = [0u8; 60];
    for l in (0..900).step_by(2) {
        let p = ext4_ext_map_blocks(&mut base, &mut eb, l, 1, MapFlags::CREATE)
            .unwrap()
            .m_pblk
            .unwrap();
        let _ = base.reserve(p + 1);
    }
    for l in (0..700).step_by(3) {
        ext4_ind_map_blocks(&mut base, &mut ibm, l, 1, MapFlags::CREATE).unwrap();
    }
    let depth = u16::from_le_bytes([eb[6], eb[7]]);
    assert!(depth >= 2, "fuzz base tree has depth {depth}");
    let meta: Vec<u64> = ext4_ext_walk(&mut base, &eb)
        .unwrap()
        .metadata
        .into_iter()
        .chain(ext4_ind_walk(&mut base, &ibm).unwrap().metadata)
        .collect();
    let mut errors = 0;
    for _ in 0..400 {
        let mut ctx = base.clone();
        let (mut e, mut i) = (eb, ibm);
        for _ in 0..1 + rng.next() % 4 {
            let r = rng.next();
            match r % 3 {
                0 => e[(r >> 8) as usize % 60] ^= (r >> 16) as u8 | 1,
                1 => i[(r >> 8) as usize % 60] ^= (r >> 16) as u8 | 1,
                _ => {
                    let b = meta[(r >> 8) as usize % meta.len()];
                    let off = (r >> 24) as usize % 1024;
                    ctx.block_mut(b)[off] ^= (r >> 40) as u8 | 1;
                }
            }
        }
        let l = (rng.next() % 1200) as u32;
        errors += ext4_ext_walk(&mut ctx, &e).is_err() as u32;
        errors += ext4_ind_walk(&mut ctx, &i).is_err() as u32;
        let _ = ext4_ext_map_blocks(&mut ctx, &mut e, l, 8, MapFlags::empty());
        let _ = ext4_ind_map_blocks(&mut ctx, &mut i, l, 8, MapFlags::empty());
        let _ = ext4_ext_map_blocks(
            &mut ctx,
            &mut e,
            l,
            8,
            MapFlags::CREATE | MapFlags::UNWRIT_EXT,
        );
        let _ = ext4_ext_map_blocks(&mut ctx, &mut e, l, 8, MapFlags::CONVERT);
        let _ = ext4_ind_map_blocks(&mut ctx, &mut i, l, 8, MapFlags::CREATE);
        let _ = ext4_ext_remove_space(&mut ctx, &mut e, l, l + 50);
        let _ = ext4_ind_remove_space(&mut ctx, &mut i, l, l + 50);
    }
    assert!(errors > 50, "mutations were detected only {errors} times");
}

#[test]
fn block_map_past_32bit_logical_space() {
    // 64 KiB blocks: TIND covers far more than 2^32 logical blocks.
    let bs = 65536u32;
    let a = (bs / 4) as usize;
    let mut ctx = MemMapContext::new(bs, 8, None);
    let mut ib = [0u8; 60];
    ib[56..60].copy_from_slice(&2u32.to_le_bytes()); // EXT4_TIND_BLOCK
    for (blk, next) in [(2u64, 3u32), (3, 4), (4, 5)] {
        ctx.used[blk as usize] = true;
        ctx.block_mut(blk)[(a - 1) * 4..a * 4].copy_from_slice(&next.to_le_bytes());
    }
    ctx.used[5] = true;
    let (_, why) = map_err(ext4_ind_walk(&mut ctx, &ib));
    assert!(
        matches!(why, BlockMapCorruption::LblkPast32Bits { .. }),
        "{why}"
    );
    // Lookups up to the last 32-bit block are fine (a hole here).
    let r = ext4_ind_map_blocks(&mut ctx, &mut ib, u32::MAX - 1, 1, MapFlags::empty()).unwrap();
    assert_eq!(r.m_pblk, None);
}
