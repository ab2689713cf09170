//! Checks of the image recipe: geometry, features, files and their contents.

use std::collections::BTreeMap;

use super::{root, Checker, Path, KNOWN_FEATURES};
use crate::scenario::error::ErrorKind;
use crate::scenario::model::{Layout, Scenario};

/// Image checks; returns file name -> deleted.
pub(super) fn check_image(c: &mut Checker, s: &Scenario) -> BTreeMap<String, bool> {
    let img = &s.image;
    let p = root().k("image");
    if !matches!(
        img.block_size,
        1024 | 2048 | 4096 | 8192 | 16384 | 32768 | 65536
    ) {
        c.push(
            ErrorKind::BadValue,
            p.k("block_size"),
            "block_size must be a power of two from 1024 to 65536",
        );
    }
    if !matches!(img.inode_size, 128 | 256 | 512 | 1024)
        || u32::from(img.inode_size) > img.block_size
    {
        c.push(
            ErrorKind::BadValue,
            p.k("inode_size"),
            "inode_size must be 128, 256, 512 or 1024 and at most block_size",
        );
    }
    if !(64..=(1 << 20)).contains(&img.blocks_count) {
        c.push(
            ErrorKind::BadValue,
            p.k("blocks_count"),
            "blocks_count must be between 64 and 1048576",
        );
    }
    if let Some(j) = img.journal_blocks {
        if !img.journal {
            c.push(
                ErrorKind::BadValue,
                p.k("journal_blocks"),
                "journal_blocks given but journal = false",
            );
        } else if u64::from(j) < 1024 || u64::from(j) > img.blocks_count / 2 {
            c.push(ErrorKind::BadValue, p.k("journal_blocks"), "journal_blocks must be at least 1024 (JBD2_MIN_JOURNAL_BLOCKS) and at most half the image");
        }
    }
    let mut feats: BTreeMap<&str, bool> = BTreeMap::new();
    for (i, f) in img.features.iter().enumerate() {
        let (on, name) = match f.strip_prefix('^') {
            Some(n) => (false, n),
            None => (true, f.as_str()),
        };
        if name == "has_journal" {
            c.push(
                ErrorKind::BadValue,
                p.k("features").i(i),
                "use `journal = true|false` instead of has_journal",
            );
        } else if !KNOWN_FEATURES.contains(&name) {
            c.push(
                ErrorKind::BadValue,
                p.k("features").i(i),
                format!(
                    "unknown feature `{name}` (known: {})",
                    KNOWN_FEATURES.join(", ")
                ),
            );
        } else if feats.insert(name, on).is_some() {
            c.push(
                ErrorKind::Duplicate,
                p.k("features").i(i),
                format!("feature `{name}` given twice"),
            );
        }
    }
    let extent = feats.get("extent").copied().unwrap_or(true);
    let inline = feats.get("inline_data").copied().unwrap_or(false);
    let image_bytes = img.blocks_count.saturating_mul(u64::from(img.block_size));
    c.unique(
        "file",
        img.files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), p.k("files").i(i).k("name"))),
    );
    let mut out = BTreeMap::new();
    for (i, f) in img.files.iter().enumerate() {
        let fp = p.k("files").i(i);
        if f.name.is_empty()
            || f.name.len() > 255
            || f.name.contains('/')
            || f.name.contains('\0')
            || f.name == "."
            || f.name == ".."
        {
            c.push(
                ErrorKind::BadValue,
                fp.k("name"),
                format!("`{}` is not a valid file name", f.name),
            );
        }
        out.insert(f.name.clone(), f.deleted);
        match f.layout {
            Layout::Inline if !inline => c.push(
                ErrorKind::BadValue,
                fp.k("layout"),
                "layout = \"inline\" needs the inline_data feature",
            ),
            Layout::Extents if !extent => c.push(
                ErrorKind::BadValue,
                fp.k("layout"),
                "layout = \"extents\" needs the extent feature (it is removed by ^extent)",
            ),
            _ => {}
        }
        // Content: shorthand, then runs; check they don't overlap.
        let mut spans: Vec<(u64, u64, Path)> = Vec::new();
        if f.fill.is_some() || f.pattern.is_some() || f.len.is_some() {
            c.bytes(&f.fill, &f.pattern, &fp, false);
            match f.len {
                Some(l) => {
                    c.len(l, fp.k("len"));
                    spans.push((0, l, fp.k("len")));
                }
                None => c.push(
                    ErrorKind::BadValue,
                    fp.clone(),
                    "`fill`/`pattern` at file level needs `len`",
                ),
            }
        }
        for (j, r) in f.runs.iter().enumerate() {
            let rp = fp.k("runs").i(j);
            if r.unwritten {
                if f.layout != Layout::Extents {
                    c.push(
                        ErrorKind::BadValue,
                        rp.k("unwritten"),
                        "unwritten runs need layout = \"extents\"",
                    );
                }
                if r.fill.is_some() || r.pattern.is_some() {
                    c.push(
                        ErrorKind::BadValue,
                        rp.clone(),
                        "an unwritten run reads as zeros: drop `fill`/`pattern`",
                    );
                }
            } else {
                c.bytes(&r.fill, &r.pattern, &rp, false);
            }
            c.len(r.len, rp.k("len"));
            spans.push((r.offset, r.len, rp));
        }
        spans.sort_by_key(|x| x.0);
        let mut end = 0u64;
        for (off, len, sp) in &spans {
            if *off < end {
                c.push(
                    ErrorKind::BadValue,
                    sp.clone(),
                    "this run overlaps the one before it",
                );
            }
            end = end.max(off.saturating_add(*len));
        }
        let size = f.size.unwrap_or(end);
        if size < end {
            c.push(
                ErrorKind::BadValue,
                fp.k("size"),
                format!("size {size} is smaller than the end of the contents ({end})"),
            );
        }
        if size > image_bytes / 2 {
            c.push(
                ErrorKind::BadValue,
                fp.k("size"),
                "the file is larger than half the image",
            );
        }
        for (j, h) in f.holes.iter().enumerate() {
            let hp = fp.k("holes").i(j);
            let hend = h.offset.saturating_add(h.len);
            if h.len == 0 || hend > size {
                c.push(
                    ErrorKind::BadValue,
                    hp,
                    "a hole must be non-empty and inside the file's size",
                );
            } else if spans
                .iter()
                .any(|(o, l, _)| *o < hend && h.offset < o.saturating_add(*l))
            {
                c.push(ErrorKind::BadValue, hp, "this hole overlaps a run of data");
            }
        }
        if f.layout == Layout::Inline {
            let max = 60 + u64::from(img.inode_size).saturating_sub(188);
            if size > max || !f.holes.is_empty() {
                c.push(
                    ErrorKind::BadValue,
                    fp.clone(),
                    format!(
                        "inline data holds at most {max} bytes with {}-byte inodes, and no holes",
                        img.inode_size
                    ),
                );
            }
        }
    }
    out
}
