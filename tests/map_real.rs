#![cfg(not(target_arch = "wasm32"))]
//! Extent trees and block maps of real images, with e2fsprogs as the judge:
//! images made by mkfs.ext4 and filled by debugfs are read with our walk and
//! lookups and compared with debugfs's own view (`stat`'s EXTENTS/BLOCKS
//! list); trees and maps we write into an image (blocks marked with
//! `setb`, `i_block` set with `sif`) must pass `e2fsck -fn`.

use ext4lab::engine::csum::ext4_chksum;
use ext4lab::engine::map::*;
use ext4lab::engine::{CorruptKind, Ext4Error};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Command;

#[path = "common/xorshift.rs"]
mod xorshift;
use xorshift::XorShift64Star;

#[path = "common/e2fsprogs.rs"]
mod e2fsprogs;

fn mkfs(path: &Path, opts: &[&str], size: &str) {
    e2fsprogs::mkfs_ext4(
        path,
        opts,
        Some(size),
        &[("MKE2FS_CONFIG", "/etc/mke2fs.conf")],
    );
}

/// Run debugfs commands (one per line) from a command file.
fn debugfs_w(img: &Path, cmds: &[String]) -> String {
    e2fsprogs::debugfs_f(img, &["-w"], &(cmds.join("\n") + "\n"), &[]).1
}

fn debugfs_r(img: &Path, cmd: &str) -> String {
    String::from_utf8_lossy(&e2fsprogs::debugfs(img, cmd)).into_owned()
}

/// The superblock facts block mapping needs, and the checksum seed base.
struct Sb {
    bs: u32,
    blocks_count: u64,
    csum_seed: Option<u32>,
}

fn read_sb(img: &Path) -> Sb {
    let mut f = File::open(img).unwrap();
    let mut sb = [0u8; 1024];
    f.seek(SeekFrom::Start(1024)).unwrap();
    f.read_exact(&mut sb).unwrap();
    let le32 = |o: usize| u32::from_le_bytes(sb[o..o + 4].try_into().unwrap());
    assert_eq!(u16::from_le_bytes([sb[0x38], sb[0x39]]), 0xEF53);
    let bs = 1024u32 << le32(0x18);
    let incompat = le32(0x60);
    let hi = if incompat & 0x80 != 0 {
        le32(0x150) as u64
    } else {
        0
    };
    let blocks_count = (hi << 32) | le32(0x4) as u64;
    let ro_compat = le32(0x64);
    let csum_seed = (ro_compat & 0x400 != 0).then(|| {
        if incompat & 0x2000 != 0 {
            le32(0x270)
        } else {
            ext4_chksum(!0, &sb[0x68..0x78])
        }
    });
    Sb {
        bs,
        blocks_count,
        csum_seed,
    }
}

/// An inode as debugfs sees it: number, i_block, and the seed of its
/// extent block checksums (`ext4_iget`'s `i_csum_seed`).
struct Ino {
    ino: u32,
    i_block: [u8; 60],
    seed: Option<u32>,
}

fn inode(img: &Path, sb: &Sb, name: &str) -> Ino {
    let dump = debugfs_r(img, &format!("inode_dump {name}"));
    let mut raw = vec![0u8; 256];
    let mut last: Option<(usize, Vec<u8>)> = None;
    let mut pending_star = false;
    for line in dump.lines() {
        if line.trim() == "*" {
            pending_star = true;
            continue;
        }
        let mut it = line.split_whitespace();
        let Some(off) = it.next().and_then(|o| usize::from_str_radix(o, 8).ok()) else {
            continue;
        };
        if pending_star {
            if let Some((lo, bytes)) = &last {
                let mut o = lo + 16;
                while o < off && o + 16 <= raw.len() {
                    raw[o..o + 16].copy_from_slice(bytes);
                    o += 16;
                }
            }
            pending_star = false;
        }
        let mut bytes = Vec::new();
        for g in it.take(8) {
            if g.len() != 4 {
                break;
            }
            bytes.push(u8::from_str_radix(&g[0..2], 16).unwrap());
            bytes.push(u8::from_str_radix(&g[2..4], 16).unwrap());
        }
        if bytes.len() == 16 && off + 16 <= raw.len() {
            raw[off..off + 16].copy_from_slice(&bytes);
            last = Some((off, bytes));
        }
    }
    let stat = debugfs_r(img, &format!("stat {name}"));
    let ino: u32 = stat
        .split_whitespace()
        .skip_while(|w| *w != "Inode:")
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no inode number for {name}: {stat}"));
    let mut i_block = [0u8; 60];
    i_block.copy_from_slice(&raw[0x28..0x28 + 60]);
    let gen = &raw[0x64..0x68];
    let seed = sb
        .csum_seed
        .map(|s| ext4_chksum(ext4_chksum(s, &ino.to_le_bytes()), gen));
    Ino { ino, i_block, seed }
}

/// debugfs's view from `stat`: logical -> (physical, unwritten), and the
/// tree / indirect blocks (ETBn, IND, DIND, TIND).
fn expected(img: &Path, name: &str) -> (BTreeMap<u32, (u64, bool)>, BTreeSet<u64>) {
    let stat = debugfs_r(img, &format!("stat {name}"));
    let mut map = BTreeMap::new();
    let mut meta = BTreeSet::new();
    let mut on = false;
    for line in stat.lines() {
        if line.starts_with("EXTENTS:") || line.starts_with("BLOCKS:") {
            on = true;
            continue;
        }
        if !on || line.starts_with("TOTAL") || line.trim().is_empty() {
            continue;
        }
        for tok in line.split(", ") {
            let tok = tok.trim();
            let (label, phys) = tok
                .split_once("):")
                .unwrap_or_else(|| panic!("bad token {tok:?}"));
            let label = label.trim_start_matches('(');
            let range = |s: &str| -> (u64, u64) {
                match s.split_once('-') {
                    Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                    None => (s.parse().unwrap(), s.parse().unwrap()),
                }
            };
            if label.starts_with("ETB") || label.ends_with("IND") {
                meta.insert(phys.parse().unwrap());
                continue;
            }
            let unwritten = label.ends_with("[u]");
            let (l0, l1) = range(label.trim_end_matches("[u]"));
            let (p0, p1) = range(phys);
            assert_eq!(l1 - l0, p1 - p0, "token {tok}");
            for i in 0..=(l1 - l0) {
                map.insert((l0 + i) as u32, (p0 + i, unwritten));
            }
        }
    }
    (map, meta)
}

/// A MapContext over an image file. Allocation draws from `pool` (free
/// blocks debugfs reported) and everything it hands out or takes back is
/// recorded so the test can mark it in the bitmaps.
struct FileCtx {
    f: File,
    bs: u32,
    blocks_count: u64,
    ino: u32,
    seed: Option<u32>,
    pool: BTreeSet<u64>,
    /// Handed out since the last `commit` (to be marked with setb).
    allocated: BTreeSet<u64>,
    /// Taken back since the last `commit` (to be cleared with freeb).
    freed: BTreeSet<u64>,
    /// Handed out and marked by an earlier `commit`.
    committed: BTreeSet<u64>,
}

impl FileCtx {
    fn open(img: &Path, sb: &Sb, ino: &Ino) -> FileCtx {
        let f = OpenOptions::new().read(true).write(true).open(img).unwrap();
        FileCtx {
            f,
            bs: sb.bs,
            blocks_count: sb.blocks_count,
            ino: ino.ino,
            seed: ino.seed,
            pool: BTreeSet::new(),
            allocated: BTreeSet::new(),
            freed: BTreeSet::new(),
            committed: BTreeSet::new(),
        }
    }
}

impl MapContext for FileCtx {
    fn block_size(&self) -> u32 {
        self.bs
    }
    fn blocks_count(&self) -> u64 {
        self.blocks_count
    }
    fn ino(&self) -> u32 {
        self.ino
    }
    fn inode_csum_seed(&self) -> Option<u32> {
        self.seed
    }
    fn read_block(&mut self, pblk: u64, buf: &mut [u8]) -> ext4lab::engine::Result<()> {
        self.f.seek(SeekFrom::Start(pblk * self.bs as u64)).unwrap();
        self.f
            .read_exact(buf)
            .map_err(|e| Ext4Error::Invalid(e.to_string()))
    }
    fn write_block(&mut self, pblk: u64, buf: &[u8]) -> ext4lab::engine::Result<()> {
        self.f.seek(SeekFrom::Start(pblk * self.bs as u64)).unwrap();
        self.f
            .write_all(buf)
            .map_err(|e| Ext4Error::Invalid(e.to_string()))
    }
    fn alloc_blocks(
        &mut self,
        goal: u64,
        count: u32,
        _metadata: bool,
    ) -> ext4lab::engine::Result<(u64, u32)> {
        let first = self
            .pool
            .range(goal..)
            .next()
            .or_else(|| self.pool.iter().next())
            .copied()
            .ok_or(Ext4Error::NoSpace)?;
        let mut n = 0;
        while n < count && self.pool.remove(&(first + n as u64)) {
            self.allocated.insert(first + n as u64);
            self.freed.remove(&(first + n as u64));
            n += 1;
        }
        Ok((first, n))
    }
    fn free_blocks(&mut self, pblk: u64, count: u32) -> ext4lab::engine::Result<()> {
        for b in pblk..pblk + count as u64 {
            if !self.allocated.remove(&b) {
                self.committed.remove(&b);
                self.freed.insert(b);
            }
            self.pool.insert(b);
        }
        Ok(())
    }
}

fn walk(ctx: &mut FileCtx, i_block: &[u8; 60], extents: bool) -> Ownership {
    if extents {
        ext4_ext_walk(ctx, i_block).expect("walk")
    } else {
        ext4_ind_walk(ctx, i_block).expect("walk")
    }
}

/// Walk and per-block lookups agree with debugfs.
fn compare(img: &Path, sb: &Sb, name: &str, extents: bool) -> (usize, usize) {
    let ino = inode(img, sb, name);
    let (want, want_meta) = expected(img, name);
    assert!(!want.is_empty(), "{name}: debugfs lists no blocks");
    let mut ctx = FileCtx::open(img, sb, &ino);
    let own = walk(&mut ctx, &ino.i_block, extents);
    let mut got = BTreeMap::new();
    for e in &own.data {
        for i in 0..e.ee_len {
            got.insert(e.ee_block + i, (e.pblk + i as u64, e.unwritten));
        }
    }
    assert_eq!(got, want, "{name}: walk differs from debugfs");
    let meta: BTreeSet<u64> = own.metadata.iter().copied().collect();
    assert_eq!(meta, want_meta, "{name}: tree blocks differ from debugfs");
    // Lookups, block by block up to past the end, with long requests.
    let end = want.keys().next_back().copied().unwrap_or(0) + 3;
    let mut ib = ino.i_block;
    let mut l = 0u32;
    while l <= end {
        let r = if extents {
            ext4_ext_map_blocks(&mut ctx, &mut ib, l, 64, MapFlags::empty())
        } else {
            ext4_ind_map_blocks(&mut ctx, &mut ib, l, 64, MapFlags::empty())
        }
        .unwrap();
        for i in 0..r.m_len {
            let w = want.get(&(l + i)).copied();
            assert_eq!(
                r.m_pblk.map(|p| (p + i as u64, r.unwritten)),
                w,
                "{name}: lookup of {}",
                l + i
            );
        }
        l += r.m_len.max(1);
    }
    assert_eq!(ib, ino.i_block, "a lookup changed i_block");
    (own.data.len(), own.metadata.len())
}

/// `frag`: interleave with 1-block files then remove every other one, so
/// the big file written last lands in single-block holes.
fn fill(img: &Path, dir: &Path, extents: bool) {
    let one = dir.join("one");
    std::fs::write(&one, vec![0x11u8; 1024]).unwrap();
    let big = dir.join("big");
    std::fs::write(
        &big,
        (0..700 * 1024)
            .map(|i| (i % 251) as u8 | 1)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    // A sparse file: data at 0, 500 and (for block maps) in TIND range.
    let sparse = dir.join("sparse");
    let mut f = File::create(&sparse).unwrap();
    for (blk, n) in [(0u64, 3usize), (500, 2), (70_000, 1), (70_300, 4)] {
        f.seek(SeekFrom::Start(blk * 1024)).unwrap();
        f.write_all(&vec![0xA5u8; n * 1024]).unwrap();
    }
    drop(f);
    let mut cmds = Vec::new();
    for i in 0..800 {
        cmds.push(format!("write {} s{i}", one.display()));
    }
    for i in (0..800).step_by(2) {
        cmds.push(format!("rm s{i}"));
    }
    cmds.push(format!("write {} frag", big.display()));
    cmds.push(format!("write {} sparse", sparse.display()));
    cmds.push(format!("write {} small", one.display()));
    if extents {
        cmds.push("write /dev/null fa".into());
        cmds.push("fallocate fa 10 40".into());
        cmds.push("fallocate fa 100 100".into());
        cmds.push(format!("write {} mixed", big.display()));
        cmds.push("punch mixed 100 199".into());
        cmds.push("fallocate mixed 120 150".into());
    }
    debugfs_w(img, &cmds);
}

#[test]
fn real_extent_trees_read() {
    let dir = tempfile::tempdir().unwrap();
    for bs in ["1024", "4096"] {
        let img = dir.path().join(format!("ext4-{bs}.img"));
        mkfs(&img, &["-b", bs, "-O", "metadata_csum,extent"], "24M");
        fill(&img, dir.path(), true);
        let sb = read_sb(&img);
        assert!(sb.csum_seed.is_some(), "mkfs made no metadata_csum image");
        let (n, m) = compare(&img, &sb, "frag", true);
        // 400 single-block holes, then contiguous space: about 400 extents
        // with 1 KiB blocks; with 4 KiB every block of the file is one.
        let min = if bs == "1024" { 380 } else { 150 };
        assert!(n >= min, "frag has only {n} extents");
        if bs == "1024" {
            assert!(m >= 5, "frag's tree has only {m} blocks (want depth 2)");
        }
        compare(&img, &sb, "sparse", true);
        compare(&img, &sb, "small", true);
        compare(&img, &sb, "fa", true);
        compare(&img, &sb, "mixed", true);
        let fa = expected(&img, "fa").0;
        assert!(fa.values().all(|v| v.1), "fallocated blocks are unwritten");
        // A flipped byte in a tree block is a checksum error.
        let ino = inode(&img, &sb, "frag");
        let leaf = *walk(&mut FileCtx::open(&img, &sb, &ino), &ino.i_block, true)
            .metadata
            .last()
            .unwrap();
        let copy = dir.path().join("flip.img");
        std::fs::copy(&img, &copy).unwrap();
        let mut f = OpenOptions::new()
            .write(true)
            .read(true)
            .open(&copy)
            .unwrap();
        let off = leaf * sb.bs as u64 + 40;
        let mut b = [0u8; 1];
        f.seek(SeekFrom::Start(off)).unwrap();
        f.read_exact(&mut b).unwrap();
        f.seek(SeekFrom::Start(off)).unwrap();
        f.write_all(&[b[0] ^ 0x10]).unwrap();
        drop(f);
        let mut ctx = FileCtx::open(&copy, &sb, &ino);
        match ext4_ext_walk(&mut ctx, &ino.i_block) {
            Err(Ext4Error::Corrupt(CorruptKind::ExtentChecksum { block, .. })) => {
                assert_eq!(block, leaf)
            }
            other => panic!("expected a checksum error, got {other:?}"),
        }
    }
}

#[test]
fn real_block_maps_read() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("ext3.img");
    mkfs(
        &img,
        &[
            "-b",
            "1024",
            "-O",
            "^extent,^flex_bg,^64bit,^metadata_csum",
            "-t",
            "ext3",
        ],
        "24M",
    );
    fill(&img, dir.path(), false);
    let sb = read_sb(&img);
    let (n, m) = compare(&img, &sb, "frag", false);
    assert!(n > 300 && m >= 3, "frag: {n} runs, {m} indirect blocks");
    let (_, m) = compare(&img, &sb, "sparse", false);
    assert!(m >= 6, "sparse reaches TIND: {m} indirect blocks");
    compare(&img, &sb, "small", false);
}

/// The e2fsck problems left after ignoring the group summary counts (our
/// test marks blocks with setb/freeb, which does not update the counts) and
/// the "could be narrower/shorter" hints (PR_NOT_A_FIX optimisations that
/// e2fsck also offers for trees the kernel leaves after punching holes).
fn e2fsck_problems(img: &Path) -> Vec<String> {
    let out = Command::new(e2fsprogs::tool("e2fsck"))
        .args(["-fn", img.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .map(str::trim)
        .filter(|l| {
            !(l.is_empty()
                || l.starts_with("Pass ")
                || l.starts_with("Fix? no")
                || l.starts_with("Free blocks count wrong")
                || (l.contains("could be narrower") || l.contains("could be shorter"))
                    && l.ends_with("Optimize? no")
                || l.contains("WARNING: Filesystem still has errors")
                || l.contains(" files (")
                || l.starts_with("e2fsck "))
        })
        .map(String::from)
        .collect()
}

/// Store `i_block`, size and i_blocks with debugfs, and mark in the block
/// bitmap what our allocator handed out and took back.
fn commit(
    img: &Path,
    name: &str,
    ctx: &mut FileCtx,
    i_block: &[u8; 60],
    size: u64,
    blocks: u64,
    extra: &[String],
) {
    let mut cmds: Vec<String> = extra.to_vec();
    for i in 0..15 {
        let v = u32::from_le_bytes(i_block[i * 4..i * 4 + 4].try_into().unwrap());
        let field = match i {
            12 => "IND".to_string(),
            13 => "DIND".to_string(),
            14 => "TIND".to_string(),
            _ => i.to_string(),
        };
        cmds.push(format!("sif {name} block[{field}] {v}"));
    }
    cmds.push(format!("sif {name} size {size}"));
    cmds.push(format!(
        "sif {name} blocks {}",
        blocks * ctx.bs as u64 / 512
    ));
    for b in &ctx.allocated {
        cmds.push(format!("setb {b}"));
    }
    for b in &ctx.freed {
        cmds.push(format!("freeb {b}"));
    }
    debugfs_w(img, &cmds);
    let newly = std::mem::take(&mut ctx.allocated);
    ctx.committed.extend(newly);
    ctx.freed.clear();
}

fn free_pool(img: &Path, from: u64, n: usize) -> BTreeSet<u64> {
    let out = debugfs_r(img, &format!("ffb {n} {from}"));
    out.split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// Writes judged by e2fsck: a fragmented extent tree grown to depth 2 by
/// our allocation path (with unwritten extents, conversions, punches and a
/// truncate), written into a metadata_csum image.
#[test]
fn real_extent_writes_pass_e2fsck() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("w.img");
    mkfs(&img, &["-b", "1024", "-O", "metadata_csum,extent"], "32M");
    debugfs_w(&img, &["write /dev/null w".into()]);
    let sb = read_sb(&img);
    let ino = inode(&img, &sb, "w");
    let mut ctx = FileCtx::open(&img, &sb, &ino);
    // Every other free block from 6000 on: each allocation is one block.
    ctx.pool = free_pool(&img, 6000, 4000)
        .into_iter()
        .filter(|b| b % 2 == 0)
        .collect();
    assert!(ctx.pool.len() > 1500);
    let mut ib = ino.i_block;
    let mut model: BTreeMap<u32, bool> = BTreeMap::new();
    for l in 0..900u32 {
        let flags = if l % 5 == 0 {
            MapFlags::CREATE | MapFlags::UNWRIT_EXT
        } else {
            MapFlags::CREATE
        };
        let r = ext4_ext_map_blocks(&mut ctx, &mut ib, l, 1, flags).unwrap();
        assert!(r.new);
        model.insert(l, l % 5 == 0);
    }
    let depth = u16::from_le_bytes([ib[6], ib[7]]);
    assert!(depth >= 2, "depth {depth}");
    // Convert some unwritten blocks, punch holes, truncate the tail.
    for l in (0..300).step_by(10) {
        ext4_ext_map_blocks(&mut ctx, &mut ib, l, 1, MapFlags::CONVERT).unwrap();
        model.insert(l, false);
    }
    ext4_ext_remove_space(&mut ctx, &mut ib, 400, 520).unwrap();
    ext4_ext_remove_space(&mut ctx, &mut ib, 7, 7).unwrap();
    ext4_ext_truncate(&mut ctx, &mut ib, 850).unwrap();
    model.retain(|l, _| !(400..=520).contains(l) && *l != 7 && *l < 850);
    let own = ext4_ext_walk(&mut ctx, &ib).unwrap();
    let nblocks = own.data.iter().map(|e| e.ee_len as u64).sum::<u64>() + own.metadata.len() as u64;
    assert_eq!(
        nblocks,
        ctx.allocated.len() as u64,
        "walk owns exactly what was allocated"
    );
    commit(&img, "w", &mut ctx, &ib, 850 * 1024, nblocks, &[]);
    let problems = e2fsck_problems(&img);
    assert!(problems.is_empty(), "e2fsck found: {problems:#?}");
    // And debugfs reads back the same mapping.
    let (want, _) = expected(&img, "w");
    let got: BTreeMap<u32, bool> = want.iter().map(|(l, v)| (*l, v.1)).collect();
    assert_eq!(got, model);
}

/// Block maps written by us (allocation into holes up to TIND, punch and
/// truncate), then EXT4_IOC_MIGRATE's core: the map's runs inserted into a
/// fresh extent tree, the indirect blocks freed. e2fsck judges both.
#[test]
fn real_block_map_writes_and_migrate_pass_e2fsck() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("m.img");
    mkfs(
        &img,
        &["-b", "1024", "-O", "^extent,^flex_bg,^64bit"],
        "32M",
    );
    debugfs_w(&img, &["write /dev/null m".into()]);
    let sb = read_sb(&img);
    let ino = inode(&img, &sb, "m");
    let mut ctx = FileCtx::open(&img, &sb, &ino);
    ctx.pool = free_pool(&img, 6000, 6000)
        .into_iter()
        .filter(|b| b % 3 != 0)
        .collect();
    let mut ib = ino.i_block;
    let mut l = 0u32;
    let mut runs = 0;
    for target in [
        (0u32, 300u32),
        (5000, 5100),
        (66_000, 66_040),
        (70_000, 70_003),
    ] {
        l = l.max(target.0);
        while l < target.1 {
            let r =
                ext4_ind_map_blocks(&mut ctx, &mut ib, l, target.1 - l, MapFlags::CREATE).unwrap();
            assert!(r.new);
            l += r.m_len;
            runs += 1;
        }
    }
    assert!(runs > 100);
    ext4_ind_remove_space(&mut ctx, &mut ib, 100, 150).unwrap();
    ext4_ind_remove_space(&mut ctx, &mut ib, 5000, 5099).unwrap(); // empties a DIND child
    ext4_ind_truncate(&mut ctx, &mut ib, 70_001).unwrap();
    let own = ext4_ind_walk(&mut ctx, &ib).unwrap();
    let data: u64 = own.data.iter().map(|e| e.ee_len as u64).sum();
    let nblocks = data + own.metadata.len() as u64;
    assert_eq!(nblocks, ctx.allocated.len() as u64);
    commit(&img, "m", &mut ctx, &ib, 70_001 * 1024, nblocks, &[]);
    let problems = e2fsck_problems(&img);
    assert!(
        problems.is_empty(),
        "e2fsck on our block map: {problems:#?}"
    );
    let (want, want_meta) = expected(&img, "m");
    assert_eq!(want.len() as u64, data);
    assert_eq!(want_meta, own.metadata.iter().copied().collect());

    // Migrate: build the extent tree of the same data in a temporary root.
    let mut ctx = FileCtx::open(&img, &sb, &ino);
    // Free blocks of group 0 (later groups are still BLOCK_UNINIT).
    ctx.pool = free_pool(&img, 1, 200);
    let mut tmp = [0u8; 60];
    ext4_ext_tree_init(&mut tmp);
    for e in &own.data {
        ext4_ext_insert_extent(&mut ctx, &mut tmp, *e).unwrap();
    }
    // The old map's indirect blocks go back to the allocator.
    for b in &own.metadata {
        ctx.free_blocks(*b, 1).unwrap();
    }
    let ext = ext4_ext_walk(&mut ctx, &tmp).unwrap();
    assert_eq!(
        ext.data, own.data,
        "the extent tree maps what the block map did"
    );
    let nblocks = data + ext.metadata.len() as u64;
    let feature = vec![
        "feature extent".to_string(),
        "sif m flags 0x80000".to_string(),
    ];
    commit(&img, "m", &mut ctx, &tmp, 70_001 * 1024, nblocks, &feature);
    let problems = e2fsck_problems(&img);
    assert!(problems.is_empty(), "e2fsck after migrate: {problems:#?}");
    let (after, _) = expected(&img, "m");
    assert_eq!(after, want, "debugfs sees the same blocks after migrate");
}

/// Store the tree, let e2fsck judge it, and compare debugfs's view with
/// the model and with our walk.
fn judge(
    img: &Path,
    ctx: &mut FileCtx,
    ib: &[u8; 60],
    model: &BTreeMap<u32, (u64, bool)>,
    size: u64,
    what: &str,
) -> Ownership {
    let own = ext4_ext_walk(ctx, ib).unwrap();
    let nblocks = own.data.iter().map(|e| e.ee_len as u64).sum::<u64>() + own.metadata.len() as u64;
    assert_eq!(
        nblocks,
        (ctx.allocated.len() + ctx.committed.len()) as u64,
        "{what}: walk owns what was allocated"
    );
    commit(img, "r", ctx, ib, size, nblocks, &[]);
    let problems = e2fsck_problems(img);
    assert!(problems.is_empty(), "{what}: e2fsck found {problems:#?}");
    let (want, meta) = expected(img, "r");
    assert_eq!(&want, model, "{what}: debugfs disagrees with the model");
    assert_eq!(
        meta,
        own.metadata.iter().copied().collect(),
        "{what}: tree blocks"
    );
    own
}

/// Seeded random create/unwritten/convert/punch sequences on a real
/// metadata_csum image, 1 KiB and 4 KiB blocks, then a truncate that makes
/// the tree shallower: e2fsck passes each result and debugfs reads back
/// exactly the model's mapping.
#[test]
fn real_random_extent_ops_pass_e2fsck() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, bs) in [(1u64, "1024"), (2, "4096"), (3, "1024")] {
        let img = dir.path().join(format!("r{seed}.img"));
        mkfs(&img, &["-b", bs, "-O", "metadata_csum,extent"], "32M");
        debugfs_w(&img, &["write /dev/null r".into()]);
        let sb = read_sb(&img);
        let ino = inode(&img, &sb, "r");
        let mut ctx = FileCtx::open(&img, &sb, &ino);
        let start = if bs == "1024" { 4000 } else { 1500 };
        ctx.pool = free_pool(&img, start, 5000)
            .into_iter()
            .filter(|b| b % 2 == 1)
            .collect();
        let mut rng = XorShift64Star(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut ib = ino.i_block;
        let mut model: BTreeMap<u32, (u64, bool)> = BTreeMap::new();
        let span = 1500u32;
        for _ in 0..1200 {
            let l = (rng.next() % span as u64) as u32;
            let n = 1 + (rng.next() % 8) as u32;
            match rng.next() % 10 {
                0..=6 => {
                    let unwrit = rng.next() % 3 == 0;
                    let flags = if unwrit {
                        MapFlags::CREATE | MapFlags::UNWRIT_EXT
                    } else {
                        MapFlags::CREATE
                    };
                    let was = model.get(&l).copied();
                    let r =
                        ext4_ext_map_blocks(&mut ctx, &mut ib, l, n.min(span - l), flags).unwrap();
                    let p = r.m_pblk.unwrap();
                    if was.is_none() || r.new {
                        for i in 0..r.m_len {
                            model.insert(l + i, (p + i as u64, r.unwritten));
                        }
                    }
                }
                7 => {
                    let r =
                        ext4_ext_map_blocks(&mut ctx, &mut ib, l, n, MapFlags::CONVERT).unwrap();
                    if r.m_pblk.is_some() {
                        for i in 0..r.m_len {
                            model.get_mut(&(l + i)).unwrap().1 = false;
                        }
                    }
                }
                _ => {
                    let end = l + (rng.next() % 20) as u32;
                    ext4_ext_remove_space(&mut ctx, &mut ib, l, end).unwrap();
                    model.retain(|k, _| !(l..=end).contains(k));
                }
            }
        }
        let size = span as u64 * sb.bs as u64;
        let own = judge(&img, &mut ctx, &ib, &model, size, &format!("seed {seed}"));
        let depth = u16::from_le_bytes([ib[6], ib[7]]);
        let want_depth = if bs == "1024" { 2 } else { 1 };
        assert!(
            depth >= want_depth,
            "seed {seed}: depth {depth} with {} extents",
            own.data.len()
        );
        // Truncate to a few extents: the tree collapses into the root.
        let keep = model.keys().nth(3).copied().unwrap_or(0);
        ext4_ext_truncate(&mut ctx, &mut ib, keep).unwrap();
        model.retain(|k, _| *k < keep);
        judge(
            &img,
            &mut ctx,
            &ib,
            &model,
            size,
            &format!("seed {seed} truncated"),
        );
        assert_eq!(
            u16::from_le_bytes([ib[6], ib[7]]),
            0,
            "seed {seed}: tree did not shrink"
        );
    }
}
