//! The browser block devices through the `BlockDevice` trait, in a dedicated
//! worker (OPFS sync access handles exist only there): round trips, the
//! barrier (what a freshly opened device sees after a "crash", i.e. a drop
//! without flush), write coalescing, IndexedDB persistence and laziness.
#![cfg(target_arch = "wasm32")]

use ext4lab::device::{BlockDevice, DeviceError};
use ext4lab::wasm::device::idb::{ImageRecord, CHUNK};
use ext4lab::wasm::device::{IdbDevice, IdbStore, OpfsDevice, Residency};
use ext4lab::wasm::opfs;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const OPFS_DIR: &str = "ext4lab-test-storage";
const IDB_NAME: &str = "ext4lab-test-storage";

/// A 4 KiB block whose bytes depend on `seed` and position.
fn block(seed: u32) -> Vec<u8> {
    (0..4096u32)
        .map(|i| (i.wrapping_mul(31) ^ seed.wrapping_mul(2654435761)) as u8)
        .collect()
}

fn read(dev: &mut impl BlockDevice, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    dev.read_at(offset, &mut buf).expect("read");
    buf
}

async fn fresh_opfs(name: &str, size: u64) -> OpfsDevice {
    let dir = opfs::subdir(OPFS_DIR).await.expect("dir");
    opfs::remove_in(&dir, name).await.expect("remove stale");
    OpfsDevice::create(&dir, name, size).await.expect("create")
}

async fn reopen_opfs(name: &str) -> OpfsDevice {
    let dir = opfs::subdir(OPFS_DIR).await.expect("dir");
    OpfsDevice::open(&dir, name).await.expect("reopen")
}

#[wasm_bindgen_test]
async fn opfs_round_trip_coalesces_a_barrier_into_few_writes() {
    let mut dev = fresh_opfs("roundtrip.img", 1 << 20).await;
    assert_eq!(dev.size(), 1 << 20);
    // 64 adjacent blocks (256 KiB) and one far away: two runs.
    for i in 0..64u32 {
        dev.write_at(u64::from(i) * 4096, &block(i)).expect("write");
    }
    dev.write_at(200 * 4096, &block(200)).expect("write far");
    // Before the barrier, reads see the writes (from the dirty pages).
    assert_eq!(read(&mut dev, 5 * 4096, 4096), block(5));
    assert_eq!(
        dev.stats().handle_writes,
        0,
        "nothing reaches OPFS before the barrier"
    );
    dev.flush().expect("flush");
    let s = dev.stats();
    assert_eq!(
        s.handle_writes, 2,
        "64 adjacent blocks + 1 far block = 2 writes: {s:?}"
    );
    assert_eq!(s.handle_flushes, 1);
    assert_eq!(s.bytes_written, 65 * 4096);
    assert_eq!(dev.dirty_pages(), 0);
    // A read spanning written and never-written blocks.
    let span = read(&mut dev, 62 * 4096, 3 * 4096);
    assert_eq!(&span[..4096], &block(62)[..]);
    assert_eq!(&span[4096..8192], &block(63)[..]);
    assert!(span[8192..].iter().all(|&b| b == 0));
    dev.close().expect("close");

    let mut dev = reopen_opfs("roundtrip.img").await;
    assert_eq!(dev.size(), 1 << 20);
    for i in [0u32, 17, 63] {
        assert_eq!(
            read(&mut dev, u64::from(i) * 4096, 4096),
            block(i),
            "block {i}"
        );
    }
    assert_eq!(read(&mut dev, 200 * 4096, 4096), block(200));
    dev.close().expect("close");
}

#[wasm_bindgen_test]
async fn opfs_runs_are_capped_at_one_mebibyte() {
    let mut dev = fresh_opfs("runs.img", 4 << 20).await;
    let big: Vec<u8> = (0..(3 << 20) as u32).map(|i| (i % 251) as u8).collect();
    dev.write_at(0, &big).expect("write 3 MiB");
    dev.flush().expect("flush");
    assert_eq!(
        dev.stats().handle_writes,
        3,
        "3 MiB contiguous = 3 writes of 1 MiB"
    );
    assert_eq!(read(&mut dev, 0, 3 << 20), big);
    dev.close().expect("close");
}

/// Whole pages written in ascending order stream out as 1 MiB writes as
/// soon as a MiB is complete (before the barrier, which is allowed within
/// an epoch); stray writes, rewrites and sub-page writes into the stream
/// land where they belong, and reads see all of it before the barrier.
#[wasm_bindgen_test]
async fn opfs_sequential_pages_stream_out_in_mebibyte_writes() {
    let mut dev = fresh_opfs("stream.img", 4 << 20).await;
    // A short stream (3 pages at 900..) gives way to the sequential run.
    for i in 900..903u32 {
        dev.write_at(u64::from(i) * 4096, &block(i)).expect("write");
    }
    // 384 pages from 0 (1.5 MiB), one 4 KiB call each, with a stray page
    // (600) in the middle of the run and a rewrite of page 3.
    for i in 0..384u32 {
        dev.write_at(u64::from(i) * 4096, &block(i)).expect("write");
        if i == 100 {
            dev.write_at(600 * 4096, &block(600)).expect("stray");
            dev.write_at(3 * 4096, &block(7003)).expect("rewrite");
        }
    }
    assert_eq!(
        dev.stats().handle_writes,
        1,
        "the first MiB went out as one write before the barrier"
    );
    // Into the unwritten half MiB still in the stream: a 1 KiB write.
    dev.write_at(300 * 4096 + 1024, &[0xEE; 1024])
        .expect("1 KiB");
    let mut want300 = block(300);
    want300[1024..2048].fill(0xEE);
    assert_eq!(read(&mut dev, 300 * 4096, 4096), want300);
    assert_eq!(read(&mut dev, 600 * 4096, 4096), block(600));
    dev.flush().expect("flush");
    let s = dev.stats();
    assert_eq!(
        s.handle_writes, 4,
        "1 MiB early, then at the barrier: the stream's rest, 600, 900..903: {s:?}"
    );
    assert_eq!(s.bytes_written, (384 + 1 + 3) * 4096);
    dev.close().expect("close");
    let mut dev = reopen_opfs("stream.img").await;
    for i in [0u32, 255, 256, 383, 900, 902, 600] {
        assert_eq!(
            read(&mut dev, u64::from(i) * 4096, 4096),
            block(i),
            "block {i}"
        );
    }
    assert_eq!(read(&mut dev, 3 * 4096, 4096), block(7003), "rewrite kept");
    assert_eq!(read(&mut dev, 300 * 4096, 4096), want300);
    assert!(read(&mut dev, 384 * 4096, 4096).iter().all(|&b| b == 0));
    dev.close().expect("close");
}

/// A long whole-page write (the engine's run of file data) goes to the
/// handle at once without a copy; it supersedes the epoch's older dirty
/// pages and stream pages it covers (an overlapping stream is written out
/// first), and leaves the rest for the barrier.
#[wasm_bindgen_test]
async fn opfs_long_writes_go_straight_to_the_handle() {
    let mut dev = fresh_opfs("direct.img", 4 << 20).await;
    // Older writes of the epoch: a 1 KiB write into page 20 (a dirty
    // page), a stream at 250..253 (overlapping the long write), a stream
    // page at 600 and a dirty page at 700 (outside it).
    dev.write_at(20 * 4096 + 1024, &[0xCC; 1024])
        .expect("1 KiB");
    for i in 250..253u32 {
        dev.write_at(u64::from(i) * 4096, &block(i))
            .expect("stream");
    }
    dev.write_at(700 * 4096 + 1024, &[0xDD; 1024])
        .expect("1 KiB far");
    assert_eq!(dev.stats().handle_writes, 0);
    let big: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 241) as u8).collect();
    dev.write_at(0, &big).expect("1 MiB");
    let s = dev.stats();
    assert_eq!(
        s.handle_writes, 2,
        "the overlapping stream first, then the 1 MiB itself: {s:?}"
    );
    assert_eq!(s.bytes_written, (3 << 12) + (1 << 20));
    assert_eq!(
        dev.dirty_pages(),
        1,
        "only page 700 is left for the barrier"
    );
    assert_eq!(read(&mut dev, 0, 1 << 20), big, "reads see the long write");
    dev.flush().expect("flush");
    let s = dev.stats();
    assert_eq!(s.handle_writes, 3, "the barrier writes page 700: {s:?}");
    assert_eq!(s.handle_flushes, 1);
    dev.close().expect("close");
    let mut dev = reopen_opfs("direct.img").await;
    assert_eq!(
        read(&mut dev, 0, 1 << 20),
        big,
        "no older page landed over it"
    );
    let mut want700 = vec![0u8; 4096];
    want700[1024..2048].fill(0xDD);
    assert_eq!(read(&mut dev, 700 * 4096, 4096), want700);
    dev.close().expect("close");
}

#[wasm_bindgen_test]
async fn opfs_write_out_bridges_small_gaps_without_touching_their_bytes() {
    let mut dev = fresh_opfs("gaps.img", 1 << 20).await;
    // Stored first: blocks 5 and 15, inside the gaps bridged below.
    dev.write_at(5 * 4096, &block(5)).expect("write 5");
    dev.write_at(15 * 4096, &block(15)).expect("write 15");
    dev.flush().expect("flush");
    let before = dev.stats().handle_writes;
    // Dirty blocks 0, 10, 20 (gaps of 9 clean blocks) and 60 (gap of 39).
    for i in [0u32, 10, 20, 60] {
        dev.write_at(u64::from(i) * 4096, &block(1000 + i))
            .expect("write");
    }
    dev.flush().expect("flush");
    let s = dev.stats();
    assert_eq!(
        s.handle_writes - before,
        2,
        "0..=20 bridged into one write, 60 alone: {s:?}"
    );
    dev.close().expect("close");
    let mut dev = reopen_opfs("gaps.img").await;
    assert_eq!(
        read(&mut dev, 5 * 4096, 4096),
        block(5),
        "a bridged clean block keeps its bytes"
    );
    assert_eq!(read(&mut dev, 15 * 4096, 4096), block(15));
    assert!(read(&mut dev, 7 * 4096, 4096).iter().all(|&b| b == 0));
    for i in [0u32, 10, 20, 60] {
        assert_eq!(
            read(&mut dev, u64::from(i) * 4096, 4096),
            block(1000 + i),
            "block {i}"
        );
    }
    dev.close().expect("close");
}

#[wasm_bindgen_test]
async fn opfs_barrier_holds_across_a_crash() {
    let mut dev = fresh_opfs("crash.img", 1 << 20).await;
    for i in 0..8u32 {
        dev.write_at(u64::from(i) * 4096, &block(i))
            .expect("write A");
    }
    dev.flush().expect("barrier");
    // After the barrier: overwrite block 0, write block 100, then crash.
    dev.write_at(0, &block(1000)).expect("write B");
    dev.write_at(100 * 4096, &block(100)).expect("write C");
    dev.crash();

    let mut dev = reopen_opfs("crash.img").await;
    for i in 0..8u32 {
        assert_eq!(
            read(&mut dev, u64::from(i) * 4096, 4096),
            block(i),
            "pre-barrier block {i}"
        );
    }
    assert!(
        read(&mut dev, 100 * 4096, 4096).iter().all(|&b| b == 0),
        "a write after the last barrier did not survive the crash"
    );
    dev.close().expect("close");
}

#[wasm_bindgen_test]
async fn opfs_sub_page_writes_keep_the_rest_of_the_page() {
    let mut dev = fresh_opfs("subpage.img", 64 << 10).await;
    dev.write_at(4096, &block(7)).expect("write page");
    dev.flush().expect("flush");
    // A 1 KiB write into the middle of the stored page (ext4 1 KiB blocks).
    dev.write_at(4096 + 2048, &[0xAB; 1024])
        .expect("write 1 KiB");
    dev.flush().expect("flush");
    dev.close().expect("close");
    let mut dev = reopen_opfs("subpage.img").await;
    let mut want = block(7);
    want[2048..3072].fill(0xAB);
    assert_eq!(read(&mut dev, 4096, 4096), want);
    // The superblock offset (1024) is addressable on its own.
    dev.write_at(1024, &[1; 1024]).expect("write at 1024");
    assert_eq!(read(&mut dev, 0, 2048)[1024..], [1u8; 1024][..]);
    dev.close().expect("close");
}

#[wasm_bindgen_test]
async fn opfs_rejects_bad_accesses_without_failing_the_device() {
    let mut dev = fresh_opfs("bounds.img", 16 << 10).await;
    let mut buf = vec![0u8; 4096];
    assert!(matches!(
        dev.read_at(16 << 10, &mut buf),
        Err(DeviceError::OutOfRange { .. })
    ));
    assert!(matches!(
        dev.write_at(100, &buf),
        Err(DeviceError::Unaligned { .. })
    ));
    assert!(matches!(
        dev.read_at(u64::MAX - 1023, &mut buf[..1024]),
        Err(DeviceError::Unaligned { .. }) | Err(DeviceError::OutOfRange { .. })
    ));
    dev.write_at(0, &block(1)).expect("device still usable");
    dev.close().expect("close");
}

async fn idb_store() -> IdbStore {
    IdbStore::open(IDB_NAME, 1).await.expect("open db")
}

async fn fresh_idb(store: &IdbStore, name: &str, size: u64) -> IdbDevice {
    let _ = store.delete(name).await;
    let record = ImageRecord {
        name: name.into(),
        size,
        chunk_size: CHUNK as u32,
    };
    store.create(&record).await.expect("create record");
    IdbDevice::open(store, name, Residency::Eager)
        .await
        .expect("open")
}

#[wasm_bindgen_test]
async fn idb_round_trip_persists_one_transaction_per_barrier_set() {
    let store = idb_store().await;
    let mut dev = fresh_idb(&store, "roundtrip", 4 << 20).await;
    for i in 0..40u32 {
        dev.write_at(u64::from(i) * 4096, &block(i)).expect("write");
    }
    dev.write_at(3 << 20, &block(99)).expect("write far");
    assert_eq!(read(&mut dev, 4096 * 39, 4096), block(39));
    assert_eq!(
        dev.pending_chunks(),
        0,
        "nothing pending before the barrier"
    );
    dev.flush().expect("flush");
    // 40 blocks = 160 KiB = chunks 0..=2, plus the far chunk.
    assert_eq!(dev.pending_chunks(), 4);
    dev.write_at(0, &block(500)).expect("write after flush");
    dev.flush().expect("second barrier");
    dev.persist().await.expect("persist");
    assert_eq!(dev.persists, 1, "both barriers went into one transaction");
    assert_eq!(dev.pending_chunks(), 0);
    drop(dev);

    let mut dev = IdbDevice::open(&store, "roundtrip", Residency::Eager)
        .await
        .expect("reopen");
    assert_eq!(dev.size(), 4 << 20);
    assert_eq!(read(&mut dev, 0, 4096), block(500));
    for i in [1u32, 20, 39] {
        assert_eq!(
            read(&mut dev, u64::from(i) * 4096, 4096),
            block(i),
            "block {i}"
        );
    }
    assert_eq!(read(&mut dev, 3 << 20, 4096), block(99));
    assert!(
        read(&mut dev, 2 << 20, 4096).iter().all(|&b| b == 0),
        "never written reads as zeros"
    );
    store.delete("roundtrip").await.expect("delete");
    assert!(
        IdbDevice::open(&store, "roundtrip", Residency::Eager)
            .await
            .is_err(),
        "deleted"
    );
}

#[wasm_bindgen_test]
async fn idb_barrier_holds_across_a_crash() {
    let store = idb_store().await;
    let mut dev = fresh_idb(&store, "crash", 1 << 20).await;
    dev.write_at(0, &block(1)).expect("A");
    dev.flush().expect("barrier");
    dev.persist().await.expect("persist");
    dev.write_at(0, &block(2))
        .expect("B (flushed, never persisted)");
    dev.flush().expect("barrier 2");
    dev.write_at(8 * 4096, &block(3))
        .expect("C (never flushed)");
    drop(dev); // the crash: the worker died before persist

    let mut dev = IdbDevice::open(&store, "crash", Residency::Eager)
        .await
        .expect("reopen");
    assert_eq!(read(&mut dev, 0, 4096), block(1));
    assert!(read(&mut dev, 8 * 4096, 4096).iter().all(|&b| b == 0));
    store.delete("crash").await.expect("delete");
}

#[wasm_bindgen_test]
async fn idb_on_demand_residency_needs_a_prefetch() {
    let store = idb_store().await;
    let mut dev = fresh_idb(&store, "lazy", 1 << 20).await;
    dev.write_at(0, &block(1)).expect("write chunk 0");
    dev.write_at(5 * CHUNK as u64, &block(5))
        .expect("write chunk 5");
    dev.flush().expect("flush");
    dev.persist().await.expect("persist");
    drop(dev);

    let mut dev = IdbDevice::open(&store, "lazy", Residency::OnDemand)
        .await
        .expect("open lazily");
    let mut buf = vec![0u8; 4096];
    let e = dev
        .read_at(0, &mut buf)
        .expect_err("stored, not loaded: an error, never zeros");
    assert!(e.to_string().contains("prefetch"), "{e}");
    // A chunk never stored reads as zeros without loading anything.
    assert!(read(&mut dev, 2 * CHUNK as u64, 4096)
        .iter()
        .all(|&b| b == 0));
    dev.prefetch(0, 4096).await.expect("prefetch chunk 0");
    assert_eq!(read(&mut dev, 0, 4096), block(1));
    assert!(
        dev.read_at(5 * CHUNK as u64, &mut buf).is_err(),
        "chunk 5 still not loaded"
    );
    dev.prefetch(0, 1 << 20).await.expect("prefetch all");
    assert_eq!(read(&mut dev, 5 * CHUNK as u64, 4096), block(5));
    store.delete("lazy").await.expect("delete");
}

/// The engine on each browser device: mkfs, write a file, persist, reopen
/// (a fresh device, as after a reload), read it back, fsck clean.
#[wasm_bindgen_test]
async fn engine_formats_writes_and_fscks_on_opfs_and_idb() {
    use ext4lab::wasm::device::ext4::{format, fsck, read_file, write_file, MkfsRequest};
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 17 % 253) as u8).collect();

    let mut dev = fresh_opfs("engine.img", 8 << 20).await;
    format(&mut dev, &MkfsRequest::default()).expect("mkfs on OPFS");
    write_file(&mut dev, "/big.bin", &data).expect("write on OPFS");
    assert!(
        dev.stats().handle_flushes >= 2,
        "mkfs and the write each end with a barrier"
    );
    dev.close().expect("close");
    let mut dev = reopen_opfs("engine.img").await;
    assert_eq!(read_file(&mut dev, "/big.bin").expect("read back"), data);
    let report = fsck(&mut dev).expect("fsck");
    assert!(report.is_clean(), "{:?}", report.findings);
    dev.close().expect("close");

    let store = idb_store().await;
    let mut dev = fresh_idb(&store, "engine", 8 << 20).await;
    let req = MkfsRequest {
        block_size: Some(4096),
        features: Some("inline_data".into()),
        ..Default::default()
    };
    format(&mut dev, &req).expect("mkfs on IndexedDB");
    write_file(&mut dev, "/big.bin", &data).expect("write on IndexedDB");
    dev.persist().await.expect("persist");
    drop(dev);
    let mut dev = IdbDevice::open(&store, "engine", Residency::Eager)
        .await
        .expect("reopen");
    assert_eq!(read_file(&mut dev, "/big.bin").expect("read back"), data);
    let report = fsck(&mut dev).expect("fsck");
    assert!(report.is_clean(), "{:?}", report.findings);
    store.delete("engine").await.expect("delete");
}

fn get(v: &wasm_bindgen::JsValue, key: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(v, &key.into()).expect("property")
}

/// The scenario runner's API: an image created by the page's command is
/// opened by name as a device the runner owns (the page cannot take it
/// meanwhile), written through the engine, closed, and read back as bytes
/// for a memory device.
#[wasm_bindgen_test]
async fn runner_opens_a_stored_image_by_name() {
    use ext4lab::device::MemDevice;
    use ext4lab::wasm::device::ext4::{read_file, summary, write_file};
    use ext4lab::wasm::device::{open_image, read_image, FaultKind};
    use ext4lab::wasm::handle_request;
    let msg = |json: &str| js_sys::JSON::parse(json).expect("json");
    let name = "ext4lab-test-runner";
    let _ = handle_request(msg(&format!(r#"{{"cmd":"image-delete","name":"{name}"}}"#))).await;
    let created = handle_request(msg(&format!(
        r#"{{"cmd":"image-create","name":"{name}","backend":"opfs","size":8388608,"mkfs":{{"volumeName":"runner"}}}}"#
    )))
    .await;
    assert_eq!(
        get(&created, "ok"),
        wasm_bindgen::JsValue::TRUE,
        "{created:?}"
    );

    let mut dev = open_image(name).await.expect("open by name");
    let fs = summary(&mut dev).expect("superblock").expect("ext4");
    assert_eq!(fs.volume_name, "runner");
    assert!(
        fs.features.iter().any(|f| f == "has_journal"),
        "{:?}",
        fs.features
    );
    // While the runner holds it, the page's commands get a typed refusal.
    let busy = handle_request(msg(&format!(r#"{{"cmd":"image-open","name":"{name}"}}"#))).await;
    assert_eq!(
        get(&get(&busy, "error"), "kind").as_string().as_deref(),
        Some("image-busy")
    );
    write_file(&mut dev, "/from-runner.txt", b"scenario output").expect("engine write");
    dev.persist().await.expect("persist");
    dev.close().await.expect("close");

    let bytes = read_image(name).await.expect("bytes");
    assert_eq!(bytes.len(), 8 << 20);
    let mut mem = MemDevice::from_bytes(&bytes);
    assert_eq!(
        read_file(&mut mem, "/from-runner.txt").expect("read"),
        b"scenario output"
    );
    let gone = handle_request(msg(&format!(r#"{{"cmd":"image-delete","name":"{name}"}}"#))).await;
    assert_eq!(get(&gone, "ok"), wasm_bindgen::JsValue::TRUE);
    assert_eq!(
        open_image(name).await.err().map(|f| f.kind),
        Some(FaultKind::NotFound)
    );
}

/// The library's superblock summary says why the engine will not write an
/// image ("read-only: quota" on the page) or cannot open it at all.
#[wasm_bindgen_test]
async fn summary_names_the_read_only_feature() {
    use ext4lab::device::{BlockDevice, MemDevice};
    use ext4lab::engine::superblock::{Ext4SuperBlock, INCOMPAT_META_BG, RO_COMPAT_QUOTA};
    use ext4lab::engine::{mkfs, MkfsOptions};
    use ext4lab::wasm::device::ext4::summary;
    let o = MkfsOptions {
        assume_zeroed: true,
        ..Default::default()
    };
    let mut dev = mkfs(MemDevice::new(8 << 20), &o).unwrap().into_device();
    assert_eq!(summary(&mut dev).unwrap().unwrap().read_only, None);
    let set = |dev: &mut MemDevice, f: &dyn Fn(&mut Ext4SuperBlock)| {
        let mut raw = [0u8; 1024];
        dev.read_at(1024, &mut raw).unwrap();
        let mut sb = Ext4SuperBlock::decode(&raw);
        f(&mut sb);
        dev.write_at(1024, &sb.to_bytes()).unwrap();
    };
    set(&mut dev, &|sb| sb.s_feature_ro_compat |= RO_COMPAT_QUOTA);
    let s = summary(&mut dev).unwrap().unwrap();
    assert_eq!(s.read_only.as_deref(), Some("quota"));
    assert!(s.features.iter().any(|f| f == "quota"), "{:?}", s.features);
    set(&mut dev, &|sb| sb.s_feature_incompat |= INCOMPAT_META_BG);
    assert_eq!(
        summary(&mut dev).unwrap().unwrap().read_only.as_deref(),
        Some("unsupported: meta_bg")
    );
}
