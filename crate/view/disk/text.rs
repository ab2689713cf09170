//! The disk view as text, for `ext4lab replay LINK --disk`: per state (the
//! start, then the step asked for), per file its inode sizes, extents and
//! one line per logical block (state, physical block, whose bytes the block
//! holds on disk, the page cache's bits), then the journal as transactions
//! with the home blocks each logs.

use std::fmt::Write;

use super::{BlockView, DiskBody, DiskState, FileView, PageView};
use crate::engine::journal::logview::{LogView, LoggedTransaction};

/// `body` as text. `step` is the step asked for (none: the end of the
/// run), for the heading of the second state.
pub fn disk_text(body: &DiskBody, step: Option<u32>) -> String {
    let mut out = String::new();
    let at = match step {
        Some(s) => format!("after step {s}"),
        None => "at the end of the run".to_string(),
    };
    state_text(&mut out, "at the start", &body.start);
    out.push('\n');
    state_text(&mut out, &at, &body.at);
    out
}

fn state_text(out: &mut String, label: &str, s: &DiskState) {
    let steps = if s.steps == 1 { "step" } else { "steps" };
    let _ = writeln!(out, "== {label} ({} {steps}, run {:?})", s.steps, s.end);
    for f in &s.files {
        file_text(out, f);
    }
    match (&s.journal, &s.journal_error) {
        (Some(j), _) => journal_text(out, j),
        (None, Some(e)) => {
            let _ = writeln!(out, "journal: {e}");
        }
        (None, None) => {
            let _ = writeln!(out, "journal: none");
        }
    }
}

fn file_text(out: &mut String, f: &FileView) {
    let _ = writeln!(
        out,
        "file {} (inode {}, {}): i_size {}, i_disksize {}, i_reserved_data_blocks {}",
        f.name, f.ino, f.layout, f.i_size, f.i_disksize, f.i_reserved_data_blocks
    );
    if let Some(e) = &f.error {
        let _ = writeln!(out, "  block map: {e}");
    }
    if f.layout != "inline" {
        let what = if f.layout == "extents" {
            "extents"
        } else {
            "indirect runs"
        };
        if f.extents.is_empty() {
            let _ = writeln!(out, "  {what}: none");
        } else {
            let _ = writeln!(out, "  {what}:");
        }
        for e in &f.extents {
            let last = (u64::from(e.lblk) + u64::from(e.len)).saturating_sub(1);
            let _ = writeln!(
                out,
                "    ({}-{last}): {}-{}{}",
                e.lblk,
                e.pblk,
                (e.pblk + u64::from(e.len)).saturating_sub(1),
                if e.unwritten { " [unwritten]" } else { "" }
            );
        }
    }
    if f.blocks.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  {:>5}  {:<9}  {:>8}  {:<12}  page cache",
        "lblk", "state", "pblk", "on disk"
    );
    for b in &f.blocks {
        block_text(out, b);
    }
}

fn block_text(out: &mut String, b: &BlockView) {
    let pblk = b.pblk.map_or_else(|| "-".to_string(), |p| p.to_string());
    let page = b.page.as_ref().map_or_else(|| "-".to_string(), page_text);
    let _ = writeln!(
        out,
        "  {:>5}  {:<9}  {pblk:>8}  {:<12}  {page}",
        b.lblk,
        b.state,
        b.disk.as_deref().unwrap_or("-")
    );
}

/// The page's flags as the kernel names them, its buffer's block, and the
/// files whose bytes it holds.
fn page_text(p: &PageView) -> String {
    let mut bits: Vec<String> = [
        (p.uptodate, "PG_uptodate"),
        (p.dirty, "PG_dirty"),
        (p.delay, "BH_Delay"),
        (p.unwritten, "BH_Unwritten"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n.to_string())
    .collect();
    if let Some(b) = p.mapped {
        bits.push(format!("BH_Mapped b_blocknr {b}"));
    }
    if !p.origins.is_empty() {
        bits.push(format!("holds {}", p.origins.join(", ")));
    }
    if bits.is_empty() {
        "cached".to_string()
    } else {
        bits.join(" ")
    }
}

fn journal_text(out: &mut String, j: &LogView) {
    let clean = if j.s_start == 0 {
        "clean"
    } else {
        "needs recovery"
    };
    let _ = writeln!(
        out,
        "journal: s_first {}, s_maxlen {}, s_sequence {}, s_start {} ({clean}), checksum {:?}, {} transaction{}",
        j.s_first,
        j.s_maxlen,
        j.s_sequence,
        j.s_start,
        j.csum,
        j.transactions.len(),
        if j.transactions.len() == 1 { "" } else { "s" }
    );
    for t in &j.transactions {
        transaction_text(out, t);
    }
    for p in &j.problems {
        let _ = writeln!(out, "  problem: {p}");
    }
}

fn transaction_text(out: &mut String, t: &LoggedTransaction) {
    let commit = match t.commit {
        Some(c) => format!("committed (commit block at log block {c})"),
        None => "no commit block".to_string(),
    };
    let live = if t.live {
        ", live: recovery replays it"
    } else {
        ""
    };
    let _ = writeln!(out, "  transaction {}: {commit}{live}", t.tid);
    if !t.tags.is_empty() {
        let blocks: Vec<String> = t
            .tags
            .iter()
            .map(|b| format!("{} (log {})", b.blocknr, b.log_block))
            .collect();
        let _ = writeln!(out, "    logs blocks: {}", blocks.join(", "));
    }
    if !t.revokes.is_empty() {
        let revoked: Vec<String> = t.revokes.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "    revokes: {}", revoked.join(", "));
    }
}
