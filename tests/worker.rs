//! Headless browser tests in a dedicated worker (OPFS sync access handles
//! exist only there).
#![cfg(target_arch = "wasm32")]

use ext4lab::wasm::opfs;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn opfs_sync_handle_write_flush_read_back() {
    let name = "ext4lab-test-roundtrip.bin";
    opfs::remove(name).await.expect("remove stale file");
    let h = opfs::open_sync(name, true).await.expect("open");
    // Two 4 KiB blocks with distinct, position-dependent bytes, the second
    // one written at an offset so a wrong `at` would show.
    let a: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 1) as u8).collect();
    let b: Vec<u8> = (0..4096u32).map(|i| (i * 13 + 5) as u8).collect();
    opfs::write_at(&h, 0, &a).expect("write a");
    opfs::write_at(&h, 8192, &b).expect("write b");
    opfs::flush(&h).expect("flush");
    assert_eq!(h.get_size().expect("size") as u64, 8192 + 4096);

    let mut back = vec![0u8; 4096];
    opfs::read_at(&h, 0, &mut back).expect("read a");
    assert_eq!(back, a);
    opfs::read_at(&h, 8192, &mut back).expect("read b");
    assert_eq!(back, b);
    // The gap between them reads as zeros.
    opfs::read_at(&h, 4096, &mut back).expect("read gap");
    assert!(back.iter().all(|&x| x == 0));
    h.close();

    // A second handle sees the flushed data (it is in storage, not a buffer).
    let h2 = opfs::open_sync(name, false).await.expect("reopen");
    opfs::read_at(&h2, 8192, &mut back).expect("reread");
    assert_eq!(back, b);
    h2.close();
    opfs::remove(name).await.expect("cleanup");
}

#[wasm_bindgen_test]
async fn opfs_second_handle_is_refused_with_a_named_error() {
    let name = "ext4lab-test-exclusive.bin";
    opfs::remove(name).await.expect("remove stale file");
    let h = opfs::open_sync(name, true).await.expect("open");
    let second = opfs::open_sync(name, false).await;
    let e = second.expect_err("a second sync handle must be refused while the first is open");
    assert_eq!(e.name, "NoModificationAllowedError", "{e}");
    h.close();
    opfs::remove(name).await.expect("cleanup");
}
