//! Casefolded names (fs/unicode/utf8-core.c `utf8_casefold` with the
//! `utf8_nfdicf` tables): a name of a casefolded directory is hashed, and
//! compared, as the canonical decomposition of its full case folding.
//!
//! The kernel's tables are Unicode 12.1 (`EXT4_ENC_UTF8_12_1`, the only
//! encoding `s_encoding` may name); this uses the `caseless` and
//! `unicode-normalization` crates (Unicode 16). Names made only of
//! characters assigned by Unicode 12.1 fold the same; a character assigned
//! later is folded here but is invalid (hashed as raw bytes) for the
//! kernel. Invalid UTF-8 is `None`: the kernel then hashes the raw bytes
//! (`opaque_seq`) unless the encoding is strict, where such names are
//! refused.

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// `utf8_casefold`: NFD(casefold(NFD(name))) as UTF-8, or `None` when the
/// name is not valid UTF-8.
pub fn casefold(name: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(name).ok()?;
    if s.bytes().all(|b| b.is_ascii()) {
        return Some(s.to_ascii_lowercase().into_bytes());
    }
    let folded: String = s.nfd().default_case_fold().nfd().collect();
    Some(folded.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_decomposes() {
        assert_eq!(casefold(b"ReadMe.TXT").unwrap(), b"readme.txt");
        // U+00C5 (A with ring) folds to a + U+030A.
        assert_eq!(
            casefold("\u{c5}".as_bytes()).unwrap(),
            "a\u{30a}".as_bytes()
        );
        assert_eq!(casefold("Stra\u{df}e".as_bytes()).unwrap(), b"strasse");
        assert!(casefold(b"\xff\xfe").is_none());
    }
}
