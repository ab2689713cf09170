//! Malformed scenario texts give typed errors at the right line and column,
//! and no input (truncated or garbled built-ins, random bytes) panics.

use ext4lab::scenario::{builtins, check_scenario, parse_scenario, ErrorKind};

const BASE: &str = r#"format = 1

[meta]
id = "tiny"
name = "tiny-race"
title = "A tiny race"
story = "Two tasks."

[image]
features = ["inline_data"]

[[image.files]]
name = "f"
fill = "A"
len = 8192

[[image.files]]
name = "gone"
pattern = "SECRET"
len = 4096
deleted = true

[[switches]]
name = "knob"
values = ["off", "on"]
default = "off"

[[variants]]
name = "before"
switches = { knob = "off" }

  [[variants.expect]]
  kind = "stale-data"
  expect = "found"
  tasks = ["T1"]

[[variants]]
name = "after"
switches = { knob = "on" }

[[options]]
name = "mount"
default = "delalloc"
values = [{ name = "delalloc" }, { name = "nodelalloc", mount = { delalloc = false } }]

[[processes]]
name = "P"
mappings = [{ name = "mf", file = "f" }]

[[tasks]]
name = "T1"
steps = [{ op = "read", file = "f", len = 4096, direct = true }]

[[tasks]]
name = "T2"
process = "P"
steps = [{ op = "store", mapping = "mf", offset = 0, len = 16, fill = "B" }]
"#;

/// 1-based (line, column) of the `nth` occurrence of `needle` in `text`,
/// counted independently of the crate's own conversion.
fn pos_of(text: &str, needle: &str, nth: usize) -> (u32, u32) {
    let off = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` not in text"))
        .0;
    let before = &text[..off];
    let line = before.split('\n').count() as u32;
    let col = before.split('\n').next_back().unwrap().chars().count() as u32 + 1;
    (line, col)
}

/// Replaces the only occurrence of `from` by `to`, parses, and checks the
/// error's kind and that it points at the `nth` occurrence of `at`.
fn expect_err(from: &str, to: &str, kind: ErrorKind, at: &str, nth: usize) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "`{from}` must be unique in BASE"
    );
    let text = BASE.replacen(from, to, 1);
    let err = parse_scenario(&text).expect_err("must not parse");
    assert_eq!(err.kind, kind, "{err}");
    let loc = err.location.unwrap_or_else(|| panic!("no location: {err}"));
    assert_eq!((loc.line, loc.column), pos_of(&text, at, nth), "{err}");
    err.to_string()
}

#[test]
fn base_is_valid() {
    let s = parse_scenario(BASE).unwrap();
    assert_eq!(s.tasks.len(), 2);
    assert!(check_scenario(BASE).is_empty());
}

#[test]
fn syntax_error_unclosed_string() {
    // The string runs to the end of line 6; the error is where it should close.
    let m = expect_err(
        "title = \"A tiny race\"",
        "title = \"A tiny race",
        ErrorKind::Syntax,
        "\nstory",
        0,
    );
    assert!(m.starts_with("line 6, column 21"), "{m}");
}

#[test]
fn syntax_error_bad_table_header() {
    expect_err(
        "[[processes]]",
        "[[processes]",
        ErrorKind::Syntax,
        "\nname = \"P\"",
        0,
    );
}

#[test]
fn unknown_expectation_kind() {
    let m = expect_err(
        "kind = \"stale-data\"",
        "kind = \"stale-date\"",
        ErrorKind::Schema,
        "\"stale-date\"",
        0,
    );
    assert!(m.contains("stale-date") && m.contains("lost-write"), "{m}");
}

#[test]
fn unknown_key_is_a_schema_error() {
    let m = expect_err(
        "deleted = true",
        "deleted = true\nsecrt = 1",
        ErrorKind::Schema,
        "secrt",
        0,
    );
    assert!(m.contains("unknown field `secrt`"), "{m}");
}

#[test]
fn unknown_step_field_and_op() {
    let m = expect_err(
        "len = 4096, direct",
        "len = 4096, drect",
        ErrorKind::Schema,
        "drect",
        0,
    );
    assert!(m.contains("unknown field `drect`"), "{m}");
    expect_err(
        "op = \"read\"",
        "op = \"reed\"",
        ErrorKind::Schema,
        "\"reed\"",
        0,
    );
}

#[test]
fn wrong_type() {
    expect_err(
        "len = 8192",
        "len = \"8192\"",
        ErrorKind::Schema,
        "\"8192\"",
        0,
    );
}

#[test]
fn step_names_undefined_file() {
    let m = expect_err(
        "{ op = \"read\", file = \"f\"",
        "{ op = \"read\", file = \"g\"",
        ErrorKind::Undefined,
        "\"g\"",
        0,
    );
    assert!(
        m.contains("tasks[0].steps[0].file") && m.contains("no file named `g`"),
        "{m}"
    );
}

#[test]
fn step_names_deleted_file() {
    expect_err(
        "{ op = \"read\", file = \"f\"",
        "{ op = \"read\", file = \"gone\"",
        ErrorKind::Undefined,
        "\"gone\"",
        1,
    );
}

#[test]
fn step_names_undefined_mapping() {
    expect_err(
        "mapping = \"mf\", offset = 0",
        "mapping = \"mz\", offset = 0",
        ErrorKind::Undefined,
        "\"mz\"",
        0,
    );
}

#[test]
fn mapping_step_without_process() {
    let m = expect_err(
        "process = \"P\"\nsteps",
        "steps",
        ErrorKind::Undefined,
        "\"mf\"",
        1,
    );
    assert!(m.contains("has no process"), "{m}");
}

#[test]
fn duplicate_variant_name() {
    expect_err(
        "name = \"after\"",
        "name = \"before\"",
        ErrorKind::Duplicate,
        "\"before\"",
        1,
    );
}

#[test]
fn duplicate_task_name() {
    expect_err(
        "name = \"T2\"",
        "name = \"T1\"",
        ErrorKind::Duplicate,
        "\"T1\"",
        2,
    );
}

#[test]
fn switch_value_not_declared() {
    let m = expect_err(
        "knob = \"on\" }",
        "knob = \"maybe\" }",
        ErrorKind::BadValue,
        "\"maybe\"",
        0,
    );
    assert!(m.contains("declared: off, on"), "{m}");
}

#[test]
fn switch_not_declared() {
    // Located at the value of the undeclared key.
    expect_err(
        "knob = \"on\" }",
        "knbo = \"on\" }",
        ErrorKind::Undefined,
        "\"on\" }",
        0,
    );
}

#[test]
fn unknown_variant_referenced() {
    let text = BASE.replacen(
        "[image]",
        "[explore]\ndefault_variant = \"middle\"\n\n[image]",
        1,
    );
    let err = parse_scenario(&text).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Undefined);
    let loc = err.location.unwrap();
    assert_eq!((loc.line, loc.column), pos_of(&text, "\"middle\"", 0));
}

#[test]
fn expectation_names_undefined_option_value() {
    expect_err(
        "tasks = [\"T1\"]",
        "tasks = [\"T1\"]\n  when = { mount = \"sync\" }",
        ErrorKind::Undefined,
        "\"sync\"",
        0,
    );
}

#[test]
fn fill_must_be_one_byte() {
    expect_err(
        "fill = \"B\"",
        "fill = \"BB\"",
        ErrorKind::BadValue,
        "\"BB\"",
        0,
    );
}

#[test]
fn unknown_format_version() {
    expect_err("format = 1", "format = 3", ErrorKind::Version, "3", 0);
}

/// BASE as format 2: a `[kernel]` version, variants as applied changes.
fn base2() -> String {
    BASE.replacen(
        "format = 1",
        "format = 2\n\n[kernel]\nversion = \"v4.4\"",
        1,
    )
    .replacen(
        "[[switches]]\nname = \"knob\"\nvalues = [\"off\", \"on\"]\ndefault = \"off\"\n",
        "",
        1,
    )
    .replacen("switches = { knob = \"off\" }", "kernel = \"v4.4\"", 1)
    .replacen(
        "switches = { knob = \"on\" }",
        "apply = [\"ea3d7209ca01\"]",
        1,
    )
}

fn err2(from: &str, to: &str) -> (ext4lab::scenario::ScenarioError, String) {
    let base = base2();
    assert_eq!(base.matches(from).count(), 1, "`{from}` must be unique");
    let text = base.replacen(from, to, 1);
    (parse_scenario(&text).expect_err("must not parse"), text)
}

#[test]
fn format2_base_is_valid_and_resolves_changes() {
    use ext4lab::scenario::history::Change;
    let s = parse_scenario(&base2()).unwrap_or_else(|e| panic!("{e}"));
    let before = s.resolve("before", &Default::default()).unwrap();
    let after = s.resolve("after", &Default::default()).unwrap();
    assert_eq!(before.kernel.to_string(), "v4.4");
    assert!(!before.applied(Change::FaultsVsHolePunch));
    assert!(after.applied(Change::FaultsVsHolePunch));
}

#[test]
fn format2_unknown_change_is_located() {
    let (e, text) = err2("apply = [\"ea3d7209ca01\"]", "apply = [\"deadbeef0000\"]");
    assert_eq!(e.kind, ErrorKind::Undefined, "{e}");
    assert!(e.message.contains("unknown change `deadbeef0000`"), "{e}");
    let loc = e.location.expect("located");
    assert_eq!((loc.line, loc.column), pos_of(&text, "\"deadbeef0000\"", 0));
}

/// A registry entry no kernel path reads is refused where it is named:
/// applying it would silently change nothing.
#[test]
fn format2_apply_of_an_unmodelled_change_is_located() {
    let (e, text) = err2("apply = [\"ea3d7209ca01\"]", "apply = [\"cb85f4d23f79\"]");
    assert_eq!(e.kind, ErrorKind::BadValue, "{e}");
    assert!(e.message.contains("no kernel path models it"), "{e}");
    let loc = e.location.expect("located");
    assert_eq!((loc.line, loc.column), pos_of(&text, "\"cb85f4d23f79\"", 0));
}

#[test]
fn format2_apply_of_merged_commit_and_bad_version() {
    let (e, _) = err2("version = \"v4.4\"", "version = \"v4.5\"");
    assert_eq!(e.kind, ErrorKind::BadValue, "{e}");
    assert!(e.message.contains("already in v4.5"), "{e}");
    let (e, text) = err2("version = \"v4.4\"", "version = \"four\"");
    assert_eq!(e.kind, ErrorKind::BadValue, "{e}");
    let loc = e.location.expect("located");
    assert_eq!((loc.line, loc.column), pos_of(&text, "\"four\"", 0));
}

#[test]
fn format2_rejects_switches_and_format1_rejects_kernel() {
    let (e, _) = err2("apply = [\"ea3d7209ca01\"]", "switches = { knob = \"on\" }");
    assert_eq!(e.kind, ErrorKind::Version, "{e}");
    let text = BASE.replacen("format = 1", "format = 1\n[kernel]\nversion = \"v4.4\"", 1);
    let e = parse_scenario(&text).expect_err("format 1 has no [kernel]");
    assert_eq!(e.kind, ErrorKind::Version, "{e}");
}

#[test]
fn expectation_task_absent_under_its_options() {
    let text = BASE.replacen(
        "name = \"T2\"\nprocess",
        "name = \"T2\"\nwhen = { mount = \"nodelalloc\" }\nprocess",
        1,
    );
    let text = text.replacen("tasks = [\"T1\"]", "tasks = [\"T2\"]", 1);
    let err = parse_scenario(&text).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Undefined, "{err}");
    assert!(err.message.contains("does not run"), "{err}");
    // With the matching option value in `when`, it is fine.
    let ok = text.replacen(
        "tasks = [\"T2\"]",
        "tasks = [\"T2\"]\n  when = { mount = \"nodelalloc\" }",
        1,
    );
    parse_scenario(&ok).unwrap();
}

#[test]
fn contradictory_expectations() {
    let m = expect_err(
        "tasks = [\"T1\"]\n",
        "tasks = [\"T1\"]\n\n  [[variants.expect]]\n  kind = \"stale-data\"\n  expect = \"absent\"\n",
        ErrorKind::BadValue,
        "\"absent\"",
        0,
    );
    assert!(m.contains("both found and absent"), "{m}");
}

#[test]
fn tasks_may_share_a_name_across_exclusive_options() {
    let two = BASE.replacen(
        "[[tasks]]\nname = \"T1\"\nsteps",
        "[[tasks]]\nname = \"T1\"\nwhen = { mount = \"delalloc\" }\nsteps = []\n\n[[tasks]]\nname = \"T1\"\nwhen = { mount = \"nodelalloc\" }\nsteps",
        1,
    );
    let s = parse_scenario(&two).unwrap();
    let cfg = s.resolve("before", &Default::default()).unwrap();
    assert_eq!(
        cfg.tasks
            .iter()
            .filter(|&&i| s.tasks[i].name == "T1")
            .count(),
        1
    );
}

#[test]
fn image_rules() {
    expect_err(
        "len = 8192",
        "len = 8192\nlayout = \"inline\"",
        ErrorKind::BadValue,
        "[[image.files]]",
        0,
    );
    expect_err(
        "features = [\"inline_data\"]",
        "features = [\"inline_data\", \"bigalloc\"]",
        ErrorKind::BadValue,
        "\"bigalloc\"",
        0,
    );
    expect_err(
        "[image]\n",
        "[image]\nblock_size = 3000\n",
        ErrorKind::BadValue,
        "3000",
        0,
    );
    expect_err(
        "len = 8192",
        "len = 8192\nruns = [{ offset = 4096, len = 10, fill = \"x\" }]",
        ErrorKind::BadValue,
        "{ offset = 4096",
        0,
    );
}

#[test]
fn task_kind_rules() {
    let text = format!(
        "{BASE}\n[[tasks]]\nname = \"J\"\nkind = \"kjournald2\"\nsteps = [{{ op = \"sync\" }}]\n"
    );
    let err = parse_scenario(&text).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadValue, "{err}");
    let text = format!("{BASE}\n[[tasks]]\nname = \"W\"\nkind = \"kworker\"\nsteps = [{{ op = \"setflags\", file = \"f\", flags = \"+q\" }}]\n");
    let err = parse_scenario(&text).unwrap_err();
    assert!(err.message.contains("unknown flag `q`"), "{err}");
}

#[test]
fn check_scenario_reports_every_semantic_problem() {
    let text = BASE
        .replacen("knob = \"on\" }", "knob = \"maybe\" }", 1)
        .replacen(
            "{ op = \"read\", file = \"f\"",
            "{ op = \"read\", file = \"g\"",
            1,
        );
    let errs = check_scenario(&text);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e.location.is_some()));
}

/// A tiny seeded PRNG (xorshift64*) so the garbling is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn never_panics_on_truncated_or_garbled_builtins() {
    let mut rng = Rng(0x5eed_0001);
    let mut errors = 0usize;
    for b in builtins() {
        let text = b.text;
        // Truncations at many points (on char boundaries).
        for cut in (0..text.len()).step_by(37) {
            if text.is_char_boundary(cut) && parse_scenario(&text[..cut]).is_err() {
                errors += 1;
            }
        }
        // Byte garbling: overwrite 1-4 random bytes with random ASCII.
        for _ in 0..300 {
            let mut bytes = text.as_bytes().to_vec();
            for _ in 0..(1 + rng.next() % 4) {
                let i = (rng.next() % bytes.len() as u64) as usize;
                bytes[i] = (rng.next() % 128) as u8;
            }
            if let Ok(t) = std::str::from_utf8(&bytes) {
                if let Err(e) = parse_scenario(t) {
                    errors += 1;
                    // Every located error points inside the text.
                    if let Some(l) = e.location {
                        assert!(l.offset <= t.len());
                        assert!(l.line as usize <= t.lines().count() + 1);
                    }
                }
            }
        }
        // Deleting a random line.
        for _ in 0..50 {
            let lines: Vec<&str> = text.lines().collect();
            let k = (rng.next() % lines.len() as u64) as usize;
            let t: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k)
                .map(|(_, l)| *l)
                .collect();
            let _ = parse_scenario(&t.join("\n"));
        }
    }
    // Most of those must be rejected (a check that the loop did something).
    assert!(errors > 1000, "{errors}");
}

#[test]
fn never_panics_on_random_bytes() {
    let mut rng = Rng(42);
    for len in [0usize, 1, 2, 7, 64, 500, 4000] {
        for _ in 0..50 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let t = String::from_utf8_lossy(&bytes);
            assert!(len == 0 || parse_scenario(&t).is_err());
        }
    }
    // Pathological nesting is an error, not a stack overflow.
    let deep = format!("format = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(parse_scenario(&deep).unwrap_err().kind, ErrorKind::Syntax);
    let huge = "#".repeat(ext4lab::scenario::MAX_SCENARIO_TEXT + 1);
    assert!(parse_scenario(&huge).is_err());
}
