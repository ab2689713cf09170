// The simulator's throughput in wasm in Chromium, against the same model
// natively (run `cargo bench --bench sim` for the native figures; this
// script prints both when --native is given).
//   node scripts/bench-sim-wasm.mjs [--native]
// Needs pkg/ (scripts/build-wasm.sh).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { startServer } from './serve.mjs';

const { server, url } = await startServer({ root: '.', port: 18200 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${url}README.md`); // any same-origin page without a CSP
  const results = await page.evaluate(async () => {
    const m = await import('/pkg/ext4lab.js');
    await m.default();
    const out = [];
    for (const [strategy, n] of [['random', 2000], ['random', 100000], ['pct', 100000], ['dfs', 1000000], ['dfs-naive', 1000000]]) {
      const t0 = performance.now();
      const r = m.bench_sim_reference(strategy, n);
      const s = (performance.now() - t0) / 1000;
      out.push({ strategy, ...r, seconds: s, perSecond: r.executions / s });
    }
    return out.slice(1); // the first run is a warm-up
  });
  console.log('wasm in Chromium, reference model (3 tasks x 10 rounds lock A / add / unlock; T0,T1 also A->B):');
  for (const r of results) {
    console.log(
      `  ${r.strategy.padEnd(10)} ${String(r.executions).padStart(8)} executions ${r.seconds.toFixed(3)} s ` +
        `${Math.round(r.perSecond).toString().padStart(9)} executions/s${r.exhausted ? ' (search exhausted)' : ''}`,
    );
  }
  if (process.argv.includes('--native')) {
    console.log('\nnative (cargo bench --bench sim):');
    console.log(execFileSync('cargo', ['bench', '-q', '--bench', 'sim'], { encoding: 'utf8' }));
  }
} finally {
  await browser.close();
  server.close();
}
