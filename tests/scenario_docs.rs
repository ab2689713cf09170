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

/// Every playground link in the docs (`index.html#v3....`) opens on today's
/// built-ins: a link made before a scenario's text changed names the old
/// text's hash, and the page would only offer to look for its outcome
/// again. (Change a built-in, re-make the links its page cites.)
#[test]
fn doc_links_open_on_todays_builtins() {
    let mut pages = vec!["README.md".to_string()];
    for dir in ["docs", "docs/scenarios"] {
        let full = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
        for e in std::fs::read_dir(full).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".md") {
                pages.push(format!("{dir}/{name}"));
            }
        }
    }
    pages.sort();
    let mut links = 0;
    for page in &pages {
        let text = read(page);
        for (at, _) in text.match_indices("index.html#v3.") {
            let frag: String = text[at + "index.html".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "#._-".contains(*c))
                .collect();
            if frag.len() < 20 {
                continue; // prose naming the form, `index.html#v3....`
            }
            links += 1;
            if let Err(e) = ext4lab::scenario::link::decode_link(&frag) {
                panic!("{page}: {frag}: {e}");
            }
        }
    }
    assert!(links >= 10, "found only {links} links in {pages:?}");
}
