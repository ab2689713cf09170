//! `ext4lab history [--json]`: the registry of modelled kernel changes
//! (crate/scenario/history.rs) and which built-in variants run each one.

use ext4lab::scenario::history::{Change, ChangeInfo, REGISTRY};
use ext4lab::scenario::{builtins, parse_scenario};

/// How a built-in variant uses a change: merged into its kernel version, or
/// named in its `apply`/`revert`.
fn uses(info: &ChangeInfo) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for b in builtins() {
        let Ok(sc) = parse_scenario(b.text) else {
            continue;
        };
        for v in &sc.variants {
            let how = if v.apply.iter().any(|id| id == info.id) {
                "apply"
            } else if v.revert.iter().any(|id| id == info.id) {
                "revert"
            } else {
                match sc.resolve(&v.name, &Default::default()) {
                    Ok(rc) if sc.kernel.is_some() && rc.applied(info.change) => "version",
                    _ => continue,
                }
            };
            out.push(serde_json::json!({"scenario": b.id, "variant": v.name, "how": how}));
        }
    }
    out
}

/// `ext4lab history [--json]`.
pub fn cmd_history(json: bool) -> i32 {
    let rows: Vec<serde_json::Value> = REGISTRY
        .iter()
        .map(|c| {
            let mut j = serde_json::to_value(c).unwrap_or_default();
            j["kind"] = serde_json::to_value(c.kind()).unwrap_or_default();
            j["merged"] = serde_json::Value::String(c.merged.unwrap_or("unmerged").to_string());
            j["requires"] = c
                .requires
                .iter()
                .map(|r| serde_json::Value::String(Change::id(*r).to_string()))
                .collect();
            j["used_by"] = serde_json::Value::Array(uses(c));
            j
        })
        .collect();
    if json {
        println!("{}", serde_json::Value::Array(rows));
        return 0;
    }
    for (c, j) in REGISTRY.iter().zip(&rows) {
        println!(
            "{:<28} {:<12} {}  ({}, {})",
            c.id,
            c.merged.unwrap_or("unmerged"),
            c.title,
            c.author,
            c.date
        );
        let used: Vec<String> = j["used_by"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|u| {
                        format!(
                            "{}/{}{}",
                            u["scenario"].as_str().unwrap_or(""),
                            u["variant"].as_str().unwrap_or(""),
                            match u["how"].as_str() {
                                Some("apply") => " (+)",
                                Some("revert") => " (-)",
                                _ => "",
                            }
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !used.is_empty() {
            println!("{:<28} used by {}", "", used.join(", "));
        }
    }
    0
}
