// The benchmark's measurements, run inside a dedicated worker: raw
// FileSystemSyncAccessHandle I/O (the baseline) and the same patterns
// through ext4lab's block devices and the engine's file write path, all in
// one run so the ratios compare like with like. MB/s = 1e6 bytes/s.
import init, { BenchImage, BenchMem, BenchMemDev } from '../../pkg/ext4lab.js';

export interface Figure {
  id: string;
  what: string;
  bytes: number;
  /** Median over the repeats, milliseconds. */
  ms: number;
  mbps: number;
  note?: string;
  /** Where the time went (a profiled repeat; see BenchImage.engine_write_seq_profiled). */
  profile?: Record<string, number>;
}

export interface BenchConfig {
  /** Bytes written/read by the sequential patterns. */
  seqBytes: number;
  /** 4 KiB operations of the random patterns. */
  randomOps: number;
  /** Device patterns: a barrier every this many blocks. */
  flushEvery: number;
  repeats: number;
  seed: number;
}

export const DEFAULT_CONFIG: BenchConfig = {
  seqBytes: 32 << 20,
  randomOps: 2048,
  flushEvery: 256,
  repeats: 5,
  seed: 12345,
};

const KB4 = 4096;
const MB1 = 1 << 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

async function benchDir(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle('ext4lab-bench', { create: true });
}

interface SyncHandle {
  write(b: BufferSource, o?: { at: number }): number;
  read(b: BufferSource, o?: { at: number }): number;
  flush(): void;
  truncate(n: number): void;
  close(): void;
}

async function rawHandle(name: string, size: number): Promise<SyncHandle> {
  const dir = await benchDir();
  await dir.removeEntry(name).catch(() => undefined);
  const fh = await dir.getFileHandle(name, { create: true });
  const h = (await (fh as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle());
  h.truncate(size);
  return h;
}

async function timed(repeats: number, run: () => Promise<void>, setup?: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    if (setup) await setup();
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function figure(id: string, what: string, bytes: number, ms: number, note?: string): Figure {
  return { id, what, bytes, ms: Math.round(ms * 10) / 10, mbps: Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10, note };
}

export async function runAll(cfg: BenchConfig, progress: (msg: string) => void): Promise<Figure[]> {
  await init();
  const out: Figure[] = [];
  const size = Math.max(2 * cfg.seqBytes, 64 << 20);
  const blocks = size / KB4;
  const seqBlocks = cfg.seqBytes / KB4;
  const randBytes = cfg.randomOps * KB4;

  // ---- raw sync access handle ----
  progress('raw OPFS');
  {
    const h = await rawHandle('raw.bin', size);
    const big = new Uint8Array(MB1).map((_, i) => i % 251);
    const small = new Uint8Array(KB4).map((_, i) => i % 253);
    let ms = await timed(cfg.repeats, async () => {
      for (let at = 0; at < cfg.seqBytes; at += MB1) {
        h.write(big, { at });
        h.flush();
      }
    });
    out.push(figure('raw-seq-1m-flush', 'raw: sequential 1 MiB writes, flush after each', cfg.seqBytes, ms));
    ms = await timed(cfg.repeats, async () => {
      for (let at = 0; at < cfg.seqBytes; at += MB1) h.write(big, { at });
      h.flush();
    });
    out.push(figure('raw-seq-1m', 'raw: sequential 1 MiB writes, one flush', cfg.seqBytes, ms));
    ms = await timed(cfg.repeats, async () => {
      for (let at = 0; at < cfg.seqBytes; at += KB4) h.write(small, { at });
      h.flush();
    });
    out.push(figure('raw-seq-4k', 'raw: sequential 4 KiB writes, one flush', cfg.seqBytes, ms));
    ms = await timed(cfg.repeats, async () => {
      const rnd = xorshift(cfg.seed);
      for (let i = 0; i < cfg.randomOps; i++) h.write(small, { at: (rnd() % blocks) * KB4 });
      h.flush();
    });
    out.push(figure('raw-rand-4k', 'raw: random 4 KiB writes, one flush', randBytes, ms));
    ms = await timed(cfg.repeats, async () => {
      for (let at = 0; at < cfg.seqBytes; at += KB4) h.read(small, { at });
    });
    out.push(figure('raw-seq-read-4k', 'raw: sequential 4 KiB reads', cfg.seqBytes, ms));
    ms = await timed(cfg.repeats, async () => {
      const rnd = xorshift(cfg.seed);
      for (let i = 0; i < cfg.randomOps; i++) h.read(small, { at: (rnd() % blocks) * KB4 });
    });
    out.push(figure('raw-rand-read-4k', 'raw: random 4 KiB reads', randBytes, ms));
    h.close();
  }

  // ---- the engine on memory: its CPU cost alone (the ceiling) ----
  progress('engine on memory');
  {
    let mem: BenchMem | null = null;
    let ms = await timed(
      cfg.repeats,
      async () => void mem!.engine_write_seq(0, cfg.seqBytes, MB1),
      async () => {
        mem ??= new BenchMem(size);
        mem.engine_truncate();
      },
    );
    out.push(figure('mem-engine-seq', 'memory engine: sequential file writes (1 MiB calls), sync', cfg.seqBytes, ms, 'engine CPU only'));
    ms = await timed(cfg.repeats, async () => void mem!.engine_write_random(cfg.seqBytes, cfg.randomOps, cfg.seed));
    out.push(figure('mem-engine-rand-4k', 'memory engine: random 4 KiB overwrites in a file, sync', randBytes, ms, 'engine CPU only'));
    (mem as BenchMem | null)?.free();
    // The memory device alone (4 KiB writes, as the engine issues them):
    // memory engine minus this = the engine's own CPU in wasm.
    const dev = new BenchMemDev(size);
    ms = await timed(cfg.repeats, async () => void dev.write_seq(1024, seqBlocks));
    out.push(figure('mem-dev-seq-4k', 'memory device: sequential 4 KiB writes', cfg.seqBytes, ms, 'MemDevice copies only'));
    dev.free();
  }

  // ---- through the block devices, then the engine ----
  for (const backend of ['opfs', 'idb'] as const) {
    progress(`${backend} device`);
    const label = backend === 'opfs' ? 'OPFS' : 'IndexedDB';
    let img = await BenchImage.create(backend, 'device.img', size);
    let ms = await timed(cfg.repeats, async () => {
      img.write_seq(0, seqBlocks, cfg.flushEvery);
      img = await img.persist();
    });
    out.push(figure(`${backend}-dev-seq-4k`, `${label} device: sequential 4 KiB writes, barrier every ${cfg.flushEvery}`, cfg.seqBytes, ms));
    ms = await timed(cfg.repeats, async () => {
      img.write_random(cfg.randomOps, cfg.seed, cfg.flushEvery);
      img = await img.persist();
    });
    out.push(figure(`${backend}-dev-rand-4k`, `${label} device: random 4 KiB writes, barrier every ${cfg.flushEvery}`, randBytes, ms));
    ms = await timed(cfg.repeats, async () => void img.read_seq(seqBlocks));
    out.push(figure(`${backend}-dev-seq-read-4k`, `${label} device: sequential 4 KiB reads`, cfg.seqBytes, ms));
    ms = await timed(cfg.repeats, async () => void img.read_random(cfg.randomOps, cfg.seed));
    out.push(figure(`${backend}-dev-rand-read-4k`, `${label} device: random 4 KiB reads`, randBytes, ms));

    progress(`${backend} engine`);
    // Sequential file writes into a file truncated to 0 before each repeat
    // (not timed): allocation + extents + data, onto storage the first
    // repeat already grew (as the raw baseline overwrites its file).
    await img.close();
    img = await BenchImage.create(backend, 'engine.img', size);
    img.mkfs();
    img = await img.persist();
    ms = await timed(
      cfg.repeats,
      async () => {
        img.engine_write_seq(0, cfg.seqBytes, MB1);
        img = await img.persist();
      },
      async () => {
        img.engine_truncate();
        img = await img.persist();
      },
    );
    out.push(figure(`${backend}-engine-seq`, `${label} engine: sequential file writes (1 MiB calls), sync`, cfg.seqBytes, ms, 'new blocks: allocation + extents + data'));
    {
      // One more repeat through a timing wrapper on the device: engine CPU
      // vs the device's write_at (dirty pages) vs flush (write-out + the
      // handle's flush). The wrapper's clock calls add a little time.
      img.engine_truncate();
      img = await img.persist();
      const p = img.engine_write_seq_profiled(0, cfg.seqBytes, MB1) as Record<string, number>;
      img = await img.persist();
      const f = figure(`${backend}-engine-seq-profiled`, `${label} engine: sequential file writes, profiled repeat`, cfg.seqBytes, p.totalMs, 'timing wrapper on');
      f.profile = p;
      out.push(f);
    }
    ms = await timed(cfg.repeats, async () => {
      img.engine_write_random(cfg.seqBytes, cfg.randomOps, cfg.seed);
      img = await img.persist();
    });
    out.push(figure(`${backend}-engine-rand-4k`, `${label} engine: random 4 KiB overwrites in a file, sync`, randBytes, ms));
    await img.close();
  }
  return out;
}

/** The ratios the targets are stated in. */
export function ratios(figs: Figure[]): { id: string; what: string; ratio: number; target?: string }[] {
  const by = (id: string) => figs.find((f) => f.id === id)?.mbps ?? NaN;
  const r = (a: string, b: string) => Math.round((by(a) / by(b)) * 100) / 100;
  return [
    { id: 'opfs-engine-seq/raw-seq-1m-flush', what: 'OPFS engine sequential file writes ÷ raw 1 MiB writes with flush', ratio: r('opfs-engine-seq', 'raw-seq-1m-flush'), target: '>= 0.8' },
    { id: 'opfs-engine-seq/raw-seq-1m', what: 'OPFS engine sequential file writes ÷ raw 1 MiB writes, one flush', ratio: r('opfs-engine-seq', 'raw-seq-1m') },
    { id: 'opfs-engine-seq/mem-engine-seq', what: 'OPFS engine sequential file writes ÷ the same on a memory device', ratio: r('opfs-engine-seq', 'mem-engine-seq') },
    { id: 'opfs-engine-seq/opfs-dev-seq-4k', what: 'OPFS engine sequential file writes ÷ OPFS device sequential 4 KiB writes', ratio: r('opfs-engine-seq', 'opfs-dev-seq-4k') },
    { id: 'opfs-engine-rand-4k/raw-rand-4k', what: 'OPFS engine random 4 KiB writes ÷ raw random 4 KiB writes', ratio: r('opfs-engine-rand-4k', 'raw-rand-4k'), target: '> 1' },
    { id: 'opfs-dev-seq-4k/raw-seq-1m-flush', what: 'OPFS device sequential 4 KiB writes ÷ raw 1 MiB writes with flush', ratio: r('opfs-dev-seq-4k', 'raw-seq-1m-flush') },
    { id: 'opfs-dev-seq-4k/raw-seq-4k', what: 'OPFS device sequential 4 KiB writes ÷ raw sequential 4 KiB writes', ratio: r('opfs-dev-seq-4k', 'raw-seq-4k') },
    { id: 'opfs-dev-rand-4k/raw-rand-4k', what: 'OPFS device random 4 KiB writes ÷ raw random 4 KiB writes', ratio: r('opfs-dev-rand-4k', 'raw-rand-4k') },
    { id: 'opfs-dev-seq-read-4k/raw-seq-read-4k', what: 'OPFS device sequential 4 KiB reads ÷ raw', ratio: r('opfs-dev-seq-read-4k', 'raw-seq-read-4k') },
    { id: 'opfs-dev-rand-read-4k/raw-rand-read-4k', what: 'OPFS device random 4 KiB reads ÷ raw', ratio: r('opfs-dev-rand-read-4k', 'raw-rand-read-4k') },
    { id: 'idb-dev-seq-4k/raw-seq-1m-flush', what: 'IndexedDB device sequential 4 KiB writes ÷ raw 1 MiB writes with flush', ratio: r('idb-dev-seq-4k', 'raw-seq-1m-flush') },
    { id: 'idb-dev-rand-4k/raw-rand-4k', what: 'IndexedDB device random 4 KiB writes ÷ raw random 4 KiB writes', ratio: r('idb-dev-rand-4k', 'raw-rand-4k') },
    { id: 'idb-engine-seq/raw-seq-1m-flush', what: 'IndexedDB engine sequential file writes ÷ raw 1 MiB writes with flush', ratio: r('idb-engine-seq', 'raw-seq-1m-flush') },
    { id: 'idb-engine-rand-4k/raw-rand-4k', what: 'IndexedDB engine random 4 KiB writes ÷ raw random 4 KiB writes', ratio: r('idb-engine-rand-4k', 'raw-rand-4k') },
  ];
}
