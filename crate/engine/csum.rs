//! Checksums. ext4's metadata_csum and jbd2's CSUM_V2/V3 use crc32c
//! (Castagnoli). The kernel's `ext4_chksum(sbi, crc, address, length)` is a
//! raw crc32c update without the final inversion, seeded by the caller.

/// `ext4_chksum`: continue a crc32c over `data` from `crc`, the kernel way
/// (no pre/post inversion; callers seed with `!0` or a previous value).
pub fn ext4_chksum(crc: u32, data: &[u8]) -> u32 {
    // The crc32c crate's `crc32c_append` applies the standard pre/post
    // inversion; undo it so the result matches the kernel's raw update.
    !crc32c::crc32c_append(!crc, data)
}

/// The standard (inverted) crc32c of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        // The CRC-32C check value from the RFC 3720 test vectors.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn raw_update_composes() {
        let whole = ext4_chksum(!0, b"hello world");
        let parts = ext4_chksum(ext4_chksum(!0, b"hello "), b"world");
        assert_eq!(whole, parts);
        assert_eq!(!whole, crc32c(b"hello world"));
    }
}
