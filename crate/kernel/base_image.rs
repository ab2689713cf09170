//! A scenario started from a stored disk image instead of the recipe's mkfs.
//!
//! The stored image (its bytes, e.g. from the page's image library or an
//! image file) replaces the recipe's mkfs step: its block size, features,
//! size and existing files are what the scenario runs on. The recipe's mkfs
//! options become requirements the image must meet (same block size, the
//! features the recipe adds present, the ones it removes absent, a journal
//! when the recipe has one), and the recipe's files are then created in it
//! exactly as on a fresh image ([`super::image::populate`]). Everything
//! happens on an in-memory copy: the stored image is never written.
//!
//! Every way an image can be unfit is a typed [`BaseImageError`], checked
//! before any run: the page shows it instead of starting explorations that
//! would only report engine errors.

use crate::device::mem::MemDevice;
use crate::engine::error::Ext4Error;
use crate::engine::ext4_recover_device;
use crate::engine::fs::{Ext4Fs, OpenOptions};
use crate::engine::mkfs::MkfsOptions;
use crate::engine::superblock::{
    Ext4SuperBlock, COMPAT_HAS_JOURNAL, EXT4_VALID_FS, INCOMPAT_RECOVER, SUPERBLOCK_OFFSET,
};
use crate::scenario::Scenario;

use super::image::{populate, ScenarioImage};

/// Largest base image a scenario accepts: each exploring worker keeps the
/// image in memory (plus copy-on-write chunks per execution).
pub const MAX_BASE_IMAGE: u64 = 256 << 20;

/// The page size of the simulated kernel: its paths map one block per page.
pub const PAGE_SIZE: u32 = 4096;

/// Why a stored image cannot be the base of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseImageError {
    #[error("the image is {size} bytes; a scenario base may be at most {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("the image holds no ext4 filesystem ({why})")]
    NotExt4 { why: String },
    #[error("the image has {found}-byte blocks; the kernel paths need {needed}-byte blocks (one block per page)")]
    BlockSize { found: u32, needed: u32 },
    #[error("the image has {found}-byte inodes; the scenario's recipe needs at least {needed}")]
    InodeSize { found: u16, needed: u16 },
    #[error("the scenario's recipe needs features the image lacks: {}", missing.join(", "))]
    MissingFeatures { missing: Vec<String> },
    #[error("the scenario's recipe turns off features the image has: {}", unwanted.join(", "))]
    UnwantedFeatures { unwanted: Vec<String> },
    #[error("the scenario's recipe needs {} journal", if *wanted { "a" } else { "no" })]
    Journal { wanted: bool },
    #[error("the engine cannot write this image: {why}")]
    Unsupported { why: String },
    #[error("the image's filesystem is not clean ({}); check and repair it first", findings.join("; "))]
    NotClean { findings: Vec<String> },
    #[error("the image already has a file /{name}, which the scenario's recipe creates")]
    FileExists { name: String },
    #[error("no space left in the image for the scenario's files ({why})")]
    NoSpace { why: String },
    #[error("setting up the scenario on the image failed: {why}")]
    Engine { why: String },
}

impl BaseImageError {
    /// The machine name the page keys its messages on.
    pub fn kind(&self) -> &'static str {
        match self {
            BaseImageError::TooLarge { .. } => "base-too-large",
            BaseImageError::NotExt4 { .. } => "base-not-ext4",
            BaseImageError::BlockSize { .. } => "base-block-size",
            BaseImageError::InodeSize { .. } => "base-inode-size",
            BaseImageError::MissingFeatures { .. } => "base-missing-features",
            BaseImageError::UnwantedFeatures { .. } => "base-unwanted-features",
            BaseImageError::Journal { .. } => "base-journal",
            BaseImageError::Unsupported { .. } => "base-unsupported",
            BaseImageError::NotClean { .. } => "base-not-clean",
            BaseImageError::FileExists { .. } => "base-file-exists",
            BaseImageError::NoSpace { .. } => "base-no-space",
            BaseImageError::Engine { .. } => "base-engine-error",
        }
    }
}

/// The feature bits (compat, incompat, ro_compat) one `-O` item names,
/// through mkfs's own feature table.
fn feature_bits(name: &str) -> Result<(u32, u32, u32), BaseImageError> {
    let mut o = MkfsOptions {
        feature_compat: 0,
        feature_incompat: 0,
        feature_ro_compat: 0,
        ..MkfsOptions::default()
    };
    o.apply_features(name)
        .map_err(|e| BaseImageError::Engine { why: e.to_string() })?;
    Ok((o.feature_compat, o.feature_incompat, o.feature_ro_compat))
}

/// Check the superblock of `bytes` against `sc`'s recipe (block size, inode
/// size, features, journal). Reads only the superblock.
pub fn check_base(sc: &Scenario, bytes: &[u8]) -> Result<Ext4SuperBlock, BaseImageError> {
    let size = bytes.len() as u64;
    if size > MAX_BASE_IMAGE {
        return Err(BaseImageError::TooLarge {
            size,
            max: MAX_BASE_IMAGE,
        });
    }
    let raw = usize::try_from(SUPERBLOCK_OFFSET)
        .ok()
        .and_then(|at| bytes.get(at..at + 1024))
        .and_then(|r| <&[u8; 1024]>::try_from(r).ok())
        .ok_or_else(|| BaseImageError::NotExt4 {
            why: format!("{size} bytes is too small for a superblock"),
        })?;
    let sb = Ext4SuperBlock::parse_unchecked_csum(raw)
        .map_err(|e| BaseImageError::NotExt4 { why: e.to_string() })?;
    let needed = sc.image.block_size.max(PAGE_SIZE);
    if sb.block_size() != needed {
        return Err(BaseImageError::BlockSize {
            found: sb.block_size(),
            needed,
        });
    }
    let has_inline = sc
        .image
        .files
        .iter()
        .any(|f| f.layout == crate::scenario::Layout::Inline);
    if has_inline && sb.s_inode_size < sc.image.inode_size {
        return Err(BaseImageError::InodeSize {
            found: sb.s_inode_size,
            needed: sc.image.inode_size,
        });
    }
    let mut missing = Vec::new();
    let mut unwanted = Vec::new();
    for item in &sc.image.features {
        let (off, name) = match item.strip_prefix('^') {
            Some(n) => (true, n),
            None => (false, item.as_str()),
        };
        let (c, i, r) = feature_bits(name)?;
        let present = sb.s_feature_compat & c == c
            && sb.s_feature_incompat & i == i
            && sb.s_feature_ro_compat & r == r;
        let any = sb.s_feature_compat & c != 0
            || sb.s_feature_incompat & i != 0
            || sb.s_feature_ro_compat & r != 0;
        if !off && !present {
            missing.push(name.to_string());
        } else if off && any {
            unwanted.push(name.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(BaseImageError::MissingFeatures { missing });
    }
    if !unwanted.is_empty() {
        return Err(BaseImageError::UnwantedFeatures { unwanted });
    }
    if sb.has_compat(COMPAT_HAS_JOURNAL) != sc.image.journal {
        return Err(BaseImageError::Journal {
            wanted: sc.image.journal,
        });
    }
    Ok(sb)
}

/// The content hash that names a base image in a run target and a share
/// link: FNV-1a 64 of its bytes, 16 lowercase hex digits.
pub fn base_hash(bytes: &[u8]) -> String {
    format!("{:016x}", crate::scenario::fnv1a64(bytes))
}

fn engine_error(e: Ext4Error) -> BaseImageError {
    match e {
        Ext4Error::UnsupportedFeatures { .. } | Ext4Error::ReadOnly => {
            BaseImageError::Unsupported { why: e.to_string() }
        }
        Ext4Error::Corrupt(_) => BaseImageError::NotExt4 { why: e.to_string() },
        Ext4Error::NoSpace | Ext4Error::NoInodes => BaseImageError::NoSpace { why: e.to_string() },
        e => BaseImageError::Engine { why: e.to_string() },
    }
}

/// Build `sc`'s image on a copy of `bytes` (a stored image): check it
/// ([`check_base`]), replay its journal if it needs recovery (in memory, as
/// a mount would), require the engine's fsck to find it clean, create the
/// recipe's files, and snapshot. `bytes` is only read.
pub fn build_image_on(sc: &Scenario, bytes: &[u8]) -> Result<ScenarioImage, BaseImageError> {
    let sb = check_base(sc, bytes)?;
    let mut dev = MemDevice::from_bytes(bytes);
    if sb.s_state & EXT4_VALID_FS == 0 || sb.has_incompat(INCOMPAT_RECOVER) {
        dev = ext4_recover_device(dev).map_err(engine_error)?.0;
    }
    let mut fs = Ext4Fs::open(dev, OpenOptions::default()).map_err(engine_error)?;
    if let Some(why) = fs.read_only_reason() {
        return Err(BaseImageError::Unsupported {
            why: format!("it opens read-only ({why:?})"),
        });
    }
    let report = fs.ext4_fsck().map_err(engine_error)?;
    if !report.is_clean() {
        let findings = report
            .findings
            .iter()
            .filter(|f| f.is_error())
            .take(8)
            .map(|f| format!("{f:?}"))
            .collect();
        return Err(BaseImageError::NotClean { findings });
    }
    for f in &sc.image.files {
        match fs.lookup(&format!("/{}", f.name)) {
            Ok(_) => {
                return Err(BaseImageError::FileExists {
                    name: f.name.clone(),
                })
            }
            Err(Ext4Error::NotFound(_)) => {}
            Err(e) => return Err(engine_error(e)),
        }
    }
    populate(fs, sc).map_err(engine_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_ext4_and_too_small_are_typed() {
        let sc =
            crate::scenario::parse_scenario(crate::scenario::builtin("s5").unwrap().text).unwrap();
        let e = build_image_on(&sc, &[0u8; 512]).err().unwrap();
        assert_eq!(e.kind(), "base-not-ext4");
        let e = build_image_on(&sc, &vec![0u8; 1 << 20]).err().unwrap();
        assert_eq!(e.kind(), "base-not-ext4");
    }
}
