//! The migration chain: every link version this build can read, decoded
//! into its own struct, then upgraded one version at a time to the current
//! [`Link`].
//!
//! Adding version 2: write `v2.rs` with `LinkV2` (its own wire struct), add
//! `AnyLink::V2`, make `parse_payload` accept 2, turn V1's `into_current`
//! into `LinkV1::upgrade(self) -> LinkV2`, and in [`upgrade`] step
//! `AnyLink::V1(x) => AnyLink::V2(x.upgrade())`. Keep the v1 fixtures in
//! tests/fixtures/links: they must still decode.

use super::v1::LinkV1;
use super::{Link, LinkError};

/// A decoded payload of any known version.
pub(super) enum AnyLink {
    V1(LinkV1),
}

/// Versions this build reads. Version 2 changed only the container (zlib
/// with its Adler-32 instead of raw deflate, see `super::decode_link_unchecked`);
/// its JSON payload is version 1's. Version 3 appends a CRC-32C of the JSON
/// to the zlib stream, and adds the engine version that
/// made the link (`e`, required) and the outcome kind it shows (`w`,
/// optional) to the same JSON object; a version 1 or 2 link has neither and
/// decodes with `engine: None` (made before links carried it: ext4lab
/// 0.1.x).
pub(super) fn is_known(version: u32) -> bool {
    (1..=3).contains(&version)
}

/// Decodes the payload of `version` into that version's struct.
pub(super) fn parse_payload(version: u32, json: &[u8]) -> Result<AnyLink, LinkError> {
    match version {
        1..=3 => {
            let l = LinkV1::parse(json)?;
            match (version, &l.e, &l.w) {
                (3, None, _) => Err(LinkError::BadPayload(
                    "a version 3 link names the engine version that made it (`e`)".into(),
                )),
                (1 | 2, Some(_), _) | (1 | 2, _, Some(_)) => Err(LinkError::BadPayload(format!(
                    "keys `e` and `w` first appear in link version 3, not {version}"
                ))),
                _ => Ok(AnyLink::V1(l)),
            }
        }
        v => Err(LinkError::UnknownVersion(v)),
    }
}

/// Upgrades a payload of any version to the current [`Link`], one version
/// at a time.
pub(super) fn upgrade(any: AnyLink) -> Result<Link, LinkError> {
    match any {
        AnyLink::V1(v1) => v1.into_current(),
    }
}
