#![cfg(not(target_arch = "wasm32"))]
//! Tidy checks (in the spirit of rust-analyzer's xtask tidy): the layering
//! ARCHITECTURE.md states is enforced on the source text.
//!
//! - Each top-level module under crate/ imports only the layers below it
//!   (`crate::X` paths), per [`ALLOWED`].
//! - JavaScript crates (`wasm_bindgen`, `web_sys`, `js_sys`) appear only in
//!   crate/wasm.
//! - Every top-level module of crate/lib.rs is in ARCHITECTURE.md's code map.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which layers each top-level module may import (`crate::X`).
const ALLOWED: &[(&str, &[&str])] = &[
    ("device", &[]),
    ("engine", &["device"]),
    ("sim", &[]),
    ("scenario", &[]),
    ("kernel", &["device", "engine", "sim", "scenario"]),
    ("view", &["device", "engine", "sim", "scenario", "kernel"]),
    (
        "wasm",
        &["device", "engine", "sim", "scenario", "kernel", "view"],
    ),
];

const JS_CRATES: &[&str] = &["wasm_bindgen", "web_sys", "js_sys"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The source with comments removed (line and block comments; strings are
/// kept, which is conservative: a `crate::x` inside a string still counts).
fn strip_comments(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Problems in one file of top-level module `layer`: imports of layers it
/// may not use, and JavaScript crates outside crate/wasm.
fn check_file(layer: &str, name: &str, src: &str) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut problems = Vec::new();
    let code = strip_comments(src);
    let Some(ok) = allowed.get(layer) else {
        return vec![format!(
            "{name}: top-level module `{layer}` has no layering rule in tests/tidy.rs"
        )];
    };
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let target: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let is_layer = allowed.contains_key(target.as_str());
            if is_layer && target != layer && !ok.contains(&target.as_str()) {
                problems.push(format!(
                    "{name}:{}: `{layer}` imports `crate::{target}`, a layer it may not use",
                    n + 1
                ));
            }
            rest = after;
        }
        if layer != "wasm" {
            for js in JS_CRATES {
                if line.contains(js) {
                    problems.push(format!(
                        "{name}:{}: `{js}` outside crate/wasm (only crate/wasm knows JavaScript)",
                        n + 1
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn layers_import_only_what_is_below_them() {
    let crate_dir = root().join("crate");
    let mut problems = Vec::new();
    for (layer, _) in ALLOWED {
        let mut files = Vec::new();
        rust_files(&crate_dir.join(layer), &mut files);
        assert!(!files.is_empty(), "crate/{layer} has no sources");
        for f in files {
            let src = std::fs::read_to_string(&f).unwrap();
            let name = f.strip_prefix(root()).unwrap_or(&f).display().to_string();
            problems.extend(check_file(layer, &name, &src));
        }
    }
    assert!(
        problems.is_empty(),
        "layering violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn top_level_modules_are_in_the_code_map() {
    let lib = std::fs::read_to_string(root().join("crate/lib.rs")).unwrap();
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let allowed: Vec<&str> = ALLOWED.iter().map(|(l, _)| *l).collect();
    let mut missing = Vec::new();
    for line in lib.lines() {
        let Some(m) = line
            .trim()
            .strip_prefix("pub mod ")
            .and_then(|r| r.strip_suffix(';'))
        else {
            continue;
        };
        if !arch.contains(&format!("crate/{m}/")) {
            missing.push(format!("crate/{m}/ is not in ARCHITECTURE.md's code map"));
        }
        if !allowed.contains(&m) {
            missing.push(format!(
                "crate/{m}/ has no layering rule in tests/tidy.rs ALLOWED"
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The checker itself catches what it is for (so a broken checker cannot
/// pass silently): an upward import, a JavaScript crate below crate/wasm,
/// and nothing in a comment.
#[test]
fn the_checker_catches_violations() {
    let upward = "use crate::kernel::Kernel;\nfn f() {}\n";
    assert_eq!(check_file("engine", "x.rs", upward).len(), 1);
    assert!(check_file("kernel", "x.rs", "use crate::engine::fs::Ext4Fs;").is_empty());
    assert_eq!(
        check_file("sim", "x.rs", "use wasm_bindgen::JsValue;").len(),
        1
    );
    assert!(check_file("wasm", "x.rs", "use wasm_bindgen::JsValue;").is_empty());
    assert!(check_file("engine", "x.rs", "// see crate::kernel\n/* crate::wasm */").is_empty());
    assert!(check_file("scenario", "x.rs", "let x = crate::sim::now();").len() == 1);
}

/// The doc comment above line `at` of `lines` (its `///` and attribute
/// lines), or None when it cites no kernel release: a version (`v4.13`,
/// `2.6.25`), a registry change id (`p:...`, `h:...`) or a commit id.
fn cites_a_kernel(lines: &[&str], at: usize) -> bool {
    let mut doc = String::new();
    for l in lines[..at].iter().rev() {
        let t = l.trim();
        if t.starts_with("///") || t.starts_with("#[") {
            doc.push_str(t);
            doc.push(' ');
        } else {
            break;
        }
    }
    let words: Vec<&str> = doc
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == ':'))
        .collect();
    words.iter().any(|w| {
        let w = w.trim_end_matches('.');
        let version = |v: &str| {
            let parts: Vec<&str> = v.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        (w.starts_with('v') && version(&w[1..]))
            || (w.starts_with("2.6.") && version(w))
            || w.starts_with("p:")
            || w.starts_with("h:")
            || (w.len() == 12
                && w.bytes().all(|b| b.is_ascii_hexdigit())
                && w.bytes().any(|b| b.is_ascii_digit())
                && w.bytes().any(|b| b.is_ascii_lowercase()))
    })
}

/// Issue 12's rule: every `pub async fn` under crate/kernel (a kernel path)
/// says in its doc comment which kernel release it models.
#[test]
fn every_kernel_path_cites_its_kernel() {
    let mut files = Vec::new();
    rust_files(&root().join("crate/kernel"), &mut files);
    let mut missing = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = src.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.trim_start().starts_with("pub async fn ") && !cites_a_kernel(&lines, i) {
                missing.push(format!("{}:{}: {}", f.display(), i + 1, l.trim()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no kernel citation:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_citation_check_catches_an_uncited_path() {
    let uncited = ["/// Does a thing.", "pub async fn thing() {}"];
    assert!(!cites_a_kernel(&uncited, 1));
    let cited = [
        "/// v4.13 fs/ext4/inode.c `thing`.",
        "pub async fn thing() {}",
    ];
    assert!(cites_a_kernel(&cited, 1));
    let old = [
        "/// 2.6.25-rc5 fs/ext4/migrate.c.",
        "pub async fn thing() {}",
    ];
    assert!(cites_a_kernel(&old, 1));
}
