// Explorations split across several engine workers, one per core: worker i
// of N explores the simulator's shard (i, N), a disjoint part of the
// schedules; the engine merges the reports (crate/sim/merge.rs). Each worker posts progress while
// it runs; cancel terminates the workers (a running wasm call cannot be
// interrupted otherwise), and the pool starts fresh ones next time.
import { EngineClient } from '../engine';
import { NO_BOUND } from '../protocol';
import type { ErrorBody, ExploreBody, LinkStrategy, Request, Stats, Target } from '../protocol';

export interface Progress {
  executions: number;
  total: number;
  /** DFS: the executions all workers together are estimated to count (0:
   * not every worker has an estimate yet). */
  estimated: number;
  distinct: number;
  workers: number;
}

export interface PoolResult {
  report: ExploreBody | null;
  cancelled: boolean;
  error?: string;
  workers: number;
  ms: number;
}

export class ExplorerPool {
  readonly size: number;
  private workers: EngineClient[] = [];
  private running = false;

  constructor(size = navigator.hardwareConcurrency || 2) {
    this.size = Math.max(1, Math.min(size, 8));
  }

  get busy(): boolean {
    return this.running;
  }

  private ensure(): EngineClient[] {
    while (this.workers.length < this.size) this.workers.push(new EngineClient());
    return this.workers;
  }

  /** Send `req` to every worker (started if needed), e.g. a base image's
   * bytes; the first error, or null. */
  async broadcast(req: Request): Promise<ErrorBody | null> {
    const answers = await Promise.all(this.ensure().map((w) => w.request(req)));
    for (const a of answers) if (!a.ok) return a.error;
    return null;
  }

  cancel(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }

  async explore(
    target: Target,
    strategy: LinkStrategy,
    seed: number,
    total: number,
    onProgress: (p: Progress) => void,
    stopWhenFound: string[] = [],
  ): Promise<PoolResult> {
    const t0 = performance.now();
    // DFS with no bound runs unsharded, on one worker: a shard cannot
    // prune with the prefixes other shards entered, and the pruned search
    // (crate/sim/sched/dfs.rs) gets most of its saving there. Measured
    // natively on S8 v5.5 (`ext4lab explore s8 --bound none --shard I/2`):
    // 2,532 executions unsharded, 2,605 and 2,520 in the two shards, so two
    // workers take as long as one.
    const unsharded = strategy.kind === 'dfs' && strategy.bound === NO_BOUND;
    const workers = unsharded ? this.ensure().slice(0, 1) : this.ensure();
    const n = workers.length;
    const per: Stats[] = [];
    const report = (): void =>
      onProgress({
        executions: per.reduce((a, s) => a + (s?.executions ?? 0), 0),
        total: strategy.kind === 'dfs' ? 0 : total,
        estimated:
          strategy.kind === 'dfs' && per.length === n && per.every((s) => (s?.estimated_executions ?? 0) > 0)
            ? per.reduce((a, s) => a + (s.estimated_executions ?? 0), 0)
            : 0,
        distinct: Math.max(0, ...per.map((s) => s?.distinct_outcomes ?? 0)),
        workers: n,
      });
    this.running = true;
    try {
      const answers = await Promise.all(
        workers.map((w, i) => {
          w.onProgress = (_id, stats) => {
            per[i] = stats as Stats;
            report();
          };
          // Random/PCT: shard i runs executions i, i+N, ...: split the budget
          // exactly. DFS: each shard gets the whole budget for its subtree.
          const share = strategy.kind === 'dfs' ? total : Math.floor(total / n) + (i < total % n ? 1 : 0);
          if (share === 0) return Promise.resolve(null);
          return w.request({
            cmd: 'explore',
            target,
            strategy,
            seed,
            maxExecutions: share,
            shard: [i, n],
            progressId: i,
            progressEvery: 100,
            // Each shard stops at its own find (or its end), and the page
            // waits for both: the result does not depend on which worker
            // is faster.
            ...(stopWhenFound.length ? { stopWhenFound } : {}),
          });
        }),
      );
      const ms = performance.now() - t0;
      const bodies: ExploreBody[] = [];
      for (const a of answers) {
        if (a === null) continue;
        if (!a.ok) {
          if (a.error.kind === 'cancelled') return { report: null, cancelled: true, workers: n, ms };
          return { report: null, cancelled: false, error: `${a.error.kind}: ${a.error.message}`, workers: n, ms };
        }
        bodies.push(a);
      }
      if (bodies.length === 1) return { report: bodies[0], cancelled: false, workers: n, ms };
      // The engine merges, by the rules `ext4lab merge` uses (crate/sim/merge.rs).
      const merged = await workers[0].request({ cmd: 'merge', parts: bodies });
      if (!merged.ok) {
        return { report: null, cancelled: false, error: `${merged.error.kind}: ${merged.error.message}`, workers: n, ms };
      }
      return { report: merged, cancelled: false, workers: n, ms: performance.now() - t0 };
    } finally {
      this.running = false;
    }
  }
}
