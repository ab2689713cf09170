//! `ext4lab recover IMAGE [--json]`: replay the journal of an image file in
//! place, as a mount does (`ext4_load_journal`), leaving the journal empty
//! and INCOMPAT_RECOVER clear. Exit 0: done (replayed or already clean);
//! 8: the image could not be opened or recovery failed.

use ext4lab::device::FileDevice;
use ext4lab::engine::ext4_recover_device;
use std::path::Path;

pub fn cmd_recover(image: &str, json: bool) -> i32 {
    let dev = match FileDevice::open(Path::new(image), false) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("ext4lab recover: {image}: {e}");
            return 8;
        }
    };
    match ext4_recover_device(dev) {
        Ok((_dev, report)) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(s) => println!("{s}"),
                    Err(e) => {
                        eprintln!("ext4lab recover: {e}");
                        return 8;
                    }
                }
            } else if !report.has_journal {
                println!("{image}: no journal");
            } else if let Some(r) = &report.recovery {
                println!(
                    "{image}: replayed {} transaction(s) {}..{}, {} block(s), {} revoke record(s), {} revoked copies skipped",
                    r.transactions_replayed,
                    r.start_transaction,
                    r.end_transaction,
                    r.replayed.len(),
                    r.nr_revokes,
                    r.nr_revoke_hits
                );
                if let Some(e) = &r.error {
                    println!("{image}: recovery reported: {e}");
                }
            } else {
                println!("{image}: journal clean, nothing to replay");
            }
            0
        }
        Err(e) => {
            eprintln!("ext4lab recover: {image}: {e}");
            8
        }
    }
}
