//! Storage faults on the browser block devices, in a dedicated worker: each
//! gives a typed fault with a clear message, fails the device for every
//! later call, and leaves what was stored before consistent. Real browser
//! faults where the browser lets us (a second OPFS handle, a blocked
//! IndexedDB upgrade, a really aborted transaction); shims on the handle for
//! a full disk and a failed flush.
#![cfg(target_arch = "wasm32")]

use ext4lab::device::BlockDevice;
use ext4lab::wasm::device::idb::{ImageRecord, CHUNK};
use ext4lab::wasm::device::library::Library;
use ext4lab::wasm::device::{
    Backend, FaultKind, IdbDevice, IdbStore, InjectedFault, OpfsDevice, Residency,
};
use ext4lab::wasm::opfs;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const OPFS_DIR: &str = "ext4lab-test-faults";
const IDB_NAME: &str = "ext4lab-test-faults";

fn block(seed: u8) -> Vec<u8> {
    (0..4096u32)
        .map(|i| (i as u8).wrapping_mul(3) ^ seed)
        .collect()
}

fn read(dev: &mut impl BlockDevice, offset: u64) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    dev.read_at(offset, &mut buf).expect("read");
    buf
}

/// An OPFS image with blocks 0..4 = block(1..5), flushed.
async fn opfs_image(name: &str) -> OpfsDevice {
    let dir = opfs::subdir(OPFS_DIR).await.expect("dir");
    opfs::remove_in(&dir, name).await.expect("remove stale");
    let mut dev = OpfsDevice::create(&dir, name, 256 << 10)
        .await
        .expect("create");
    for i in 0..4u8 {
        dev.write_at(u64::from(i) * 4096, &block(i + 1))
            .expect("write");
    }
    dev.flush().expect("flush");
    dev
}

async fn opfs_reopen(name: &str) -> OpfsDevice {
    let dir = opfs::subdir(OPFS_DIR).await.expect("dir");
    OpfsDevice::open(&dir, name).await.expect("reopen")
}

fn assert_consistent(dev: &mut impl BlockDevice) {
    for i in 0..4u8 {
        assert_eq!(
            read(dev, u64::from(i) * 4096),
            block(i + 1),
            "block {i} as of the last barrier"
        );
    }
}

#[wasm_bindgen_test]
async fn opfs_second_handle_is_image_busy() {
    let dev = opfs_image("busy.img").await;
    let dir = opfs::subdir(OPFS_DIR).await.expect("dir");
    let e = OpfsDevice::open(&dir, "busy.img")
        .await
        .err()
        .expect("second handle refused");
    assert_eq!(e.kind, FaultKind::ImageBusy);
    assert_eq!(e.dom_name, "NoModificationAllowedError");
    assert!(e.to_string().contains("open in another tab"), "{e}");
    dev.close().expect("close");
    let mut dev = opfs_reopen("busy.img").await;
    assert_consistent(&mut dev);
    dev.close().expect("close");
}

#[wasm_bindgen_test]
async fn opfs_quota_exceeded_fails_the_device_and_keeps_the_image() {
    let mut dev = opfs_image("quota.img").await;
    dev.inject_fault(InjectedFault::QuotaOnWrite);
    dev.write_at(0, &block(99))
        .expect("buffered write succeeds");
    let e = dev.flush().expect_err("write-out hits the quota");
    assert!(e.to_string().contains("quota is full"), "{e}");
    let f = dev.fault().expect("typed fault kept").clone();
    assert_eq!(f.kind, FaultKind::QuotaExceeded);
    assert_eq!(f.dom_name, "QuotaExceededError");
    // Every later call reports it, even a read.
    let mut buf = vec![0u8; 4096];
    assert!(dev.read_at(0, &mut buf).is_err());
    assert!(dev.write_at(4096, &buf).is_err());
    assert_eq!(
        dev.close().expect_err("close reports it").kind,
        FaultKind::QuotaExceeded
    );
    let mut dev = opfs_reopen("quota.img").await;
    assert_consistent(&mut dev);
    dev.close().expect("close");
}

#[wasm_bindgen_test]
async fn opfs_failed_flush_surfaces_on_the_next_call() {
    let mut dev = opfs_image("flush.img").await;
    dev.inject_fault(InjectedFault::FlushFails);
    dev.write_at(8 * 4096, &block(50)).expect("write");
    let e = dev.flush().expect_err("the barrier fails");
    assert!(e.to_string().contains("barrier (flush) failed"), "{e}");
    assert_eq!(dev.fault().map(|f| f.kind), Some(FaultKind::FlushFailed));
    assert!(
        dev.flush().is_err(),
        "a failed barrier is not retried as if nothing happened"
    );
    let mut buf = vec![0u8; 4096];
    assert!(dev.read_at(0, &mut buf).is_err());
    dev.crash();
    let mut dev = opfs_reopen("flush.img").await;
    assert_consistent(&mut dev);
    dev.close().expect("close");
}

async fn idb_image(store: &IdbStore, name: &str) -> IdbDevice {
    let _ = store.delete(name).await;
    let record = ImageRecord {
        name: name.into(),
        size: 1 << 20,
        chunk_size: CHUNK as u32,
    };
    store.create(&record).await.expect("create");
    let mut dev = IdbDevice::open(store, name, Residency::Eager)
        .await
        .expect("open");
    for i in 0..4u8 {
        dev.write_at(u64::from(i) * 4096, &block(i + 1))
            .expect("write");
    }
    dev.flush().expect("flush");
    dev.persist().await.expect("persist");
    dev
}

#[wasm_bindgen_test]
async fn idb_aborted_transaction_stores_nothing_and_fails_the_device() {
    let store = IdbStore::open(IDB_NAME, 1).await.expect("db");
    let mut dev = idb_image(&store, "abort").await;
    dev.write_at(0, &block(77)).expect("write chunk 0");
    dev.write_at(2 * CHUNK as u64, &block(78))
        .expect("write chunk 2");
    dev.flush().expect("barrier");
    dev.inject_abort_next_persist();
    let f = dev
        .persist()
        .await
        .expect_err("the browser aborts the transaction");
    assert_eq!(f.kind, FaultKind::IdbAborted, "{f}");
    assert!(
        f.to_string().contains("none of that save was stored"),
        "{f}"
    );
    let mut buf = vec![0u8; 4096];
    let e = dev
        .read_at(0, &mut buf)
        .expect_err("the next device call reports the failed persist");
    assert!(e.to_string().contains("aborted"), "{e}");
    drop(dev);
    let mut dev = IdbDevice::open(&store, "abort", Residency::Eager)
        .await
        .expect("reopen");
    assert_consistent(&mut dev);
    assert!(
        read(&mut dev, 2 * CHUNK as u64).iter().all(|&b| b == 0),
        "no part of the aborted save"
    );
    store.delete("abort").await.expect("delete");
}

#[wasm_bindgen_test]
async fn idb_upgrade_blocked_by_an_old_connection_is_a_typed_error() {
    let name = "ext4lab-test-blocked";
    IdbStore::delete_database(name).await.expect("clean");
    // An image stored at version 1...
    let v1 = IdbStore::open(name, 1).await.expect("v1");
    drop(idb_image(&v1, "kept").await);
    v1.close();
    // ...and an "old tab": a connection at version 1 that ignores versionchange.
    let old = IdbStore::hold_open_raw(name, 1)
        .await
        .expect("old connection");
    let e = IdbStore::open(name, 2)
        .await
        .err()
        .expect("upgrade blocked");
    assert_eq!(e.kind, FaultKind::IdbBlocked);
    assert!(e.to_string().contains("held open by another tab"), "{e}");
    old.close();
    let s = IdbStore::open(name, 2)
        .await
        .expect("opens once the old tab is gone");
    // The blocked upgrade changed nothing: the image reads as stored.
    let mut dev = IdbDevice::open(&s, "kept", Residency::Eager)
        .await
        .expect("image kept");
    assert_consistent(&mut dev);
    drop(dev);
    s.close();
    IdbStore::delete_database(name).await.expect("clean");
}

#[wasm_bindgen_test]
async fn library_import_that_hits_the_quota_leaves_no_partial_image() {
    // The library's import is all or nothing: a full disk in the middle of
    // an OPFS import leaves no image of that name, and the others intact.
    let mut lib = Library::new(OPFS_DIR, IDB_NAME);
    let _ = lib.delete("dup").await;
    let _ = lib.delete("full").await;
    lib.import("dup", Backend::Idb, &vec![7u8; 128 << 10])
        .await
        .expect("import");
    lib.arm_fault(InjectedFault::QuotaOnWrite);
    let e = lib
        .import("full", Backend::Opfs, &vec![5u8; 3 << 20])
        .await
        .expect_err("the import's write hits the quota");
    assert_eq!(e.kind, FaultKind::QuotaExceeded, "{e}");
    assert_eq!(e.image, "full");
    assert!(e.to_string().contains("quota is full"), "{e}");
    assert_eq!(lib.backend_of("full").await.expect("lookup"), None);
    assert!(!lib
        .list()
        .await
        .expect("list")
        .iter()
        .any(|i| i.name == "full"));
    // A taken name is a typed error too.
    let e = lib
        .import("dup", Backend::Opfs, &[0u8; 4096])
        .await
        .expect_err("name taken");
    assert_eq!(e.kind, FaultKind::Exists);
    assert_eq!(
        lib.export("dup").await.expect("export"),
        vec![7u8; 128 << 10]
    );
    let e = lib
        .import("bad/name", Backend::Opfs, &[0u8; 4096])
        .await
        .expect_err("bad name");
    assert_eq!(e.kind, FaultKind::Invalid);
    let e = lib
        .import("odd", Backend::Opfs, &[0u8; 1000])
        .await
        .expect_err("bad size");
    assert_eq!(e.kind, FaultKind::Invalid);
    lib.delete("dup").await.expect("delete");
    assert_eq!(
        lib.delete("dup").await.expect_err("gone").kind,
        FaultKind::NotFound
    );
}

#[wasm_bindgen_test]
async fn our_connection_yields_to_a_newer_tab_and_then_reports_it() {
    let name = "ext4lab-test-yield";
    IdbStore::delete_database(name).await.expect("clean");
    let ours = IdbStore::open(name, 1).await.expect("ours");
    drop(idb_image(&ours, "kept").await);
    // A newer build in another tab upgrades the database: our connection
    // closes itself instead of blocking it...
    let newer = IdbStore::open(name, 2)
        .await
        .expect("the upgrade is not blocked by us");
    let mut dev = IdbDevice::open(&newer, "kept", Residency::Eager)
        .await
        .expect("the newer tab sees our image");
    assert_consistent(&mut dev);
    drop(dev);
    // ...and our next use says why, typed.
    let e = ours.list().await.expect_err("our connection was closed");
    assert_eq!(e.kind, FaultKind::IdbClosed, "{e}");
    assert!(
        e.to_string().contains("upgraded or deleted by another tab"),
        "{e}"
    );
    newer.close();
    IdbStore::delete_database(name).await.expect("clean");
}

/// A formatted OPFS image `name` holding /a.txt, then `fault` armed while
/// /b.txt (100,000 bytes) is written and synced: the write fails with
/// `message` and a fault of `kind`; the device crashes and is reopened.
async fn opfs_fault_in_second_write(
    name: &str,
    fault: InjectedFault,
    message: &str,
    kind: FaultKind,
) -> OpfsDevice {
    use ext4lab::wasm::device::ext4::{format, write_file, MkfsRequest};
    let dir = opfs::subdir(OPFS_DIR).await.expect("dir");
    opfs::remove_in(&dir, name).await.expect("clean");
    let mut dev = OpfsDevice::create(&dir, name, 8 << 20)
        .await
        .expect("create");
    format(&mut dev, &MkfsRequest::default()).expect("mkfs");
    write_file(&mut dev, "/a.txt", b"before the fault").expect("write a");
    dev.inject_fault(fault);
    let e = write_file(&mut dev, "/b.txt", &[9u8; 100_000]).expect_err(message);
    assert!(e.to_string().contains(message), "{e}");
    assert_eq!(dev.fault().map(|f| f.kind), Some(kind));
    dev.crash();
    opfs_reopen(name).await
}

/// The engine's fsck finds the image clean and /a.txt holds what was
/// synced before the fault.
fn assert_clean_with_first_file(dev: &mut impl BlockDevice) {
    use ext4lab::wasm::device::ext4::{fsck, read_file};
    let report = fsck(dev).expect("fsck");
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(read_file(dev, "/a.txt").expect("a"), b"before the fault");
}

/// At the filesystem level: a fault in the middle of an engine operation
/// leaves an image that fsck passes, with everything synced before it.
#[wasm_bindgen_test]
async fn engine_image_stays_fsck_clean_after_a_storage_fault() {
    use ext4lab::wasm::device::ext4::{format, read_file, write_file, MkfsRequest};
    // OPFS, full disk during the write-out of the second file's sync.
    let mut dev = opfs_fault_in_second_write(
        "fs-quota.img",
        InjectedFault::QuotaOnWrite,
        "quota is full",
        FaultKind::QuotaExceeded,
    )
    .await;
    assert_clean_with_first_file(&mut dev);
    assert!(
        read_file(&mut dev, "/b.txt").is_err(),
        "b never reached storage"
    );
    dev.close().expect("close");

    // OPFS, the barrier of the second file's sync failing: storage may
    // hold part of that epoch (as a crash right then would); the image is
    // still consistent after the journal is replayed at the next mount,
    // and the first file intact.
    let dev = opfs_fault_in_second_write(
        "fs-flush.img",
        InjectedFault::FlushFails,
        "barrier (flush) failed",
        FaultKind::FlushFailed,
    )
    .await;
    let (mut dev, _) = ext4lab::engine::ext4_recover_device(dev).expect("mount replays");
    assert_clean_with_first_file(&mut dev);
    if let Ok(b) = read_file(&mut dev, "/b.txt") {
        assert!(
            b.is_empty() || b == [9u8; 100_000],
            "b is absent, empty or whole, never torn ({} bytes)",
            b.len()
        );
    }
    dev.close().expect("close");

    // IndexedDB, the save of the second file aborted.
    let store = IdbStore::open(IDB_NAME, 1).await.expect("db");
    let _ = store.delete("fs-abort").await;
    let record = ImageRecord {
        name: "fs-abort".into(),
        size: 8 << 20,
        chunk_size: CHUNK as u32,
    };
    store.create(&record).await.expect("create");
    let mut dev = IdbDevice::open(&store, "fs-abort", Residency::Eager)
        .await
        .expect("open");
    format(&mut dev, &MkfsRequest::default()).expect("mkfs");
    write_file(&mut dev, "/a.txt", b"before the fault").expect("write a");
    dev.persist().await.expect("persist a");
    write_file(&mut dev, "/b.txt", &[9u8; 100_000]).expect("write b (in memory)");
    dev.inject_abort_next_persist();
    assert_eq!(
        dev.persist().await.expect_err("aborted").kind,
        FaultKind::IdbAborted
    );
    drop(dev);
    let mut dev = IdbDevice::open(&store, "fs-abort", Residency::Eager)
        .await
        .expect("reopen");
    assert_clean_with_first_file(&mut dev);
    assert!(
        read_file(&mut dev, "/b.txt").is_err(),
        "b never reached storage"
    );
    store.delete("fs-abort").await.expect("delete");
}
