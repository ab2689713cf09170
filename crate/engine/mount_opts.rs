//! Mount options that concern the journal (fs/ext4/super.c `parse_options`,
//! `set_journal_csum_feature_set`, `ext4_inode_journal_mode` in
//! ext4_jbd2.h): the data journalling mode from `data=` or from the
//! superblock's `s_default_mount_opts`, and the per-inode override
//! `EXT4_JOURNAL_DATA_FL` (`chattr +j`).

use super::error::{Ext4Error, Result};
use super::superblock::Ext4SuperBlock;

/// `s_default_mount_opts` & `EXT4_DEFM_JMODE` (0x0060): the default data mode.
pub const EXT4_DEFM_JMODE: u32 = 0x0060;
/// `EXT4_DEFM_JMODE_DATA`: data=journal.
pub const EXT4_DEFM_JMODE_DATA: u32 = 0x0020;
/// `EXT4_DEFM_JMODE_ORDERED`: data=ordered.
pub const EXT4_DEFM_JMODE_ORDERED: u32 = 0x0040;
/// `EXT4_DEFM_JMODE_WBACK`: data=writeback.
pub const EXT4_DEFM_JMODE_WBACK: u32 = 0x0060;

/// How file data relates to the journal (`EXT4_MOUNT_JOURNAL_DATA`,
/// `EXT4_MOUNT_ORDERED_DATA`, `EXT4_MOUNT_WRITEBACK_DATA`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum DataMode {
    /// data=journal: data blocks are logged like metadata.
    Journal,
    /// data=ordered: a transaction's commit block is written only after the
    /// data of the inodes it touched is on disk.
    Ordered,
    /// data=writeback: data is written whenever writeback gets to it.
    Writeback,
}

impl DataMode {
    pub fn name(self) -> &'static str {
        match self {
            DataMode::Journal => "journal",
            DataMode::Ordered => "ordered",
            DataMode::Writeback => "writeback",
        }
    }

    /// The default from `s_default_mount_opts` (ordered when unset, as the
    /// kernel does).
    pub fn from_default_mount_opts(sb: &Ext4SuperBlock) -> DataMode {
        match sb.s_default_mount_opts & EXT4_DEFM_JMODE {
            EXT4_DEFM_JMODE_DATA => DataMode::Journal,
            EXT4_DEFM_JMODE_WBACK => DataMode::Writeback,
            _ => DataMode::Ordered,
        }
    }
}

/// The journal-related mount options.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MountOptions {
    /// `data=`; `None`: the superblock default.
    pub data: Option<DataMode>,
    /// `ro`.
    pub read_only: bool,
    /// `noload` / `norecovery`: do not replay or use the journal (read-only).
    pub noload: bool,
}

impl MountOptions {
    /// Parse a comma-separated option string (`"data=journal,ro"`).
    /// Unknown options are refused, like the kernel does.
    pub fn parse(s: &str) -> Result<MountOptions> {
        let mut o = MountOptions::default();
        for opt in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            match opt {
                "data=journal" => o.data = Some(DataMode::Journal),
                "data=ordered" => o.data = Some(DataMode::Ordered),
                "data=writeback" => o.data = Some(DataMode::Writeback),
                "ro" => o.read_only = true,
                "rw" => o.read_only = false,
                "noload" | "norecovery" => o.noload = true,
                _ => {
                    return Err(Ext4Error::Invalid(format!(
                        "unrecognized mount option \"{opt}\""
                    )))
                }
            }
        }
        if o.noload && !o.read_only {
            return Err(Ext4Error::Invalid(
                "noload/norecovery needs a read-only mount".into(),
            ));
        }
        Ok(o)
    }

    /// The mount-wide data mode for superblock `sb`.
    pub fn data_mode(&self, sb: &Ext4SuperBlock) -> DataMode {
        self.data
            .unwrap_or_else(|| DataMode::from_default_mount_opts(sb))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_options() {
        let o = MountOptions::parse("data=journal").unwrap();
        assert_eq!(o.data, Some(DataMode::Journal));
        let o = MountOptions::parse("ro,noload,data=writeback").unwrap();
        assert!(o.read_only && o.noload);
        assert_eq!(o.data, Some(DataMode::Writeback));
        assert!(MountOptions::parse("data=bogus").is_err());
        assert!(MountOptions::parse("noload").is_err());
        assert_eq!(MountOptions::parse("").unwrap(), MountOptions::default());
    }
}
