//! Revoke blocks (`jbd2_journal_revoke_header_t`, 4- or 8-byte entries).

use super::*;

/// Decode the revoke records of a revoke block, like `scan_revoke_records`:
/// `r_count` (0xC) counts bytes used including the 16-byte header; it may
/// not exceed the block minus the tail. Entries are 8 bytes with 64BIT.
pub fn revoke_records(fmt: TagFormat, block: u32, b: &[u8]) -> Result<Vec<u64>, JournalError> {
    let rcount = be32(b, 0x0C) as usize;
    let max = b.len().saturating_sub(fmt.tail_size());
    if rcount > max {
        return Err(JournalError::Corrupt {
            block,
            what: format!("revoke block r_count {rcount} exceeds {max} usable bytes"),
        });
    }
    let record_len = if fmt.is_64bit { 8 } else { 4 };
    let mut out = Vec::new();
    let mut off = REVOKE_HEADER_SIZE;
    while off + record_len <= rcount {
        out.push(if record_len == 8 {
            be64(b, off)
        } else {
            u64::from(be32(b, off))
        });
        off += record_len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_rcount_bounds() {
        let fmt = TagFormat {
            csum: CsumVersion::V3,
            is_64bit: true,
        };
        let mut b = vec![0u8; 1024];
        put_be32(&mut b, 0x0C, 16 + 16);
        put_be64(&mut b, 16, 77);
        put_be64(&mut b, 24, 78);
        assert_eq!(revoke_records(fmt, 3, &b).unwrap(), vec![77, 78]);
        put_be32(&mut b, 0x0C, 1021);
        assert!(revoke_records(fmt, 3, &b).is_err());
    }
}
