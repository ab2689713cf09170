//! `ext4lab merge FILE... [--json]`: the results of every shard of one
//! exploration (`ext4lab explore ... --shard I/N --json`, one document per
//! file) as one result, by the rules of `ext4lab::sim::merge`.
//!
//! Exit codes: 0 merged; 1 the files are not the shards of one exploration
//! (a missing or duplicate shard, different claims: scenario, variant,
//! options, kernel and changes, strategy, bound, engine) or cannot be read.

use ext4lab::sim::{check_shard_set, merge_reports, Report};
use serde_json::{json, Value};

/// One shard's result as `explore --json` wrote it.
struct Part {
    file: String,
    doc: Value,
    shard: (u32, u32),
    report: Report,
    seconds: f64,
}

fn read_part(file: &str) -> Result<Part, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{file}: not an `ext4lab explore --json` result: {e}"))?;
    let shard = doc["shard"]
        .as_str()
        .ok_or_else(|| format!("{file}: no `shard` field (made by an older ext4lab?)"))
        .and_then(|s| crate::cmd_explore::parse_shard(s).map_err(|e| format!("{file}: {e}")))?;
    if doc["claim"].is_null() {
        return Err(format!(
            "{file}: no `claim` field (made by an older ext4lab?)"
        ));
    }
    let report: Report = serde_json::from_value(doc["report"].clone())
        .map_err(|e| format!("{file}: no readable `report`: {e}"))?;
    let seconds = doc["seconds"].as_f64().unwrap_or(0.0);
    Ok(Part {
        file: file.to_string(),
        doc,
        shard,
        report,
        seconds,
    })
}

/// The first field in which two claims differ.
fn claim_difference(a: &Value, b: &Value) -> Option<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return (a != b).then(|| "claim".to_string());
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().find(|k| a.get(*k) != b.get(*k)).map(|k| {
        format!(
            "{k} ({} against {})",
            a.get(k).unwrap_or(&Value::Null),
            b.get(k).unwrap_or(&Value::Null)
        )
    })
}

/// `ext4lab merge`.
pub fn cmd_merge(files: &[String], as_json: bool) -> i32 {
    match merge(files) {
        Ok(v) => {
            if as_json {
                println!("{v}");
            } else {
                print_text(&v);
            }
            0
        }
        Err(e) => {
            eprintln!("ext4lab merge: {e}");
            1
        }
    }
}

fn merge(files: &[String]) -> Result<Value, String> {
    let mut parts = files
        .iter()
        .map(|f| read_part(f))
        .collect::<Result<Vec<_>, _>>()?;
    parts.sort_by_key(|p| p.shard.0);
    let first = parts.first().ok_or("no files")?;
    for p in &parts[1..] {
        if let Some(d) = claim_difference(&first.doc["claim"], &p.doc["claim"]) {
            return Err(format!(
                "{} and {} are not shards of one exploration: {d}",
                first.file, p.file
            ));
        }
    }
    let shards: Vec<(u32, u32)> = parts.iter().map(|p| p.shard).collect();
    check_shard_set(&shards).map_err(|e| {
        // name the files of a duplicate shard
        if let ext4lab::sim::MergeError::Duplicate { shard, .. } = e {
            let names: Vec<&str> = parts
                .iter()
                .filter(|p| p.shard.0 + 1 == shard)
                .map(|p| p.file.as_str())
                .collect();
            format!("{e} ({})", names.join(", "))
        } else {
            e.to_string()
        }
    })?;
    let reports: Vec<Report> = parts.iter().map(|p| p.report.clone()).collect();
    let merged = merge_reports(&reports);
    // each merged outcome keeps the link of the shard whose schedule it kept
    let outcomes: Vec<Value> = merged
        .outcomes
        .iter()
        .map(|r| {
            let shard_json = parts
                .iter()
                .flat_map(|p| p.doc["outcomes"].as_array().into_iter().flatten())
                .find(|o| {
                    o["schedule"].as_str() == Some(r.fewest_token.as_str())
                        && o["site"].as_str() == Some(r.key.site.as_str())
                });
            let mut o = shard_json.cloned().unwrap_or_else(|| json!({}));
            o["count"] = json!(r.count);
            o["preemptions"] = json!(r.fewest_preemptions);
            o
        })
        .collect();
    let execs: Vec<u64> = parts.iter().map(|p| p.report.stats.executions).collect();
    let mean = execs.iter().sum::<u64>() as f64 / execs.len() as f64;
    let balance = if mean > 0.0 {
        *execs.iter().max().unwrap_or(&0) as f64 / mean
    } else {
        1.0
    };
    let incomplete: Vec<String> = parts
        .iter()
        .filter(|p| !p.report.stats.exhausted)
        .map(|p| format!("{}/{}", p.shard.0 + 1, p.shard.1))
        .collect();
    let longest = parts.iter().map(|p| p.seconds).fold(0.0, f64::max);
    let d = &first.doc;
    Ok(json!({
        "claim": d["claim"],
        "scenario": d["scenario"],
        "variant": d["variant"],
        "options": d["options"],
        "kernel": d["kernel"],
        "changes": d["changes"],
        "custom": d["custom"],
        "strategy": d["strategy"],
        "dpor": d["dpor"],
        "bound": d["bound"],
        "shards": parts.len(),
        "executions": merged.stats.executions,
        "complete": merged.stats.exhausted,
        "incomplete_shards": incomplete,
        "shard_executions": execs,
        "balance": (balance * 1000.0).round() / 1000.0,
        "longest_shard_seconds": longest,
        "foreign_executions": merged.stats.foreign_executions,
        "steps": merged.stats.steps,
        "stats": merged.stats,
        "outcomes": outcomes,
        "report": merged,
    }))
}

fn print_text(v: &Value) {
    let incomplete = v["incomplete_shards"].as_array().map_or(0, Vec::len);
    println!(
        "{} / {}: {} executions over {} shards (busiest {}x the mean), {}",
        v["scenario"].as_str().unwrap_or(""),
        v["variant"].as_str().unwrap_or(""),
        v["executions"],
        v["shards"],
        v["balance"],
        if incomplete == 0 {
            "complete".to_string()
        } else {
            format!(
                "incomplete: shards {} did not finish",
                v["incomplete_shards"]
            )
        }
    );
    crate::cmd_explore::print_outcomes(v["outcomes"].as_array().map_or(&[], Vec::as_slice));
}
