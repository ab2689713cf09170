//! Share links: round trips, the size bound, every damaged-link error, and
//! the stored fixture links (which must keep decoding forever).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ext4lab::scenario::link::{
    decode_link, decode_link_unchecked, encode_link, Link, LinkError, LinkScenario, Strategy,
    MAX_FRAGMENT,
};
use ext4lab::scenario::{builtin, builtins};

/// xorshift64* for reproducible pseudo-random schedules.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A verbose replay token: 200 decimal choices among up to 6 tasks.
fn decimal_schedule(seed: u64) -> String {
    let mut r = Rng(seed);
    let v: Vec<String> = (0..200).map(|_| (r.next() % 6).to_string()).collect();
    format!("r1:{}", v.join(","))
}

/// A dense replay token: 200 random bytes as base64 (incompressible).
fn dense_schedule(seed: u64) -> String {
    let mut r = Rng(seed);
    let v: Vec<u8> = (0..200).map(|_| r.next() as u8).collect();
    URL_SAFE_NO_PAD.encode(v)
}

fn pack(payload: &[u8]) -> String {
    format!(
        "#v1.{}",
        URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(payload, 6))
    )
}

fn sample(id: &str) -> Link {
    let mut l = Link::to_builtin(id, "x").unwrap();
    let s = ext4lab::scenario::parse_scenario(builtin(id).unwrap().text).unwrap();
    l.variant = s.variants.last().unwrap().name.clone();
    if let Some(o) = s.options.first() {
        l.options
            .insert(o.name.clone(), o.values.last().unwrap().name.clone());
    }
    l
}

#[test]
fn round_trip_every_builtin_and_strategy() {
    for (i, b) in builtins().iter().enumerate() {
        for strategy in [
            Strategy::Random,
            Strategy::Pct { depth: 3 },
            Strategy::Dfs { bound: 2 },
        ] {
            let mut l = sample(b.id);
            l.strategy = strategy;
            l.seed = u64::MAX - i as u64;
            l.schedule = decimal_schedule(i as u64 + 1);
            l.step = Some(17);
            let frag = encode_link(&l);
            assert!(frag.starts_with("#v3."));
            assert_eq!(decode_link(&frag).unwrap(), l);
            // The `#` is optional when decoding.
            assert_eq!(decode_link(&frag[1..]).unwrap(), l);
            let (scenario, cfg) = l.open().unwrap();
            assert_eq!(scenario.meta.id, b.id);
            assert_eq!(cfg.variant, l.variant);
        }
    }
}

#[test]
fn round_trip_full_text_scenario() {
    let text = builtin("s3")
        .unwrap()
        .text
        .replace("title = \"", "title = \"My copy: ");
    let l = Link {
        scenario: LinkScenario::Text { text: text.clone() },
        variant: "flag-retval".into(),
        options: [("racers".to_string(), "load-only".to_string())].into(),
        strategy: Strategy::Pct { depth: 4 },
        seed: 99,
        schedule: dense_schedule(3),
        step: None,
        base: None,
        custom: None,
        engine: Some(ext4lab::scenario::link::ENGINE_VERSION.into()),
        outcome: None,
    };
    let frag = encode_link(&l);
    assert_eq!(decode_link(&frag).unwrap(), l);
    let (s, cfg) = l.open().unwrap();
    assert!(s.meta.title.starts_with("My copy"));
    assert_eq!(cfg.options["racers"], "load-only");
    // A whole scenario compresses well below its own size.
    assert!(frag.len() < text.len(), "{} vs {}", frag.len(), text.len());
}

#[test]
fn builtin_links_with_200_choice_schedules_fit_in_2_kb() {
    for (i, b) in builtins().iter().enumerate() {
        for schedule in [decimal_schedule(i as u64 + 7), dense_schedule(i as u64 + 7)] {
            let mut l = sample(b.id);
            l.schedule = schedule;
            l.seed = 0xdead_beef_dead_beef;
            l.step = Some(199);
            let frag = encode_link(&l);
            assert!(frag.len() <= 2048, "{}: {} bytes", b.id, frag.len());
            assert_eq!(decode_link(&frag).unwrap(), l);
        }
    }
}

#[test]
fn damaged_prefixes() {
    for bad in [
        "",
        "#",
        "hello",
        "#x1.abc",
        "#v.abc",
        "#v1abc",
        "#v-1.abc",
        "#v1x.abc",
        "#v99999999999.a",
    ] {
        assert_eq!(
            decode_link(bad).unwrap_err(),
            LinkError::BadPrefix,
            "{bad:?}"
        );
    }
}

#[test]
fn unknown_versions() {
    assert_eq!(
        decode_link("#v4.AAAA").unwrap_err(),
        LinkError::UnknownVersion(4)
    );
    assert_eq!(
        decode_link("#v0.AAAA").unwrap_err(),
        LinkError::UnknownVersion(0)
    );
}

#[test]
fn bad_base64() {
    for bad in ["#v1.@@@@", "#v1.ab+c", "#v1.abc=", "#v1.a"] {
        assert!(
            matches!(decode_link(bad), Err(LinkError::BadBase64(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn corrupt_deflate_stream() {
    let frag = format!(
        "#v1.{}",
        URL_SAFE_NO_PAD.encode([0xffu8, 0xff, 0xff, 0x00, 0x12])
    );
    assert!(
        matches!(decode_link(&frag), Err(LinkError::Decompress(_))),
        "{:?}",
        decode_link(&frag)
    );
    // A truncated stream is a decompression failure too.
    let good = encode_link(&sample("s1"));
    let packed = URL_SAFE_NO_PAD.decode(&good[4..]).unwrap();
    let cut = format!(
        "#v1.{}",
        URL_SAFE_NO_PAD.encode(&packed[..packed.len() / 2])
    );
    assert!(matches!(decode_link(&cut), Err(LinkError::Decompress(_))));
}

#[test]
fn decompression_bomb_is_refused() {
    // 64 MiB of zeros deflates to ~64 KiB; inflating stops at 1 MiB.
    let bomb = vec![0u8; 64 << 20];
    let frag = pack(&bomb);
    assert!(frag.len() < MAX_FRAGMENT);
    assert_eq!(decode_link(&frag).unwrap_err(), LinkError::TooLarge);
}

#[test]
fn too_long_fragment() {
    let s = format!("#v1.{}", "A".repeat(MAX_FRAGMENT));
    assert!(matches!(decode_link(&s), Err(LinkError::TooLong { .. })));
}

#[test]
fn bad_payloads() {
    let cases: &[&str] = &[
        "not json",
        "{}",
        r#"{"v":"x","s":{"k":"dfs","p":2},"r":0}"#,
        r#"{"b":{"id":"s1","h":"0123456789abcdef"},"t":"x","v":"x","s":{"k":"dfs","p":2},"r":0}"#,
        r#"{"b":{"id":"s1","h":"0123"},"v":"x","s":{"k":"dfs","p":2},"r":0}"#,
        r#"{"b":{"id":"s1","h":"0123456789ABCDEF"},"v":"x","s":{"k":"dfs","p":2},"r":0}"#,
        r#"{"t":"x","v":"x","s":{"k":"dfs","p":2},"r":0,"evil":"<script>"}"#,
        r#"{"t":"x","v":"x","s":{"k":"bfs"},"r":0}"#,
        r#"{"t":"x","v":"x","s":{"k":"dfs","p":2},"r":-1}"#,
        r#"{"t":"x","v":"x","s":{"k":"dfs","p":2},"r":0,"at":"seven"}"#,
    ];
    for c in cases {
        assert!(
            matches!(
                decode_link(&pack(c.as_bytes())),
                Err(LinkError::BadPayload(_))
            ),
            "{c}"
        );
    }
}

#[test]
fn unknown_builtin_and_changed_builtin() {
    let mut l = sample("s2");
    l.scenario = LinkScenario::Builtin {
        id: "s9".into(),
        hash: "0123456789abcdef".into(),
    };
    assert_eq!(
        decode_link(&encode_link(&l)).unwrap_err(),
        LinkError::UnknownBuiltin("s9".into())
    );

    let mut l = sample("s5");
    l.scenario = LinkScenario::Builtin {
        id: "s5".into(),
        hash: "0000000000000000".into(),
    };
    let frag = encode_link(&l);
    match decode_link(&frag).unwrap_err() {
        LinkError::HashMismatch {
            id,
            link_hash,
            current_hash,
            link,
        } => {
            assert_eq!(id, "s5");
            assert_eq!(link_hash, "0000000000000000");
            assert_eq!(current_hash, builtin("s5").unwrap().hash_hex());
            assert_eq!(*link, l);
        }
        e => panic!("{e:?}"),
    }
    // The unchecked decoder still returns it, so the UI can offer to open it.
    assert_eq!(decode_link_unchecked(&frag).unwrap(), l);
}

#[test]
fn open_rejects_bad_scenario_and_choices() {
    let mut l = sample("s1");
    l.variant = "no-such-variant".into();
    assert!(matches!(l.open(), Err(LinkError::BadChoice(_))));
    let mut l = sample("s1");
    l.options.insert("dio_read".into(), "sideways".into());
    assert!(matches!(l.open(), Err(LinkError::BadChoice(_))));
    let mut l = sample("s1");
    l.scenario = LinkScenario::Text {
        text: "format = [".into(),
    };
    assert!(matches!(l.open(), Err(LinkError::BadScenario(_))));
}

#[test]
fn no_panic_on_truncated_or_flipped_links() {
    let mut l = sample("s4");
    l.schedule = decimal_schedule(5);
    let good = encode_link(&l);
    for cut in 0..good.len() {
        let _ = decode_link(&good[..cut]);
    }
    let mut r = Rng(77);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut errors = 0;
    for _ in 0..2000 {
        let mut b = good.clone().into_bytes();
        let i = 4 + (r.next() as usize) % (b.len() - 4);
        b[i] = alphabet[(r.next() as usize) % alphabet.len()];
        let s = String::from_utf8(b).unwrap();
        // It must never panic, and a flip must not decode to another link:
        // the CRC-32C after the zlib stream (link v3) catches it. A flip that survives only
        // touches unused trailing base64 bits and decodes to the same link.
        match decode_link(&s) {
            Err(_) => errors += 1,
            Ok(back) => assert_eq!(back, l, "a flipped link decoded to another link: {s}"),
        }
    }
    assert!(errors > 1900, "{errors}");
}

// ---- fixtures ----------------------------------------------------------

/// Fixture files: line 1 is the link, the rest the expected decoded
/// [`Link`] as JSON. They are never regenerated: old links must keep
/// decoding to the same value (through the migration chain once there are
/// later versions). Compiled in, so the test also runs in the browser.
const FIXTURES: &[(&str, &str)] = &[
    (
        "v1-s1-random.txt",
        include_str!("fixtures/links/v1-s1-random.txt"),
    ),
    (
        "v1-s2-pct-step.txt",
        include_str!("fixtures/links/v1-s2-pct-step.txt"),
    ),
    (
        "v1-s5-dfs.txt",
        include_str!("fixtures/links/v1-s5-dfs.txt"),
    ),
    (
        "v1-text-s3.txt",
        include_str!("fixtures/links/v1-text-s3.txt"),
    ),
    (
        "v2-s1-deadlock.txt",
        include_str!("fixtures/links/v2-s1-deadlock.txt"),
    ),
    (
        "v3-s1-deadlock-diverging.txt",
        include_str!("fixtures/links/v3-s1-deadlock-diverging.txt"),
    ),
    (
        "v3-s1-deadlock-refound.txt",
        include_str!("fixtures/links/v3-s1-deadlock-refound.txt"),
    ),
];

fn fixtures() -> Vec<(String, String, serde_json::Value)> {
    FIXTURES
        .iter()
        .map(|(name, text)| {
            let (link, json) = text.split_once('\n').unwrap();
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            (name.to_string(), link.to_string(), value)
        })
        .collect()
}

/// Every fixture file on disk is listed in [`FIXTURES`].
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_fixture_file_is_listed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/links");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    on_disk.sort();
    let listed: Vec<String> = FIXTURES.iter().map(|f| f.0.to_string()).collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn fixture_links_decode_to_their_stored_values() {
    let fx = fixtures();
    assert!(fx.len() >= 4, "fixtures missing");
    for (name, link, want) in fx {
        let got = decode_link_unchecked(&link).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The stored value as this build reads it: a variant or option
        // value the built-in has renamed since reads as its new name.
        let mut want: Link = serde_json::from_value(want).unwrap();
        ext4lab::scenario::link::renames::apply(&mut want);
        assert_eq!(got, want, "{name}");
        // A fixture naming a built-in either matches today's text or reports
        // precisely that it changed; it never fails otherwise.
        match decode_link(&link) {
            Ok(l) => assert_eq!(l, got),
            Err(LinkError::HashMismatch { link, .. }) => assert_eq!(*link, got),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

/// Prints fixture files for the current version (run by hand with
/// `--ignored --nocapture` when a new link version is introduced; existing
/// fixtures are kept as they are).
#[test]
#[ignore]
fn print_fixtures() {
    let mut a = sample("s5");
    a.variant = "dio-begin-early".into();
    a.options = [("mount".to_string(), "nodelalloc".to_string())].into();
    a.strategy = Strategy::Dfs { bound: 2 };
    a.schedule = decimal_schedule(11);
    let mut b = sample("s2");
    b.variant = "fault-retry".into();
    b.options = [("fault".to_string(), "gup".to_string())].into();
    b.strategy = Strategy::Pct { depth: 3 };
    b.seed = 1234;
    b.schedule = dense_schedule(12);
    b.step = Some(42);
    let mut c = sample("s1");
    c.variant = "jbd2-convert".into();
    c.options.clear();
    c.strategy = Strategy::Random;
    c.seed = 18_446_744_073_709_551_615;
    let d = Link {
        scenario: LinkScenario::Text {
            text: builtin("s3").unwrap().text.to_string(),
        },
        variant: "unguarded".into(),
        options: Default::default(),
        strategy: Strategy::Dfs { bound: 3 },
        seed: 0,
        schedule: "r1:0,1,1,2,0".into(),
        step: Some(0),
        base: None,
        custom: None,
        engine: None,
        outcome: None,
    };
    for (n, l) in [
        ("v1-s5-dfs", a),
        ("v1-s2-pct-step", b),
        ("v1-s1-random", c),
        ("v1-text-s3", d),
    ] {
        println!(
            "=== {n}.txt\n{}\n{}",
            encode_link(&l),
            serde_json::to_string_pretty(&l).unwrap()
        );
    }
}

/// A link may name the stored image its runs start from (library name and
/// content hash); old links without one decode as before; a malformed one
/// is refused.
#[test]
fn base_image_round_trips_and_is_validated() {
    use ext4lab::scenario::link::LinkBase;
    let mut l = sample("s5");
    l.base = Some(LinkBase {
        name: "my-disk.img".into(),
        hash: "0123456789abcdef".into(),
    });
    let frag = encode_link(&l);
    assert_eq!(decode_link(&frag).unwrap(), l);
    let plain = sample("s5");
    assert_eq!(decode_link(&encode_link(&plain)).unwrap().base, None);
    let json = serde_json::to_string(&plain).unwrap();
    assert!(!json.contains("base"), "{json}");
    for (n, h) in [
        ("my-disk.img", "0123456789ABCDEF"),
        ("my-disk.img", "0123"),
        (".hidden", "0123456789abcdef"),
        ("a/b", "0123456789abcdef"),
    ] {
        let payload = format!(
            r#"{{"b":{{"id":"s5","h":"{}"}},"v":"dio-begin-late","s":{{"k":"random"}},"r":1,"i":{{"n":"{n}","h":"{h}"}}}}"#,
            builtin("s5").unwrap().hash_hex()
        );
        let e = decode_link(&pack(payload.as_bytes())).unwrap_err();
        assert!(matches!(e, LinkError::BadPayload(_)), "{n} {h}: {e:?}");
    }
}

/// A custom variant (kernel version, changes applied/reverted) rides in the
/// link and reaches the run configuration; links without one decode as
/// before.
#[test]
fn custom_kernel_round_trips_and_resolves() {
    use ext4lab::scenario::history::KernelVersion;
    use ext4lab::scenario::CustomKernel;
    let mut l = sample("s5");
    l.custom = Some(CustomKernel {
        kernel: Some("v4.0".into()),
        apply: vec!["ea3d7209ca01".into()],
        revert: vec![],
    });
    let frag = encode_link(&l);
    let back = decode_link(&frag).unwrap();
    assert_eq!(back, l);
    let (_, cfg) = back.open().unwrap();
    assert_eq!(cfg.kernel, KernelVersion::parse("v4.0").unwrap());
    assert!(cfg.applied(ext4lab::scenario::history::Change::FaultsVsHolePunch));
    let plain = sample("s5");
    assert_eq!(decode_link(&encode_link(&plain)).unwrap().custom, None);
    l.custom = Some(CustomKernel {
        kernel: Some("v4.0".into()),
        apply: vec!["no-such-change".into()],
        revert: vec![],
    });
    let e = decode_link(&encode_link(&l)).unwrap().open().unwrap_err();
    assert!(e.to_string().contains("unknown change"), "{e}");
}

#[test]
fn links_carry_the_engine_that_made_them() {
    // v1 and v2 links decode as made before links named the engine.
    let fx = fixtures();
    let (_, v2, _) = fx.iter().find(|f| f.0 == "v2-s1-deadlock.txt").unwrap();
    let l = decode_link_unchecked(v2).unwrap();
    assert_eq!(l.engine, None);
    assert!(l.made_with().starts_with("ext4lab 0.1"));
    // v3: the engine and the outcome kind round-trip.
    let (_, v3, _) = fx
        .iter()
        .find(|f| f.0 == "v3-s1-deadlock-refound.txt")
        .unwrap();
    let l = decode_link_unchecked(v3).unwrap();
    assert_eq!(l.engine.as_deref(), Some("0.2.0"));
    assert_eq!(l.outcome.as_deref(), Some("deadlock"));
    // A link without an engine is written with this build's.
    let mut m = sample("s2");
    m.engine = None;
    let back = decode_link(&encode_link(&m)).unwrap();
    assert_eq!(
        back.engine.as_deref(),
        Some(ext4lab::scenario::link::ENGINE_VERSION)
    );
    assert_eq!(
        back.made_with(),
        format!("ext4lab {}", ext4lab::scenario::link::ENGINE_VERSION)
    );
}

/// A link payload of `version` (zlib container) from raw JSON.
fn packed(version: u32, json: &str) -> String {
    let mut z = miniz_oxide::deflate::compress_to_vec_zlib(json.as_bytes(), 6);
    if version >= 3 {
        z.extend_from_slice(&crc32c::crc32c(json.as_bytes()).to_le_bytes());
    }
    format!("#v{version}.{}", URL_SAFE_NO_PAD.encode(z))
}

#[test]
fn engine_and_outcome_keys_belong_to_version_3() {
    let body =
        r#""b":{"id":"s1","h":"0123456789abcdef"},"v":"jbd2-convert","s":{"k":"random"},"r":1"#;
    // v3 must name the engine
    let e = decode_link_unchecked(&packed(3, &format!("{{{body}}}"))).unwrap_err();
    assert!(
        matches!(e, LinkError::BadPayload(ref m) if m.contains("`e`")),
        "{e}"
    );
    // v2 must not
    let e = decode_link_unchecked(&packed(2, &format!(r#"{{{body},"e":"0.2.0"}}"#))).unwrap_err();
    assert!(matches!(e, LinkError::BadPayload(_)), "{e}");
    // malformed engine version / outcome kind
    for extra in [r#""e":"0.2.0 <b>""#, r#""e":"0.2.0","w":"explosion""#] {
        let e = decode_link_unchecked(&packed(3, &format!("{{{body},{extra}}}"))).unwrap_err();
        assert!(matches!(e, LinkError::BadPayload(_)), "{extra}: {e}");
    }
    let ok = decode_link_unchecked(&packed(
        3,
        &format!(r#"{{{body},"e":"0.2.0","w":"lost-write"}}"#),
    ))
    .unwrap();
    assert_eq!(ok.outcome.as_deref(), Some("lost-write"));
}

#[test]
fn renamed_variants_and_option_values_open_under_their_new_names() {
    use ext4lab::scenario::link::renames::{apply_to, RENAMES};
    // Every rename names a variant the built-in has, under the old name or
    // the new one (the scenario files rename them when they do).
    for r in RENAMES {
        let sc = ext4lab::scenario::parse_scenario(builtin(r.builtin).unwrap().text).unwrap();
        let has = |n: &str| sc.variants.iter().any(|v| v.name == n);
        for (old, new) in r.variants {
            assert!(
                has(old) != has(new),
                "{}: exactly one of `{old}` / `{new}` is a variant today",
                r.builtin
            );
        }
    }
    // Today's s5 has the revision-2 names: an old link's variant and
    // memory value are renamed on the way in.
    let today = ext4lab::scenario::parse_scenario(builtin("s5").unwrap().text).unwrap();
    let fx = fixtures();
    let (_, v1, _) = fx.iter().find(|f| f.0 == "v1-s5-dfs.txt").unwrap();
    // Decoding renames already (the built-in has the new name only).
    let mut l = decode_link_unchecked(v1).unwrap();
    assert_eq!(l.variant, "jan-dio-begin-early");
    l.variant = "dio-begin-early".into();
    l.options.insert("memory".into(), "weak".into());
    apply_to(&mut l, &today);
    assert_eq!(l.variant, "jan-dio-begin-early");
    assert_eq!(l.options["memory"], "lkmm");
    assert_eq!(l.options["mount"], "nodelalloc");
    // Against a text that still has the old name, nothing changes.
    let text = builtin("s5")
        .unwrap()
        .text
        .replace(
            "name = \"jan-dio-begin-early\"",
            "name = \"dio-begin-early\"",
        )
        .replace(
            "{ name = \"lkmm\", memory = \"lkmm\" }",
            "{ name = \"weak\", memory = \"lkmm\" }",
        )
        .replace(
            "when = { memory = \"lkmm\" }",
            "when = { memory = \"weak\" }",
        );
    let old = ext4lab::scenario::parse_scenario(&text).unwrap();
    let mut l2 = decode_link_unchecked(v1).unwrap();
    l2.variant = "dio-begin-early".into();
    l2.options.insert("memory".into(), "weak".into());
    apply_to(&mut l2, &old);
    assert_eq!(l2.variant, "dio-begin-early");
    assert_eq!(l2.options["memory"], "weak");
}
