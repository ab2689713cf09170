#![cfg(not(target_arch = "wasm32"))]
//! The disk and journal view (`ext4lab::view::disk`) natively, on stored
//! replay fixtures: what the page's Disk & journal tab and `ext4lab replay
//! LINK --disk` show. S1's `jbd2-convert` lost write: f is inline at the
//! start, maps a block written in this run at the end, and the journal
//! lists committed transactions that log it. S5's delalloc stale read: at
//! the outcome's step the exposed block is mapped into f but still holds
//! the deleted secret's bytes. And the CLI prints the same data.

#[path = "common/cli.rs"]
mod cli;
use cli::ext4lab;

use std::rc::Rc;

use ext4lab::kernel::image::build_image;
use ext4lab::kernel::runner::{run_options, scenario_model};
use ext4lab::scenario::link::decode_link;
use ext4lab::sim::{replay, OutcomeKind};
use ext4lab::view::disk::{disk_text, disk_view, DiskBody, DiskState, FileView};

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
    assert!(d.has_step(0));
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
fn a_step_past_the_end_of_the_run_shows_the_end_and_says_so() {
    let end = view(S1_LOST_WRITE, None);
    let n = end.at.steps;
    assert!(n > 1);
    let d = view(S1_LOST_WRITE, Some(n));
    assert!(!d.has_step(n));
    assert_eq!(d.at.steps, n, "the run ends where it ends");
    let last = view(S1_LOST_WRITE, Some(n - 1));
    assert!(last.has_step(n - 1));
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
    assert!(d.has_step(out.step));
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
    // The text form names the state and whose bytes the block holds.
    let text = disk_text(&d, Some(out.step));
    assert!(text.contains(&format!("after step {}", out.step)), "{text}");
    let line = text
        .lines()
        .filter(|l| l.contains("stale"))
        .find(|l| l.contains(&block.to_string()))
        .unwrap_or_else(|| panic!("no stale line for block {block}:\n{text}"));
    assert!(line.contains("secret"), "{line}");
}

#[test]
fn cli_replay_disk_prints_the_view_as_text_and_json() {
    let link = link_of(S1_LOST_WRITE);
    let (code, out, err) = ext4lab(&["replay", &link, "--disk", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON document");
    // The worker's answer, minus `ok`: the same fields in the same order.
    assert!(
        out.starts_with(r#"{"block_size":4096,"start":{"steps":0,"end":"#),
        "{out}"
    );
    assert!(out.contains(r#"},"at":{"steps":"#), "{out}");
    let f = v["at"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "f")
        .expect("file f");
    assert_eq!(f["layout"], "extents");
    assert_eq!(f["blocks"][0]["state"], "written");
    assert!(!v["at"]["journal"]["transactions"]
        .as_array()
        .unwrap()
        .is_empty());
    // The same body the library builds.
    let d = view(S1_LOST_WRITE, None);
    assert_eq!(v, serde_json::to_value(&d).unwrap());

    let (code, out, err) = ext4lab(&["replay", &link, "--disk"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("file f (inode "), "{out}");
    assert!(out.contains("at the end of the run"), "{out}");
    assert!(out.contains("transaction "), "{out}");
    assert!(out.contains("written"), "{out}");

    let (code, out, err) = ext4lab(&["replay", &link, "--disk", "--step", "0"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("after step 0 (1 step,"), "{out}");
}

#[test]
fn cli_replay_disk_step_past_the_end_is_an_error() {
    let link = link_of(S1_LOST_WRITE);
    let (code, out, err) = ext4lab(&["replay", &link, "--disk", "--step", "100000"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("--step 100000 is past the end of the run"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // --step belongs to --disk.
    let (code, _, err) = ext4lab(&["replay", &link, "--step", "0"]);
    assert_eq!(code, 2, "{err}");
}
