//! A read-only picture of the log: every jbd2 block found in the journal
//! area, grouped into transactions (descriptor tags with their home
//! blocks, revoke records, the commit block), for the playground's disk
//! view and for people reading an image.
//!
//! Unlike PASS_SCAN of recovery this does not stop at the end of the live
//! log: it walks the whole area from `s_first` so that transactions already
//! checkpointed (their blocks still on disk) are shown too, each marked
//! `live` when recovery would replay it (`s_start != 0` and its tid at or
//! after `s_sequence`). It verifies no checksum and writes nothing.

use serde::Serialize;

use super::ondisk::*;
use super::transaction::Tid;
use super::{tid_geq, JournalError};
use crate::device::BlockDevice;

/// One descriptor tag: the log block holding the copy and its home block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedBlock {
    /// Journal block (index into the log) of the copy.
    pub log_block: u32,
    /// `t_blocknr`: where the block belongs in the filesystem.
    pub blocknr: u64,
    /// `t_flags` (JBD2_FLAG_ESCAPE, SAME_UUID, DELETED, LAST_TAG).
    pub flags: u32,
}

/// The blocks of one transaction (one `h_sequence`), in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedTransaction {
    /// `t_tid` (the blocks' `h_sequence`).
    pub tid: Tid,
    /// Journal blocks of the descriptor blocks.
    pub descriptors: Vec<u32>,
    pub tags: Vec<LoggedBlock>,
    /// Journal blocks of the revoke blocks.
    pub revoke_blocks: Vec<u32>,
    /// Revoked home blocks.
    pub revokes: Vec<u64>,
    /// Journal block of the commit block (none: the commit is not on disk).
    pub commit: Option<u32>,
    /// `h_commit_sec` of the commit block.
    pub commit_sec: Option<u64>,
    /// Recovery would replay it: the log is dirty (`s_start != 0`) and the
    /// tid is at or after `s_sequence`, with a commit block.
    pub live: bool,
}

/// The journal area as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogView {
    pub s_first: u32,
    pub s_maxlen: u32,
    pub s_sequence: Tid,
    /// 0: the log is clean (nothing to replay).
    pub s_start: u32,
    pub csum: CsumVersion,
    pub transactions: Vec<LoggedTransaction>,
    /// Blocks with the jbd2 magic that could not be decoded.
    pub problems: Vec<String>,
}

/// Reads journal block `l` (`map[l]` is its filesystem block).
fn read_log_block(
    dev: &mut dyn BlockDevice,
    map: &[u64],
    bs: usize,
    l: u32,
) -> Result<Vec<u8>, JournalError> {
    let blk = *map.get(l as usize).ok_or_else(|| JournalError::Corrupt {
        block: l,
        what: "journal block past the journal inode's map".into(),
    })?;
    let off = blk
        .checked_mul(bs as u64)
        .ok_or_else(|| JournalError::Corrupt {
            block: l,
            what: format!("filesystem block {blk} out of range"),
        })?;
    let mut buf = vec![0u8; bs];
    dev.read_at(off, &mut buf)?;
    Ok(buf)
}

/// The transactions in the journal whose log map is `map` (journal block
/// `l` in filesystem block `map[l]`), blocks of `bs` bytes.
pub fn jbd2_log_view(
    dev: &mut dyn BlockDevice,
    map: &[u64],
    bs: u32,
) -> Result<LogView, JournalError> {
    let bs = bs as usize;
    let sb = JournalSuperblock::parse(&read_log_block(dev, map, bs, 0)?)?;
    let v2 = sb.s_header.h_blocktype == JBD2_SUPERBLOCK_V2;
    let incompat = if v2 { sb.s_feature_incompat } else { 0 };
    let csum = if incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3 != 0 {
        CsumVersion::V3
    } else if incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2 != 0 {
        CsumVersion::V2
    } else if v2 && sb.s_feature_compat & JBD2_FEATURE_COMPAT_CHECKSUM != 0 {
        CsumVersion::V1
    } else {
        CsumVersion::None
    };
    let fmt = TagFormat {
        csum,
        is_64bit: incompat & JBD2_FEATURE_INCOMPAT_64BIT != 0,
    };
    let end = sb.s_maxlen.min(map.len() as u32);
    let mut view = LogView {
        s_first: sb.s_first,
        s_maxlen: sb.s_maxlen,
        s_sequence: sb.s_sequence,
        s_start: sb.s_start,
        csum,
        transactions: Vec::new(),
        problems: Vec::new(),
    };
    // One pass, bounded by the log's length: each step moves forward.
    let mut l = sb.s_first.max(1);
    while l < end {
        let b = read_log_block(dev, map, bs, l)?;
        let h = JournalHeader::parse(&b);
        if h.h_magic != JBD2_MAGIC_NUMBER {
            l += 1;
            continue;
        }
        let tid = h.h_sequence;
        let tx = match view.transactions.last_mut() {
            Some(t) if t.tid == tid => t,
            _ => {
                view.transactions.push(LoggedTransaction {
                    tid,
                    descriptors: Vec::new(),
                    tags: Vec::new(),
                    revoke_blocks: Vec::new(),
                    revokes: Vec::new(),
                    commit: None,
                    commit_sec: None,
                    live: false,
                });
                view.transactions
                    .last_mut()
                    .ok_or_else(|| JournalError::Corrupt {
                        block: l,
                        what: "transaction list".into(),
                    })?
            }
        };
        match h.h_blocktype {
            JBD2_DESCRIPTOR_BLOCK => {
                tx.descriptors.push(l);
                let mut data = l;
                for (_, tag) in descriptor_tags(fmt, &b) {
                    data += 1;
                    tx.tags.push(LoggedBlock {
                        log_block: data,
                        blocknr: tag.blocknr,
                        flags: tag.flags,
                    });
                }
                // The data copies follow their descriptor.
                l = data + 1;
                continue;
            }
            JBD2_REVOKE_BLOCK => {
                tx.revoke_blocks.push(l);
                match revoke_records(fmt, l, &b) {
                    Ok(r) => tx.revokes.extend(r),
                    Err(e) => view.problems.push(e.to_string()),
                }
            }
            JBD2_COMMIT_BLOCK => {
                let c = CommitHeader::parse(&b);
                tx.commit = Some(l);
                tx.commit_sec = Some(c.h_commit_sec);
            }
            other => view
                .problems
                .push(format!("journal block {l}: block type {other}")),
        }
        l += 1;
    }
    // A transaction that wrapped past the end of the log shows up twice
    // (its tail at the start of the area): one entry per tid, oldest first.
    let mut merged: Vec<LoggedTransaction> = Vec::new();
    for t in view.transactions.drain(..) {
        match merged.iter_mut().find(|m| m.tid == t.tid) {
            Some(m) => {
                m.descriptors.extend(t.descriptors);
                m.tags.extend(t.tags);
                m.revoke_blocks.extend(t.revoke_blocks);
                m.revokes.extend(t.revokes);
                m.commit = m.commit.or(t.commit);
                m.commit_sec = m.commit_sec.or(t.commit_sec);
            }
            None => merged.push(t),
        }
    }
    let base = view.s_sequence;
    merged.sort_by_key(|t| t.tid.wrapping_sub(base) as i32);
    view.transactions = merged;
    for t in &mut view.transactions {
        t.live = view.s_start != 0 && t.commit.is_some() && tid_geq(t.tid, view.s_sequence);
    }
    Ok(view)
}
