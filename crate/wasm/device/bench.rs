//! Benchmark entry points for bench.html (web/bench/): a stored image
//! driven from JavaScript so the worker can time each phase with
//! `performance.now()` next to raw sync-access-handle I/O measured in the
//! same run. Not used by the playground itself.
//!
//! Block addresses of the random patterns come from a seeded xorshift32
//! (the seed is part of the reported configuration).

use super::ext4::{self, MkfsRequest};
use super::idb::{IdbStore, ImageRecord, CHUNK};
use super::idb_device::{IdbDevice, Residency};
use super::opfs_device::OpfsDevice;
use super::{ImageDevice, StorageFault};
use crate::device::{BlockDevice, DevRef};
use crate::engine::{Ext4Fs, OpenOptions};
use crate::wasm::opfs;
use wasm_bindgen::prelude::*;

const BLOCK: usize = 4096;
const BENCH_DIR: &str = "ext4lab-bench";
const BENCH_DB: &str = "ext4lab-bench";

fn js_err(e: impl std::fmt::Display) -> JsValue {
    js_sys::Error::new(&e.to_string()).into()
}

fn fault(f: StorageFault) -> JsValue {
    js_err(f)
}

/// xorshift32, seeded (never 0).
struct XorShift32(u32);

impl XorShift32 {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// `performance.now()` of the worker (milliseconds, sub-millisecond
/// resolution); 0 when unavailable. Benchmark code only.
fn now_ms() -> f64 {
    let perf = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok();
    perf.and_then(|p| {
        let f = js_sys::Reflect::get(&p, &"now".into()).ok()?;
        let f: &js_sys::Function = f.dyn_ref()?;
        f.call0(&p).ok()?.as_f64()
    })
    .unwrap_or(0.0)
}

/// Where a phase's time went (milliseconds), for the profile figures.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The whole phase.
    pub total_ms: f64,
    /// The write loop: engine CPU plus the device's `write_at` (copies into
    /// the stream or dirty pages, and the stream's 1 MiB handle writes):
    /// total minus flush and read time.
    pub write_loop_ms: f64,
    /// Inside the device's `flush` (write-out of the epoch + the handle's
    /// `flush()`).
    pub dev_flush_ms: f64,
    pub dev_read_ms: f64,
    pub write_calls: u64,
    pub flush_calls: u64,
    pub read_calls: u64,
    /// OPFS handle `write()` calls and bytes during the phase.
    pub handle_writes: u64,
    pub handle_flushes: u64,
    pub bytes_written: u64,
}

/// A device wrapper timing each call (benchmark only).
struct Timed<'a> {
    dev: &'a mut ImageDevice,
    p: Profile,
}

impl BlockDevice for Timed<'_> {
    fn size(&self) -> u64 {
        self.dev.size()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> crate::device::Result<()> {
        let t = now_ms();
        let r = self.dev.read_at(offset, buf);
        self.p.dev_read_ms += now_ms() - t;
        self.p.read_calls += 1;
        r
    }
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> crate::device::Result<()> {
        // Counted, not timed: two clock calls per 4 KiB would cost more
        // than the write (the loop's time is total minus flush and read).
        self.p.write_calls += 1;
        self.dev.write_at(offset, buf)
    }
    fn flush(&mut self) -> crate::device::Result<()> {
        let t = now_ms();
        let r = self.dev.flush();
        self.p.dev_flush_ms += now_ms() - t;
        self.p.flush_calls += 1;
        r
    }
}

fn opfs_stats(dev: &ImageDevice) -> super::opfs_device::OpfsStats {
    match dev {
        ImageDevice::Opfs(d) => d.stats(),
        ImageDevice::Idb(_) => Default::default(),
    }
}

/// A stored image under benchmark (created fresh, zero-filled).
#[wasm_bindgen]
pub struct BenchImage {
    dev: ImageDevice,
    buf: Vec<u8>,
    /// The inode of the engine file, once created.
    ino: Option<u32>,
}

#[wasm_bindgen]
impl BenchImage {
    /// Create a fresh `size`-byte image named `name` on `backend`
    /// ("opfs" or "idb") in the benchmark's own directory or database.
    pub async fn create(backend: &str, name: &str, size: f64) -> Result<BenchImage, JsValue> {
        let size = size as u64;
        let dev = match backend {
            "opfs" => {
                let dir = opfs::subdir(BENCH_DIR).await.map_err(js_err)?;
                opfs::remove_in(&dir, name).await.map_err(js_err)?;
                ImageDevice::Opfs(OpfsDevice::create(&dir, name, size).await.map_err(fault)?)
            }
            "idb" => {
                let store = IdbStore::open(BENCH_DB, super::idb::DB_VERSION)
                    .await
                    .map_err(fault)?;
                let _ = store.delete(name).await;
                let record = ImageRecord {
                    name: name.into(),
                    size,
                    chunk_size: CHUNK as u32,
                };
                store.create(&record).await.map_err(fault)?;
                ImageDevice::Idb(
                    IdbDevice::open(&store, name, Residency::Eager)
                        .await
                        .map_err(fault)?,
                )
            }
            other => return Err(js_err(format!("unknown backend {other}"))),
        };
        let buf = (0..BLOCK).map(|i| (i * 7 + 3) as u8).collect();
        Ok(BenchImage {
            dev,
            buf,
            ino: None,
        })
    }

    /// Write `count` 4 KiB blocks from block `start` upwards, with a
    /// barrier every `flush_every` blocks and one at the end.
    pub fn write_seq(&mut self, start: u32, count: u32, flush_every: u32) -> Result<(), JsValue> {
        for i in 0..count {
            self.buf[0] = i as u8;
            let at = (u64::from(start) + u64::from(i)) * BLOCK as u64;
            self.dev.write_at(at, &self.buf).map_err(js_err)?;
            if flush_every > 0 && (i + 1) % flush_every == 0 {
                self.dev.flush().map_err(js_err)?;
            }
        }
        self.dev.flush().map_err(js_err)
    }

    /// Write `count` 4 KiB blocks at random block addresses (seeded), with a
    /// barrier every `flush_every` blocks and one at the end.
    pub fn write_random(&mut self, count: u32, seed: u32, flush_every: u32) -> Result<(), JsValue> {
        let blocks = (self.dev.size() / BLOCK as u64) as u32;
        let mut rng = XorShift32(seed.max(1));
        for i in 0..count {
            let b = rng.next() % blocks;
            self.buf[0] = i as u8;
            self.dev
                .write_at(u64::from(b) * BLOCK as u64, &self.buf)
                .map_err(js_err)?;
            if flush_every > 0 && (i + 1) % flush_every == 0 {
                self.dev.flush().map_err(js_err)?;
            }
        }
        self.dev.flush().map_err(js_err)
    }

    /// Read `count` 4 KiB blocks sequentially from block 0.
    pub fn read_seq(&mut self, count: u32) -> Result<u32, JsValue> {
        let mut sum = 0u32;
        for i in 0..count {
            self.dev
                .read_at(u64::from(i) * BLOCK as u64, &mut self.buf)
                .map_err(js_err)?;
            sum = sum.wrapping_add(u32::from(self.buf[0]));
        }
        Ok(sum)
    }

    /// Read `count` 4 KiB blocks at random block addresses (seeded).
    pub fn read_random(&mut self, count: u32, seed: u32) -> Result<u32, JsValue> {
        let blocks = (self.dev.size() / BLOCK as u64) as u32;
        let mut rng = XorShift32(seed.max(1));
        let mut sum = 0u32;
        for _ in 0..count {
            let b = rng.next() % blocks;
            self.dev
                .read_at(u64::from(b) * BLOCK as u64, &mut self.buf)
                .map_err(js_err)?;
            sum = sum.wrapping_add(u32::from(self.buf[0]));
        }
        Ok(sum)
    }

    /// Format with the engine's mkfs (4 KiB blocks) and create `/bench.bin`.
    pub fn mkfs(&mut self) -> Result<(), JsValue> {
        let req = MkfsRequest {
            block_size: Some(4096),
            ..Default::default()
        };
        ext4::format(&mut self.dev, &req).map_err(js_err)?;
        let mut fs =
            Ext4Fs::open(dyn_dev(&mut self.dev), OpenOptions::default()).map_err(js_err)?;
        self.ino = Some(fs.create("/bench.bin", 0o644).map_err(js_err)?);
        fs.sync().map_err(js_err)
    }

    /// The engine's file write path: write `total` bytes to `/bench.bin`
    /// from offset `from` in `piece`-byte write calls, then sync (the
    /// barrier).
    pub fn engine_write_seq(&mut self, from: f64, total: f64, piece: u32) -> Result<(), JsValue> {
        let ino = self.ino.ok_or_else(|| js_err("mkfs first"))?;
        let data: Vec<u8> = (0..piece as usize).map(|i| (i % 251) as u8).collect();
        let mut fs =
            Ext4Fs::open(dyn_dev(&mut self.dev), OpenOptions::default()).map_err(js_err)?;
        let (from, total) = (from as u64, total as u64);
        let mut done = 0u64;
        while done < total {
            let n = (total - done).min(u64::from(piece)) as usize;
            fs.write(ino, from + done, &data[..n]).map_err(js_err)?;
            done += n as u64;
        }
        fs.sync().map_err(js_err)
    }

    /// [`Self::engine_write_seq`] through a timing wrapper: where the time
    /// goes (engine CPU = total minus the device's write/flush/read time).
    pub fn engine_write_seq_profiled(
        &mut self,
        from: f64,
        total: f64,
        piece: u32,
    ) -> Result<JsValue, JsValue> {
        let ino = self.ino.ok_or_else(|| js_err("mkfs first"))?;
        let data: Vec<u8> = (0..piece as usize).map(|i| (i % 251) as u8).collect();
        let before = opfs_stats(&self.dev);
        let t0 = now_ms();
        let mut timed = Timed {
            dev: &mut self.dev,
            p: Profile::default(),
        };
        {
            // as dyn: the engine copy the image library already uses
            let mut fs = Ext4Fs::open(
                DevRef(&mut timed as &mut dyn BlockDevice),
                OpenOptions::default(),
            )
            .map_err(js_err)?;
            let (from, total) = (from as u64, total as u64);
            let mut done = 0u64;
            while done < total {
                let n = (total - done).min(u64::from(piece)) as usize;
                fs.write(ino, from + done, &data[..n]).map_err(js_err)?;
                done += n as u64;
            }
            fs.sync().map_err(js_err)?;
        }
        let mut p = timed.p;
        p.total_ms = now_ms() - t0;
        p.write_loop_ms = p.total_ms - p.dev_flush_ms - p.dev_read_ms;
        let after = opfs_stats(&self.dev);
        p.handle_writes = after.handle_writes - before.handle_writes;
        p.handle_flushes = after.handle_flushes - before.handle_flushes;
        p.bytes_written = after.bytes_written - before.bytes_written;
        Ok(crate::wasm::to_js(&p))
    }

    /// Truncate `/bench.bin` to 0 and sync (between repeats: the next
    /// sequential write allocates again, mostly the same blocks).
    pub fn engine_truncate(&mut self) -> Result<(), JsValue> {
        let ino = self.ino.ok_or_else(|| js_err("mkfs first"))?;
        let mut fs =
            Ext4Fs::open(dyn_dev(&mut self.dev), OpenOptions::default()).map_err(js_err)?;
        fs.truncate(ino, 0).map_err(js_err)?;
        fs.sync().map_err(js_err)
    }

    /// The engine's file write path, random: `count` 4 KiB overwrites at
    /// random block-aligned offsets below `span` bytes of `/bench.bin`
    /// (seeded), then sync.
    pub fn engine_write_random(&mut self, span: f64, count: u32, seed: u32) -> Result<(), JsValue> {
        let ino = self.ino.ok_or_else(|| js_err("mkfs first"))?;
        let blocks = ((span as u64) / BLOCK as u64).max(1) as u32;
        let mut rng = XorShift32(seed.max(1));
        let mut fs =
            Ext4Fs::open(dyn_dev(&mut self.dev), OpenOptions::default()).map_err(js_err)?;
        for i in 0..count {
            let b = rng.next() % blocks;
            self.buf[0] = i as u8;
            fs.write(ino, u64::from(b) * BLOCK as u64, &self.buf)
                .map_err(js_err)?;
        }
        fs.sync().map_err(js_err)
    }

    /// Await persistence (IndexedDB; a no-op on OPFS). Consumes and returns
    /// the image (an async method cannot borrow it across the await).
    pub async fn persist(mut self) -> Result<BenchImage, JsValue> {
        self.dev.persist().await.map_err(fault)?;
        Ok(self)
    }

    /// Handle writes/flushes so far (OPFS), for the coalescing figure.
    pub fn handle_writes(&self) -> f64 {
        match &self.dev {
            ImageDevice::Opfs(d) => d.stats().handle_writes as f64,
            ImageDevice::Idb(d) => d.persists as f64,
        }
    }

    /// Release the image (flushed).
    pub async fn close(self) -> Result<(), JsValue> {
        self.dev.close().await.map_err(fault)
    }
}

/// The simulator's `MemDevice` alone: what the memory engine figure spends
/// in its device (so engine CPU = memory engine minus this).
#[wasm_bindgen]
pub struct BenchMemDev {
    dev: crate::device::MemDevice,
    buf: Vec<u8>,
}

#[wasm_bindgen]
impl BenchMemDev {
    #[wasm_bindgen(constructor)]
    pub fn new(size: f64) -> BenchMemDev {
        BenchMemDev {
            dev: crate::device::MemDevice::new(size as u64),
            buf: (0..BLOCK).map(|i| (i * 7 + 3) as u8).collect(),
        }
    }

    /// Write `count` 4 KiB blocks from block `start` upwards, then flush.
    pub fn write_seq(&mut self, start: u32, count: u32) -> Result<(), JsValue> {
        for i in 0..count {
            self.buf[0] = i as u8;
            let at = (u64::from(start) + u64::from(i)) * BLOCK as u64;
            self.dev.write_at(at, &self.buf).map_err(js_err)?;
        }
        self.dev.flush().map_err(js_err)
    }
}

/// The engine on a memory device (the simulator's `MemDevice`): the
/// ceiling the storage devices are measured against (engine CPU alone).
#[wasm_bindgen]
pub struct BenchMem {
    fs: Ext4Fs<crate::device::MemDevice>,
    ino: u32,
}

#[wasm_bindgen]
impl BenchMem {
    /// A `size`-byte memory image, formatted (4 KiB blocks), with an empty
    /// `/bench.bin`.
    #[wasm_bindgen(constructor)]
    pub fn new(size: f64) -> Result<BenchMem, JsValue> {
        let opts = crate::engine::MkfsOptions {
            block_size: Some(4096),
            assume_zeroed: true,
            ..Default::default()
        };
        let mut fs = crate::engine::mkfs(crate::device::MemDevice::new(size as u64), &opts)
            .map_err(js_err)?;
        let ino = fs.create("/bench.bin", 0o644).map_err(js_err)?;
        fs.sync().map_err(js_err)?;
        Ok(BenchMem { fs, ino })
    }

    /// As [`BenchImage::engine_write_seq`].
    pub fn engine_write_seq(&mut self, from: f64, total: f64, piece: u32) -> Result<(), JsValue> {
        let data: Vec<u8> = (0..piece as usize).map(|i| (i % 251) as u8).collect();
        let (from, total) = (from as u64, total as u64);
        let mut done = 0u64;
        while done < total {
            let n = (total - done).min(u64::from(piece)) as usize;
            self.fs
                .write(self.ino, from + done, &data[..n])
                .map_err(js_err)?;
            done += n as u64;
        }
        self.fs.sync().map_err(js_err)
    }

    /// As [`BenchImage::engine_truncate`].
    pub fn engine_truncate(&mut self) -> Result<(), JsValue> {
        self.fs.truncate(self.ino, 0).map_err(js_err)?;
        self.fs.sync().map_err(js_err)
    }

    /// As [`BenchImage::engine_write_random`].
    pub fn engine_write_random(&mut self, span: f64, count: u32, seed: u32) -> Result<(), JsValue> {
        let blocks = ((span as u64) / BLOCK as u64).max(1) as u32;
        let mut rng = XorShift32(seed.max(1));
        let buf = vec![5u8; BLOCK];
        for _ in 0..count {
            let b = rng.next() % blocks;
            self.fs
                .write(self.ino, u64::from(b) * BLOCK as u64, &buf)
                .map_err(js_err)?;
        }
        self.fs.sync().map_err(js_err)
    }
}

/// The device as the image library borrows it (`DevRef<dyn BlockDevice>`):
/// the engine is then compiled once for both, not once more for the
/// concrete device type (wasm size).
fn dyn_dev(dev: &mut ImageDevice) -> DevRef<'_, dyn BlockDevice> {
    DevRef(dev as &mut dyn BlockDevice)
}
