#![cfg(not(target_arch = "wasm32"))]
//! The disk and journal view (`ext4lab::view::disk`) natively, on stored
//! replay fixtures: what the page's Disk & journal tab and `ext4lab replay
//! LINK --disk` show. S1's `jbd2-convert` lost write: f is inline at the
//! start, maps a block written in this run at the end, and the journal
//! lists committed transactions that log it. S5's delalloc stale read: at
//! the outcome's step the exposed block is mapped into f but still holds
//! the deleted secret's bytes.

use std::rc::Rc;

use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{run_options, scenario_model};
use ext4lab::scenario::link::decode_link;
use ext4lab::sim::{replay, OutcomeKind};
use ext4lab::view::disk::{disk_view, DiskBody, DiskState, FileView};

const S1_LOST_WRITE: &str = include_str!("fixtures/replay/s1-jbd2-convert-default-lost-write.json");
const S5_STALE: &str = include_str!("fixtures/replay/s5-v5.5-mount-delalloc-stale-data.json");

fn link_of(fixture: &str) -> String {
    let fx: serde_json::Value = serde_json::from_str(fixture).expect("fixture json");
    fx["link"].as_str().expect("link").to_string()
}

/// The disk view of the fixture's run at `step` (none: the end).
fn view(fixture: &str, step: Option<u32>) -> DiskBody {
    let l = decode_link(&link_of(fixture)).expect("link decodes");
    let (sc, rc) = l.open().expect("link opens");
    let img = Rc::new(build_image(&sc).expect("image"));
    disk_view(Rc::new(sc), rc, img, &l.schedule, step).expect("disk view")
}

fn file<'a>(s: &'a DiskState, name: &str) -> &'a FileView {
    s.files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no file {name} in {s:?}"))
}

#[test]
fn s1_lost_write_maps_f_and_journals_it_at_the_end() {
    let d = view(S1_LOST_WRITE, None);
    assert_eq!(d.block_size, 4096);
    assert_eq!(d.start.steps, 0);
    // At the start f is inline: no block, nothing of this run on disk.
    let f0 = file(&d.start, "f");
    assert_eq!(f0.layout, "inline", "{f0:?}");
    assert!(f0.extents.is_empty(), "{f0:?}");
    assert!(f0.blocks.iter().all(|b| b.pblk.is_none()), "{f0:?}");
    // At the end the conversion has mapped logical block 0, written in
    // this run.
    let f = file(&d.at, "f");
    assert_eq!(f.layout, "extents", "{f:?}");
    assert_eq!(f.extents.len(), 1, "{f:?}");
    let e = &f.extents[0];
    assert_eq!((e.lblk, e.len, e.unwritten), (0, 1, false), "{f:?}");
    let b0 = &f.blocks[0];
    assert_eq!(b0.pblk, Some(e.pblk), "{f:?}");
    assert_eq!(b0.state, "written", "{f:?}");
    assert_eq!(b0.disk.as_deref(), Some("this run"), "{f:?}");
    // The journal: every transaction found committed, and one of them
    // logs f's block (the jbd2 path journals the converted data).
    let j = d.at.journal.as_ref().expect("journal parses");
    assert!(d.at.journal_error.is_none(), "{:?}", d.at.journal_error);
    assert!(!j.transactions.is_empty(), "{j:?}");
    assert!(j.transactions.iter().all(|t| t.commit.is_some()), "{j:?}");
    assert!(
        j.transactions
            .iter()
            .any(|t| t.tags.iter().any(|g| g.blocknr == e.pblk)),
        "no transaction logs block {}: {j:?}",
        e.pblk
    );
    // The start's journal is empty: nothing logged before the run.
    let j0 = d.start.journal.as_ref().expect("journal parses");
    assert!(j0.transactions.is_empty(), "{j0:?}");
}

#[test]
fn s1_at_step_0_no_block_of_f_is_written_in_this_run() {
    let d = view(S1_LOST_WRITE, Some(0));
    assert_eq!(d.at.steps, 1);
    let f = file(&d.at, "f");
    assert!(
        f.blocks
            .iter()
            .all(|b| b.state != "written" && b.disk.as_deref() != Some("this run")),
        "{f:?}"
    );
}

#[test]
fn s5_the_exposed_block_is_stale_at_the_outcome_step() {
    let l = decode_link(&link_of(S5_STALE)).unwrap();
    let (sc, rc) = l.open().unwrap();
    let sc = Rc::new(sc);
    let img = Rc::new(build_image(&sc).unwrap());
    let model = scenario_model(sc.clone(), rc.clone(), img);
    let exec = replay(&model, &l.schedule, &run_options(&sc, &rc)).unwrap();
    let out = exec
        .outcomes
        .iter()
        .find(|o| o.kind == OutcomeKind::StaleData)
        .expect("the stored link's stale read");
    let block = out.blocks[0];
    let d = view(S5_STALE, Some(out.step));
    let f = file(&d.at, "f");
    let b1 = &f.blocks[1];
    assert_eq!(b1.pblk, Some(block), "{f:?}");
    assert_eq!(b1.state, "stale", "{f:?}");
    assert_eq!(b1.disk.as_deref(), Some("secret"), "{f:?}");
    // At the start the same logical block is a hole, and nothing is stale.
    let f0 = file(&d.start, "f");
    assert_eq!(f0.blocks[1].state, "hole", "{f0:?}");
    assert_eq!(f0.blocks[0].state, "written", "{f0:?}");
    assert!(f0.blocks.iter().all(|b| b.state != "stale"), "{f0:?}");
}
