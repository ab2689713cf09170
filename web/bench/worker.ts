// The benchmark worker: runs web/bench/measure.ts (OPFS sync access
// handles exist only in dedicated workers) and posts progress and results.
import { DEFAULT_CONFIG, ratios, runAll, type BenchConfig } from './measure';

interface Scope {
  onmessage: ((ev: MessageEvent<Partial<BenchConfig>>) => void) | null;
  postMessage(msg: unknown): void;
}
const scope = self as unknown as Scope;

scope.onmessage = async (ev) => {
  const cfg = { ...DEFAULT_CONFIG, ...ev.data };
  try {
    const figures = await runAll(cfg, (msg) => scope.postMessage({ progress: msg }));
    scope.postMessage({ done: true, config: cfg, figures, ratios: ratios(figures) });
  } catch (e) {
    scope.postMessage({ done: true, error: String(e) });
  }
};
