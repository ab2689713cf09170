//! File and step contents as byte generators: what the engine's mkfs writes
//! into a file and what a write or store step puts in memory.
//!
//! A run's bytes are a repeated pattern starting at the run's own offset:
//! byte `i` of a run is `pattern[i % pattern.len()]` (a `fill` is a
//! one-byte pattern).

use serde::Serialize;

use super::model::{FileSpec, Scenario};
use super::step::Step;

/// A repeated byte pattern (never empty once validated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pattern(pub Vec<u8>);

impl Pattern {
    /// From the text's `fill`/`pattern` pair; `None` if neither is given.
    pub fn from_fields(fill: &Option<String>, pattern: &Option<String>) -> Option<Pattern> {
        fill.as_ref()
            .or(pattern.as_ref())
            .filter(|s| !s.is_empty())
            .map(|s| Pattern(s.as_bytes().to_vec()))
    }

    /// Byte `i` counted from the start of the run.
    pub fn byte_at(&self, i: u64) -> u8 {
        let n = self.0.len() as u64;
        if n == 0 {
            return 0;
        }
        self.0.get((i % n) as usize).copied().unwrap_or(0)
    }

    /// Fills `buf` with the run's bytes `[start, start + buf.len())`:
    /// byte `k` of `buf` is [`Pattern::byte_at`]`(start + k)`. Copies whole
    /// repeats of the pattern (a 4 KiB write's bytes were a twelfth of an
    /// S6 exploration's time when made one `byte_at` at a time).
    pub fn fill(&self, start: u64, buf: &mut [u8]) {
        let n = self.0.len();
        if n == 0 {
            buf.fill(0);
            return;
        }
        if n == 1 {
            buf.fill(self.0[0]);
            return;
        }
        if start.checked_add(buf.len() as u64).is_none() {
            // past u64::MAX the offset wraps: keep byte_at's arithmetic
            for (k, b) in buf.iter_mut().enumerate() {
                *b = self.byte_at(start.wrapping_add(k as u64));
            }
            return;
        }
        let mut at = (start % n as u64) as usize;
        let mut rest = buf;
        while !rest.is_empty() {
            let take = (n - at).min(rest.len());
            let (head, tail) = rest.split_at_mut(take);
            head.copy_from_slice(&self.0[at..at + take]);
            rest = tail;
            at = 0;
        }
    }
}

/// What a segment of a file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SegmentData {
    /// Written bytes.
    Bytes { pattern: Pattern },
    /// An allocated, unwritten extent (reads as zeros).
    Unwritten,
}

/// A byte range of a file with its contents; ranges not covered are holes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub offset: u64,
    pub len: u64,
    pub data: SegmentData,
}

impl FileSpec {
    /// The file's contents as segments sorted by offset (the file-level
    /// `fill`/`pattern` + `len` shorthand first becomes a segment at 0).
    pub fn segments(&self) -> Vec<Segment> {
        let mut out = Vec::new();
        if let (Some(p), Some(len)) = (Pattern::from_fields(&self.fill, &self.pattern), self.len) {
            out.push(Segment {
                offset: 0,
                len,
                data: SegmentData::Bytes { pattern: p },
            });
        }
        for r in &self.runs {
            let data = match Pattern::from_fields(&r.fill, &r.pattern) {
                Some(p) if !r.unwritten => SegmentData::Bytes { pattern: p },
                _ => SegmentData::Unwritten,
            };
            out.push(Segment {
                offset: r.offset,
                len: r.len,
                data,
            });
        }
        out.sort_by_key(|s| s.offset);
        out
    }

    /// `i_size`: `size` if given, else the end of the last segment.
    pub fn i_size(&self) -> u64 {
        self.size.unwrap_or_else(|| {
            self.segments()
                .iter()
                .map(|s| s.offset.saturating_add(s.len))
                .max()
                .unwrap_or(0)
        })
    }
}

impl Step {
    /// The bytes a `write` or `store` puts down (`None` for a write whose
    /// bytes come `from` a mapping, and for other steps).
    pub fn pattern(&self) -> Option<Pattern> {
        match self {
            Step::Write { fill, pattern, .. } | Step::Store { fill, pattern, .. } => {
                Pattern::from_fields(fill, pattern)
            }
            _ => None,
        }
    }
}

impl Scenario {
    /// The patterns of deleted files: bytes the stale-data oracle attributes
    /// to a "secret" when a read returns them.
    pub fn secret_patterns(&self) -> Vec<(&str, Pattern)> {
        self.image
            .files
            .iter()
            .filter(|f| f.deleted)
            .filter_map(|f| {
                f.segments().into_iter().find_map(|s| match s.data {
                    SegmentData::Bytes { pattern } => Some((f.name.as_str(), pattern)),
                    SegmentData::Unwritten => None,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{builtin, parse_scenario};

    #[test]
    fn patterns_repeat_from_the_run_start() {
        let p = Pattern(b"SECRET! ".to_vec());
        let mut buf = [0u8; 10];
        p.fill(6, &mut buf);
        assert_eq!(&buf, b"! SECRET! ");
        assert_eq!(Pattern(vec![]).byte_at(3), 0);
    }

    #[test]
    fn fill_gives_byte_at_of_every_offset() {
        for pat in [&b""[..], b"B", b"SECRET! ", b"xyz"] {
            let p = Pattern(pat.to_vec());
            for start in [0u64, 1, 5, 4095, 4096, 1 << 40, u64::MAX - 3] {
                for len in [0usize, 1, 2, 7, 8, 9, 100, 4096] {
                    let mut buf = vec![0xEEu8; len];
                    p.fill(start, &mut buf);
                    let want: Vec<u8> = (0..len as u64)
                        .map(|k| p.byte_at(start.wrapping_add(k)))
                        .collect();
                    assert_eq!(buf, want, "{pat:?} start {start} len {len}");
                }
            }
        }
    }

    #[test]
    fn s5_segments_and_secret() {
        let s = parse_scenario(builtin("s5").unwrap().text).unwrap();
        let f = s.image.files.iter().find(|f| f.name == "f").unwrap();
        let segs = f.segments();
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].offset, segs[1].offset), (0, 12288));
        assert_eq!(f.i_size(), 16384);
        let secrets = s.secret_patterns();
        assert_eq!(secrets.len(), 1);
        assert_eq!(secrets[0].0, "secret");
        assert_eq!(secrets[0].1 .0, b"SECRET! ");
        let store = &s.tasks[1].steps[0];
        assert_eq!(store.pattern(), Some(Pattern(b"B".to_vec())));
    }
}
