//! The engine on a stored image: what the library shows (superblock
//! summary and features, parsed by the engine), formatting a new image with
//! the engine's mkfs, fsck, and reading or writing a file by path.

use crate::device::{BlockDevice, DevRef};
use crate::engine::fsck::FsckReport;
use crate::engine::superblock::*;
use crate::engine::{mkfs, Ext4Error, Ext4Fs, MkfsOptions, OpenOptions};
use serde::{Deserialize, Serialize};

/// What the library shows about an image's filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FsSummary {
    pub block_size: u32,
    pub blocks_count: u64,
    pub free_blocks_count: u64,
    pub inodes_count: u32,
    pub free_inodes_count: u32,
    pub volume_name: String,
    /// Feature names as `dumpe2fs` lists them (compat, incompat, ro_compat).
    pub features: Vec<String>,
    /// `s_state` has EXT4_VALID_FS clear or the journal needs recovery.
    pub needs_recovery: bool,
    /// Why the engine opens this filesystem read-only, by feature name
    /// ("bigalloc", "quota", ...; "ro_compat 0x..." for unknown bits), or
    /// why it cannot open it ("unsupported: meta_bg"); `None`: writable.
    pub read_only: Option<String>,
}

const COMPAT: &[(u32, &str)] = &[
    (COMPAT_DIR_PREALLOC, "dir_prealloc"),
    (COMPAT_IMAGIC_INODES, "imagic_inodes"),
    (COMPAT_HAS_JOURNAL, "has_journal"),
    (COMPAT_EXT_ATTR, "ext_attr"),
    (COMPAT_RESIZE_INODE, "resize_inode"),
    (COMPAT_DIR_INDEX, "dir_index"),
    (COMPAT_SPARSE_SUPER2, "sparse_super2"),
    (COMPAT_FAST_COMMIT, "fast_commit"),
    (COMPAT_STABLE_INODES, "stable_inodes"),
    (COMPAT_ORPHAN_FILE, "orphan_file"),
];

const RO_COMPAT: &[(u32, &str)] = RO_COMPAT_NAMES;

fn names(mask: u32, table: &[(u32, &str)], out: &mut Vec<String>) {
    for bit in 0..32 {
        let b = 1u32 << bit;
        if mask & b != 0 {
            match table.iter().find(|(v, _)| *v == b) {
                Some((_, n)) => out.push((*n).to_string()),
                None => out.push(format!("{b:#x}")),
            }
        }
    }
}

/// Parse the primary superblock of `dev` (the engine's parser; a bad
/// checksum is tolerated here, fsck reports it). `None` when the image does
/// not hold ext4 (or is too small).
pub fn summary(dev: &mut dyn BlockDevice) -> Result<Option<FsSummary>, Ext4Error> {
    if dev.size() < SUPERBLOCK_OFFSET + 1024 {
        return Ok(None);
    }
    let mut raw = [0u8; 1024];
    dev.read_at(SUPERBLOCK_OFFSET, &mut raw)?;
    let sb = match Ext4SuperBlock::parse_unchecked_csum(&raw) {
        Ok(sb) => sb,
        Err(Ext4Error::Corrupt(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut features = Vec::new();
    names(sb.s_feature_compat, COMPAT, &mut features);
    features.extend(
        incompat_names(sb.s_feature_incompat)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from),
    );
    names(sb.s_feature_ro_compat, RO_COMPAT, &mut features);
    let volume_name = String::from_utf8_lossy(&sb.s_volume_name)
        .trim_end_matches('\0')
        .to_string();
    Ok(Some(FsSummary {
        block_size: sb.block_size(),
        blocks_count: sb.blocks_count(),
        free_blocks_count: sb.free_blocks_count(),
        inodes_count: sb.s_inodes_count,
        free_inodes_count: sb.s_free_inodes_count,
        volume_name,
        features,
        needs_recovery: sb.s_state & EXT4_VALID_FS == 0 || sb.has_incompat(INCOMPAT_RECOVER),
        read_only: read_only_reason(&sb),
    }))
}

/// `FsSummary::read_only`: the engine's `check_features` and
/// `unsupported_for_write`, in words.
fn read_only_reason(sb: &Ext4SuperBlock) -> Option<String> {
    match sb.check_features() {
        Err(Ext4Error::UnsupportedFeatures { names, .. }) => Some(format!("unsupported: {names}")),
        Err(e) => Some(e.to_string()),
        Ok(true) => Some(format!(
            "ro_compat {:#x}",
            sb.s_feature_ro_compat & !RO_COMPAT_SUPPORTED
        )),
        Ok(false) => sb.unsupported_for_write().map(str::to_string),
    }
}

/// mkfs options as the page sends them (all optional: mkfs.ext4 defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MkfsRequest {
    pub block_size: Option<u32>,
    pub inode_size: Option<u16>,
    /// A `-O` list, e.g. `inline_data,^metadata_csum`.
    pub features: Option<String>,
    pub volume_name: Option<String>,
    pub journal_blocks: Option<u32>,
}

/// Format `dev` (which reads as zeros) with the engine's mkfs.
pub fn format(dev: &mut dyn BlockDevice, req: &MkfsRequest) -> Result<(), Ext4Error> {
    let mut opts = MkfsOptions {
        block_size: req.block_size,
        assume_zeroed: true,
        journal_blocks: req.journal_blocks,
        ..MkfsOptions::default()
    };
    if let Some(i) = req.inode_size {
        opts.inode_size = i;
    }
    if let Some(f) = &req.features {
        opts.apply_features(f)?;
    }
    if let Some(v) = &req.volume_name {
        opts.volume_name = v.clone();
    }
    let mut fs = mkfs(DevRef(dev), &opts)?;
    fs.sync()
}

/// Check the filesystem (read-only).
pub fn fsck(dev: &mut dyn BlockDevice) -> Result<FsckReport, Ext4Error> {
    crate::engine::fsck::fsck(DevRef(dev))
}

/// The contents of the file at `path`.
pub fn read_file(dev: &mut dyn BlockDevice, path: &str) -> Result<Vec<u8>, Ext4Error> {
    let mut fs = Ext4Fs::open(
        DevRef(dev),
        OpenOptions {
            read_only: true,
            fsck: false,
            ..Default::default()
        },
    )?;
    let ino = fs.lookup(path)?;
    fs.read_all(ino)
}

/// Create (or replace the contents of) the file at `path` and sync.
pub fn write_file(dev: &mut dyn BlockDevice, path: &str, data: &[u8]) -> Result<(), Ext4Error> {
    let mut fs = Ext4Fs::open(DevRef(dev), OpenOptions::default())?;
    let ino = match fs.lookup(path) {
        Ok(ino) => {
            fs.truncate(ino, 0)?;
            ino
        }
        Err(Ext4Error::NotFound(_)) => fs.create(path, 0o644)?,
        Err(e) => return Err(e),
    };
    fs.write(ino, 0, data)?;
    fs.sync()
}
