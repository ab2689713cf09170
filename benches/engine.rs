//! Engine write throughput: a 256 MiB file written into a 1 GiB image on
//! the memory device, reported against a raw memcpy into the same kind of
//! device and against `debugfs -w -R "write ..."` on an image file.
//!
//! Two passes each: the first allocates (device chunks, and for the engine
//! blocks and extents), the second overwrites in place. Best of 3 runs.
//! `cargo bench --bench engine` (EXT4LAB_BENCH_MB changes the size).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    use ext4lab::device::{BlockDevice, MemDevice};
    use ext4lab::engine::{mkfs, MkfsOptions};
    use std::time::Instant;

    let mb: usize = std::env::var("EXT4LAB_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let image: u64 = 1 << 30;
    let chunk = 1 << 20;
    let data: Vec<u8> = (0..mb * (1 << 20)).map(|i| (i % 251) as u8).collect();
    let best = |v: &mut f64, t: Instant| *v = v.min(t.elapsed().as_secs_f64());

    let (mut raw1, mut raw2) = (f64::MAX, f64::MAX);
    let (mut eng1, mut eng2, mut read_s, mut fsck_s) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..3 {
        let mut raw = MemDevice::new(image);
        for pass in 0..2 {
            let t = Instant::now();
            for (i, c) in data.chunks(chunk).enumerate() {
                raw.write_at((i * chunk) as u64 + (64 << 20), c).unwrap();
            }
            best(if pass == 0 { &mut raw1 } else { &mut raw2 }, t);
        }
        drop(raw);
        let opts = MkfsOptions {
            assume_zeroed: true,
            ..Default::default()
        };
        let mut fs = mkfs(MemDevice::new(image), &opts).unwrap();
        let ino = fs.create("/big", 0o644).unwrap();
        for pass in 0..2 {
            let t = Instant::now();
            for (i, c) in data.chunks(chunk).enumerate() {
                fs.write(ino, (i * chunk) as u64, c).unwrap();
            }
            fs.sync().unwrap();
            best(if pass == 0 { &mut eng1 } else { &mut eng2 }, t);
        }
        let t = Instant::now();
        let back = fs.read_all(ino).unwrap();
        best(&mut read_s, t);
        assert!(back == data, "read back differs");
        let t = Instant::now();
        let report = fs.ext4_fsck().unwrap();
        best(&mut fsck_s, t);
        assert!(report.is_clean(), "{:?}", report.findings);
    }

    // Metadata-heavy: 2000 small files in 20 directories on a 32 MiB image,
    // then the checker the simulator runs after every execution.
    let opts = MkfsOptions {
        assume_zeroed: true,
        block_size: Some(1024),
        ..Default::default()
    };
    let mut small = mkfs(MemDevice::new(32 << 20), &opts).unwrap();
    let t = Instant::now();
    for d in 0..20 {
        small.mkdir(&format!("/d{d}"), 0o755).unwrap();
        for f in 0..100 {
            let ino = small.create(&format!("/d{d}/file-{f}"), 0o644).unwrap();
            small.write(ino, 0, &data[..(f * 37) % 5000]).unwrap();
        }
    }
    small.sync().unwrap();
    let create_s = t.elapsed().as_secs_f64();
    let mut small_fsck = f64::MAX;
    for _ in 0..5 {
        small.ext4_reload().unwrap(); // cold cache, as after a device restore
        let t = Instant::now();
        let r = small.ext4_fsck().unwrap();
        best(&mut small_fsck, t);
        assert!(r.is_clean());
    }

    // debugfs: the same file into a mkfs.ext4 image on disk.
    let dir = std::env::temp_dir().join(format!("ext4lab-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("img");
    let host = dir.join("data");
    std::fs::write(&host, &data).unwrap();
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(image).unwrap();
    drop(f);
    let dbg = std::process::Command::new("/usr/sbin/mkfs.ext4")
        .args(["-q", "-F"])
        .arg(&img)
        .status();
    let debugfs_s = match dbg {
        Ok(s) if s.success() => {
            let t = Instant::now();
            let st = std::process::Command::new("/usr/sbin/debugfs")
                .args(["-w", "-R", &format!("write {} big", host.display())])
                .arg(&img)
                .output();
            st.ok()
                .filter(|o| o.status.success())
                .map(|_| t.elapsed().as_secs_f64())
        }
        _ => None,
    };
    let _ = std::fs::remove_dir_all(&dir);

    let m = mb as f64;
    println!("{mb} MiB file, 1 GiB memory image, 4 KiB blocks, 1 MiB writes (best of 3)");
    println!(
        "  raw memcpy, allocating      {raw1:7.3} s {:7.0} MiB/s",
        m / raw1
    );
    println!(
        "  raw memcpy, overwrite       {raw2:7.3} s {:7.0} MiB/s",
        m / raw2
    );
    println!(
        "  engine write, allocating    {eng1:7.3} s {:7.0} MiB/s  time ratio to raw {:.2}",
        m / eng1,
        eng1 / raw1
    );
    println!(
        "  engine write, overwrite     {eng2:7.3} s {:7.0} MiB/s  time ratio to raw {:.2}",
        m / eng2,
        eng2 / raw2
    );
    println!(
        "  engine read back            {read_s:7.3} s {:7.0} MiB/s",
        m / read_s
    );
    println!("  engine fsck (whole image)   {fsck_s:7.3} s");
    println!(
        "  2000 files + 20 dirs created  {create_s:7.3} s {:7.0} files/s",
        2000.0 / create_s
    );
    println!(
        "  fsck of that 32 MiB image     {:7.2} ms (cold cache)",
        small_fsck * 1000.0
    );
    match debugfs_s {
        Some(d) => println!("  debugfs -w write            {d:7.3} s {:7.0} MiB/s  engine(allocating)/debugfs time {:.2}", m / d, eng1 / d),
        None => println!("  debugfs: not available"),
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
