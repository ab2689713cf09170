//! Bios: `submit_bio` returns at once; the completion (`bi_end_io`) runs
//! later as its own schedulable task ("bio N", process "softirq"), so the
//! scheduler decides when the I/O finishes relative to everything else.
//! A crash while a bio is in flight leaves it listed in
//! [`crate::sim::EndView::inflight_bios`].

use crate::sim::rt::clock::Access;
use crate::sim::rt::{self, ObjName, Op, OpKind};
use crate::sim::trace::EventKind;

use super::Completion;

/// A bio's number in its execution (submission order).
pub type BioId = u32;

/// `submit_bio` of one block; `end_io` runs when the bio completes, then
/// the returned completion is completed (`submit_bio_wait` = this followed
/// by `Completion::wait`).
pub fn submit_bio(block: u64, write: bool, end_io: impl FnOnce() + 'static) -> (BioId, Completion) {
    submit_bio_blocks(block, 1, write, end_io)
}

/// `submit_bio` of `blocks` contiguous blocks from `block` (a bio the
/// kernel built by adding pages whose blocks follow each other, e.g.
/// `io_submit_add_bh`); one completion for all of them. Its task and trace
/// are those of a one-block bio when `blocks` is 1.
pub fn submit_bio_blocks(
    block: u64,
    blocks: u32,
    write: bool,
    end_io: impl FnOnce() + 'static,
) -> (BioId, Completion) {
    let blocks = blocks.max(1);
    let (bio, objs) = rt::with(|rt| {
        let bio = rt.bio_seq;
        rt.bio_seq += 1;
        let objs: Vec<_> = (0..u64::from(blocks))
            .map(|i| rt.block_obj(block + i))
            .collect();
        if rt.opts.trace {
            rt.event(EventKind::BioSubmit {
                bio,
                block,
                write,
                blocks,
            });
        }
        (bio, objs)
    });
    let obj = objs[0];
    let name = |done| ObjName::Bio {
        bio,
        write,
        block,
        blocks,
        done,
    };
    let done = Completion::new(name(true));
    let name = name(false);
    rt::with(|rt| {
        for i in 0..u64::from(blocks) {
            rt.inflight.push((bio, block + i, write));
        }
    });
    crate::sim::spawn_in("softirq", name, async move {
        rt::schedule_point(Op::new(OpKind::BioComplete, obj)).await;
        rt::with(|rt| {
            for &o in &objs {
                rt.access(o, Access::Write);
            }
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
