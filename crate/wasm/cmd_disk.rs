//! `{cmd: "disk", target, token, step}`: the disk and journal of a scenario
//! run, at the start and after trace step `step` (`crate::view::disk`, which
//! `ext4lab replay LINK --disk` shows too). Here only what is the worker's:
//! the target resolved, and its image built on the recipe's mkfs or on a
//! base image loaded into the worker.

use std::rc::Rc;

use serde::Deserialize;

use super::device::base;
use crate::view::disk::{disk_view, DiskBody};
use crate::view::explore::{scenario_image, Target};
use crate::view::Failure;

#[derive(Debug, Deserialize)]
pub struct DiskReq {
    pub target: Target,
    pub token: String,
    /// Trace step whose state to show; none: the end of the run.
    #[serde(default)]
    pub step: Option<u32>,
}

pub fn handle_disk(req: DiskReq) -> Result<DiskBody, Failure> {
    if let Target::Model { .. } = &req.target {
        return Err(Failure::new(
            "no-disk",
            "reference models have no disk".into(),
        ));
    }
    let (sc, rc, base_ref) = req.target.resolved()?;
    let img = Rc::new(scenario_image(&sc, base_ref, &base::get)?);
    disk_view(Rc::new(sc), rc, img, &req.token, req.step)
}
