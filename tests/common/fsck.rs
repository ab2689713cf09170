//! Helpers of the fsck corpus (tests/fsck_corpus.rs, fsck_random.rs,
//! fsck_features.rs): base images made once per process by `mkfs.ext4 -d`
//! from a host tree (then `e2fsck -fyD` to index the large directory and
//! debugfs for attributes), copied for each damage; `Img` resolves paths
//! to inodes and blocks through the engine and applies damage with
//! debugfs or byte patches.
#![allow(dead_code, unused_imports)]

use ext4lab::device::MemDevice;
use ext4lab::engine::fsck::{fsck, FsckReport};
use ext4lab::engine::map::MapFlags;
use ext4lab::engine::{Ext4Fs, OpenOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "e2fsprogs.rs"]
pub mod e2fsprogs;
pub use e2fsprogs::{debugfs_w, e2fsck_fn};
use std::sync::{Mutex, OnceLock};

/// A base image: mkfs arguments, whether the host tree populates it, and
/// debugfs commands run after (attributes).
pub struct BaseSpec {
    pub name: &'static str,
    pub mb: u64,
    pub mkfs: &'static [&'static str],
    pub populate: bool,
    pub post: &'static [&'static str],
    /// Run `e2fsck -fyD` (index the large directory; also repairs what
    /// the tools leave stale: mke2fs -d quotas, debugfs's i_blocks after
    /// an EA-inode attribute).
    pub index_dirs: bool,
}

pub const BASES: &[BaseSpec] = &[
    BaseSpec {
        name: "default",
        mb: 16,
        mkfs: &["-b", "1024"],
        populate: true,
        post: &[
            "ea_set /small.txt user.color blue",
            "ea_set -f /tmp/ext4lab-fsck-corpus-xattr /medium.bin user.big",
        ],
        index_dirs: true,
    },
    BaseSpec {
        name: "nocsum",
        mb: 16,
        mkfs: &["-b", "1024", "-O", "^metadata_csum,uninit_bg"],
        populate: true,
        post: &[
            "ea_set /small.txt user.color blue",
            "ea_set -f /tmp/ext4lab-fsck-corpus-xattr /medium.bin user.big",
        ],
        index_dirs: true,
    },
    BaseSpec {
        name: "inline",
        mb: 16,
        mkfs: &["-b", "1024", "-O", "inline_data"],
        populate: true,
        post: &[],
        index_dirs: false,
    },
    BaseSpec {
        name: "blockmap",
        mb: 16,
        mkfs: &[
            "-b",
            "1024",
            "-O",
            "^extent,^64bit,^metadata_csum",
            "-I",
            "128",
        ],
        populate: true,
        post: &[],
        index_dirs: false,
    },
    BaseSpec {
        name: "bigalloc",
        mb: 32,
        mkfs: &["-b", "1024", "-O", "bigalloc"],
        populate: true,
        post: &[],
        index_dirs: true,
    },
    BaseSpec {
        name: "quota",
        mb: 16,
        mkfs: &["-b", "1024", "-O", "quota,project"],
        populate: true,
        post: &[],
        index_dirs: true,
    },
    BaseSpec {
        name: "ea_inode",
        mb: 16,
        mkfs: &["-b", "1024", "-O", "ea_inode"],
        populate: true,
        post: &["ea_set -f /tmp/ext4lab-fsck-corpus-bigxattr /small.txt user.big"],
        index_dirs: true,
    },
    BaseSpec {
        name: "features",
        mb: 16,
        mkfs: &[
            "-b",
            "1024",
            "-O",
            "orphan_file,encrypt,casefold,verity,large_dir",
        ],
        populate: true,
        post: &[],
        index_dirs: true,
    },
    BaseSpec {
        name: "hurd",
        mb: 16,
        mkfs: &["-b", "1024", "-o", "hurd"],
        populate: true,
        post: &[],
        index_dirs: true,
    },
    BaseSpec {
        name: "4k",
        mb: 32,
        mkfs: &["-b", "4096"],
        populate: true,
        post: &[],
        index_dirs: true,
    },
];

/// The host tree every populated base is made from.
fn host_tree(dir: &Path) {
    let w = |p: &str, data: &[u8]| std::fs::write(dir.join(p), data).unwrap();
    let pattern =
        |n: usize, salt: u8| -> Vec<u8> { (0..n).map(|i| (i % 251) as u8 ^ salt).collect() };
    w("small.txt", b"hello world\n");
    w("medium.bin", &pattern(20 << 10, 1));
    w("big.bin", &pattern(300 << 10, 2));
    // 12 one-KiB chunks 16 KiB apart: 12 extents, a depth-1 tree.
    let f = std::fs::File::create(dir.join("sparse.bin")).unwrap();
    use std::os::unix::fs::FileExt;
    for k in 0..12u64 {
        f.write_all_at(&pattern(1024, k as u8 + 3), k * 16384)
            .unwrap();
    }
    drop(f);
    // 3 chunks: a depth-0 tree of 3 extents.
    let f = std::fs::File::create(dir.join("sparse3.bin")).unwrap();
    for k in 0..3u64 {
        f.write_all_at(&pattern(1024, k as u8 + 20), k * 8192)
            .unwrap();
    }
    drop(f);
    std::fs::create_dir_all(dir.join("d/sub")).unwrap();
    w("d/a.txt", b"a file in d\n");
    w("d/sub/b.txt", b"b\n");
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    std::fs::create_dir_all(dir.join("many")).unwrap();
    for i in 0..120 {
        w(&format!("many/file_with_a_rather_long_name_{i:03}"), &[]);
    }
    std::fs::create_dir_all(dir.join("upper")).unwrap();
    for i in 0..120 {
        w(&format!("upper/FILE_WITH_A_RATHER_LONG_NAME_{i:03}"), &[]);
    }
    std::os::unix::fs::symlink("small.txt", dir.join("sl")).unwrap();
    std::os::unix::fs::symlink("a/".repeat(50), dir.join("longlink")).unwrap();
    std::fs::hard_link(dir.join("small.txt"), dir.join("hl")).unwrap();
    let ok = Command::new("mkfifo")
        .arg(dir.join("pipe"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "mkfifo");
}

fn base_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let p = d.keep();
        std::fs::write("/tmp/ext4lab-fsck-corpus-xattr", vec![b'x'; 600]).unwrap();
        std::fs::write("/tmp/ext4lab-fsck-corpus-bigxattr", vec![b'y'; 3000]).unwrap();
        p
    })
}

/// The base image `name`, built once per process.
pub fn base(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let spec = BASES
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no base {name}"));
    let dir = base_dir();
    let img = dir.join(format!("{name}.img"));
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(spec.mb << 20).unwrap();
    let mut args: Vec<String> = spec.mkfs.iter().map(|s| s.to_string()).collect();
    if spec.populate {
        let src = dir.join(format!("src-{name}"));
        std::fs::create_dir_all(&src).unwrap();
        host_tree(&src);
        args.push("-d".into());
        args.push(src.display().to_string());
    }
    mkfs(&img, &args);
    for cmd in spec.post {
        debugfs_w(&img, cmd);
    }
    if spec.index_dirs {
        let _ = e2fsprogs::e2fsck(&img, &["-fyD"], &[]);
    }
    let (ok, text) = e2fsck_fn(&img);
    assert!(ok, "base {name} is not clean:\n{text}");
    built.insert(name.to_string(), img.clone());
    img
}

pub fn mkfs(img: &Path, args: &[String]) {
    let mut all = vec!["-E", "lazy_itable_init=1"];
    all.extend(args.iter().map(String::as_str));
    e2fsprogs::mkfs_ext4(img, &all, None, &[]);
}

/// The engine's fsck of the image file (`Err` as text: unreadable).
pub fn engine_fsck(p: &Path) -> Result<FsckReport, String> {
    let bytes = std::fs::read(p).unwrap();
    fsck(MemDevice::from_bytes(&bytes)).map_err(|e| format!("{e} [{e:?}]"))
}

/// A copy of a base image to damage.
pub struct Img {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Img {
    pub fn from_base(name: &str) -> Img {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("img");
        std::fs::copy(base(name), &path).unwrap();
        Img { path, _dir: dir }
    }

    fn fs(&self) -> Ext4Fs<MemDevice> {
        let bytes = std::fs::read(&self.path).unwrap();
        Ext4Fs::open(
            MemDevice::from_bytes(&bytes),
            OpenOptions {
                read_only: true,
                fsck: true,
                ..Default::default()
            },
        )
        .unwrap()
    }

    pub fn sb(&self) -> ext4lab::engine::superblock::Ext4SuperBlock {
        self.fs().sb.clone()
    }

    pub fn group_free_blocks(&self, g: u32) -> u32 {
        let fs = self.fs();
        fs.group_desc(g).unwrap().free_blocks_count(&fs.sb)
    }

    /// A path, or `<N>` for inode N (as debugfs writes it).
    pub fn ino(&self, path: &str) -> u32 {
        if let Some(n) = path.strip_prefix('<').and_then(|p| p.strip_suffix('>')) {
            return n.parse().unwrap();
        }
        self.fs()
            .lookup(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Physical block of logical block `lblk` of `path`.
    pub fn block(&self, path: &str, lblk: u32) -> u64 {
        let ino = self.ino(path);
        let mut fs = self.fs();
        fs.ext4_map_blocks(ino, lblk, 1, MapFlags::empty())
            .unwrap()
            .m_pblk
            .unwrap_or_else(|| panic!("{path} block {lblk} is a hole"))
    }

    pub fn inode(&self, path: &str) -> ext4lab::engine::inode::Ext4Inode {
        let ino = self.ino(path);
        let mut fs = self.fs();
        fs.ext4_iget(ino).unwrap()
    }

    /// (block, offset) of inode `ino` in the inode table.
    pub fn inode_loc(&self, ino: u32) -> (u64, usize) {
        self.fs().inode_location(ino).unwrap()
    }

    pub fn block_size(&self) -> u64 {
        u64::from(self.sb().block_size())
    }

    pub fn debugfs(&self, cmd: &str) {
        debugfs_w(&self.path, cmd);
    }

    /// Several debugfs commands in one run, checksums not verified
    /// (`debugfs -n`: the image may already fail them).
    pub fn debugfs_n(&self, cmds: &[&str]) {
        let (ok, text) =
            e2fsprogs::debugfs_f(&self.path, &["-w", "-n"], &(cmds.join("\n") + "\n"), &[]);
        assert!(ok, "debugfs {cmds:?}: {text}");
    }

    pub fn sif(&self, path: &str, field: &str, value: impl std::fmt::Display) {
        self.debugfs(&format!("sif {path} {field} {value}"));
    }

    pub fn ssv(&self, field: &str, value: impl std::fmt::Display) {
        self.debugfs(&format!("ssv {field} {value}"));
    }

    pub fn set_bg(&self, group: u32, field: &str, value: impl std::fmt::Display) {
        self.debugfs(&format!("set_bg {group} {field} {value}"));
    }

    pub fn read_block(&self, blk: u64) -> Vec<u8> {
        let bs = self.block_size();
        let bytes = std::fs::read(&self.path).unwrap();
        bytes[(blk * bs) as usize..((blk + 1) * bs) as usize].to_vec()
    }

    pub fn write_block(&self, blk: u64, data: &[u8]) {
        let bs = self.block_size();
        let mut bytes = std::fs::read(&self.path).unwrap();
        bytes[(blk * bs) as usize..(blk * bs) as usize + data.len()].copy_from_slice(data);
        std::fs::write(&self.path, bytes).unwrap();
    }

    /// Change bytes of block `blk` at `off`.
    pub fn patch(&self, blk: u64, off: usize, data: &[u8]) {
        let mut b = self.read_block(blk);
        b[off..off + data.len()].copy_from_slice(data);
        self.write_block(blk, &b);
    }

    /// Change bytes of directory block `lblk` of `dir` and recompute the
    /// block's checksum tail (metadata_csum), so only the entries are wrong.
    pub fn patch_dir(&self, dir: &str, lblk: u32, off: usize, data: &[u8]) {
        let blk = self.block(dir, lblk);
        let mut b = self.read_block(blk);
        b[off..off + data.len()].copy_from_slice(data);
        self.set_dir_csum(dir, &mut b);
        self.write_block(blk, &b);
    }

    /// Recompute a directory leaf block's checksum tail.
    pub fn set_dir_csum(&self, dir: &str, b: &mut [u8]) {
        let sb = self.sb();
        if sb.has_metadata_csum() && ext4lab::engine::dir::has_tail(b) {
            let ino = self.ino(dir);
            let gen = self.inode(dir).i_generation;
            let seed = ext4lab::engine::inode::inode_csum_seed(&sb, ino, gen);
            ext4lab::engine::dir::dirblock_csum_set(seed, b);
        }
    }

    /// Offset of the entry called `name` in block `lblk` of `dir`.
    pub fn dirent_offset(&self, dir: &str, lblk: u32, name: &[u8]) -> usize {
        let b = self.read_block(self.block(dir, lblk));
        let mut off = 0;
        while off + 8 <= b.len() {
            let rec = u16::from_le_bytes([b[off + 4], b[off + 5]]) as usize;
            let n = b[off + 6] as usize;
            if &b[off + 8..off + 8 + n] == name {
                return off;
            }
            if rec == 0 {
                break;
            }
            off += rec;
        }
        panic!("{name:?} not in block {lblk} of {dir}");
    }
}

impl Img {
    /// Change bytes of the on-disk inode of `path` at `off` (from the
    /// inode's start) and recompute its checksum.
    pub fn patch_inode(&self, path: &str, off: usize, data: &[u8]) {
        let ino = self.ino(path);
        self.patch_inode_nr(ino, off, data);
    }

    pub fn patch_inode_nr(&self, ino: u32, off: usize, data: &[u8]) {
        let sb = self.sb();
        let (blk, ioff) = self.inode_loc(ino);
        let mut b = self.read_block(blk);
        let isz = sb.inode_size();
        let raw = &mut b[ioff..ioff + isz];
        raw[off..off + data.len()].copy_from_slice(data);
        ext4lab::engine::inode::ext4_inode_csum_set(&sb, ino, raw);
        self.write_block(blk, &b);
    }

    /// The attribute block of `path`.
    pub fn xattr_block(&self, path: &str) -> u64 {
        let sb = self.sb();
        self.inode(path).file_acl_sb(&sb)
    }

    /// Change bytes of attribute block `blk` and recompute its checksum.
    pub fn patch_xattr_block(&self, blk: u64, off: usize, data: &[u8]) {
        let sb = self.sb();
        let mut b = self.read_block(blk);
        b[off..off + data.len()].copy_from_slice(data);
        if sb.has_metadata_csum() {
            let c = ext4lab::engine::xattr::xattr_block_csum(sb.csum_seed(), blk, &b);
            b[0x10..0x14].copy_from_slice(&c.to_le_bytes());
        }
        self.write_block(blk, &b);
    }

    /// Change bytes of index block `lblk` of `dir` and recompute its dx tail.
    pub fn patch_dx(&self, dir: &str, lblk: u32, off: usize, data: &[u8]) {
        let sb = self.sb();
        let blk = self.block(dir, lblk);
        let mut b = self.read_block(blk);
        b[off..off + data.len()].copy_from_slice(data);
        if sb.has_metadata_csum() {
            let ino = self.ino(dir);
            let gen = self.inode(dir).i_generation;
            let seed = ext4lab::engine::inode::inode_csum_seed(&sb, ino, gen);
            let count_offset = if lblk == 0 { 32 } else { 8 };
            let le16 = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
            let limit = le16(count_offset);
            let count = le16(count_offset + 2);
            let t = (count_offset + limit * 8).min(b.len() - 8);
            let size = (count_offset + count * 8).min(b.len());
            let c = ext4lab::engine::csum::ext4_chksum(seed, &b[..size]);
            let c = ext4lab::engine::csum::ext4_chksum(c, &b[t..t + 4]);
            let c = ext4lab::engine::csum::ext4_chksum(c, &[0; 4]);
            b[t + 4..t + 8].copy_from_slice(&c.to_le_bytes());
        }
        self.write_block(blk, &b);
    }

    /// Change bytes of extent tree block `blk` of `path` and recompute its tail.
    pub fn patch_extent_block(&self, path: &str, blk: u64, off: usize, data: &[u8]) {
        let sb = self.sb();
        let mut b = self.read_block(blk);
        b[off..off + data.len()].copy_from_slice(data);
        if sb.has_metadata_csum() {
            let ino = self.ino(path);
            let gen = self.inode(path).i_generation;
            let seed = ext4lab::engine::inode::inode_csum_seed(&sb, ino, gen);
            let max = u16::from_le_bytes([b[4], b[5]]);
            let t = ext4lab::engine::map::extent_disk::ext4_extent_tail_offset(max);
            let c = ext4lab::engine::map::extent_disk::ext4_extent_block_csum(seed, &b, max);
            b[t..t + 4].copy_from_slice(&c.to_le_bytes());
        }
        self.write_block(blk, &b);
    }

    /// The first index entry's child block of a depth-1 extent tree.
    pub fn extent_leaf(&self, path: &str) -> u64 {
        let i = self.inode(path);
        let w = |k: usize| u32::from_le_bytes(i.i_block[4 * k..4 * k + 4].try_into().unwrap());
        assert!(
            u16::from_le_bytes([i.i_block[6], i.i_block[7]]) >= 1,
            "{path} is depth 0"
        );
        u64::from(w(4)) | (u64::from(w(5) & 0xffff) << 32)
    }
}
