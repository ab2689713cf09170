//! Extended attributes (fs/ext4/xattr.c): in-inode (after `i_extra_isize`,
//! `struct ext4_xattr_ibody_header`) and in an external block
//! (`struct ext4_xattr_header`), entry hashes and the block checksum.

use super::csum::ext4_chksum;
use super::error::{CorruptKind, Ext4Error, Result, XattrCorruption};
use super::ondisk::{le16, le32, put_le16, put_le32};

pub const EXT4_XATTR_MAGIC: u32 = 0xEA02_0000;
/// `sizeof(struct ext4_xattr_entry)` without the name.
const ENTRY_HDR: usize = 16;
/// `sizeof(struct ext4_xattr_header)`.
pub const XATTR_BLOCK_HDR: usize = 32;

// e_name_index
pub const EXT4_XATTR_INDEX_USER: u8 = 1;
pub const EXT4_XATTR_INDEX_POSIX_ACL_ACCESS: u8 = 2;
pub const EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT: u8 = 3;
pub const EXT4_XATTR_INDEX_TRUSTED: u8 = 4;
pub const EXT4_XATTR_INDEX_SECURITY: u8 = 6;
pub const EXT4_XATTR_INDEX_SYSTEM: u8 = 7;

const PREFIXES: &[(u8, &str)] = &[
    (EXT4_XATTR_INDEX_USER, "user."),
    (EXT4_XATTR_INDEX_POSIX_ACL_ACCESS, "system.posix_acl_access"),
    (
        EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT,
        "system.posix_acl_default",
    ),
    (EXT4_XATTR_INDEX_TRUSTED, "trusted."),
    (EXT4_XATTR_INDEX_SECURITY, "security."),
    (EXT4_XATTR_INDEX_SYSTEM, "system."),
];

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct XattrEntry {
    pub name_index: u8,
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

impl XattrEntry {
    /// Split a full name ("user.foo") into index and suffix.
    pub fn from_full_name(full: &str, value: Vec<u8>) -> Result<Self> {
        // Longest matching prefix first (posix_acl before "system.").
        let mut best: Option<(u8, &str)> = None;
        for &(i, p) in PREFIXES {
            if full.starts_with(p) && best.is_none_or(|(_, b)| p.len() > b.len()) {
                best = Some((i, p));
            }
        }
        let Some((index, p)) = best else {
            return Err(Ext4Error::Invalid(format!(
                "xattr name {full:?} has no known prefix"
            )));
        };
        let name = full.as_bytes()[p.len()..].to_vec();
        if name.len() > 255 {
            return Err(Ext4Error::NameTooLong);
        }
        Ok(XattrEntry {
            name_index: index,
            name,
            value,
        })
    }

    pub fn full_name(&self) -> String {
        let p = PREFIXES
            .iter()
            .find(|(i, _)| *i == self.name_index)
            .map_or("unknown.", |(_, p)| p);
        format!("{p}{}", String::from_utf8_lossy(&self.name))
    }

    /// `EXT4_XATTR_LEN(name_len)`.
    pub fn entry_len(&self) -> usize {
        (ENTRY_HDR + self.name.len() + 3) & !3
    }
    /// `EXT4_XATTR_SIZE(value_size)`.
    pub fn value_len(&self) -> usize {
        (self.value.len() + 3) & !3
    }

    /// `ext4_xattr_hash_entry` (name bytes taken as signed chars).
    pub fn hash(&self) -> u32 {
        let mut h: u32 = 0;
        for &c in &self.name {
            h = (h << 5) ^ (h >> 27) ^ (c as i8 as i32 as u32);
        }
        let mut padded = self.value.clone();
        padded.resize(self.value_len(), 0);
        for w in padded.chunks(4) {
            h = (h << 16) ^ (h >> 16) ^ le32(w, 0);
        }
        h
    }
}

/// Parse entries from `area[start..]`; values are at `value_base + e_value_offs`.
fn parse(
    area: &[u8],
    start: usize,
    value_base: usize,
    ino: u32,
    block: u64,
) -> Result<Vec<XattrEntry>> {
    let bad = |why: XattrCorruption| Ext4Error::from(CorruptKind::Xattr { ino, block, why });
    let mut out = Vec::new();
    let mut off = start;
    for _ in 0..area.len() / 4 {
        if off + 4 > area.len() {
            return Err(bad(XattrCorruption::ListPastEnd));
        }
        if le32(area, off) == 0 {
            return Ok(out);
        }
        if off + ENTRY_HDR > area.len() {
            return Err(bad(XattrCorruption::HeaderPastEnd { offset: off }));
        }
        let name_len = area[off] as usize;
        let name_index = area[off + 1];
        let value_offs = le16(area, off + 2) as usize;
        let value_inum = le32(area, off + 4);
        let value_size = le32(area, off + 8) as usize;
        if value_inum != 0 {
            return Err(bad(XattrCorruption::EaInodeValue));
        }
        let name = area
            .get(off + ENTRY_HDR..off + ENTRY_HDR + name_len)
            .ok_or_else(|| bad(XattrCorruption::NamePastEnd { offset: off }))?
            .to_vec();
        let vstart = value_base + value_offs;
        let value = if value_size == 0 {
            Vec::new()
        } else {
            area.get(vstart..vstart + value_size)
                .ok_or_else(|| {
                    bad(XattrCorruption::ValuePastEnd {
                        size: value_size,
                        offset: vstart,
                    })
                })?
                .to_vec()
        };
        out.push(XattrEntry {
            name_index,
            name,
            value,
        });
        off += (ENTRY_HDR + name_len + 3) & !3;
    }
    Err(bad(XattrCorruption::Unterminated))
}

/// Lay out `entries` in `area` from `start`; values packed at the end,
/// with offsets relative to `value_base`. Returns false if they do not fit.
fn layout(area: &mut [u8], start: usize, value_base: usize, entries: &[XattrEntry]) -> bool {
    let names: usize = entries.iter().map(|e| e.entry_len()).sum();
    let values: usize = entries.iter().map(|e| e.value_len()).sum();
    if start + names + 4 + values > area.len() {
        return false;
    }
    area[start..].fill(0);
    let mut off = start;
    let mut vend = area.len();
    for e in entries {
        let vo = if e.value.is_empty() {
            0
        } else {
            vend -= e.value_len();
            area[vend..vend + e.value.len()].copy_from_slice(&e.value);
            vend - value_base
        };
        area[off] = e.name.len() as u8;
        area[off + 1] = e.name_index;
        put_le16(area, off + 2, vo as u16);
        put_le32(area, off + 4, 0);
        put_le32(area, off + 8, e.value.len() as u32);
        put_le32(area, off + 12, e.hash());
        area[off + ENTRY_HDR..off + ENTRY_HDR + e.name.len()].copy_from_slice(&e.name);
        off += e.entry_len();
    }
    true
}

/// The in-inode attributes of a raw inode (empty without the magic).
pub fn ibody_get(raw: &[u8], ino: u32) -> Result<Vec<XattrEntry>> {
    let start = 128 + super::fs::extra_isize(raw);
    let Some(area) = raw.get(start..) else {
        return Ok(Vec::new());
    };
    if area.len() < 4 || le32(area, 0) != EXT4_XATTR_MAGIC {
        return Ok(Vec::new());
    }
    parse(area, 4, 4, ino, 0)
}

/// Rewrite the in-inode attribute area. `Ok(false)` if they do not fit.
pub fn ibody_set(raw: &mut [u8], entries: &[XattrEntry]) -> bool {
    let start = 128 + super::fs::extra_isize(raw);
    let Some(area) = raw.get_mut(start..) else {
        return entries.is_empty();
    };
    if area.len() < 4 {
        return entries.is_empty();
    }
    if entries.is_empty() {
        area.fill(0);
        return true;
    }
    let mut tmp = area.to_vec();
    put_le32(&mut tmp, 0, EXT4_XATTR_MAGIC);
    if !layout(&mut tmp, 4, 4, entries) {
        return false;
    }
    area.copy_from_slice(&tmp);
    true
}

/// Free bytes for a new attribute of the given sizes in the in-inode area.
pub fn ibody_room(raw: &[u8], entries: &[XattrEntry]) -> usize {
    let start = 128 + super::fs::extra_isize(raw);
    let total = raw.len().saturating_sub(start + 4 + 4);
    let used: usize = entries.iter().map(|e| e.entry_len() + e.value_len()).sum();
    total.saturating_sub(used)
}

/// `ext4_xattr_block_csum`.
pub fn xattr_block_csum(csum_seed: u32, blocknr: u64, block: &[u8]) -> u32 {
    let mut c = ext4_chksum(csum_seed, &blocknr.to_le_bytes());
    c = ext4_chksum(c, &block[..0x10]);
    c = ext4_chksum(c, &[0; 4]);
    ext4_chksum(c, &block[0x14..])
}

/// Parse an external attribute block (header checks; checksum when `seed`).
pub fn block_get(
    block: &[u8],
    blocknr: u64,
    ino: u32,
    seed: Option<u32>,
) -> Result<Vec<XattrEntry>> {
    let bad = |why: XattrCorruption| {
        Ext4Error::from(CorruptKind::Xattr {
            ino,
            block: blocknr,
            why,
        })
    };
    if block.len() < XATTR_BLOCK_HDR || le32(block, 0) != EXT4_XATTR_MAGIC {
        return Err(bad(XattrCorruption::BlockMagic {
            magic: le32(block, 0),
        }));
    }
    if le32(block, 8) != 1 {
        return Err(bad(XattrCorruption::BlockCount {
            h_blocks: le32(block, 8),
        }));
    }
    if let Some(s) = seed {
        if xattr_block_csum(s, blocknr, block) != le32(block, 0x10) {
            return Err(bad(XattrCorruption::BlockChecksum));
        }
    }
    parse(block, XATTR_BLOCK_HDR, 0, ino, blocknr)
}

/// Build an attribute block (refcount 1), sorted like the kernel keeps it.
pub fn block_build(
    bs: usize,
    blocknr: u64,
    entries: &[XattrEntry],
    seed: Option<u32>,
) -> Option<Vec<u8>> {
    let mut sorted = entries.to_vec();
    sorted.sort_by(|a, b| {
        (a.name_index, a.name.len(), &a.name).cmp(&(b.name_index, b.name.len(), &b.name))
    });
    let mut b = vec![0u8; bs];
    if !layout(&mut b, XATTR_BLOCK_HDR, 0, &sorted) {
        return None;
    }
    put_le32(&mut b, 0, EXT4_XATTR_MAGIC);
    put_le32(&mut b, 4, 1);
    put_le32(&mut b, 8, 1);
    // ext4_xattr_rehash
    let mut h: u32 = 0;
    for e in &sorted {
        h = (h << 16) ^ (h >> 16) ^ e.hash();
    }
    put_le32(&mut b, 0xC, h);
    if let Some(s) = seed {
        let c = xattr_block_csum(s, blocknr, &b);
        put_le32(&mut b, 0x10, c);
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibody_round_trip_and_overflow() {
        let mut raw = vec![0u8; 256];
        put_le16(&mut raw, 0x80, 32);
        let a = XattrEntry::from_full_name("user.color", b"blue".to_vec()).unwrap();
        let d = XattrEntry::from_full_name("system.data", Vec::new()).unwrap();
        assert_eq!(d.name_index, EXT4_XATTR_INDEX_SYSTEM);
        assert!(ibody_set(&mut raw, &[d.clone(), a.clone()]));
        assert_eq!(ibody_get(&raw, 12).unwrap(), vec![d.clone(), a.clone()]);
        let big = XattrEntry::from_full_name("user.big", vec![1; 100]).unwrap();
        assert!(!ibody_set(&mut raw, &[big]));
        assert_eq!(
            ibody_get(&raw, 12).unwrap().len(),
            2,
            "unchanged after a failed set"
        );
    }

    #[test]
    fn block_round_trip_with_checksum() {
        let e = XattrEntry::from_full_name("user.k", vec![9; 300]).unwrap();
        let b = block_build(1024, 77, std::slice::from_ref(&e), Some(5)).unwrap();
        assert_eq!(block_get(&b, 77, 12, Some(5)).unwrap(), vec![e]);
        assert!(block_get(&b, 78, 12, Some(5)).is_err());
    }
}
