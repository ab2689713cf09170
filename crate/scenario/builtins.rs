//! The built-in scenarios (the five seed races s1..s5 and three more from
//! ext4's history, s6..s8), compiled into the binary from `scenarios/`.
//!
//! Each built-in has a content hash: FNV-1a 64 (offset basis
//! 0xcbf29ce484222325, prime 0x100000001b3) over the UTF-8 bytes of its text.
//! It is not a cryptographic hash; it only tells a share link whether the
//! built-in it names has changed since the link was made.

use serde::Serialize;

/// A built-in scenario: its ids, its text and the text's content hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Builtin {
    /// `s1`..`s5`.
    pub id: &'static str,
    /// Long name, e.g. `dio-vs-mkwrite`.
    pub name: &'static str,
    /// File name under `scenarios/`.
    pub file: &'static str,
    pub text: &'static str,
    /// [`fnv1a64`] of `text`.
    pub hash: u64,
}

impl Builtin {
    /// The scenario's title (from its `meta.title`); empty if it does not
    /// parse, which the test suite rules out.
    pub fn title(&self) -> String {
        super::parse_scenario(self.text)
            .map(|s| s.meta.title)
            .unwrap_or_default()
    }

    /// The content hash as 16 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

/// FNV-1a, 64-bit, over `bytes`.
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

macro_rules! builtin {
    ($id:literal, $name:literal, $file:literal) => {
        Builtin {
            id: $id,
            name: $name,
            file: $file,
            text: include_str!(concat!("../../scenarios/", $file)),
            hash: fnv1a64(include_str!(concat!("../../scenarios/", $file)).as_bytes()),
        }
    };
}

static BUILTINS: [Builtin; 8] = [
    builtin!(
        "s1",
        "inline-convert-replay",
        "s1-inline-convert-replay.toml"
    ),
    builtin!("s2", "mkwrite-inline", "s2-mkwrite-inline.toml"),
    builtin!("s3", "migrate-vs-mmap", "s3-migrate-vs-mmap.toml"),
    builtin!("s4", "journal-flag-switch", "s4-journal-flag-switch.toml"),
    builtin!("s5", "dio-vs-mkwrite", "s5-dio-vs-mkwrite.toml"),
    builtin!("s6", "punch-vs-fault", "s6-punch-vs-fault.toml"),
    builtin!(
        "s7",
        "journal-flag-unwritten",
        "s7-journal-flag-unwritten.toml"
    ),
    builtin!("s8", "data-journal-mmap", "s8-data-journal-mmap.toml"),
];

/// The built-in scenarios, in order s1..s8.
pub fn builtins() -> &'static [Builtin] {
    &BUILTINS
}

/// Looks a built-in up by id (`s5`) or long name (`dio-vs-mkwrite`).
pub fn builtin(key: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.id == key || b.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn lookup_by_id_and_name() {
        assert_eq!(builtin("s5").map(|b| b.name), Some("dio-vs-mkwrite"));
        assert_eq!(builtin("migrate-vs-mmap").map(|b| b.id), Some("s3"));
        assert_eq!(builtin("s6").map(|b| b.name), Some("punch-vs-fault"));
        assert!(builtin("s9").is_none());
        for b in builtins() {
            assert_eq!(b.hash, fnv1a64(b.text.as_bytes()));
        }
    }
}
