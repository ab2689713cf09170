// Scenario exploration speed of the built pkg/ in Chromium (one worker's
// work, on the page's thread: no pool): S5's fixed variant explored
// exhaustively (DFS+DPOR, bound 2) and 2000 PCT runs of the before-fix
// variant. Used to weigh wasm size against speed (opt-level s vs z).
//   node scripts/bench-scenario-wasm.mjs
// Needs pkg/ (scripts/build-wasm.sh).
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const { server, url } = await startServer({ root: '.', port: 18210 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${url}README.md`); // any same-origin page without a CSP
  const results = await page.evaluate(async () => {
    const m = await import('/pkg/ext4lab.js');
    const t0 = performance.now();
    await m.default();
    const initMs = performance.now() - t0;
    const text = m.handle_message({ cmd: 'scenario', key: 's5' }).text;
    const run = (variant, strategy, n) => {
      const t = performance.now();
      const r = m.handle_message({
        cmd: 'explore',
        target: { kind: 'scenario', text, variant, options: {} },
        strategy,
        seed: 5,
        maxExecutions: n,
        shard: [0, 1],
        progressId: 0,
        progressEvery: 1000000,
      });
      return { variant, strategy: strategy.kind, ms: Math.round(performance.now() - t), executions: r.stats?.executions, exhausted: r.stats?.exhausted };
    };
    const out = [{ initMs: Math.round(initMs) }];
    run('v5.5', { kind: 'pct', depth: 3 }, 200); // warm-up
    out.push(run('jan-dio-begin-early', { kind: 'dfs', bound: 2 }, 1000000));
    out.push(run('v5.5', { kind: 'pct', depth: 3 }, 2000));
    return out;
  });
  for (const r of results) console.log(JSON.stringify(r));
} finally {
  await browser.close();
  server.close();
}
