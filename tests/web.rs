//! Headless browser tests in a page (wasm-bindgen-test, run_in_browser).
#![cfg(target_arch = "wasm32")]

use ext4lab::wasm::handle_message;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).expect("property")
}

fn msg(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("json")
}

#[wasm_bindgen_test]
fn hello_reports_version_and_checksum() {
    let answer = handle_message(msg(r#"{"cmd":"hello"}"#));
    assert_eq!(get(&answer, "ok"), JsValue::TRUE);
    assert_eq!(
        get(&answer, "version").as_string().unwrap(),
        ext4lab::VERSION
    );
    // The engine's crc32c computed in wasm equals the published check value.
    assert_eq!(get(&answer, "crc32cCheck").as_string().unwrap(), "e3069283");
}

#[wasm_bindgen_test]
fn crc32c_matches_native_engine() {
    let answer = handle_message(msg(r#"{"cmd":"crc32c","text":"ext4lab"}"#));
    let native = format!("{:08x}", ext4lab::engine::csum::crc32c(b"ext4lab"));
    assert_eq!(get(&answer, "crc32c").as_string().unwrap(), native);
}

#[wasm_bindgen_test]
fn malformed_message_is_an_error_value_not_a_throw() {
    let answer = handle_message(msg(r#"{"cmd":"no-such-command"}"#));
    assert_eq!(get(&answer, "ok"), JsValue::FALSE);
    let error = get(&answer, "error");
    assert_eq!(get(&error, "kind").as_string().unwrap(), "bad-message");
    // It names every command, the scenario module's and the engine's.
    let message = get(&error, "message").as_string().unwrap();
    assert!(
        message.contains("expected one of hello, crc32c,") && message.ends_with("image, disk"),
        "{message}"
    );
    let answer = handle_message(JsValue::from_f64(3.0));
    assert_eq!(get(&answer, "ok"), JsValue::FALSE);
}

#[wasm_bindgen_test]
fn device_pieces_cover_a_range_exactly_within_units() {
    use ext4lab::wasm::device::pages::{pieces, Piece};
    // Unaligned start and end across three 4 KiB units.
    let p: Vec<Piece> = pieces(4096 + 1000, 9000, 4096).collect();
    assert_eq!(
        p,
        vec![
            Piece {
                index: 1,
                within: 1000,
                buf: 0..3096
            },
            Piece {
                index: 2,
                within: 0,
                buf: 3096..7192
            },
            Piece {
                index: 3,
                within: 0,
                buf: 7192..9000
            },
        ]
    );
    // Whole units, and nothing for an empty range.
    assert_eq!(pieces(65536, 131072, 65536).count(), 2);
    assert_eq!(pieces(1024, 0, 4096).count(), 0);
}
