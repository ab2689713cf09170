//! `ext4lab history [--json]`: the registry of modelled kernel changes
//! (crate/scenario/history.rs) and which built-in variants run each one.

use ext4lab::scenario::history::history_rows;

/// `ext4lab history [--json]`.
pub fn cmd_history(json: bool) -> i32 {
    let rows = history_rows();
    if json {
        println!("{}", serde_json::to_string(&rows).unwrap_or_default());
        return 0;
    }
    for c in &rows {
        println!(
            "{:<28} {:<12} {}  ({}, {}){}",
            c.id,
            c.merged,
            c.title,
            c.author,
            c.date,
            if c.modelled { "" } else { "  [not modelled]" }
        );
        let used: Vec<String> = c
            .used_by
            .iter()
            .map(|u| {
                format!(
                    "{}/{}{}",
                    u.scenario,
                    u.variant,
                    match u.how {
                        "apply" => " (+)",
                        "revert" => " (-)",
                        _ => "",
                    }
                )
            })
            .collect();
        if !used.is_empty() {
            println!("{:<28} used by {}", "", used.join(", "));
        }
    }
    0
}
