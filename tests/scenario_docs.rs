//! The documentation stays true: the example in docs/scenario-format.md
//! parses, and each built-in's page names every one of its variants.
#![cfg(not(target_arch = "wasm32"))]

use ext4lab::scenario::{builtins, parse_scenario};

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn format_doc_example_parses_and_resolves() {
    let doc = read("docs/scenario-format.md");
    let start = doc.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let len = doc[start..].find("```").unwrap();
    let s = parse_scenario(&doc[start..start + len]).unwrap_or_else(|e| panic!("{e}"));
    for v in &s.variants {
        s.resolve(&v.name, &Default::default()).unwrap();
    }
    assert_eq!(s.expectations().unwrap().len(), 1);
}

#[test]
fn scenario_pages_name_every_variant() {
    for b in builtins() {
        let page = read(&format!("docs/scenarios/{}.md", b.id));
        let s = parse_scenario(b.text).unwrap();
        assert!(page.contains(b.name), "{}", b.id);
        for v in &s.variants {
            assert!(
                page.contains(&format!("`{}`", v.name)),
                "{}: {}",
                b.id,
                v.name
            );
        }
        assert!(
            page.contains("Timeline of the shortest failing schedule"),
            "{}",
            b.id
        );
    }
}
