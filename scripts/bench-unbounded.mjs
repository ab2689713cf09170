// Every built-in variant explored with no preemption bound (DFS, the
// pruned search of `--bound none`), natively and in Chromium, side by side:
// executions, whether the search finished, seconds, outcome kinds, and the
// browser/native time ratio. Each search stops at --cap executions (then
// "complete" is no and the seconds are the time to that cap).
//   node scripts/bench-unbounded.mjs [--cap 60000] [--only s5] [--native-only|--browser-only]
// Needs pkg/ (scripts/build-wasm.sh) for the browser column and the CLI
// (EXT4LAB=path, default target/release/ext4lab; `cargo build --release
// --bin ext4lab`) for the native one. One search at a time, on one core.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const CAP = Number(opt('--cap', 60000));
const ONLY = opt('--only', null);
const NATIVE = !args.includes('--browser-only');
const BROWSER = !args.includes('--native-only');
const BIN = process.env.EXT4LAB ?? 'target/release/ext4lab';
const NO_BOUND = 4294967295;

function native(id, variant) {
  const out = execFileSync(
    BIN,
    ['explore', id, '--variant', variant, '--strategy', 'dfs', '--bound', 'none', '--budget', String(CAP), '--json'],
    { maxBuffer: 1 << 28 },
  );
  const d = JSON.parse(out.toString());
  return {
    executions: d.executions,
    complete: d.complete,
    seconds: d.seconds,
    outcomes: [...new Set(d.outcomes.map((o) => o.kind))].sort(),
  };
}

// The page's outcome kinds are the simulator's enum names; the CLI prints
// the scenario rows' kinds. The table web/protocol.ts `outcomeKindName`
// maps them with.
const ROW_KIND = JSON.parse(readFileSync(new URL('../web/outcome-kinds.json', import.meta.url), 'utf8'));

let browser = null;
let server = null;
let page = null;
if (BROWSER) {
  let url;
  ({ server, url } = await startServer({ root: '.', port: 18211 }));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
  page = await browser.newPage();
  await page.goto(`${url}README.md`); // any same-origin page without a CSP
  await page.evaluate(async () => {
    const m = await import('/pkg/ext4lab.js');
    await m.default();
    globalThis.m = m;
  });
}

async function inBrowser(text, variant) {
  const r = await page.evaluate(
    ({ text, variant, cap, NO_BOUND }) => {
      const t = performance.now();
      const r = globalThis.m.handle_message({
        cmd: 'explore',
        target: { kind: 'scenario', text, variant, options: {} },
        strategy: { kind: 'dfs', bound: NO_BOUND },
        seed: 1,
        maxExecutions: cap,
        shard: [0, 1],
        progressId: 0,
        progressEvery: 1000000000,
      });
      const seconds = (performance.now() - t) / 1000;
      if (!r.ok) return { error: JSON.stringify(r).slice(0, 300) };
      return {
        executions: r.stats.executions,
        complete: r.stats.exhausted,
        seconds,
        kinds: r.outcomes.map((o) => o.first.kind),
      };
    },
    { text, variant, cap: CAP, NO_BOUND },
  );
  if (r.error) return r;
  const { kinds, ...rest } = r;
  return { ...rest, outcomes: [...new Set(kinds.map((k) => ROW_KIND[k] ?? k))].sort() };
}

// The built-ins and their variants: from the CLI, or from the page when
// only the browser runs.
const list = NATIVE
  ? JSON.parse(execFileSync(BIN, ['scenarios', '--json']).toString()).map((s) => ({ id: s.id, variants: s.variants }))
  : await page.evaluate(() =>
      globalThis.m.handle_message({ cmd: 'scenarios' }).builtins.map((s) => ({
        id: s.id,
        variants: globalThis.m.handle_message({ cmd: 'scenario', key: s.id }).scenario.variants.map((v) => v.name),
      })),
    );
const fmt = (r) =>
  r ? `${r.executions}${r.complete ? '' : '+'} ${r.complete ? 'done' : 'cap'} ${r.seconds.toFixed(1)} s` : '-';
console.log(`cap ${CAP} executions per search; "+" and "cap": not finished`);
console.log('scenario variant | native | browser | browser/native | outcomes');
try {
  for (const s of list) {
    if (ONLY && s.id !== ONLY) continue;
    const text = page && (await page.evaluate((key) => globalThis.m.handle_message({ cmd: 'scenario', key }).text, s.id));
    for (const v of s.variants) {
      const n = NATIVE ? native(s.id, v) : null;
      const b = BROWSER ? await inBrowser(text, v) : null;
      if (b?.error) throw new Error(`${s.id} ${v}: ${b.error}`);
      const ratio = n && b ? (b.seconds / Math.max(n.seconds, 1e-3)).toFixed(2) : '-';
      const outcomes = (n ?? b).outcomes.join(',') || 'none';
      console.log(`${s.id} ${v} | ${fmt(n)} | ${fmt(b)} | ${ratio} | ${outcomes}`);
      if (n && b && (n.executions !== b.executions || n.outcomes.join() !== b.outcomes.join())) {
        console.log(`  NOTE: native and browser differ: ${n.executions} vs ${b.executions} executions, ${n.outcomes} vs ${b.outcomes}`);
      }
    }
  }
} finally {
  if (browser) await browser.close();
  if (server) server.close();
}
