// Explorations split across several engine workers, one per core: worker i
// of N explores the simulator's shard (i, N), a disjoint part of the
// schedules; the page merges the reports. Each worker posts progress while
// it runs; cancel terminates the workers (a running wasm call cannot be
// interrupted otherwise), and the pool starts fresh ones next time.
import { EngineClient } from '../engine';
import type { ErrorBody, ExploreBody, LinkStrategy, OutcomeRecord, Request, Stats, Target } from '../protocol';

export interface Progress {
  executions: number;
  total: number;
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
  ): Promise<PoolResult> {
    const t0 = performance.now();
    const workers = this.ensure();
    const n = workers.length;
    const per: Stats[] = [];
    const report = (): void =>
      onProgress({
        executions: per.reduce((a, s) => a + (s?.executions ?? 0), 0),
        total: strategy.kind === 'dfs' ? 0 : total,
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
          return w.request<ExploreBody>({
            cmd: 'explore',
            target,
            strategy,
            seed,
            maxExecutions: share,
            shard: [i, n],
            progressId: i,
            progressEvery: 100,
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
      return { report: merge(bodies), cancelled: false, workers: n, ms };
    } finally {
      this.running = false;
    }
  }
}

const SUMS: Array<keyof Stats> = [
  'executions',
  'complete',
  'cut_by_step_limit',
  'deadlocks',
  'crashes',
  'pruned_by_dpor',
  'foreign_executions',
  'cut_runs',
  'steps',
];

/** Merges shard reports: sums, union of outcomes by key, the schedule with
 * fewest preemptions (ties: the smaller token, so the result does not
 * depend on which worker answered first). */
export function merge(parts: ExploreBody[]): ExploreBody {
  const stats = { ...parts[0].stats };
  for (const k of SUMS) (stats[k] as number) = parts.reduce((a, p) => a + (p.stats[k] as number), 0);
  stats.exhausted = parts.every((p) => p.stats.exhausted);
  stats.budget_exhausted = parts.some((p) => p.stats.budget_exhausted);
  stats.cancelled = parts.some((p) => p.stats.cancelled);
  const byKey = new Map<string, OutcomeRecord>();
  for (const p of parts) {
    for (const r of p.outcomes) {
      const k = JSON.stringify(r.key);
      const have = byKey.get(k);
      if (!have) {
        byKey.set(k, { ...r });
        continue;
      }
      have.count += r.count;
      if (r.first_execution < have.first_execution) {
        have.first = r.first;
        have.first_execution = r.first_execution;
        have.first_token = r.first_token;
      }
      if (
        r.fewest_preemptions < have.fewest_preemptions ||
        (r.fewest_preemptions === have.fewest_preemptions && r.fewest_token < have.fewest_token)
      ) {
        have.fewest_preemptions = r.fewest_preemptions;
        have.fewest_token = r.fewest_token;
        have.fewest = r.fewest;
      }
    }
  }
  const outcomes = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  stats.distinct_outcomes = outcomes.length;
  const edges = new Set<string>();
  for (const p of parts) for (const e of p.lockGraph) edges.add(JSON.stringify(e));
  const lockGraph = [...edges].sort().map((e) => JSON.parse(e) as [string, string]);
  return { stats, outcomes, lockGraph, tokens: parts.flatMap((p) => p.tokens) };
}
