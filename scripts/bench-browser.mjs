#!/usr/bin/env node
// The browser storage benchmark: serves dist/ (building pkg/ and dist/ first
// when missing, or always with --build), opens bench.html in Chromium with a
// PERSISTENT profile (an incognito context keeps OPFS in memory and is
// 10-100x slower), waits for the run and prints the figures and ratios.
// Results also go to artifacts/bench/browser.json.
//   node scripts/bench-browser.mjs [--build]
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './serve.mjs';

process.chdir(new URL('..', import.meta.url).pathname);
if (process.argv.includes('--build') || !existsSync('dist/bench.html')) {
  execFileSync('scripts/build-wasm.sh', { stdio: 'inherit' });
  execFileSync('npx', ['vite', 'build'], { stdio: 'inherit' });
}

const { loadavg } = await import('node:os');
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');
const { server, url } = await startServer({ root: 'dist', port: 18180 });
const profile = await mkdtemp(join(tmpdir(), 'ext4lab-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => m.type() === 'error' && console.error('console.error:', m.text()));
  const t0 = Date.now();
  await page.goto(new URL('bench.html?auto', url).href);
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 600_000 });
  const result = JSON.parse(await page.getByTestId('bench-json').textContent());
  if (result.error) throw new Error(result.error);
  const chromiumVersion = context.browser()?.version() ?? 'chromium';
  console.log(`ext4lab browser storage benchmark (${chromiumVersion}, persistent profile, ${Math.round((Date.now() - t0) / 1000)} s)`);
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`config: ${JSON.stringify(result.config)}`);
  console.log(`load average (1/5/15 min): at start ${loadAtStart}, at end ${load} (the machine is shared)\n`);
  result.loadAverage = { start: loadAtStart, end: load };
  const w = Math.max(...result.figures.map((f) => f.what.length));
  for (const f of result.figures) {
    console.log(`${f.what.padEnd(w)}  ${f.mbps.toFixed(1).padStart(8)} MB/s  ${f.ms.toFixed(1).padStart(8)} ms`);
    if (f.profile) console.log(`    profile: ${Object.entries(f.profile).map(([k, v]) => `${k}=${Math.round(v * 10) / 10}`).join(' ')}`);
  }
  console.log('');
  const w2 = Math.max(...result.ratios.map((r) => r.what.length));
  for (const r of result.ratios) console.log(`${r.what.padEnd(w2)}  ${r.ratio.toFixed(2).padStart(6)}${r.target ? `  (target ${r.target})` : ''}`);
  await mkdir('artifacts/bench', { recursive: true });
  await writeFile('artifacts/bench/browser.json', JSON.stringify({ chromium: chromiumVersion, ...result }, null, 2));
} finally {
  await context.close();
  await new Promise((r) => server.close(r));
  await rm(profile, { recursive: true, force: true });
}
