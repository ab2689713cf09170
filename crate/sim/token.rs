//! Schedules and their replay tokens.
//!
//! A schedule is the list of every choice the scheduler made in one
//! execution: for a scheduling decision the [`crate::sim::Actor`] id, for a value
//! decision ([`crate::sim::nondet`]) the value. The token is
//! `"v1."` followed by the unpadded base64url encoding of the choices as
//! LEB128 varints. Version 1 is the only version so far; a decoder must keep
//! accepting every version it ever emitted.

use serde::{Deserialize, Serialize};

/// Token format prefix of version 1.
pub const TOKEN_V1: &str = "v1.";

/// A recorded schedule: the choices of one execution, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Schedule(pub Vec<u32>);

/// Why a token could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token does not start with a known version prefix.
    #[error("unknown replay token version (expected \"v1.\")")]
    UnknownVersion,
    /// A character outside base64url.
    #[error("bad character in replay token at {0}")]
    BadChar(usize),
    /// A varint runs past the end or past 32 bits.
    #[error("truncated or oversized choice in replay token")]
    BadVarint,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Schedule {
    /// The replay token of this schedule.
    pub fn to_token(&self) -> String {
        let mut bytes = Vec::with_capacity(self.0.len() + 4);
        for &c in &self.0 {
            let mut v = c;
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    bytes.push(b);
                    break;
                }
                bytes.push(b | 0x80);
            }
        }
        let mut out = String::with_capacity(TOKEN_V1.len() + bytes.len() * 4 / 3 + 2);
        out.push_str(TOKEN_V1);
        for chunk in bytes.chunks(3) {
            let n = chunk.len();
            let w = (u32::from(chunk[0]) << 16)
                | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
                | u32::from(*chunk.get(2).unwrap_or(&0));
            for i in 0..=n {
                out.push(B64[((w >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    /// Decodes a token made by [`Schedule::to_token`] (any supported version).
    pub fn from_token(token: &str) -> Result<Schedule, TokenError> {
        let body = token
            .trim()
            .strip_prefix(TOKEN_V1)
            .ok_or(TokenError::UnknownVersion)?;
        let mut bytes = Vec::with_capacity(body.len() * 3 / 4 + 1);
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        for (i, ch) in body.bytes().enumerate() {
            let v = B64
                .iter()
                .position(|&b| b == ch)
                .ok_or(TokenError::BadChar(i + TOKEN_V1.len()))? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        let mut choices = Vec::with_capacity(bytes.len());
        let mut cur: u64 = 0;
        let mut shift = 0u32;
        for &b in &bytes {
            cur |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                let c = u32::try_from(cur).map_err(|_| TokenError::BadVarint)?;
                choices.push(c);
                cur = 0;
                shift = 0;
            } else {
                shift += 7;
                if shift > 28 {
                    return Err(TokenError::BadVarint);
                }
            }
        }
        if shift != 0 {
            return Err(TokenError::BadVarint);
        }
        Ok(Schedule(choices))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips() {
        for s in [
            vec![],
            vec![0],
            vec![1, 2, 3],
            vec![127, 128, 300, 70000, u32::MAX],
        ] {
            let sched = Schedule(s);
            let t = sched.to_token();
            assert!(t.starts_with("v1."));
            assert!(t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
            assert_eq!(Schedule::from_token(&t).unwrap(), sched);
        }
    }

    #[test]
    fn bad_tokens_are_errors() {
        assert_eq!(
            Schedule::from_token("v9.AA"),
            Err(TokenError::UnknownVersion)
        );
        assert!(matches!(
            Schedule::from_token("v1.A*"),
            Err(TokenError::BadChar(4))
        ));
        assert_eq!(Schedule::from_token("v1.gA"), Err(TokenError::BadVarint));
    }
}
