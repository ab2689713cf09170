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
/// its JSON payload is version 1's.
pub(super) fn is_known(version: u32) -> bool {
    version == 1 || version == 2
}

/// Decodes the payload of `version` into that version's struct.
pub(super) fn parse_payload(version: u32, json: &[u8]) -> Result<AnyLink, LinkError> {
    match version {
        1 | 2 => LinkV1::parse(json).map(AnyLink::V1),
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
