//! `ext4lab replay LINK --disk [--step N] [--json]`: the disk and journal
//! view of the link's run (`ext4lab::view::disk`, the page's Disk & journal
//! tab) at the start and after trace step N (default: the end of the run).
//! `--json` prints the data the worker sends the page; without it, the
//! text form (`view::disk::disk_text`).

use std::rc::Rc;

use ext4lab::kernel::image::ScenarioImage;
use ext4lab::scenario::link::Link;
use ext4lab::scenario::{RunConfig, Scenario};
use ext4lab::sim::EndKind;
use ext4lab::view::disk::{disk_text, disk_view};

/// Prints the view; exit 0, 1 when the link's image is not the recipe's,
/// the token is bad or the run has no step N, 2 when the schedule diverged
/// (as `replay`: the view is then where the run stopped).
pub fn cmd_replay_disk(
    l: &Link,
    sc: Rc<Scenario>,
    rc: RunConfig,
    img: Rc<ScenarioImage>,
    step: Option<u32>,
    json: bool,
) -> i32 {
    if let Some(b) = &l.base {
        // The page's worker holds the stored image; the CLI would show the
        // recipe's image instead, which is not the run the link shows.
        eprintln!(
            "ext4lab replay --disk: the link's run starts from the stored image `{}` ({}), which only the page's image library has",
            b.name, b.hash
        );
        return 1;
    }
    let body = match disk_view(sc, rc, img, &l.schedule, step) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("ext4lab replay --disk: {e}");
            return 1;
        }
    };
    if let Some(s) = step.filter(|&s| !body.has_step(s)) {
        let n = body.at.steps;
        eprintln!(
            "ext4lab replay --disk: --step {s} is past the end of the run: it has {n} step{} ({})",
            if n == 1 { "" } else { "s" },
            match n {
                0 => "none to show".to_string(),
                1 => "step 0".to_string(),
                n => format!("steps 0 to {}", n - 1),
            }
        );
        return 1;
    }
    if json {
        match serde_json::to_string(&body) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("ext4lab replay --disk: {e}");
                return 1;
            }
        }
    } else {
        print!("{}", disk_text(&body, step));
    }
    if body.at.end == EndKind::Diverged {
        eprintln!(
            "ext4lab replay --disk: made with {}, the schedule diverged after {} steps: the state shown is where it stopped (ext4lab replay --refind finds it again)",
            l.made_with(),
            body.at.steps
        );
        return 2;
    }
    0
}
