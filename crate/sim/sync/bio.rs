//! Bios: `submit_bio` returns at once; the completion (`bi_end_io`) runs
//! later as its own schedulable task ("bio N", process "softirq"), so the
//! scheduler decides when the I/O finishes relative to everything else.
//! A crash while a bio is in flight leaves it listed in
//! [`crate::sim::EndView::inflight_bios`].

use std::borrow::Cow;

use crate::sim::rt::clock::Access;
use crate::sim::rt::{self, Op, OpKind};
use crate::sim::trace::EventKind;

use super::Completion;

/// A bio's number in its execution (submission order).
pub type BioId = u32;

/// `submit_bio` of one block; `end_io` runs when the bio completes, then
/// the returned completion is completed (`submit_bio_wait` = this followed
/// by `Completion::wait`).
pub fn submit_bio(block: u64, write: bool, end_io: impl FnOnce() + 'static) -> (BioId, Completion) {
    let (bio, done, obj) = rt::with(|rt| {
        let bio = rt.bio_seq;
        rt.bio_seq += 1;
        let obj = rt.block_obj(block);
        if rt.opts.trace {
            rt.event(EventKind::BioSubmit { bio, block, write });
        }
        (bio, obj, obj)
    });
    let _ = done;
    let done = Completion::new(Cow::Owned(format!("bio {bio} done")));
    let name = format!(
        "bio {bio} {} block {block}",
        if write { "write" } else { "read" }
    );
    rt::with(|rt| {
        rt.inflight.push((bio, block, write));
    });
    crate::sim::spawn_in("softirq", name, async move {
        rt::schedule_point(Op::new(OpKind::BioComplete, obj)).await;
        rt::with(|rt| {
            rt.access(obj, Access::Write);
            rt.inflight.retain(|b| b.0 != bio);
            if rt.opts.trace {
                rt.event(EventKind::BioComplete { bio, block });
            }
        });
        end_io();
        done.complete();
    });
    (bio, done)
}
